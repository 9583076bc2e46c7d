/**
 * Fixed regression seeds of the CPG mini-swarm, found by its long mode
 * (`corosync-sim --cpg --seeds 1000.. --minutes N`):
 * - 1236 and 1489: a client whose node crashed had delivered its own last messages alone, in
 *   its last ring; extended virtual synchrony allows that, the checker did not (fixed in
 *   sim/cpg.ts, `crashExcuse`). They must pass.
 * - 2063: after the merge into ring 1.1a, node 2's process list lacks 3/1005 while node 3's
 *   has it, and node 2's clients deliver 96 messages from 3/1005, a sender not in their view
 *   (the "unknown sender" class, corosync PR #663). A bug in src/core/cpg, not fixed here:
 *   kept as a todo with its replay command until it is.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runCpgSeed } from "../../sim/cpg-swarm.js";

for (const seed of [1236, 1489]) {
  test(`CPG seed ${seed}: a crashed node's own last deliveries are not a virtual-synchrony violation`, () => {
    assert.deepEqual(runCpgSeed(seed).violations, []);
  });
}

test("CPG seed 2063: no delivery from a process outside the receiver's view after a merge (replay: corosync-sim --cpg --seed 2063)", { todo: "unknown-sender bug in src/core/cpg, reported, not fixed on this branch" }, () => {
  assert.deepEqual(runCpgSeed(2063).violations.slice(0, 3), []);
});
