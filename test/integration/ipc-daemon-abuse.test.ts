/**
 * IPC abuse against a running executive (failure-modes-and-testing.md §4.3 I1–I4), where
 * test/integration/ipc-abuse.test.ts covers the IPC server alone: two daemons on loopback,
 * node 1's `cpg` service abused while the ring is watched (ring id unchanged on both nodes,
 * tokens keep rotating: SIGUSR2 statistics before and after each phase):
 *
 * - 10,000 connect / call / disconnect-mid-call cycles (five patterns): the daemon's fd count
 *   and VmRSS come back to the baseline taken after a warm-up;
 * - services that do not exist here and invalid message ids: refused / INVALID_PARAM, the
 *   connection still serves;
 * - oversized frames: a request larger than the granted size is refused by the client side;
 *   one whose header claims more than the ring holds closes that connection only;
 * - a stuck consumer (never reads events) while another client sends 12,000 messages: the
 *   sender finishes, the stuck client is disconnected (bounded queue), the ring holds;
 * - 1,000 unauthorised connects per second for 5 s as uid 65534 (setpriv): every one EACCES,
 *   the denial logged at a bounded rate (a burst per 10 s, not per attempt), the ring holds.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DaemonCluster, type DaemonNode } from "../helpers/daemons.js";
import { IpcClientConnection } from "../../src/client/ipc/connection.js";
import { Cpg } from "../../src/client/cpg.js";
import { readResponseHeader, writeRequestHeader } from "../../src/runtime/ipc/protocol.js";
import { CpgReq, encodeBareRequest, encodeJoinRequest } from "../../src/wire/ipc/cpg.js";
import { groupNameFromText } from "../../src/core/cpg/messages.js";
import { CsError } from "../../src/core/cs-error.js";
import { rawConnect } from "../helpers/ipc-raw.js";
import { ShmRing } from "../../src/runtime/ipc/ringbuffer.js";
import { vmRssKiB } from "../chaos/harness.js";

const run = promisify(execFile);
const ABUSE = fileURLToPath(new URL("../helpers/ipc-daemon-abuse.js", import.meta.url));
const cluster = new DaemonCluster({ nodes: 2, token: 1000 });
const noSetpriv = existsSync("/usr/bin/setpriv") ? false : "setpriv (util-linux) not installed";
const notRoot = process.getuid?.() === 0 ? false : "needs root (setpriv to uid 65534)";

before(async () => {
  cluster.start();
  await cluster.waitForMembers([1, 2], [1, 2], 60_000);
});
after(async () => {
  await cluster.destroy();
});

const node1 = (): DaemonNode => cluster.node(1);
const prefix = (): string => node1().ipcPrefix!;

interface TokenSample {
  at: number;
  tokens: number;
  lastRotationMs: number;
}

/** SIGUSR2 → the next "Statistics:" line: tokens received and the last rotation time. */
async function tokenSample(n: DaemonNode): Promise<TokenSample> {
  const before = n.grep(/Statistics:/).length;
  n.signal("SIGUSR2");
  await cluster.waitFor(`statistics from node ${n.id}`, () => n.grep(/Statistics:/).length > before, 20_000);
  const line = n.grep(/Statistics:/).at(-1)!;
  const m = /tokens received (\d+), last rotation (\d+) ms/.exec(line);
  assert.ok(m, `statistics line: ${line}`);
  return { at: Date.now(), tokens: Number(m[1]), lastRotationMs: Number(m[2]) };
}

/**
 * Runs `phase` while watching the ring: the ring id of both nodes is unchanged after it, and
 * tokens kept arriving at node 1 (rotations per second reported).
 */
async function watchingTheRing(what: string, phase: () => Promise<void>): Promise<void> {
  const ring = [cluster.node(1).ringId, cluster.node(2).ringId];
  const formedBefore = cluster.nodes.map((n) => n.grep(/A new membership/).length);
  const s0 = await tokenSample(node1());
  await phase();
  const s1 = await tokenSample(node1());
  const perSecond = ((s1.tokens - s0.tokens) * 1000) / (s1.at - s0.at);
  console.log(`# ${what}: ${s1.tokens - s0.tokens} tokens in ${((s1.at - s0.at) / 1000).toFixed(1)} s (${perSecond.toFixed(1)}/s), last rotation ${s1.lastRotationMs} ms`);
  assert.deepEqual([cluster.node(1).ringId, cluster.node(2).ringId], ring, `${what}: the ring changed`);
  assert.deepEqual(cluster.nodes.map((n) => n.grep(/A new membership/).length), formedBefore, `${what}: a membership change`);
  assert.ok(s1.tokens > s0.tokens, `${what}: no token arrived`);
  assert.ok(s1.lastRotationMs < 1000, `${what}: last rotation ${s1.lastRotationMs} ms (token timeout 1000)`);
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Waits until the daemon's fd count is back to `fds` (or returns the last count after `ms`). */
async function fdsSettle(pid: number, fds: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let now = fdCount(pid);
  while (now > fds && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    now = fdCount(pid);
  }
  return now;
}

async function cycles(n: number): Promise<{ cycles: number; ms: number; errors: Record<string, number> }> {
  const { stdout } = await run(process.execPath, [ABUSE, "cycles", prefix(), String(n), "4"], { timeout: 300_000, maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

test("10,000 connect / call / disconnect-mid-call cycles: fds and RSS back to baseline, ring undisturbed", { timeout: 400_000 }, async () => {
  const pid = node1().pid!;
  await cycles(1000); // warm-up: JIT, pools, log buffers
  const fds0 = await fdsSettle(pid, 0, 2000);
  const rss0 = vmRssKiB(pid);
  let r: Awaited<ReturnType<typeof cycles>> | undefined;
  await watchingTheRing("10,000 cycles", async () => {
    r = await cycles(10_000);
  });
  const fds1 = await fdsSettle(pid, fds0, 15_000);
  await new Promise((res) => setTimeout(res, 3000));
  const rss1 = vmRssKiB(pid);
  console.log(`# 10,000 cycles in ${(r!.ms / 1000).toFixed(1)} s; daemon fds ${fds0} -> ${fds1}; VmRSS ${rss0} -> ${rss1} KiB; client-side errors ${JSON.stringify(r!.errors)}`);
  assert.ok(fds1 <= fds0, `fd count ${fds0} -> ${fds1}`);
  assert.ok(rss1 - rss0 < 24 * 1024, `VmRSS grew by ${rss1 - rss0} KiB`);
  assert.equal(node1().running, true);
  // No shm ring left behind by the daemon (qb-<server pid>-*).
  assert.deepEqual(readdirSync("/dev/shm").filter((d) => d.startsWith(`qb-${pid}-`)), []);
});

test("services that do not exist and invalid message ids are refused; the connection still serves", async () => {
  for (const service of ["nonexistent", "evs", "pload", "corosync_junk"]) {
    await assert.rejects(IpcClientConnection.connect(service, { prefix: prefix(), connectTimeoutMs: 5000 }), (e: { code?: string }) => e.code === "ECONNREFUSED", service);
  }
  const c = await IpcClientConnection.connect("cpg", { prefix: prefix() });
  try {
    for (const id of [9999, 13, 0x7fffffff, -5]) {
      const res = readResponseHeader(await c.request(encodeBareRequest(id), { timeoutMs: 10_000 }));
      assert.equal(res?.error, CsError.INVALID_PARAM, `id ${id}`);
    }
    // A join whose header claims fewer bytes than a join has: refused, not read past.
    const join = encodeJoinRequest(groupNameFromText("x"), 1, 0);
    writeRequestHeader(join, CpgReq.JOIN, 16);
    const short = readResponseHeader(await c.request(join.subarray(0, 16), { timeoutMs: 10_000 }));
    assert.notEqual(short?.error, CsError.OK);
    const local = readResponseHeader(await c.request(encodeBareRequest(CpgReq.LOCAL_GET), { timeoutMs: 10_000 }));
    assert.equal(local?.error, CsError.OK, "LOCAL_GET still answered");
  } finally {
    await c.close();
  }
});

test("oversized frames: over the granted size is refused at the client; a header claiming more than the ring closes that connection only", async () => {
  const c = await IpcClientConnection.connect("cpg", { prefix: prefix() });
  await assert.rejects(c.request(new Uint8Array(c.maxMsgSize + 1)), (e: { code?: string }) => e.code === "EMSGSIZE");
  await c.close();
  const bystander = await IpcClientConnection.connect("cpg", { prefix: prefix() });
  const raw = await rawConnect(`${prefix()}-cpg`);
  try {
    const ring = new ShmRing({ header: raw.request.header, data: raw.request.data }, raw.reply.maxMsgSize, "raw");
    const frame = encodeBareRequest(CpgReq.LOCAL_GET);
    assert.equal(ring.write(frame), true);
    // The chunk header's size (first u32 of the data ring) now claims 2 GiB.
    new Uint32Array(raw.request.data)[0] = 0x7fffffff;
    raw.socket.write(new Uint8Array([1]));
    const closed = new Promise<void>((resolve) => raw.socket.once("close", () => resolve()));
    await Promise.race([closed, new Promise((_, rej) => setTimeout(() => rej(new Error("the corrupt connection was not closed")), 10_000))]);
    const ok = readResponseHeader(await bystander.request(encodeBareRequest(CpgReq.LOCAL_GET), { timeoutMs: 10_000 }));
    assert.equal(ok?.error, CsError.OK);
  } finally {
    raw.close();
    await bystander.close();
  }
});

test("a stuck consumer while another client sends 12,000 messages: sender finishes, stuck client dropped, ring holds", { timeout: 180_000 }, async () => {
  const stuck = await IpcClientConnection.connect("cpg", { prefix: prefix() });
  stuck.pauseEvents();
  const stuckClosed = new Promise<void>((resolve) => stuck.once("close", () => resolve()));
  const join = readResponseHeader(await stuck.request(encodeJoinRequest(groupNameFromText("stuck"), process.pid + 1, 0), { timeoutMs: 10_000 }));
  assert.equal(join?.error, CsError.OK);
  const sender = await Cpg.connect({ prefix: cluster.node(2).ipcPrefix });
  const pid = node1().pid!;
  let peakRss = 0;
  try {
    await sender.join("stuck");
    await watchingTheRing("stuck consumer", async () => {
      const t0 = Date.now();
      const payload = new Uint8Array(1024);
      for (let i = 0; i < 12_000; i++) {
        await sender.mcast(payload);
        if (i % 500 === 0) peakRss = Math.max(peakRss, vmRssKiB(pid));
      }
      console.log(`# 12,000 x 1 KiB sent in ${((Date.now() - t0) / 1000).toFixed(1)} s while a node-1 client never read; node 1 peak VmRSS ${peakRss} KiB`);
      await Promise.race([stuckClosed, new Promise((_, rej) => setTimeout(() => rej(new Error("the stuck client was never disconnected")), 60_000))]);
    });
    assert.ok(peakRss < 400 * 1024, `peak VmRSS ${peakRss} KiB`);
    assert.ok(node1().grep(/closing connection of pid \d+: event/).length > 0, "the daemon says why it dropped the stuck client");
  } finally {
    await sender.close();
    await stuck.close();
  }
});

test("1,000 unauthorised connects per second for 5 s (uid 65534): all EACCES, denial logged at a limited rate, ring holds", { skip: noSetpriv || notRoot, timeout: 120_000 }, async () => {
  const deniedBefore = node1().grep(/invalid IPC credentials|Denied connection/).length;
  let r: { attempts: number; refused: number; other: Record<string, number>; ms: number } | undefined;
  await watchingTheRing("unauthorised storm", async () => {
    const { stdout } = await run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, ABUSE, "denied", prefix(), "1000", "5"], { timeout: 90_000 });
    r = JSON.parse(stdout.trim().split("\n").pop()!);
  });
  const lines = node1().grep(/invalid IPC credentials|Denied connection/).length - deniedBefore;
  console.log(`# ${r!.attempts} unauthorised connects in ${(r!.ms / 1000).toFixed(1)} s (${((r!.attempts * 1000) / r!.ms).toFixed(0)}/s): ${r!.refused} EACCES, other ${JSON.stringify(r!.other)}; ${lines} denial log lines`);
  assert.equal(r!.attempts, 5000);
  assert.equal(r!.refused, 5000, JSON.stringify(r!.other));
  assert.ok(r!.ms < 20_000, `the storm took ${r!.ms} ms`);
  // The IPC server logs a burst of 10 per 10 s, the executive one per uid/gid per 10 s: the
  // count is bounded by time, not by the number of attempts.
  assert.ok(lines >= 1 && lines <= 12 * Math.ceil((r!.ms + 1) / 10_000), `${lines} denial lines for 5,000 attempts in ${r!.ms.toFixed(0)} ms`);
});
