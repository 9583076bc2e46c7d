/**
 * CPG codecs: exec messages (totem-spec §7.2) and libcpg IPC messages (§2.6) — sizes and
 * offsets byte for byte, round trips, the CPG exec messages of a real corosync 3.1.7 capture
 * decoded and re-encoded to the same bytes, and hostile input rejected without a throw.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CPG_SIZES,
  CpgExecFn,
  decodeCpgExec,
  encodeDownList,
  encodeJoinList,
  encodeMcast,
  encodePartialMcast,
  encodeProcJoinLeave,
  groupNameFromText,
} from "../../src/core/cpg/messages.js";
import { CpgEngine } from "../../src/core/cpg/engine.js";
import { decodeCpgEvent, encodeConfchgEvent, encodeTotemConfchgEvent, encodeMembershipResponse, encodeIterNextResponse, decodeMcastRequest, encodeMcastRequest } from "../../src/wire/ipc/cpg.js";
import type { ServiceApi } from "../../src/core/services/types.js";

const G = groupNameFromText("GROUP\0");

test("PROCJOIN is 168 bytes with the documented offsets", () => {
  const b = encodeProcJoinLeave(CpgExecFn.PROCJOIN, G, 4242, 1);
  const dv = new DataView(b.buffer);
  assert.equal(b.byteLength, 168);
  assert.equal(dv.getInt32(0, true), 0x20000);
  assert.equal(dv.getInt32(8, true), 168);
  assert.equal(dv.getUint32(16, true), 6);
  assert.equal(new TextDecoder().decode(b.subarray(24, 30)), "GROUP\0");
  assert.equal(dv.getUint32(152, true), 4242);
  assert.equal(dv.getUint32(160, true), 1);
  const d = decodeCpgExec(0, b);
  assert.ok(d.ok);
  assert.deepEqual(d.value, { fn: 0, group: G, pid: 4242, reason: 1 });
});

test("JOINLIST, MCAST, PARTIAL_MCAST, DOWNLIST sizes and round trips", () => {
  const jl = encodeJoinList([{ pid: 1, group: G }, { pid: 2, group: groupNameFromText("x") }]);
  assert.equal(jl.byteLength, 24 + 2 * 144);
  const mc = encodeMcast(G, 7, { nodeId: 3, conn: 99n }, Uint8Array.of(1, 2, 3));
  assert.equal(mc.byteLength, 187);
  assert.equal(new DataView(mc.buffer).getUint32(152, true), 3);
  const pm = encodePartialMcast(G, 7, { nodeId: 3, conn: 1n }, 10, 1, Uint8Array.of(9));
  assert.equal(pm.byteLength, 201);
  const dl = encodeDownList(3, 1, Uint32Array.from({ length: 384 }, (_, i) => (i === 0 ? 2 : 77)));
  assert.equal(dl.byteLength, CPG_SIZES.downlist);
  for (const [fn, b] of [[2, jl], [3, mc], [6, pm], [5, dl]] as const) assert.ok(decodeCpgExec(fn, b).ok);
  const d = decodeCpgExec(5, dl);
  assert.ok(d.ok && d.value.fn === 5);
  assert.deepEqual(d.ok && d.value.fn === 5 ? d.value.leftNodes : [], [2]);
});

test("hostile exec messages are rejected, never thrown", () => {
  const bad = encodeProcJoinLeave(CpgExecFn.PROCJOIN, G, 1, 1);
  new DataView(bad.buffer).setUint32(16, 129, true);
  assert.equal(decodeCpgExec(0, bad).ok, false);
  const mc = encodeMcast(G, 7, { nodeId: 3, conn: 0n }, new Uint8Array(10));
  new DataView(mc.buffer).setUint32(152, 0xffffffff, true);
  assert.equal(decodeCpgExec(3, mc).ok, false);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 8 }), fc.uint8Array({ maxLength: 2000 }), (fn, bytes) => {
      decodeCpgExec(fn, bytes, false);
      decodeCpgExec(fn, bytes, true);
      decodeCpgEvent(bytes);
      decodeMcastRequest(bytes);
    }),
  );
});

test("the engine survives random exec messages from the network", () => {
  const api: ServiceApi = { nodeId: 1, now: () => 0, mcast: () => true, sendOk: () => true, schedule: () => ({ cancel() {} }), log: () => {} };
  const engine = new CpgEngine({ api });
  engine.attach(1, { deliver() {}, partialDeliver() {}, confchg() {}, totemConfchg() {} });
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 600 }), fc.boolean(), (fn, bytes, be) => {
      engine.exec(fn, bytes, { nodeId: 2, bigEndian: be });
    }),
  );
});

test("libcpg IPC layouts: confchg members/left/joined order, totem confchg size 48+4n, membership 9248, iteration 168", () => {
  const a = (nodeId: number, pid: number, reason: number) => ({ nodeId, pid, reason });
  const ev = encodeConfchgEvent(G, [a(1, 10, 0)], [a(2, 20, 3)], [a(3, 30, 1)]);
  assert.equal(ev.byteLength, 184 + 3 * 24);
  const dv = new DataView(ev.buffer);
  assert.deepEqual([dv.getUint32(160, true), dv.getUint32(168, true), dv.getUint32(176, true)], [1, 1, 1]);
  assert.equal(dv.getUint32(184 + 24, true), 2, "left list after members");
  const d = decodeCpgEvent(ev);
  assert.ok(d?.type === "confchg");
  assert.deepEqual([d.members[0]!.pid, d.left[0]!.pid, d.joined[0]!.pid], [10, 20, 30]);
  assert.equal(encodeTotemConfchgEvent(1, 0x1cn, [1, 2, 3]).byteLength, 48 + 12);
  assert.equal(encodeMembershipResponse(1, []).byteLength, 9248);
  assert.equal(encodeIterNextResponse(1, { group: G, nodeId: 1, pid: 2 }).byteLength, 168);
  const [h, body] = encodeMcastRequest(2, Uint8Array.of(5, 6));
  const req = new Uint8Array(42);
  req.set(h);
  req.set(body, 40);
  assert.deepEqual(decodeMcastRequest(req)?.data, Uint8Array.of(5, 6));
});
