/**
 * `decoderTarget`: a stateless fuzz target from one decode function, the common case. The
 * function returns an outcome label for every input; it catches the decoder's documented
 * typed error (and only that) and returns its code; it checks round trips through `ctx`.
 * Anything else it throws is a failure.
 */
import { DecodeError } from "../../src/wire/errors.js";
import type { Prng } from "../../sim/prng.js";
import type { Field, FuzzContext, FuzzTarget, Outcome } from "./target.js";

export interface DecoderSpec {
  name: string;
  about: string;
  corpus: () => Uint8Array[];
  fields?: (input: Uint8Array) => readonly Field[];
  generate?: (rng: Prng) => Uint8Array;
  /** Decode one input: return its outcome; typed errors become outcomes (see `decodeErrorCode`). */
  decode(input: Uint8Array, ctx: FuzzContext): Outcome;
  maxBytes?: number;
  generateShare?: number;
  avgBudgetUs?: number;
  boundedCases?: number;
  sweepLimit?: number;
}

/** Build a stateless target from a decode function. The corpus is computed once. */
export function decoderTarget(spec: DecoderSpec): FuzzTarget {
  let corpus: Uint8Array[] | undefined;
  const t: FuzzTarget = {
    name: spec.name,
    about: spec.about,
    corpus: () => (corpus ??= spec.corpus()),
    open: (_rng, ctx) => ({ feed: (input) => spec.decode(input, ctx) }),
  };
  return Object.assign(
    t,
    spec.fields !== undefined ? { fields: spec.fields } : {},
    spec.generate !== undefined ? { generate: spec.generate } : {},
    spec.maxBytes !== undefined ? { maxBytes: spec.maxBytes } : {},
    spec.generateShare !== undefined ? { generateShare: spec.generateShare } : {},
    spec.avgBudgetUs !== undefined ? { avgBudgetUs: spec.avgBudgetUs } : {},
    spec.boundedCases !== undefined ? { boundedCases: spec.boundedCases } : {},
    spec.sweepLimit !== undefined ? { sweepLimit: spec.sweepLimit } : {},
  );
}

/** Run `fn`; a `DecodeError` becomes `{ error: code }`, anything else propagates. */
export function catchDecode<T>(fn: () => T): { ok: true; value: T } | { ok: false; code: string } {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, code: e.code };
    throw e;
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The first differing offset of two byte strings (for round-trip reports). */
export function firstDiff(a: Uint8Array, b: Uint8Array): string {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `byte ${i}: ${a[i]} vs ${b[i]}`;
  return `lengths ${a.byteLength} vs ${b.byteLength}`;
}
