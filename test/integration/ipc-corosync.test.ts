/**
 * Our client library against a real C corosync 3.1.7 (Debian package `corosync`): a
 * single-node udpu daemon in its own network namespace (abstract sockets are per netns) and
 * mount namespace (private tmpfs on /run and /var/lib/corosync, so it neither sees nor locks
 * the host's). A child process inside the netns does cmap GET of totem.cluster_name the way
 * corosync-cmapctl does, and receives a quorum event. The daemon is killed by pid and the
 * namespace deleted afterwards.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const here = fileURLToPath(new URL(".", import.meta.url));
const ns = `ipccs${process.pid}`;
const corosyncBin = ["/usr/sbin/corosync", "/usr/bin/corosync"].find((p) => existsSync(p));
const skip =
  !corosyncBin
    ? "real corosync not installed: install the Debian package corosync"
    : process.getuid?.() !== 0
      ? "needs root for network namespaces"
      : spawnSync("ip", ["-V"]).error
        ? "ip not installed: install the Debian package iproute2"
        : false;

let dir = "";
let daemon: ChildProcess | undefined;
let nsMade = false;

const CONF = `totem {
  version: 2
  cluster_name: tsipctest
  transport: udpu
  crypto_cipher: none
  crypto_hash: none
}
nodelist {
  node {
    ring0_addr: 127.0.0.1
    nodeid: 1
    name: n1
  }
}
quorum {
  provider: corosync_votequorum
}
logging {
  to_stderr: yes
  to_syslog: no
  to_logfile: no
}
`;

async function probe(...keys: string[]): Promise<{ code: number; out: Record<string, unknown> }> {
  try {
    const r = await run("ip", ["netns", "exec", ns, process.execPath, join(here, "..", "helpers", "ipc-cmap-get.js"), "-", ...keys], { timeout: 15_000 });
    return { code: 0, out: JSON.parse(r.stdout.trim()) };
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    return { code: typeof err.code === "number" ? err.code : -1, out: err.stdout ? JSON.parse(err.stdout.trim() || "{}") : {} };
  }
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), "ipc-corosync-"));
  writeFileSync(join(dir, "corosync.conf"), CONF);
  spawnSync("ip", ["netns", "del", ns]);
  const add = spawnSync("ip", ["netns", "add", ns]);
  assert.equal(add.status, 0, add.stderr?.toString());
  nsMade = true;
  spawnSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
  const script = `mount -t tmpfs tmpfs /run && mkdir -p /run/corosync && mount -t tmpfs tmpfs /var/lib/corosync && exec ${corosyncBin} -f -c ${join(dir, "corosync.conf")}`;
  daemon = spawn("ip", ["netns", "exec", ns, "unshare", "-m", "sh", "-c", script], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  daemon.stdout!.on("data", (d) => (log += d));
  daemon.stderr!.on("data", (d) => (log += d));
  const deadline = Date.now() + 15_000;
  while (!/ready to provide service/.test(log)) {
    if (Date.now() > deadline || daemon.exitCode !== null) throw new Error(`corosync did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

after(() => {
  if (daemon?.pid) {
    try {
      process.kill(daemon.pid, "SIGTERM");
    } catch {
      /* already gone */
    }
    const end = Date.now() + 3000;
    while (Date.now() < end && existsSync(`/proc/${daemon.pid}`) && !/\) Z /.test(safeStat(daemon.pid))) spawnSync("sleep", ["0.05"]);
    try {
      process.kill(daemon.pid, "SIGKILL");
    } catch {
      /* exited */
    }
  }
  if (nsMade) spawnSync("ip", ["netns", "del", ns]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function safeStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return ") Z ";
  }
}

test("our client library: cmap GET totem.cluster_name and a quorum event from real corosync 3.1.7", { skip }, async () => {
  const { code, out } = await probe("totem.cluster_name", "runtime.votequorum.this_node_id", "no.such.key");
  assert.equal(code, 0, JSON.stringify(out));
  const server = out.server as { pid: number; uid: number };
  assert.equal(server.pid, daemon!.pid);
  assert.equal(server.uid, 0);
  assert.deepEqual(out.results, [
    { key: "totem.cluster_name", error: 1, type: 11, value: "tsipctest" },
    { key: "runtime.votequorum.this_node_id", error: 1, type: 6, value: "01000000" },
    { key: "no.such.key", error: 12 },
  ]);
  const quorum = out.quorum as { track: { id: number; size: number; error: number }; event: { id: number; error: number } };
  assert.deepEqual(quorum.track, { id: 1, size: 24, error: 1 });
  assert.equal(quorum.event.id, 3);
  assert.equal(quorum.event.error, 1);
});
