/**
 * The seeded swarm (TigerBeetle VOPR style): one seed derives the cluster size, every fault
 * setting and the fault schedule. A safety phase with faults is followed by a liveness phase
 * on a healed network; checkers outside the nodes judge the run. A failing seed replays bit
 * for bit with `corosync-sim --seed N`.
 */
import type { SrpConfig } from "../src/core/totem/types.js";
import { DEFAULT_SRP_CONFIG } from "../src/core/totem/types.js";
import { checkSafety, Recorder } from "./checkers.js";
import { NO_FAULTS, SimCluster, type NetworkFaults, type SimNode, type TraceSink } from "./cluster.js";
import { Prng } from "./prng.js";
import { makeMessage } from "./workload.js";

export interface RunOptions {
  seed: number;
  nodes: number;
  /** Largest message the workload sends (fragmentation above ~1.4 KB). */
  maxMessageBytes: number;
  safetyMs: number;
  faults: NetworkFaults;
  /** Number of scheduled fault events in the safety phase. */
  faultEvents: number;
  /** Messages each node sends at most in the safety phase. */
  messagesPerNode: number;
  /** Start all nodes within this many ms (0 = simultaneous). */
  startSpreadMs: number;
  tokenMs: number;
}

export interface RunResult {
  seed: number;
  nodes: number;
  violations: string[];
  /** Virtual ms from the heal to one ring of all live nodes (−1 if never). */
  convergenceMs: number;
  faultsByKind: Record<string, number>;
  eventsProcessed: number;
  virtualMs: number;
  messagesSent: number;
  messagesDelivered: number;
}

/** Effective timers for `nodes` nodes and a configured token, by corosync's formulas (§4.12). */
export function simTimers(nodes: number, tokenMs: number): SrpConfig {
  const token = tokenMs + Math.max(0, nodes - 2) * 650;
  const retransmit = Math.trunc(token / (4 + 0.2));
  return {
    ...DEFAULT_SRP_CONFIG,
    tokenMs: token,
    tokenRetransmitMs: retransmit,
    holdMs: Math.trunc(retransmit * 0.8 - 10),
    consensusMs: Math.trunc(Math.fround(1.2 * token)),
  };
}

/** Derive every setting of a run from its seed (and the allowed node range). */
export function optionsFromSeed(seed: number, minNodes: number, maxNodes: number): RunOptions {
  const r = new Prng(seed);
  const nodes = r.int(minNodes, maxNodes);
  const faulty = r.chance(0.85);
  const faults: NetworkFaults = faulty
    ? {
        lossRate: r.chance(0.6) ? r.float() * 0.3 : 0,
        dupRate: r.chance(0.4) ? r.float() * 0.5 : 0,
        baseDelayMs: 0.05 + r.float() * 2,
        jitterMs: r.chance(0.5) ? r.float() * 5 : 0.05,
      }
    : { ...NO_FAULTS };
  return {
    seed,
    nodes,
    maxMessageBytes: r.chance(0.3) ? 40000 : r.chance(0.5) ? 3000 : 300,
    safetyMs: 3000 + r.int(0, 9000),
    faults,
    faultEvents: faulty ? r.int(0, 6) : 0,
    messagesPerNode: r.int(20, 150),
    startSpreadMs: r.chance(0.5) ? 0 : r.int(0, 3000),
    tokenMs: 1000,
  };
}

interface Workload {
  next: Map<number, number>;
  sent: number;
}

function scheduleWorkload(c: SimCluster, rec: Recorder, r: Prng, o: RunOptions, until: number, wl: Workload): void {
  for (const id of c.nodeIds) {
    const interval = r.int(5, 60);
    const tick = (): void => {
      if (c.now > until) return;
      const n = c.node(id);
      const budget = o.messagesPerNode - (wl.next.get(id) ?? 0);
      if (n.up && !c.isPaused(n) && budget > 0 && !n.srp.waitingTransAck) {
        const burst = Math.min(budget, r.int(1, 4));
        for (let k = 0; k < burst; k++) sendOne(c, rec, r, n, o.maxMessageBytes, wl);
      }
      c.at(c.now + interval, tick);
    };
    c.at(r.int(0, interval), tick);
  }
}

function sendOne(c: SimCluster, rec: Recorder, r: Prng, n: SimNode, maxBytes: number, wl: Workload): boolean {
  const seq = wl.next.get(n.id) ?? 0;
  const size = r.chance(0.8) ? r.int(20, Math.min(300, maxBytes)) : r.int(20, maxBytes);
  const body = makeMessage(n.id, n.incarnation, seq, size);
  let ok = false;
  c.step(n, () => {
    ok = n.pg.mcastGroup(c.now, "a", [body]);
  });
  if (!ok) return false;
  rec.recordSent(n, seq);
  wl.next.set(n.id, seq + 1);
  wl.sent++;
  return true;
}

/** Schedule the safety phase's faults; returns counts by kind. */
function scheduleFaults(c: SimCluster, r: Prng, o: RunOptions, token: number): Record<string, number> {
  const kinds: Record<string, number> = {};
  const ids = c.nodeIds;
  const count = (k: string): void => {
    kinds[k] = (kinds[k] ?? 0) + 1;
  };
  if (o.faults.lossRate > 0) count("loss");
  if (o.faults.dupRate > 0) count("duplication");
  if (o.faults.jitterMs > 1) count("reorder");
  for (let i = 0; i < o.faultEvents; i++) {
    const at = r.int(500, o.safetyMs - 200);
    const dur = r.int(200, Math.max(300, o.safetyMs - at));
    const kind = r.pick(["split", "isolate", "oneway", "nontransitive", "crash", "pause", "slow", "stop"] as const);
    count(kind);
    switch (kind) {
      case "split": {
        const shuffled = r.shuffle([...ids]);
        const cut = r.int(1, Math.max(1, ids.length - 1));
        c.at(at, () => c.partition([shuffled.slice(0, cut), shuffled.slice(cut)]));
        c.at(at + dur, () => c.heal());
        break;
      }
      case "isolate": {
        const victim = r.pick(ids);
        c.at(at, () => c.partition([[victim], ids.filter((x) => x !== victim)]));
        c.at(at + dur, () => c.heal());
        break;
      }
      case "oneway": {
        const a = r.pick(ids);
        const b = r.pick(ids.filter((x) => x !== a).length > 0 ? ids.filter((x) => x !== a) : ids);
        c.at(at, () => c.blockOneWay(a, b));
        c.at(at + dur, () => c.heal());
        break;
      }
      case "nontransitive": {
        if (ids.length < 3) break;
        const [a, , cc] = r.shuffle([...ids]);
        c.at(at, () => {
          c.blockOneWay(a!, cc!);
          c.blockOneWay(cc!, a!);
        });
        c.at(at + dur, () => c.heal());
        break;
      }
      case "crash": {
        const victim = r.pick(ids);
        c.at(at, () => c.crash(victim));
        if (r.chance(0.7)) c.at(at + dur, () => c.start(victim));
        break;
      }
      case "stop": {
        const victim = r.pick(ids);
        c.at(at, () => c.stop(victim));
        if (r.chance(0.7)) c.at(at + dur, () => c.start(victim));
        break;
      }
      case "pause": {
        const victim = r.pick(ids);
        const ms = Math.round(token * (0.5 + r.float() * 2.5));
        c.at(at, () => c.pause(victim, ms));
        break;
      }
      case "slow": {
        const victim = r.pick(ids);
        const cost = 0.05 + r.float() * 2;
        c.at(at, () => {
          c.node(victim).costPerInputMs = cost;
        });
        c.at(at + dur, () => {
          c.node(victim).costPerInputMs = 0;
        });
        break;
      }
    }
  }
  return kinds;
}

/** Run one seed: safety phase with faults, heal, liveness phase, checks. */
export function runSeed(o: RunOptions, trace?: TraceSink): RunResult {
  const r = new Prng(o.seed ^ 0x5eed5eed);
  const ids = Array.from({ length: o.nodes }, (_, i) => i + 1);
  const cfg = simTimers(o.nodes, o.tokenMs);
  const rec = new Recorder();
  const c = new SimCluster(ids, cfg, r.fork(), rec, trace);
  c.faults = { ...o.faults };
  const wl: Workload = { next: new Map(), sent: 0 };
  for (const id of ids) c.at(r.int(0, o.startSpreadMs), () => c.start(id));
  const faultsByKind = scheduleFaults(c, r.fork(), o, cfg.tokenMs);
  scheduleWorkload(c, rec, r.fork(), o, o.safetyMs, wl);
  c.runUntil(o.safetyMs);

  // Heal: no partitions, no loss, every node up, nobody slow.
  c.heal();
  c.resumeAll();
  c.faults = { ...NO_FAULTS };
  for (const id of ids) {
    c.node(id).costPerInputMs = 0;
    if (!c.node(id).up) c.start(id);
  }
  const healAt = c.now;
  const boundMs = 3 * (cfg.tokenMs + cfg.consensusMs) + 3000;
  let convergenceMs = -1;
  for (let t = healAt; t <= healAt + boundMs; t += 10) {
    c.runUntil(t);
    if (c.converged()) {
      convergenceMs = c.now - healAt;
      break;
    }
  }
  const violations = checkLiveness(c, rec, r, o, wl, convergenceMs, boundMs);
  violations.push(...checkSafety(rec));
  return {
    seed: o.seed,
    nodes: o.nodes,
    violations,
    convergenceMs,
    faultsByKind,
    eventsProcessed: c.stats.eventsProcessed,
    virtualMs: c.now,
    messagesSent: wl.sent,
    messagesDelivered: rec.delivered,
  };
}

/** After convergence: final messages reach every live node; every live sender saw its own. */
function checkLiveness(c: SimCluster, rec: Recorder, r: Prng, o: RunOptions, wl: Workload, convergenceMs: number, boundMs: number): string[] {
  const out: string[] = [];
  if (convergenceMs < 0) {
    out.push(`liveness: no single ring of all live nodes within ${boundMs}ms of the heal: ${c.describe()}`);
    return out;
  }
  const finalKeys: string[] = [];
  for (const n of c.liveNodes()) {
    for (let k = 0; k < 3; k++) {
      const seq = wl.next.get(n.id) ?? 0;
      if (sendOne(c, rec, r, n, Math.min(o.maxMessageBytes, 2000), wl)) finalKeys.push(`${n.id}#${n.incarnation}#${seq}`);
    }
  }
  const cfgToken = c.srpConfig.tokenMs;
  c.runUntil(c.now + 2 * cfgToken);
  if (!c.converged()) out.push(`liveness: the ring did not stay stable after the heal: ${c.describe()}`);
  for (const n of c.liveNodes()) {
    const got = rec.deliveredSet(n.key);
    const missing = finalKeys.filter((k) => !got.has(k));
    if (missing.length > 0) out.push(`liveness: node ${n.key} did not deliver ${missing.length} final messages (first ${missing[0]})`);
    for (const [key, senderKey] of rec.sent) {
      if (senderKey === n.key && !got.has(key)) {
        out.push(`self-delivery: node ${n.key} never delivered its own ${key}`);
        break;
      }
    }
  }
  return out;
}
