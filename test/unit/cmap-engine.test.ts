/**
 * The cmap engine's exec/sync part (src/core/cmap/engine.ts; totem-spec §7.4), driven by
 * hand: what it multicasts in sync and on a config_version change, what it stores from
 * other nodes, and the "exit if another member has a greater config_version on the first
 * non-trivial sync" rule with corosync's log text.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CmapStore } from "../../src/core/cmap/store.js";
import { CmapEngine } from "../../src/core/cmap/engine.js";
import { CmapType } from "../../src/core/cmap/types.js";
import type { ServiceApi } from "../../src/core/services/types.js";
import { decodeCmapMcast, encodeCmapMcast } from "../../src/wire/cmap/exec.js";

const ring = { rep: 1, seq: 8n };

function u64Bytes(v: bigint, le = true): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, le);
  return b;
}

function versionMessage(v: bigint | undefined, reason = 0, le = true): Uint8Array {
  const item = v === undefined ? { key: "totem.config_version", type: 0, value: new Uint8Array(0) } : { key: "totem.config_version", type: CmapType.UINT64, value: u64Bytes(v, le) };
  const m = encodeCmapMcast({ reason, items: [item] });
  if (!le) {
    const dv = new DataView(m.buffer);
    dv.setInt32(8, m.byteLength, false);
    dv.setUint16(48, 20, false);
    dv.setBigUint64(48 + 272, BigInt(item.value.byteLength), false);
  }
  return m;
}

function setup(nodeId: number, version?: bigint, queueFull = false) {
  const store = new CmapStore();
  if (version !== undefined) store.set("totem.config_version", { type: CmapType.UINT64, value: version }, { force: true });
  const sent: Uint8Array[] = [];
  const logs: string[] = [];
  const shutdowns: string[] = [];
  const api: ServiceApi = {
    nodeId,
    now: () => 0,
    mcast: (m) => {
      if (queueFull) return false;
      sent.push(m);
      return true;
    },
    sendOk: () => !queueFull,
    schedule: () => ({ cancel() {} }),
    log: (level, subsys, text) => void logs.push(`${level} ${subsys} ${text}`),
  };
  const engine = new CmapEngine({ api, store, requestShutdown: (r) => void shutdowns.push(r) });
  const round = (trans: number[], members: number[], from: Array<[number, bigint | undefined]>) => {
    engine.sync.init(trans, members, ring);
    assert.equal(engine.sync.process(), !queueFull);
    for (const [n, v] of from) engine.exec(0, versionMessage(v), { nodeId: n, bigEndian: false });
    engine.sync.activate();
  };
  return { store, engine, sent, logs, shutdowns, round };
}

test("sync process sends totem.config_version (u64 or absent) with reason SYNC", () => {
  const a = setup(1, 5n);
  a.round([], [1], [[1, 5n]]);
  const m = decodeCmapMcast(a.sent[0]!);
  assert.equal(m.reason, 0);
  assert.deepEqual(m.items.map((i) => [i.key, i.type, Buffer.from(i.value).toString("hex")]), [["totem.config_version", 8, "0500000000000000"]]);
  const b = setup(2);
  b.round([], [2], []);
  assert.deepEqual(decodeCmapMcast(b.sent[0]!).items.map((i) => [i.type, i.value.byteLength]), [[0, 0]]);
  assert.equal(new DataView(b.sent[0]!.buffer).getInt32(0, true), 0, "header id: service 0, fn 0");
  const full = setup(3, 1n, true);
  full.engine.sync.init([], [3], ring);
  assert.equal(full.engine.sync.process(), false, "a full queue: process asks to be called again");
});

test("received versions are stored as runtime.members.<id>.config_version; big-endian senders too", () => {
  const s = setup(1, 3n);
  s.engine.exec(0, versionMessage(7n), { nodeId: 2, bigEndian: false });
  s.engine.exec(0, versionMessage(9n, 1, false), { nodeId: 3, bigEndian: true });
  s.engine.exec(0, versionMessage(undefined), { nodeId: 4, bigEndian: false });
  const get = (n: number) => s.store.get(`runtime.members.${n}.config_version`);
  assert.deepEqual([get(2), get(3), get(4)], [
    { type: CmapType.UINT64, value: 7n },
    { type: CmapType.UINT64, value: 9n },
    { type: CmapType.UINT64, value: 0n },
  ]);
  // Malformed or foreign-fn messages are dropped and counted, never thrown.
  s.engine.exec(0, new Uint8Array(20), { nodeId: 2, bigEndian: false });
  s.engine.exec(1, versionMessage(1n), { nodeId: 2, bigEndian: false });
  assert.deepEqual(s.engine.stats.rxBad, { TRUNCATED: 1, BAD_TYPE: 1 });
  assert.deepEqual(get(2), { type: CmapType.UINT64, value: 7n });
});

test("first non-trivial sync: a greater version elsewhere shuts this node down with corosync's text", () => {
  const s = setup(1, 3n);
  s.round([], [1], [[1, 3n]]); // own singleton ring first: does not count
  assert.deepEqual(s.shutdowns, []);
  s.round([1], [1, 2], [[1, 3n], [2, 4n]]);
  assert.deepEqual(s.shutdowns, ["Received config version (4) is different than my config version (3)! Exiting"]);
  assert.ok(s.logs.includes("error CMAP Received config version (4) is different than my config version (3)! Exiting"));
});

test("lower versions elsewhere, version 0 here, and later syncs never shut down", () => {
  const lower = setup(1, 5n);
  lower.round([1], [1, 2], [[1, 5n], [2, 4n]]);
  assert.deepEqual(lower.shutdowns, []);
  lower.round([1, 2], [1, 2, 3], [[3, 9n]]); // not the first sync any more
  assert.deepEqual(lower.shutdowns, []);
  assert.ok(lower.logs.includes("debug CMAP Not first sync -> no action"));
  const zero = setup(1);
  zero.round([1], [1, 2], [[2, 4n]]);
  assert.deepEqual(zero.shutdowns, []);
  assert.ok(zero.logs.includes("debug CMAP My config version is 0 -> no action"));
  const own = setup(1, 2n);
  own.round([1], [1, 2], [[1, 99n]]); // our own (looped back) message does not count
  assert.deepEqual(own.shutdowns, []);
});

test("changing totem.config_version multicasts NEW_CONFIG_VERSION; a refused send is logged", () => {
  const s = setup(1, 1n);
  s.store.set("totem.config_version", { type: CmapType.UINT64, value: 2n });
  s.store.delete("totem.config_version");
  assert.deepEqual(
    s.sent.map((b) => decodeCmapMcast(b)).map((m) => [m.reason, m.items[0]!.type, m.items[0]!.value.byteLength]),
    [
      [1, 8, 8],
      [1, 0, 0],
    ],
  );
  const full = setup(1, 1n, true);
  full.store.set("totem.config_version", { type: CmapType.UINT64, value: 2n });
  assert.ok(full.logs.includes("error CMAP Can't inform other nodes about new config version"));
  assert.equal(full.engine.stats.txRefused, 1);
  s.engine.stop();
  s.store.set("totem.config_version", { type: CmapType.UINT64, value: 3n });
  assert.equal(s.sent.length, 2, "stop() ends the tracking");
});
