/**
 * The CMAP sync message across nodes (totem-spec §7.4): `totem.config_version` travels in
 * every sync round and on every change, each node keeps the others' as
 * `runtime.members.<id>.config_version`, and a node joining a cluster where another member
 * has a greater version leaves at its first non-trivial sync.
 *
 * 1. Interop: a real corosync 3.1.7 (node 1) and ours (node 2), each in a network namespace
 *    of a lab bridge. Debian's `corosync-cmapctl` on each shows the other's version; a change
 *    made on one node is seen by `corosync-cmapctl -t` (Debian's on real, ours on ours) on
 *    the other; ours with an older version exits on joining real, and real with an older
 *    version exits on joining ours, each with corosync's log line.
 * 2. Ours only, on loopback (no root): the same propagation and exit rule among our daemons,
 *    with our tools through COROSYNC_IPC_PREFIX.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Lab, netnsSkipReason } from "../helpers/netns.js";
import { CMAPCTL_C, NsDaemon, REAL_COROSYNC } from "../helpers/ns-daemon.js";
import { DaemonCluster } from "../helpers/daemons.js";

const skipInterop = netnsSkipReason() || (!REAL_COROSYNC || !CMAPCTL_C ? "install the Debian package corosync" : false);
const OUR_CMAPCTL = fileURLToPath(new URL("../../src/cli/corosync-cmapctl.js", import.meta.url));

function config(lab: Lab, version: number): string {
  const nodes = lab.nodes.map((n) => `  node {\n    ring0_addr: ${n.rings[0]!.address}\n    nodeid: ${n.index}\n    name: n${n.index}\n  }`).join("\n");
  return [
    "totem {",
    "  version: 2",
    "  cluster_name: cvsync",
    "  transport: udpu",
    "  crypto_cipher: none",
    "  crypto_hash: none",
    "  token: 1000",
    `  config_version: ${version}`,
    "}",
    `nodelist {\n${nodes}\n}`,
    "logging {\n  to_stderr: yes\n  to_syslog: no\n  timestamp: hires\n}",
    "",
  ].join("\n");
}

const EXIT_TEXT = (theirs: number, mine: number) => `Received config version (${theirs}) is different than my config version (${mine})! Exiting`;

async function until(what: string, pred: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The log line a daemon writes once a two-node ring of 1 and 2 is synchronised. */
function twoNodes(d: NsDaemon): RegExp {
  return d.kind === "ours" ? /Members\[2\]: 1 2/ : /Sync members\[2\]: 1 2[\s\S]*Completed service synchronization/;
}

/*
 * The exit rule applies at a node's first sync whose transitional membership is not empty:
 * a node that formed its own singleton ring first and then merges. Each scenario therefore
 * starts the node that is to stay, lets it form its ring, then starts the other.
 */
test("config_version between real corosync 3.1.7 and ours: stored both ways, changes tracked, the older node exits", { skip: skipInterop }, async () => {
  const lab = Lab.create(2, 1);
  const daemons: NsDaemon[] = [];
  const start = async (kind: "real" | "ours", ns: number, version: number, waitReady = true) => {
    const d = await NsDaemon.start(kind, lab.nodes[ns - 1]!.ns, config(lab, version), { waitReady });
    daemons.push(d);
    return d;
  };
  try {
    let real = await start("real", 1, 5);
    let ours = await start("ours", 2, 5);
    await real.waitLog(twoNodes(real), 20_000);
    await ours.waitLog(twoNodes(ours), 20_000);
    const get = (d: NsDaemon, key: string) => d.c("corosync-cmapctl", ["-g", key]).stdout;
    await until("both versions everywhere", () =>
      get(real, "runtime.members.2.config_version") === "runtime.members.2.config_version (u64) = 5\n" &&
      get(ours, "runtime.members.1.config_version") === "runtime.members.1.config_version (u64) = 5\n");

    // A change on ours, seen by Debian's tool tracking on real (NEW_CONFIG_VERSION message).
    const onReal = real.spawnTool(["stdbuf", "-oL", CMAPCTL_C!, "-t", "runtime.members.2.config_version"]);
    await until("real tracker ready", () => onReal.output().includes("finish"));
    assert.equal(ours.c("corosync-cmapctl", ["-s", "totem.config_version", "u64", "7"]).status, 0);
    await until("real sees 7", () => onReal.output().includes("modify> runtime.members.2.config_version (u64) = 7"));
    assert.deepEqual((await onReal.finish()).stdout.split("\n"), ['Type "q" to finish', "modify> runtime.members.2.config_version (u64) = 7", ""]);
    // A change on real, seen by our tool tracking on ours.
    const onOurs = ours.spawnTool([process.execPath, OUR_CMAPCTL, "-t", "runtime.members.1.config_version"]);
    await until("our tracker ready", () => onOurs.output().includes("finish"));
    assert.equal(real.c("corosync-cmapctl", ["-s", "totem.config_version", "u64", "8"]).status, 0);
    await until("ours sees 8", () => onOurs.output().includes("modify> runtime.members.1.config_version (u64) = 8"));
    await onOurs.finish();
    assert.equal(get(real, "totem.config_version"), "totem.config_version (u64) = 8\n");

    // Ours (version 3) alone first, then real (version 8) merges: ours leaves, real stays.
    await Promise.all([real.stop(), ours.stop()]);
    ours = await start("ours", 2, 3);
    real = await start("real", 1, 8);
    assert.equal(await ours.waitExit(20_000), 0, ours.log);
    assert.ok(ours.log.includes(EXIT_TEXT(8, 3)), ours.log);
    assert.ok(real.running, "real corosync stays");

    // Ours (version 20) alone first, then real (version 4) merges: real leaves, ours stays.
    await real.stop();
    ours = await start("ours", 2, 20);
    real = await start("real", 1, 4, false);
    assert.equal(await real.waitExit(20_000), 0, real.log);
    assert.ok(real.log.includes(EXIT_TEXT(20, 4)), real.log);
    assert.ok(ours.running, "ours stays");
  } finally {
    await Promise.all(daemons.map((d) => d.stop()));
    await lab.cleanup();
  }
  assert.deepEqual(lab.leftovers(), []);
});

test("ours only: versions stored on every node, a change tracked across nodes, an older node exits on merging", async () => {
  const versions: Record<number, number> = { 1: 2, 2: 2, 3: 1 };
  const cluster = new DaemonCluster({ nodes: 3, totemExtra: (id) => [`config_version: ${versions[id]}`] });
  const tool = (id: number, args: string[]) =>
    spawnSync(process.execPath, [OUR_CMAPCTL, ...args], { encoding: "utf8", timeout: 15_000, env: { ...process.env, COROSYNC_IPC_PREFIX: cluster.node(id).ipcPrefix! } });
  try {
    cluster.start([1, 2]);
    await cluster.waitForMembers([1, 2], [1, 2]);
    await until("versions on both nodes", () =>
      [1, 2].every((n) => tool(n, ["runtime.members."]).stdout.split("\n").filter((l) => /^runtime\.members\.[12]\.config_version \(u64\) = 2$/.test(l)).length === 2));
    const watcher = spawn(process.execPath, [OUR_CMAPCTL, "-T", "runtime.members.2."], { env: { ...process.env, COROSYNC_IPC_PREFIX: cluster.node(1).ipcPrefix! }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    watcher.stdout.on("data", (d) => (out += d));
    try {
      await until("watcher ready", () => out.includes("finish"));
      assert.equal(tool(2, ["-s", "totem.config_version", "u64", "3"]).status, 0);
      await until("node 1 sees node 2's new version", () => out.includes("modify> runtime.members.2.config_version (u64) = 3"));
    } finally {
      watcher.stdin.end("q\n");
      const t = setTimeout(() => watcher.pid && process.kill(watcher.pid, "SIGKILL"), 5000);
      await new Promise((r) => watcher.on("exit", r));
      clearTimeout(t);
    }
    // Node 3 (version 1) alone first, then nodes 1 and 2 (version 2 from their files) merge with it.
    for (const id of [1, 2]) cluster.node(id).signal("SIGTERM");
    await Promise.all([cluster.node(1).exited, cluster.node(2).exited]);
    cluster.start([3]);
    await cluster.waitForMembers([3], [3]);
    cluster.start([1, 2]);
    const n3 = cluster.node(3);
    await until("node 3 exits", () => !n3.running, 30_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${cluster.describe()}`);
    });
    assert.equal(n3.exitCode, 0);
    assert.equal(n3.grep(/error {3}\[CMAP {2}\] Received config version \(2\) is different than my config version \(1\)! Exiting/).length, 1, cluster.describe());
    await cluster.waitForMembers([1, 2], [1, 2]);
  } finally {
    await cluster.destroy();
  }
});
