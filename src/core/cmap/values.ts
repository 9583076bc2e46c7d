/**
 * Typed cmap values: validation, equality, copying, integer stepping.
 *
 * The rules are icmap's (corosync 3 `exec/icmap.c`), restated for JavaScript values:
 * - integers up to 32 bits are `number`s that must be integers within the type's range;
 *   64-bit integers are `bigint`s within range (icmap copies fixed-size C integers, so an
 *   out-of-range value cannot exist there either);
 * - `FLOAT` is any finite number that stays finite in single precision; it is stored
 *   rounded with `Math.fround`, as a C `float` would hold it;
 * - `DOUBLE` is any finite number (NaN and infinities are refused: they would break
 *   value equality and cannot be written in corosync.conf);
 * - `STRING` has no NUL (a C string would end there) and no lone UTF-16 surrogate (it would
 *   not survive UTF-8), and its UTF-8 form plus the terminating NUL fits in
 *   `ICMAP_MAX_VALUE_LEN` bytes;
 * - `BINARY` is a `Uint8Array` of at most `ICMAP_MAX_VALUE_LEN` bytes.
 */
import { CmapType, type CmapValue } from "./types.js";
import { CmapError } from "./errors.js";

/** Largest value, in bytes, icmap stores (`ICMAP_MAX_VALUE_LEN`, 16 KiB). */
export const ICMAP_MAX_VALUE_LEN = 16 * 1024;

/** Inclusive ranges of the integer types up to 32 bits. */
export const CMAP_INT_RANGES = {
  [CmapType.INT8]: [-0x80, 0x7f],
  [CmapType.UINT8]: [0, 0xff],
  [CmapType.INT16]: [-0x8000, 0x7fff],
  [CmapType.UINT16]: [0, 0xffff],
  [CmapType.INT32]: [-0x80000000, 0x7fffffff],
  [CmapType.UINT32]: [0, 0xffffffff],
} as const satisfies Record<number, readonly [number, number]>;

/** Inclusive ranges of the 64-bit integer types. */
export const CMAP_BIGINT_RANGES = {
  [CmapType.INT64]: [-(1n << 63n), (1n << 63n) - 1n],
  [CmapType.UINT64]: [0n, (1n << 64n) - 1n],
} as const satisfies Record<number, readonly [bigint, bigint]>;

/** Bit width of each integer type, for wrapping arithmetic. */
const INT_BITS: Readonly<Record<number, { bits: number; signed: boolean }>> = {
  [CmapType.INT8]: { bits: 8, signed: true },
  [CmapType.UINT8]: { bits: 8, signed: false },
  [CmapType.INT16]: { bits: 16, signed: true },
  [CmapType.UINT16]: { bits: 16, signed: false },
  [CmapType.INT32]: { bits: 32, signed: true },
  [CmapType.UINT32]: { bits: 32, signed: false },
  [CmapType.INT64]: { bits: 64, signed: true },
  [CmapType.UINT64]: { bits: 64, signed: false },
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True for the integer types (the ones `adjustInt` accepts). */
export function isIntegerType(type: CmapType): boolean {
  return INT_BITS[type] !== undefined;
}

/** Number of bytes `s` takes in UTF-8 (lone surrogates count as the 3-byte U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function invalid(key: string, why: string): CmapError {
  return new CmapError("INVALID_PARAM", `${key}: ${why}`);
}

/**
 * Checks `value` against its declared type and returns the value as the store keeps it
 * (a fresh object; `FLOAT` rounded to single precision; `BINARY` copied).
 * Throws `CmapError` `INVALID_PARAM` naming `key` when the value does not fit.
 */
export function normalizeValue(key: string, value: CmapValue): CmapValue {
  if (value === null || typeof value !== "object") throw invalid(key, "value must be a typed cmap value");
  switch (value.type) {
    case CmapType.INT8:
    case CmapType.UINT8:
    case CmapType.INT16:
    case CmapType.UINT16:
    case CmapType.INT32:
    case CmapType.UINT32:
      return { type: value.type, value: checkSmallInt(key, value.type, value.value) };
    case CmapType.INT64:
    case CmapType.UINT64:
      return { type: value.type, value: checkBigInt(key, value.type, value.value) };
    case CmapType.FLOAT:
      return { type: value.type, value: checkFloat(key, value.value) };
    case CmapType.DOUBLE:
      return { type: value.type, value: checkDouble(key, value.value) };
    case CmapType.STRING:
      return { type: value.type, value: checkString(key, value.value) };
    case CmapType.BINARY:
      return { type: value.type, value: checkBinary(key, value.value).slice() };
    default:
      throw invalid(key, `unknown value type ${String((value as { type: unknown }).type)}`);
  }
}

function checkSmallInt(key: string, type: keyof typeof CMAP_INT_RANGES, v: unknown): number {
  const [min, max] = CMAP_INT_RANGES[type];
  if (typeof v !== "number" || !Number.isInteger(v)) throw invalid(key, "value must be an integer number");
  if (v < min || v > max) throw invalid(key, `value ${v} out of range ${min}..${max}`);
  return v === 0 ? 0 : v; // no -0 in an integer type
}

function checkBigInt(key: string, type: keyof typeof CMAP_BIGINT_RANGES, v: unknown): bigint {
  const [min, max] = CMAP_BIGINT_RANGES[type];
  if (typeof v !== "bigint") throw invalid(key, "64-bit value must be a bigint");
  if (v < min || v > max) throw invalid(key, `value ${v} out of range ${min}..${max}`);
  return v;
}

function checkFloat(key: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw invalid(key, "float value must be a finite number");
  const f = Math.fround(v);
  if (!Number.isFinite(f)) throw invalid(key, `value ${v} does not fit a float`);
  return f;
}

function checkDouble(key: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw invalid(key, "double value must be a finite number");
  return v;
}

function checkString(key: string, v: unknown): string {
  if (typeof v !== "string") throw invalid(key, "string value must be a string");
  if (v.includes("\0")) throw invalid(key, "string value contains NUL");
  if (LONE_SURROGATE.test(v)) throw invalid(key, "string value is not well-formed UTF-16");
  if (utf8Length(v) + 1 > ICMAP_MAX_VALUE_LEN) throw invalid(key, `string value longer than ${ICMAP_MAX_VALUE_LEN - 1} bytes`);
  return v;
}

function checkBinary(key: string, v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) throw invalid(key, "binary value must be a Uint8Array");
  if (v.length > ICMAP_MAX_VALUE_LEN) throw invalid(key, `binary value longer than ${ICMAP_MAX_VALUE_LEN} bytes`);
  return v;
}

/**
 * Value equality as icmap decides "unchanged" (`icmap_item_eq`): same type and the same
 * bytes. Numbers compare with `Object.is`, so `0` and `-0` differ as their bytes do.
 */
export function cmapValueEquals(a: CmapValue, b: CmapValue): boolean {
  if (a.type !== b.type) return false;
  if (a.type === CmapType.BINARY) {
    const x = a.value;
    const y = b.value as Uint8Array;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  return Object.is(a.value, b.value);
}

/** A copy safe to hand out: binary bytes are copied, other values are immutable already. */
export function copyValue(v: CmapValue): CmapValue {
  return v.type === CmapType.BINARY ? { type: v.type, value: v.value.slice() } : { ...v };
}

/**
 * `value + step`, wrapping modulo 2^bits of the value's type, as `icmap_adjust_int` does
 * (it adds to a fixed-width C integer). Returns `undefined` for non-integer types.
 */
export function stepInteger(v: CmapValue, step: number): CmapValue | undefined {
  const shape = INT_BITS[v.type];
  if (shape === undefined) return undefined;
  const current = typeof v.value === "bigint" ? v.value : BigInt(v.value as number);
  const sum = current + BigInt(step);
  const wrapped = shape.signed ? BigInt.asIntN(shape.bits, sum) : BigInt.asUintN(shape.bits, sum);
  if (shape.bits === 64) return { type: v.type, value: wrapped } as CmapValue;
  return { type: v.type, value: Number(wrapped) } as CmapValue;
}
