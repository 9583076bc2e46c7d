/**
 * Benchmark of the pure Totem core (not a test): a 3-node ring in the simulator with no
 * network cost, every node sending as fast as flow control allows, for 64 B, 1 KiB and
 * 16 KiB messages. Prints delivered messages per second per node (wall clock) and core CPU
 * µs per delivered message; then simulated seconds per wall second for a 5-node faulty run.
 *
 *   npm run bench -- core
 */
import { performance } from "node:perf_hooks";
import { SimCluster, type NodeListener } from "../sim/cluster.js";
import { Prng } from "../sim/prng.js";
import { optionsFromSeed, runSeed, simTimers } from "../sim/swarm.js";

interface Row {
  size: number;
  senders: string;
  deliveredPerNode: number;
  /** Per second of this process's CPU time: the figure that does not depend on machine load. */
  deliveredPerCpuSecond: number;
  wallMs: number;
  cpuUs: number;
}

function throughput(size: number, allSend: boolean, wallBudgetMs: number): Row {
  let delivered = 0;
  const listener: NodeListener = {
    deliver: () => {
      delivered++;
    },
    confchg: () => {},
  };
  const ids = [1, 2, 3];
  const c = new SimCluster(ids, simTimers(3, 1000), new Prng(1), listener);
  c.faults = { lossRate: 0, dupRate: 0, baseDelayMs: 0.001, jitterMs: 0 };
  c.checkInvariants = false;
  for (const id of ids) c.start(id);
  c.runUntil(2000);
  const body = new Uint8Array(size);
  const senders = allSend ? ids : [1];
  const feed = (): void => {
    for (const id of senders) {
      const n = c.node(id);
      if (n.srp.waitingTransAck) continue;
      c.step(n, () => {
        for (let k = 0; k < 64 && n.pg.sendOk(size + 8); k++) n.pg.mcastGroup(c.now, "a", [body]);
      });
    }
  };
  delivered = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let vt = c.now;
  while (performance.now() - t0 < wallBudgetMs) {
    feed();
    vt += 0.05;
    c.runUntil(vt);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const perNode = delivered / ids.length;
  return {
    size,
    senders: allSend ? "all" : "one",
    deliveredPerNode: perNode / (wallMs / 1000),
    deliveredPerCpuSecond: perNode / (cpuMs / 1000),
    wallMs,
    cpuUs: (cpu.user + cpu.system) / Math.max(1, perNode),
  };
}

function faultyRunSpeed(): { simPerWall: number; seeds: number } {
  let simMs = 0;
  let wallMs = 0;
  let seeds = 0;
  for (let seed = 1; wallMs < 5000; seed++) {
    const o = optionsFromSeed(seed, 5, 5);
    const t0 = performance.now();
    const r = runSeed(o);
    wallMs += performance.now() - t0;
    simMs += r.virtualMs;
    seeds++;
  }
  return { simPerWall: simMs / wallMs, seeds };
}

const budget = Number(process.env.BENCH_MS ?? 3000);
console.log(`core benchmark (3-node simulated ring, no network cost, ${budget} ms per case), node ${process.version}`);
console.log("size     senders  msgs/s per node (wall)  msgs/s per node (per CPU-s)  CPU µs/msg (3 nodes' work)");
for (const size of [64, 1024, 16384]) {
  for (const all of [false, true]) {
    const r = throughput(size, all, budget);
    console.log(
      `${String(r.size).padEnd(8)} ${r.senders.padEnd(8)} ${r.deliveredPerNode.toFixed(0).padStart(22)} ${r.deliveredPerCpuSecond.toFixed(0).padStart(28)} ${r.cpuUs.toFixed(2).padStart(14)}`,
    );
  }
}
const f = faultyRunSpeed();
console.log(`5-node faulty swarm runs: ${f.simPerWall.toFixed(1)} simulated s per wall s (${f.seeds} seeds)`);
