/**
 * CPG in the simulator (sim/cpg.ts): scripted runs of the service host + CPG engine on 3–5
 * simulated nodes (joins, leaves, a client kill, a node crash, a partition and its heal)
 * with the expected confchg reasons, and a seeded mini-swarm judged by the CPG checkers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CpgSim, checkCpg, lastView, type SimCpgClient } from "../../sim/cpg.js";
import { runCpgSeed } from "../../sim/cpg-swarm.js";
import { Prng } from "../../sim/prng.js";
import { simTimers } from "../../sim/swarm.js";
import { groupNameFromText } from "../../src/core/cpg/messages.js";

const G = groupNameFromText("demo");

function boot(n: number, seed = 1): CpgSim {
  const sim = new CpgSim(Array.from({ length: n }, (_, i) => i + 1), simTimers(n, 1000), new Prng(seed));
  for (let i = 1; i <= n; i++) sim.cluster.start(i);
  assert.ok(sim.runUntil(() => sim.cluster.liveNodes().length === n && sim.settled(), 20_000), sim.cluster.describe());
  return sim;
}

function joinAll(sim: CpgSim, clients: SimCpgClient[]): void {
  for (const c of clients) assert.equal(c.join(), "OK");
  assert.ok(sim.runUntil(() => clients.every((c) => c.inGroup && lastView(c)?.length === clients.length), 5000), "everyone sees everyone");
}

function confchgs(c: SimCpgClient): Array<{ left: string; joined: string }> {
  return c.log.flatMap((e) => (e.kind === "confchg" ? [{ left: e.left.map((l) => `${l.who}:${l.reason}`).join(","), joined: e.joined.map((j) => `${j.who}:${j.reason}`).join(",") }] : []));
}

test("joins, messages in one order, a leave and a killed client (PROCDOWN) on 3 nodes", () => {
  const sim = boot(3);
  const [a, b, c] = [sim.client(1, G), sim.client(2, G), sim.client(3, G)];
  joinAll(sim, [a, b, c]);
  for (let i = 0; i < 20; i++) assert.equal([a, b, c][i % 3]!.mcast(100 + i * 50).status, "OK");
  assert.equal(a.mcast(20_000, 3000).status, "OK", "a large message goes as PARTIAL pieces");
  sim.cluster.runUntil(sim.cluster.now + 1000);
  const msgs = (x: SimCpgClient): string[] => x.log.flatMap((e) => (e.kind === "msg" ? [e.key] : []));
  assert.equal(msgs(a).length, 21);
  assert.deepEqual(msgs(b), msgs(a));
  assert.deepEqual(msgs(c), msgs(a));
  assert.equal(b.leave(), "OK");
  c.kill();
  sim.cluster.runUntil(sim.cluster.now + 1000);
  assert.deepEqual(confchgs(a).slice(-2), [
    { left: `${b.key}:2`, joined: "" },
    { left: `${c.key}:5`, joined: "" },
  ]);
  assert.deepEqual(lastView(a), [a.key]);
  assert.deepEqual(sim.membersAt(2, G), [a.key], "every node holds the same process list");
  assert.deepEqual(checkCpg(sim), []);
});

test("a node crash is NODEDOWN at the others; a partition heals into NODEUP", () => {
  const sim = boot(4, 2);
  const cs = [1, 2, 3, 4].map((n) => sim.client(n, G));
  joinAll(sim, cs);
  sim.cluster.crash(4);
  assert.ok(sim.runUntil(() => lastView(cs[0]!)?.length === 3, 10_000));
  assert.deepEqual(confchgs(cs[0]!).at(-1), { left: `${cs[3]!.key}:3`, joined: "" });
  sim.cluster.partition([[1, 2], [3]]);
  assert.ok(sim.runUntil(() => lastView(cs[0]!)?.length === 2 && lastView(cs[2]!)?.length === 1, 10_000));
  assert.deepEqual(confchgs(cs[2]!).at(-1), { left: `${cs[0]!.key}:3,${cs[1]!.key}:3`, joined: "" });
  assert.equal(cs[0]!.mcast(64).status, "OK");
  assert.equal(cs[2]!.mcast(64).status, "OK");
  sim.cluster.heal();
  assert.ok(sim.runUntil(() => [0, 1, 2].every((i) => lastView(cs[i]!)?.length === 3), 15_000), sim.cluster.describe());
  assert.deepEqual(confchgs(cs[2]!).at(-1), { left: "", joined: `${cs[0]!.key}:4,${cs[1]!.key}:4` });
  assert.deepEqual(confchgs(cs[0]!).at(-1), { left: "", joined: `${cs[2]!.key}:4` });
  assert.deepEqual(checkCpg(sim), []);
});

test("the checkers catch a node that delivers a message the others did not", () => {
  const sim = boot(3, 3);
  const cs = [1, 2, 3].map((n) => sim.client(n, G));
  joinAll(sim, cs);
  cs[0]!.mcast(64);
  sim.cluster.runUntil(sim.cluster.now + 500);
  cs[1]!.log.push({ kind: "msg", key: "1/9999#0", sender: cs[0]!.key, ok: true });
  const v = checkCpg(sim);
  assert.ok(v.some((x) => /never sent/.test(x)), v.join("\n"));
});

test("CPG mini-swarm: 150 seeds over 3–5 nodes with faults have no violations", { timeout: 180_000 }, () => {
  const failed: string[] = [];
  let sent = 0;
  let delivered = 0;
  for (let seed = 1; seed <= 150; seed++) {
    const r = runCpgSeed(seed);
    sent += r.sent;
    delivered += r.delivered;
    if (r.violations.length > 0) failed.push(`seed ${seed}: ${r.violations.slice(0, 3).join("; ")}`);
  }
  console.log(`cpg swarm: seeds=150 sent=${sent} delivered=${delivered} failed=${failed.length}`);
  assert.deepEqual(failed, []);
  assert.ok(delivered > sent, "messages reached several clients");
});
