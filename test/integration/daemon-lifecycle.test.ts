/**
 * The executive's process life: without -f it goes to the background and reports success once
 * the child holds the lock; a second executive with the same run directory refuses to start
 * (corosync's exit 18); the ring seq persisted in the state directory grows across restarts;
 * SIGTERM removes the pid file and exits 0.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COROSYNC_BIN } from "../helpers/daemons.js";

const dir = mkdtempSync(join(tmpdir(), "corosync-life-"));
const runDir = join(dir, "run");
const stateDir = join(dir, "state");
mkdirSync(runDir);
const port = 20000 + 2 * Math.floor(Math.random() * 20000);
const conf = join(dir, "corosync.conf");
writeFileSync(
  conf,
  `totem {\n\tversion: 2\n\tcluster_name: life\n\ttransport: udpu\n\ttoken: 1000\n\tinterface {\n\t\tmcastport: ${port}\n\t}\n}\n` +
    `nodelist {\n\tnode {\n\t\tring0_addr: 127.0.0.1\n\t\tnodeid: 1\n\t}\n}\nlogging {\n\tto_stderr: yes\n\tto_syslog: no\n\tto_logfile: yes\n\tlogfile: ${join(dir, "corosync.log")}\n}\n`,
);
const env = { ...process.env, COROSYNC_RUN_DIR: runDir, COROSYNC_STATE_DIR: stateDir, COROSYNC_IPC_PREFIX: `life${process.pid}` };
const pidFile = join(runDir, "corosync.pid");
let daemonPid: number | undefined;

after(() => {
  if (daemonPid !== undefined) {
    try {
      process.kill(daemonPid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor(what: string, pred: () => boolean, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("without -f the executive goes to the background; the parent exits 0 once the child holds the lock", async () => {
  const r = spawnSync(process.execPath, [COROSYNC_BIN, "-c", conf], { env, encoding: "utf8", timeout: 40_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(pidFile), "pid file written");
  daemonPid = Number(readFileSync(pidFile, "utf8").trim());
  assert.ok(alive(daemonPid), "the background executive runs");
  await waitFor("the ring", () => existsSync(join(dir, "corosync.log")) && /ready to provide service/.test(readFileSync(join(dir, "corosync.log"), "utf8")));
});

test("a second executive with the same run directory refuses to start (exit 18)", () => {
  const r = spawnSync(process.execPath, [COROSYNC_BIN, "-f", "-c", conf], { env, encoding: "utf8", timeout: 20_000 });
  assert.equal(r.status, 18, r.stderr + r.stdout);
  assert.match(r.stderr + r.stdout, /already running/);
});

test("SIGTERM: the executive leaves, removes its pid file and exits; the ring seq persisted grows on restart", async () => {
  const seqOf = (): bigint => readFileSync(join(stateDir, "ringid_1")).readBigUInt64LE(0);
  const before = seqOf();
  assert.ok(before > 0n, "a ring seq was persisted");
  process.kill(daemonPid!, "SIGTERM");
  await waitFor("exit", () => !alive(daemonPid!));
  assert.ok(!existsSync(pidFile), "pid file removed");
  daemonPid = undefined;
  const child = spawn(process.execPath, [COROSYNC_BIN, "-f", "-c", conf], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stderr.on("data", (d) => (out += d));
  child.stdout.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  await waitFor("the restarted ring", () => /ready to provide service/.test(out));
  assert.ok(seqOf() > before, `ring seq ${seqOf()} after restart > ${before}`);
  child.kill("SIGTERM");
  assert.equal(await exited, 0, out);
});
