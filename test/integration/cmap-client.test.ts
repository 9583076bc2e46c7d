/**
 * The cmap client library (src/client/cmap.ts) against one of our executives on loopback
 * (its own IPC prefix; no root needed): typed get/set/delete/adjust, iteration, trackers
 * (events and async iteration), the stats map, CorosyncError codes; and the daemon's
 * runtime trigger keys (blackbox dump, force_gather) and SIGUSR2 blackbox.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { DaemonCluster, type DaemonNode } from "../helpers/daemons.js";
import { CmapClient, CmapType, isCorosyncError, type CmapChange, type CmapValue } from "../../src/client/index.js";
import { decodeBlackbox } from "../../src/daemon/log/blackbox-format.js";

let cluster: DaemonCluster;
let node: DaemonNode;
const connect = (map?: "stats") => CmapClient.connect({ prefix: node.ipcPrefix, ...(map ? { map } : {}) });

before(async () => {
  cluster = new DaemonCluster({ nodes: 1 });
  cluster.start();
  node = cluster.node(1);
  await cluster.waitForMembers([1], [1]);
});

after(async () => {
  await cluster.destroy();
});

test("get / set / delete / adjust of every type, with libcmap's error codes", async () => {
  const cmap = await connect();
  try {
    assert.deepEqual(await cmap.get("totem.cluster_name"), { type: CmapType.STRING, value: "testcluster" });
    assert.deepEqual(await cmap.info("totem.version"), { type: CmapType.UINT32, length: 4 });
    const values: CmapValue[] = [
      { type: CmapType.INT8, value: -128 },
      { type: CmapType.UINT16, value: 65535 },
      { type: CmapType.INT32, value: -2147483648 },
      { type: CmapType.UINT64, value: 18446744073709551615n },
      { type: CmapType.FLOAT, value: 0.5 },
      { type: CmapType.DOUBLE, value: 1e300 },
      { type: CmapType.STRING, value: "ünïcode ok" },
      { type: CmapType.BINARY, value: new Uint8Array([0, 1, 2, 255]) },
    ];
    for (const v of values) {
      await cmap.set("client.test", v);
      assert.deepEqual(await cmap.get("client.test"), v);
    }
    await cmap.set("client.counter", { type: CmapType.UINT8, value: 254 });
    await cmap.inc("client.counter");
    await cmap.inc("client.counter");
    assert.deepEqual(await cmap.get("client.counter"), { type: CmapType.UINT8, value: 0 });
    await cmap.dec("client.counter");
    assert.deepEqual(await cmap.get("client.counter"), { type: CmapType.UINT8, value: 255 });
    await cmap.delete("client.counter");
    const code = async (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (isCorosyncError(e) ? e.code : String(e)));
    assert.equal(await code(cmap.get("client.counter")), "NOT_EXIST");
    assert.equal(await code(cmap.delete("client.counter")), "NOT_EXIST");
    assert.equal(await code(cmap.set("totem.version", { type: CmapType.UINT32, value: 3 })), "ACCESS");
    assert.equal(await code(cmap.set("client.nan", { type: CmapType.DOUBLE, value: NaN })), "INVALID_PARAM");
    assert.equal(await code(cmap.set("client.big", { type: CmapType.UINT8, value: 256 })), "INVALID_PARAM");
    assert.equal(await code(cmap.set("x".repeat(300), { type: CmapType.UINT8, value: 1 })), "NAME_TOO_LONG");
    assert.equal(await code(cmap.set("x!y", { type: CmapType.UINT8, value: 1 })), "NAME_TOO_LONG");
    assert.equal(await code(cmap.adjust("totem.cluster_name", 1)), "ACCESS");
    await cmap.delete("client.test");
  } finally {
    await cmap.close();
  }
});

test("keys and iterate: prefix order, types and lengths; the iterator is finalized early", async () => {
  const cmap = await connect();
  try {
    const keys = [];
    for await (const k of cmap.keys("totem.")) keys.push(k);
    assert.deepEqual(keys.map((k) => k.key), [...keys.map((k) => k.key)].sort());
    assert.ok(keys.some((k) => k.key === "totem.version" && k.type === CmapType.UINT32 && k.length === 4));
    const entries = [];
    for await (const e of cmap.iterate("nodelist.node.0.")) entries.push(e);
    assert.deepEqual(entries.map((e) => e.key), ["nodelist.node.0.name", "nodelist.node.0.nodeid", "nodelist.node.0.ring0_addr"]);
    for (let i = 0; i < 50; i++) {
      for await (const _ of cmap.keys("")) break; // finalize on break: no iterator leak
    }
    const stats = await connect("stats");
    try {
      const open = await stats.get(`stats.ipcs.global.active`);
      assert.equal(open.type, CmapType.UINT64);
    } finally {
      await stats.close();
    }
  } finally {
    await cmap.close();
  }
});

test("trackers: change events and async iteration with new and old values; close stops them", async () => {
  const writer = await connect();
  const reader = await connect();
  try {
    const t = await reader.track("client.trk.", { prefix: true });
    const seen: CmapChange[] = [];
    t.on("change", (c: CmapChange) => seen.push(c));
    await writer.set("client.trk.a", { type: CmapType.UINT32, value: 1 });
    await writer.set("client.trk.a", { type: CmapType.UINT32, value: 2 });
    await writer.delete("client.trk.a");
    const got: CmapChange[] = [];
    for await (const c of t) {
      got.push(c);
      if (got.length === 3) break; // ends the tracker (TRACK_DELETE)
    }
    assert.deepEqual(got, [
      { kind: "add", key: "client.trk.a", newValue: { type: CmapType.UINT32, value: 1 } },
      { kind: "modify", key: "client.trk.a", newValue: { type: CmapType.UINT32, value: 2 }, oldValue: { type: CmapType.UINT32, value: 1 } },
      { kind: "delete", key: "client.trk.a", oldValue: { type: CmapType.UINT32, value: 2 } },
    ]);
    assert.deepEqual(seen, got);
    await writer.set("client.trk.b", { type: CmapType.UINT8, value: 1 });
    await writer.get("client.trk.b");
    assert.equal(seen.length, 3, "no events after the tracker ended");
    const onlyAdds = await reader.track("client.trk.", { prefix: true, events: ["add"] });
    const adds: string[] = [];
    onlyAdds.on("change", (c: CmapChange) => adds.push(`${c.kind} ${c.key}`));
    await writer.delete("client.trk.b");
    await writer.set("client.trk.c", { type: CmapType.UINT8, value: 1 });
    await writer.delete("client.trk.c");
    await writer.set("client.trk.d", { type: CmapType.UINT8, value: 1 });
    // Events and responses travel on different rings: wait for the last add (events arrive in
    // order, so a wrongly sent delete of b or c would be in the list before it).
    const deadline = Date.now() + 10_000;
    while (!adds.includes("add client.trk.d") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(adds, ["add client.trk.c", "add client.trk.d"]);
    await writer.delete("client.trk.d");
    await onlyAdds.close();
  } finally {
    await Promise.all([writer.close(), reader.close()]);
  }
});

test("connecting where no daemon listens: CorosyncError LIBRARY with the IpcError as cause", async () => {
  await assert.rejects(CmapClient.connect({ prefix: `nobody-${process.pid}` }), (e: unknown) => isCorosyncError(e, "LIBRARY") && e.cause !== undefined);
});

test("runtime.blackbox.dump_flight_data and SIGUSR2 write <state>/fdata; runtime.force_gather forces a new ring", async () => {
  const state = join(node.dir, "state");
  const cmap = await connect();
  try {
    await cmap.set("runtime.blackbox.dump_flight_data", { type: CmapType.STRING, value: "yes" });
    await cluster.waitFor("blackbox written", () => node.grep(/Blackbox written to/).length >= 1);
    const first = readlinkSync(join(state, "fdata"));
    const records = decodeBlackbox(new Uint8Array(readFileSync(join(state, "fdata")))).records;
    assert.ok(records.some((r) => r.message === "Completed service synchronization, ready to provide service."));
    assert.ok(records.some((r) => /entering OPERATIONAL state/.test(r.message)), "protocol events are recorded");
    node.signal("SIGUSR2");
    await cluster.waitFor("second dump", () => node.grep(/Blackbox written to/).length >= 2);
    assert.match(first, /fdata-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-\d+$/);
    const ring = node.ringId;
    await cmap.set("runtime.force_gather", { type: CmapType.STRING, value: "yes" });
    await cluster.waitFor("a new ring", () => node.ringId !== ring && node.members.join() === "1");
    assert.deepEqual(await cmap.get("runtime.force_gather"), { type: CmapType.STRING, value: "no" });
    assert.equal(node.grep(/Forcing into GATHER state/).length, 1);
  } finally {
    await cmap.close();
  }
});
