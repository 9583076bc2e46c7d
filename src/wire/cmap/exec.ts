/**
 * The CMAP exec message (service 0, fn 0 `MESSAGE_REQ_EXEC_CMAP_MCAST`; totem-spec §7.4),
 * which every corosync 3 node multicasts in sync and whenever its `totem.config_version`
 * changes:
 *
 *   header (16): id i32 @0 (service 0 << 16 | fn 0 = 0), size i32 @8
 *   reason u8 @16 (0 SYNC, 1 NEW_CONFIG_VERSION) · no_items u8 @24 · reserved u8 @32, @40
 *   items from @48, each `MAR_ALIGN_UP(280 + value_len, 8)` bytes:
 *     key_name mar_name_t @0 (u16 length @0, char[256] @8) · value_type u8 @264
 *     (0 = key absent) · value_len u64 @272 · value @280
 *
 * Sender's fields are in its native byte order (the totempg header says which); padding is
 * zero (corosync memsets). Decoding is bounded: at most `CMAP_MCAST_ITEMS_MAX` items, every
 * length checked against the bytes present; trailing bytes after the last item are rejected.
 */
import { DecodeError } from "../errors.js";
import { Reader } from "../reader.js";
import { MAR_NAME_VALUE_SIZE, readName } from "./ipc.js";

/** `MAX_REQ_EXEC_CMAP_MCAST_ITEMS`. */
export const CMAP_MCAST_ITEMS_MAX = 32;
/** Bytes before the first item. */
export const CMAP_MCAST_HEADER_SIZE = 48;
/** Bytes of an item before its value. */
export const CMAP_MCAST_ITEM_HEADER_SIZE = 280;
/** `ICMAP_VALUETYPE_NOT_EXIST`: the item says the key is absent. */
export const CMAP_VALUETYPE_NOT_EXIST = 0;

export const CmapMcastReason = { SYNC: 0, NEW_CONFIG_VERSION: 1 } as const;

export interface CmapMcastItem {
  key: string;
  /** 0 (absent) or a cmap type number 1..12 (not checked here: the receiver looks at what it needs). */
  type: number;
  /** The value's bytes in the sender's byte order (length = value_len). */
  value: Uint8Array;
}

export interface CmapMcast {
  /** 0 SYNC, 1 NEW_CONFIG_VERSION; others are carried and ignored by the receiver. */
  reason: number;
  items: CmapMcastItem[];
}

const utf8 = new TextEncoder();

function alignUp8(n: number): number {
  return (n + 7) & ~7;
}

/** The message bytes, little-endian, as a corosync 3 node on x86 sends them. */
export function encodeCmapMcast(m: CmapMcast): Uint8Array {
  if (m.items.length > CMAP_MCAST_ITEMS_MAX) throw new RangeError(`at most ${CMAP_MCAST_ITEMS_MAX} items`);
  const sizes = m.items.map((it) => alignUp8(CMAP_MCAST_ITEM_HEADER_SIZE + it.value.byteLength));
  const size = CMAP_MCAST_HEADER_SIZE + sizes.reduce((a, b) => a + b, 0);
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  dv.setInt32(0, 0, true);
  dv.setInt32(8, size, true);
  dv.setUint8(16, m.reason);
  dv.setUint8(24, m.items.length);
  let off = CMAP_MCAST_HEADER_SIZE;
  m.items.forEach((it, i) => {
    const key = utf8.encode(it.key);
    if (key.byteLength >= MAR_NAME_VALUE_SIZE) throw new RangeError(`key ${it.key} does not fit mar_name_t`);
    dv.setUint16(off, key.byteLength, true);
    buf.set(key, off + 8);
    dv.setUint8(off + 264, it.type);
    dv.setBigUint64(off + 272, BigInt(it.value.byteLength), true);
    buf.set(it.value, off + CMAP_MCAST_ITEM_HEADER_SIZE);
    off += sizes[i]!;
  });
  return buf;
}

/**
 * Decodes a CMAP exec message written in `littleEndian` order (from the totempg header).
 * Throws `DecodeError` for anything that does not add up; item values are views into `msg`.
 */
export function decodeCmapMcast(msg: Uint8Array, littleEndian = true): CmapMcast {
  const r = new Reader(msg, littleEndian);
  r.skip(16, "cmap_mcast.header");
  const reason = r.u8("cmap_mcast.reason");
  r.skip(7, "cmap_mcast.pad");
  const count = r.u8("cmap_mcast.no_items");
  if (count > CMAP_MCAST_ITEMS_MAX) throw new DecodeError("COUNT_LIMIT", "cmap_mcast.no_items", `no_items ${count} exceeds ${CMAP_MCAST_ITEMS_MAX}`);
  r.skip(CMAP_MCAST_HEADER_SIZE - 25, "cmap_mcast.reserved");
  const items: CmapMcastItem[] = [];
  for (let i = 0; i < count; i++) items.push(readItem(r));
  r.end("cmap_mcast");
  return { reason, items };
}

function readItem(r: Reader): CmapMcastItem {
  const start = r.offset;
  const key = readName(r, "cmap_mcast.item.key_name");
  const type = r.u8("cmap_mcast.item.value_type");
  r.skip(7, "cmap_mcast.item.pad");
  const len = r.u64("cmap_mcast.item.value_len");
  if (len > BigInt(r.remaining)) throw new DecodeError("BAD_LENGTHS", "cmap_mcast.item.value_len", `value_len ${len} exceeds the ${r.remaining} bytes left`);
  const value = r.bytesView(Number(len), "cmap_mcast.item.value");
  const padded = alignUp8(r.offset - start) - (r.offset - start);
  r.skip(Math.min(padded, r.remaining), "cmap_mcast.item.align");
  return { key: key.text, type, value };
}
