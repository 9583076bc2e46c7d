#!/usr/bin/env node
/**
 * `corosync-sim`: the deterministic simulator of the Totem core (sim/). Runs seeded swarms of
 * N-node clusters of the very same core objects as the daemon, in virtual time, with every
 * fault setting derived from the seed, and judges each run with checkers outside the nodes.
 *
 *   corosync-sim --seeds 1..2000 --nodes 2..7 [--workers 2]
 *   corosync-sim --seed 45 --nodes 2..7 --trace
 *   corosync-sim --cpg --seeds 1..500             the CPG mini-swarm (3–5 nodes, service host + CPG)
 *   corosync-sim [--cpg] --seeds 1.. --minutes 30  long mode: seeds from 1 on until the time is up
 *
 * One line per failing seed with the command that replays it; a final summary line
 * `seeds=N violations=V ...`. Exit 0 iff V = 0.
 */
import { parseArgs } from "node:util";
import { availableParallelism } from "node:os";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { optionsFromSeed, runSeed, type RunResult } from "../../sim/swarm.js";
import { runCpgSeed } from "../../sim/cpg-swarm.js";

interface Range {
  from: number;
  to: number;
}

function parseRange(text: string, what: string): Range {
  const m = /^(\d+)(?:(\.\.)(\d+)?)?$/.exec(text.trim());
  if (!m) throw new Error(`${what}: expected N, A..B or A.. (open, with --minutes), got '${text}'`);
  const from = Number(m[1]);
  const to = m[3] !== undefined ? Number(m[3]) : m[2] !== undefined ? Number.MAX_SAFE_INTEGER : from;
  if (to < from) throw new Error(`${what}: empty range ${text}`);
  return { from, to };
}

interface Summary {
  seeds: number;
  violations: number;
  failedSeeds: number;
  events: number;
  virtualMs: number;
  messagesSent: number;
  messagesDelivered: number;
  slowestConvergenceMs: number;
  slowestSeed: number;
  faults: Record<string, number>;
}

function emptySummary(): Summary {
  return { seeds: 0, violations: 0, failedSeeds: 0, events: 0, virtualMs: 0, messagesSent: 0, messagesDelivered: 0, slowestConvergenceMs: 0, slowestSeed: 0, faults: {} };
}

function addResult(s: Summary, r: RunResult): void {
  s.seeds++;
  s.violations += r.violations.length;
  if (r.violations.length > 0) s.failedSeeds++;
  s.events += r.eventsProcessed;
  s.virtualMs += r.virtualMs;
  s.messagesSent += r.messagesSent;
  s.messagesDelivered += r.messagesDelivered;
  if (r.convergenceMs > s.slowestConvergenceMs) {
    s.slowestConvergenceMs = r.convergenceMs;
    s.slowestSeed = r.seed;
  }
  for (const [k, v] of Object.entries(r.faultsByKind)) s.faults[k] = (s.faults[k] ?? 0) + v;
}

function merge(a: Summary, b: Summary): Summary {
  const out = { ...a, faults: { ...a.faults } };
  out.seeds += b.seeds;
  out.violations += b.violations;
  out.failedSeeds += b.failedSeeds;
  out.events += b.events;
  out.virtualMs += b.virtualMs;
  out.messagesSent += b.messagesSent;
  out.messagesDelivered += b.messagesDelivered;
  if (b.slowestConvergenceMs > out.slowestConvergenceMs) {
    out.slowestConvergenceMs = b.slowestConvergenceMs;
    out.slowestSeed = b.slowestSeed;
  }
  for (const [k, v] of Object.entries(b.faults)) out.faults[k] = (out.faults[k] ?? 0) + v;
  return out;
}

/** Which swarm, how long: what every worker needs besides its seeds. */
interface Mode {
  cpg: boolean;
  /** Stop starting seeds after this time (ms since the epoch); Infinity without --minutes. */
  deadline: number;
}

/** One seed of the chosen swarm, as a RunResult (a crash is a violation). */
function runOne(seed: number, nodes: Range, mode: Mode): { r: RunResult; replay: string } {
  if (mode.cpg) {
    const replay = `corosync-sim --cpg --seed ${seed}`;
    try {
      const c = runCpgSeed(seed);
      const r: RunResult = { seed, nodes: c.nodes, violations: c.violations, convergenceMs: 0, faultsByKind: c.faults, eventsProcessed: 0, virtualMs: c.virtualMs, messagesSent: c.sent, messagesDelivered: c.delivered };
      return { r, replay };
    } catch (e) {
      return { r: { seed, nodes: 0, violations: [`crash: ${(e as Error).stack ?? String(e)}`], convergenceMs: -1, faultsByKind: {}, eventsProcessed: 0, virtualMs: 0, messagesSent: 0, messagesDelivered: 0 }, replay };
    }
  }
  const o = optionsFromSeed(seed, nodes.from, nodes.to);
  const replay = `corosync-sim --seed ${seed} --nodes ${nodes.from}..${nodes.to} --trace`;
  try {
    return { r: runSeed(o), replay };
  } catch (e) {
    return { r: { seed, nodes: o.nodes, violations: [`crash: ${(e as Error).message}`], convergenceMs: -1, faultsByKind: {}, eventsProcessed: 0, virtualMs: 0, messagesSent: 0, messagesDelivered: 0 }, replay };
  }
}

/** Run seeds `from..to` stepping by `stride` (until the deadline); report each failure through `onFailure`. */
function runRange(from: number, to: number, stride: number, nodes: Range, mode: Mode, onFailure: (line: string) => void): Summary {
  const s = emptySummary();
  for (let seed = from; seed <= to && Date.now() < mode.deadline; seed += stride) {
    const { r, replay } = runOne(seed, nodes, mode);
    addResult(s, r);
    if (r.violations.length > 0) {
      onFailure(`seed ${seed} nodes=${r.nodes}: ${r.violations.length} violation(s): ${r.violations[0]} | replay: ${replay}`);
    }
  }
  return s;
}

function summaryLine(s: Summary, wallMs: number): string {
  const faults = Object.entries(s.faults)
    .sort()
    .map(([k, v]) => `${k}:${v}`)
    .join(",");
  return (
    `seeds=${s.seeds} violations=${s.violations} failed_seeds=${s.failedSeeds} events=${s.events} ` +
    `simulated_s=${(s.virtualMs / 1000).toFixed(0)} msgs_sent=${s.messagesSent} msgs_delivered=${s.messagesDelivered} ` +
    `faults=${faults || "none"} slowest_convergence_ms=${s.slowestConvergenceMs.toFixed(0)}(seed ${s.slowestSeed}) wall_s=${(wallMs / 1000).toFixed(1)}`
  );
}

async function runParallel(seeds: Range, nodes: Range, workers: number, mode: Mode): Promise<Summary> {
  const self = fileURLToPath(import.meta.url);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, w) =>
      new Promise<Summary>((resolve, reject) => {
        const worker = new Worker(self, { workerData: { from: seeds.from + w, to: seeds.to, stride: workers, nodes, mode } });
        worker.on("message", (m: { kind: "failure"; line: string } | { kind: "done"; summary: Summary }) => {
          if (m.kind === "failure") process.stdout.write(`${m.line}\n`);
          else resolve(m.summary);
        });
        worker.on("error", reject);
        worker.on("exit", (code) => {
          if (code !== 0) reject(new Error(`worker exited ${code}`));
        });
      }),
    ),
  );
  return parts.reduce(merge, emptySummary());
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seeds: { type: "string" },
      seed: { type: "string" },
      nodes: { type: "string", default: "2..7" },
      workers: { type: "string" },
      trace: { type: "boolean", default: false },
      cpg: { type: "boolean", default: false },
      minutes: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write("usage: corosync-sim [--cpg] --seeds A..B [--nodes A..B] [--workers N] [--minutes M]\n       corosync-sim [--cpg] --seeds A.. --minutes M\n       corosync-sim --seed N [--nodes A..B] [--trace]\n       corosync-sim --cpg --seed N [--trace]\n");
    return 0;
  }
  const nodes = parseRange(values.nodes!, "--nodes");
  if (nodes.from < 1 || nodes.to > 128) throw new Error("--nodes must be within 1..128");
  if (values.seed !== undefined && values.cpg) {
    const seed = Number(values.seed);
    const r = runCpgSeed(seed, values.trace ? (line) => process.stdout.write(`${line}\n`) : undefined);
    for (const v of r.violations) process.stdout.write(`violation: ${v}\n`);
    process.stdout.write(`seed=${seed} nodes=${r.nodes} violations=${r.violations.length} msgs_sent=${r.sent} msgs_delivered=${r.delivered}\n`);
    return r.violations.length === 0 ? 0 : 1;
  }
  if (values.seed !== undefined) {
    const seed = Number(values.seed);
    const o = optionsFromSeed(seed, nodes.from, nodes.to);
    process.stdout.write(`options ${JSON.stringify(o)}\n`);
    const r = runSeed(o, values.trace ? (line) => process.stdout.write(`${line}\n`) : undefined);
    for (const v of r.violations) process.stdout.write(`violation: ${v}\n`);
    process.stdout.write(`seed=${seed} nodes=${r.nodes} violations=${r.violations.length} convergence_ms=${r.convergenceMs.toFixed(0)} events=${r.eventsProcessed} msgs_sent=${r.messagesSent} msgs_delivered=${r.messagesDelivered}\n`);
    return r.violations.length === 0 ? 0 : 1;
  }
  const seeds = parseRange(values.seeds ?? "1..100", "--seeds");
  const minutes = values.minutes === undefined ? undefined : Number(values.minutes);
  if (minutes !== undefined && !(minutes > 0)) throw new Error("--minutes must be a positive number");
  if (minutes === undefined && seeds.to === Number.MAX_SAFE_INTEGER) throw new Error("an open seed range (A..) needs --minutes");
  const mode: Mode = { cpg: values.cpg!, deadline: minutes === undefined ? Infinity : Date.now() + minutes * 60_000 };
  const workers = Math.max(1, Math.min(Number(values.workers ?? availableParallelism()), seeds.to - seeds.from + 1));
  const started = Date.now();
  const summary =
    workers === 1 ? runRange(seeds.from, seeds.to, 1, nodes, mode, (l) => process.stdout.write(`${l}\n`)) : await runParallel(seeds, nodes, workers, mode);
  process.stdout.write(`${summaryLine(summary, Date.now() - started)}\n`);
  return summary.violations === 0 ? 0 : 1;
}

if (!isMainThread) {
  const d = workerData as { from: number; to: number; stride: number; nodes: Range; mode: Mode };
  const summary = runRange(d.from, d.to, d.stride, d.nodes, d.mode, (line) => parentPort!.postMessage({ kind: "failure", line }));
  parentPort!.postMessage({ kind: "done", summary });
} else {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`corosync-sim: ${(e as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
