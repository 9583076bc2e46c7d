/**
 * CPG with real executives and real client processes: three daemons over udpu on 127.x
 * (each with its own IPC prefix), client processes on our client library on each node.
 * Messages and confchgs in one order everywhere, a 1 MiB message intact, a killed client is
 * PROCDOWN, a slow consumer does not hold up the others, kill -9 of a daemon is NODEDOWN at
 * the others, and cpgverify on all nodes prints identical hashes per configuration across a
 * daemon kill and restart.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { DaemonCluster } from "../helpers/daemons.js";
import { cpgChild, LineProc } from "../helpers/cpg-proc.js";
import { Cpg, type CpgMessageEvent } from "../../src/client/index.js";
import { IpcClientConnection } from "../../src/client/ipc/connection.js";
import { encodeIterInitRequest } from "../../src/wire/ipc/cpg.js";
import { readResponseHeader } from "../../src/runtime/ipc/protocol.js";
import { CpgIterationType } from "../../src/core/cpg/process-list.js";
import { CsError } from "../../src/core/cs-error.js";

const cluster = new DaemonCluster({ nodes: 3, token: 1000 });
const procs: LineProc[] = [];
const handles: Cpg[] = [];
after(async () => {
  for (const p of procs) p.kill();
  await Promise.all(procs.map((p) => p.exited));
  await Promise.all(handles.map((h) => h.close().catch(() => undefined)));
  await cluster.destroy();
});

const GROUP = "itest";
const prefix = (n: number): string | undefined => cluster.node(n).ipcPrefix;

function child(n: number, group = GROUP): LineProc {
  const p = cpgChild({ prefix: prefix(n), group });
  procs.push(p);
  return p;
}

const msgs = (p: LineProc): string[] => p.events.filter((e) => e.ev === "msg").map((e) => `${e.from} ${e.text}`);
const confchgs = (p: LineProc): string[] => p.events.filter((e) => e.ev === "confchg").map((e) => `+${(e.joined as string[]).join(",")} -${(e.left as string[]).join(",")}`);

test("clients on three nodes see each other's confchgs and messages in one order", { timeout: 60_000 }, async () => {
  cluster.start();
  await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
  const cs = [1, 2, 3].map((n) => child(n));
  for (const c of cs) await c.waitEvent("ready", (e) => e.ev === "ready");
  await Promise.all(cs.map((c) => c.waitFor("3 members", () => c.events.some((e) => e.ev === "confchg" && (e.members as string[]).length === 3))));
  cs.forEach((c, i) => c.send({ op: "mcastMany", prefix: `n${i + 1}`, count: 50 }));
  await Promise.all(cs.map((c) => c.waitFor("150 messages", () => msgs(c).length >= 150)));
  assert.deepEqual(msgs(cs[1]!), msgs(cs[0]!));
  assert.deepEqual(msgs(cs[2]!), msgs(cs[0]!));
  // Each client's confchg history (from its own join on) is a suffix of the first joiner's.
  const all = cs.map(confchgs).reduce((a, b) => (b.length > a.length ? b : a));
  assert.equal(all.length, 3);
  for (const c of cs) assert.deepEqual(all.slice(all.length - confchgs(c).length), confchgs(c));
});

test("a 1 MiB message arrives intact (PARTIAL pieces)", { timeout: 30_000 }, async () => {
  const a = await Cpg.connect({ prefix: prefix(1) });
  const b = await Cpg.connect({ prefix: prefix(3) });
  handles.push(a, b);
  await a.join("big");
  await b.join("big");
  const got = new Promise<CpgMessageEvent>((resolve) => b.on("message", (m) => m.data.byteLength > 1000 && resolve(m)));
  const data = new Uint8Array(1024 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >>> 10)) & 0xff;
  await a.mcast(data);
  const m = await got;
  assert.equal(m.data.byteLength, data.byteLength);
  assert.equal(createHash("sha1").update(m.data).digest("hex"), createHash("sha1").update(data).digest("hex"));
  assert.equal(m.nodeId, 1);
});

test("a killed client process is PROCDOWN at the others", { timeout: 30_000 }, async () => {
  const victim = child(2);
  await victim.waitEvent("ready", (e) => e.ev === "ready");
  const watcher = procs[0]!;
  await watcher.waitFor("victim joined", () => confchgs(watcher).some((c) => c.includes(`2/${victim.pid}:1`)));
  victim.kill();
  await watcher.waitFor("PROCDOWN", () => confchgs(watcher).some((c) => c === `+ -2/${victim.pid}:5`));
});

test("a slow consumer does not hold up the others", { timeout: 30_000 }, async () => {
  const slow = await Cpg.connect({ prefix: prefix(2) });
  const fast = await Cpg.connect({ prefix: prefix(3) });
  const sender = await Cpg.connect({ prefix: prefix(1) });
  handles.push(slow, fast, sender);
  for (const h of [slow, fast, sender]) await h.join("slow");
  const it = slow.events({ highWaterMark: 4 }); // never read: the library stops reading
  void it;
  let fastGot = 0;
  fast.on("message", () => fastGot++);
  const started = Date.now();
  for (let i = 0; i < 2000; i++) await sender.mcast(new Uint8Array(512));
  while (fastGot < 2000 && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 20));
  assert.equal(fastGot, 2000, "the fast consumer got everything");
  await it.return!();
});

test("kill -9 of a daemon: NODEDOWN at the others", { timeout: 30_000 }, async () => {
  const watcher = procs[0]!;
  const n3 = procs[2]!;
  cluster.node(3).signal("SIGKILL");
  await watcher.waitFor("NODEDOWN for node 3", () => confchgs(watcher).some((c) => c === `+ -3/${n3.pid}:3`));
  await cluster.node(3).exited;
});

test("cpgverify on all nodes: identical hashes per configuration across a daemon kill and restart", { timeout: 90_000 }, async () => {
  cluster.node(3).start();
  await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
  const bin = fileURLToPath(new URL("../../src/cli/cpgverify.js", import.meta.url));
  const verify = (n: number, count: number): LineProc => {
    const p = new LineProc([process.execPath, bin, "-i", String(count), "-w", "3000"], prefix(n) ? { COROSYNC_IPC_PREFIX: prefix(n)! } : {});
    procs.push(p);
    return p;
  };
  const sizes = (p: LineProc): number => p.lines.filter((l) => l.startsWith("SIZE")).length;
  const [v1, v2, v3] = [verify(1, 400), verify(2, 400), verify(3, 400)];
  await v1.waitFor("traffic from all three", () => sizes(v1) >= 40 && sizes(v3) >= 20, 30_000);
  cluster.node(3).signal("SIGKILL");
  await v3.exited;
  await cluster.node(3).exited;
  cluster.node(3).start();
  await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
  const v3b = verify(3, 30);
  await Promise.all([v1.exited, v2.exited, v3b.exited]);
  for (const p of [v1, v2, v3b]) assert.equal(p.exitCode, 0, p.lines.slice(-5).join("\n"));
  // Closed configurations (in order) as "members=… deliveries=… hash=…".
  const configs = (p: LineProc): string[] => p.lines.filter((l) => l.startsWith("CONFIG") && !l.endsWith(" open")).map((l) => l.replace(/^CONFIG \d+ /, ""));
  const [c1, c2, c3] = [configs(v1), configs(v2), configs(v3b)];
  // The last configuration with the first node-3 client, and the one after it (node 3 down), were
  // lived through by nodes 1 and 2 from start to end: they must agree exactly.
  const withV3 = (c: string[]): number => c.findLastIndex((l) => l.includes(`3/${v3.pid}`));
  const i1 = withV3(c1);
  const i2 = withV3(c2);
  assert.ok(i1 >= 0 && i2 >= 0, `both saw node 3's client:\n${c1.join("\n")}\n--\n${c2.join("\n")}`);
  assert.equal(c1[i1], c2[i2], "the 3-node configuration");
  assert.match(c1[i1 + 1] ?? "", /^members=\S+,\S+ deliveries=\d+/, "a 2-node configuration followed");
  assert.equal(c1[i1 + 1], c2[i2 + 1], "the configuration after node 3 went down");
  // Whatever the restarted node closed, the others closed the same way.
  for (const line of c3) if (line.split(" ")[0]!.includes(",")) assert.ok(c1.includes(line) || !c1.some((l) => l.startsWith(line.split(" ")[0]!)), `restarted node: ${line}`);
  assert.ok(![v1, v2, v3, v3b].some((p) => p.lines.some((l) => /incorrect hash/.test(l))));
});

test("iteration_initialize reads the group name only for ONE_GROUP (libcpg leaves it uninitialized otherwise)", { timeout: 30_000 }, async () => {
  await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
  const conn = await IpcClientConnection.connect("cpg", { prefix: prefix(1) });
  try {
    const ask = async (type: number): Promise<number> => {
      const req = encodeIterInitRequest(type, undefined);
      new DataView(req.buffer, req.byteOffset).setUint32(16, 0xdeadbeef, true); // garbage name length
      const h = readResponseHeader(await conn.request(req));
      assert.ok(h !== null);
      return h.error;
    };
    assert.equal(await ask(CpgIterationType.NAME_ONLY), CsError.OK);
    assert.equal(await ask(CpgIterationType.ALL), CsError.OK);
    assert.equal(await ask(CpgIterationType.ONE_GROUP), CsError.NAME_TOO_LONG);
  } finally {
    await conn.close();
  }
});
