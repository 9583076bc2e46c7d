/**
 * Text forms of cmap values, as corosync's tools print them.
 *
 * `corosync-cmapctl` (corosync 3 `tools/corosync-cmapctl.c`, `print_key`) prints one key per
 * line as `name (type) = value`: integers in decimal, `flt`/`dbl` with C's `%f`, strings
 * raw, and binary as `name (bin)` unless asked to show it (`-b`), then as
 * `name (bin) = <escaped bytes>`, where bytes 0x20..0x7e except `\` are themselves, `\` is
 * `\\`, and other bytes are `\xNN` (upper-case hex).
 *
 * Deviation: cmapctl passes a signed `char` to `printf("\\x%02X")`, so on x86 a byte
 * >= 0x80 comes out sign-extended (`\xFFFFFF80`); we print the byte (`\x80`).
 */
import { CMAP_TYPE_NAMES, CmapType, type CmapValue } from "./types.js";

export interface FormatOptions {
  /** Show binary values (cmapctl `-b`); otherwise a binary key prints as `name (bin)`. */
  showBinary?: boolean;
}

/** The value alone, as cmapctl prints it after ` = ` (binary always shown escaped). */
export function formatValue(value: CmapValue): string {
  switch (value.type) {
    case CmapType.FLOAT:
    case CmapType.DOUBLE:
      return formatFixed(value.value);
    case CmapType.STRING:
      return value.value;
    case CmapType.BINARY:
      return escapeBinary(value.value);
    default:
      return String(value.value);
  }
}

/** One cmapctl line without the newline: `totem.token (u32) = 3000`. */
export function formatKeyValue(key: string, value: CmapValue, options: FormatOptions = {}): string {
  const head = `${key} (${CMAP_TYPE_NAMES[value.type]})`;
  if (value.type === CmapType.BINARY && !options.showBinary) return head;
  return `${head} = ${formatValue(value)}`;
}

/** Binary bytes escaped as cmapctl's `print_binary_key` does (see the file comment). */
export function escapeBinary(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    if (b === 0x5c) out += "\\\\";
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += "\\x" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/**
 * C's `printf("%.*f", digits, x)` as glibc prints it: the exact decimal value of the
 * double, rounded to `digits` places, ties to even; `-0` keeps its sign; non-finite values
 * print as `nan`, `inf`, `-inf`. (JavaScript's `toFixed` rounds ties away from zero and
 * switches to exponent form from 1e21, so it cannot be used.)
 */
export function formatFixed(x: number, digits = 6): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  const negative = x < 0 || Object.is(x, -0);
  const scaled = roundScaled(Math.abs(x), digits);
  const text = scaled.toString().padStart(digits + 1, "0");
  const intPart = text.slice(0, text.length - digits);
  const fracPart = text.slice(text.length - digits);
  return (negative ? "-" : "") + intPart + (digits > 0 ? "." + fracPart : "");
}

/** round(a * 10^digits) exactly, ties to even, for a finite a >= 0. */
function roundScaled(a: number, digits: number): bigint {
  const { mantissa, exponent } = decompose(a);
  const num = mantissa * 10n ** BigInt(digits);
  if (exponent >= 0) return num << BigInt(exponent);
  const den = 1n << BigInt(-exponent);
  const q = num / den;
  const twice = (num % den) * 2n;
  if (twice > den || (twice === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}

/** a = mantissa * 2^exponent exactly, for a finite a >= 0. */
function decompose(a: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}
