/**
 * Mutational fuzzing of byte strings (AFL-style havoc, seeded): bit flips, byte sets,
 * interesting integers at any offset, truncation, trailing bytes, splices and duplications
 * of valid inputs, deletions, random bytes. Every operator is a pure function of the PRNG
 * and its arguments, so a case replays from its seed.
 */
import type { Prng } from "../../sim/prng.js";

/** Byte values that hit boundaries (sign bit, all ones, ASCII braces and separators). */
export const INTERESTING_U8 = [0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x0a, 0x3a, 0x7b, 0x7d, 0x20] as const;
export const INTERESTING_U16 = [0, 1, 2, 0x20, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff] as const;
export const INTERESTING_U32 = [
  0, 1, 2, 30, 31, 32, 33, 128, 129, 383, 384, 385, 0xff, 0xffff, 0x10000, 0x3fffffff, 0x40000000, 0x7ffffffe, 0x7fffffff,
  0x80000000, 0x80000001, 0xc0000000, 0xfffffffe, 0xffffffff,
] as const;

/** A copy of `b` (mutators never change their input). */
export function copy(b: Uint8Array): Uint8Array {
  return b.slice();
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

export function randomBytes(rng: Prng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.u32() & 0xff;
  return out;
}

/** Write the low `width` bytes of `v` at `at` in the given byte order (bigint for width 8). */
export function writeUint(b: Uint8Array, at: number, width: 1 | 2 | 4 | 8, le: boolean, v: number | bigint): void {
  let x = BigInt.asUintN(8 * width, typeof v === "bigint" ? v : BigInt(Math.trunc(v)));
  for (let i = 0; i < width; i++) {
    const byte = Number(x & 0xffn);
    x >>= 8n;
    const pos = le ? at + i : at + width - 1 - i;
    if (pos >= 0 && pos < b.byteLength) b[pos] = byte;
  }
}

/** Read an unsigned field (a bigint for width 8, a number otherwise). */
export function readUint(b: Uint8Array, at: number, width: 1 | 2 | 4 | 8, le: boolean): number {
  let v = 0;
  for (let i = 0; i < Math.min(width, 4); i++) {
    const pos = le ? at + i : at + width - 1 - i;
    v += (b[pos] ?? 0) * 2 ** (8 * i);
  }
  return v;
}

export function flipBits(rng: Prng, b: Uint8Array): Uint8Array {
  const out = copy(b);
  if (out.byteLength === 0) return out;
  const n = rng.int(1, rng.chance(0.7) ? 2 : 8);
  for (let k = 0; k < n; k++) out[rng.int(0, out.byteLength - 1)]! ^= 1 << rng.int(0, 7);
  return out;
}

export function setBytes(rng: Prng, b: Uint8Array): Uint8Array {
  const out = copy(b);
  if (out.byteLength === 0) return out;
  const n = rng.int(1, 4);
  for (let k = 0; k < n; k++) out[rng.int(0, out.byteLength - 1)] = rng.chance(0.6) ? rng.pick(INTERESTING_U8) : rng.u32() & 0xff;
  return out;
}

/** An interesting u16/u32/u64 at a random (often aligned) offset, in either byte order. */
export function interestingInt(rng: Prng, b: Uint8Array): Uint8Array {
  const out = copy(b);
  if (out.byteLength < 2) return setBytes(rng, out);
  const width = rng.pick(out.byteLength >= 8 ? ([2, 4, 4, 8] as const) : out.byteLength >= 4 ? ([2, 4] as const) : ([2] as const));
  let at = rng.int(0, out.byteLength - width);
  if (rng.chance(0.6)) at -= at % width;
  const le = rng.chance(0.8);
  const v =
    width === 2 ? rng.pick(INTERESTING_U16) : width === 4 ? rng.pick(INTERESTING_U32) : rng.pick([0n, 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n]);
  // Sometimes a small delta of the current value instead (off-by-one on counts and seqs).
  if (width !== 8 && rng.chance(0.3)) writeUint(out, at, width, le, readUint(out, at, width, le) + rng.int(-2, 2));
  else writeUint(out, at, width, le, v);
  return out;
}

export function truncate(rng: Prng, b: Uint8Array): Uint8Array {
  if (b.byteLength === 0) return copy(b);
  return b.slice(0, rng.int(0, b.byteLength - 1));
}

export function extend(rng: Prng, b: Uint8Array, maxBytes: number): Uint8Array {
  const n = rng.pick([1, 1, 2, 3, 4, 7, 8, 16, 64, rng.int(1, 512)]);
  return concat(b, rng.chance(0.5) ? new Uint8Array(n) : randomBytes(rng, n)).subarray(0, Math.max(maxBytes, b.byteLength + 1));
}

/** The head of `a` and the tail of `c`. */
export function splice(rng: Prng, a: Uint8Array, c: Uint8Array, maxBytes: number): Uint8Array {
  const head = a.subarray(0, rng.int(0, a.byteLength));
  const tail = c.subarray(rng.int(0, c.byteLength));
  return concat(head, tail).slice(0, maxBytes);
}

/** A slice of `b` inserted again at a random position (duplicated items, repeated lists). */
export function duplicate(rng: Prng, b: Uint8Array, maxBytes: number): Uint8Array {
  if (b.byteLength === 0) return copy(b);
  const from = rng.int(0, b.byteLength - 1);
  const len = rng.int(1, Math.min(b.byteLength - from, 256));
  const at = rng.int(0, b.byteLength);
  return concat(b.subarray(0, at), b.subarray(from, from + len), b.subarray(at)).slice(0, maxBytes);
}

export function remove(rng: Prng, b: Uint8Array): Uint8Array {
  if (b.byteLength === 0) return copy(b);
  const from = rng.int(0, b.byteLength - 1);
  const len = rng.int(1, Math.min(b.byteLength - from, 64));
  return concat(b.subarray(0, from), b.subarray(from + len));
}

/** Random bytes, sometimes behind a valid input's first bytes (a plausible header). */
export function random(rng: Prng, base: Uint8Array, maxBytes: number): Uint8Array {
  const n = rng.chance(0.5) ? rng.int(0, 64) : rng.int(0, Math.min(maxBytes, 2048));
  const body = randomBytes(rng, n);
  if (rng.chance(0.5)) return body;
  return concat(base.subarray(0, rng.int(0, Math.min(base.byteLength, 16))), body).slice(0, maxBytes);
}

/** One random generic mutation of `base`; `other` is a second valid input for splices. */
export function mutateOnce(rng: Prng, base: Uint8Array, other: Uint8Array, maxBytes: number): { bytes: Uint8Array; how: string } {
  const r = rng.int(0, 99);
  if (r < 25) return { bytes: flipBits(rng, base), how: "flip" };
  if (r < 40) return { bytes: setBytes(rng, base), how: "bytes" };
  if (r < 58) return { bytes: interestingInt(rng, base), how: "int" };
  if (r < 68) return { bytes: truncate(rng, base), how: "truncate" };
  if (r < 75) return { bytes: extend(rng, base, maxBytes), how: "extend" };
  if (r < 83) return { bytes: splice(rng, base, other, maxBytes), how: "splice" };
  if (r < 91) return { bytes: duplicate(rng, base, maxBytes), how: "duplicate" };
  if (r < 96) return { bytes: remove(rng, base), how: "delete" };
  return { bytes: random(rng, base, maxBytes), how: "random" };
}
