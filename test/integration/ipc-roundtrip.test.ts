/**
 * Our IPC server and client library together: in one process and across processes.
 * Requests of every size up to the maximum (so the rings wrap), events in order, async
 * handlers kept in order, unknown ids, no-response sends, flow control, not-ready, stale
 * directory cleanup, and the server vanishing under a waiting client.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { IpcServer } from "../../src/runtime/ipc/server.js";
import { IpcClientConnection } from "../../src/client/ipc/connection.js";
import { isIpcError } from "../../src/client/ipc/errors.js";
import { readResponseHeader } from "../../src/runtime/ipc/protocol.js";
import { echoRequest, echoService, uniquePrefix } from "../helpers/ipc-echo.js";
import { waitFor } from "../helpers/ipc-raw.js";

const prefix = uniquePrefix("rt");
const echo = echoService();
let notReady = false;
const server = new IpcServer({ prefix, services: { echo }, ready: () => !notReady });
const here = fileURLToPath(new URL(".", import.meta.url));

before(async () => {
  await server.start();
});
after(async () => {
  await server.stop();
});

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

test("request/response of many sizes up to 1 MiB round trip, wrapping the rings", async () => {
  const c = await IpcClientConnection.connect("echo", { prefix });
  assert.equal(c.maxMsgSize, 1048576);
  assert.equal(c.serverCred.pid, process.pid);
  const sizes = [0, 1, 3, 4, 5, 100, 4096, 65535, 300_000, 1048576 - 24, 777, 500_000, 500_000, 12];
  for (let round = 0; round < 3; round++) {
    for (const n of sizes) {
      const body = new Uint8Array(n);
      for (let i = 0; i < n; i += 997) body[i] = (i + n + round) & 0xff;
      const res = await c.request(echoRequest(0, body));
      assert.equal(res.byteLength, 24 + n);
      assert.deepEqual(readResponseHeader(res), { id: 0, size: 24 + n, error: 1 });
      assert.ok(Buffer.from(res.subarray(24)).equals(Buffer.from(body)), `echo of ${n} bytes`);
    }
  }
  await assert.rejects(c.request(echoRequest(0, new Uint8Array(1048576))), (e) => isIpcError(e, "EMSGSIZE"));
  await c.close();
});

test("events arrive in order; concurrent requests are serialised in call order", async () => {
  const c = await IpcClientConnection.connect("echo", { prefix });
  const seen: number[] = [];
  const all = new Promise<void>((resolve) =>
    c.onEvent((ev) => {
      seen.push(new DataView(ev.buffer, ev.byteOffset).getUint32(24, true));
      if (seen.length === 3000) resolve();
    }),
  );
  await c.request(echoRequest(1, u32(3000)));
  await all;
  assert.deepEqual(seen, Array.from({ length: 3000 }, (_, i) => i));
  const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => c.request(echoRequest(i % 2 === 0 ? 3 : 0, u32(i)))));
  replies.forEach((r, i) => assert.equal(new DataView(r.buffer, r.byteOffset).getUint32(24, true), i));
  await c.close();
});

test("unknown and negative ids get {id 0, size 24, INVALID_PARAM}; sends without response stay in order", async () => {
  const c = await IpcClientConnection.connect("echo", { prefix });
  assert.deepEqual(readResponseHeader(await c.request(echoRequest(4))), { id: 0, size: 24, error: 7 });
  assert.deepEqual(readResponseHeader(await c.request(echoRequest(-7))), { id: 0, size: 24, error: 7 });
  const before = echo.state.asyncSeen;
  for (let i = 0; i < 100; i++) void c.send(echoRequest(2));
  await c.request(echoRequest(0));
  assert.equal(echo.state.asyncSeen - before, 100);
  const conn = server.connections("echo").find((x) => x.cred.pid === process.pid && !x.isClosed)!;
  assert.ok(conn.stats().invalidRequests >= 2);
  await c.close();
});

test("flow control: requests fail with TRY_AGAIN while on, work again when off", async () => {
  const c = await IpcClientConnection.connect("echo", { prefix });
  server.setFlowControl(true);
  await assert.rejects(c.request(echoRequest(0)), (e) => isIpcError(e, "TRY_AGAIN"));
  server.setFlowControl(false);
  assert.equal((await c.request(echoRequest(0, u32(5)))).byteLength, 28);
  assert.ok(server.connections("echo").some((x) => x.stats().flowControlCount >= 2));
  await c.close();
});

test("not ready: EAGAIN; nobody listening: ECONNREFUSED", async () => {
  notReady = true;
  try {
    await assert.rejects(IpcClientConnection.connect("echo", { prefix }), (e) => isIpcError(e, "EAGAIN") && e.errno === 11);
  } finally {
    notReady = false;
  }
  await assert.rejects(IpcClientConnection.connect("nosuchservice", { prefix }), (e) => isIpcError(e, "ECONNREFUSED"));
});

test("closing removes the shm directory; the service hears of it", async () => {
  const c = await IpcClientConnection.connect("echo", { prefix });
  const conn = server.connections("echo").find((x) => !x.isClosed && existsSync(x.shmDir))!;
  const dir = conn.shmDir;
  assert.ok(existsSync(dir));
  assert.equal(readdirSync(dir).length, 6);
  await c.close();
  await waitFor(() => conn.isClosed, 2000, "server-side close");
  assert.equal(existsSync(dir), false);
  assert.ok(echo.state.disconnects.some((d) => d.conn === conn));
});

test("stale qb-* directories of dead servers are removed at start; live ones are kept", async () => {
  const shmDir = join("/dev/shm", `${prefix}-stale`);
  mkdirSync(shmDir, { recursive: true });
  const dead = join(shmDir, "qb-999999999-1-1-abcdef");
  const live = join(shmDir, "qb-1-1-1-abcdef");
  const other = join(shmDir, "qb-corosync-1-blackbox-data");
  for (const d of [dead, live, other]) mkdirSync(d, { recursive: true });
  const s = new IpcServer({ prefix: `${prefix}s`, services: { echo: echoService() }, shmDir });
  await s.start();
  await s.stop();
  assert.equal(existsSync(dead), false);
  assert.equal(existsSync(live), true);
  assert.equal(existsSync(other), true);
  const { rmSync } = await import("node:fs");
  rmSync(shmDir, { recursive: true, force: true });
});

test("a server stopping under a waiting request: the request rejects ENOTCONN, 'close' fires", async () => {
  const p2 = `${prefix}x`;
  const slow = new IpcServer({
    prefix: p2,
    services: { echo: { onRequest: () => new Promise<undefined>(() => {}) } },
  });
  await slow.start();
  const c = await IpcClientConnection.connect("echo", { prefix: p2 });
  const closed = new Promise((r) => c.once("close", r));
  const pending = c.request(echoRequest(0));
  setTimeout(() => void slow.stop(), 50);
  await assert.rejects(pending, (e) => isIpcError(e, "ENOTCONN"));
  await closed;
  await assert.rejects(c.request(echoRequest(0)), (e) => isIpcError(e, "ENOTCONN"));
});

test("a request that times out rejects TIMEOUT and closes the connection", async () => {
  const p3 = `${prefix}y`;
  const slow = new IpcServer({ prefix: p3, services: { echo: { onRequest: () => new Promise<undefined>(() => {}) } } });
  await slow.start();
  try {
    const c = await IpcClientConnection.connect("echo", { prefix: p3 });
    await assert.rejects(c.request(echoRequest(0), { timeoutMs: 100 }), (e) => isIpcError(e, "TIMEOUT"));
    assert.equal(c.isClosed, true);
  } finally {
    await slow.stop();
  }
});

test("across processes: a child server; SIGKILL under a waiting request rejects promptly and cleans up", async () => {
  const p4 = `${prefix}z`;
  const child = spawn(process.execPath, [join(here, "..", "helpers", "ipc-echo-server.js"), p4], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once("data", () => resolve());
      child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
    });
    const c = await IpcClientConnection.connect("echo", { prefix: p4 });
    assert.equal(c.serverCred.pid, child.pid);
    const N = 2000;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await c.request(echoRequest(0, u32(i)));
    const us = ((performance.now() - t0) * 1000) / N;
    console.log(`# cross-process request/response: ${us.toFixed(1)} µs per round trip`);
    const events: number[] = [];
    const got = new Promise<void>((r) => c.onEvent(() => events.push(1) === 1000 && r()));
    const te = performance.now();
    await c.request(echoRequest(1, u32(1000)));
    await got;
    console.log(`# cross-process events: ${Math.round(1000 / ((performance.now() - te) / 1000))} events/s`);
    const slowReq = c.request(echoRequest(3, u32(1)));
    await slowReq;
    // Kill the server while a request waits on a pool thread.
    const hang = c.request(echoRequest(0));
    child.kill("SIGKILL");
    const t1 = Date.now();
    await assert.rejects(hang, (e) => isIpcError(e));
    assert.ok(Date.now() - t1 < 2000, "rejected promptly");
    await waitFor(() => readdirSync("/dev/shm").every((n) => !n.startsWith(`qb-${child.pid}-`)), 2000, "client-side cleanup of the dead server's files");
  } finally {
    child.kill("SIGKILL");
  }
});
