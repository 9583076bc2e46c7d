/**
 * Redundant rings (corosync 1.x/2.x RRP, `rrp_mode: active | passive`) as a transport
 * wrapping one base transport (udp or udpu) per ring.
 *
 * - **active**: every datagram (token or multicast) is sent on every non-faulty ring.
 * - **passive**: each send goes on the next non-faulty ring in turn (tokens and multicasts
 *   keep separate turns, as corosync).
 * - **receive**: datagrams from any ring are delivered. Duplicates are harmless to Totem:
 *   tokens are filtered by token_seq, multicasts by the sort queue.
 * - **fault detection** lives in the pure `RrpFaultDetector` (rrp-detector.ts, where the
 *   rules are written down); this class feeds it arrivals (peer = the node whose ring
 *   address is the datagram's source address), runs its single timer, and carries out its
 *   effects: logs in corosync's words ("Marking ringid 0 interface 10.0.0.1 FAULTY",
 *   "Automatically recovered ring 0"), `onRingStatus`, probes.
 * - **probes**: 16-byte datagrams of this wrapper (`RRPt` magic, never a Totem frame:
 *   those start with 0xC070/0x70C0), sent on a faulty ring to every member and answered
 *   on the same ring; consumed here, never delivered to the driver. Answers go only to
 *   member addresses, so a spoofed probe cannot make us send elsewhere.
 * - `resetRings()` re-enables every faulty ring at once (`corosync-cfgtool -r`).
 */
import type { RingTransport } from "./common.js";
import { addressKey, memberAddress } from "./common.js";
import { type RrpEffect, type RrpMode, type RrpTimers, RrpFaultDetector } from "./rrp-detector.js";
import type { DatagramSource, RingStatus, Transport, TransportHandlers, TransportMember, TransportStats } from "./types.js";

/** Size of a probe datagram. */
export const PROBE_BYTES = 16;
const PROBE_MAGIC = [0x52, 0x52, 0x50, 0x74]; // "RRPt"
const PROBE_VERSION = 1;

/** A ring probe (`probe`) or its answer (`reply`). */
export interface Probe {
  kind: "probe" | "reply";
  ring: number;
  /** The sender's node id. */
  nodeId: number;
  /** The prober's round number, echoed in the reply. */
  round: number;
}

/** `RRPt`, version, kind (1 probe, 2 reply), ring, 0, nodeid (u32 BE), round (u32 BE). */
export function encodeProbe(p: Probe): Uint8Array {
  const out = new Uint8Array(PROBE_BYTES);
  out.set(PROBE_MAGIC, 0);
  out[4] = PROBE_VERSION;
  out[5] = p.kind === "probe" ? 1 : 2;
  out[6] = p.ring & 0xff;
  const v = new DataView(out.buffer);
  v.setUint32(8, p.nodeId >>> 0);
  v.setUint32(12, p.round >>> 0);
  return out;
}

/** The probe in `bytes`, or undefined when they are anything else (e.g. a Totem frame). */
export function decodeProbe(bytes: Uint8Array): Probe | undefined {
  if (bytes.length !== PROBE_BYTES) return undefined;
  for (let i = 0; i < 4; i++) if (bytes[i] !== PROBE_MAGIC[i]) return undefined;
  if (bytes[4] !== PROBE_VERSION || bytes[7] !== 0 || (bytes[5] !== 1 && bytes[5] !== 2)) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { kind: bytes[5] === 1 ? "probe" : "reply", ring: bytes[6]!, nodeId: v.getUint32(8), round: v.getUint32(12) };
}

export interface RrpTransportOptions {
  mode: RrpMode;
  localNodeId: number;
  /** One transport per ring; `rings[i].ring` must be `i`. */
  rings: readonly RingTransport[];
  /** The configured members (the local node included), with their address per ring. */
  members: readonly TransportMember[];
  /** `totem.rrp_*` settings; corosync 1.x defaults otherwise. */
  timers?: Partial<RrpTimers>;
  /** Monotonic clock in ms (default `performance.now`). */
  now?: () => number;
}

export class RrpTransport implements Transport {
  readonly name: "udp" | "udpu";
  private readonly bases: readonly RingTransport[];
  private readonly detector: RrpFaultDetector;
  private readonly self: number;
  private readonly now: () => number;
  /** Per ring: address key → node id (configured members, then learned ones). */
  private peerIds: Array<Map<string, number>> = [];
  /** Per ring: the address keys of configured members (learning never overrides them). */
  private configuredKeys: Array<Set<string>> = [];
  /** Per ring: raw source address string → node id (or null: not a peer), a cache. */
  private peerCache: Array<Map<string, number | null>> = [];
  private readonly reasons: Array<string | undefined>;
  private handlers: TransportHandlers | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;

  constructor(opts: RrpTransportOptions) {
    if (opts.rings.length < 2) throw new Error(`rrp: redundant rings need at least 2 rings, got ${opts.rings.length}`);
    opts.rings.forEach((b, i) => {
      if (b.ring !== i) throw new Error(`rrp: transport at index ${i} serves ring ${b.ring}`);
      if (b.name !== opts.rings[0]!.name) throw new Error("rrp: every ring must use the same transport");
    });
    this.name = opts.rings[0]!.name as "udp" | "udpu";
    this.bases = opts.rings;
    this.self = opts.localNodeId;
    this.now = opts.now ?? (() => performance.now());
    this.detector = new RrpFaultDetector(opts.mode, opts.rings.length, opts.localNodeId, opts.timers);
    this.reasons = opts.rings.map(() => undefined);
    this.indexMembers(opts.members);
  }

  get mode(): RrpMode {
    return this.detector.mode;
  }

  get localAddress(): string {
    return this.bases[0]!.localAddress;
  }

  /** The sum over the rings' transports (probes included). */
  get stats(): TransportStats {
    const sum: TransportStats = { tx_datagrams: 0, rx_datagrams: 0, tx_bytes: 0, rx_bytes: 0, rx_blocked_unlisted: 0, rx_too_big: 0, tx_errors: 0 };
    for (const b of this.bases) for (const k of Object.keys(sum) as Array<keyof TransportStats>) sum[k] += b.stats[k];
    return sum;
  }

  /** Start every ring; if one cannot start, the others are closed and the error is rethrown. */
  async start(handlers: TransportHandlers): Promise<void> {
    if (this.handlers !== undefined || this.closed) throw new Error("rrp: start() called twice or after close()");
    this.handlers = handlers;
    const started: RingTransport[] = [];
    try {
      for (const b of this.bases) {
        const ringHandlers: TransportHandlers = { onDatagram: (bytes, from) => this.arrived(b.ring, bytes, from) };
        if (handlers.onLog !== undefined) ringHandlers.onLog = handlers.onLog;
        await b.start(ringHandlers);
        started.push(b);
      }
    } catch (err) {
      await Promise.all(started.map((b) => b.close()));
      this.closed = true;
      throw err;
    }
    this.log("notice", `rrp: ${this.mode} mode on ${this.bases.length} rings (${this.bases.map((b) => b.localAddress).join(", ")})`);
  }

  sendToNode(nodeId: number, bytes: Uint8Array): void {
    for (const r of this.detector.sendRings("token", nodeId)) this.bases[r]!.sendToNode(nodeId, bytes);
  }

  sendToAll(bytes: Uint8Array): void {
    for (const r of this.detector.sendRings("mcast")) this.bases[r]!.sendToAll(bytes);
  }

  learnNodeAddress(nodeId: number, from: DatagramSource): void {
    const base = this.bases[from.ring];
    if (base === undefined) return;
    base.learnNodeAddress?.(nodeId, from);
    const key = addressKey(from.address);
    const ids = this.peerIds[from.ring]!;
    if (key === undefined || this.configuredKeys[from.ring]!.has(key) || ids.get(key) === nodeId) return;
    if (ids.size >= 4096 && !ids.has(key)) return;
    ids.set(key, nodeId);
    this.peerCache[from.ring]!.delete(from.address);
  }

  /** Replace the member list on every ring (config reload). */
  setMembers(members: readonly TransportMember[]): void {
    for (const b of this.bases) b.setMembers(members);
    this.indexMembers(members);
  }

  rings(): RingStatus[] {
    return this.bases.map((b, r) => {
      const s: RingStatus = { ring: r, address: b.localAddress, faulty: this.detector.isFaulty(r) };
      if (s.faulty && this.reasons[r] !== undefined) s.reason = this.reasons[r];
      return s;
    });
  }

  resetRings(): void {
    this.apply(this.detector.reset());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.all(this.bases.map((b) => b.close()));
  }

  private indexMembers(members: readonly TransportMember[]): void {
    this.peerIds = this.bases.map(() => new Map<string, number>());
    this.peerCache = this.bases.map(() => new Map<string, number | null>());
    this.configuredKeys = this.bases.map(() => new Set<string>());
    for (const m of members) {
      for (let r = 0; r < this.bases.length; r++) {
        const addr = memberAddress(m, r);
        const key = addr === undefined ? undefined : addressKey(addr);
        if (key === undefined) continue;
        this.peerIds[r]!.set(key, m.nodeId);
        this.configuredKeys[r]!.add(key);
      }
    }
    this.detector.setPeers(
      members.map((m) => ({ nodeId: m.nodeId, rings: this.bases.map((_, r) => r).filter((r) => memberAddress(m, r) !== undefined) })),
    );
  }

  /** The node id whose ring address is `address`, if any. */
  private peerOf(ring: number, address: string): number | undefined {
    const cache = this.peerCache[ring]!;
    let id = cache.get(address);
    if (id === undefined) {
      const key = addressKey(address);
      id = key === undefined ? null : (this.peerIds[ring]!.get(key) ?? null);
      if (cache.size >= 4096) cache.clear();
      cache.set(address, id);
    }
    return id ?? undefined;
  }

  private arrived(ring: number, bytes: Uint8Array, from: DatagramSource): void {
    if (this.closed || this.handlers === undefined) return;
    const peer = this.peerOf(ring, from.address);
    const probe = bytes.length === PROBE_BYTES ? decodeProbe(bytes) : undefined;
    if (probe !== undefined) {
      this.onProbe(ring, probe, peer);
      return;
    }
    if (peer !== undefined && peer !== this.self) this.apply(this.detector.received(this.now(), ring, peer));
    this.handlers.onDatagram(bytes, from);
  }

  /** Answer probes from peers; count answers to ours. Anything inconsistent is ignored. */
  private onProbe(ring: number, probe: Probe, peer: number | undefined): void {
    if (peer === undefined || peer === this.self || probe.ring !== ring || probe.nodeId !== peer) return;
    if (probe.kind === "probe") {
      this.bases[ring]!.sendToNode(peer, encodeProbe({ kind: "reply", ring, nodeId: this.self, round: probe.round }));
      this.apply(this.detector.probeReceived(this.now(), ring, peer));
    } else {
      this.apply(this.detector.probeReply(this.now(), ring, peer, probe.round));
    }
  }

  private apply(effects: readonly RrpEffect[]): void {
    for (const e of effects) this.carryOut(e);
    this.rearm();
  }

  private carryOut(e: RrpEffect): void {
    const addr = this.bases[e.ring]!.localAddress;
    const threshold = this.detector.timers.problemCountThreshold;
    switch (e.kind) {
      case "problem":
        this.log("warning", `Incrementing problem counter for iface ${addr} to [${e.count} of ${threshold}] (node ${e.peer})`);
        break;
      case "decrement":
        if (e.count === 0) this.log("notice", `ring ${e.ring} active with no faults`);
        else this.log("warning", `Decrementing problem counter for iface ${addr} to [${e.count} of ${threshold}]`);
        break;
      case "faulty": {
        const reason = `Marking ringid ${e.ring} interface ${addr} FAULTY`;
        this.reasons[e.ring] = reason;
        this.log("error", reason);
        this.handlers?.onRingStatus?.({ ring: e.ring, address: addr, faulty: true, reason });
        break;
      }
      case "probe":
        this.bases[e.ring]!.sendToAll(encodeProbe({ kind: "probe", ring: e.ring, nodeId: this.self, round: e.round }));
        break;
      case "recovered":
        this.reasons[e.ring] = undefined;
        this.log("notice", e.cause === "auto" ? `Automatically recovered ring ${e.ring}` : `Re-enabling ring ${e.ring} (administrative reset)`);
        this.handlers?.onRingStatus?.({ ring: e.ring, address: addr, faulty: false });
        break;
    }
  }

  /** Keep one timer armed for the detector's next deadline. */
  private rearm(): void {
    if (this.closed) return;
    const due = this.detector.nextDeadline();
    if (due === undefined) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer !== undefined && this.timerAt <= due) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = due;
    // +1 ms: timers may fire a fraction of a millisecond before the monotonic deadline.
    this.timer = setTimeout(() => this.fire(), Math.max(0, Math.ceil(due - this.now())) + 1);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.closed) return;
    this.apply(this.detector.tick(this.now()));
  }

  private log(level: Parameters<NonNullable<TransportHandlers["onLog"]>>[0], text: string): void {
    this.handlers?.onLog?.(level, text);
  }
}
