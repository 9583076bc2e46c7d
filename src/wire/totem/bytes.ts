/**
 * Unchecked byte access and frame allocation for the hot paths (ORF token, MCAST, totempg,
 * groups). Measured on Node 20 (bench/wire-codec.ts): constructing a `DataView` costs about
 * 150 ns and allocating a `Uint8Array` over 64 bytes about 500 ns, several times the cost of
 * decoding a token field by field. So the hot codecs read and write bytes directly and take
 * their output from a slab, as Node's `Buffer.allocUnsafe` pool does; the cold messages
 * (join, commit, merge-detect, hold-cancel) keep the shared `Reader`/`Writer`.
 *
 * **Unchecked:** these functions do no bounds checks (a typed array reads `undefined` past
 * its end). A caller validates the frame's length against everything it will read first —
 * that is the decoders' "check length, then decode" order (style.md "Bytes are hostile").
 */

export function readU16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
}

export function readI16(b: Uint8Array, o: number, le: boolean): number {
  return (readU16(b, o, le) << 16) >> 16;
}

export function readI32(b: Uint8Array, o: number, le: boolean): number {
  return le
    ? b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)
    : (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

export function readU32(b: Uint8Array, o: number, le: boolean): number {
  if (le) return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** A u64 as a bigint; the common small value (high word 0) avoids BigInt arithmetic. */
export function readU64(b: Uint8Array, o: number, le: boolean): bigint {
  const lo = readU32(b, le ? o : o + 4, le);
  const hi = readU32(b, le ? o + 4 : o, le);
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

export function writeU16LE(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
}

/** Writes the low 32 bits of `v` (signed or unsigned) little-endian. */
export function writeU32LE(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

const U32_MAX = 0xffffffffn;

/** Writes `v` modulo 2^64 little-endian. */
export function writeU64LE(b: Uint8Array, o: number, v: bigint): void {
  if (v >= 0n && v <= U32_MAX) {
    writeU32LE(b, o, Number(v));
    writeU32LE(b, o + 4, 0);
    return;
  }
  const u = BigInt.asUintN(64, v);
  writeU32LE(b, o, Number(u & U32_MAX));
  writeU32LE(b, o + 4, Number(u >> 32n));
}

/** A view (no copy) of `b[start, end)`; cheaper than `subarray` on Node 20. */
export function view(b: Uint8Array, start: number, end: number = b.byteLength): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset + start, end - start);
}

const SLAB_BYTES = 16 * 1024;
/** Frames above this get their own allocation, so a slab holds at least 8 of them. */
const SLAB_FRAME_MAX = SLAB_BYTES >>> 3;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

/**
 * A zero-filled array of `n` bytes for an encoder to fill. Small frames are carved from a
 * shared 16 KiB slab that is never reused (a new one is taken when it is full), so each
 * frame is zero and independent; but its `.buffer` is the slab: always honour
 * `byteOffset`/`byteLength` (as `dgram.send` and `Uint8Array` methods do).
 */
export function allocFrame(n: number): Uint8Array {
  if (n > SLAB_FRAME_MAX) return new Uint8Array(n);
  if (slabUsed + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab.buffer, slabUsed, n);
  slabUsed = (slabUsed + n + 7) & ~7; // keep frames 8-byte aligned
  return out;
}
