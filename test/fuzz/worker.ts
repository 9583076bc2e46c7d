/**
 * A campaign worker thread (cli.ts starts one per running target): runs one target for a
 * time budget and reports its figures. Progress goes to a shared array the main thread
 * watches; a worker stuck in one input is terminated there and the input reported.
 */
import { parentPort, workerData } from "node:worker_threads";
import { runTarget, type TargetStats } from "./engine.js";
import { targetNamed } from "./registry.js";

/** What the main thread passes. */
export interface WorkerInput {
  target: string;
  seed: number;
  timeLimitMs: number;
  firstCase: number;
  sweep: boolean;
  sweepFirst: number;
  watchdogMs: number;
  strict: boolean;
  progress: SharedArrayBuffer;
}

/** `TargetStats` with its maps as entry lists (structured-clone friendly, JSON friendly). */
export type PlainStats = Omit<TargetStats, "known" | "outcomes"> & { known: Array<[string, number]>; outcomes: Array<[string, number]> };

export function plain(s: TargetStats): PlainStats {
  return { ...s, known: [...s.known], outcomes: [...s.outcomes] };
}

if (parentPort !== null && workerData !== null && typeof workerData === "object" && "target" in (workerData as object)) {
  const w = workerData as WorkerInput;
  const port = parentPort;
  const stats = runTarget(targetNamed(w.target), {
    seed: w.seed,
    timeLimitMs: w.timeLimitMs,
    firstCase: w.firstCase,
    sweep: w.sweep,
    sweepFirst: w.sweepFirst,
    watchdogMs: w.watchdogMs,
    strict: w.strict,
    progress: new Int32Array(w.progress),
    onProgress: (s) => port.postMessage({ kind: "progress", stats: plain(s) }),
  });
  port.postMessage({ kind: "done", stats: plain(stats) });
}
