/**
 * The knet protocol engine of one node (knet-spec §3–§5, §7.2), without sockets or crypto:
 * hosts and links from the nodelist, heartbeat (PING/PONG), answers to PMTUd probes, DATA
 * with per-sender sequence numbers, duplicate filtering, fragmentation and reassembly, link
 * selection (`link_mode` passive / active / rr), reachability, and corosync's totem mapping
 * (a non-zero `target_nodeid` in the Totem header makes a unicast).
 *
 * Inputs: `receive(now, sourceKey, frame)` with a plaintext knet frame (the caller has
 * decrypted it), `send(now, target, packet)` with one Totem message, `tick(now)` every
 * heartbeat period (libknet: 200 ms). Outputs go to a `KnetSink`: frames to send (with their
 * destinations: the caller encrypts once and sends the same bytes to each), packets to
 * deliver, our own broadcasts to loop back, and link/host events.
 *
 * Deviations from libknet, on purpose: no PMTUd of our own (Node cannot set the
 * don't-fragment bit, so the data MTU is fixed: knet-spec §8.1) — a link counts as having a
 * valid MTU as soon as it is up; every field read off the wire is checked (knet-spec §4.4's
 * CVE note); frames claiming our own host id are dropped; a seq-0 ping also resets the
 * duplicate window when it holds DATA (see `onPing`).
 *
 * Bad input never throws: it is dropped and counted in `dropped` by reason.
 * Pure: no node:* imports; time is an input (monotonic milliseconds).
 */
import { HEADER as TOTEM_HEADER } from "../../wire/totem/header.js";
import {
  KNET_DATA_HEADER_SIZE,
  KNET_MAX_HOST,
  KNET_MAX_LINK,
  KNET_MAX_PACKET_SIZE,
  KNET_PING_SIZE,
  KNET_PMTUD_SIZE,
  type KnetData,
  type KnetFrame,
  type KnetPing,
  type KnetPmtud,
  KnetType,
  decodeKnetFrame,
  readTimespecMs,
  writeDataFields,
  writeKnetHeader,
  writePing,
  writePmtudFields,
} from "../../wire/knet/frame.js";
import { Reassembler, fragmentCount, fragmentRange } from "./assembly.js";
import { type LinkCounters, LinkState, type LinkTimers } from "./link.js";
import { SeqWindow } from "./seq-window.js";

export type LinkMode = "passive" | "active" | "rr";

/** Every 65535 / 8 DATA packets the sender pings every host "untimed" (knet-spec §4.4). */
export const UNTIMED_PING_EVERY = Math.floor(0xffff / 8);
/** How often the pong timeouts are re-adjusted (libknet: about once a second). */
export const ADJUST_INTERVAL_MS = 1000;

/** One local link: its id, timers and `knet_link_priority`. */
export interface KnetLinkConfig extends LinkTimers {
  link: number;
  priority: number;
}

/** A peer as configured: its address key per link id (undefined: not on that link). */
export interface KnetHostConfig {
  nodeId: number;
  /** Canonical address keys (see transport/common.ts `addressKey`), by link id. */
  addrs: ReadonlyArray<string | undefined>;
}

export interface KnetEngineConfig {
  localNodeId: number;
  /** The nodelist; our own entry may be included (it is skipped). */
  hosts: readonly KnetHostConfig[];
  /** Our links (a link is used with a peer when both have an address on it). */
  links: readonly KnetLinkConfig[];
  linkMode: LinkMode;
  /** Most user bytes per DATA frame (fragments are this size). */
  dataMtu: number;
  /** Drop control frames whose source address is not the link's peer address (default true). */
  blockUnlistedIps?: boolean;
}

/** Where a frame goes: a host and the link to send it on. */
export interface KnetDestination {
  nodeId: number;
  link: number;
}

export type KnetEvent =
  | { kind: "link"; nodeId: number; link: number; up: boolean }
  | { kind: "host"; nodeId: number; reachable: boolean; activeLinks: readonly number[] };

export interface KnetSink {
  /**
   * Send `frame` to every destination (the same bytes to each). `frame` and `dests` are
   * only valid during the call: the engine reuses them.
   */
  send(frame: Uint8Array, dests: readonly KnetDestination[]): void;
  /** A complete packet from host `nodeId`; the receiver owns `packet`. */
  deliver(packet: Uint8Array, nodeId: number, link: number): void;
  /** Our own broadcast (or unicast to ourselves): deliver it to us later, not re-entrantly. */
  loopback(packet: Uint8Array): void;
  event(e: KnetEvent): void;
}

/** Per-peer link state, as views show it. */
export interface KnetLinkView {
  nodeId: number;
  link: number;
  /** The peer's address key on this link. */
  address: string;
  connected: boolean;
  latencyMs: number;
  pongTimeoutAdjMs: number;
  receivedPongs: number;
  counters: Readonly<LinkCounters>;
}

export interface KnetHostView {
  nodeId: number;
  reachable: boolean;
  /** Links traffic to this host uses now (by `link_mode`). */
  activeLinks: readonly number[];
  links: KnetLinkView[];
}

interface PeerLink {
  link: number;
  address: string;
  priority: number;
  state: LinkState;
}

interface Host {
  nodeId: number;
  links: Array<PeerLink | undefined>;
  window: SeqWindow;
  assembler: Reassembler;
  reachable: boolean;
  activeLinks: number[];
  /** Last seq seen in a timed / untimed ping (each processed once per burst). */
  timedRxSeq: number;
  untimedRxSeq: number;
  /** DATA arrived since the last untimed ping. */
  gotData: boolean;
  rrNext: number;
}

export class KnetEngine {
  readonly localNodeId: number;
  readonly linkMode: LinkMode;
  /** Dropped input by reason (decode errors by their DecodeError code). */
  readonly dropped: Record<string, number> = {};
  /** Packets sent (on the wire) / DATA frames sent and received / packets delivered / looped back. */
  readonly counters = { txPackets: 0, txFrames: 0, rxFrames: 0, rxPackets: 0, loopback: 0, txUnreachable: 0 };
  private readonly hosts = new Map<number, Host>();
  private readonly hostList: Host[] = [];
  private readonly blockUnlisted: boolean;
  private dataMtuBytes: number;
  private txSeq = 0;
  private lastAdjustMs: number | undefined;
  private txFrame: Uint8Array;
  private readonly ctlFrame = new Uint8Array(KNET_PING_SIZE);
  private readonly dests: KnetDestination[] = [];
  private readonly oneDest: KnetDestination[] = [{ nodeId: 0, link: 0 }];

  constructor(
    cfg: KnetEngineConfig,
    private readonly sink: KnetSink,
  ) {
    if (!Number.isInteger(cfg.localNodeId) || cfg.localNodeId <= 0 || cfg.localNodeId >= KNET_MAX_HOST) {
      throw new RangeError(`knet: node id ${cfg.localNodeId} is not in 1…${KNET_MAX_HOST - 1}`);
    }
    this.localNodeId = cfg.localNodeId;
    this.linkMode = cfg.linkMode;
    this.blockUnlisted = cfg.blockUnlistedIps ?? true;
    this.dataMtuBytes = checkMtu(cfg.dataMtu);
    this.txFrame = new Uint8Array(KNET_DATA_HEADER_SIZE + this.dataMtuBytes);
    const local = new Map(cfg.links.map((l) => [l.link, l]));
    for (const h of cfg.hosts) {
      if (h.nodeId === this.localNodeId || this.hosts.has(h.nodeId)) continue;
      if (!Number.isInteger(h.nodeId) || h.nodeId <= 0 || h.nodeId >= KNET_MAX_HOST) throw new RangeError(`knet: host id ${h.nodeId} is not in 1…${KNET_MAX_HOST - 1}`);
      const host = newHost(h, local);
      this.hosts.set(h.nodeId, host);
      this.hostList.push(host);
    }
  }

  /** Most user bytes per DATA frame. */
  get dataMtu(): number {
    return this.dataMtuBytes;
  }

  /** Change the data MTU (applies to the next packet). */
  setDataMtu(bytes: number): void {
    this.dataMtuBytes = checkMtu(bytes);
    this.txFrame = new Uint8Array(KNET_DATA_HEADER_SIZE + this.dataMtuBytes);
  }

  /** Our current DATA sequence number (0 until the first packet went out). */
  get sequence(): number {
    return this.txSeq;
  }

  /** Is host `nodeId` reachable (some link up)? Our own id is always reachable. */
  isReachable(nodeId: number): boolean {
    return nodeId === this.localNodeId || this.hosts.get(nodeId)?.reachable === true;
  }

  // ------------------------------------------------------------------ sending

  /**
   * Send one packet: `target` 0 broadcasts to every reachable host and loops back to us; a
   * node id unicasts (to ourselves: loopback only). The Totem header's `target_nodeid` in
   * the copy that goes out is set to `target` (corosync's filter reads it on receipt).
   * Returns false when nothing went on the wire (no reachable destination, too big).
   */
  send(nowMs: number, target: number, packet: Uint8Array): boolean {
    if (packet.byteLength === 0 || packet.byteLength > KNET_MAX_PACKET_SIZE) return this.drop("tx_too_big");
    if (target === 0 || target === this.localNodeId) {
      this.counters.loopback++;
      this.sink.loopback(packet);
      if (target !== 0) return true;
    }
    const dests = this.destinations(target);
    if (dests.length === 0) {
      // Alone in the nodelist nobody is ever reachable: that is no failure to count.
      if (this.hostList.length > 0) this.counters.txUnreachable++;
      return false;
    }
    const count = fragmentCount(packet.byteLength, this.dataMtuBytes);
    if (count === 0) return this.drop("tx_too_big");
    const seq = this.nextSeq();
    if (seq % UNTIMED_PING_EVERY === 0) this.sendPings(nowMs, false);
    for (const d of dests) this.hosts.get(d.nodeId)!.links[d.link]!.state.counters.txData += count;
    this.counters.txPackets++;
    for (let i = 0; i < count; i++) this.sendFragment(packet, target, seq, count, i, dests);
    return true;
  }

  private nextSeq(): number {
    this.txSeq = (this.txSeq + 1) & 0xffff;
    if (this.txSeq === 0) this.txSeq = 1;
    return this.txSeq;
  }

  /** The (reused) destination list for `target`: per host, the links `link_mode` picks. */
  private destinations(target: number): KnetDestination[] {
    const dests = this.dests;
    let n = 0;
    if (target === 0) {
      for (const h of this.hostList) if (h.reachable) n = this.addDestinations(h, n);
    } else {
      const h = this.hosts.get(target);
      if (h?.reachable === true) n = this.addDestinations(h, n);
    }
    dests.length = n;
    return dests;
  }

  /**
   * Append `host`'s links to the destination list from index `n`; returns the new length.
   * passive: the one best link; active: every up link; rr: the next up link in turn.
   */
  private addDestinations(host: Host, n: number): number {
    const active = host.activeLinks;
    if (this.linkMode === "rr" && active.length > 1) {
      const link = active[host.rrNext % active.length]!;
      host.rrNext = (host.rrNext + 1) % KNET_MAX_LINK;
      return this.setDestination(n, host.nodeId, link);
    }
    for (const link of active) n = this.setDestination(n, host.nodeId, link);
    return n;
  }

  private setDestination(n: number, nodeId: number, link: number): number {
    const d = this.dests[n];
    if (d === undefined) this.dests.push({ nodeId, link });
    else {
      d.nodeId = nodeId;
      d.link = link;
    }
    return n + 1;
  }

  private sendFragment(packet: Uint8Array, target: number, seq: number, count: number, index: number, dests: readonly KnetDestination[]): void {
    const [start, end] = fragmentRange(packet.byteLength, this.dataMtuBytes, index);
    const frame = this.txFrame;
    writeKnetHeader(frame, 0, KnetType.DATA, this.localNodeId);
    writeDataFields(frame, 0, seq, target === 0 ? 1 : 0, count, count === 1 ? 0 : index + 1);
    frame.set(packet.subarray(start, end), KNET_DATA_HEADER_SIZE);
    if (index === 0) writeTotemTarget(frame, KNET_DATA_HEADER_SIZE, end - start, target);
    this.counters.txFrames++;
    this.sink.send(frame.subarray(0, KNET_DATA_HEADER_SIZE + end - start), dests);
  }

  // ------------------------------------------------------------------ heartbeat

  /** The heartbeat: timeouts adjusted about once a second, due pings sent, silent links taken down. */
  tick(nowMs: number): void {
    if (this.lastAdjustMs === undefined) this.lastAdjustMs = nowMs;
    else if (nowMs - this.lastAdjustMs >= ADJUST_INTERVAL_MS) {
      this.lastAdjustMs = nowMs;
      for (const h of this.hostList) for (const l of h.links) l?.state.adjust();
    }
    for (const h of this.hostList) {
      let changed = false;
      for (const l of h.links) {
        if (l === undefined) continue;
        if (l.state.takePingDue(nowMs)) this.sendPing(nowMs, h, l, 1);
        if (l.state.checkTimeout(nowMs)) {
          this.sink.event({ kind: "link", nodeId: h.nodeId, link: l.link, up: false });
          changed = true;
        }
      }
      if (changed) this.updateHost(h);
    }
  }

  /** Ping every host on every link now (`timed` 0: the untimed round of knet-spec §4.4). */
  private sendPings(nowMs: number, timed: boolean): void {
    for (const h of this.hostList) {
      for (const l of h.links) {
        if (l === undefined) continue;
        l.state.pingLastMs = nowMs;
        l.state.counters.txPings++;
        this.sendPing(nowMs, h, l, timed ? 1 : 0);
      }
    }
  }

  private sendPing(nowMs: number, h: Host, l: PeerLink, timed: number): void {
    writePing(this.ctlFrame, 0, KnetType.PING, this.localNodeId, l.link, nowMs, this.txSeq, timed);
    this.sendControl(this.ctlFrame, h.nodeId, l.link);
  }

  private sendControl(frame: Uint8Array, nodeId: number, link: number): void {
    const d = this.oneDest[0]!;
    d.nodeId = nodeId;
    d.link = link;
    this.sink.send(frame, this.oneDest);
  }

  // ------------------------------------------------------------------ receiving

  /**
   * One plaintext knet frame from the address whose key is `sourceKey`. The engine may keep
   * views of `frame` (fragments, delivered packets): the caller must not reuse it.
   */
  receive(nowMs: number, sourceKey: string, frame: Uint8Array): void {
    const r = decodeKnetFrame(frame);
    if (!r.ok) {
      this.drop(`decode_${r.error.code.toLowerCase()}`);
      return;
    }
    const f = r.value;
    if (f.hostId === this.localNodeId) {
      this.drop("own_host_id");
      return;
    }
    const host = this.hosts.get(f.hostId);
    if (host === undefined) {
      this.drop("unknown_host");
      return;
    }
    if (f.type === KnetType.DATA) this.receiveData(host, sourceKey, f);
    else this.receiveControl(nowMs, host, sourceKey, f);
  }

  private receiveControl(nowMs: number, host: Host, sourceKey: string, f: Exclude<KnetFrame, KnetData>): void {
    const link = host.links[f.link % KNET_MAX_LINK];
    if (link === undefined) {
      this.drop("no_such_link");
      return;
    }
    if (this.blockUnlisted && link.address !== sourceKey) {
      this.drop("unlisted_source");
      return;
    }
    switch (f.type) {
      case KnetType.PING:
        this.onPing(host, link, f);
        break;
      case KnetType.PONG:
        this.onPong(nowMs, host, link, f);
        break;
      case KnetType.PMTUD:
        this.onPmtud(host, link, f);
        break;
      case KnetType.PMTUD_REPLY:
        link.state.counters.rxPmtud++;
        break;
    }
  }

  /** Restart / idle detection from the ping's seq (knet-spec §4.4), then the PONG. */
  private onPing(host: Host, link: PeerLink, f: KnetPing): void {
    link.state.counters.rxPings++;
    if (f.timed !== 0) {
      // knet wipes on the first seq-0 ping of a burst. We also wipe when DATA is in the window:
      // a node pinging with seq 0 has sent none since it started, so that DATA came from an
      // earlier incarnation that died before its pings showed a non-zero seq (knet would then
      // take the new seqs 1, 2, … for duplicates). A duplicate let through is harmless: Totem
      // drops repeated messages by its own sequence numbers.
      const restarted = f.seq === 0 && (f.seq !== host.timedRxSeq || host.window.newest !== 0);
      host.timedRxSeq = f.seq;
      if (restarted) this.wipe(host);
    } else {
      let wipe = false;
      if (f.seq !== host.untimedRxSeq) {
        host.untimedRxSeq = f.seq;
        wipe = !host.gotData;
        host.gotData = false;
      }
      if (wipe) this.wipe(host);
      if (f.seq !== 0) host.window.lookup(f.seq, "delivered");
    }
    const pong = this.ctlFrame;
    writeKnetHeader(pong, 0, KnetType.PONG, this.localNodeId, f.maxVer, f.pad);
    pong[6] = f.link;
    pong.set(f.time, 7);
    pong[23] = (f.seq >>> 8) & 0xff;
    pong[24] = f.seq & 0xff;
    pong[25] = f.timed;
    link.state.counters.txPongs++;
    this.sendControl(pong, host.nodeId, link.link);
  }

  private onPong(nowMs: number, host: Host, link: PeerLink, f: KnetPing): void {
    const outcome = link.state.onPong(nowMs, readTimespecMs(f.time, 0));
    if (outcome === "late") this.drop("pong_late");
    if (outcome !== "up") return;
    this.sink.event({ kind: "link", nodeId: host.nodeId, link: link.link, up: true });
    this.updateHost(host);
  }

  /** Answer a path-MTU probe: its first 9 bytes with our host id and type PMTUD_REPLY. */
  private onPmtud(host: Host, link: PeerLink, f: KnetPmtud): void {
    link.state.counters.rxPmtud++;
    const reply = this.ctlFrame.subarray(0, KNET_PMTUD_SIZE);
    writeKnetHeader(reply, 0, KnetType.PMTUD_REPLY, this.localNodeId, f.maxVer, f.pad);
    writePmtudFields(reply, 0, f.link, f.size);
    link.state.counters.txPmtud++;
    this.sendControl(reply, host.nodeId, link.link);
  }

  private receiveData(host: Host, sourceKey: string, f: KnetData): void {
    const link = findLink(host, sourceKey);
    if (link === undefined) {
      this.drop("unknown_source");
      return;
    }
    link.state.counters.rxData++;
    this.counters.rxFrames++;
    if (!host.reachable) {
      this.drop("unreachable");
      return;
    }
    host.gotData = true;
    if (!host.window.lookup(f.seq, "delivered")) {
      this.drop("duplicate");
      return;
    }
    let packet = f.payload;
    if (f.fragNum > 1) {
      const a = host.assembler.add(f.seq, f.fragNum, f.fragSeq, f.payload);
      if (a.kind === "pending") return;
      if (a.kind === "dropped") {
        this.drop(`defrag_${a.reason}`);
        return;
      }
      packet = a.packet;
    }
    if (f.compress !== 0) {
      this.drop("compressed");
      return;
    }
    if (f.channel !== 0) {
      this.drop("channel");
      return;
    }
    const target = readTotemTarget(packet);
    if (target !== 0 && target !== this.localNodeId) {
      this.drop("not_for_us");
      return;
    }
    this.counters.rxPackets++;
    this.sink.deliver(packet, host.nodeId, link.link);
    host.window.mark(f.seq, "delivered");
  }

  // ------------------------------------------------------------------ hosts

  /** Recompute which links carry traffic to `host` and whether it is reachable. */
  private updateHost(host: Host): void {
    const up: number[] = [];
    let best = -1;
    for (const l of host.links) {
      if (l === undefined || !l.state.connected) continue;
      if (this.linkMode === "passive") {
        if (best < 0 || l.priority > host.links[best]!.priority) best = l.link;
      } else up.push(l.link);
    }
    if (this.linkMode === "passive" && best >= 0) up.push(best);
    const reachable = up.length > 0;
    const changed = reachable !== host.reachable || up.join() !== host.activeLinks.join();
    host.activeLinks = up;
    if (!reachable && host.reachable) this.wipe(host);
    host.reachable = reachable;
    if (changed) this.sink.event({ kind: "host", nodeId: host.nodeId, reachable, activeLinks: up });
  }

  private wipe(host: Host): void {
    host.window.wipe();
    host.assembler.clear();
  }

  private drop(reason: string): false {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
    return false;
  }

  /** Every peer and its links, for status views (`corosync-cfgtool -n`). */
  view(): KnetHostView[] {
    return this.hostList.map((h) => ({
      nodeId: h.nodeId,
      reachable: h.reachable,
      activeLinks: [...h.activeLinks],
      links: h.links.filter((l): l is PeerLink => l !== undefined).map((l) => ({
        nodeId: h.nodeId,
        link: l.link,
        address: l.address,
        connected: l.state.connected,
        latencyMs: l.state.latencyMs,
        pongTimeoutAdjMs: l.state.pongTimeoutAdjMs,
        receivedPongs: l.state.receivedPongs,
        counters: { ...l.state.counters },
      })),
    }));
  }
}

function checkMtu(bytes: number): number {
  if (!Number.isInteger(bytes) || bytes < 64 || bytes > KNET_MAX_PACKET_SIZE) throw new RangeError(`knet: data MTU ${bytes} is not in 64…${KNET_MAX_PACKET_SIZE}`);
  return bytes;
}

function newHost(h: KnetHostConfig, local: ReadonlyMap<number, KnetLinkConfig>): Host {
  const window = new SeqWindow();
  const links: Array<PeerLink | undefined> = new Array<PeerLink | undefined>(KNET_MAX_LINK);
  for (let id = 0; id < KNET_MAX_LINK; id++) {
    const cfg = local.get(id);
    const address = h.addrs[id];
    if (cfg === undefined || address === undefined) continue;
    links[id] = { link: id, address, priority: cfg.priority, state: new LinkState(cfg) };
  }
  return { nodeId: h.nodeId, links, window, assembler: new Reassembler(window), reachable: false, activeLinks: [], timedRxSeq: -1, untimedRxSeq: -1, gotData: false, rrNext: 0 };
}

/** The link of `host` whose peer address is `sourceKey` (DATA frames carry no link id). */
function findLink(host: Host, sourceKey: string): PeerLink | undefined {
  for (const l of host.links) if (l !== undefined && l.address === sourceKey) return l;
  return undefined;
}

/** Little-endian unless the Totem magic says the sender is big-endian (`C0 70`). */
function totemLittleEndian(b: Uint8Array, o: number): boolean {
  return !(b[o] === 0xc0 && b[o + 1] === 0x70);
}

/** corosync's filter: the Totem header's `target_nodeid` (0 when the packet is too short to have one). */
export function readTotemTarget(packet: Uint8Array): number {
  const o = TOTEM_HEADER.targetNodeId;
  if (packet.byteLength < o + 4) return 0;
  return totemLittleEndian(packet, 0)
    ? (packet[o]! | (packet[o + 1]! << 8) | (packet[o + 2]! << 16) | (packet[o + 3]! << 24)) >>> 0
    : ((packet[o]! << 24) | (packet[o + 1]! << 16) | (packet[o + 2]! << 8) | packet[o + 3]!) >>> 0;
}

/** Write `target` as the Totem `target_nodeid` of the packet copy at `b[o…o+len)`. */
function writeTotemTarget(b: Uint8Array, o: number, len: number, target: number): void {
  const t = o + TOTEM_HEADER.targetNodeId;
  if (len < TOTEM_HEADER.targetNodeId + 4) return;
  const le = totemLittleEndian(b, o);
  for (let i = 0; i < 4; i++) b[t + i] = (target >>> (le ? 8 * i : 24 - 8 * i)) & 0xff;
}
