/**
 * totempg: packing of several application messages per Totem frame, fragmentation of large
 * ones, reassembly, and the groups layer (totem-spec §5; corosync `totempg.c`).
 *
 * The sender side reproduces corosync's `mcast_msg` packing decisions (which iovec fits,
 * when a packet is emitted, fragment ids) so that our frames have the same shape as a C
 * node's; the receiver side follows `totempg_deliver_fn`.
 *
 * Where corosync breaks extended virtual synchrony we deliberately differ:
 * - A message whose fragments straddle a configuration change (its first packets were sent
 *   in the old ring, the rest are still queued) is delivered by the old members but thrown
 *   away by new ones in corosync. Here every receiver drops every incomplete assembly at the
 *   regular configuration change (all-or-nothing, at the same point of the total order), and
 *   the sender, which knows the message was not delivered to itself, re-packs its unsent
 *   traffic and sends that message again whole in the new configuration.
 * - After a continuation mismatch only the unassemblable first piece is discarded; the whole
 *   messages packed after it are delivered (corosync's throw-away mode drops them too).
 * - A reassembly that would exceed `MESSAGE_SIZE_MAX` is dropped (counted) instead of
 *   overflowing an assertion.
 * - Empty fragment tails are not kept (corosync copies zero bytes): the part list of an
 *   assembly grows only with bytes, so a sender repeating empty continued fragments cannot
 *   grow it without bound (found by the fuzzer).
 * - Packets from a node id outside the current configuration are dropped (counted): the SRP
 *   delivers only members' messages in legitimate traffic, and a forged header nodeid must not
 *   create assemblies without bound (corosync keeps one per id it ever sees; fuzzer).
 */
import { decodePgPacket } from "../../wire/pg/packet.js";
import { DecodeError } from "../../wire/errors.js";
import { MESSAGE_SIZE_MAX, PROCESSOR_COUNT_MAX } from "../totem/constants.js";
import type { ConfigurationChange, SrpUpcalls } from "../totem/types.js";

/** Size of `struct totempg_mcast`. */
const PG_HEADER = 8;
/** Per-packet overhead corosync assumes when counting queue slots (`byte_count_send_ok`). */
const SEND_OK_OVERHEAD = PG_HEADER + 16;

/** What totempg needs from the SRP below it. */
export interface PgLower {
  mcast(now: number, payload: Uint8Array, guarantee: 0 | 1, opts?: { queue?: "current" | "normal"; force?: boolean }): boolean;
  avail(): number;
  holdCancel(now: number): void;
  /** Take back the packets not yet sent from the normal queue (in order). */
  takeUnsent(): Array<{ payload: Uint8Array; guarantee: 0 | 1 }>;
  transAck(): void;
}

export interface PgInit {
  /** The SRP payload limit (netmtu − 90). */
  netMtu: number;
  /** This node's id (to recognise its own messages coming back). */
  nodeId: number;
  upper: PgUpcalls;
  lower?: PgLower;
}

/** Calls into the layer above (the group users: services and sync). */
export interface PgUpcalls {
  /** One whole application message for group `group` ("a", "sync"...). */
  deliver(nodeId: number, group: string, body: Uint8Array, bigEndian: boolean): void;
  confchg(change: ConfigurationChange): void;
  /** `waiting_trans_ack` changed in the SRP (sync uses it to know when to ack). */
  waitingTransAck?(waiting: boolean): void;
}

export interface PgStats {
  /** Packets whose lengths did not add up, dropped. */
  rx_bad_packets: number;
  /** Messages whose group header did not decode, dropped. */
  rx_bad_messages: number;
  /** Messages thrown away after a continuation mismatch or an oversized assembly. */
  rx_thrown_away: number;
  /** Packets from a node outside the current configuration (or beyond PROCESSOR_COUNT_MAX senders), dropped. */
  rx_not_member: number;
  /** Incomplete assemblies dropped at a regular configuration change. */
  rx_dropped_at_confchg: number;
  /** Own messages re-sent whole because they straddled a configuration change. */
  tx_resent: number;
  /** Whole application messages delivered upward. */
  rx_messages: number;
  /** Application messages accepted for sending. */
  tx_messages: number;
  /** Packets handed to the SRP. */
  tx_packets: number;
}

/**
 * One of our own messages sent in several packets, not yet delivered back to us. `sync`: it
 * went to the sync-time queue, which the SRP sends ahead of the normal queue, so own messages
 * do not come back in the order they were packed.
 */
interface InFlight {
  bytes: Uint8Array;
  guarantee: 0 | 1;
  sync: boolean;
}

/**
 * Byte equality. The length is read once: `byteLength` in the loop condition is not hoisted
 * by V8 (Node 20) and made this loop about 8 times slower (30 ns a byte).
 */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.byteLength;
  if (n !== b.byteLength) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface Assembly {
  /** Bytes of the message being reassembled (earlier fragments). */
  parts: Uint8Array[];
  size: number;
  lastFragNum: number;
  /** Discarding the fragments of a message we cannot assemble. */
  discarding: boolean;
}

function newAssembly(): Assembly {
  return { parts: [], size: 0, lastFragNum: 0, discarding: false };
}

/** A packet's pieces as the receiver (or the re-packer) walks them. */
interface PacketView {
  pieces: Uint8Array[];
  fragmented: number;
  continuation: number;
  guarantee: 0 | 1;
}

function concat(parts: readonly Uint8Array[], last: Uint8Array, size: number): Uint8Array {
  if (parts.length === 0) return last;
  const out = new Uint8Array(size + last.byteLength);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  out.set(last, off);
  return out;
}

function concatAll(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/** A group name's bytes as text (the two names corosync uses without building a string). */
function nameAt(b: Uint8Array, off: number, n: number): string {
  if (n === 1 && b[off] === 0x61) return "a";
  if (n === 4 && b[off] === 0x73 && b[off + 1] === 0x79 && b[off + 2] === 0x6e && b[off + 3] === 0x63) return "sync";
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(b[off + i]!);
  return s;
}

function u16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
}

function clearParts(asm: Assembly): void {
  if (asm.parts.length > 0) asm.parts = [];
  asm.size = 0;
}

/** `MAX_GROUPS_PER_MSG`. */
const GROUP_COUNT_MAX = 32;

export class TotemPg implements SrpUpcalls {
  readonly stats: PgStats = {
    rx_bad_packets: 0,
    rx_bad_messages: 0,
    rx_thrown_away: 0,
    rx_not_member: 0,
    rx_dropped_at_confchg: 0,
    tx_resent: 0,
    rx_messages: 0,
    tx_messages: 0,
    tx_packets: 0,
  };
  readonly nodeId: number;
  private readonly netMtu: number;
  private lower: PgLower | undefined;
  private readonly upper: PgUpcalls;
  /** `TOTEMPG_PACKET_SIZE`: data + length words per packet. */
  private readonly packetSize: number;
  private readonly fragmentationData: Uint8Array;
  private fragmentSize = 0;
  private packedMsgLens: number[] = [0];
  private packedMsgCount = 0;
  private fragmentContinuation = 0;
  private nextFragment = 1;
  /** Highest guarantee among messages waiting in the packing buffer (ours; see flush). */
  private bufferGuarantee: 0 | 1 = 0;
  /** Queue options for `emit` (the re-pack uses the normal queue, unbounded). */
  private emitOpts: { queue?: "current" | "normal"; force?: boolean } | undefined;
  /** Own messages sent in several packets and not yet delivered back to us, oldest first. */
  private ownInFlight: InFlight[] = [];
  private waitingTrans = true;
  private readonly assemblies = new Map<number, Assembly>();
  private readonly assembliesTrans = new Map<number, Assembly>();
  /**
   * The senders packets are accepted from: the members of the last configuration change
   * (regular, or the transitional one while its old-ring messages are delivered). Undefined
   * until the first one (then any id, up to PROCESSOR_COUNT_MAX assemblies).
   */
  private members: ReadonlySet<number> | undefined;
  private now = 0;

  constructor(init: PgInit) {
    this.netMtu = init.netMtu;
    this.nodeId = init.nodeId;
    this.upper = init.upper;
    this.lower = init.lower;
    this.packetSize = init.netMtu - PG_HEADER;
    this.fragmentationData = new Uint8Array(this.packetSize);
  }

  /** Attach the SRP (constructed after us, since it needs our upcalls). */
  attach(lower: PgLower): void {
    this.lower = lower;
  }

  /** Current time for the SRP calls made from inside upcalls. */
  setNow(now: number): void {
    this.now = now;
  }

  // ------------------------------------------------------------------ sending

  /**
   * Can a message of `bytes` bytes be queued now (`byte_count_send_ok`)? Each packet carries
   * at most netmtu − 24 bytes by corosync's reckoning.
   */
  sendOk(bytes: number): boolean {
    const lower = this.lower;
    if (lower === undefined) return false;
    const needed = Math.floor(bytes / (this.netMtu - SEND_OK_OVERHEAD)) + 1;
    return lower.avail() >= needed;
  }

  /**
   * Multicast one application message to `group` (`totempg_groups_mcast_joined`): the group
   * header and name, then the body iovecs. Returns false when the SRP queue has no room
   * (nothing was queued; the caller retries later, e.g. answering CS_ERR_TRY_AGAIN).
   */
  mcastGroup(now: number, group: string, body: readonly Uint8Array[], guarantee: 0 | 1 = 0): boolean {
    const [header, name] = this.groupIovecs(group);
    const iov = body.length === 1 ? [header, name, body[0]!] : [header, name, ...body];
    return this.mcastMsg(now, iov, guarantee);
  }

  private readonly groupCache = new Map<string, [Uint8Array, Uint8Array]>();

  /** The group-length table and the name, as corosync passes them: two iovecs (cached). */
  private groupIovecs(group: string): [Uint8Array, Uint8Array] {
    let g = this.groupCache.get(group);
    if (g === undefined) {
      const name = new Uint8Array(group.length);
      for (let i = 0; i < group.length; i++) name[i] = group.charCodeAt(i) & 0xff;
      const header = Uint8Array.of(1, 0, name.byteLength & 0xff, name.byteLength >>> 8);
      g = [header, name];
      this.groupCache.set(group, g);
    }
    return g;
  }

  /** `mcast_msg` (totem-spec §5.2): pack or fragment `iovecs` into totempg packets. */
  mcastMsg(now: number, iovecsIn: readonly Uint8Array[], guarantee: 0 | 1): boolean {
    this.now = now;
    const lower = this.lower;
    if (lower === undefined) return false;
    lower.holdCancel(now);
    let total = 0;
    let empty = false;
    for (const v of iovecsIn) {
      total += v.byteLength;
      if (v.byteLength === 0) empty = true;
    }
    const iov = empty ? iovecsIn.filter((v) => v.byteLength > 0) : iovecsIn;
    // Every receiver (we too) drops a reassembly above MESSAGE_SIZE_MAX: refuse it here.
    if (total > MESSAGE_SIZE_MAX) throw new RangeError(`totempg: a ${total}-byte message exceeds MESSAGE_SIZE_MAX (${MESSAGE_SIZE_MAX})`);
    if (this.emitOpts?.force !== true && !this.sendOk(total + 2 * this.packedMsgCount)) return false;
    this.stats.tx_messages++;
    if (this.packMessage(iov, guarantee)) {
      const sync = this.waitingTrans && this.emitOpts?.queue !== "normal";
      this.ownInFlight.push({ bytes: concatAll(iov, total), guarantee, sync });
    }
    return true;
  }

  /**
   * The packing loop of `mcast_msg`. Returns true if a packet carrying part (but not the end)
   * of this message was emitted, i.e. the message travels in several packets.
   */
  private packMessage(iov: readonly Uint8Array[], guarantee: 0 | 1): boolean {
    let maxPacketSize = this.packetSize - 2 * (this.packedMsgCount + 1);
    this.packedMsgLens[this.packedMsgCount] = 0;
    if (guarantee === 1) this.bufferGuarantee = 1;
    let multiPacket = false;
    let copyBase = 0;
    for (let i = 0; i < iov.length; ) {
      const v = iov[i]!;
      const continuation = this.fragmentContinuation;
      let copyLen = v.byteLength - copyBase;
      if (v.byteLength + this.fragmentSize < maxPacketSize - 2) {
        this.fragmentationData.set(copyBase === 0 ? v : v.subarray(copyBase), this.fragmentSize);
        this.fragmentSize += copyLen;
        this.packedMsgLens[this.packedMsgCount]! += copyLen;
        this.nextFragment = 1;
        copyBase = 0;
        i++;
        continue;
      }
      copyLen = Math.min(copyLen, maxPacketSize - this.fragmentSize);
      this.fragmentationData.set(v.subarray(copyBase, copyBase + copyLen), this.fragmentSize);
      this.packedMsgLens[this.packedMsgCount]! += copyLen;
      let fragmented = 0;
      if (i < iov.length - 1 || copyBase + copyLen < v.byteLength) {
        if (this.nextFragment === 0) this.nextFragment = 1;
        this.fragmentContinuation = this.nextFragment;
        fragmented = this.nextFragment;
        this.nextFragment = (this.nextFragment + 1) & 0xff;
        multiPacket = true;
      } else {
        this.fragmentContinuation = 0;
      }
      this.packedMsgCount++;
      this.emit(fragmented, continuation, this.fragmentSize + copyLen, guarantee);
      maxPacketSize = this.packetSize - 2;
      if (copyBase + copyLen === v.byteLength) {
        copyBase = 0;
        i++;
      } else {
        copyBase += copyLen;
      }
    }
    if (this.packedMsgLens[this.packedMsgCount]! > 0) {
      this.packedMsgCount++;
      this.packedMsgLens[this.packedMsgCount] = 0;
    }
    return multiPacket;
  }

  /** The pieces waiting in the packing buffer (copies). */
  private bufferPieces(): Uint8Array[] {
    const pieces: Uint8Array[] = [];
    let off = 0;
    for (let k = 0; k < this.packedMsgCount; k++) {
      const len = this.packedMsgLens[k]!;
      pieces.push(this.fragmentationData.slice(off, off + len));
      off += len;
    }
    return pieces;
  }

  private resetBuffer(): void {
    this.packedMsgLens = [0];
    this.packedMsgCount = 0;
    this.fragmentSize = 0;
  }

  /**
   * Build one packet from the packing buffer (one allocation: header, length table, data)
   * and queue it in the SRP; empties the buffer.
   */
  private emit(fragmented: number, continuation: number, dataLen: number, guarantee: 0 | 1): void {
    const count = this.packedMsgCount;
    const packet = new Uint8Array(PG_HEADER + 2 * count + dataLen);
    packet[4] = fragmented;
    packet[5] = continuation;
    packet[6] = count & 0xff;
    packet[7] = count >>> 8;
    let sum = 0;
    for (let k = 0; k < count; k++) {
      const len = this.packedMsgLens[k]!;
      packet[PG_HEADER + 2 * k] = len & 0xff;
      packet[PG_HEADER + 2 * k + 1] = len >>> 8;
      sum += len;
    }
    if (sum !== dataLen) throw new Error(`totempg: packed ${sum} bytes, expected ${dataLen}`);
    packet.set(this.fragmentationData.subarray(0, dataLen), PG_HEADER + 2 * count);
    this.resetBuffer();
    this.stats.tx_packets++;
    const g: 0 | 1 = guarantee === 1 || this.bufferGuarantee === 1 ? 1 : 0;
    this.bufferGuarantee = 0;
    // byte_count_send_ok reserved room for every packet of this message.
    if (!this.lower!.mcast(this.now, packet, g, this.emitOpts)) throw new Error("totempg: SRP queue refused a reserved packet");
  }

  /**
   * TOKEN_RECEIVED (`callback_token_received_fn`): send what waits in the packing buffer as
   * one packet (`fragmented` 0, carrying the pending continuation).
   */
  tokenReceived(): void {
    if (this.packedMsgCount === 0) return;
    if (this.lower === undefined || this.lower.avail() === 0) return;
    this.flushBuffer();
  }

  private flushBuffer(): void {
    if (this.packedMsgCount === 0) return;
    const continuation = this.fragmentContinuation;
    this.fragmentContinuation = 0;
    this.emit(0, continuation, this.fragmentSize, 0);
  }

  /**
   * Synchronisation finished: send what sync left in the packing buffer while still in the
   * sync-time queue, then let the SRP release application traffic (`totempg_trans_ack`).
   */
  transAck(): void {
    this.flushBuffer();
    this.lower?.transAck();
  }

  /** Messages waiting in the packing buffer (for tests and status). */
  get packedCount(): number {
    return this.packedMsgCount;
  }

  // ------------------------------------------------------------------ configuration changes

  waitingTransAck(waiting: boolean): void {
    this.waitingTrans = waiting;
    this.upper.waitingTransAck?.(waiting);
  }

  confchg(change: ConfigurationChange): void {
    this.members = new Set(change.members);
    for (const n of change.left) {
      this.assemblies.delete(n);
      this.assembliesTrans.delete(n);
    }
    if (change.type === "regular") this.atRegularConfiguration();
    this.upper.confchg(change);
  }

  /**
   * All-or-nothing at a regular configuration change: every receiver drops its incomplete
   * assemblies here, at the same point of the total order; the sender re-packs its unsent
   * traffic so the new configuration carries no continuation of an old-configuration message,
   * and re-sends whole the one message of its own that was cut (see the file comment).
   */
  private atRegularConfiguration(): void {
    const straddler = this.ownCutMessage();
    for (const set of [this.assemblies, this.assembliesTrans]) {
      for (const asm of set.values()) if (asm.size > 0 || asm.lastFragNum !== 0) this.stats.rx_dropped_at_confchg++;
      set.clear();
    }
    if (this.lower === undefined) return;
    const stream: PacketView[] = [];
    for (const t of this.lower.takeUnsent()) {
      try {
        const p = decodePgPacket(t.payload, true);
        stream.push({ pieces: p.pieces, fragmented: p.fragmented, continuation: p.continuation, guarantee: t.guarantee });
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        throw new Error("totempg: an own queued packet does not decode");
      }
    }
    if (this.packedMsgCount > 0) {
      stream.push({ pieces: this.bufferPieces(), fragmented: 0, continuation: this.fragmentContinuation, guarantee: this.bufferGuarantee });
    }
    this.resetBuffer();
    this.fragmentContinuation = 0;
    this.nextFragment = 1;
    this.bufferGuarantee = 0;
    const messages = wholeMessagesOf(stream);
    this.ownInFlight = [];
    this.emitOpts = { queue: "normal", force: true };
    try {
      if (straddler !== undefined) {
        this.stats.tx_resent++;
        this.packAgain(straddler.bytes, straddler.guarantee);
      }
      for (const m of messages) this.packAgain(m.bytes, m.guarantee);
      this.flushBuffer();
    } finally {
      this.emitOpts = undefined;
    }
  }

  private packAgain(bytes: Uint8Array, guarantee: 0 | 1): void {
    if (this.packMessage([bytes], guarantee)) this.ownInFlight.push({ bytes, guarantee, sync: false });
  }

  /**
   * One of our own multi-packet messages came back whole: forget it. It is looked up by
   * content, not taken as the oldest: sync-time messages overtake older normal traffic.
   */
  private ownDelivered(whole: Uint8Array): void {
    const list = this.ownInFlight;
    // Own messages come back in the order they were packed, bar sync-time ones: the oldest
    // is the match but for those (shift is O(1) on V8 arrays; a splice from the front of a
    // list the length of the send queue cost more than the rest of the delivery).
    if (list.length > 0 && sameBytes(list[0]!.bytes, whole)) {
      list.shift();
      return;
    }
    const i = list.findIndex((e) => sameBytes(e.bytes, whole));
    if (i >= 0) list.splice(i, 1);
  }

  /**
   * The message of our own that a configuration change cut (its first packets delivered, the
   * rest never sent), found by the bytes we assembled of it; undefined when there is none, or
   * when it was a sync-time message (sync messages of an old ring are worthless in the next).
   */
  private ownCutMessage(): InFlight | undefined {
    for (const set of [this.assemblies, this.assembliesTrans]) {
      const a = set.get(this.nodeId);
      if (a === undefined || a.size === 0) continue;
      const prefix = concatAll(a.parts, a.size);
      const hit = this.ownInFlight.find((e) => e.bytes.byteLength > prefix.byteLength && sameBytes(e.bytes.subarray(0, prefix.byteLength), prefix));
      if (hit !== undefined && !hit.sync) return hit;
    }
    return undefined;
  }

  // ------------------------------------------------------------------ receiving

  /**
   * `totempg_deliver_fn` (§5.4): reassemble and deliver whole messages in order. Parses the
   * packet in place (offsets, no per-piece views): this is the receive hot path. The checks
   * are those of `decodePgPacket`: a non-zero count, room for the length table, and lengths
   * that add up to the packet exactly.
   */
  deliver(nodeId: number, payload: Uint8Array, bigEndian: boolean): void {
    const b = payload;
    const len = b.byteLength;
    const le = !bigEndian;
    const count = len >= PG_HEADER ? u16(b, 6, le) : 0;
    const dataStart = PG_HEADER + 2 * count;
    let total = 0;
    if (count !== 0 && dataStart <= len) for (let k = 0; k < count; k++) total += u16(b, PG_HEADER + 2 * k, le);
    if (count === 0 || dataStart > len || dataStart + total !== len) {
      this.stats.rx_bad_packets++;
      return;
    }
    const fragmented = b[4]!;
    const continuation = b[5]!;
    const set = this.waitingTrans ? this.assembliesTrans : this.assemblies;
    let asm = set.get(nodeId);
    if (asm === undefined) {
      // Only members send in legitimate traffic (the SRP delivers within a configuration):
      // a forged header nodeid must not make assemblies without bound.
      const members = this.members;
      if (members !== undefined ? !members.has(nodeId) : set.size >= PROCESSOR_COUNT_MAX) {
        this.stats.rx_not_member++;
        return;
      }
      asm = newAssembly();
      set.set(nodeId, asm);
    }
    let start = 0;
    if (continuation === 0) {
      if (asm.size > 0 || asm.discarding) this.stats.rx_thrown_away++;
      clearParts(asm);
      asm.discarding = false;
    } else if (asm.discarding || continuation !== asm.lastFragNum) {
      // The first piece continues a message we cannot assemble: discard it.
      if (!asm.discarding) this.stats.rx_thrown_away++;
      clearParts(asm);
      if (count === 1 && fragmented !== 0) {
        asm.discarding = true;
        asm.lastFragNum = fragmented;
        return;
      }
      asm.discarding = false;
      start = 1;
    }
    const deliverable = fragmented !== 0 ? count - 1 : count;
    let off = dataStart;
    for (let i = 0; i < deliverable; i++) {
      const plen = u16(b, PG_HEADER + 2 * i, le);
      // A matched continuation (start 0, not discarding): the assembly's parts, possibly
      // none (empty tails are not kept), then this first piece.
      if (i === 0 && start === 0 && continuation !== 0) {
        const whole = concat(asm.parts, b.subarray(off, off + plen), asm.size);
        clearParts(asm);
        if (nodeId === this.nodeId) this.ownDelivered(whole);
        this.deliverWholeAt(nodeId, whole, 0, whole.byteLength, bigEndian);
      } else if (i >= start) {
        this.deliverWholeAt(nodeId, b, off, plen, bigEndian);
      }
      off += plen;
    }
    asm.lastFragNum = fragmented;
    if (fragmented === 0) {
      clearParts(asm);
      return;
    }
    const tailLen = u16(b, PG_HEADER + 2 * (count - 1), le);
    if (!(count === 1 && start === 0)) clearParts(asm);
    if (asm.size + tailLen > MESSAGE_SIZE_MAX) {
      clearParts(asm);
      asm.discarding = true;
      this.stats.rx_thrown_away++;
      return;
    }
    if (tailLen === 0) return; // nothing to keep: the part list grows only with bytes
    asm.parts.push(b.slice(len - tailLen, len));
    asm.size += tailLen;
  }

  /**
   * One whole application message at `b[off, off+len)`: its group header (§5.5) is checked
   * like `decodeGroupMessage` (≤ 32 groups, names inside the message) and parsed in place;
   * only the body gets a view.
   */
  private deliverWholeAt(nodeId: number, b: Uint8Array, off: number, len: number, bigEndian: boolean): void {
    const le = !bigEndian;
    const end = off + len;
    const groups = len >= 2 ? u16(b, off, le) : -1;
    const namesAt = off + 2 + 2 * groups;
    if (groups < 0 || groups > GROUP_COUNT_MAX || namesAt > end) {
      this.stats.rx_bad_messages++;
      return;
    }
    let namesLen = 0;
    for (let g = 0; g < groups; g++) namesLen += u16(b, off + 2 + 2 * g, le);
    const bodyAt = namesAt + namesLen;
    if (bodyAt > end) {
      this.stats.rx_bad_messages++;
      return;
    }
    this.stats.rx_messages++;
    const body = b.subarray(bodyAt, end);
    if (groups === 1) {
      this.upper.deliver(nodeId, nameAt(b, namesAt, namesLen), body, bigEndian);
      return;
    }
    // corosync delivers once to every group instance that joined any listed name.
    const seen = new Set<string>();
    let p = namesAt;
    for (let g = 0; g < groups; g++) {
      const n = u16(b, off + 2 + 2 * g, le);
      const name = nameAt(b, p, n);
      p += n;
      if (seen.has(name)) continue;
      seen.add(name);
      this.upper.deliver(nodeId, name, body, bigEndian);
    }
  }
}

/**
 * Rebuild the whole messages of an own packet stream for the re-pack: pieces that continue a
 * message begun before the stream (the cut message) are skipped.
 */
function wholeMessagesOf(stream: readonly PacketView[]): Array<{ bytes: Uint8Array; guarantee: 0 | 1 }> {
  const out: Array<{ bytes: Uint8Array; guarantee: 0 | 1 }> = [];
  let parts: Uint8Array[] = [];
  let size = 0;
  for (const p of stream) {
    const n = p.pieces.length;
    for (let i = 0; i < n; i++) {
      const piece = p.pieces[i]!;
      const continues = i === n - 1 && p.fragmented !== 0;
      if (i === 0 && p.continuation !== 0 && parts.length === 0) continue; // the cut message
      if (i > 0 || p.continuation === 0) {
        parts = [];
        size = 0;
      }
      if (continues) {
        parts.push(piece);
        size += piece.byteLength;
      } else {
        out.push({ bytes: concat(parts, piece, size), guarantee: p.guarantee });
        parts = [];
        size = 0;
      }
    }
  }
  return out;
}
