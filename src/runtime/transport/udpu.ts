/**
 * corosync 3.x `udpu`: Totem over UDP unicast (totem-spec §6.1, `totemudpu.c`).
 *
 * - **Receive ("token") socket** bound to `<local ring address>:<mcastport>` (default 5405),
 *   without SO_REUSEADDR, so a second daemon on the same address fails to bind. Everything
 *   is received here. SO_RCVBUF raised (8 MiB asked; the kernel caps at `rmem_max`).
 * - **Tokens** (`sendToNode`) go from that same socket (source port = mcastport) to
 *   `<member address>:<mcastport>`.
 * - **"Multicast"** (`sendToAll`) is one unicast copy to every configured member, the local
 *   node included (self-delivery goes through the kernel, as in corosync), sent from a
 *   second socket bound to `<local address>:0` (ephemeral port).
 *   Deviation: corosync opens one such socket per member; one socket for all copies gives
 *   the same datagrams on the wire (only the ephemeral source port differs, and nobody
 *   checks it) with fewer descriptors. Its SO_SNDBUF is 16 · 136 192 as corosync's.
 *   `sendToOthers` leaves the local copy out (the driver uses it for Totem MCASTs, which
 *   the sender already holds).
 * - **`block_unlisted_ips`** (default on): a datagram whose source IP is not a member
 *   address of this ring is dropped and counted (`rx_blocked_unlisted`); the source port is
 *   ignored. Datagrams above `maxDatagramBytes` (136 192) are dropped (`rx_too_big`).
 * - **Bind** retried 10 times, the k-th retry after k · 100 ms, then a clear error naming
 *   the address and port.
 * - **Members** can be replaced at runtime (`setMembers`, for `corosync-cfgtool -R`).
 * - IPv4 or IPv6, from the local address; members of the other family are ignored (logged).
 *   IPv6 link-local addresses are scoped to `ifname`.
 */
import type { Socket } from "node:dgram";
import {
  type AdmissionPolicy,
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
import { familyOf } from "../netif.js";
import type { DatagramSource, RingStatus, TransportHandlers, TransportMember, TransportStats } from "./types.js";

/** Socket settings shared by udp and udpu (all optional; corosync's values by default). */
export interface SocketTuning {
  /** Bind retries after the first failure (default 10). */
  bindRetries?: number;
  /** The k-th bind retry waits k · this many ms (default 100). */
  bindRetryIntervalMs?: number;
  /** SO_RCVBUF to ask for (default 8 MiB; 0 = leave the system default). */
  recvBufferBytes?: number;
  /** SO_SNDBUF to ask for (default 16 · 136 192; 0 = leave the system default). */
  sendBufferBytes?: number;
  /** Receive limit (default 136 192); larger datagrams are dropped and counted. */
  maxDatagramBytes?: number;
}

export interface UdpuOptions extends SocketTuning {
  localNodeId: number;
  /** The local address to bind (an interface address, see netif.ts `findBindAddress`). */
  localAddress: string;
  /** Interface of `localAddress`: scopes IPv6 link-local addresses. */
  ifname?: string;
  /** `mcastport` (default 5405). */
  port?: number;
  /** Configured members, the local node included. */
  members: readonly TransportMember[];
  /** Which ring (index into `TransportMember.addrs`) this transport serves (default 0). */
  ring?: number;
  /** Drop datagrams from addresses that are not members (default true). */
  blockUnlistedIps?: boolean;
}

interface Target {
  address: string;
  endpoint: string;
}

export class UdpuTransport implements RingTransport {
  readonly name = "udpu" as const;
  readonly ring: number;
  readonly stats: TransportStats = newStats();
  readonly localAddress: string;
  private readonly port: number;
  private readonly family: "IPv4" | "IPv6";
  private readonly opts: UdpuOptions;
  private targets = new Map<number, Target>();
  private policy: AdmissionPolicy = { maxBytes: RECEIVE_LIMIT_BYTES };
  private recvSocket: Socket | undefined;
  private sendSocket: Socket | undefined;
  private handlers: TransportHandlers | undefined;
  private closed = false;
  private readonly errorLog = new ErrorLogLimiter();

  constructor(opts: UdpuOptions) {
    const family = familyOf(opts.localAddress);
    if (family === undefined) throw new Error(`udpu: local address ${opts.localAddress} is not an IPv4 or IPv6 address`);
    this.opts = opts;
    this.family = family;
    this.localAddress = opts.localAddress;
    this.port = opts.port ?? DEFAULT_PORT;
    this.ring = opts.ring ?? 0;
    this.setMembers(opts.members);
  }

  /** Bind both sockets; rejects (and releases what it bound) when either cannot be bound. */
  async start(handlers: TransportHandlers): Promise<void> {
    if (this.handlers !== undefined || this.closed) throw new Error("udpu: start() called twice or after close()");
    this.handlers = handlers;
    const log = this.log;
    for (const [level, text] of this.early.splice(0)) log(level, text);
    const bindAddress = scoped(this.localAddress, this.opts.ifname);
    const common = { address: bindAddress, reuseAddr: false, retries: this.opts.bindRetries, retryIntervalMs: this.opts.bindRetryIntervalMs, log } as const;
    this.recvSocket = await bindSocket({ ...common, what: `udpu ring ${this.ring} receive socket`, port: this.port });
    try {
      this.sendSocket = await bindSocket({ ...common, what: `udpu ring ${this.ring} send socket`, port: 0 });
    } catch (err) {
      await closeSocket(this.recvSocket);
      this.recvSocket = undefined;
      throw err;
    }
    tuneBuffers(this.recvSocket, "udpu receive socket", this.opts.recvBufferBytes ?? DEFAULT_RECV_BUFFER_BYTES, 0, log);
    tuneBuffers(this.sendSocket, "udpu send socket", 0, this.opts.sendBufferBytes ?? DEFAULT_SEND_BUFFER_BYTES, log);
    this.recvSocket.on("message", (msg, rinfo) => this.receive(msg, rinfo.address, rinfo.port, rinfo.family));
    // The send socket only sends; anything arriving on its ephemeral port is read and dropped.
    this.sendSocket.on("message", () => {});
    for (const s of [this.recvSocket, this.sendSocket]) s.on("error", (err) => log("error", `udpu ring ${this.ring} socket error: ${errorText(err)}`));
    log("notice", `udpu: ring ${this.ring} bound to ${formatEndpoint(this.localAddress, this.port)}, ${this.targets.size} member(s)`);
  }

  sendToNode(nodeId: number, bytes: Uint8Array): void {
    const target = this.targets.get(nodeId);
    if (target === undefined || this.recvSocket === undefined || this.closed) {
      this.stats.tx_errors++;
      if (target === undefined && this.errorLog.shouldLog(`unknown ${nodeId}`)) this.log("debug", `udpu: no ring ${this.ring} address for node ${nodeId}; datagram dropped`);
      return;
    }
    sendCounted(this.recvSocket, bytes, this.port, target.address, this.stats, (err) => this.sendFailed(err, target));
  }

  sendToAll(bytes: Uint8Array): void {
    const socket = this.sendSocket;
    if (socket === undefined || this.closed) {
      this.stats.tx_errors += this.targets.size;
      return;
    }
    for (const target of this.targets.values()) {
      sendCounted(socket, bytes, this.port, target.address, this.stats, (err) => this.sendFailed(err, target));
    }
  }

  /** `sendToAll` but for the local node (its own MCASTs: see Transport.sendToOthers). */
  sendToOthers(bytes: Uint8Array): void {
    const socket = this.sendSocket;
    if (socket === undefined || this.closed) {
      this.stats.tx_errors += this.targets.size;
      return;
    }
    const self = this.opts.localNodeId;
    for (const [nodeId, target] of this.targets) {
      if (nodeId === self) continue;
      sendCounted(socket, bytes, this.port, target.address, this.stats, (err) => this.sendFailed(err, target));
    }
  }

  /**
   * Replace the member list. Members without an address on this ring, or with an address
   * of the other family, are left out (the latter logged). Sources are re-checked against
   * the new list from the next datagram on.
   */
  setMembers(members: readonly TransportMember[]): void {
    const targets = new Map<number, Target>();
    const listed = new Set<string>();
    for (const m of members) {
      const addr = memberAddress(m, this.ring);
      if (addr === undefined) continue;
      const key = addressKey(addr);
      if (key === undefined || familyOf(addr) !== this.family) {
        this.log("warning", `udpu: ignoring node ${m.nodeId} ring ${this.ring} address ${addr} (not an ${this.family} address)`);
        continue;
      }
      const address = scoped(addr, this.opts.ifname);
      targets.set(m.nodeId, { address, endpoint: formatEndpoint(address, this.port) });
      listed.add(key);
    }
    if (!targets.has(this.opts.localNodeId)) {
      this.log("warning", `udpu: the local node ${this.opts.localNodeId} is not among the ring ${this.ring} members; it will not receive its own multicasts`);
    }
    this.targets = targets;
    this.policy = { maxBytes: this.opts.maxDatagramBytes ?? RECEIVE_LIMIT_BYTES };
    if (this.opts.blockUnlistedIps !== false) this.policy.listed = listed;
  }

  rings(): RingStatus[] {
    return [{ ring: this.ring, address: this.localAddress, faulty: false }];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([closeSocket(this.recvSocket), closeSocket(this.sendSocket)]);
    this.recvSocket = undefined;
    this.sendSocket = undefined;
  }

  private receive(msg: Uint8Array, address: string, port: number, family: string): void {
    if (this.closed || this.handlers === undefined) return;
    const verdict = admitCounted(this.stats, msg.length, address, this.policy);
    if (verdict !== "accept") {
      if (this.errorLog.shouldLog(`${verdict} ${address}`)) {
        this.log("debug", verdict === "too_big"
          ? `udpu: received too big message (${msg.length} bytes) from ${formatEndpoint(address, port)}; dropped`
          : `udpu: dropped a datagram from unlisted address ${formatEndpoint(address, port)} (block_unlisted_ips)`);
      }
      return;
    }
    const from: DatagramSource = { address, port, family: rinfoFamily(family), ring: this.ring };
    this.handlers.onDatagram(msg, from);
  }

  private sendFailed(err: unknown, target: Target): void {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    if (this.errorLog.shouldLog(`${code} ${target.endpoint}`)) this.log("warning", `udpu: send to ${target.endpoint} failed: ${errorText(err)}`);
  }

  /** Messages from before start() (constructor checks) wait for the handlers. */
  private readonly early: Array<[Parameters<Log>[0], string]> = [];
  private readonly log: Log = (level, text) => {
    if (this.handlers === undefined) this.early.push([level, text]);
    else this.handlers.onLog?.(level, text);
  };
}
