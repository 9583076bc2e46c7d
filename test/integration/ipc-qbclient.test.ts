/**
 * libqb compatibility: a C program linked against Debian's libqb 2.0.6 (test/c/qbclient.c,
 * package libqb-dev) talks to our server — N requests of varying sizes, then M events — and
 * authorisation by uid/gid: an unprivileged client is refused with EACCES unless the
 * authorize hook admits it, in which case the chowned rings let it in.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { existsSync } from "node:fs";
import { IpcServer } from "../../src/runtime/ipc/server.js";
import { buildQbClient, echoService, uniquePrefix } from "../helpers/ipc-echo.js";

const run = promisify(execFile);
const prefix = uniquePrefix("qb");
const logs: string[] = [];
const admitted = new Set<number>();
const server = new IpcServer({
  prefix,
  services: { echo: echoService() },
  authorize: (c) => c.uid === 0 || c.gid === 0 || admitted.has(c.uid),
  log: (level, msg) => logs.push(`${level}: ${msg}`),
});
const built = buildQbClient();
const qbclient = "path" in built ? built.path : "";
const skip = "skip" in built ? built.skip : false;
const here = fileURLToPath(new URL(".", import.meta.url));
const setprivMissing = existsSync("/usr/bin/setpriv") ? false : "setpriv (util-linux) not installed";

before(async () => {
  await server.start();
});
after(async () => {
  await server.stop();
});

/** Runs a command, resolving with stdout and the exit code (no throw on non-zero). */
async function runCode(cmd: string, args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const r = await run(cmd, args, { timeout: 20_000 });
    return { code: 0, stdout: r.stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "" };
  }
}

test("libqb C client: 2000 requests (sizes 0..6000, rings wrap) then 5000 events", { skip }, async () => {
  const t0 = performance.now();
  const r = await runCode(qbclient, [`${prefix}-echo`, "2000", "5000"]);
  assert.equal(r.stdout.trim(), "ok requests=2000 events=5000");
  assert.equal(r.code, 0);
  console.log(`# libqb client: 2000 requests + 5000 events in ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(server.stats().protocolErrors, 0);
});

test("libqb C client as uid 65534: refused with EACCES (and logged)", { skip: skip || setprivMissing }, async () => {
  const r = await runCode("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", qbclient, `${prefix}-echo`, "1", "0"]);
  assert.equal(r.stdout.trim(), "connect failed: errno=13");
  assert.equal(r.code, 3);
  assert.ok(logs.some((l) => /invalid IPC credentials.*uid 65534/.test(l)), logs.join("\n"));
});

test("our client library as uid 65534: EACCES; once admitted, it works through the chowned rings", { skip: setprivMissing }, async () => {
  const probe = join(here, "..", "helpers", "ipc-probe.js");
  const args = ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, probe, prefix];
  const refused = JSON.parse((await runCode("setpriv", args)).stdout);
  assert.equal(refused.code, "EACCES");
  assert.equal(refused.errno, 13);
  admitted.add(65534);
  try {
    const ok = JSON.parse((await runCode("setpriv", args)).stdout);
    assert.deepEqual(ok, { ok: true, uid: 65534 });
    if (!skip) {
      const c = await runCode("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", qbclient, `${prefix}-echo`, "50", "10"]);
      assert.equal(c.stdout.trim(), "ok requests=50 events=10");
    }
  } finally {
    admitted.delete(65534);
  }
});
