/**
 * CPG's down list when sync rounds are interrupted (found by the chaos run, seed 777, 10 min).
 *
 * From ring 1.162 {1..5}: node 4 was cut off; nodes 2 and 3 installed ring 1.166 {1,2,3,5}
 * (1 and 5 never did) and delivered node 4's messages 145 and 146 in its transitional
 * configuration; 1 and 5 had not received them and went straight to ring 1.16a, where 2 and 3
 * arrived from 1.166 (transitional {2,3} at 2 and 3, {1,5} at 1 and 5); then 1.16e {1..5}. No
 * sync completed before 1.16e. corosync's cpg_sync_init computes the down list from the last
 * ring's transitional list only ({1,2,3,5} at every node), so every client saw the same two
 * confchgs (4 down, 4 up) — yet clients on 2 and 3 had delivered 145 and 146 in the view before
 * them and clients on 1 and 5 had not: a virtual-synchrony violation visible to applications.
 *
 * Our engine keeps the intersection of the transitional lists of every round since the last
 * completed sync: at 2 and 3 the down list is {1,4,5}, at 1 and 5 it is {2,3,4}, so the
 * clients on the two sides see different confchgs — as they lived through different
 * configurations.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CpgEngine } from "../../src/core/cpg/engine.js";
import { CpgExecFn, decodeCpgExec } from "../../src/core/cpg/messages.js";
import { ServiceId, type ServiceApi } from "../../src/core/services/types.js";

/** A CPG engine on `nodeId` whose exec messages are captured. */
function engineOn(nodeId: number): { engine: CpgEngine; sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  const api: ServiceApi = { nodeId, now: () => 0, mcast: (m) => (sent.push(m), true), sendOk: () => true, schedule: () => ({ cancel() {} }), log: () => {} };
  return { engine: new CpgEngine({ api }), sent };
}

/** The down list the engine multicasts in the current round. */
function downlistOf(engine: CpgEngine, sent: Uint8Array[]): number[] {
  sent.length = 0;
  engine.sync.process();
  const msg = sent.find((m) => new DataView(m.buffer, m.byteOffset).getInt32(0, true) === ((ServiceId.CPG << 16) | CpgExecFn.DOWNLIST));
  assert.ok(msg, "a DOWNLIST was sent");
  const d = decodeCpgExec(CpgExecFn.DOWNLIST, msg);
  assert.ok(d.ok && d.value.fn === CpgExecFn.DOWNLIST);
  return [...d.value.leftNodes].sort((a, b) => a - b);
}

const ring = (seq: number): { rep: number; seq: bigint } => ({ rep: 1, seq: BigInt(seq) });
const ALL = [1, 2, 3, 4, 5];

/** Completes a first sync on {1..5} at ring 1.162. */
function synced(nodeId: number): { engine: CpgEngine; sent: Uint8Array[] } {
  const e = engineOn(nodeId);
  e.engine.sync.init(ALL, ALL, ring(0x162));
  e.engine.sync.process();
  e.engine.sync.activate();
  return e;
}

test("interrupted syncs: the down list holds every node missing from any transitional configuration since the last sync", () => {
  const { engine, sent } = synced(2);
  engine.sync.init([1, 2, 3, 5], [1, 2, 3, 5], ring(0x166));
  engine.sync.abort();
  engine.sync.init([2, 3], [1, 2, 3, 5], ring(0x16a));
  engine.sync.abort();
  engine.sync.init([1, 2, 3, 5], ALL, ring(0x16e));
  assert.deepEqual(downlistOf(engine, sent), [1, 4, 5]);
});

test("the other side of the same history sees the other nodes go", () => {
  const { engine, sent } = synced(1);
  engine.sync.init([1, 5], [1, 2, 3, 5], ring(0x16a));
  engine.sync.abort();
  engine.sync.init([1, 2, 3, 5], ALL, ring(0x16e));
  assert.deepEqual(downlistOf(engine, sent), [2, 3, 4]);
});

test("an uninterrupted round uses its own transitional list; a completed sync starts afresh", () => {
  const { engine, sent } = synced(2);
  engine.sync.init([1, 2, 3, 5], [1, 2, 3, 5], ring(0x166));
  assert.deepEqual(downlistOf(engine, sent), [4]);
  engine.sync.activate();
  engine.sync.init([1, 2, 3, 5], ALL, ring(0x16a));
  assert.deepEqual(downlistOf(engine, sent), []);
});
