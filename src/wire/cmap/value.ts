/**
 * cmap values as bytes, the way icmap stores them and libcmap / the CMAP exec message carry
 * them (corosync 3 `exec/icmap.c`: `icmap_get_valuetype_len`, `icmap_check_value_len`,
 * `icmap_set_r`): integers and floats in native (here: chosen) byte order with the type's
 * fixed width, strings as their bytes plus a terminating NUL (the length counts it), binary
 * as is.
 *
 * Decoding follows icmap's acceptance rules, with two deliberate tightenings (both answer
 * `INVALID_PARAM` where corosync would store something a JavaScript store cannot hold):
 * - a string's bytes must be UTF-8 (the store keeps JavaScript strings);
 * - FLOAT / DOUBLE must be finite (the store refuses NaN and infinities, see values.ts);
 * - a type number outside 1..12 is refused (icmap would store a value-less key of that type).
 * String length rule as icmap: `value_len` may be shorter than the string (the stored string
 * is cut there) but not longer than the string plus its NUL; a string without NUL inside
 * `value_len` bytes is taken whole.
 */
import { CmapType, type CmapValue } from "../../core/cmap/types.js";
import { ICMAP_MAX_VALUE_LEN, normalizeValue } from "../../core/cmap/values.js";
import { CmapError } from "../../core/cmap/errors.js";

const FIXED_WIDTH: Readonly<Record<number, number>> = {
  [CmapType.INT8]: 1,
  [CmapType.UINT8]: 1,
  [CmapType.INT16]: 2,
  [CmapType.UINT16]: 2,
  [CmapType.INT32]: 4,
  [CmapType.UINT32]: 4,
  [CmapType.INT64]: 8,
  [CmapType.UINT64]: 8,
  [CmapType.FLOAT]: 4,
  [CmapType.DOUBLE]: 8,
};

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });
const utf8Lenient = new TextDecoder("utf-8");

/** True for a type number icmap knows (1..12). */
export function isKnownCmapType(type: number): type is CmapType {
  return Number.isInteger(type) && type >= CmapType.INT8 && type <= CmapType.BINARY;
}

/** `icmap_get_valuetype_len`: the fixed width of a type, 0 for string/binary/unknown. */
export function cmapTypeWidth(type: number): number {
  return FIXED_WIDTH[type] ?? 0;
}

/** The value's bytes as icmap stores them (string: UTF-8 + NUL). */
export function encodeCmapValue(value: CmapValue, littleEndian = true): Uint8Array {
  switch (value.type) {
    case CmapType.STRING: {
      const s = utf8.encode(value.value);
      const out = new Uint8Array(s.byteLength + 1);
      out.set(s);
      return out;
    }
    case CmapType.BINARY:
      return value.value.slice();
    default:
      return encodeFixed(value, littleEndian);
  }
}

function encodeFixed(value: CmapValue, le: boolean): Uint8Array {
  const out = new Uint8Array(cmapTypeWidth(value.type));
  const dv = new DataView(out.buffer);
  const v = value.value;
  switch (value.type) {
    case CmapType.INT8:
      dv.setInt8(0, v as number);
      break;
    case CmapType.UINT8:
      dv.setUint8(0, v as number);
      break;
    case CmapType.INT16:
      dv.setInt16(0, v as number, le);
      break;
    case CmapType.UINT16:
      dv.setUint16(0, v as number, le);
      break;
    case CmapType.INT32:
      dv.setInt32(0, v as number, le);
      break;
    case CmapType.UINT32:
      dv.setUint32(0, v as number, le);
      break;
    case CmapType.INT64:
      dv.setBigInt64(0, v as bigint, le);
      break;
    case CmapType.UINT64:
      dv.setBigUint64(0, v as bigint, le);
      break;
    case CmapType.FLOAT:
      dv.setFloat32(0, v as number, le);
      break;
    case CmapType.DOUBLE:
      dv.setFloat64(0, v as number, le);
      break;
  }
  return out;
}

/** The length icmap reports for a value (`value_len`): width, string bytes + 1, binary length. */
export function cmapValueLength(value: CmapValue): number {
  if (value.type === CmapType.STRING) return utf8.encode(value.value).byteLength + 1;
  if (value.type === CmapType.BINARY) return value.value.byteLength;
  return cmapTypeWidth(value.type);
}

/**
 * A typed value from `type` and its `bytes` (exactly `value_len` bytes). Throws `CmapError`
 * `INVALID_PARAM` for what icmap (or, see the file comment, our store) refuses; `key` names
 * the value in the message.
 */
export function decodeCmapValue(key: string, type: number, bytes: Uint8Array, littleEndian = true): CmapValue {
  if (!isKnownCmapType(type)) throw new CmapError("INVALID_PARAM", `${key}: unknown value type ${type}`);
  if (bytes.byteLength > ICMAP_MAX_VALUE_LEN) {
    throw new CmapError("INVALID_PARAM", `${key}: value of ${bytes.byteLength} bytes exceeds ${ICMAP_MAX_VALUE_LEN}`);
  }
  if (type === CmapType.STRING) return { type, value: decodeString(key, bytes) };
  if (type === CmapType.BINARY) return { type, value: new Uint8Array(bytes) };
  const width = cmapTypeWidth(type);
  if (bytes.byteLength !== width) {
    throw new CmapError("INVALID_PARAM", `${key}: a ${width}-byte type given ${bytes.byteLength} bytes`);
  }
  return normalizeValue(key, decodeFixed(type, bytes, littleEndian));
}

/**
 * A value as a client reads it from any corosync: the width rules hold, but floats may be
 * NaN or infinite, strings that are not UTF-8 get U+FFFD, and no store limits apply. Throws
 * `CmapError` `INVALID_PARAM` only for an unknown type or a wrong width.
 */
export function decodeCmapValueLoose(key: string, type: number, bytes: Uint8Array, littleEndian = true): CmapValue {
  if (!isKnownCmapType(type)) throw new CmapError("INVALID_PARAM", `${key}: unknown value type ${type}`);
  if (type === CmapType.BINARY) return { type, value: new Uint8Array(bytes) };
  if (type === CmapType.STRING) {
    const nul = bytes.indexOf(0);
    return { type, value: utf8Lenient.decode(nul < 0 ? bytes : bytes.subarray(0, nul)) };
  }
  const width = cmapTypeWidth(type);
  if (bytes.byteLength !== width) throw new CmapError("INVALID_PARAM", `${key}: a ${width}-byte type given ${bytes.byteLength} bytes`);
  return decodeFixed(type, bytes, littleEndian);
}

function decodeString(key: string, bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  if (nul >= 0 && bytes.byteLength > nul + 1) {
    throw new CmapError("INVALID_PARAM", `${key}: string length ${bytes.byteLength} exceeds its text plus NUL (${nul + 1})`);
  }
  const text = nul < 0 ? bytes : bytes.subarray(0, nul);
  try {
    return normalizeValue(key, { type: CmapType.STRING, value: utf8Strict.decode(text) }).value as string;
  } catch (e) {
    if (e instanceof CmapError) throw e;
    throw new CmapError("INVALID_PARAM", `${key}: string value is not UTF-8`, { cause: e });
  }
}

function decodeFixed(type: CmapType, bytes: Uint8Array, le: boolean): CmapValue {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case CmapType.INT8:
      return { type, value: dv.getInt8(0) };
    case CmapType.UINT8:
      return { type, value: dv.getUint8(0) };
    case CmapType.INT16:
      return { type, value: dv.getInt16(0, le) };
    case CmapType.UINT16:
      return { type, value: dv.getUint16(0, le) };
    case CmapType.INT32:
      return { type, value: dv.getInt32(0, le) };
    case CmapType.UINT32:
      return { type, value: dv.getUint32(0, le) };
    case CmapType.INT64:
      return { type, value: dv.getBigInt64(0, le) };
    case CmapType.UINT64:
      return { type, value: dv.getBigUint64(0, le) };
    case CmapType.FLOAT:
      return { type, value: dv.getFloat32(0, le) };
    default:
      return { type: CmapType.DOUBLE, value: dv.getFloat64(0, le) };
  }
}
