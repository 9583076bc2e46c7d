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
import { Reader } from "../reader.js";
import { Writer } from "../writer.js";
import { writeMcastHeader, type McastFields } from "../totem/codec.js";
import { SIZES } from "../totem/types.js";

export {
  decodeGroupMessage,
  encodeGroupMessage,
  groupMatches,
  GROUP_A,
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
  const r = new Reader(bytes, littleEndian);
  const version = r.i16("totempg_mcast.header.version");
  const type = r.i16("totempg_mcast.header.type");
  const fragmented = r.u8("totempg_mcast.fragmented");
  const continuation = r.u8("totempg_mcast.continuation");
  const rawCount = r.u16("totempg_mcast.msg_count");
  if (rawCount === 0) throw new DecodeError("BAD_VALUE", "totempg_mcast.msg_count", "a totempg packet with no messages");
  const limit = Math.min(PG_LIMITS.msgCountMax, r.remaining >>> 1);
  const count = r.count("totempg_mcast.msg_count", limit, 2, rawCount);

  const lens = new Array<number>(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const len = r.u16("totempg_mcast.msg_len");
    lens[i] = len;
    total += len;
  }
  if (total !== r.remaining) {
    throw new DecodeError("BAD_LENGTHS", "totempg_mcast.msg_len", `pieces add up to ${total} bytes, the packet has ${r.remaining}`);
  }
  const pieces = new Array<Uint8Array>(count);
  for (let i = 0; i < count; i++) pieces[i] = r.bytesView(lens[i]!, "totempg_mcast.data");
  r.end("totempg_mcast");
  return { version, type, fragmented, continuation, pieces };
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
 * Write a totempg packet (little-endian, version and type 0) at the writer's position.
 * Preconditions (asserted): 1..65535 pieces of at most 65535 bytes each, u8 fragment ids.
 */
export function writePgPacket(w: Writer, fragmented: number, continuation: number, pieces: readonly Uint8Array[]): void {
  assert(pieces.length >= 1 && pieces.length <= PG_LIMITS.msgCountMax, `totempg: ${pieces.length} pieces`);
  assert((fragmented & 0xff) === fragmented && (continuation & 0xff) === continuation, "totempg: fragment ids are u8");
  w.i16(0).i16(0).u8(fragmented).u8(continuation).u16(pieces.length);
  for (const p of pieces) {
    assert(p.byteLength <= PG_LIMITS.pieceBytesMax, `totempg: a piece of ${p.byteLength} bytes`);
    w.u16(p.byteLength);
  }
  for (const p of pieces) w.raw(p);
}

/** Encode a totempg packet (totem-spec §5.1): one allocation, little-endian. */
export function encodePgPacket(fragmented: number, continuation: number, pieces: readonly Uint8Array[]): Uint8Array {
  const w = new Writer(pgPacketSize(pieces));
  writePgPacket(w, fragmented, continuation, pieces);
  return w.finish();
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
  const w = new Writer(SIZES.mcastHeader + payloadLength);
  writeMcastHeader(w, fields, payloadLength);
  writePgPacket(w, fragmented, continuation, pieces);
  return w.finish();
}
