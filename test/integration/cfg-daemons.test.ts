/**
 * The cfg service with real executives:
 * - three nodes on 127.x: `corosync-cfgtool -R` after editing corosync.conf changes the logging
 *   level, the expected votes and the Totem token on all three; `-L` reopens logs; `-k` stops
 *   the named node; a tracking client sees no events it did not ask for.
 * - shutdown coordination, with Debian's `corosync-cfgtool -H` against one executive of ours
 *   and, side by side, one real corosync 3.1.7 (each alone in a network namespace), and
 *   shutdown-tracking clients (our client library, as pacemakerd): a veto keeps the node up
 *   (BUSY), a silent tracker times out (BUSY, trackers told TIMEOUT), `--force` overrides a
 *   veto, all yes stops the node. The tool never hangs; both daemons answer alike.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { DaemonCluster } from "../helpers/daemons.js";
import { Lab } from "../helpers/netns.js";
import { RealCorosync, nsRun, realCorosyncSkipReason } from "../helpers/real-corosync.js";
import { waitViews } from "../helpers/quorum.js";
import { CmapReader } from "../../src/cli/lib/cmap-reader.js";

const OUR_CFGTOOL = fileURLToPath(new URL("../../src/cli/corosync-cfgtool.js", import.meta.url));
const TRACKER = fileURLToPath(new URL("../helpers/cfg-tracker.js", import.meta.url));

function ourCfgtool(prefix: string | undefined, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, ...(prefix !== undefined ? { COROSYNC_IPC_PREFIX: prefix } : {}) };
    const p = spawn(process.execPath, [OUR_CFGTOOL, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    const t = setTimeout(() => p.kill("SIGKILL"), 20_000);
    p.on("exit", (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

test("cfgtool -R: edited logging level, expected votes and token take effect on all three nodes; -L; -k", { timeout: 60_000 }, async () => {
  const c = new DaemonCluster({ nodes: 3, token: 1000, totemExtra: ["token_coefficient: 0"], extraSections: "quorum {\n\tprovider: corosync_votequorum\n}\n" });
  try {
    c.start();
    await c.waitForMembers([1, 2, 3], [1, 2, 3]);
    await waitViews(c, [1, 2, 3], "3/3/2 Q");
    assert.equal(c.nodes.flatMap((n) => n.grep(/ debug +\[/)).length, 0, "no debug output before the reload");
    for (const n of c.nodes) {
      const text = readFileSync(n.configPath, "utf8")
        .replace("timestamp: hires", "timestamp: hires\n\tdebug: on")
        .replace("token: 1000", "token: 1500")
        .replace("provider: corosync_votequorum", "provider: corosync_votequorum\n\texpected_votes: 5");
      writeFileSync(n.configPath, text);
    }
    const r = await ourCfgtool(c.node(1).ipcPrefix, ["-R"]);
    assert.deepEqual(r, { code: 0, stdout: "Reloading corosync.conf...\nDone\n", stderr: "" });
    for (const id of [1, 2, 3]) {
      await c.waitFor(`node ${id} logs at debug level`, () => c.node(id).grep(/Config reload requested by node 1/).length === 1 && c.node(id).grep(/ debug +\[VOTEQ \] got nodeinfo/).length > 0);
    }
    await waitViews(c, [1, 2, 3], "3/5/3 Q");
    for (const n of c.nodes) {
      const cmap = await CmapReader.connect(n.ipcPrefix);
      try {
        assert.equal(await cmap.getUint32("runtime.config.totem.token"), 1500, `node ${n.id} token`);
        assert.equal(await cmap.getUint32("runtime.config.totem.consensus"), 1800, `node ${n.id} consensus`);
      } finally {
        await cmap.close();
      }
    }
    const reopen = await ourCfgtool(c.node(2).ipcPrefix, ["-L"]);
    assert.equal(reopen.code, 0, reopen.stderr);
    const kill = await ourCfgtool(c.node(1).ipcPrefix, ["-k", "3"]);
    assert.equal(kill.stdout, "Killing node 3\n");
    assert.equal(kill.code, 0, kill.stderr);
    await c.node(3).exited;
    assert.ok(c.node(3).grep(/Killed by node 1 : Killed by corosync-cfgtool/).length === 1);
    await c.waitForMembers([1, 2], [1, 2]);
    const unknown = await ourCfgtool(c.node(1).ipcPrefix, ["-k", "3"]);
    assert.equal(unknown.stderr, "Could not kill node (error = CS_ERR_NOT_EXIST)\n");
    assert.equal(unknown.code, 1);
  } finally {
    await c.destroy();
  }
});

// ---------------------------------------------------------------- shutdown coordination

const skip = realCorosyncSkipReason();
let lab: Lab | undefined;
let dir = "";
const trackers = new Set<ChildProcess>();
after(async () => {
  for (const t of trackers) if (t.exitCode === null) t.kill("SIGKILL");
  await lab?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Tracker {
  proc: ChildProcess;
  events: Array<Record<string, unknown>>;
  wait(pred: (e: Record<string, unknown>) => boolean, what: string): Promise<void>;
}

/** A shutdown-tracking client in namespace `ns` answering `mode`. */
async function tracker(ns: string, mode: "yes" | "no" | "ignore"): Promise<Tracker> {
  const proc = spawn("ip", ["netns", "exec", ns, process.execPath, TRACKER, mode], { stdio: ["pipe", "pipe", "pipe"] });
  trackers.add(proc);
  const events: Array<Record<string, unknown>> = [];
  let stderr = "";
  proc.stderr!.on("data", (d) => (stderr += d));
  createInterface({ input: proc.stdout! }).on("line", (l) => events.push(JSON.parse(l) as Record<string, unknown>));
  const wait = async (pred: (e: Record<string, unknown>) => boolean, what: string): Promise<void> => {
    const end = Date.now() + 20_000;
    while (!events.some(pred)) {
      if (Date.now() > end || proc.exitCode !== null) throw new Error(`tracker (${mode}) in ${ns}: no ${what}; events ${JSON.stringify(events)} ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await wait((e) => e.ev === "ready", "ready");
  return { proc, events, wait };
}

function endTracker(t: Tracker): void {
  t.proc.stdin?.end();
}

const SINGLE = (stateDir: string) => `totem {
  version: 2
  cluster_name: shut
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
}
system {
  state_dir: ${stateDir}
}
`;

test("shutdown coordination: Debian cfgtool -H against ours and corosync 3.1.7 — veto, timeout, --force, all yes", { skip, timeout: 90_000 }, async () => {
  dir = mkdtempSync(join(tmpdir(), "cfg-shutdown-"));
  lab = Lab.create(2, 1);
  const [nsOurs, nsReal] = [lab.nodes[0]!.ns, lab.nodes[1]!.ns];
  for (const d of ["ours", "real"]) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, "real", "corosync.conf"), SINGLE(join(dir, "real")));
  const ours = new DaemonCluster({ nodes: 1, config: () => SINGLE(join(dir, "ours")), netns: () => nsOurs });
  const real = new RealCorosync(nsReal, join(dir, "real", "corosync.conf"));
  const ready = async (ns: string) => {
    const end = Date.now() + 20_000;
    while ((await nsRun(ns, "corosync-quorumtool", ["-s"])).code !== 0) {
      if (Date.now() > end) throw new Error(`no quorate daemon in ${ns}\n${real.log}\n${ours.describe()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    ours.start();
    await Promise.all([ready(nsOurs), ready(nsReal)]);
    const H = (ns: string, force = false) => nsRun(ns, "corosync-cfgtool", force ? ["-H", "--force"] : ["-H"], {}, 30_000);

    // 1. One tracker vetoes, one accepts: BUSY (10), the tool exits 0, nobody stops.
    const round1 = [];
    for (const ns of [nsOurs, nsReal]) {
      const no = await tracker(ns, "no");
      const yes = await tracker(ns, "yes");
      const r = await H(ns);
      await no.wait((e) => e.ev === "replied", "veto sent");
      await yes.wait((e) => e.ev === "replied", "yes sent");
      round1.push(r);
      assert.deepEqual(no.events.find((e) => e.ev === "shutdown"), { ev: "shutdown", flags: 0, status: 1 });
      endTracker(no);
      endTracker(yes);
    }
    assert.deepEqual(round1[0], round1[1], "same answer from ours and corosync");
    assert.deepEqual(round1[0], { code: 0, stdout: "Shutting down corosync\n", stderr: "Could not shutdown (error = 10)\n" });
    assert.ok(ours.node(1).running && real.running);

    // 2. A tracker that never answers: after cfg.shutdown_timeout (5 s) BUSY. (corosync sends
    // the TIMEOUT notice only to trackers that once asked for a shutdown themselves.)
    const round2 = [];
    for (const ns of [nsOurs, nsReal]) {
      const silent = await tracker(ns, "ignore");
      const started = Date.now();
      const r = await H(ns);
      round2.push(r);
      assert.ok(Date.now() - started >= 4500, `answered after ${Date.now() - started} ms`);
      await new Promise((res) => setTimeout(res, 200));
      assert.deepEqual(silent.events.filter((e) => e.ev === "shutdown"), [{ ev: "shutdown", flags: 0, status: 1 }]);
      endTracker(silent);
    }
    assert.deepEqual(round2[0], round2[1]);
    assert.equal(round2[0]!.stderr, "Could not shutdown (error = 10)\n");

    // 3. --force with a veto: the node stops anyway.
    const vetoOurs = await tracker(nsOurs, "no");
    const forced = await H(nsOurs, true);
    assert.deepEqual(forced, { code: 0, stdout: "Shutting down corosync\n", stderr: "" });
    await ours.node(1).exited;
    assert.equal(ours.node(1).exitCode, 0);
    await vetoOurs.wait((e) => e.ev === "shutdown" && e.flags === 1, "REGARDLESS asked");
    assert.ok(ours.node(1).grep(/Node 1 was shut down by sysadmin/).length === 1);

    // 4. Everybody agrees: the node stops (ours restarted for it; corosync likewise).
    ours.node(1).start();
    await ready(nsOurs);
    const finals = [];
    for (const ns of [nsOurs, nsReal]) {
      const a = await tracker(ns, "yes");
      const b = await tracker(ns, "yes");
      finals.push(await H(ns));
      await a.wait((e) => e.ev === "closed", "daemon gone");
      endTracker(b);
    }
    assert.deepEqual(finals[0], finals[1]);
    assert.deepEqual(finals[0], { code: 0, stdout: "Shutting down corosync\n", stderr: "" });
    await ours.node(1).exited;
    await real.exited;
    assert.equal(real.exitCode, 0);
  } finally {
    await real.stop();
    await ours.destroy();
  }
});
