/**
 * Network namespaces for transport tests: N node namespaces, each with one veth per ring,
 * joined by one bridge per ring in a separate "hub" namespace. Nothing is created in the
 * host's namespace, so the test cannot touch the host's network, and deleting the
 * namespaces removes every interface and bridge with them.
 *
 * Addressing (private, unique per lab): ring r of node i (1-based) is `10.<s>.<r>.<i>/24`
 * and `fd5c:<s>:<r>::<i>/64` (nodad), s random in 16..250.
 * Names: namespaces `cst<pid>x<rand>-n<i>` and `...-hub` (unique per run); inside a node,
 * ring r is interface `r<r>`; in the hub, its bridge port is `n<i>r<r>` on bridge `br<r>`
 * (multicast snooping off, so multicast floods without an MLD/IGMP querier).
 *
 * `cleanup()` kills the children the lab started (by pid) and deletes the namespaces; it
 * also runs from a process `exit` hook, so a crashed test leaves nothing behind.
 * Requires root and iproute2 (`ip`, `tc`).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export interface LabRing {
  ring: number;
  /** Interface name inside the node's namespace. */
  ifname: string;
  address: string;
  address6: string;
  /** The bridge port in the hub namespace. */
  hubPort: string;
  /** `10.<s>.<r>.0` — the ring's network, for bindnetaddr. */
  network: string;
}

export interface LabNode {
  index: number;
  ns: string;
  rings: LabRing[];
}

/** Why namespace tests cannot run here as a skip reason, or false when they can. */
export function netnsSkipReason(): string | false {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return "needs root (network namespaces, veth, bridges, tc); CI runs as root";
  }
  return false;
}

/** Run `ip`/`tc`; throws with the command and its stderr on failure. */
export function sh(cmd: string, args: string[], allowFail = false): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 10_000 });
  if (r.error !== undefined) {
    const hint = (r.error as NodeJS.ErrnoException).code === "ENOENT" ? ` (${cmd} not found: install the Debian package iproute2)` : "";
    if (allowFail) return "";
    throw new Error(`${cmd} ${args.join(" ")}: ${r.error.message}${hint}`);
  }
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

const liveLabs = new Set<Lab>();
process.on("exit", () => {
  for (const lab of liveLabs) lab.cleanupSync();
});

export class Lab {
  readonly hub: string;
  readonly nodes: LabNode[] = [];
  readonly subnet: number;
  private readonly prefix: string;
  private readonly namespaces: string[] = [];
  private readonly children = new Set<NsChild>();

  private constructor(nodeCount: number, ringCount: number) {
    this.prefix = `cst${process.pid}x${Math.floor(Math.random() * 1e6)}`;
    this.hub = `${this.prefix}-hub`;
    this.subnet = 16 + Math.floor(Math.random() * 235);
    for (let i = 1; i <= nodeCount; i++) {
      const ns = `${this.prefix}-n${i}`;
      const rings: LabRing[] = [];
      for (let r = 0; r < ringCount; r++) {
        rings.push({
          ring: r,
          ifname: `r${r}`,
          address: `10.${this.subnet}.${r}.${i}`,
          address6: `fd5c:${this.subnet.toString(16)}:${r}::${i}`,
          hubPort: `n${i}r${r}`,
          network: `10.${this.subnet}.${r}.0`,
        });
      }
      this.nodes.push({ index: i, ns, rings });
    }
  }

  /** Create the namespaces, bridges and veths; on any failure removes what it made and throws. */
  static create(nodeCount: number, ringCount: number): Lab {
    const lab = new Lab(nodeCount, ringCount);
    liveLabs.add(lab);
    try {
      lab.build(ringCount);
    } catch (err) {
      lab.cleanupSync();
      throw err;
    }
    return lab;
  }

  private addNs(name: string): void {
    sh("ip", ["netns", "add", name]);
    this.namespaces.push(name);
    sh("ip", ["-n", name, "link", "set", "lo", "up"]);
  }

  private build(ringCount: number): void {
    this.addNs(this.hub);
    for (let r = 0; r < ringCount; r++) {
      sh("ip", ["-n", this.hub, "link", "add", `br${r}`, "type", "bridge", "mcast_snooping", "0"]);
      sh("ip", ["-n", this.hub, "link", "set", `br${r}`, "up"]);
    }
    for (const node of this.nodes) {
      this.addNs(node.ns);
      for (const ring of node.rings) {
        sh("ip", ["-n", node.ns, "link", "add", ring.ifname, "type", "veth", "peer", "name", ring.hubPort, "netns", this.hub]);
        sh("ip", ["-n", this.hub, "link", "set", ring.hubPort, "master", `br${ring.ring}`]);
        sh("ip", ["-n", this.hub, "link", "set", ring.hubPort, "up"]);
        sh("ip", ["-n", node.ns, "addr", "add", `${ring.address}/24`, "dev", ring.ifname]);
        sh("ip", ["-n", node.ns, "-6", "addr", "add", `${ring.address6}/64`, "dev", ring.ifname, "nodad"]);
        sh("ip", ["-n", node.ns, "link", "set", ring.ifname, "up"]);
      }
    }
  }

  /**
   * Drop every packet on `ring` of node `index`, both directions, silently: the node's port
   * on the ring's bridge is put in the `disabled` state, so the bridge neither forwards
   * what the node sends nor delivers anything to it, and the node's own sends still succeed
   * (a cable cut beyond the switch port). Where `bridge` is missing, a qdisc on both ends of
   * the veth drops instead (`netem loss 100%`, else a `pfifo` of length 0) — but a full
   * local queue makes the sender's `sendto` fail with ENOBUFS, which libknet retries
   * forever, stalling a real corosync. Returns the undo.
   */
  blackhole(index: number, ring: number): () => void {
    const node = this.nodes[index - 1]!;
    const r = node.rings[ring]!;
    const blocked = spawnSync("ip", ["netns", "exec", this.hub, "bridge", "link", "set", "dev", r.hubPort, "state", "0"], { encoding: "utf8" });
    if (blocked.status === 0) {
      return () => void sh("ip", ["netns", "exec", this.hub, "bridge", "link", "set", "dev", r.hubPort, "state", "3"], true);
    }
    const ends: Array<[string, string]> = [
      [node.ns, r.ifname],
      [this.hub, r.hubPort],
    ];
    for (const [ns, dev] of ends) {
      const netem = spawnSync("tc", ["-n", ns, "qdisc", "add", "dev", dev, "root", "netem", "loss", "100%"], { encoding: "utf8" });
      if (netem.status !== 0) sh("tc", ["-n", ns, "qdisc", "add", "dev", dev, "root", "pfifo", "limit", "0"]);
    }
    return () => {
      for (const [ns, dev] of ends) sh("tc", ["-n", ns, "qdisc", "del", "dev", dev, "root"], true);
    };
  }

  /** Start `transport-child.js` in node `index`'s namespace with `spec` (see that file). */
  async startChild(index: number, spec: unknown, readyMs = 5000): Promise<NsChild> {
    const node = this.nodes[index - 1]!;
    const script = fileURLToPath(new URL("./transport-child.js", import.meta.url));
    const child = new NsChild(node.ns, spawn("ip", ["netns", "exec", node.ns, process.execPath, script, JSON.stringify(spec)], { stdio: ["pipe", "pipe", "pipe"] }));
    this.children.add(child);
    await child.waitFor((e) => e.ev === "ready", readyMs, `node ${index} ready`);
    return child;
  }

  /** Stop every child (exit command, then SIGKILL by pid). */
  async stopChildren(): Promise<void> {
    await Promise.all([...this.children].map((c) => c.stop()));
    this.children.clear();
  }

  /** Stop the children and delete the namespaces (and with them every interface). */
  async cleanup(): Promise<void> {
    await this.stopChildren();
    this.cleanupSync();
  }

  /** Synchronous part of `cleanup` (also used from the process exit hook). */
  cleanupSync(): void {
    for (const c of this.children) c.kill();
    for (const ns of this.namespaces.splice(0).reverse()) sh("ip", ["netns", "del", ns], true);
    liveLabs.delete(this);
  }

  /** Namespaces of this lab still present (for the cleanup assertion). */
  leftovers(): string[] {
    const list = sh("ip", ["netns", "list"], true);
    return list
      .split("\n")
      .map((l) => l.split(" ")[0]!)
      .filter((n) => n.startsWith(this.prefix));
  }
}

/** One event line from a child. */
export type ChildEvent = { ev: string } & Record<string, unknown>;

/** A child process in a namespace, speaking JSON lines. */
export class NsChild {
  readonly events: ChildEvent[] = [];
  readonly stderr: string[] = [];
  private exited = false;
  private waiters: Array<() => void> = [];

  constructor(
    readonly ns: string,
    private readonly proc: ChildProcess,
  ) {
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      try {
        this.events.push(JSON.parse(line) as ChildEvent);
      } catch {
        this.stderr.push(`(stdout) ${line}`);
      }
      this.wake();
    });
    createInterface({ input: proc.stderr! }).on("line", (line) => this.stderr.push(line));
    proc.on("exit", () => {
      this.exited = true;
      this.wake();
    });
    proc.stdin!.on("error", () => {});
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  send(cmd: Record<string, unknown>): void {
    if (!this.exited) this.proc.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  /** Resolve with the first event (from the start) matching `pred`; fail after `ms`. */
  async waitFor(pred: (e: ChildEvent) => boolean, ms: number, what: string): Promise<ChildEvent> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit !== undefined) return hit;
      const err = this.events.find((e) => e.ev === "error");
      if (this.exited || err !== undefined) {
        throw new Error(`${this.ns}: child ${this.exited ? "exited" : "reported an error"} while waiting for ${what}: ${JSON.stringify(err ?? {})} ${this.stderr.join("\n")}`);
      }
      const left = end - Date.now();
      if (left <= 0) throw new Error(`${this.ns}: timed out waiting for ${what}; last events: ${JSON.stringify(this.events.slice(-5))} ${this.stderr.join("\n")}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Ask for a status event and return it. */
  async status(): Promise<ChildEvent> {
    const before = this.events.length;
    this.send({ op: "status" });
    const found = await this.waitFor((e) => e.ev === "status" && this.events.indexOf(e) >= before, 2000, "status");
    return found;
  }

  /** Exit command, then SIGKILL by pid after 1 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.send({ op: "exit" });
    const deadline = Date.now() + 1000;
    while (!this.exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.kill();
  }

  kill(): void {
    if (!this.exited && this.proc.pid !== undefined) {
      try {
        process.kill(this.proc.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** A udpu corosync.conf with two rings (passive rrp, token 1000) for every node of a two-ring `lab`. */
export function rrpUdpuConfig(lab: Lab, port: number): string {
  const nodes = lab.nodes
    .map((n) => `\tnode {\n\t\tring0_addr: ${n.rings[0]!.address}\n\t\tring1_addr: ${n.rings[1]!.address}\n\t\tnodeid: ${n.index}\n\t}`)
    .join("\n");
  return [
    "totem {",
    "\tversion: 2",
    "\tcluster_name: rrp",
    "\ttransport: udpu",
    "\trrp_mode: passive",
    "\ttoken: 1000",
    `\tinterface {\n\t\tlinknumber: 0\n\t\tmcastport: ${port}\n\t}`,
    `\tinterface {\n\t\tlinknumber: 1\n\t\tmcastport: ${port + 1}\n\t}`,
    "}",
    `nodelist {\n${nodes}\n}`,
    "logging {\n\tto_stderr: yes\n\tto_syslog: no\n\ttimestamp: hires\n}",
    "",
  ].join("\n");
}
