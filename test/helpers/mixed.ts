/**
 * A mixed cluster for interoperability tests: each node, ours or Debian's corosync 3.1.7, in
 * its own network namespace on a bridge (the namespaces' own addresses only), transport udpu,
 * no crypto, the same nodelist and timers on every node.
 *
 * Real corosync locks /var/run/corosync.pid and keeps state under /var/lib/corosync: it runs
 * with a per-node directory bind-mounted over /run in the node's mount namespace (`ip netns
 * exec` gives each command a private mount namespace) and `system.state_dir` set. Its tools
 * and libcpg clients reach it through abstract sockets, so they run inside the node's
 * namespace (`exec(node, argv)`). Always cleaned up: processes by pid, namespaces, files.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { COROSYNC_BIN, DaemonCluster } from "./daemons.js";
import { Lab } from "./netns.js";

export type Kind = "ours" | "corosync";

/** Debian's executive, if installed. */
export const REAL_COROSYNC = ["/usr/sbin/corosync", "/usr/bin/corosync"].find((p) => existsSync(p));

/** Why mixed tests cannot run here, or false. */
export function mixedSkipReason(): string | false {
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "needs root (network namespaces); CI runs as root";
  if (REAL_COROSYNC === undefined) return "needs Debian's corosync package (installed by .ci/run)";
  return false;
}

export interface MixedCluster {
  lab: Lab;
  cluster: DaemonCluster;
  kinds: Kind[];
  /** Run a command inside node `id`'s namespace (e.g. Debian's tools); stdout, status. */
  exec(id: number, argv: string[]): { status: number | null; stdout: string; stderr: string };
  destroy(): Promise<void>;
}

function configText(lab: Lab, port: number, token: number, stateDir: string): string {
  const nodes = lab.nodes
    .map((n) => `\tnode {\n\t\tring0_addr: ${n.rings[0]!.address}\n\t\tnodeid: ${n.index}\n\t\tname: n${n.index}\n\t}`)
    .join("\n");
  return [
    "totem {",
    "\tversion: 2",
    "\tcluster_name: mixed",
    "\ttransport: udpu",
    "\tcrypto_cipher: none",
    "\tcrypto_hash: none",
    `\ttoken: ${token}`,
    `\tinterface {\n\t\tlinknumber: 0\n\t\tmcastport: ${port}\n\t}`,
    "}",
    `nodelist {\n${nodes}\n}`,
    "quorum {\n\tprovider: corosync_votequorum\n}",
    `system {\n\tstate_dir: ${stateDir}\n}`,
    "logging {\n\tto_stderr: yes\n\tto_syslog: no\n\ttimestamp: hires\n}",
    "",
  ].join("\n");
}

export function startMixed(kinds: Kind[], token = 1000): MixedCluster {
  const lab = Lab.create(kinds.length, 1);
  const cluster = new DaemonCluster({
    nodes: kinds.length,
    netns: (id) => lab.nodes[id - 1]!.ns,
    config: (_id, port, dir) => configText(lab, port, token, join(dir, "state")),
    command: (id, configPath, dir) => {
      if (kinds[id - 1] === "ours") return [process.execPath, COROSYNC_BIN, "-f", "-c", configPath];
      mkdirSync(join(dir, "run", "corosync"), { recursive: true });
      // The bind mount is visible to this command only (ip netns exec: private mount ns).
      return ["sh", "-c", `mount --bind '${join(dir, "run")}' /run && exec ${REAL_COROSYNC} -f -c '${configPath}'`];
    },
  });
  return {
    lab,
    cluster,
    kinds,
    exec(id, argv) {
      const r = spawnSync("ip", ["netns", "exec", lab.nodes[id - 1]!.ns, ...argv], { encoding: "utf8", timeout: 20_000 });
      return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    },
    async destroy() {
      await cluster.destroy();
      await lab.cleanup();
    },
  };
}
