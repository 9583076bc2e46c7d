/**
 * The contract between the fuzz engine (engine.ts) and one fuzz target: a decoder, or a
 * stateful consumer of hostile bytes (TotemSrp, TotemPg, SyncProtocol, ServiceHost, the
 * secauth envelope, an IPC ring). Targets are listed in registry.ts; the README of this
 * directory (test/fuzz/README.md) says how to add one.
 *
 * Every input is a byte string. A target that consumes something else (configuration text)
 * converts; a stateful target may read a small prefix of the input as "who sends it and how"
 * (documented per target) so that the mutators fuzz that too.
 */
import type { Prng } from "../../sim/prng.js";

/**
 * One field of a valid input, for structure-aware generation (fields.ts): the generator
 * inflates counts to their limit, limit+1, 2^31, 2^32−1, writes pairs of counts whose sum
 * wraps in 32-bit arithmetic, writes wrong magic/version/type values, extreme values.
 */
export interface Field {
  /** Which field, in the spec's or corosync's name (e.g. "memb_join.proc_list_entries"). */
  name: string;
  /** Byte offset in the input. */
  at: number;
  width: 1 | 2 | 4 | 8;
  /** Byte order of the field in this input. */
  le: boolean;
  /**
   * - `count`: a number of items (or an index) checked against a named `limit`;
   * - `length`: a byte length (a piece or a name length);
   * - `enum`: only the `valid` values are meaningful (magic, version, type, flags);
   * - `value`: anything goes (ids, seqs): extremes are tried.
   */
  kind: "count" | "length" | "enum" | "value";
  /** `count`: the named limit the decoder must enforce. */
  limit?: number;
  /** `count`: bytes one counted item occupies (to pad the input to what the count claims). */
  unit?: number;
  /** `enum`: the meaningful values. */
  valid?: readonly number[];
  /** `count`: counts that add up in one length computation (pairs that must not wrap). */
  group?: string;
}

/** What one input did, for the per-target histogram ("ok", "TRUNCATED", "GATHER:join"...). */
export type Outcome = string;

/** A consumer of inputs: a decoder (stateless) or a live object fed one input at a time. */
export interface Consumer {
  /**
   * Time passes before the next input arrives (a simulated cluster runs on): called before
   * every `feed`, outside the per-input timing. Throws like `feed`.
   */
  advance?(): void;
  /**
   * Feed one input; return its outcome label. Throw on a bug: an unexpected exception from
   * the code under test propagates as is; an oracle violation throws `OracleViolation`.
   */
  feed(input: Uint8Array): Outcome;
  /** End of an episode: final checks (bounds, liveness). Throws like `feed`. */
  close?(): void;
}

export interface FuzzTarget {
  /** Short name for `--target` (lower-case, dashes). */
  readonly name: string;
  /** One line: what is fuzzed and what the oracles are. */
  readonly about: string;
  /** Valid inputs to mutate (computed once, cached by the target). Never empty. */
  corpus(): readonly Uint8Array[];
  /** Field layout of a valid input (structure-aware generation); [] when unknown. */
  fields?(input: Uint8Array): readonly Field[];
  /** A target-specific generator of hostile inputs (e.g. random configuration trees). */
  generate?(rng: Prng): Uint8Array;
  /**
   * A fresh consumer. `rng` is derived from the seed and the episode number, so a
   * stateful consumer's own choices (timing, which node) replay exactly. Oracles are checked
   * through `ctx.check`.
   */
  open(rng: Prng, ctx: FuzzContext): Consumer;
  /** Inputs fed to one consumer before a fresh one is opened; 1 (default) for decoders. */
  readonly episode?: number;
  /** Mean time budget per input in µs (default 1000: "≤ 1 ms per frame"). */
  readonly avgBudgetUs?: number;
  /** Percent of random cases drawn from `generate` (default 15). */
  readonly generateShare?: number;
  /** Longest input the generic mutators build (default 4096 bytes). */
  readonly maxBytes?: number;
  /** Cases per bounded run in `npm test` (default 3000). */
  readonly boundedCases?: number;
  /** Most systematic-sweep inputs per bounded run (default: all). */
  readonly sweepLimit?: number;
}

/**
 * An oracle saw something wrong that is not an exception of the code under test: a bound
 * exceeded, a round trip that does not reproduce, an invariant. `id` names the oracle
 * (known-issues.ts matches on it).
 */
export class OracleViolation extends Error {
  override readonly name = "OracleViolation";
  constructor(
    readonly id: string,
    message: string,
  ) {
    super(`[${id}] ${message}`);
  }
}

/** How a consumer reports oracle checks to the engine. */
export interface FuzzContext {
  /**
   * Check an oracle. A violation throws `OracleViolation`, except one listed in
   * known-issues.ts, which is counted and lets the episode go on (so that one known, reported
   * bug does not hide the others behind it).
   */
  check(cond: boolean, id: string, message: () => string): void;
}

/** A context that throws on every violation (unit tests, replay of one input). */
export const STRICT: FuzzContext = {
  check(cond, id, message) {
    if (!cond) throw new OracleViolation(id, message());
  },
};
