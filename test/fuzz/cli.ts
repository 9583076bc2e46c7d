/**
 * `npm run fuzz` (scripts/fuzz.mjs runs `main` from the compiled file):
 *
 *   npm run fuzz -- --minutes N [--target a,b] [--seed S] [--jobs J] [--watchdog-s W] [--strict]
 *       A campaign: every target (or the named ones) for N minutes of wall time in all,
 *       shared evenly, J targets at a time in worker threads. Prints inputs fuzzed and
 *       failures per target; exits 0 iff no failures (known, reported issues are listed
 *       apart and do not count unless --strict).
 *   npm run fuzz -- --target T --case C [--seed S]   replay random case C (its whole episode)
 *   npm run fuzz -- --target T --sweep K --seed S    replay systematic-sweep case K (its episode)
 *   npm run fuzz -- --target T --hex HEX             feed one input to a fresh consumer
 *   npm run fuzz -- --list                           the targets
 *
 * A worker that makes no progress for the watchdog time (default 30 s) is terminated; its
 * current input is regenerated from (seed, case) and reported as a hang, and the target
 * continues after it.
 */
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { parseArgs } from "node:util";
import { caseInput, formatFailure, formatStats, replay, toHex, type CaseSource, type Failure, type TargetStats } from "./engine.js";
import { KNOWN_ISSUES } from "./known-issues.js";
import { TARGETS, targetNamed } from "./registry.js";
import type { PlainStats, WorkerInput } from "./worker.js";

function fromPlain(p: PlainStats): TargetStats {
  return { ...p, known: new Map(p.known), outcomes: new Map(p.outcomes) };
}

/** Sum of two runs of one target (a run restarted after a watchdog kill). */
function merge(a: TargetStats | undefined, b: TargetStats): TargetStats {
  if (a === undefined) return b;
  const known = new Map(a.known);
  for (const [k, n] of b.known) known.set(k, (known.get(k) ?? 0) + n);
  const outcomes = new Map(a.outcomes);
  for (const [k, n] of b.outcomes) outcomes.set(k, (outcomes.get(k) ?? 0) + n);
  return {
    ...b,
    cases: a.cases + b.cases,
    sweepCases: a.sweepCases + b.sweepCases,
    randomCases: a.randomCases + b.randomCases,
    episodes: a.episodes + b.episodes,
    failures: [...a.failures, ...b.failures],
    failureCount: a.failureCount + b.failureCount,
    known,
    outcomes,
    elapsedMs: a.elapsedMs + b.elapsedMs,
    maxMs: Math.max(a.maxMs, b.maxMs),
    ...(a.maxMs > b.maxMs && a.slowest !== undefined ? { slowest: a.slowest } : {}),
  };
}

interface Slot {
  target: string;
  worker: Worker;
  progress: Int32Array;
  lastCount: number;
  lastChange: number;
  deadline: number;
  latest?: TargetStats;
  done: Promise<void>;
}

/** Run one target in a worker until its deadline; restart after a watchdog kill. */
async function runInWorker(target: string, seed: number, deadline: number, watchdogMs: number, strict: boolean, log: (s: string) => void): Promise<TargetStats> {
  let total: TargetStats | undefined;
  let firstCase = 0;
  let sweep = true;
  let sweepFirst = 0;
  while (performance.now() < deadline - 200) {
    const sab = new SharedArrayBuffer(12);
    const input: WorkerInput = { target, seed, timeLimitMs: deadline - performance.now(), firstCase, sweep, sweepFirst, watchdogMs: 2000, strict, progress: sab };
    const worker = new Worker(new URL("./worker.js", import.meta.url), { workerData: input });
    const slot: Slot = { target, worker, progress: new Int32Array(sab), lastCount: 0, lastChange: performance.now(), deadline, done: Promise.resolve() };
    let final: TargetStats | undefined;
    let hung = false;
    slot.done = new Promise<void>((resolve) => {
      worker.on("message", (m: { kind: string; stats: PlainStats }) => {
        slot.latest = fromPlain(m.stats);
        if (m.kind === "done") final = slot.latest;
      });
      worker.on("error", (e) => {
        log(`worker for ${target} died: ${e.stack ?? String(e)}`);
        resolve();
      });
      worker.on("exit", () => resolve());
    });
    const timer = setInterval(() => {
      const count = Atomics.load(slot.progress, 0);
      const now = performance.now();
      if (count !== slot.lastCount) {
        slot.lastCount = count;
        slot.lastChange = now;
      } else if (now - slot.lastChange > watchdogMs) {
        hung = true;
        void worker.terminate();
      }
    }, 250);
    await slot.done;
    clearInterval(timer);
    let run = final ?? slot.latest;
    if (hung || final === undefined) {
      const index = Atomics.load(slot.progress, 1);
      const source: CaseSource = Atomics.load(slot.progress, 2) === 1 ? "sweep" : "random";
      const v = caseInput(targetNamed(target), seed, source, index);
      const f: Failure = {
        target,
        seed,
        source,
        index,
        episodeStart: index,
        how: v?.how ?? "?",
        hex: v !== undefined ? toHex(v.bytes) : "",
        error: hung ? `hang: no progress for ${watchdogMs} ms (worker terminated)` : "worker exited without reporting",
        signature: hung ? "hang" : "worker exit",
      };
      run = merge(run, { ...(run ?? emptyStats(target, seed)), cases: 0, sweepCases: 0, randomCases: 0, episodes: 0, failures: [f], failureCount: 1, known: new Map(), outcomes: new Map(), elapsedMs: 0, maxMs: 0 });
      log(formatFailure(f));
      if (source === "random") {
        firstCase = index + 1;
        sweep = false;
      } else {
        sweepFirst = index + 1;
      }
      total = merge(total, run);
      continue;
    }
    total = merge(total, run!);
    break;
  }
  return total ?? emptyStats(target, seed);
}

function emptyStats(target: string, seed: number): TargetStats {
  return { target, seed, cases: 0, sweepCases: 0, randomCases: 0, episodes: 0, failures: [], failureCount: 0, known: new Map(), outcomes: new Map(), elapsedMs: 0, maxMs: 0, nextCase: 0 };
}

async function campaign(names: string[], minutes: number, seed: number, jobs: number, watchdogMs: number, strict: boolean): Promise<number> {
  const log = (s: string): void => void process.stdout.write(`${s}\n`);
  const shareMs = (minutes * 60_000 * jobs) / names.length;
  log(`fuzz campaign: seed ${seed}, ${names.length} targets, ${jobs} at a time, ${(shareMs / 60_000).toFixed(2)} min each (${minutes} min in all)`);
  const queue = [...names];
  const results = new Map<string, TargetStats>();
  const runners: Array<Promise<void>> = [];
  for (let j = 0; j < Math.min(jobs, names.length); j++) {
    runners.push(
      (async () => {
        for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
          const s = await runInWorker(t, seed, performance.now() + shareMs, watchdogMs, strict, log);
          results.set(t, s);
          log(formatStats(s));
          for (const f of s.failures) log(formatFailure(f));
        }
      })(),
    );
  }
  await Promise.all(runners);
  log("\nsummary (inputs fuzzed, failures per target):");
  let failures = 0;
  let known = 0;
  for (const t of names) {
    const s = results.get(t)!;
    failures += s.failureCount;
    for (const n of s.known.values()) known += n;
    const k = [...s.known].map(([id, n]) => `${id} ×${n}`).join(", ");
    log(`  ${t.padEnd(14)} ${String(s.cases).padStart(11)} inputs  ${String(s.failureCount).padStart(4)} failures${k ? `  known: ${k}` : ""}`);
  }
  if (known > 0) {
    log("\nknown issues (reported, not fixed on this branch):");
    for (const k of KNOWN_ISSUES) log(`  ${k.id}: ${k.summary}`);
  }
  log(`\n${failures === 0 ? "no failures" : `${failures} failing inputs`}; seed ${seed}`);
  return failures === 0 ? 0 : 1;
}

function printReplay(s: TargetStats): number {
  process.stdout.write(`${formatStats(s)}\n`);
  for (const f of s.failures) process.stdout.write(`${formatFailure(f)}\n`);
  if (s.known.size > 0) process.stdout.write(`known issues hit: ${[...s.known].map(([k, n]) => `${k} ×${n}`).join(", ")}\n`);
  return s.failureCount === 0 && s.known.size === 0 ? 0 : 1;
}

/** The CLI; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: "string" },
      target: { type: "string" },
      seed: { type: "string" },
      jobs: { type: "string" },
      "watchdog-s": { type: "string" },
      case: { type: "string" },
      sweep: { type: "string" },
      hex: { type: "string" },
      strict: { type: "boolean" },
      list: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.list === true) {
    for (const t of TARGETS) process.stdout.write(`${t.name.padEnd(14)} ${t.about}\n`);
    return 0;
  }
  const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
  const names = values.target !== undefined ? values.target.split(",").map((n) => targetNamed(n.trim()).name) : TARGETS.map((t) => t.name);
  if (values.case !== undefined || values.sweep !== undefined || values.hex !== undefined) {
    if (names.length !== 1) throw new Error("replay needs exactly one --target");
    const t = targetNamed(names[0]!);
    if (values.hex !== undefined) return printReplay(replay(t, seed, "hex", 0, values.hex));
    if (values.seed === undefined) throw new Error("--case and --sweep need the --seed of the run that found it");
    if (values.sweep !== undefined) return printReplay(replay(t, seed, "sweep", Number(values.sweep)));
    return printReplay(replay(t, seed, "random", Number(values.case)));
  }
  const minutes = Number(values.minutes ?? "1");
  if (!(minutes > 0)) throw new Error("--minutes must be a positive number");
  const jobs = Math.max(1, Number(values.jobs ?? Math.max(1, Math.min(names.length, availableParallelism()))));
  const watchdogMs = 1000 * Number(values["watchdog-s"] ?? "30");
  return campaign(names, minutes, seed, jobs, watchdogMs, values.strict === true);
}

const USAGE = `usage:
  npm run fuzz -- --minutes N [--target a,b] [--seed S] [--jobs J] [--watchdog-s W] [--strict]
  npm run fuzz -- --target T --case C --seed S   replay a random case (its episode)
  npm run fuzz -- --target T --sweep K --seed S  replay a sweep case (its episode)
  npm run fuzz -- --target T --hex HEX           feed one input
  npm run fuzz -- --list
`;
