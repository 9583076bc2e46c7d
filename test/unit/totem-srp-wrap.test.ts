/**
 * Message seqs are u32 that wrap (corosync sq.h, totem-spec §1.1). Every corosync ring starts
 * at seq 0, so the wrap is reached only after 2^32 messages; here a quiescent ring is rebased
 * (test-only, sim/scenario.ts `rebaseQuiescentRing`) to 0xfffff000 and then carries traffic
 * across 0xffffffff, with and without a processor crashing on the way. TotemSrp instances
 * are wired by hand (test/unit/totem-hand-ring.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_SRP_CONFIG } from "../../src/core/totem/types.js";
import { rebaseQuiescentRing, ringQuiescent } from "../../sim/scenario.js";
import { HandRing } from "./totem-hand-ring.js";

function quiescentRing(ids: number[]): HandRing {
  const ring = new HandRing(ids, { ...DEFAULT_SRP_CONFIG });
  ring.start();
  ring.runUntil(() => ring.converged());
  ring.runUntil(() => ring.idle && ringQuiescent(ring.live));
  return ring;
}

function assertFifo(order: readonly string[], senders: readonly number[]): void {
  for (const s of senders) {
    const mine = order.filter((m) => m.startsWith(`${s}:`)).map((m) => Number(m.split(":")[1]));
    assert.deepEqual(mine, mine.map((_, i) => i), `FIFO of sender ${s}`);
  }
}

test("rebasing needs a quiescent ring", () => {
  const ring = new HandRing([1, 2], { ...DEFAULT_SRP_CONFIG });
  ring.start();
  ring.runUntil(() => ring.converged());
  ring.mcast(1, "0");
  assert.throws(() => rebaseQuiescentRing(ring.live, 0xfffff000), /not quiescent/);
});

test("a ring at 0xfffff000 carries 6000 messages across the wrap: one order, FIFO, all released", () => {
  const ring = quiescentRing([1, 2, 3]);
  const from = rebaseQuiescentRing(ring.live, 0xfffff000);
  assert.ok(from < 16, "the fresh ring had carried nothing but its formation");
  for (let i = 0; i < 2000; i++) for (const id of [1, 2, 3]) ring.mcast(id, String(i));
  ring.runUntil(() => [1, 2, 3].every((id) => ring.delivered.get(id)!.length === 6000));
  const order = ring.delivered.get(1)!;
  assert.deepEqual(ring.delivered.get(2), order);
  assert.deepEqual(ring.delivered.get(3), order);
  assertFifo(order, [1, 2, 3]);
  // One packet per message (raw SRP mcasts): 6000 seqs from 0xfffff001 end at 6000 − 4096.
  ring.runUntil(() => ring.idle && ringQuiescent(ring.live));
  for (const s of ring.live) {
    assert.equal(s.myAru, 6000 - 4096);
    assert.equal(s.myHighDelivered, 6000 - 4096);
    assert.equal(s.lastReleased, 6000 - 4096, "messages on both sides of the wrap were released");
    assert.equal(s.regularSortQueue.headSeq, 6000 - 4096 + 1);
    assert.equal(s.regularSortQueue.countItems(), 0);
  }
});

test("property: a processor crashing while traffic crosses the wrap; the survivors agree (EVS)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0xffffff00, max: 0xffffffff }),
      fc.integer({ min: 0, max: 400 }),
      fc.integer({ min: 1, max: 3 }),
      (base, crashAfter, victim) => {
        const ring = quiescentRing([1, 2, 3]);
        rebaseQuiescentRing(ring.live, base);
        // From here on (everything before is delivered everywhere) the logs must agree.
        const mark = new Map([1, 2, 3].map((id) => [id, ring.events.get(id)!.length]));
        const since = (id: number): string[] => ring.events.get(id)!.slice(mark.get(id));
        for (let i = 0; i < 150; i++) for (const id of [1, 2, 3]) ring.mcast(id, String(i));
        for (let k = 0; k < crashAfter && ring.step(); k++);
        ring.crash(victim);
        ring.runUntil(() => ring.converged() && ring.idle);
        const survivors = [1, 2, 3].filter((id) => id !== victim);
        const [a, b] = survivors.map(since);
        assert.deepEqual(a, b, "survivors moving together deliver the same messages and configurations");
        assert.equal(a!.filter((e) => e.startsWith("conf transitional")).length, 1);
        assertFifo(ring.delivered.get(survivors[0]!)!, [1, 2, 3]);
        // The crashed processor delivered a prefix of the survivors' old-ring order.
        const dead = since(victim);
        assert.deepEqual(a!.slice(0, dead.length), dead);
        // Messages queued at the survivors and not yet sent go out in the new ring.
        for (const id of survivors) assert.equal(ring.delivered.get(id)!.filter((m) => m.startsWith(`${id}:`)).length, 150);
        return true;
      },
    ),
    { numRuns: 30 },
  );
});
