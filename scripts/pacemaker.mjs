#!/usr/bin/env node
// `npm run pacemaker -- [--nodes N] [--token MS] [--keep]`: a Pacemaker cluster (Debian's
// pacemaker 2.1.5) on our executives, N nodes (default 3), each in its own network and mount
// namespaces (see test/helpers/pacemaker.ts). Needs root and the packages pacemaker,
// pacemaker-cli-utils, pacemaker-resource-agents. Prints how to enter each node, then waits; Ctrl-C
// (or SIGTERM) stops Pacemaker and the executives on every node and removes everything
// (with --keep the logs and CIBs stay in the printed directory).
import { existsSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const helper = join(root, "dist", "test", "helpers", "pacemaker.js");
if (!existsSync(helper)) {
  const r = spawnSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const { PacemakerCluster, TEST_PROPERTIES, pacemakerSkipReason } = await import(helper);

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const nodes = Number(opt("--nodes", "3"));
const token = Number(opt("--token", "1000"));
const keepDir = argv.includes("--keep");
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16 || !Number.isInteger(token) || token < 200) {
  console.error("usage: npm run pacemaker -- [--nodes 1..16] [--token MS] [--keep]");
  process.exit(2);
}
const why = pacemakerSkipReason();
if (why) {
  console.error(`cannot run: ${why}`);
  process.exit(1);
}

const t0 = Date.now();
const log = (text) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${text}`);
const cluster = await PacemakerCluster.create({ nodes, token, keepDir, properties: TEST_PROPERTIES, trace: log });
let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  log("stopping Pacemaker on every node (SIGTERM to pacemakerd), then the executives (corosync-cfgtool -H)");
  await Promise.all(
    cluster.nodes.map(async (n) => {
      try {
        n.pacemakerd?.signal("SIGTERM");
        if (n.pacemakerd) await n.pacemakerd.waitExit(120_000);
        if (n.corosync?.running) {
          await n.runOurs("corosync-cfgtool", ["-H"]);
          await n.corosync.waitExit(30_000);
        }
      } catch (e) {
        log(`${n.name}: ${e.message}; killing it`);
      }
    }),
  );
  await cluster.destroy();
  log(keepDir ? `removed; logs and CIBs kept in ${cluster.dir}` : "removed");
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

try {
  await cluster.startAll();
  log("executives formed the ring; pacemakerd started on every node");
  await cluster.waitAllOnline();
  log("crm_mon: every node online, partition with quorum");
} catch (e) {
  console.error(e.message);
  await stop(1);
}
for (const n of cluster.nodes) {
  const enter = join(n.dir, "enter");
  writeFileSync(enter, `#!/bin/sh\n# run a command in ${n.name}'s network and mount namespaces\nexec nsenter -t ${n.anchor.pid} -m -n "$@"\n`);
  chmodSync(enter, 0o755);
}
console.log(`
Cluster of ${nodes} in ${cluster.dir}. Per node:`);
for (const n of cluster.nodes) {
  console.log(`  ${n.name} (nodeid ${n.nodeId}, ${n.address}): ${join(n.dir, "enter")} crm_mon -1   logs: ${join(n.dir, "log")}`);
}
console.log(`
Try: ${join(cluster.node(1).dir, "enter")} crm_node -l
     ${join(cluster.node(1).dir, "enter")} corosync-quorumtool -s
Ctrl-C stops and removes the cluster.`);
await new Promise(() => {});
