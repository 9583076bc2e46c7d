/**
 * Hostile and careless clients against the IPC server: connect/close mid-call 1000 times
 * (no growth in fds, shm directories or heap), garbage setup requests, a client scribbling on
 * its shared memory (that connection is closed, another is unaffected), and clients that stop
 * reading events (bounded queue, then disconnect).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import { truncateSync } from "node:fs";
import { IpcServer, type IpcConnection } from "../../src/runtime/ipc/server.js";
import { IpcClientConnection } from "../../src/client/ipc/connection.js";
import { decodeConnectionResponse, encodeConnectionRequest, readResponseHeader, headerOnlyResponse } from "../../src/runtime/ipc/protocol.js";
import { HDR } from "../../src/runtime/ipc/ring-index.js";
import { ShmRing } from "../../src/runtime/ipc/ringbuffer.js";
import { echoEvent, echoRequest, echoService, uniquePrefix } from "../helpers/ipc-echo.js";
import { rawConnect, rawHandshake, waitFor, type RawClient } from "../helpers/ipc-raw.js";

const run = promisify(execFile);
const here = fileURLToPath(new URL(".", import.meta.url));
const prefix = uniquePrefix("ab");
const logs: string[] = [];
const echo = echoService();
const server = new IpcServer({ prefix, services: { echo }, handshakeTimeoutMs: 200, log: (l, m) => logs.push(`${l}: ${m}`) });

before(async () => {
  await server.start();
});
after(async () => {
  await server.stop();
});

/** The server-side connection of the most recent raw client. */
function newestConnection(s: IpcServer = server): IpcConnection {
  const all = s.connections("echo");
  return all.reduce((a, b) => (b.id > a.id ? b : a));
}

async function assertStillServes(): Promise<void> {
  const c = await IpcClientConnection.connect("echo", { prefix });
  const res = await c.request(echoRequest(0, new Uint8Array([9])));
  assert.equal(res.byteLength, 25);
  await c.close();
}

test("1000 connect / request / close-mid-call cycles leak no fds, shm dirs or heap", async () => {
  const script = join(here, "..", "helpers", "ipc-abuse-cycles.js");
  const { stdout } = await run(process.execPath, ["--expose-gc", script, `${prefix}c`, "1000"], { timeout: 60_000 });
  const r = JSON.parse(stdout.trim().split("\n").pop()!);
  console.log(`# 1000 cycles in ${r.ms.toFixed(0)} ms; fds ${r.before.fds}->${r.after.fds}; heap ${(r.before.heap / 1024).toFixed(0)}->${(r.after.heap / 1024).toFixed(0)} KiB`);
  assert.ok(r.after.fds <= r.before.fds, `fd count ${r.before.fds} -> ${r.after.fds}`);
  assert.equal(r.after.dirs, 0, "shm dirs left");
  assert.equal(r.before.dirs, 0);
  assert.ok(r.after.heap - r.before.heap < 1024 * 1024, `heap grew by ${r.after.heap - r.before.heap} bytes`);
  assert.equal(r.active, 0);
  assert.equal(r.protocolErrors, 0);
});

test("garbage setup requests: -EINVAL reply then close; short ones time out; server unharmed", async () => {
  for (let i = 0; i < 20; i++) {
    const junk = randomBytes(24);
    junk[0] = i; // never a valid id (-1)
    const { socket, reply } = await rawHandshake(`${prefix}-echo`, junk);
    assert.equal(decodeConnectionResponse(reply).error, -22);
    socket.destroy();
  }
  const badSize = encodeConnectionRequest(1048576);
  badSize[8] = 16;
  assert.equal(decodeConnectionResponse((await rawHandshake(`${prefix}-echo`, badSize)).reply).error, -22);
  const zeroMax = encodeConnectionRequest(0);
  assert.equal(decodeConnectionResponse((await rawHandshake(`${prefix}-echo`, zeroMax)).reply).error, -22);
  // A few bytes and silence: closed after handshakeTimeoutMs, with no reply.
  await assert.rejects(rawHandshake(`${prefix}-echo`, new Uint8Array([1, 2, 3])), /closed after 0 bytes/);
  // A flood of junk: the first 24 bytes are judged, the connection refused.
  const flood = await rawHandshake(`${prefix}-echo`, randomBytes(200_000));
  assert.equal(decodeConnectionResponse(flood.reply).error, -22);
  flood.socket.destroy();
  await assertStillServes();
});

type Scribble = (raw: RawClient) => void;

const scribbles: Array<[string, Scribble]> = [
  ["bad magic", (raw) => (new Uint32Array(raw.request.data)[1] = 0xdeadbeef)],
  ["absurd size", (raw) => (new Uint32Array(raw.request.data)[0] = 0x7fffffff)],
  ["size beyond the write pointer", (raw) => (new Uint32Array(raw.request.data)[0] = 4000)],
  ["read pointer out of range", (raw) => new DataView(raw.request.header).setUint32(HDR.readPt, 0xfffffff0, true)],
  ["write pointer out of range", (raw) => new DataView(raw.request.header).setUint32(HDR.writePt, 1 << 30, true)],
  ["header size smaller than a request header", (raw) => new DataView(raw.request.data).setInt32(16, 4, true)],
  [
    "random bytes over header and data (semaphore value kept at 1)",
    (raw) => {
      for (const b of [raw.request.header, raw.request.data]) new Uint8Array(b).set(randomBytes(b.byteLength));
      new DataView(raw.request.header).setBigUint64(HDR.sem, 1n, true);
    },
  ],
];

for (const [name, scribble] of scribbles) {
  test(`a client scribbling its request ring (${name}) is disconnected; others are unaffected`, async () => {
    const bystander = await IpcClientConnection.connect("echo", { prefix });
    const raw = await rawConnect(`${prefix}-echo`);
    const conn = newestConnection();
    const errorsBefore = server.stats().protocolErrors;
    const ring = new ShmRing({ header: raw.request.header, data: raw.request.data }, raw.reply.maxMsgSize, "raw");
    assert.equal(ring.write(echoRequest(0, new Uint8Array(10))), true);
    scribble(raw);
    raw.socket.write(new Uint8Array([1]));
    await waitFor(() => conn.isClosed, 2000, "the scribbler's disconnect");
    assert.equal(server.stats().protocolErrors, errorsBefore + 1);
    assert.equal((await bystander.request(echoRequest(0, new Uint8Array(5)))).byteLength, 29);
    raw.close();
    await bystander.close();
  });
}

for (const which of ["data", "header"] as const) {
  test(`a client truncating its request ring's ${which} file (SIGBUS for a plain mmap) is disconnected; the server lives`, async () => {
    const bystander = await IpcClientConnection.connect("echo", { prefix });
    const raw = await rawConnect(`${prefix}-echo`);
    const conn = newestConnection();
    const ring = new ShmRing({ header: raw.request.header, data: raw.request.data }, raw.reply.maxMsgSize, "raw");
    assert.equal(ring.write(echoRequest(0, new Uint8Array(10))), true);
    truncateSync(`${raw.reply.request}-${which}`, 0);
    raw.socket.write(new Uint8Array([1]));
    await waitFor(() => conn.isClosed, 2000, "the truncating client's disconnect");
    assert.equal((await bystander.request(echoRequest(0, new Uint8Array(5)))).byteLength, 29);
    raw.close();
    await bystander.close();
  });
}

test("a client corrupting its response ring's read pointer is disconnected at the next response", async () => {
  const raw = await rawConnect(`${prefix}-echo`);
  const conn = newestConnection();
  new DataView(raw.response.header).setUint32(HDR.readPt, 0x80000000, true);
  const ring = new ShmRing({ header: raw.request.header, data: raw.request.data }, raw.reply.maxMsgSize, "raw");
  ring.write(echoRequest(0));
  raw.socket.write(new Uint8Array([1]));
  await waitFor(() => conn.isClosed, 2000, "disconnect");
  raw.close();
  await assertStillServes();
});

test("notification bytes without chunks are counted and ignored", async () => {
  const raw = await rawConnect(`${prefix}-echo`);
  const conn = newestConnection();
  raw.socket.write(new Uint8Array(100));
  await waitFor(() => conn.stats().recvRetries === 100, 2000, "100 spurious notifications");
  assert.equal(conn.isClosed, false);
  raw.close();
});

test("a client that never reads events: ring fills, bounded queue overflows, disconnected", async () => {
  const p = `${prefix}q`;
  const s = new IpcServer({ prefix: p, services: { echo: echoService() }, eventQueueMax: 100 });
  await s.start();
  try {
    const raw = await rawConnect(`${p}-echo`);
    const conn = newestConnection(s);
    let sent = 0;
    while (conn.sendEvent(echoEvent(sent))) sent++;
    assert.ok(sent > 20_000, `ring + queue held ${sent} events`);
    assert.equal(conn.isClosed, true);
    raw.close();
  } finally {
    await s.stop();
  }
});

test("a client that reads, if behind by far more than 4096 events, is kept (corosync's outq has no bound on their number)", async () => {
  const p = `${prefix}b`;
  const s = new IpcServer({ prefix: p, services: { echo: echoService() } });
  await s.start();
  try {
    const reader = await IpcClientConnection.connect("echo", { prefix: p });
    let got = 0;
    reader.onEvent(() => got++);
    const conn = newestConnection(s);
    const total = 80_000;
    let peak = 0;
    for (let i = 0; i < total; i++) {
      assert.equal(conn.sendEvent(echoEvent(i)), true, `event ${i} accepted`);
      peak = Math.max(peak, conn.stats().queued);
    }
    assert.ok(peak > 4096 * 4, `the burst queued ${peak} events beyond the ring`);
    await waitFor(() => got === total, 20_000, "the reader received everything");
    assert.equal(conn.isClosed, false);
    assert.equal(conn.stats().queued, 0);
    await reader.close();
  } finally {
    await s.stop();
  }
});

test("a client whose event ring stops draining is disconnected after eventStallMs; a reader is not", async () => {
  const p = `${prefix}s`;
  const s = new IpcServer({ prefix: p, services: { echo: echoService() }, eventStallMs: 200 });
  await s.start();
  try {
    const raw = await rawConnect(`${p}-echo`);
    const stalled = newestConnection(s);
    const reader = await IpcClientConnection.connect("echo", { prefix: p });
    let got = 0;
    reader.onEvent(() => got++);
    const readerConn = newestConnection(s);
    for (let i = 0; i < 28_000; i++) {
      stalled.sendEvent(echoEvent(i));
      readerConn.sendEvent(echoEvent(i));
    }
    assert.ok(stalled.stats().queued > 0);
    await waitFor(() => stalled.isClosed, 3000, "stall disconnect");
    await waitFor(() => got === 28_000, 5000, "reader received everything");
    assert.equal(readerConn.isClosed, false);
    raw.close();
    await reader.close();
  } finally {
    await s.stop();
  }
});

test("a handler that throws answers CS_ERR_LIBRARY and the connection lives on", async () => {
  const p = `${prefix}h`;
  const s = new IpcServer({
    prefix: p,
    services: { echo: { onRequest: () => { throw new Error("boom"); } } },
  });
  await s.start();
  try {
    const c = await IpcClientConnection.connect("echo", { prefix: p });
    assert.deepEqual(readResponseHeader(await c.request(echoRequest(0))), { id: 0, size: 24, error: 2 });
    assert.deepEqual(readResponseHeader(await c.request(echoRequest(0))), { id: 0, size: 24, error: 2 });
    await c.close();
  } finally {
    await s.stop();
  }
});

test("a server that answers and closes at once (cfg shutdown): the client still gets the response, 200 times", async () => {
  const p = `${prefix}rc`;
  const s = new IpcServer({
    prefix: p,
    services: {
      echo: {
        onRequest: async (conn) => {
          await new Promise((r) => setTimeout(r, 5));
          setImmediate(() => conn.close("shutting down"));
          return headerOnlyResponse(0, 1);
        },
      },
    },
  });
  await s.start();
  try {
    let lost = 0;
    for (let i = 0; i < 200; i++) {
      const c = await IpcClientConnection.connect("echo", { prefix: p });
      try {
        const res = readResponseHeader(await c.request(echoRequest(0)));
        assert.equal(res?.error, 1);
      } catch (e) {
        if ((e as { code?: string }).code !== "ENOTCONN") throw e;
        lost++;
      }
      await c.close();
    }
    assert.equal(lost, 0, `${lost} of 200 responses lost to the close`);
  } finally {
    await s.stop();
  }
});
