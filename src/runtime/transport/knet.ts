/**
 * corosync 3's default transport, kronosnet (knet-spec), over `node:dgram`: the sockets,
 * timers and crypto around the pure engine (src/core/knet/engine.ts).
 *
 * - **One UDP socket per link**, bound to `<own ringN address>:<port of link N>` (5405 + N
 *   by default) and used for everything on that link, both directions: peers see every
 *   frame come from our configured address and port, as knet sends them.
 * - **Crypto** (when configured): every frame is encrypted and signed with knet's framing
 *   (src/crypto/knet.ts) before it leaves, once per frame even when it goes to several
 *   hosts; every received datagram is authenticated and decrypted first. A datagram that
 *   fails is "invalid digest": counted (`rx_invalid_digest`) and logged at most once per
 *   10 s per source.
 * - **block_unlisted_ips** (default on): datagrams from addresses that are no peer's link
 *   address are dropped before any crypto work (`rx_blocked_unlisted`).
 * - **Heartbeat** every `heartbeatMs` (200 ms, libknet's resolution): pings, link timeouts.
 * - **Loopback**: our own broadcasts (and unicasts to ourselves) are delivered back to us
 *   from a later turn of the event loop, never from inside the send call.
 * - **Data MTU** fixed: Node cannot set the don't-fragment bit, so we do not run PMTUd; the
 *   MTU comes from `knet_mtu`, else the interfaces' MTU (knet-spec §8.1). We do answer the
 *   peers' PMTUd probes.
 */
import type { Socket } from "node:dgram";
import { performance } from "node:perf_hooks";
import { type KnetDestination, KnetEngine, type KnetEvent, type KnetHostView, type LinkMode } from "../../core/knet/engine.js";
import type { LinkTimers } from "../../core/knet/link.js";
import { type CryptoOverhead, DEFAULT_ONWIRE_MTU, NO_CRYPTO, dataMtuFor } from "../../core/knet/mtu.js";
import { KnetCrypto, type KnetCryptoConfig } from "../../crypto/knet.js";
import { InvalidDigestReporter } from "../../crypto/report.js";
import { familyOf } from "../netif.js";
import {
  type Log,
  DEFAULT_RECV_BUFFER_BYTES,
  DEFAULT_SEND_BUFFER_BYTES,
  ErrorLogLimiter,
  addressKey,
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
import type { DatagramSource, NodeStatus, RingStatus, Transport, TransportHandlers, TransportMember, TransportStats } from "./types.js";

/** libknet's heartbeat thread period (`KNET_THREADS_TIMERES`). */
export const KNET_HEARTBEAT_MS = 200;
/** The largest datagram we read; bigger ones cannot be knet frames (UDP's own limit). */
export const KNET_RECEIVE_LIMIT = 65_535;

/** One of our links: its id, where it binds, its timers and priority. */
export interface KnetLocalLink extends LinkTimers {
  link: number;
  localAddress: string;
  /** Interface of `localAddress` (scopes IPv6 link-local addresses). */
  ifname?: string;
  /** UDP port of this link, on every node (`mcastport`, default 5405 + link). */
  port: number;
  /** `knet_link_priority` (passive mode picks the highest). */
  priority: number;
}

export interface KnetTransportOptions extends SocketTuning {
  localNodeId: number;
  links: readonly KnetLocalLink[];
  /** The nodelist (our own entry included): addresses by link id. */
  members: readonly TransportMember[];
  linkMode?: LinkMode;
  /** On-wire (IP-level) MTU the data MTU derives from: `knet_mtu`, or the interfaces' (default 1500). */
  onwireMtu?: number;
  /** knet crypto; none when undefined. */
  crypto?: KnetCryptoConfig;
  /** Drop datagrams from addresses that are no peer's (default true). */
  blockUnlistedIps?: boolean;
  /** Heartbeat period (default 200 ms). */
  heartbeatMs?: number;
  /** Monotonic milliseconds (default `performance.now`). */
  now?: () => number;
}

/** The transport's counters: the common ones plus knet's. */
export interface KnetStats extends TransportStats {
  /** Datagrams that failed authentication/decryption in every key slot. */
  rx_invalid_digest: number;
  /** Totem packets delivered (after reassembly) and put on the wire (before fragmentation; loopback-only ones not counted). */
  rx_packets: number;
  tx_packets: number;
  /** DATA frames built (fragments included; each goes to every destination) and received. */
  tx_data_frames: number;
  rx_data_frames: number;
  /** Packets not sent because no destination was reachable. */
  tx_unreachable: number;
  /** Own broadcasts looped back. */
  loopback: number;
}

interface LinkSocket {
  link: KnetLocalLink;
  socket?: Socket;
  bindAddress: string;
}

export class KnetTransport implements Transport {
  readonly name = "knet" as const;
  readonly stats: KnetStats = { ...newStats(), rx_invalid_digest: 0, rx_packets: 0, tx_packets: 0, tx_data_frames: 0, rx_data_frames: 0, tx_unreachable: 0, loopback: 0 };
  readonly localAddress: string;
  private readonly opts: KnetTransportOptions;
  private readonly engine: KnetEngine;
  private readonly crypto: KnetCrypto | undefined;
  private readonly sockets = new Map<number, LinkSocket>();
  /** Peer address (scoped, for sending) by node id and link. */
  private readonly peerAddr = new Map<number, Array<string | undefined>>();
  /** Keys of every peer link address (block_unlisted_ips). */
  private readonly listed = new Set<string>();
  private readonly keyCache = new Map<string, string>();
  private readonly sources = new Map<number, DatagramSource>();
  private readonly now: () => number;
  private handlers: TransportHandlers | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private loopQueue: Uint8Array[] = [];
  private loopScheduled = false;
  private closed = false;
  private readonly errorLog = new ErrorLogLimiter();
  private digestReporter: InvalidDigestReporter | undefined;

  constructor(opts: KnetTransportOptions) {
    if (opts.links.length === 0) throw new Error("knet: no links configured");
    this.opts = opts;
    this.now = opts.now ?? (() => performance.now());
    this.localAddress = opts.links[0]!.localAddress;
    this.crypto = opts.crypto === undefined ? undefined : new KnetCrypto(opts.crypto);
    const family = familyOf(this.localAddress) ?? "IPv4";
    const overhead: CryptoOverhead = this.crypto?.current.overhead ?? NO_CRYPTO;
    const dataMtu = dataMtuFor(Math.min(65_535, opts.onwireMtu ?? DEFAULT_ONWIRE_MTU), family, overhead);
    const hosts = this.indexMembers(opts);
    this.engine = new KnetEngine(
      {
        localNodeId: opts.localNodeId,
        hosts,
        links: opts.links.map((l) => ({ ...l })),
        linkMode: opts.linkMode ?? "passive",
        dataMtu,
        blockUnlistedIps: opts.blockUnlistedIps ?? true,
      },
      {
        send: (frame, dests) => this.sendFrame(frame, dests),
        deliver: (packet, nodeId, link) => this.deliver(packet, nodeId, link),
        loopback: (packet) => this.queueLoopback(packet),
        event: (e) => this.onEvent(e),
      },
    );
    for (const l of opts.links) this.sockets.set(l.link, { link: l, bindAddress: scoped(l.localAddress, l.ifname) });
  }

  /** Bind every link's socket and start the heartbeat; rejects (releasing what it bound) on failure. */
  async start(handlers: TransportHandlers): Promise<void> {
    if (this.handlers !== undefined || this.closed) throw new Error("knet: start() called twice or after close()");
    this.handlers = handlers;
    this.digestReporter = new InvalidDigestReporter({ now: () => this.now(), log: (line) => this.log("error", line) });
    try {
      for (const s of this.sockets.values()) await this.bindLink(s);
    } catch (err) {
      await this.closeSockets();
      throw err;
    }
    const mtu = this.engine.dataMtu;
    const crypto = this.crypto === undefined ? "no crypto" : `crypto ${this.crypto.current.cipher}/${this.crypto.current.hash}`;
    this.log("notice", `knet: ${this.sockets.size} link(s), ${this.engine.view().length} peer(s), link_mode ${this.engine.linkMode}, data MTU ${mtu}, ${crypto}`);
    this.engine.tick(this.now());
    this.heartbeat = setInterval(() => {
      if (!this.closed) this.engine.tick(this.now());
    }, this.opts.heartbeatMs ?? KNET_HEARTBEAT_MS);
  }

  private async bindLink(s: LinkSocket): Promise<void> {
    const l = s.link;
    const socket = await bindSocket({
      what: `knet link ${l.link} socket`,
      address: s.bindAddress,
      port: l.port,
      reuseAddr: false,
      retries: this.opts.bindRetries,
      retryIntervalMs: this.opts.bindRetryIntervalMs,
      log: this.log,
    });
    s.socket = socket;
    tuneBuffers(socket, `knet link ${l.link} socket`, this.opts.recvBufferBytes ?? DEFAULT_RECV_BUFFER_BYTES, this.opts.sendBufferBytes ?? DEFAULT_SEND_BUFFER_BYTES, this.log);
    socket.on("message", (msg, rinfo) => this.receive(msg, rinfo.address, rinfo.port));
    socket.on("error", (err) => this.log("error", `knet link ${l.link} socket error: ${errorText(err)}`));
    this.log("notice", `knet: link ${l.link} bound to ${formatEndpoint(l.localAddress, l.port)}`);
  }

  sendToNode(nodeId: number, bytes: Uint8Array): void {
    this.send(nodeId, bytes);
  }

  sendToAll(bytes: Uint8Array): void {
    this.send(0, bytes);
  }

  private send(target: number, bytes: Uint8Array): void {
    if (this.closed || this.handlers === undefined) {
      this.stats.tx_errors++;
      return;
    }
    this.engine.send(this.now(), target, bytes);
    this.stats.tx_packets = this.engine.counters.txPackets;
    this.stats.tx_unreachable = this.engine.counters.txUnreachable;
    this.stats.tx_data_frames = this.engine.counters.txFrames;
  }

  rings(): RingStatus[] {
    const view = this.engine.view();
    return this.opts.links.map((l) => {
      const peers = view.flatMap((h) => h.links.filter((x) => x.link === l.link));
      const faulty = peers.length > 0 && !peers.some((p) => p.connected);
      const status: RingStatus = { ring: l.link, address: l.localAddress, faulty };
      if (faulty) status.reason = `no peer is connected on link ${l.link}`;
      return status;
    });
  }

  links(): NodeStatus[] {
    const mtu = this.engine.dataMtu;
    const local: NodeStatus = {
      nodeId: this.opts.localNodeId,
      local: true,
      reachable: true,
      links: this.opts.links.map((l) => ({ link: l.link, transport: "udp", localAddress: l.localAddress, remoteAddress: l.localAddress, enabled: true, connected: true, mtu })),
    };
    return [local, ...this.engine.view().map((h) => this.nodeStatus(h, mtu))];
  }

  private nodeStatus(h: KnetHostView, mtu: number): NodeStatus {
    return {
      nodeId: h.nodeId,
      local: false,
      reachable: h.reachable,
      links: h.links.map((l) => {
        const local = this.sockets.get(l.link)!.link;
        const c = l.counters;
        const stats = {
          tx_data_packets: c.txData,
          rx_data_packets: c.rxData,
          tx_ping_packets: c.txPings,
          rx_ping_packets: c.rxPings,
          tx_pong_packets: c.txPongs,
          rx_pong_packets: c.rxPongs,
          tx_pmtu_packets: c.txPmtud,
          rx_pmtu_packets: c.rxPmtud,
          latency_ave: Math.round(l.latencyMs * 1000),
          up_count: c.upCount,
          down_count: c.downCount,
        };
        const s = { link: l.link, transport: "udp", localAddress: local.localAddress, remoteAddress: this.peerAddr.get(h.nodeId)?.[l.link] ?? l.address, enabled: true, connected: l.connected, mtu, stats };
        return c.rxPongs > 0 ? { ...s, latencyUs: stats.latency_ave } : s;
      }),
    };
  }

  /** Our links as configured (ids, addresses, ports, timers, priorities). */
  get localLinks(): readonly KnetLocalLink[] {
    return this.opts.links;
  }

  /** User bytes per DATA frame. */
  get dataMtu(): number {
    return this.engine.dataMtu;
  }

  /** The link mode in force. */
  get linkMode(): LinkMode {
    return this.engine.linkMode;
  }

  /** Drops by reason (the engine's). */
  get dropped(): Readonly<Record<string, number>> {
    return this.engine.dropped;
  }

  /** The engine's per-peer view (tests, diagnostics). */
  view(): KnetHostView[] {
    return this.engine.view();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.loopQueue = [];
    await this.closeSockets();
  }

  private async closeSockets(): Promise<void> {
    await Promise.all([...this.sockets.values()].map((s) => closeSocket(s.socket)));
    for (const s of this.sockets.values()) delete s.socket;
  }

  // ------------------------------------------------------------------ engine sink

  /** Encrypt once, send the same bytes to every destination (on the destination's link socket). */
  private sendFrame(frame: Uint8Array, dests: readonly KnetDestination[]): void {
    if (this.closed) return;
    const bytes = this.crypto === undefined ? Buffer.from(frame) : this.crypto.encrypt(frame);
    for (const d of dests) {
      const s = this.sockets.get(d.link);
      const address = this.peerAddr.get(d.nodeId)?.[d.link];
      if (s?.socket === undefined || address === undefined) {
        this.stats.tx_errors++;
        continue;
      }
      sendCounted(s.socket, bytes, s.link.port, address, this.stats, (err) => this.sendFailed(err, address, s.link.port));
    }
  }

  private deliver(packet: Uint8Array, nodeId: number, link: number): void {
    this.stats.rx_packets++;
    this.handlers?.onDatagram(packet, this.sourceOf(nodeId, link));
  }

  /** The (cached, never modified) source of what node `nodeId` sends on `link`. */
  private sourceOf(nodeId: number, link: number): DatagramSource {
    const key = nodeId * 8 + link;
    let from = this.sources.get(key);
    if (from === undefined) {
      const address = this.peerAddr.get(nodeId)?.[link] ?? "";
      from = Object.freeze({ address, port: this.sockets.get(link)!.link.port, family: rinfoFamily(familyOf(address) ?? "IPv4"), ring: link });
      this.sources.set(key, from);
    }
    return from;
  }

  private queueLoopback(packet: Uint8Array): void {
    this.stats.loopback++;
    this.loopQueue.push(packet);
    if (this.loopScheduled) return;
    this.loopScheduled = true;
    setImmediate(() => this.flushLoopback());
  }

  private flushLoopback(): void {
    this.loopScheduled = false;
    const queue = this.loopQueue;
    this.loopQueue = [];
    const first = this.opts.links[0]!;
    const from: DatagramSource = { address: first.localAddress, port: first.port, family: rinfoFamily(familyOf(first.localAddress) ?? "IPv4"), ring: first.link };
    for (const p of queue) {
      if (this.closed || this.handlers === undefined) return;
      this.handlers.onDatagram(p, from);
    }
  }

  private onEvent(e: KnetEvent): void {
    if (e.kind === "link") {
      this.log(e.up ? "info" : "warning", e.up ? `rx: host: ${e.nodeId} link: ${e.link} is up` : `host: ${e.nodeId} link: ${e.link} is down`, "KNET");
      const ring = this.rings().find((r) => r.ring === e.link);
      if (ring !== undefined) this.handlers?.onRingStatus?.(ring);
      return;
    }
    if (!e.reachable) this.log("warning", `host: ${e.nodeId} has no active links`, "KNET");
    else if (this.engine.linkMode === "passive") this.log("info", `host: ${e.nodeId} (passive) best link: ${e.activeLinks[0]} (pri: ${this.priorityOf(e.activeLinks[0]!)})`, "KNET");
    else this.log("info", `host: ${e.nodeId} has ${e.activeLinks.length} active links`, "KNET");
  }

  private priorityOf(link: number): number {
    return this.sockets.get(link)?.link.priority ?? 1;
  }

  // ------------------------------------------------------------------ receiving

  private receive(msg: Buffer, address: string, port: number): void {
    if (this.closed) return;
    if (msg.length > KNET_RECEIVE_LIMIT) {
      this.stats.rx_too_big++;
      return;
    }
    const key = this.sourceKey(address);
    if ((this.opts.blockUnlistedIps ?? true) && (key === undefined || !this.listed.has(key))) {
      this.stats.rx_blocked_unlisted++;
      if (this.errorLog.shouldLog(`unlisted ${address}`)) this.log("debug", `knet: dropped a datagram from unlisted address ${formatEndpoint(address, port)} (block_unlisted_ips)`);
      return;
    }
    this.stats.rx_datagrams++;
    this.stats.rx_bytes += msg.length;
    let frame: Uint8Array = msg;
    if (this.crypto !== undefined) {
      const plain = this.crypto.decrypt(msg);
      if (plain === undefined) {
        this.stats.rx_invalid_digest++;
        this.digestReporter?.report(formatEndpoint(address, port), "invalid_digest", "the sender's authkey or crypto_cipher/crypto_hash differ from this node's");
        return;
      }
      frame = plain;
    }
    this.engine.receive(this.now(), key ?? address, frame);
    this.stats.rx_data_frames = this.engine.counters.rxFrames;
  }

  /** The canonical key of a source address, cached (rinfo gives the same strings again and again). */
  private sourceKey(address: string): string | undefined {
    let key = this.keyCache.get(address);
    if (key === undefined) {
      key = addressKey(address);
      if (key === undefined) return undefined;
      if (this.keyCache.size >= 1024) this.keyCache.clear();
      this.keyCache.set(address, key);
    }
    return key;
  }

  /** Peer addresses per link (scoped for sending) and the engine's host list (address keys). */
  private indexMembers(opts: KnetTransportOptions): Array<{ nodeId: number; addrs: Array<string | undefined> }> {
    const hosts: Array<{ nodeId: number; addrs: Array<string | undefined> }> = [];
    for (const m of opts.members) {
      if (m.nodeId === opts.localNodeId) continue;
      const send: Array<string | undefined> = [];
      const keys: Array<string | undefined> = [];
      for (const l of opts.links) {
        const addr = memberAddress(m, l.link);
        const key = addr === undefined ? undefined : addressKey(addr);
        if (addr === undefined || key === undefined || familyOf(addr) !== familyOf(l.localAddress)) continue;
        send[l.link] = scoped(addr, l.ifname);
        keys[l.link] = key;
        this.listed.add(key);
      }
      this.peerAddr.set(m.nodeId, send);
      hosts.push({ nodeId: m.nodeId, addrs: keys });
    }
    return hosts;
  }

  private sendFailed(err: unknown, address: string, port: number): void {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    const endpoint = formatEndpoint(address, port);
    if (this.errorLog.shouldLog(`${code} ${endpoint}`)) this.log("warning", `knet: send to ${endpoint} failed: ${errorText(err)}`);
  }

  private readonly log: Log = (level, text, subsys) => {
    this.handlers?.onLog?.(level, text, subsys);
  };
}
