/**
 * Structure-aware generation from a target's field layout (target.ts `Field`): the bad-input
 * matrix of docs/background/failure-modes-and-testing.md §4.3 B1 — every count at 0, its
 * limit, limit+1, 2^31, 2^32−1 (with and without padding the input to what the count
 * claims), pairs of counts whose sum wraps in 32-bit arithmetic (CVE-2026-35092), truncation
 * at every offset, trailing bytes, wrong magic/version/type/flags, extreme ids and seqs.
 *
 * Two forms: `structuredOnce` draws one such input at random (seeded); `sweep` lists all of
 * them for one valid input, deterministically (the systematic part of a bounded run).
 */
import type { Prng } from "../../sim/prng.js";
import { readUint, writeUint } from "./mutate.js";
import type { Field } from "./target.js";

/** One generated input and how it was made (for the failure report). */
export interface Variant {
  bytes: Uint8Array;
  how: string;
}

const TWO_32 = 2 ** 32;

/** Values to try in a count field of this width and limit. */
export function countValues(f: Field): number[] {
  const max = f.width === 8 ? TWO_32 - 1 : 2 ** (8 * f.width) - 1;
  const half = Math.floor((max + 1) / 2);
  const lim = f.limit ?? max;
  const vals = [0, 1, lim - 1, lim, lim + 1, lim * 2, half - 1, half, half + 1, max - 1, max];
  return [...new Set(vals.filter((v) => v >= 0 && v <= max))];
}

/** Values to try in a length field (a piece or a name length). */
export function lengthValues(f: Field, inputLength: number): number[] {
  const max = 2 ** (8 * Math.min(f.width, 4)) - 1;
  const vals = [0, 1, inputLength - 1, inputLength, inputLength + 1, Math.floor(max / 2), Math.floor(max / 2) + 1, max - 1, max];
  return [...new Set(vals.filter((v) => v >= 0 && v <= max))];
}

/** Wrong (and other valid) values of an enum field: a type confusion is as interesting. */
export function enumValues(f: Field, current: number): number[] {
  const max = f.width >= 4 ? 0xffffffff : 2 ** (8 * f.width) - 1;
  const vals = [...(f.valid ?? []), 0, 1, 2, 3, 4, 5, 6, 7, 0x7f, 0x80, 0xff, max, current + 1, current - 1];
  if (f.width >= 2) vals.push(0x70c0, 0xc070, 0xffff, 0xfefe, 0x0100, 0x5eca, ((current & 0xff) << 8) | (current >>> 8));
  return [...new Set(vals.filter((v) => v >= 0 && v <= max && v !== current))];
}

/** Extremes for an id, seq or other unconstrained field. */
export function extremeValues(f: Field): Array<number | bigint> {
  if (f.width === 8) return [0n, 1n, 2n ** 32n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
  const max = 2 ** (8 * f.width) - 1;
  return [...new Set([0, 1, Math.floor(max / 2), Math.floor(max / 2) + 1, max - 1, max])];
}

/** `base` with field `f` set to `v`. */
export function withField(base: Uint8Array, f: Field, v: number | bigint): Uint8Array {
  const out = base.slice();
  writeUint(out, f.at, f.width, f.le, v);
  return out;
}

/**
 * `bytes` grown or cut at the end by `delta` bytes (a count that now claims more or fewer
 * items); the added bytes repeat the input's tail so that items look plausible. Undefined
 * when the result would be negative or longer than `maxBytes`.
 */
export function resize(bytes: Uint8Array, delta: number, maxBytes: number): Uint8Array | undefined {
  const n = bytes.byteLength + delta;
  if (n < 0 || n > maxBytes) return undefined;
  if (delta <= 0) return bytes.slice(0, n);
  const out = new Uint8Array(n);
  out.set(bytes);
  const src = bytes.subarray(Math.max(0, bytes.byteLength - 64));
  if (src.byteLength > 0) for (let at = bytes.byteLength; at < n; at += src.byteLength) out.set(src.subarray(0, Math.min(src.byteLength, n - at)), at);
  return out;
}

/** A variant not built yet: generators draw one and build only that one. */
type Lazy = () => Variant | undefined;

/** The count variants of one field: the value alone, and padded to what it claims. */
function countVariants(base: Uint8Array, f: Field, v: number, maxBytes: number): Lazy[] {
  const out: Lazy[] = [() => ({ bytes: withField(base, f, v), how: `${f.name}=${hex(v)}` })];
  if (f.unit !== undefined && f.unit > 0) {
    const unit = f.unit;
    out.push(() => {
      const old = readUint(base, f.at, f.width, f.le);
      const grown = resize(withField(base, f, v), (v - old) * unit, maxBytes);
      return grown !== undefined ? { bytes: grown, how: `${f.name}=${hex(v)}+resized` } : undefined;
    });
  }
  return out;
}

/**
 * Pairs of counts in one group whose 32-bit sum (times the unit) equals the original one:
 * a decoder that adds before it bounds sees a frame of exactly the right length.
 */
function wrapVariants(base: Uint8Array, a: Field, b: Field): Variant[] {
  const ca = readUint(base, a.at, a.width, a.le);
  const cb = readUint(base, b.at, b.width, b.le);
  const unit = a.unit ?? 1;
  const out: Variant[] = [];
  const pairs: Array<[number, number]> = [
    [ca + TWO_32 / unit, cb], // (a + b) * unit wraps by exactly 2^32
    [0xffffffff, (ca + cb + 1) % TWO_32], // a + b wraps in 32 bits
    [0x80000000, (ca + cb + 0x80000000) % TWO_32],
    [(ca + cb + TWO_32 / unit / 2) % TWO_32, TWO_32 / unit / 2],
  ];
  for (const [va, vb] of pairs) {
    if (!Number.isInteger(va) || va >= TWO_32) continue;
    const bytes = withField(withField(base, a, va), b, vb);
    out.push({ bytes, how: `wrap ${a.name}=${hex(va)} ${b.name}=${hex(vb)}` });
  }
  return out;
}

function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}

/** Count fields grouped by `group`, each group with ≥ 2 members. */
function wrapGroups(fields: readonly Field[]): Field[][] {
  const groups = new Map<string, Field[]>();
  for (const f of fields) {
    if (f.kind !== "count" || f.group === undefined) continue;
    const g = groups.get(f.group) ?? [];
    g.push(f);
    groups.set(f.group, g);
  }
  return [...groups.values()].filter((g) => g.length >= 2);
}

/** Every field variant of one field (not truncation), unbuilt. */
function fieldVariants(base: Uint8Array, f: Field, maxBytes: number): Lazy[] {
  if (f.at + f.width > base.byteLength) return [];
  const set = (v: number | bigint): Lazy => () => ({ bytes: withField(base, f, v), how: `${f.name}=${hex(v)}` });
  switch (f.kind) {
    case "count":
      return countValues(f).flatMap((v) => countVariants(base, f, v, maxBytes));
    case "length":
      return lengthValues(f, base.byteLength).map(set);
    case "enum":
      return enumValues(f, readUint(base, f.at, f.width, f.le)).map(set);
    case "value":
      return extremeValues(f).map(set);
  }
}

function built(list: readonly Lazy[]): Variant[] {
  const out: Variant[] = [];
  for (const l of list) {
    const v = l();
    if (v !== undefined) out.push(v);
  }
  return out;
}

/**
 * The systematic variants of one valid input: truncation at every offset, trailing bytes,
 * every field at every interesting value, every wrapping pair. Deterministic.
 */
export function sweep(base: Uint8Array, fields: readonly Field[], maxBytes: number): Variant[] {
  const out: Variant[] = [];
  for (let n = 0; n < base.byteLength; n++) out.push({ bytes: base.slice(0, n), how: `truncated to ${n}` });
  for (const extra of [1, 3, 4, 16]) {
    const grown = resize(base, extra, maxBytes + 16);
    if (grown !== undefined) out.push({ bytes: grown, how: `${extra} trailing bytes` });
  }
  for (const f of fields) out.push(...built(fieldVariants(base, f, maxBytes)));
  for (const g of wrapGroups(fields)) {
    for (let i = 0; i < g.length; i++) for (let j = 0; j < g.length; j++) if (i !== j) out.push(...wrapVariants(base, g[i]!, g[j]!));
  }
  return out;
}

/** One structure-aware variant of `base`, drawn at random. */
export function structuredOnce(rng: Prng, base: Uint8Array, fields: readonly Field[], maxBytes: number): Variant {
  const groups = wrapGroups(fields);
  const r = rng.int(0, 99);
  if (fields.length === 0 || r < 8) {
    const n = rng.int(0, Math.max(0, base.byteLength - 1));
    return { bytes: base.slice(0, n), how: `truncated to ${n}` };
  }
  if (r < 12) {
    const extra = rng.pick([1, 2, 3, 4, 8, 16, rng.int(1, 256)]);
    const grown = resize(base, extra, maxBytes + 16) ?? base.slice();
    return { bytes: grown, how: `${extra} trailing bytes` };
  }
  if (r < 20 && groups.length > 0) {
    const g = rng.pick(groups);
    const a = rng.pick(g);
    const b = rng.pick(g.filter((x) => x !== a));
    const vs = wrapVariants(base, a, b);
    if (vs.length > 0) return rng.pick(vs);
  }
  const f = rng.pick(fields);
  const vs = fieldVariants(base, f, maxBytes);
  const v = vs.length > 0 ? rng.pick(vs)() : undefined;
  if (v === undefined) return { bytes: base.slice(), how: "unchanged" };
  // Sometimes a second field too: a count raised together with a type or a length.
  if (rng.chance(0.2)) {
    const g = rng.pick(fields);
    const ws = fieldVariants(v.bytes, g, maxBytes);
    const w = ws.length > 0 ? rng.pick(ws)() : undefined;
    if (w !== undefined) return { bytes: w.bytes, how: `${v.how}; ${w.how}` };
  }
  return v;
}

/** Fields shifted by `offset` bytes (a layout nested in a larger input). */
export function shifted(fields: readonly Field[], offset: number, prefix = ""): Field[] {
  return fields.map((f) => ({ ...f, at: f.at + offset, name: prefix + f.name }));
}
