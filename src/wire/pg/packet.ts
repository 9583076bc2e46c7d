/**
 * The totempg packet: the payload of every normal Totem MCAST (totem-spec §5.1). It packs
 * several application messages ("pieces") into one MCAST; the last piece may be the start
 * of a message continued in the sender's next packet, and the first piece may be such a
 * continuation (§5.2, §5.4). Reassembly is the pg core's job; this file only frames.
 *
 * Layout, in the sender's byte order (the MCAST's, §1.1):
 * `i16 version (0) | i16 type (0) | u8 fragmented | u8 continuation | u16 msg_count |
 *  u16 msg_len[msg_count] | pieces`.
 *
 * Pure: no node modules, no clocks (style.md "Architecture").
 */
import { assert } from "../../core/assert.js";
import { DecodeError } from "../errors.js";
import { writeMcastHeader, type McastFields } from "../totem/codec.js";
import { allocFrame, readI16, readU16, view, writeU16LE } from "../totem/bytes.js";
import { SIZES } from "../totem/types.js";

export {
  decodeGroupMessage,
  encodeGroupHeader,
  encodeGroupMessage,
  groupMatches,
  GROUP_A,
  GROUP_HEADER_A,
  GROUP_HEADER_SYNC,
  GROUP_SYNC,
  GROUP_LIMITS,
  type GroupMessage,
  type GroupName,
} from "./groups.js";

/** Size of `struct totempg_mcast` (version, type, fragmented, continuation, msg_count). */
export const PG_HEADER_SIZE = 8;

/** Limits on totempg framing. */
export const PG_LIMITS = {
  /**
   * Most pieces in one packet: `msg_count` is a u16. A frame can hold at most
   * `(len − 8) / 2` length words, which the decoder checks too.
   */
  msgCountMax: 0xffff,
  /** Longest piece: `msg_len[i]` is a u16. */
  pieceBytesMax: 0xffff,
} as const;

/** A decoded totempg packet; `pieces` are views into the MCAST payload (no copies). */
export interface PgPacket {
  /** `header.version`: 0 from every corosync; receivers ignore it. */
  version: number;
  /** `header.type`: 0 from every corosync; receivers ignore it. */
  type: number;
  /** 0 if the last piece is a complete message, else the fragment id it continues under. */
  fragmented: number;
  /** 0 if the first piece starts a message, else the `fragmented` id it continues. */
  continuation: number;
  pieces: Uint8Array[];
}

/**
 * Decode a totempg packet (totem-spec §5.1) with corosync's receive rules
 * (`totempg_deliver_fn`): room for the length table, and `len == 8 + 2·count + Σ lens`
 * exactly. `littleEndian` is the carrying MCAST's byte order (`!mcast.bigEndian`).
 * @throws DecodeError TRUNCATED (shorter than the header), BAD_VALUE (`msg_count` 0, which
 *   no corosync sends and its assembly code mishandles), COUNT_LIMIT (`msg_count` above what
 *   the frame can hold), BAD_LENGTHS (lengths that do not add up to the frame).
 */
export function decodePgPacket(bytes: Uint8Array, littleEndian = true): PgPacket {
  const le = littleEndian;
  const len = bytes.byteLength;
  if (len < PG_HEADER_SIZE) throw new DecodeError("TRUNCATED", "totempg_mcast", `${len} bytes, header needs ${PG_HEADER_SIZE}`);
  const count = readU16(bytes, 6, le);
  if (count === 0) throw new DecodeError("BAD_VALUE", "totempg_mcast.msg_count", "a totempg packet with no messages");
  const limit = Math.min(PG_LIMITS.msgCountMax, (len - PG_HEADER_SIZE) >>> 1);
  if (count > limit) {
    throw new DecodeError("COUNT_LIMIT", "totempg_mcast.msg_count", `msg_count = ${count}, the frame holds at most ${limit}`);
  }
  // The length table is inside the frame (count ≤ limit); the pieces must fill the rest exactly.
  const dataAt = PG_HEADER_SIZE + 2 * count;
  let total = 0;
  for (let i = 0; i < count; i++) total += readU16(bytes, PG_HEADER_SIZE + 2 * i, le);
  if (total !== len - dataAt) {
    throw new DecodeError("BAD_LENGTHS", "totempg_mcast.msg_len", `pieces add up to ${total} bytes, the packet has ${len - dataAt}`);
  }
  const pieces = new Array<Uint8Array>(count);
  for (let i = 0, at = dataAt; i < count; i++) {
    const pieceLen = readU16(bytes, PG_HEADER_SIZE + 2 * i, le);
    pieces[i] = view(bytes, at, at + pieceLen);
    at += pieceLen;
  }
  return {
    version: readI16(bytes, 0, le),
    type: readI16(bytes, 2, le),
    fragmented: bytes[4]!,
    continuation: bytes[5]!,
    pieces,
  };
}

/**
 * Whether piece `index` of `packet` is a whole application message: not the continuation
 * of an earlier fragment (first piece with `continuation` ≠ 0) and not a fragment continued
 * later (last piece with `fragmented` ≠ 0). totem-spec §5.4.
 */
export function isWholePiece(packet: PgPacket, index: number): boolean {
  if (index === 0 && packet.continuation !== 0) return false;
  if (index === packet.pieces.length - 1 && packet.fragmented !== 0) return false;
  return true;
}

/** Bytes a totempg packet of these pieces takes. */
export function pgPacketSize(pieces: readonly Uint8Array[]): number {
  let size = PG_HEADER_SIZE + 2 * pieces.length;
  for (const p of pieces) size += p.byteLength;
  return size;
}

/**
 * Write a totempg packet (little-endian, version and type 0) into `frame` at `offset`;
 * returns the offset after it. Preconditions (asserted): 1..65535 pieces of at most 65535
 * bytes each, u8 fragment ids, room in `frame`.
 */
export function writePgPacket(
  frame: Uint8Array,
  offset: number,
  fragmented: number,
  continuation: number,
  pieces: readonly Uint8Array[],
): number {
  assert(frame.byteLength - offset >= pgPacketSize(pieces), "totempg: frame too small");
  return writePgPacketInto(frame, offset, fragmented, continuation, pieces);
}

/** `writePgPacket` into a frame already sized by `pgPacketSize`. */
function writePgPacketInto(
  frame: Uint8Array,
  offset: number,
  fragmented: number,
  continuation: number,
  pieces: readonly Uint8Array[],
): number {
  const count = pieces.length;
  // Static messages: a template literal would be built on every call of this hot path.
  assert(count >= 1 && count <= PG_LIMITS.msgCountMax, "totempg: 1..65535 pieces");
  assert((fragmented & 0xff) === fragmented && (continuation & 0xff) === continuation, "totempg: fragment ids are u8");
  writeU16LE(frame, offset, 0); // header.version
  writeU16LE(frame, offset + 2, 0); // header.type
  frame[offset + 4] = fragmented;
  frame[offset + 5] = continuation;
  writeU16LE(frame, offset + 6, count);
  let at = offset + PG_HEADER_SIZE + 2 * count;
  for (let i = 0; i < count; i++) {
    const p = pieces[i]!;
    assert(p.byteLength <= PG_LIMITS.pieceBytesMax, "totempg: a piece longer than 65535 bytes");
    writeU16LE(frame, offset + PG_HEADER_SIZE + 2 * i, p.byteLength);
    frame.set(p, at);
    at += p.byteLength;
  }
  return at;
}

/** Encode a totempg packet (totem-spec §5.1): one allocation, little-endian. */
export function encodePgPacket(fragmented: number, continuation: number, pieces: readonly Uint8Array[]): Uint8Array {
  const frame = allocFrame(pgPacketSize(pieces));
  writePgPacketInto(frame, 0, fragmented, continuation, pieces);
  return frame;
}

/**
 * Encode a whole MCAST frame carrying a totempg packet in one allocation (the send path:
 * no intermediate packet buffer). Equal to `encodeMcast(fields, encodePgPacket(...))`.
 * `fields.bigEndian` must be unset: we only originate little-endian frames.
 */
export function encodePgMcast(
  fields: McastFields,
  fragmented: number,
  continuation: number,
  pieces: readonly Uint8Array[],
): Uint8Array {
  assert(fields.bigEndian !== true, "encodePgMcast: frames we originate are little-endian");
  const payloadLength = pgPacketSize(pieces);
  const frame = allocFrame(SIZES.mcastHeader + payloadLength);
  writeMcastHeader(frame, fields, payloadLength);
  writePgPacketInto(frame, SIZES.mcastHeader, fragmented, continuation, pieces);
  return frame;
}
