/**
 * Codecs for the six Totem SRP messages of corosync 3.x on udp/udpu (totem-spec §3).
 *
 * Decoding follows style.md "Bytes are hostile": header checks (§3.9), then the frame length
 * against the type's fixed size and limits, then every count against its named limit
 * (`LIMITS`) *before* it is multiplied, then the exact length (trailing bytes are rejected),
 * and only then the fields are read: through the bounds-checked `Reader` for the membership
 * messages, directly (bytes.ts, no DataView) for the hot ORF token and MCAST, whose every
 * read lies inside the length already checked. Decoders throw nothing but `DecodeError`;
 * `tryDecodeTotem` returns it instead.
 *
 * Byte order: a sender writes its native order and the magic tells which (§1.1). We decode
 * either and always emit little-endian, with one exception: an MCAST decoded from a
 * big-endian sender carries a big-endian payload, so its header is re-encoded big-endian too
 * (see `Mcast.bigEndian`).
 *
 * Exact re-encode: `encodeTotem(decodeTotem(b))` gives back `b` for every canonical frame —
 * little-endian, `encapsulated` 0 outside MCAST — including the uninitialised
 * `target_nodeid` that corosync leaves on the wire (kept as `targetNodeId`).
 */
import { assert } from "../../core/assert.js";
import { DecodeError } from "../errors.js";
import { Reader } from "../reader.js";
import { Writer } from "../writer.js";
import { allocFrame, readI32, readU32, readU64, view, writeU32LE, writeU64LE } from "./bytes.js";
import { checkHeader, HEADER } from "./header.js";
import {
  Encapsulation,
  LIMITS,
  MessageType,
  SIZES,
  TOTEM_MAGIC,
  TOTEM_VERSION,
  type CommitMembEntry,
  type CommitToken,
  type HoldCancel,
  type Mcast,
  type MembJoin,
  type MergeDetect,
  type OrfToken,
  type RingId,
  type RtrItem,
  type TotemMessage,
} from "./types.js";

export { describeForeignMagic, peekHeader, type PeekedHeader } from "./header.js";

/** Result of `tryDecodeTotem`: the driver drops and counts a frame by `error.code`. */
export type DecodeResult = { ok: true; msg: TotemMessage } | { ok: false; error: DecodeError };

/** The fields of an MCAST apart from its discriminant and payload (for `encodeMcast`). */
export type McastFields = Omit<Mcast, "type" | "payload">;

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/**
 * Decode one Totem datagram (totem-spec §3). An MCAST's `payload` is a view into `bytes`
 * (no copy): keep `bytes` unmodified while the message lives.
 * @throws DecodeError (only) — see the per-type rules in the decoders below.
 */
export function decodeTotem(bytes: Uint8Array): TotemMessage {
  const littleEndian = checkHeader(bytes);
  switch (bytes[HEADER.type]) {
    case MessageType.ORF_TOKEN:
      return decodeOrfToken(bytes, littleEndian);
    case MessageType.MCAST:
      return decodeMcast(bytes, littleEndian);
    case MessageType.MEMB_MERGE_DETECT:
      return decodeMergeDetect(bytes, littleEndian);
    case MessageType.MEMB_JOIN:
      return decodeMembJoin(bytes, littleEndian);
    case MessageType.MEMB_COMMIT_TOKEN:
      return decodeCommitToken(bytes, littleEndian);
    default: // TOKEN_HOLD_CANCEL: checkHeader rejected every type above it
      return decodeHoldCancel(bytes, littleEndian);
  }
}

/**
 * `decodeTotem` that returns a bad frame's `DecodeError` instead of throwing it, so nothing
 * from the network throws past the wire layer. Any other exception is a bug and propagates.
 */
export function tryDecodeTotem(bytes: Uint8Array): DecodeResult {
  try {
    return { ok: true, msg: decodeTotem(bytes) };
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, error: e };
    throw e;
  }
}

/**
 * The complete old-ring MCAST inside a recovery copy (`encapsulated` = 1, totem-spec §3.4,
 * §4.6). The inner frame keeps its original sender's byte order, which may differ from the
 * outer one's. Its payload is a view into the outer payload.
 * @throws DecodeError BAD_VALUE if `outer` is not encapsulated or the inner frame is not a
 *   normal MCAST; any decode error of the inner frame.
 */
export function decodeEncapsulated(outer: Mcast): Mcast {
  if (outer.encapsulated !== Encapsulation.ENCAPSULATED) {
    throw new DecodeError("BAD_VALUE", "mcast.header.encapsulated", "not an encapsulated mcast");
  }
  checkInnerMcast(outer.payload);
  return decodeMcast(outer.payload, checkHeader(outer.payload));
}

/** Reject a frame whose length differs from the one its fields imply. */
function exactLength(bytes: Uint8Array, expected: number, what: string): void {
  const len = bytes.byteLength;
  if (len < expected) throw new DecodeError("TRUNCATED", what, `${len} bytes, ${what} needs ${expected}`);
  if (len > expected) throw new DecodeError("TRAILING_BYTES", what, `${len - expected} trailing bytes after ${what}`);
}

function atLeast(bytes: Uint8Array, min: number, what: string): void {
  if (bytes.byteLength < min) throw new DecodeError("TRUNCATED", what, `${bytes.byteLength} bytes, ${what} needs ${min}`);
}

function atMost(bytes: Uint8Array, max: number, what: string): void {
  if (bytes.byteLength > max) throw new DecodeError("TOO_LONG", what, `${bytes.byteLength} bytes, ${what} allows ${max}`);
}

/**
 * A count read off the wire, checked against its named limit before any arithmetic.
 * `value` is as read: signed for corosync's `int` counts (negative → BAD_VALUE).
 */
function boundedCount(value: number, limit: number, field: string): number {
  if (value < 0) throw new DecodeError("BAD_VALUE", field, `${field} = ${value} is negative`);
  if (value > limit) throw new DecodeError("COUNT_LIMIT", field, `${field} = ${value} exceeds limit ${limit}`);
  return value;
}

/** Offsets of the counts that are checked before the body is read (totem-spec §3.3–§3.7). */
const OFFSETS = {
  orfRtrListEntries: 53,
  joinProcListEntries: 17,
  joinFailedListEntries: 21,
  commitMembIndex: 33,
  commitAddrEntries: 37,
} as const;

/** A reader positioned at the header's `nodeid` (the only header fields still to read). */
function bodyReader(bytes: Uint8Array, littleEndian: boolean): Reader {
  const r = new Reader(bytes, littleEndian);
  r.offset = HEADER.nodeId;
  return r;
}

function readRingId(r: Reader, field: string): RingId {
  const rep = r.u32(field);
  return { rep, seq: r.u64(field) };
}

/**
 * ORF token (totem-spec §3.3): 57 + 16·n bytes, n = `rtr_list_entries` (int) in 0..30, the
 * whole frame ≤ 1500 bytes (corosync 3.1.10's `check_orf_token_sanity`, stricter than 3.1.7).
 */
function decodeOrfToken(bytes: Uint8Array, littleEndian: boolean): OrfToken {
  const le = littleEndian;
  atLeast(bytes, SIZES.orfTokenFixed, "orf_token");
  atMost(bytes, LIMITS.orfTokenBytesMax, "orf_token");
  const n = boundedCount(readI32(bytes, OFFSETS.orfRtrListEntries, le), LIMITS.rtrEntriesMax, "orf_token.rtr_list_entries");
  exactLength(bytes, SIZES.orfTokenFixed + SIZES.rtrItem * n, "orf_token");
  // Every read below is inside the length just checked (hot path: direct reads, bytes.ts).
  const rtrList: RtrItem[] = new Array<RtrItem>(n);
  for (let i = 0, o = SIZES.orfTokenFixed; i < n; i++, o += SIZES.rtrItem) {
    rtrList[i] = { ringId: ringIdAt(bytes, o, le), seq: readU32(bytes, o + 12, le) };
  }
  return {
    type: MessageType.ORF_TOKEN,
    nodeId: readU32(bytes, HEADER.nodeId, le),
    targetNodeId: readU32(bytes, HEADER.targetNodeId, le),
    seq: readU32(bytes, 13, le),
    tokenSeq: readU32(bytes, 17, le),
    aru: readU32(bytes, 21, le),
    aruAddr: readU32(bytes, 25, le),
    ringId: ringIdAt(bytes, 29, le),
    backlog: readU32(bytes, 41, le),
    fcc: readU32(bytes, 45, le),
    retransFlg: readI32(bytes, 49, le),
    rtrList,
  };
}

/** A ring id at `o`, unchecked (the caller checked the frame's length). */
function ringIdAt(bytes: Uint8Array, o: number, le: boolean): RingId {
  return { rep: readU32(bytes, o, le), seq: readU64(bytes, o + 4, le) };
}

/**
 * MCAST (totem-spec §3.4): a 45-byte header and a payload, at most `FRAME_SIZE_MAX` bytes
 * in all (corosync asserts — aborts — past that; we drop). `encapsulated` must be 1 or 2;
 * the payload of a recovery copy (1) must itself look like a normal MCAST.
 */
function decodeMcast(bytes: Uint8Array, littleEndian: boolean): Mcast {
  atLeast(bytes, SIZES.mcastHeader, "mcast");
  atMost(bytes, LIMITS.mcastBytesMax, "mcast");
  const encapsulated = bytes[HEADER.encapsulated]!;
  if (encapsulated !== Encapsulation.ENCAPSULATED && encapsulated !== Encapsulation.NOT_ENCAPSULATED) {
    throw new DecodeError("BAD_VALUE", "mcast.header.encapsulated", `encapsulated = ${encapsulated}, not 1 or 2`);
  }
  const payload = view(bytes, SIZES.mcastHeader);
  if (encapsulated === Encapsulation.ENCAPSULATED) checkInnerMcast(payload);
  // The 45-byte header is inside the length just checked (hot path: direct reads, bytes.ts).
  const le = littleEndian;
  const msg: Mcast = {
    type: MessageType.MCAST,
    nodeId: readU32(bytes, HEADER.nodeId, le),
    targetNodeId: readU32(bytes, HEADER.targetNodeId, le),
    encapsulated,
    systemFrom: readU32(bytes, 13, le),
    seq: readU32(bytes, 17, le),
    thisSeqno: readI32(bytes, 21, le),
    ringId: ringIdAt(bytes, 25, le),
    nodeIdField: readU32(bytes, 37, le),
    guarantee: readI32(bytes, 41, le),
    payload,
  };
  if (!littleEndian) msg.bigEndian = true;
  return msg;
}

/**
 * The inner frame of a recovery copy: a valid header (in its own byte order) of a normal
 * (not itself encapsulated) MCAST with a full 45-byte header. Corosync unwraps it without
 * any check (`memb_state_operational_enter`); we refuse a short or nested one up front.
 */
function checkInnerMcast(payload: Uint8Array): void {
  checkHeader(payload);
  if (payload[HEADER.type] !== MessageType.MCAST) {
    throw new DecodeError("BAD_VALUE", "mcast.encapsulated.type", "an encapsulated frame must be an mcast");
  }
  if (payload[HEADER.encapsulated] !== Encapsulation.NOT_ENCAPSULATED) {
    throw new DecodeError("BAD_VALUE", "mcast.encapsulated.encapsulated", "an encapsulated mcast must be a normal one");
  }
  atLeast(payload, SIZES.mcastHeader, "mcast.encapsulated");
}

/** MEMB_MERGE_DETECT (totem-spec §3.6): exactly 29 bytes. */
function decodeMergeDetect(bytes: Uint8Array, littleEndian: boolean): MergeDetect {
  exactLength(bytes, SIZES.mergeDetect, "memb_merge_detect");
  const r = bodyReader(bytes, littleEndian);
  return {
    type: MessageType.MEMB_MERGE_DETECT,
    nodeId: r.u32("memb_merge_detect.header.nodeid"),
    targetNodeId: r.u32("memb_merge_detect.header.target_nodeid"),
    systemFrom: r.u32("memb_merge_detect.system_from"),
    ringId: readRingId(r, "memb_merge_detect.ring_id"),
  };
}

/**
 * MEMB_JOIN / LEAVE (totem-spec §3.5): 33 + 4·(p+f) bytes. Both counts (u32) are bounded by
 * `PROCESSOR_COUNT_MAX` *before* they are added, so a pair that wraps corosync's 32-bit
 * `(p + f) * 4` cannot slip through (3.1.7 and 3.1.10 check only the wrapped sum; the
 * per-count limit came later, on corosync's main).
 */
function decodeMembJoin(bytes: Uint8Array, littleEndian: boolean): MembJoin {
  atLeast(bytes, SIZES.membJoinFixed, "memb_join");
  const r = bodyReader(bytes, littleEndian);
  const rawP = r.view.getUint32(OFFSETS.joinProcListEntries, littleEndian);
  const rawF = r.view.getUint32(OFFSETS.joinFailedListEntries, littleEndian);
  const p = boundedCount(rawP, LIMITS.processorCountMax, "memb_join.proc_list_entries");
  const f = boundedCount(rawF, LIMITS.processorCountMax, "memb_join.failed_list_entries");
  exactLength(bytes, SIZES.membJoinFixed + 4 * (p + f), "memb_join");

  const nodeId = r.u32("memb_join.header.nodeid");
  const targetNodeId = r.u32("memb_join.header.target_nodeid");
  const systemFrom = r.u32("memb_join.system_from");
  r.skip(8, "memb_join.list_entries");
  const ringSeq = r.u64("memb_join.ring_seq");
  const procList = readNodeIds(r, p, "memb_join.proc_list");
  const failedList = readNodeIds(r, f, "memb_join.failed_list");
  r.end("memb_join");
  return { type: MessageType.MEMB_JOIN, nodeId, targetNodeId, systemFrom, ringSeq, procList, failedList };
}

function readNodeIds(r: Reader, n: number, field: string): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = r.u32(field);
  return out;
}

/**
 * MEMB_COMMIT_TOKEN (totem-spec §3.7): 41 + 28·n bytes, n = `addr_entries` (int) in 0..384,
 * `memb_index` (int) in 0..n (n once every member has filled its entry). A token shorter than
 * its member count implies is TRUNCATED (corosync up to 3.1.10 even returned "OK" from its
 * checker for one shorter than the fixed part).
 * Member entries are read in the sender's order even when unfilled (corosync converts only
 * entries with `ring_id.rep != 0`; an unfilled entry is all zeros, so that is the same).
 */
function decodeCommitToken(bytes: Uint8Array, littleEndian: boolean): CommitToken {
  atLeast(bytes, SIZES.commitTokenFixed, "memb_commit_token");
  const r = bodyReader(bytes, littleEndian);
  const rawN = r.view.getInt32(OFFSETS.commitAddrEntries, littleEndian);
  const n = boundedCount(rawN, LIMITS.processorCountMax, "memb_commit_token.addr_entries");
  const membIndex = r.view.getInt32(OFFSETS.commitMembIndex, littleEndian);
  if (membIndex < 0 || membIndex > n) {
    throw new DecodeError("BAD_VALUE", "memb_commit_token.memb_index", `memb_index = ${membIndex}, not in 0..${n}`);
  }
  exactLength(bytes, SIZES.commitTokenFixed + (4 + SIZES.commitMembEntry) * n, "memb_commit_token");

  const nodeId = r.u32("memb_commit_token.header.nodeid");
  const targetNodeId = r.u32("memb_commit_token.header.target_nodeid");
  const tokenSeq = r.u32("memb_commit_token.token_seq");
  const ringId = readRingId(r, "memb_commit_token.ring_id");
  const retransFlg = r.u32("memb_commit_token.retrans_flg");
  r.skip(8, "memb_commit_token.memb_index");
  const addr = readNodeIds(r, n, "memb_commit_token.addr");
  const membList = new Array<CommitMembEntry>(n);
  for (let i = 0; i < n; i++) membList[i] = readCommitMembEntry(r);
  r.end("memb_commit_token");
  return { type: MessageType.MEMB_COMMIT_TOKEN, nodeId, targetNodeId, tokenSeq, ringId, retransFlg, membIndex, addr, membList };
}

function readCommitMembEntry(r: Reader): CommitMembEntry {
  const ringId = readRingId(r, "memb_commit_token.memb_list.ring_id");
  return {
    ringId,
    aru: r.u32("memb_commit_token.memb_list.aru"),
    highDelivered: r.u32("memb_commit_token.memb_list.high_delivered"),
    receivedFlg: r.u32("memb_commit_token.memb_list.received_flg"),
  };
}

/**
 * TOKEN_HOLD_CANCEL (totem-spec §3.8): exactly 25 bytes. Corosync compares its ring id raw,
 * without endian conversion; we decode it in the sender's order like every other message.
 */
function decodeHoldCancel(bytes: Uint8Array, littleEndian: boolean): HoldCancel {
  exactLength(bytes, SIZES.holdCancel, "token_hold_cancel");
  const r = bodyReader(bytes, littleEndian);
  return {
    type: MessageType.TOKEN_HOLD_CANCEL,
    nodeId: r.u32("token_hold_cancel.header.nodeid"),
    targetNodeId: r.u32("token_hold_cancel.header.target_nodeid"),
    ringId: readRingId(r, "token_hold_cancel.ring_id"),
  };
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/**
 * Encode any Totem message: little-endian (except a big-endian-sourced MCAST, see
 * `Mcast.bigEndian`), exact size, one allocation. Limits are preconditions: a message that
 * would break one (e.g. 31 rtr entries, which a 3.1.7 peer would read past its buffer) is a
 * bug in the caller and fails an assertion. The result may be a view into a shared slab
 * (bytes.ts `allocFrame`): use it with its `byteOffset`, never as a whole `.buffer`.
 */
export function encodeTotem(msg: TotemMessage): Uint8Array {
  switch (msg.type) {
    case MessageType.ORF_TOKEN:
      return encodeOrfToken(msg);
    case MessageType.MCAST:
      return encodeMcast(msg, msg.payload);
    case MessageType.MEMB_MERGE_DETECT:
      return encodeMergeDetect(msg);
    case MessageType.MEMB_JOIN:
      return encodeMembJoin(msg);
    case MessageType.MEMB_COMMIT_TOKEN:
      return encodeCommitToken(msg);
    case MessageType.TOKEN_HOLD_CANCEL:
      return encodeHoldCancel(msg);
  }
}

/** The exact encoded size of `msg` (what `encodeTotem` allocates). */
export function encodedSize(msg: TotemMessage): number {
  switch (msg.type) {
    case MessageType.ORF_TOKEN:
      return SIZES.orfTokenFixed + SIZES.rtrItem * msg.rtrList.length;
    case MessageType.MCAST:
      return SIZES.mcastHeader + msg.payload.byteLength;
    case MessageType.MEMB_MERGE_DETECT:
      return SIZES.mergeDetect;
    case MessageType.MEMB_JOIN:
      return SIZES.membJoinFixed + 4 * (msg.procList.length + msg.failedList.length);
    case MessageType.MEMB_COMMIT_TOKEN:
      return SIZES.commitTokenFixed + (4 + SIZES.commitMembEntry) * msg.addr.length;
    case MessageType.TOKEN_HOLD_CANCEL:
      return SIZES.holdCancel;
  }
}

/** The common header (totem-spec §3.1); `encapsulated` is 0 outside MCAST. */
function writeHeader(w: Writer, type: MessageType, encapsulated: number, nodeId: number, targetNodeId: number): void {
  w.u16(TOTEM_MAGIC).u8(TOTEM_VERSION).u8(type).u8(encapsulated).u32(nodeId).u32(targetNodeId);
}

/** The common header at offset 0 of a hot-path frame (little-endian magic bytes `70 C0`). */
function writeHeaderAt(b: Uint8Array, type: MessageType, encapsulated: number, nodeId: number, targetNodeId: number): void {
  b[0] = TOTEM_MAGIC & 0xff;
  b[1] = TOTEM_MAGIC >>> 8;
  b[2] = TOTEM_VERSION;
  b[3] = type;
  b[4] = encapsulated;
  writeU32LE(b, HEADER.nodeId, nodeId);
  writeU32LE(b, HEADER.targetNodeId, targetNodeId);
}

function writeRingId(w: Writer, ringId: RingId): void {
  w.u32(ringId.rep).u64(ringId.seq);
}

function writeRingIdAt(b: Uint8Array, o: number, ringId: RingId): void {
  writeU32LE(b, o, ringId.rep);
  writeU64LE(b, o + 4, ringId.seq);
}

/** ORF token (totem-spec §3.3). Hot path: written directly into a slab frame (bytes.ts). */
export function encodeOrfToken(msg: Omit<OrfToken, "type">): Uint8Array {
  const n = msg.rtrList.length;
  assert(n <= LIMITS.rtrEntriesMax, "orf_token: more than RETRANSMIT_ENTRIES_MAX rtr entries");
  const b = allocFrame(SIZES.orfTokenFixed + SIZES.rtrItem * n);
  writeHeaderAt(b, MessageType.ORF_TOKEN, 0, msg.nodeId, msg.targetNodeId);
  writeU32LE(b, 13, msg.seq);
  writeU32LE(b, 17, msg.tokenSeq);
  writeU32LE(b, 21, msg.aru);
  writeU32LE(b, 25, msg.aruAddr);
  writeRingIdAt(b, 29, msg.ringId);
  writeU32LE(b, 41, msg.backlog);
  writeU32LE(b, 45, msg.fcc);
  writeU32LE(b, 49, msg.retransFlg);
  writeU32LE(b, 53, n);
  for (let i = 0, o = SIZES.orfTokenFixed; i < n; i++, o += SIZES.rtrItem) {
    const item = msg.rtrList[i]!;
    writeRingIdAt(b, o, item.ringId);
    writeU32LE(b, o + 12, item.seq);
  }
  return b;
}

/**
 * MCAST (totem-spec §3.4): the 45-byte header for `fields` followed by a copy of `payload`,
 * in one (slab) allocation. The hot send path.
 */
export function encodeMcast(fields: McastFields, payload: Uint8Array): Uint8Array {
  const b = allocFrame(SIZES.mcastHeader + payload.byteLength);
  writeMcastHeader(b, fields, payload.byteLength);
  b.set(payload, SIZES.mcastHeader);
  if (fields.bigEndian === true) swapMcastHeader(b);
  return b;
}

/**
 * Write the 45-byte MCAST header (little-endian) at the start of `frame`, for encoders that
 * build the payload in place behind it (see `encodePgMcast`). `payloadLength` is checked
 * against `FRAME_SIZE_MAX` since corosync aborts on a longer mcast.
 */
export function writeMcastHeader(frame: Uint8Array, fields: McastFields, payloadLength: number): void {
  // Static messages: a template literal would be built on every call of this hot path.
  assert(SIZES.mcastHeader + payloadLength <= LIMITS.mcastBytesMax, "mcast: longer than FRAME_SIZE_MAX");
  const encapsulated = fields.encapsulated;
  assert(encapsulated === 1 || encapsulated === 2, "mcast: encapsulated must be 1 or 2");
  assert(frame.byteLength >= SIZES.mcastHeader + payloadLength, "mcast: frame too small");
  writeHeaderAt(frame, MessageType.MCAST, encapsulated, fields.nodeId, fields.targetNodeId);
  writeU32LE(frame, 13, fields.systemFrom);
  writeU32LE(frame, 17, fields.seq);
  writeU32LE(frame, 21, fields.thisSeqno);
  writeRingIdAt(frame, 25, fields.ringId);
  writeU32LE(frame, 37, fields.nodeIdField);
  writeU32LE(frame, 41, fields.guarantee);
}

/** Offsets of the multi-byte fields of the MCAST header, with their widths. */
const MCAST_HEADER_FIELDS: ReadonlyArray<readonly [offset: number, width: number]> = [
  [HEADER.magic, 2],
  [HEADER.nodeId, 4],
  [HEADER.targetNodeId, 4],
  [13, 4], // system_from
  [17, 4], // seq
  [21, 4], // this_seqno
  [25, 4], // ring_id.rep
  [29, 8], // ring_id.seq
  [37, 4], // node_id
  [41, 4], // guarantee
];

/** Byte-swap every field of a 45-byte MCAST header in place (LE ⇄ BE). */
function swapMcastHeader(bytes: Uint8Array): void {
  for (const [offset, width] of MCAST_HEADER_FIELDS) bytes.subarray(offset, offset + width).reverse();
}

/** MEMB_MERGE_DETECT (totem-spec §3.6). */
export function encodeMergeDetect(msg: Omit<MergeDetect, "type">): Uint8Array {
  const w = new Writer(SIZES.mergeDetect);
  writeHeader(w, MessageType.MEMB_MERGE_DETECT, 0, msg.nodeId, msg.targetNodeId);
  w.u32(msg.systemFrom);
  writeRingId(w, msg.ringId);
  return w.finish();
}

/** MEMB_JOIN / LEAVE (totem-spec §3.5). */
export function encodeMembJoin(msg: Omit<MembJoin, "type">): Uint8Array {
  const p = msg.procList.length;
  const f = msg.failedList.length;
  assert(p <= LIMITS.processorCountMax && f <= LIMITS.processorCountMax, `memb_join: list lengths ${p}/${f}`);
  const w = new Writer(SIZES.membJoinFixed + 4 * (p + f));
  writeHeader(w, MessageType.MEMB_JOIN, 0, msg.nodeId, msg.targetNodeId);
  w.u32(msg.systemFrom).u32(p).u32(f).u64(msg.ringSeq);
  for (const id of msg.procList) w.u32(id);
  for (const id of msg.failedList) w.u32(id);
  return w.finish();
}

/** MEMB_COMMIT_TOKEN (totem-spec §3.7). */
export function encodeCommitToken(msg: Omit<CommitToken, "type">): Uint8Array {
  const n = msg.addr.length;
  assert(n <= LIMITS.processorCountMax, `memb_commit_token: ${n} members`);
  assert(msg.membList.length === n, "memb_commit_token: addr and memb_list lengths differ");
  assert(msg.membIndex >= 0 && msg.membIndex <= n, `memb_commit_token: memb_index ${msg.membIndex} of ${n}`);
  const w = new Writer(SIZES.commitTokenFixed + (4 + SIZES.commitMembEntry) * n);
  writeHeader(w, MessageType.MEMB_COMMIT_TOKEN, 0, msg.nodeId, msg.targetNodeId);
  w.u32(msg.tokenSeq);
  writeRingId(w, msg.ringId);
  w.u32(msg.retransFlg).i32(msg.membIndex).i32(n);
  for (const id of msg.addr) w.u32(id);
  for (const e of msg.membList) {
    writeRingId(w, e.ringId);
    w.u32(e.aru).u32(e.highDelivered).u32(e.receivedFlg);
  }
  return w.finish();
}

/** TOKEN_HOLD_CANCEL (totem-spec §3.8). */
export function encodeHoldCancel(msg: Omit<HoldCancel, "type">): Uint8Array {
  const w = new Writer(SIZES.holdCancel);
  writeHeader(w, MessageType.TOKEN_HOLD_CANCEL, 0, msg.nodeId, msg.targetNodeId);
  writeRingId(w, msg.ringId);
  return w.finish();
}
