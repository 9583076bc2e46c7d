/**
 * The soak (failure-modes-and-testing.md §4.3 M2, shortened): N executives on loopback for
 * a given time with
 * - a membership change every 30 s: the last node is stopped (SIGTERM) and started in turn;
 * - CPG traffic: a chaos-client on each of the other nodes, one message per `intervalMs`;
 * - IPC churn: 300 connect / call / disconnect-mid-call cycles against each long-lived node
 *   every 10 s;
 * and every 10 s it samples VmRSS and the fd count of the long-lived daemons. After the
 * warm-up (the first `warmupFraction` of the run, default half, at least two minutes) it fits a
 * least-squares line per daemon: the RSS slope in KiB/min and the fd count's growth. The V8
 * heap of a daemon takes about five minutes of this load to reach its plateau (measured: RSS
 * 60 → 105 MiB, with a collection step at 3 min), hence the long warm-up; a run of 30 minutes
 * or more gives a slope that means something.
 *
 * The bound (`SOAK_RSS_SLOPE_BOUND_KIB_PER_MIN`, 64 KiB/min) is what a 10-minute run can tell
 * from V8's heap saw-tooth; it is 3.8 MiB/h, looser than the 1 MiB/h target of a 24 h soak,
 * which needs a longer run to resolve. Fds must not grow at all after the warm-up.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DaemonCluster } from "../helpers/daemons.js";
import { vmRssKiB } from "../chaos/harness.js";

const run = promisify(execFile);
const CLIENT = fileURLToPath(new URL("../helpers/chaos-client.js", import.meta.url));
const ABUSE = fileURLToPath(new URL("../helpers/ipc-daemon-abuse.js", import.meta.url));

/** Largest acceptable RSS slope after warm-up, KiB per minute (see the module comment). */
export const SOAK_RSS_SLOPE_BOUND_KIB_PER_MIN = 64;

export interface SoakOptions {
  minutes: number;
  nodes?: number;
  intervalMs?: number;
  warmupFraction?: number;
  log?: (line: string) => void;
}

export interface Sample {
  atMin: number;
  rssKiB: number[];
  fds: number[];
}

export interface SoakReport {
  samples: Sample[];
  /** Per long-lived daemon: RSS slope after warm-up (KiB/min), first and last RSS, fd range. */
  daemons: Array<{ node: number; slopeKiBPerMin: number; rssFirstKiB: number; rssLastKiB: number; fdsWarm: number; fdsMax: number; fdsLast: number }>;
  membershipChanges: number;
  ipcCycles: number;
  deliveries: number;
  failures: string[];
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function fdCount(pid: number | undefined): number {
  try {
    return pid === undefined ? 0 : readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Runs the soak; always stops every process it started. */
export async function soak(opts: SoakOptions): Promise<SoakReport> {
  const n = opts.nodes ?? 4;
  const log = opts.log ?? (() => {});
  const longLived = Array.from({ length: n - 1 }, (_, i) => i + 1);
  const flapper = n;
  const cluster = new DaemonCluster({ nodes: n, token: 1000 });
  const clients: ChildProcess[] = [];
  const failures: string[] = [];
  const samples: Sample[] = [];
  let deliveries = 0;
  let ipcCycles = 0;
  let changes = 0;
  try {
    cluster.start();
    await cluster.waitForMembers(cluster.nodes.map((x) => x.id), cluster.nodes.map((x) => x.id), 60_000);
    for (const id of longLived) {
      const spec = { group: "soak", intervalMs: opts.intervalMs ?? 50, seed: id, prefix: cluster.node(id).ipcPrefix };
      const c = spawn(process.execPath, [CLIENT, JSON.stringify(spec)], { stdio: ["pipe", "pipe", "inherit"] });
      c.stdout!.on("data", (d: Buffer) => {
        for (let i = d.indexOf(0x4d); i >= 0; i = d.indexOf(0x4d, i + 1)) if (i === 0 || d[i - 1] === 0x0a) deliveries++;
      });
      c.stdin!.write("go\n");
      clients.push(c);
    }
    const t0 = Date.now();
    const end = t0 + opts.minutes * 60_000;
    let nextChange = t0 + 30_000;
    let nextChurn = t0 + 10_000;
    let nextSample = t0;
    while (Date.now() < end) {
      const now = Date.now();
      if (now >= nextSample) {
        nextSample += 10_000;
        const s: Sample = { atMin: (now - t0) / 60_000, rssKiB: longLived.map((id) => vmRssKiB(cluster.node(id).pid)), fds: longLived.map((id) => fdCount(cluster.node(id).pid)) };
        samples.push(s);
        log(`t=${s.atMin.toFixed(2)} min  RSS KiB ${s.rssKiB.join(" ")}  fds ${s.fds.join(" ")}  deliveries ${deliveries}  ipc cycles ${ipcCycles}  membership changes ${changes}`);
      }
      if (now >= nextChange) {
        nextChange += 30_000;
        const f = cluster.node(flapper);
        if (f.running) {
          f.signal("SIGTERM");
          await f.exited;
        } else f.start();
        changes++;
      }
      if (now >= nextChurn) {
        nextChurn += 10_000;
        await Promise.all(
          longLived.map(async (id) => {
            const { stdout } = await run(process.execPath, [ABUSE, "cycles", cluster.node(id).ipcPrefix!, "300", "2"], { timeout: 120_000 });
            ipcCycles += (JSON.parse(stdout.trim().split("\n").pop()!) as { cycles: number }).cycles;
          }),
        );
      }
      for (const id of longLived) if (!cluster.node(id).running) failures.push(`node ${id} exited (${cluster.node(id).exitCode})`);
      if (failures.length > 0) break;
      await sleep(200);
    }
  } finally {
    for (const c of clients) if (c.exitCode === null && c.pid !== undefined) c.kill("SIGKILL");
    await cluster.destroy();
  }
  return { samples, daemons: fit(samples, longLived, opts.warmupFraction ?? 0.5), membershipChanges: changes, ipcCycles, deliveries, failures };
}

/** The slope and fd figures per daemon over the samples after warm-up. */
function fit(samples: Sample[], ids: number[], warmupFraction: number): SoakReport["daemons"] {
  const last = samples.at(-1)?.atMin ?? 0;
  const warm = Math.max(2, warmupFraction * last);
  const after = samples.filter((s) => s.atMin >= warm);
  return ids.map((id, k) => ({
    node: id,
    slopeKiBPerMin: slope(after.map((s) => s.atMin), after.map((s) => s.rssKiB[k]!)),
    rssFirstKiB: after[0]?.rssKiB[k] ?? 0,
    rssLastKiB: after.at(-1)?.rssKiB[k] ?? 0,
    fdsWarm: after[0]?.fds[k] ?? 0,
    fdsMax: Math.max(0, ...after.map((s) => s.fds[k]!)),
    fdsLast: after.at(-1)?.fds[k] ?? 0,
  }));
}
