/**
 * Fixed regression seeds of the CPG mini-swarm, found by its long mode
 * (`corosync-sim --cpg --seeds 1000.. --minutes N`):
 * - 1236 and 1489: a client whose node crashed had delivered its own last messages alone, in
 *   its last ring; extended virtual synchrony allows that, the checker did not (fixed in
 *   sim/cpg.ts, `crashExcuse`). They must pass.
 * - 2063: node 3 completed the sync of ring 1.16 only when that ring's last messages were
 *   delivered at the transition into 1.1a; the release of application traffic, deferred to
 *   the end of that input, then ran after the confchg of 1.1a had started a new round, so
 *   node 3's clients sent during 1.1a's sync and node 2 got their messages before node 3's
 *   JOINLIST ("Unknown node" on node 2, then 96 deliveries from a sender outside its view).
 *   Fixed in src/core/services/host.ts: a configuration change cancels a pending release.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runCpgSeed } from "../../sim/cpg-swarm.js";

for (const seed of [1236, 1489]) {
  test(`CPG seed ${seed}: a crashed node's own last deliveries are not a virtual-synchrony violation`, () => {
    assert.deepEqual(runCpgSeed(seed).violations, []);
  });
}

test("CPG seed 2063: no delivery from a process outside the receiver's view after a merge (replay: corosync-sim --cpg --seed 2063)", () => {
  assert.deepEqual(runCpgSeed(2063).violations.slice(0, 3), []);
});
