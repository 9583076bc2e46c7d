/**
 * The read-only part of the cmap IPC (`\0cmap`, libqb-ipc-spec.md §2.2) that the quorum and
 * cfg tools need — corosync-quorumtool and corosync-cfgtool read `quorum.provider`,
 * `runtime.votequorum.this_node_id`, `totem.transport` and iterate `nodelist.node.` and
 * `totem.interface.`:
 *
 *   req 2 GET key mar_name_t {u16 length @16, value[256] @24}, value_len u64 @280 (288)
 *         → res 2: value_len u64 @24, type @32, value @40; size 40 + requested value_len
 *   req 4 ITER_INIT prefix mar_name_t @16 (280) → res 4: iter_handle u64 @24 (32)
 *   req 5 ITER_NEXT handle @16 (24) → res 5: key mar_name_t @24, value_len @288, type @296
 *         (304); the end is NO_SECTIONS
 *   req 6 ITER_FINALIZE handle @16 (24) → res 6 (24)
 *   req 9 SET_CURRENT_MAP map i32 @16 (24) → res 10 (24)
 *
 * Values travel in native (little-endian) form; strings include their NUL. Pure.
 */
import { CmapType, type CmapValue } from "../../core/cmap/types.js";
import { newRequest, newResponse, viewOf } from "./common.js";

export const CmapReq = { SET: 0, DELETE: 1, GET: 2, ADJUST_INT: 3, ITER_INIT: 4, ITER_NEXT: 5, ITER_FINALIZE: 6, TRACK_ADD: 7, TRACK_DELETE: 8, SET_CURRENT_MAP: 9 } as const;
export const CmapRes = { GET: 2, ITER_INIT: 4, ITER_NEXT: 5, ITER_FINALIZE: 6, SET_CURRENT_MAP: 10 } as const;
const NAME_VALUE = 256;

/** A `mar_name_t` at `off`: length u16, value at off+8 (cut at the first NUL). */
export function readMarName(b: Uint8Array, off: number): string {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const length = Math.min(dv.getUint16(off, true), NAME_VALUE - 1);
  const value = b.subarray(off + 8, Math.min(b.byteLength, off + 8 + length));
  const nul = value.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? value : value.subarray(0, nul));
}

function writeMarName(b: Uint8Array, off: number, s: string): void {
  const enc = new TextEncoder().encode(s).subarray(0, NAME_VALUE - 1);
  new DataView(b.buffer, b.byteOffset).setUint16(off, enc.byteLength, true);
  b.set(enc, off + 8);
}

/** The bytes of a value as corosync stores it. */
export function cmapValueBytes(v: CmapValue): Uint8Array {
  const sized = (n: number, set: (dv: DataView) => void) => {
    const b = new Uint8Array(n);
    set(new DataView(b.buffer));
    return b;
  };
  switch (v.type) {
    case CmapType.INT8:
      return sized(1, (dv) => dv.setInt8(0, v.value));
    case CmapType.UINT8:
      return sized(1, (dv) => dv.setUint8(0, v.value));
    case CmapType.INT16:
      return sized(2, (dv) => dv.setInt16(0, v.value, true));
    case CmapType.UINT16:
      return sized(2, (dv) => dv.setUint16(0, v.value, true));
    case CmapType.INT32:
      return sized(4, (dv) => dv.setInt32(0, v.value, true));
    case CmapType.UINT32:
      return sized(4, (dv) => dv.setUint32(0, v.value, true));
    case CmapType.INT64:
      return sized(8, (dv) => dv.setBigInt64(0, v.value, true));
    case CmapType.UINT64:
      return sized(8, (dv) => dv.setBigUint64(0, v.value, true));
    case CmapType.FLOAT:
      return sized(4, (dv) => dv.setFloat32(0, v.value, true));
    case CmapType.DOUBLE:
      return sized(8, (dv) => dv.setFloat64(0, v.value, true));
    case CmapType.STRING: {
      const enc = new TextEncoder().encode(v.value);
      const b = new Uint8Array(enc.byteLength + 1);
      b.set(enc);
      return b;
    }
    case CmapType.BINARY:
      return new Uint8Array(v.value);
  }
}

/** A value from its type and bytes (client side); undefined when they do not fit. */
export function cmapValueFrom(type: number, b: Uint8Array): CmapValue | undefined {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const need: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 8, 8: 8, 9: 4, 10: 8 };
  if (need[type] !== undefined && b.byteLength < need[type]!) return undefined;
  switch (type) {
    case CmapType.INT8:
      return { type, value: dv.getInt8(0) };
    case CmapType.UINT8:
      return { type, value: dv.getUint8(0) };
    case CmapType.INT16:
      return { type, value: dv.getInt16(0, true) };
    case CmapType.UINT16:
      return { type, value: dv.getUint16(0, true) };
    case CmapType.INT32:
      return { type, value: dv.getInt32(0, true) };
    case CmapType.UINT32:
      return { type, value: dv.getUint32(0, true) };
    case CmapType.INT64:
      return { type, value: dv.getBigInt64(0, true) };
    case CmapType.UINT64:
      return { type, value: dv.getBigUint64(0, true) };
    case CmapType.FLOAT:
      return { type, value: dv.getFloat32(0, true) };
    case CmapType.DOUBLE:
      return { type, value: dv.getFloat64(0, true) };
    case CmapType.STRING: {
      const nul = b.indexOf(0);
      return { type, value: new TextDecoder().decode(nul < 0 ? b : b.subarray(0, nul)) };
    }
    case CmapType.BINARY:
      return { type, value: new Uint8Array(b) };
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------- client side

export function encodeCmapGet(key: string, valueLen: number): Uint8Array {
  const { bytes, dv } = newRequest(CmapReq.GET, 288);
  writeMarName(bytes, 16, key);
  dv.setBigUint64(280, BigInt(valueLen), true);
  return bytes;
}

export function decodeCmapGet(b: Uint8Array): { valueLen: number; type: number; value: Uint8Array } | undefined {
  const dv = viewOf(b, 40);
  if (dv === undefined) return undefined;
  const valueLen = Number(dv.getBigUint64(24, true));
  return { valueLen, type: dv.getUint32(32, true), value: b.subarray(40, 40 + Math.min(valueLen, b.byteLength - 40)) };
}

export function encodeCmapIterInit(prefix: string): Uint8Array {
  const { bytes } = newRequest(CmapReq.ITER_INIT, 280);
  writeMarName(bytes, 16, prefix);
  return bytes;
}

export function encodeCmapHandleRequest(id: typeof CmapReq.ITER_NEXT | typeof CmapReq.ITER_FINALIZE, handle: bigint): Uint8Array {
  const { bytes, dv } = newRequest(id, 24);
  dv.setBigUint64(16, handle, true);
  return bytes;
}

export function encodeCmapSetCurrentMap(map: number): Uint8Array {
  const { bytes, dv } = newRequest(CmapReq.SET_CURRENT_MAP, 24);
  dv.setInt32(16, map, true);
  return bytes;
}

export function decodeCmapIterNext(b: Uint8Array): { key: string; valueLen: number; type: number } | undefined {
  const dv = viewOf(b, 300);
  if (dv === undefined) return undefined;
  return { key: readMarName(b, 24), valueLen: Number(dv.getBigUint64(288, true)), type: dv.getUint32(296, true) };
}

// ---------------------------------------------------------------- server side

export function decodeCmapKeyRequest(b: Uint8Array): string | undefined {
  return b.byteLength < 280 ? undefined : readMarName(b, 16);
}

export function decodeCmapGetRequest(b: Uint8Array): { key: string; valueLen: number } | undefined {
  const dv = viewOf(b, 288);
  if (dv === undefined) return undefined;
  const len = dv.getBigUint64(280, true);
  return { key: readMarName(b, 16), valueLen: len > 0x7fffffffn ? -1 : Number(len) };
}

export function decodeCmapHandle(b: Uint8Array): bigint | undefined {
  return viewOf(b, 24)?.getBigUint64(16, true);
}

/**
 * GET response as corosync builds it: size 40 + the length the client asked for; a missing
 * key is NOT_EXIST, a buffer smaller than the value INVALID_PARAM.
 */
export function encodeCmapGetResponse(value: CmapValue | undefined, askedLen: number): Uint8Array {
  const bytes = value === undefined ? undefined : cmapValueBytes(value);
  const error = value === undefined ? 12 : askedLen > 0 && askedLen < bytes!.byteLength ? 7 : 1;
  const { bytes: res, dv } = newResponse(CmapRes.GET, 40 + Math.max(0, askedLen), error);
  if (value !== undefined) {
    dv.setBigUint64(24, BigInt(bytes!.byteLength), true);
    dv.setUint32(32, value.type, true);
    if (error === 1 && askedLen > 0) res.set(bytes!, 40);
  }
  return res;
}

export function encodeCmapIterInitResponse(handle: bigint, error = 1): Uint8Array {
  const { bytes, dv } = newResponse(CmapRes.ITER_INIT, 32, error);
  dv.setBigUint64(24, handle, true);
  return bytes;
}

export function encodeCmapIterNextResponse(entry: { key: string; value: CmapValue } | undefined, error = 1): Uint8Array {
  const { bytes, dv } = newResponse(CmapRes.ITER_NEXT, 304, entry === undefined ? (error === 1 ? 27 : error) : error);
  if (entry !== undefined) {
    writeMarName(bytes, 24, entry.key);
    dv.setBigUint64(288, BigInt(cmapValueBytes(entry.value).byteLength), true);
    dv.setUint32(296, entry.value.type, true);
  }
  return bytes;
}
