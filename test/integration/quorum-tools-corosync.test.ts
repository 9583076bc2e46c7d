/**
 * Debian's unmodified corosync-quorumtool and corosync-cfgtool against our executive, compared
 * with the same tools against a real corosync 3.1.7 running the same configuration; and our
 * own tools against both. Two 3-node udpu clusters share one namespace lab (nodes 1–3 ours,
 * 4–6 real corosync, different ports); each daemon runs alone in its node's network
 * namespace, so the plain IPC socket names are its own. Outputs must be identical once the
 * date, the ring id and the lab's addresses are normalised. Then `-R` (reload) and `-H`
 * (shutdown) on both, and a mixed cluster (two real corosync nodes and one of ours) whose
 * real nodes count our node's vote.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Lab } from "../helpers/netns.js";
import { DaemonCluster } from "../helpers/daemons.js";
import { RealCorosync, nsRun, realCorosyncSkipReason, type Run } from "../helpers/real-corosync.js";

const skip = realCorosyncSkipReason();
const OUR_QUORUMTOOL = fileURLToPath(new URL("../../src/cli/corosync-quorumtool.js", import.meta.url));
const OUR_CFGTOOL = fileURLToPath(new URL("../../src/cli/corosync-cfgtool.js", import.meta.url));

let lab: Lab | undefined;
let dir = "";
let ours: DaemonCluster | undefined;
const reals: RealCorosync[] = [];

/** corosync.conf for a 3-node cluster of lab nodes `first..first+2` (node ids 1..3). */
function config(first: number, port: number, stateDir: string, quorumExtra = ""): string {
  const nodes = [0, 1, 2]
    .map((i) => `  node {\n    ring0_addr: ${lab!.nodes[first - 1 + i]!.rings[0]!.address}\n    nodeid: ${i + 1}\n    name: n${i + 1}\n  }`)
    .join("\n");
  return `totem {
  version: 2
  cluster_name: cmp
  transport: udpu
  token: 1000
  crypto_cipher: none
  crypto_hash: none
  interface {
    linknumber: 0
    mcastport: ${port}
  }
}
nodelist {
${nodes}
}
quorum {
  provider: corosync_votequorum
${quorumExtra}}
logging {
  to_stderr: yes
  to_syslog: no
  timestamp: hires
}
system {
  state_dir: ${stateDir}
}
`;
}

function startReal(labNode: number, text: string): RealCorosync {
  const d = join(dir, `real${labNode}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, "corosync.conf"), text);
  const r = new RealCorosync(lab!.nodes[labNode - 1]!.ns, join(d, "corosync.conf"));
  reals.push(r);
  return r;
}

const ns = (labNode: number): string => lab!.nodes[labNode - 1]!.ns;

/** Poll `corosync-quorumtool -s` in `labNode` until it reports `nodes` members. */
async function waitNodes(labNode: number, nodes: number, tool = "corosync-quorumtool", timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: Run | undefined;
  while (Date.now() < end) {
    last = tool === "corosync-quorumtool" ? await nsRun(ns(labNode), tool, ["-s"]) : await nsRun(ns(labNode), process.execPath, [OUR_QUORUMTOOL, "-s"]);
    if (new RegExp(`^Nodes:\\s+${nodes}$`, "m").test(last.stdout)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`lab node ${labNode}: no ${nodes}-node membership; last: ${JSON.stringify(last)}\n${reals.map((r) => r.log.slice(-2000)).join("\n")}\n${ours?.describe() ?? ""}`);
}

/** Date, ring id and this lab's addresses out of a tool's output. */
function normalise(text: string): string {
  const addr = new RegExp(`10\\.${lab!.subnet}\\.0\\.(\\d+)`, "g");
  return text
    .replace(/^Date:\s+.*$/m, "Date: <date>")
    .replace(/^(Ring ID:\s+)[0-9a-f]+(\.[0-9a-f]+)?$/m, "$1<ring>")
    .replace(addr, (_m, i: string) => `ADDR${((Number(i) - 1) % 3) + 1}`);
}

function show(r: Run): string {
  return normalise(`${r.stdout}${r.stderr}exit ${r.code}\n`);
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), "quorum-tools-"));
  lab = Lab.create(11, 1);
  ours = new DaemonCluster({ nodes: 3, config: (id, port) => config(1, port, join(dir, `ours${id}`)), netns: (id) => ns(id) });
  for (const id of [1, 2, 3]) mkdirSync(join(dir, `ours${id}`), { recursive: true });
  ours.start();
  for (const n of [4, 5, 6]) startReal(n, config(4, 5407, join(dir, `real${n}`)));
  await ours.waitForMembers([1, 2, 3], [1, 2, 3]);
  for (const n of [4, 5, 6]) await waitNodes(n, 3);
});

after(async () => {
  await Promise.all(reals.map((r) => r.stop()));
  await ours?.destroy();
  await lab?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const QUORUMTOOL_RUNS = [["-s"], ["-l"], ["-s", "-i"], ["-l", "-o", "i"], ["-s", "-H"], ["-l", "-a"], ["-l", "-p"], ["-e", "1"], ["-v", "1", "-n", "9"]];
const CFGTOOL_RUNS = [["-s"], ["-n"], ["-b", "-s"], ["-a", "2"], ["-a", "9"], ["-k", "9"]];

test("Debian corosync-quorumtool prints the same against our executive as against corosync 3.1.7", { skip, timeout: 60_000 }, async () => {
  for (const args of QUORUMTOOL_RUNS) {
    const real = await nsRun(ns(4), "corosync-quorumtool", args);
    const ourDaemon = await nsRun(ns(1), "corosync-quorumtool", args);
    assert.equal(show(ourDaemon), show(real), `corosync-quorumtool ${args.join(" ")}`);
  }
  const status = await nsRun(ns(1), "corosync-quorumtool", ["-s"]);
  assert.match(status.stdout, /^Quorum:           2  $/m, "trailing spaces after the quorum");
  assert.match(status.stdout, /^Flags:            Quorate $/m);
  assert.match(status.stdout, /^         1          1 n1 \(local\)$/m);
});

test("Debian corosync-cfgtool prints the same against our executive as against corosync 3.1.7", { skip, timeout: 60_000 }, async () => {
  for (const args of CFGTOOL_RUNS) {
    const real = await nsRun(ns(4), "corosync-cfgtool", args);
    const ourDaemon = await nsRun(ns(1), "corosync-cfgtool", args);
    // C's stdout is block-buffered into a pipe: compare the streams separately.
    assert.equal(normalise(ourDaemon.stdout), normalise(real.stdout), `corosync-cfgtool ${args.join(" ")} (stdout)`);
    assert.equal(normalise(ourDaemon.stderr), normalise(real.stderr), `corosync-cfgtool ${args.join(" ")} (stderr)`);
    assert.equal(ourDaemon.code, real.code, `corosync-cfgtool ${args.join(" ")} (exit)`);
  }
  const s = await nsRun(ns(1), "corosync-cfgtool", ["-s"]);
  assert.match(s.stdout, /^LINK ID 0 $/m);
  assert.match(s.stdout, /^\t\tnodeid:          2:\tconnected$/m);
});

test("our tools print what Debian's print, against our executive and against corosync 3.1.7", { skip, timeout: 60_000 }, async () => {
  for (const [tool, ours_, runs] of [
    ["corosync-quorumtool", OUR_QUORUMTOOL, QUORUMTOOL_RUNS],
    ["corosync-cfgtool", OUR_CFGTOOL, CFGTOOL_RUNS],
  ] as const) {
    for (const args of runs) {
      const reference = await nsRun(ns(4), tool, args);
      for (const labNode of [1, 4]) {
        const mine = await nsRun(ns(labNode), process.execPath, [ours_, ...args]);
        assert.equal(normalise(mine.stdout), normalise(reference.stdout), `our ${tool} ${args.join(" ")} on lab node ${labNode} (stdout)`);
        assert.equal(normalise(mine.stderr), normalise(reference.stderr), `our ${tool} ${args.join(" ")} on lab node ${labNode} (stderr)`);
        assert.equal(mine.code, reference.code, `our ${tool} ${args.join(" ")} on lab node ${labNode} (exit)`);
      }
    }
  }
});

test("corosync-cfgtool -R reloads on every node, -H stops the node: same as corosync 3.1.7", { skip, timeout: 60_000 }, async () => {
  const realReload = await nsRun(ns(4), "corosync-cfgtool", ["-R"]);
  const ourReload = await nsRun(ns(1), "corosync-cfgtool", ["-R"]);
  assert.equal(show(ourReload), show(realReload));
  assert.equal(ourReload.stdout, "Reloading corosync.conf...\nDone\n");
  for (const id of [1, 2, 3]) await ours!.waitFor(`reload logged on node ${id}`, () => ours!.node(id).grep(/Config reload requested by node 1/).length > 0);

  const realStop = await nsRun(ns(6), "corosync-cfgtool", ["-H"]);
  const ourStop = await nsRun(ns(3), "corosync-cfgtool", ["-H"]);
  assert.equal(show(ourStop), show(realStop));
  await ours!.node(3).exited;
  assert.equal(ours!.node(3).exitCode, 0);
  await reals[2]!.exited;
  await ours!.waitForMembers([1, 2], [1, 2]);
  await waitNodes(4, 2);
  const real = await nsRun(ns(4), "corosync-quorumtool", ["-s"]);
  const mine = await nsRun(ns(1), "corosync-quorumtool", ["-s"]);
  assert.equal(show(mine), show(real));
  assert.match(mine.stdout, /^Total votes:      2$/m);
});

test("mixed cluster: two corosync 3.1.7 nodes and one of ours count each other's votes", { skip, timeout: 60_000 }, async () => {
  const text = (labNode: number) => config(7, 5409, join(dir, `mixed${labNode}`));
  for (const n of [7, 8]) {
    mkdirSync(join(dir, `mixed${n}`), { recursive: true });
    startReal(n, text(n));
  }
  mkdirSync(join(dir, "mixed9"), { recursive: true });
  const mixed = new DaemonCluster({ nodes: 3, start: [3], config: () => text(9), netns: () => ns(9) });
  try {
    mixed.start([3]);
    await waitNodes(7, 3);
    await waitNodes(9, 3, "ours");
    const real = await nsRun(ns(7), "corosync-quorumtool", ["-s"]);
    assert.match(real.stdout, /^Total votes:      3$/m, real.stdout);
    assert.match(real.stdout, /^         3          1 n3$/m, real.stdout);
    const mine = await nsRun(ns(9), "corosync-quorumtool", ["-s"]);
    assert.equal(mine.code, 0, mine.stdout + mine.stderr);
    assert.match(mine.stdout, /^Expected votes:   3\nHighest expected: 3\nTotal votes:      3\nQuorum:           2  $/m);
    // Our node stops cleanly: the real ones see 2 of 3 votes and stay quorate.
    mixed.node(3).signal("SIGTERM");
    await mixed.node(3).exited;
    await waitNodes(7, 2);
    const after2 = await nsRun(ns(7), "corosync-quorumtool", ["-s"]);
    assert.match(after2.stdout, /^Total votes:      2\nQuorum:           2  $/m);
  } finally {
    await mixed.destroy();
  }
});

test("without a quorum provider: the tools answer as corosync 3.1.7 does (always quorate, no votequorum)", { skip, timeout: 60_000 }, async () => {
  const text = (labNode: number) => `totem {
  version: 2
  cluster_name: free
  transport: udpu
  crypto_cipher: none
  crypto_hash: none
}
nodelist {
  node {
    ring0_addr: ${lab!.nodes[labNode - 1]!.rings[0]!.address}
    nodeid: 1
    name: n1
  }
}
logging {
  to_stderr: yes
  to_syslog: no
}
system {
  state_dir: ${join(dir, `free${labNode}`)}
}
`;
  mkdirSync(join(dir, "free10"), { recursive: true });
  mkdirSync(join(dir, "free11"), { recursive: true });
  const real = startReal(10, text(10));
  const mine = new DaemonCluster({ nodes: 1, config: () => text(11), netns: () => ns(11) });
  try {
    mine.start();
    await mine.waitForMembers([1], [1]);
    const end = Date.now() + 20_000;
    while ((await nsRun(ns(10), "corosync-quorumtool", ["-l"])).code !== 0) {
      if (Date.now() > end) throw new Error(`real corosync without provider did not come up\n${real.log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const args of [["-s"], ["-l"], ["-e", "2"]]) {
      const reference = await nsRun(ns(10), "corosync-quorumtool", args);
      for (const [what, run] of [
        ["Debian tool, our executive", nsRun(ns(11), "corosync-quorumtool", args)],
        ["our tool, our executive", nsRun(ns(11), process.execPath, [OUR_QUORUMTOOL, ...args])],
        ["our tool, corosync", nsRun(ns(10), process.execPath, [OUR_QUORUMTOOL, ...args])],
      ] as const) {
        const got = await run;
        assert.deepEqual([normalise(got.stdout), got.stderr, got.code], [normalise(reference.stdout), reference.stderr, reference.code], `${what}: corosync-quorumtool ${args.join(" ")}`);
      }
    }
    const cfgReal = await nsRun(ns(10), "corosync-cfgtool", ["-s"]);
    const cfgMine = await nsRun(ns(11), "corosync-cfgtool", ["-s"]);
    const anyAddr = (t: string) => normalise(t).replace(/ADDR\d/g, "ADDR");
    assert.equal(anyAddr(cfgMine.stdout), anyAddr(cfgReal.stdout));
  } finally {
    await mine.destroy();
  }
});
