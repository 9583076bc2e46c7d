/**
 * The quorum, votequorum and cfg IPC of real executives through our client libraries: track
 * callbacks as async iterators across a membership change (quorum model v0 and v1, votequorum
 * with a context), expected-votes notifications, typed CorosyncError codes; and hostile
 * requests (short, unknown ids, garbage) that must be answered, never crash the daemon.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { DaemonCluster } from "../helpers/daemons.js";
import { QuorumClient, TRACK, type QuorumEvent, type NodelistEvent } from "../../src/client/quorum.js";
import { VotequorumClient, VQ_NODESTATE } from "../../src/client/votequorum.js";
import { CfgClient } from "../../src/client/cfg.js";
import { CorosyncError, isCorosyncError } from "../../src/client/errors.js";
import { IpcClientConnection } from "../../src/client/ipc/connection.js";
import { responseHeader } from "../../src/wire/ipc/common.js";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const OUR_QUORUMTOOL = fileURLToPath(new URL("../../src/cli/corosync-quorumtool.js", import.meta.url));

const c = new DaemonCluster({ nodes: 2, token: 500, totemExtra: ["token_coefficient: 0"], start: [1], extraSections: "quorum {\n\tprovider: corosync_votequorum\n\texpected_votes: 2\n}\n" });
after(() => c.destroy());
const prefix = () => c.node(1).ipcPrefix!;

/** The next event of a kind from an iterator, within a deadline. */
async function next<T extends { type: string }, K extends T["type"]>(it: AsyncIterator<T>, type: K, pred: (e: Extract<T, { type: K }>) => boolean = () => true, ms = 20_000): Promise<Extract<T, { type: K }>> {
  const end = Date.now() + ms;
  for (;;) {
    const left = end - Date.now();
    if (left <= 0) throw new Error(`no ${type} event within ${ms} ms`);
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([it.next(), new Promise<"timeout">((res) => (timer = setTimeout(() => res("timeout"), left)))]);
    clearTimeout(timer);
    if (r === "timeout") throw new Error(`no ${type} event within ${ms} ms`);
    if (r.done === true) throw new Error(`event stream ended waiting for ${type}`);
    if (r.value.type === type && pred(r.value as Extract<T, { type: K }>)) return r.value as Extract<T, { type: K }>;
  }
}

test("track callbacks: quorum v0/v1 and votequorum events follow a node joining", { timeout: 60_000 }, async () => {
  c.start([1]);
  await c.waitForMembers([1], [1]);
  const v1 = await QuorumClient.connect({ prefix: prefix(), model: "v1" });
  const v0 = await QuorumClient.connect({ prefix: prefix() });
  const vq = await VotequorumClient.connect({ prefix: prefix() });
  try {
    assert.equal(v1.quorumType, 1);
    assert.equal(await v1.getQuorate(), false);
    const e1 = v1.events();
    const e0 = v0.events();
    const ev = vq.events();
    await v1.trackStart(TRACK.CHANGES);
    await v0.trackStart(TRACK.CHANGES);
    await vq.trackStart(TRACK.CHANGES, 42n);
    const first = (await next(e1, "quorum")).event as QuorumEvent;
    assert.deepEqual([first.quorate, first.members], [false, [1]]);
    await assert.rejects(v1.trackStart(TRACK.CHANGES), (e) => isCorosyncError(e, "EXIST"));

    c.node(2).start();
    await c.waitForMembers([1, 2], [1, 2]);
    const joined = (await next(e1, "nodelist", (e) => (e.event as NodelistEvent).members.length === 2)).event as NodelistEvent;
    assert.deepEqual([joined.members, joined.joined, joined.left], [[1, 2], [2], []]);
    assert.equal(joined.ringId.nodeId, 1);
    const q1 = (await next(e1, "quorum", (e) => (e.event as QuorumEvent).quorate)).event as QuorumEvent;
    assert.deepEqual(q1.members, [1, 2]);
    assert.equal(q1.ringId.seq, joined.ringId.seq);
    const q0 = (await next(e0, "quorum", (e) => (e.event as QuorumEvent).quorate)).event as QuorumEvent;
    assert.equal(q0.ringId.seq, joined.ringId.seq, "v0 carries the ring seq");
    const vqList = await next(ev, "nodelist", (e) => e.event.members.length === 2);
    assert.equal(vqList.event.context, 42n);
    const vqQuorum = await next(ev, "quorum", (e) => e.event.quorate);
    assert.deepEqual(
      vqQuorum.event.nodes.map((n) => [n.nodeId, n.state]),
      [
        [1, VQ_NODESTATE.MEMBER],
        [2, VQ_NODESTATE.MEMBER],
      ],
    );
    assert.equal(await v1.getQuorate(), true);

    // Expected votes raised from node 1: everyone hears it with its own context.
    await vq.setExpected(3);
    const evn = await next(ev, "expectedVotes", (e) => e.event.expectedVotes === 3);
    assert.equal(evn.event.context, 42n);
    await assert.rejects(vq.setExpected(1), (e) => e instanceof CorosyncError && e.code === "INVALID_PARAM" && e.csError === 7);
    await assert.rejects(vq.getInfo(77), (e) => isCorosyncError(e, "NOT_EXIST"));
    await vq.trackStop();
    await assert.rejects(vq.trackStop(), (e) => isCorosyncError(e, "NOT_EXIST"));
  } finally {
    await Promise.all([v1.close(), v0.close(), vq.close()]);
  }
});

test("cfg client: local node id, addresses, node status, replies without a pending shutdown", { timeout: 30_000 }, async () => {
  const cfg = await CfgClient.connect({ prefix: prefix() });
  try {
    assert.equal(await cfg.localNodeId(), 1);
    assert.deepEqual(await cfg.nodeAddresses(2), [{ family: "IPv4", address: c.node(2).address }]);
    const st = await cfg.nodeStatus(2);
    assert.equal(st.reachable, true);
    assert.deepEqual([st.links[0]!.enabled, st.links[0]!.connected, st.links[0]!.src, st.links[1]!.enabled], [true, true, c.node(2).address, false]);
    const rings = await cfg.ringStatus();
    assert.deepEqual(rings, [{ name: `0 ${c.node(1).address}`, status: "OK" }]);
    await assert.rejects(cfg.replyToShutdown(true), (e) => isCorosyncError(e, "ACCESS"));
    await assert.rejects(cfg.nodeAddresses(99), (e) => isCorosyncError(e, "NOT_EXIST"));
  } finally {
    await cfg.close();
  }
});

/** Requests the hostile test does not send: shutdown, reload, ring re-enable, vote changes. */
const UNSAFE: Record<string, number[]> = { cfg: [1, 3, 7], votequorum: [1, 2] };

test("hostile requests to quorum, votequorum, cfg and cmap are answered and the daemon stays up", { timeout: 30_000 }, async () => {
  const services: Array<[string, number]> = [
    ["quorum", 5],
    ["votequorum", 10],
    ["cfg", 12],
    ["cmap", 10],
  ];
  for (const [service, ids] of services) {
    const conn = await IpcClientConnection.connect(service, { prefix: prefix() });
    try {
      for (let id = 0; id < ids + 3; id++) {
        // Requests that would stop the node, reload it or change its votes are left out.
        if (UNSAFE[service]?.includes(id)) continue;
        // Header only: every request body is missing.
        const req = new Uint8Array(16);
        const dv = new DataView(req.buffer);
        dv.setInt32(0, id, true);
        dv.setInt32(8, 16, true);
        const res = responseHeader(await conn.request(req, { timeoutMs: 5000 }));
        assert.ok(res !== undefined && res.error >= 1, `${service} ${id}`);
        // Garbage of odd sizes behind a valid header.
        const junk = new Uint8Array(17 + id * 37).map((_, i) => (i * 37 + id) & 0xff);
        new DataView(junk.buffer).setInt32(0, id, true);
        new DataView(junk.buffer).setInt32(8, junk.byteLength, true);
        const r2 = responseHeader(await conn.request(junk, { timeoutMs: 5000 }));
        assert.ok(r2 !== undefined && r2.error >= 1, `${service} ${id} junk`);
      }
    } finally {
      await conn.close();
    }
  }
  assert.ok(c.node(1).running && c.node(2).running);
  const vq = await VotequorumClient.connect({ prefix: prefix() });
  try {
    assert.equal((await vq.getInfo()).totalVotes, 2);
  } finally {
    await vq.close();
  }
});

test("corosync-quorumtool -m prints a report per change until interrupted (exit 0)", { timeout: 60_000 }, async () => {
  const tool = spawn(process.execPath, [OUR_QUORUMTOOL, "-m"], { env: { ...process.env, COROSYNC_IPC_PREFIX: prefix() }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  tool.stdout.on("data", (d) => (out += d));
  tool.stderr.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => tool.on("exit", (code) => r(code)));
  const reports = () => out.split("Quorum information\n").length - 1;
  try {
    await c.waitFor("a first report", () => /Nodes:\s+2\n/.test(out));
    const before = reports();
    c.node(2).signal("SIGTERM");
    await c.node(2).exited;
    await c.waitFor("a report after node 2 left", () => reports() > before && /Nodes:\s+1\n(.*\n)*Quorate:\s+No/.test(out.split("Quorum information\n").pop()!));
    assert.match(out, /^Quorum:           2 Activity blocked$/m);
    tool.kill("SIGINT");
    assert.equal(await exited, 0, out);
  } finally {
    if (tool.exitCode === null) tool.kill("SIGKILL");
  }
});
