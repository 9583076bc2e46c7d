/**
 * corosync `udp`: Totem over IP multicast (totem-spec §6.2, `totemudp.c`), also the 1.x
 * form without a nodelist.
 *
 * Ports: `mcastport` (multicast and token receive) and `mcastport − 1` (every send).
 * Three sockets, all with SO_REUSEADDR (two of them share `mcastport`):
 * - **multicast receive**: bound to `<group>:<mcastport>` (the group address, not the
 *   wildcard: a socket bound to the wildcard would also see the traffic of groups other
 *   sockets joined, node-ecosystem §5) and joined to the group on the local interface
 *   (IPv4 `IP_ADD_MEMBERSHIP` with the interface address; IPv6 `IPV6_JOIN_GROUP` with the
 *   interface index, given to node as `::%ifname`).
 * - **send**: bound to `<local address>:<mcastport − 1>`; multicast TTL/hops = `ttl`
 *   (default 1), loopback off, multicast interface = the local address. Multicasts go to
 *   `<group>:<mcastport>`; tokens are unicast from here to `<successor>:<mcastport>`.
 *   Anything arriving on it is delivered too (corosync polls all three sockets).
 * - **token**: bound to `<local address>:<mcastport>`, receives unicast tokens.
 *
 * Local copy: corosync turns multicast loopback off and writes each multicast into an
 * AF_UNIX socketpair as well. Here the copy is delivered in-process on a later turn of the
 * event loop (`setImmediate`, batched), as a fresh copy of the bytes, with source
 * `<local address>:<mcastport − 1>` — what the network would have shown.
 *
 * `broadcast: yes`: the group is 255.255.255.255, SO_BROADCAST on the send socket, no
 * join; the receive socket is bound to 255.255.255.255:<mcastport>. Linux always loops a
 * limited broadcast back to local sockets (there is no loopback switch for broadcasts), so
 * no in-process copy is made: corosync, which writes the socketpair copy as well, gets its
 * own broadcasts twice (harmless to Totem); we deliver one.
 *
 * Token targets: the nodelist address of the node (by nodeid) when there is one; a
 * nodeid not in the nodelist (always, in the 1.x form) uses the address recorded by
 * `learnNodeAddress` (the source of that node's datagrams on this ring).
 * No `block_unlisted_ips` here (corosync has none for udp); the size limit applies.
 */
import type { Socket } from "node:dgram";
import {
  type Log,
  type RingTransport,
  DEFAULT_PORT,
  DEFAULT_RECV_BUFFER_BYTES,
  DEFAULT_SEND_BUFFER_BYTES,
  ErrorLogLimiter,
  RECEIVE_LIMIT_BYTES,
  addressKey,
  admitCounted,
  bindSocket,
  closeSocket,
  errorText,
  formatEndpoint,
  memberAddress,
  newStats,
  rinfoFamily,
  scoped,
  sendCounted,
  tuneBuffers,
} from "./common.js";
import type { SocketTuning } from "./udpu.js";
import { isMulticastAddress } from "../../config/ip.js";
import { addressBytes, familyOf } from "../netif.js";
import type { DatagramSource, RingStatus, TransportHandlers, TransportMember, TransportStats } from "./types.js";

/** The IPv4 limited-broadcast address used by `broadcast: yes`. */
export const BROADCAST_ADDRESS = "255.255.255.255";

export interface UdpOptions extends SocketTuning {
  localNodeId: number;
  /** The local interface address (see netif.ts `findBindAddress`). */
  localAddress: string;
  /** Interface of `localAddress`; needed for IPv6 (group join and multicast interface). */
  ifname?: string;
  /** The multicast group (`mcastaddr`); ignored with `broadcast`. */
  mcastAddr: string;
  /** `mcastport` (default 5405); sends use `mcastport − 1`. */
  port?: number;
  /** Multicast TTL / hop limit (default 1). */
  ttl?: number;
  /** `broadcast: yes` (IPv4 only). */
  broadcast?: boolean;
  /** The nodelist, when there is one (token targets by nodeid). */
  members?: readonly TransportMember[];
  /** Which ring this transport serves (default 0). */
  ring?: number;
}

export class UdpTransport implements RingTransport {
  readonly name = "udp" as const;
  readonly ring: number;
  readonly stats: TransportStats = newStats();
  readonly localAddress: string;
  private readonly port: number;
  private readonly family: "IPv4" | "IPv6";
  private readonly group: string;
  private readonly opts: UdpOptions;
  private configured = new Map<number, string>();
  private learned = new Map<number, string>();
  private recvSocket: Socket | undefined;
  private sendSocket: Socket | undefined;
  private tokenSocket: Socket | undefined;
  private handlers: TransportHandlers | undefined;
  private closed = false;
  private loopQueue: Uint8Array[] = [];
  private loopScheduled: NodeJS.Immediate | undefined;
  private readonly errorLog = new ErrorLogLimiter();

  constructor(opts: UdpOptions) {
    const family = familyOf(opts.localAddress);
    if (family === undefined) throw new Error(`udp: local address ${opts.localAddress} is not an IPv4 or IPv6 address`);
    this.group = opts.broadcast ? BROADCAST_ADDRESS : opts.mcastAddr;
    if (opts.broadcast && family !== "IPv4") throw new Error("udp: broadcast needs an IPv4 local address");
    if (!opts.broadcast && (familyOf(this.group) !== family || !isMulticastAddress(this.group))) {
      throw new Error(`udp: mcastaddr ${opts.mcastAddr} is not an ${family} multicast address (local address ${opts.localAddress})`);
    }
    this.port = opts.port ?? DEFAULT_PORT;
    if (this.port < 2) throw new Error(`udp: mcastport ${this.port} leaves no port below it for sending`);
    this.opts = opts;
    this.family = family;
    this.localAddress = opts.localAddress;
    this.ring = opts.ring ?? 0;
    this.setMembers(opts.members ?? []);
  }

  /** Bind the three sockets and join the group; rejects (releasing what it bound) on failure. */
  async start(handlers: TransportHandlers): Promise<void> {
    if (this.handlers !== undefined || this.closed) throw new Error("udp: start() called twice or after close()");
    this.handlers = handlers;
    for (const [level, text] of this.early.splice(0)) this.log(level, text);
    try {
      await this.openSockets();
    } catch (err) {
      await this.closeSockets();
      throw err;
    }
    const mode = this.opts.broadcast ? "broadcast" : `group ${this.group}`;
    this.log("notice", `udp: ring ${this.ring} ${mode} port ${this.port} (send ${formatEndpoint(this.localAddress, this.port - 1)}), ttl ${this.opts.ttl ?? 1}`);
  }

  sendToNode(nodeId: number, bytes: Uint8Array): void {
    // Our own address is known without a nodelist: a singleton ring's tokens go to ourselves.
    const address = this.configured.get(nodeId) ?? this.learned.get(nodeId) ?? (nodeId === this.opts.localNodeId ? this.localAddress : undefined);
    if (address === undefined || this.sendSocket === undefined || this.closed) {
      this.stats.tx_errors++;
      if (address === undefined && this.errorLog.shouldLog(`unknown ${nodeId}`)) this.log("debug", `udp: no ring ${this.ring} address known for node ${nodeId}; datagram dropped`);
      return;
    }
    sendCounted(this.sendSocket, bytes, this.port, address, this.stats, (err) => this.sendFailed(err, address));
  }

  sendToAll(bytes: Uint8Array): void {
    if (this.sendSocket === undefined || this.closed) {
      this.stats.tx_errors++;
      return;
    }
    sendCounted(this.sendSocket, bytes, this.port, this.sendGroup(), this.stats, (err) => this.sendFailed(err, this.group));
    if (!this.opts.broadcast) this.loopback(bytes);
  }

  /**
   * Record where `nodeId` sends from on this ring (the driver calls this with the nodeid of
   * each decoded header). Only used for nodes the nodelist does not name.
   */
  learnNodeAddress(nodeId: number, from: DatagramSource): void {
    if (from.ring !== this.ring || nodeId === this.opts.localNodeId || this.configured.has(nodeId)) return;
    if (familyOf(from.address) !== this.family) return;
    const address = scoped(from.address, this.opts.ifname);
    if (this.learned.get(nodeId) !== address) {
      if (this.learned.size >= 4096 && !this.learned.has(nodeId)) return;
      this.learned.set(nodeId, address);
      this.log("debug", `udp: node ${nodeId} is at ${address} on ring ${this.ring}`);
    }
  }

  /** Replace the nodelist (token targets); learned addresses of listed nodes are forgotten. */
  setMembers(members: readonly TransportMember[]): void {
    const configured = new Map<number, string>();
    for (const m of members) {
      const addr = memberAddress(m, this.ring);
      if (addr === undefined) continue;
      if (addressKey(addr) === undefined || familyOf(addr) !== this.family) {
        this.log("warning", `udp: ignoring node ${m.nodeId} ring ${this.ring} address ${addr} (not an ${this.family} address)`);
        continue;
      }
      configured.set(m.nodeId, scoped(addr, this.opts.ifname));
      this.learned.delete(m.nodeId);
    }
    this.configured = configured;
  }

  rings(): RingStatus[] {
    return [{ ring: this.ring, address: this.localAddress, faulty: false }];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.loopScheduled !== undefined) clearImmediate(this.loopScheduled);
    this.loopScheduled = undefined;
    this.loopQueue = [];
    await this.closeSockets();
  }

  private async openSockets(): Promise<void> {
    const log = this.log;
    const local = scoped(this.localAddress, this.opts.ifname);
    const retry = { retries: this.opts.bindRetries, retryIntervalMs: this.opts.bindRetryIntervalMs, log, reuseAddr: true } as const;
    const recvBytes = this.opts.recvBufferBytes ?? DEFAULT_RECV_BUFFER_BYTES;
    const sendBytes = this.opts.sendBufferBytes ?? DEFAULT_SEND_BUFFER_BYTES;

    this.sendSocket = await bindSocket({ ...retry, what: `udp ring ${this.ring} send socket`, address: local, port: this.port - 1 });
    this.configureSender(this.sendSocket);
    tuneBuffers(this.sendSocket, "udp send socket", recvBytes, sendBytes, log);

    this.tokenSocket = await bindSocket({ ...retry, what: `udp ring ${this.ring} token socket`, address: local, port: this.port });
    tuneBuffers(this.tokenSocket, "udp token socket", recvBytes, 0, log);

    this.recvSocket = await bindSocket({ ...retry, what: `udp ring ${this.ring} multicast receive socket`, address: this.sendGroup(), port: this.port });
    tuneBuffers(this.recvSocket, "udp multicast receive socket", recvBytes, 0, log);
    if (!this.opts.broadcast) this.join(this.recvSocket);

    for (const s of [this.recvSocket, this.sendSocket, this.tokenSocket]) {
      s.on("message", (msg, rinfo) => this.receive(msg, rinfo.address, rinfo.port, rinfoFamily(rinfo.family)));
      s.on("error", (err) => log("error", `udp ring ${this.ring} socket error: ${errorText(err)}`));
    }
  }

  /** TTL, loopback off, outgoing interface, broadcast: corosync's `mcast_send` options. */
  private configureSender(s: Socket): void {
    const what = `udp ring ${this.ring} send socket (${formatEndpoint(this.localAddress, this.port - 1)})`;
    try {
      if (this.opts.broadcast) {
        s.setBroadcast(true);
        return;
      }
      s.setMulticastTTL(this.opts.ttl ?? 1);
      s.setMulticastLoopback(false);
      s.setMulticastInterface(this.interfaceSpec());
    } catch (err) {
      throw new Error(`${what}: cannot set multicast options: ${errorText(err)}`, { cause: err });
    }
  }

  private join(s: Socket): void {
    try {
      s.addMembership(this.sendGroup(), this.interfaceSpec());
    } catch (err) {
      throw new Error(`udp ring ${this.ring}: cannot join multicast group ${this.group} on ${this.localAddress}${this.opts.ifname ? ` (${this.opts.ifname})` : ""}: ${errorText(err)}`, { cause: err });
    }
  }

  /** The local interface as node wants it: the IPv4 address, or `::%ifname` for IPv6. */
  private interfaceSpec(): string {
    if (this.family === "IPv4") return this.localAddress;
    return this.opts.ifname !== undefined ? `::%${this.opts.ifname}` : this.localAddress;
  }

  /** The group, scoped to the interface when its scope is interface- or link-local. */
  private sendGroup(): string {
    if (this.family === "IPv6" && this.opts.ifname !== undefined && !this.group.includes("%")) {
      const b = addressBytes(this.group);
      if (b !== undefined && (b[1]! & 0x0f) <= 2) return `${this.group}%${this.opts.ifname}`;
    }
    return this.group;
  }

  private receive(msg: Uint8Array, address: string, port: number, family: "IPv4" | "IPv6"): void {
    if (this.closed || this.handlers === undefined) return;
    const verdict = admitCounted(this.stats, msg.length, address, { maxBytes: this.opts.maxDatagramBytes ?? RECEIVE_LIMIT_BYTES });
    if (verdict !== "accept") {
      if (this.errorLog.shouldLog(`big ${address}`)) this.log("debug", `udp: received too big message (${msg.length} bytes) from ${formatEndpoint(address, port)}; dropped`);
      return;
    }
    this.handlers.onDatagram(msg, { address, port, family, ring: this.ring });
  }

  /** Queue the local copy of a multicast (corosync's socketpair), delivered on a later turn. */
  private loopback(bytes: Uint8Array): void {
    this.loopQueue.push(bytes.slice());
    if (this.loopScheduled === undefined) this.loopScheduled = setImmediate(() => this.flushLoopback());
  }

  private flushLoopback(): void {
    this.loopScheduled = undefined;
    const queue = this.loopQueue;
    this.loopQueue = [];
    for (const bytes of queue) {
      if (this.closed) return;
      this.receive(bytes, this.localAddress, this.port - 1, this.family);
    }
  }

  private async closeSockets(): Promise<void> {
    await Promise.all([closeSocket(this.recvSocket), closeSocket(this.sendSocket), closeSocket(this.tokenSocket)]);
    this.recvSocket = this.sendSocket = this.tokenSocket = undefined;
  }

  private sendFailed(err: unknown, to: string): void {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    if (this.errorLog.shouldLog(`${code} ${to}`)) this.log("warning", `udp: send to ${formatEndpoint(to, this.port)} failed: ${errorText(err)}`);
  }

  private readonly early: Array<[Parameters<Log>[0], string]> = [];
  private readonly log: Log = (level, text) => {
    if (this.handlers === undefined) this.early.push([level, text]);
    else this.handlers.onLog?.(level, text);
  };
}
