/**
 * A mixed cluster for interoperability tests: each node, ours or Debian's corosync 3.1.7, in
 * its own network namespace on a bridge (the namespaces' own addresses only), the same
 * nodelist and timers on every node. Transport udpu without crypto by default; or knet, with
 * one or more links (one bridge per link) and optionally knet crypto (aes256 + sha256) with
 * an authkey shared by the cluster — any node may be given a key of its own (a wrong key).
 *
 * Real corosync locks /var/run/corosync.pid and keeps state under /var/lib/corosync: it runs
 * with a per-node directory bind-mounted over /run in the node's mount namespace (`ip netns
 * exec` gives each command a private mount namespace) and `system.state_dir` set. Its tools
 * and libcpg clients reach it through abstract sockets, so they run inside the node's
 * namespace (`exec(node, argv)`). Always cleaned up: processes by pid, namespaces, files.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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
  /**
   * What is left in /dev/shm by a daemon this cluster started (libqb IPC directories
   * `qb-<daemon pid>-...`, blackboxes `qb-corosync-<pid>-...`); empty after `destroy`.
   */
  shmLeftovers(): string[];
}

export interface MixedOptions {
  /** `totem.token` before the per-node coefficient (default 1000). */
  token?: number;
  /** Default udpu. */
  transport?: "udpu" | "knet";
  /** knet links (default 1); link N uses port `port + N`. */
  links?: number;
  /** knet crypto aes256 + sha256 with a cluster-wide authkey (default off). */
  crypto?: boolean;
  /** Nodes (ids) that get an authkey of their own instead of the cluster's. */
  wrongKey?: number[];
  /** Extra lines inside `totem { }` on every node. */
  totemExtra?: string[];
  /** Use the nodes' IPv6 addresses (fd5c::/64, no DAD) instead of IPv4. */
  ipv6?: boolean;
}

function configText(lab: Lab, port: number, o: MixedOptions, dir: string): string {
  const links = o.transport === "knet" ? (o.links ?? 1) : 1;
  const nodes = lab.nodes
    .map((n) => {
      const addrs = Array.from({ length: links }, (_, l) => `\t\tring${l}_addr: ${o.ipv6 === true ? n.rings[l]!.address6 : n.rings[l]!.address}\n`).join("");
      return `\tnode {\n${addrs}\t\tnodeid: ${n.index}\n\t\tname: n${n.index}\n\t}`;
    })
    .join("\n");
  const crypto = o.crypto === true ? ["\tcrypto_cipher: aes256", "\tcrypto_hash: sha256", `\tkeyfile: ${join(dir, "authkey")}`] : ["\tcrypto_cipher: none", "\tcrypto_hash: none"];
  const ifaces = Array.from({ length: links }, (_, l) => `\tinterface {\n\t\tlinknumber: ${l}\n\t\tmcastport: ${port + l}\n\t}`);
  const stateDir = join(dir, "state");
  return [
    "totem {",
    "\tversion: 2",
    "\tcluster_name: mixed",
    `\ttransport: ${o.transport ?? "udpu"}`,
    ...crypto,
    `\ttoken: ${o.token ?? 1000}`,
    ...(o.totemExtra ?? []).map((l) => `\t${l}`),
    ...ifaces,
    "}",
    `nodelist {\n${nodes}\n}`,
    "quorum {\n\tprovider: corosync_votequorum\n}",
    `system {\n\tstate_dir: ${stateDir}\n}`,
    "logging {\n\tto_stderr: yes\n\tto_syslog: no\n\ttimestamp: hires\n}",
    "",
  ].join("\n");
}

/** A mixed cluster of `kinds` (node i + 1 runs `kinds[i]`); `options` as above (a number: the token). */
export function startMixed(kinds: Kind[], options: number | MixedOptions = {}): MixedCluster {
  const o: MixedOptions = typeof options === "number" ? { token: options } : options;
  const lab = Lab.create(kinds.length, o.transport === "knet" ? (o.links ?? 1) : 1);
  const clusterKey = randomBytes(256);
  const cluster = new DaemonCluster({
    nodes: kinds.length,
    netns: (id) => lab.nodes[id - 1]!.ns,
    config: (id, port, dir) => {
      if (o.crypto === true) writeFileSync(join(dir, "authkey"), o.wrongKey?.includes(id) === true ? randomBytes(256) : clusterKey, { mode: 0o400 });
      return configText(lab, port, o, dir);
    },
    command: (id, configPath, dir) => {
      if (kinds[id - 1] === "ours") return [process.execPath, COROSYNC_BIN, "-f", "-c", configPath];
      mkdirSync(join(dir, "run", "corosync"), { recursive: true });
      // The bind mount is visible to this command only (ip netns exec: private mount ns).
      return ["sh", "-c", `mount --bind '${join(dir, "run")}' /run && exec ${REAL_COROSYNC} -f -c '${configPath}'`];
    },
  });
  const shmLeftovers = (): string[] => {
    const pids = new Set(cluster.nodes.flatMap((n) => n.pids.map(String)));
    return readdirSync("/dev/shm").filter((f) => {
      const m = /^qb-(?:corosync-)?(\d+)-/.exec(f);
      return m !== null && pids.has(m[1]!);
    });
  };
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
      // A daemon killed (kill -9, or by destroy) leaves in /dev/shm what it would have removed
      // on a clean exit: a real corosync its libqb blackbox, either kind the IPC directories
      // of clients still connected. Remove those named after the daemons this cluster started.
      for (const f of shmLeftovers()) rmSync(`/dev/shm/${f}`, { recursive: true, force: true });
    },
    shmLeftovers,
  };
}
