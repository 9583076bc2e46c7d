/**
 * The fuzz engine: deterministic, seeded campaigns over the targets of registry.ts.
 *
 * A case is a pure function of (seed, target name, case index): its PRNG is derived from the
 * three, its input is drawn from the target's corpus by a structure-aware generator
 * (fields.ts), a target generator, or generic mutators (mutate.ts). A bounded run first
 * feeds the systematic sweep (every truncation, every count at every interesting value, every
 * wrapping pair, for each distinct shape of valid input), then random cases.
 *
 * Stateful targets see their inputs in episodes: a fresh consumer every `episode` inputs,
 * opened with a PRNG derived from (seed, episode), so replaying a case replays its episode.
 *
 * Oracles: the consumer's own checks (`ctx.check`), no exception other than the decoder's
 * typed ones (each target catches those and returns them as outcomes), a per-input watchdog
 * (a slow input is a failure; the campaign CLI also kills a worker stuck in one input), and
 * a mean-time budget per input (1 ms by default).
 *
 * A failure records everything needed to replay it: seed, case index (or sweep index), how
 * the input was made, and the input in hex.
 */
import { performance } from "node:perf_hooks";
import { Prng } from "../../sim/prng.js";
import { sweep as sweepBase, structuredOnce, type Variant } from "./fields.js";
import { knownError, knownOracle } from "./known-issues.js";
import { mutateOnce } from "./mutate.js";
import { OracleViolation, type Consumer, type FuzzContext, type FuzzTarget } from "./target.js";

/** Where a case comes from: the systematic sweep, the seeded random stream, or given bytes. */
export type CaseSource = "sweep" | "random" | "hex";

export interface Failure {
  target: string;
  seed: number;
  source: CaseSource;
  index: number;
  /** First case of the episode (replay feeds from there to `index`). */
  episodeStart: number;
  how: string;
  /** The input, hex. */
  hex: string;
  /** The error: name, message, first stack frames. */
  error: string;
  /** Error kind and message with numbers blanked: one line per distinct bug. */
  signature: string;
}

export interface TargetStats {
  target: string;
  seed: number;
  /** Inputs fed (sweep + random). */
  cases: number;
  sweepCases: number;
  randomCases: number;
  episodes: number;
  /** Distinct failures (by signature), at most `maxFailures`. */
  failures: Failure[];
  /** Every failing input, duplicates included. */
  failureCount: number;
  /** Violations of known, reported issues, by issue id. */
  known: Map<string, number>;
  outcomes: Map<string, number>;
  elapsedMs: number;
  maxMs: number;
  /** Which input took `maxMs` (replay it to tell a slow path from a GC pause). */
  slowest?: { source: CaseSource; index: number };
  /** The next random case index (to continue a campaign). */
  nextCase: number;
}

export interface RunOptions {
  seed: number;
  /** Random cases to feed (after the sweep). Default: the target's `boundedCases`. */
  cases?: number;
  /** Stop starting new cases after this much wall time (ms). */
  timeLimitMs?: number;
  /** Feed the systematic sweep first: true (all), false, or at most this many inputs. */
  sweep?: boolean | number;
  /** An input that takes longer than this is a failure (default 2000 ms). */
  watchdogMs?: number;
  /** Distinct failures kept (default 20). */
  maxFailures?: number;
  /** First random case index (default 0). */
  firstCase?: number;
  /** First sweep index (default 0; a campaign resumes after a hung sweep input). */
  sweepFirst?: number;
  /** Progress words shared with a watchdog thread: [inputs fed, current case, source]. */
  progress?: Int32Array;
  /** Called about once a second with the running figures. */
  onProgress?(stats: TargetStats): void;
  /** Treat violations of known issues as failures. */
  strict?: boolean;
}

const DEFAULT_CASES = 3000;
const DEFAULT_WATCHDOG_MS = 2000;
const DEFAULT_MAX_BYTES = 4096;

/** FNV-1a of a string (target names into seeds). */
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function mix(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    h = Math.imul(h ^ (w >>> 0), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/** The PRNG of case `index` of `target` under `seed`. */
export function caseRng(seed: number, target: string, index: number): Prng {
  return new Prng(mix(seed, fnv(target), index, Math.floor(index / 2 ** 32)));
}

/** The PRNG a stateful consumer gets for one episode. */
export function episodeRng(seed: number, target: string, source: CaseSource, episode: number): Prng {
  return new Prng(mix(seed, fnv(target), fnv(source), episode, 0xe1));
}

export function toHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[^0-9a-fA-F]/g, "");
  const out = new Uint8Array(clean.length >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Random case `index` of `target` under `seed`: deterministic. */
export function makeCase(target: FuzzTarget, seed: number, index: number): Variant {
  const rng = caseRng(seed, target.name, index);
  const corpus = target.corpus();
  const maxBytes = target.maxBytes ?? DEFAULT_MAX_BYTES;
  const base = rng.pick(corpus);
  const r = rng.int(0, 99);
  if (r < 3) return { bytes: base.slice(), how: "corpus" };
  if (target.generate !== undefined && r < 3 + (target.generateShare ?? 15)) {
    const g = target.generate(rng);
    return rng.chance(0.3) ? withHow(mutateOnce(rng, g, rng.pick(corpus), maxBytes), "generated+") : { bytes: g, how: "generated" };
  }
  const fields = target.fields?.(base) ?? [];
  if (fields.length > 0 && r < 55 + (target.generateShare ?? 15) - 15) {
    const v = structuredOnce(rng, base, fields, maxBytes);
    return { bytes: v.bytes, how: `structured: ${v.how}` };
  }
  if (r < 70) {
    let bytes = base;
    const steps = rng.int(2, 6);
    const hows: string[] = [];
    for (let k = 0; k < steps; k++) {
      const m = mutateOnce(rng, bytes, rng.pick(corpus), maxBytes);
      bytes = m.bytes;
      hows.push(m.how);
    }
    return { bytes, how: `havoc: ${hows.join(",")}` };
  }
  return mutateOnce(rng, base, rng.pick(corpus), maxBytes);
}

function withHow(m: { bytes: Uint8Array; how: string }, prefix: string): Variant {
  return { bytes: m.bytes, how: prefix + m.how };
}

const sweepCache = new WeakMap<FuzzTarget, Variant[]>();

/**
 * The systematic sweep of a target: for each distinct shape of valid input (up to 48), every
 * variant of fields.ts `sweep`. Deterministic; cached.
 */
export function sweepCases(target: FuzzTarget): Variant[] {
  const cached = sweepCache.get(target);
  if (cached !== undefined) return cached;
  const maxBytes = target.maxBytes ?? DEFAULT_MAX_BYTES;
  const shapes = new Map<string, Uint8Array>();
  for (const c of target.corpus()) {
    const fields = target.fields?.(c) ?? [];
    const key = `${c.byteLength > 256 ? "long" : c.byteLength}/${toHex(c.subarray(0, 6))}/${fields.map((f) => f.name).join(",")}`;
    if (!shapes.has(key) && shapes.size < 48) shapes.set(key, c);
  }
  const out: Variant[] = [];
  for (const base of shapes.values()) {
    out.push({ bytes: base.slice(), how: "corpus" });
    for (const v of sweepBase(base, target.fields?.(base) ?? [], maxBytes)) out.push(v);
  }
  sweepCache.set(target, out);
  return out;
}

/** The error of a failure as text: name, message and the first stack frames. */
function describeError(e: unknown): string {
  if (e instanceof Error) {
    const frames = (e.stack ?? "").split("\n").slice(1, 6).map((l) => l.trim());
    return [`${e.name}: ${e.message}`, ...frames].join("\n    ");
  }
  return `thrown non-Error: ${String(e)}`;
}

function signatureOf(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return text
    .replace(/\[node [^\]]*\]/g, "")
    .replace(/:.*\bafter the last hostile frame:.*/, ": liveness")
    .replace(/\b[0-9a-f]{8,}\b/gi, "#")
    .replace(/0x[0-9a-f]+/gi, "#")
    .replace(/\d+/g, "#")
    .slice(0, 160);
}

/** One target's run state: the consumer of the current episode and the figures. */
class Runner {
  readonly stats: TargetStats;
  private consumer: Consumer | undefined;
  private episodeSource: CaseSource = "random";
  private episodeNo = -1;
  private episodeStart = 0;
  private readonly seen = new Set<string>();
  private readonly ctx: FuzzContext;

  constructor(
    readonly target: FuzzTarget,
    readonly opts: RunOptions,
  ) {
    this.stats = {
      target: target.name,
      seed: opts.seed,
      cases: 0,
      sweepCases: 0,
      randomCases: 0,
      episodes: 0,
      failures: [],
      failureCount: 0,
      known: new Map(),
      outcomes: new Map(),
      elapsedMs: 0,
      maxMs: 0,
      nextCase: opts.firstCase ?? 0,
    };
    this.ctx = {
      check: (cond, id, message) => {
        if (cond) return;
        const text = message();
        const k = opts.strict === true ? undefined : knownOracle(target.name, id, text);
        if (k !== undefined) {
          this.stats.known.set(k.id, (this.stats.known.get(k.id) ?? 0) + 1);
          return;
        }
        throw new OracleViolation(id, text);
      },
    };
  }

  get episodeLength(): number {
    return Math.max(1, this.target.episode ?? 1);
  }

  /** Feed input `index` of `source`, opening or closing episodes as needed. */
  feed(source: CaseSource, index: number, v: Variant): void {
    const ep = Math.floor(index / this.episodeLength);
    if (this.consumer !== undefined && (source !== this.episodeSource || ep !== this.episodeNo)) this.closeEpisode(v);
    if (this.consumer === undefined) {
      this.episodeSource = source;
      this.episodeNo = ep;
      this.episodeStart = ep * this.episodeLength;
      this.stats.episodes++;
      try {
        this.consumer = this.target.open(episodeRng(this.opts.seed, this.target.name, source, ep), this.ctx);
      } catch (e) {
        this.fail(source, index, v, e);
        return;
      }
    }
    const p = this.opts.progress;
    if (p !== undefined) {
      Atomics.store(p, 1, index | 0);
      Atomics.store(p, 2, source === "sweep" ? 1 : source === "hex" ? 2 : 0);
    }
    let outcome: string;
    try {
      this.consumer!.advance?.();
    } catch (e) {
      this.fail(source, index, v, e, "while time passed before it");
      this.consumer = undefined;
      return;
    }
    const t0 = performance.now();
    try {
      outcome = this.consumer!.feed(v.bytes);
    } catch (e) {
      outcome = "FAILED";
      this.fail(source, index, v, e);
      this.consumer = undefined;
    }
    const dt = performance.now() - t0;
    if (p !== undefined) Atomics.add(p, 0, 1);
    this.stats.cases++;
    if (source === "sweep") this.stats.sweepCases++;
    else this.stats.randomCases++;
    this.stats.elapsedMs += dt;
    if (dt > this.stats.maxMs) {
      this.stats.maxMs = dt;
      this.stats.slowest = { source, index };
    }
    this.stats.outcomes.set(outcome, (this.stats.outcomes.get(outcome) ?? 0) + 1);
    const watchdog = this.opts.watchdogMs ?? DEFAULT_WATCHDOG_MS;
    if (dt > watchdog) this.fail(source, index, v, new OracleViolation("watchdog", `one input took ${dt.toFixed(0)} ms (watchdog ${watchdog} ms)`));
    if (this.consumer !== undefined && (index + 1) % this.episodeLength === 0) this.closeEpisode(v);
  }

  /** End the current episode (its final checks). */
  closeEpisode(last?: Variant): void {
    const c = this.consumer;
    this.consumer = undefined;
    if (c?.close === undefined) return;
    try {
      c.close();
    } catch (e) {
      this.fail(this.episodeSource, this.episodeStart + this.episodeLength - 1, last ?? { bytes: new Uint8Array(0), how: "end of episode" }, e, "end of episode");
    }
  }

  fail(source: CaseSource, index: number, v: Variant, e: unknown, note?: string): void {
    const k = this.opts.strict === true || e instanceof OracleViolation ? undefined : knownError(this.target.name, e);
    if (k !== undefined) {
      this.stats.known.set(k.id, (this.stats.known.get(k.id) ?? 0) + 1);
      return;
    }
    this.stats.failureCount++;
    const signature = signatureOf(e);
    if (this.seen.has(signature) || this.stats.failures.length >= (this.opts.maxFailures ?? 20)) return;
    this.seen.add(signature);
    this.stats.failures.push({
      target: this.target.name,
      seed: this.opts.seed,
      source,
      index,
      episodeStart: this.episodeLength > 1 ? Math.floor(index / this.episodeLength) * this.episodeLength : index,
      how: note !== undefined ? `${v.how} (${note})` : v.how,
      hex: toHex(v.bytes),
      error: describeError(e),
      signature,
    });
  }

  /** The mean-time oracle, checked once at the end. */
  checkBudget(): void {
    const budget = this.target.avgBudgetUs ?? 1000;
    if (this.stats.cases === 0) return;
    const avgUs = (this.stats.elapsedMs / this.stats.cases) * 1000;
    if (avgUs > budget) {
      this.fail("random", this.stats.nextCase, { bytes: new Uint8Array(0), how: "whole run" }, new OracleViolation("avg-budget", `mean ${avgUs.toFixed(1)} µs per input exceeds ${budget} µs`));
    }
  }
}

/** Run one target: the sweep (if asked), then random cases until the count or time is reached. */
export function runTarget(target: FuzzTarget, opts: RunOptions): TargetStats {
  const runner = new Runner(target, opts);
  const start = performance.now();
  const deadline = opts.timeLimitMs !== undefined ? start + opts.timeLimitMs : Infinity;
  let lastReport = start;
  const report = (): void => {
    const now = performance.now();
    if (opts.onProgress !== undefined && now - lastReport > 1000) {
      lastReport = now;
      opts.onProgress(runner.stats);
    }
  };
  if (opts.sweep !== undefined && opts.sweep !== false) {
    const all = sweepCases(target);
    const limit = Math.min(all.length, opts.sweep === true ? (target.sweepLimit ?? Infinity) : opts.sweep);
    for (let i = opts.sweepFirst ?? 0; i < limit && performance.now() < deadline; i++) {
      runner.feed("sweep", i, all[i]!);
      report();
    }
    runner.closeEpisode();
  }
  const cases = opts.cases ?? (opts.timeLimitMs !== undefined ? Infinity : (target.boundedCases ?? DEFAULT_CASES));
  const first = opts.firstCase ?? 0;
  for (let i = first; i < first + cases; i++) {
    if ((i & 15) === 0 && performance.now() >= deadline) break;
    runner.feed("random", i, makeCase(target, opts.seed, i));
    runner.stats.nextCase = i + 1;
    report();
  }
  runner.closeEpisode();
  runner.checkBudget();
  return runner.stats;
}

/**
 * Replay: feed the episode that contains case `index` of `source` (from its first case to
 * `index`) to a fresh consumer, or one given input. Known issues count as failures here.
 */
export function replay(target: FuzzTarget, seed: number, source: CaseSource, index: number, hexInput?: string): TargetStats {
  const runner = new Runner(target, { seed, strict: true, maxFailures: 100 });
  if (source === "hex") {
    runner.feed("hex", 0, { bytes: fromHex(hexInput ?? ""), how: "given" });
  } else {
    const len = Math.max(1, target.episode ?? 1);
    const start = Math.floor(index / len) * len;
    const sweep = source === "sweep" ? sweepCases(target) : [];
    for (let i = start; i <= index; i++) runner.feed(source, i, source === "sweep" ? sweep[i]! : makeCase(target, seed, i));
  }
  runner.closeEpisode();
  return runner.stats;
}

/** The input of a case, without running it (for a report after a watchdog kill). */
export function caseInput(target: FuzzTarget, seed: number, source: CaseSource, index: number): Variant | undefined {
  if (source === "sweep") return sweepCases(target)[index];
  if (source === "random") return makeCase(target, seed, index);
  return undefined;
}

/** The command that replays a failure. */
export function replayCommand(f: Pick<Failure, "target" | "seed" | "source" | "index" | "hex">): string {
  if (f.source === "hex") return `npm run fuzz -- --target ${f.target} --hex ${f.hex}`;
  const which = f.source === "sweep" ? `--sweep ${f.index}` : `--case ${f.index}`;
  return `npm run fuzz -- --target ${f.target} --seed ${f.seed} ${which}`;
}

/** A failure as the lines to print. */
export function formatFailure(f: Failure): string {
  const episode = f.episodeStart !== f.index ? ` (episode from case ${f.episodeStart})` : "";
  const hex = f.hex.length > 4096 ? `${f.hex.slice(0, 4096)}… (${f.hex.length / 2} bytes)` : f.hex;
  return [
    `FUZZ FAILURE ${f.target}: seed ${f.seed}, ${f.source} case ${f.index}${episode}, input made by ${f.how}`,
    `  error: ${f.error}`,
    `  input (${f.hex.length / 2} bytes): ${hex}`,
    `  replay: ${replayCommand(f)}`,
  ].join("\n");
}

/** One summary line: cases, failures, known issues, time, top outcomes. */
export function formatStats(s: TargetStats): string {
  const avgUs = s.cases > 0 ? (s.elapsedMs / s.cases) * 1000 : 0;
  const top = [...s.outcomes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  const known = s.known.size > 0 ? `, known issues: ${[...s.known].map(([k, n]) => `${k} ×${n}`).join(", ")}` : "";
  const slowest = s.slowest !== undefined ? ` (${s.slowest.source} ${s.slowest.index})` : "";
  return `${s.target}: ${s.cases} inputs (${s.sweepCases} sweep + ${s.randomCases} random, ${s.episodes} episodes), ${s.failureCount} failures${known}; mean ${avgUs.toFixed(1)} µs, max ${s.maxMs.toFixed(2)} ms${slowest}; ${top}`;
}
