/**
 * The CPG mini-swarm: one seed derives a 3–5 node cluster running the service host with CPG,
 * its network faults and a schedule of client joins, multicasts (some split into PARTIAL
 * pieces), leaves, client kills, node crashes and restarts, partitions and pauses. A safety
 * phase with faults is followed by a heal and a liveness phase; `checkCpg` and
 * `checkCpgConverged` (sim/cpg.ts) judge the client logs. A failing seed replays bit for bit
 * with `runCpgSeed(seed)`.
 */
import { NO_FAULTS, type TraceSink } from "./cluster.js";
import { checkCpg, checkCpgConverged, CpgSim, type SimCpgClient } from "./cpg.js";
import { Prng } from "./prng.js";
import { simTimers } from "./swarm.js";
import { groupNameFromText, type CpgGroupName } from "../src/core/cpg/messages.js";

export interface CpgRunResult {
  seed: number;
  nodes: number;
  violations: string[];
  sent: number;
  delivered: number;
  faults: Record<string, number>;
  virtualMs: number;
}

const GROUPS: CpgGroupName[] = [groupNameFromText("alpha"), groupNameFromText("beta")];

interface Driver {
  sim: CpgSim;
  rng: Prng;
  nodeIds: number[];
  faults: Record<string, number>;
}

function count(d: Driver, kind: string): void {
  d.faults[kind] = (d.faults[kind] ?? 0) + 1;
}

function liveClients(d: Driver): SimCpgClient[] {
  return d.sim.clients.filter((c) => c.live);
}

/** One random client action (join, mcast, leave, kill, new client). */
function clientAction(d: Driver): void {
  const { sim, rng } = d;
  const live = liveClients(d);
  const roll = rng.float();
  if (live.length === 0 || roll < 0.06) {
    const node = rng.pick(sim.cluster.liveNodes());
    if (node !== undefined) sim.client(node.id, rng.pick(GROUPS));
    return;
  }
  const c = rng.pick(live);
  const state = c.engine.clientState(c.conn)?.state;
  if (state === "UNJOINED") {
    if (c.log.length === 0 || rng.chance(0.3)) c.join();
  } else if (roll < 0.08 && state === "JOIN_COMPLETED") {
    c.leave();
    count(d, "leave");
  } else if (roll < 0.1) {
    c.kill();
    count(d, "client_kill");
  } else if (state === "JOIN_COMPLETED" || state === "JOIN_STARTED") {
    const big = rng.chance(0.1);
    c.mcast(big ? rng.int(5000, 30000) : rng.int(16, 2500), big ? rng.int(1500, 8000) : 0);
  }
}

/** One random node or network fault. */
function faultAction(d: Driver): void {
  const { sim, rng, nodeIds } = d;
  const cl = sim.cluster;
  const roll = rng.float();
  const node = rng.pick(nodeIds);
  if (roll < 0.3) {
    if (cl.node(node).up && cl.liveNodes().length > 2) {
      cl.crash(node);
      for (const c of sim.clients) if (c.node.id === node) c.alive = false;
      count(d, "crash");
    } else if (!cl.node(node).up) {
      cl.start(node);
      count(d, "restart");
    }
  } else if (roll < 0.55) {
    const shuffled = rng.shuffle([...nodeIds]);
    const cut = rng.int(1, shuffled.length - 1);
    cl.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
    count(d, "partition");
  } else if (roll < 0.75) {
    cl.heal();
    count(d, "heal");
  } else {
    cl.pause(node, rng.int(200, 3000));
    count(d, "pause");
  }
}

/** Every live client settled: no join or leave in flight. */
function clientsSettled(d: Driver): boolean {
  return liveClients(d).every((c) => {
    const s = c.engine.clientState(c.conn)?.state;
    return (s === "UNJOINED" && !c.inGroup) || (s === "JOIN_COMPLETED" && c.inGroup);
  });
}

/** Runs one seed; never throws for a protocol failure (it reports violations). `inspect` sees the finished simulation (client logs) for debugging. */
export function runCpgSeed(seed: number, trace?: TraceSink, inspect?: (sim: CpgSim) => void): CpgRunResult {
  const rng = new Prng(seed ^ 0x43504721);
  const nodes = rng.int(3, 5);
  const nodeIds = Array.from({ length: nodes }, (_, i) => i + 1);
  const sim = new CpgSim(nodeIds, simTimers(nodes, 1000), rng.fork(), trace);
  const d: Driver = { sim, rng, nodeIds, faults: {} };
  const cl = sim.cluster;
  const faulty = rng.chance(0.8);
  const faults = faulty
    ? {
        lossRate: rng.chance(0.5) ? rng.float() * 0.15 : 0,
        dupRate: rng.chance(0.3) ? rng.float() * 0.3 : 0,
        baseDelayMs: 0.05 + rng.float(),
        jitterMs: rng.chance(0.5) ? rng.float() * 3 : 0.05,
      }
    : { ...NO_FAULTS };
  const violations: string[] = [];
  for (const id of nodeIds) cl.at(rng.int(0, 300), () => cl.start(id));
  if (!sim.runUntil(() => cl.liveNodes().length === nodes && sim.settled(), 30_000)) violations.push(`no initial ring: ${cl.describe()}`);
  for (const id of nodeIds) for (let k = rng.int(1, 2); k > 0; k--) sim.client(id, rng.pick(GROUPS));
  cl.faults = faults; // the safety phase runs on the faulty network

  const safetyEnd = cl.now + rng.int(2000, 5000);
  const faultRate = faulty ? rng.float() * 0.01 : 0;
  while (cl.now < safetyEnd) {
    cl.runUntil(cl.now + rng.int(5, 60));
    clientAction(d);
    if (rng.chance(faultRate * 10)) faultAction(d);
  }

  // Heal: network clean, everyone back, then let joins and leaves in flight finish.
  cl.faults = { ...NO_FAULTS };
  cl.heal();
  cl.resumeAll();
  for (const id of nodeIds) if (!cl.node(id).up) cl.start(id);
  if (!sim.runUntil(() => sim.settled(), 60_000)) violations.push(`no ring after the heal: ${cl.describe()}`);
  const settleEnd = cl.now + 20_000;
  while (!clientsSettled(d) && cl.now < settleEnd) {
    for (const c of liveClients(d)) if (c.engine.clientState(c.conn)?.state === "UNJOINED" && c.inGroup) c.join();
    cl.runUntil(cl.now + 20);
  }
  if (!clientsSettled(d)) violations.push(`clients did not settle: ${liveClients(d).map((c) => `${c.key}:${c.engine.clientState(c.conn)?.state}:${c.inGroup}`).join(" ")}`);

  const finalKeys = new Map<CpgGroupName, string[]>();
  for (const c of liveClients(d).filter((x) => x.inGroup)) {
    let r = c.mcast(64);
    for (let tries = 0; r.status === "TRY_AGAIN" && tries < 200; tries++) {
      cl.runUntil(cl.now + 10);
      r = c.mcast(64);
    }
    if (r.key !== undefined) finalKeys.set(c.group, [...(finalKeys.get(c.group) ?? []), r.key]);
    else violations.push(`liveness: client ${c.key} could not send after the heal (${r.status})`);
  }
  cl.runUntil(cl.now + 3000);
  violations.push(...checkCpg(sim), ...checkCpgConverged(sim, finalKeys));
  const delivered = sim.clients.reduce((n, c) => n + c.log.filter((e) => e.kind === "msg").length, 0);
  inspect?.(sim);
  return { seed, nodes, violations, sent: sim.sent.size, delivered, faults: d.faults, virtualMs: cl.now };
}
