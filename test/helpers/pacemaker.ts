/**
 * A Pacemaker cluster on our executives: N nodes, each a network namespace (a Lab node on one
 * bridge, address 10.<s>.0.<i>) and a mount namespace of its own, held open by an anchor
 * process (`sleep infinity`), in which:
 *
 * - `/run` and `/dev/shm` are fresh tmpfs (pid files, resource-agent state, libqb's IPC rings
 *   and blackboxes), so a "reboot" (`PcmkNode.reboot()`) is a new anchor;
 * - `/etc/corosync`, `/var/lib/corosync`, `/var/lib/pacemaker` and `/var/log` are bind mounts
 *   of directories under the cluster's temporary directory (configuration, ring ids, the CIB,
 *   logs), readable from outside and kept across reboots.
 *
 * Every process of a node is started with `nsenter -t <anchor> -m -n` (which execs, so the pid
 * is the process's own): our executive (`dist/src/cli/corosync.js -f`, default paths, plain
 * IPC socket names — abstract sockets are per network namespace) and Debian's
 * `/usr/sbin/pacemakerd` as root, exactly as systemd would run them; Pacemaker's tools likewise
 * (`node.run(["crm_mon", "-1"])`). The environment is a clean one (no COROSYNC_* or test
 * variables leak in).
 *
 * Cleanup ends only our processes: every process whose network namespace is one of the lab's
 * (compared by namespace inode, as `ip netns pids` does) is sent SIGKILL — pacemakerd's
 * children and resource agents included — then the namespaces and the directory are removed.
 * A process `exit` hook does the same if a test dies.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COROSYNC_BIN } from "./daemons.js";
import { Lab, netnsSkipReason } from "./netns.js";

export const PACEMAKERD = "/usr/sbin/pacemakerd";
/** Our tools, compiled (tests run from dist/test/...). */
export const OUR_CLI = new URL("../../src/cli/", import.meta.url).pathname;
const DUMMY_AGENT = "/usr/lib/ocf/resource.d/pacemaker/Dummy";

/** A clean environment for everything started inside a node. */
const NODE_ENV: Record<string, string> = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: "/root",
  LANG: "C.UTF-8",
};

/** Why Pacemaker tests cannot run here, or false. */
export function pacemakerSkipReason(): string | false {
  const ns = netnsSkipReason();
  if (ns !== false) return ns;
  for (const f of [PACEMAKERD, "/usr/sbin/crm_mon", "/usr/sbin/cibadmin", DUMMY_AGENT]) {
    if (!existsSync(f)) return `${f} missing: install the Debian packages pacemaker, pacemaker-cli-utils, pacemaker-resource-agents (.ci/run does)`;
  }
  for (const f of ["/usr/bin/nsenter", "/usr/bin/unshare"]) if (!existsSync(f)) return `${f} missing: install util-linux`;
  if (lookupId("/etc/passwd", "hacluster") === undefined) return "user hacluster missing (Debian's pacemaker package creates it)";
  return false;
}

function lookupId(file: string, name: string): number | undefined {
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const f = line.split(":");
    if (f[0] === name && f[2] !== undefined) return Number(f[2]);
  }
  return undefined;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface PacemakerClusterOptions {
  nodes: number;
  /** `totem.token` in ms (corosync adds token_coefficient × (nodes − 2)). Default 1000. */
  token?: number;
  /** Cluster properties written into the initial CIB of every node (crm_config). */
  properties?: Record<string, string>;
  /** Keep the directory (logs, CIBs) after destroy(). */
  keepDir?: boolean;
  /** Log lines of the harness (default: none). */
  trace?: (text: string) => void;
}

/** The defaults for a test cluster: no fencing devices, a short initial DC wait. */
export const TEST_PROPERTIES: Record<string, string> = {
  "stonith-enabled": "false",
  "no-quorum-policy": "stop",
  "dc-deadtime": "5s",
};

/** One line of a process's output, with its arrival time. */
export interface TimedLine {
  at: number;
  text: string;
}

/** A process started inside a node. */
export class NodeProcess {
  readonly lines: TimedLine[] = [];
  exitCode: number | null | undefined;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;
  private partial = "";

  constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
    logFile: string,
  ) {
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString("utf8");
      appendFileSync(logFile, text);
      const parts = (this.partial + text).split("\n");
      this.partial = parts.pop() ?? "";
      const at = Date.now();
      for (const p of parts) this.lines.push({ at, text: p });
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
    this.exited = new Promise((resolve) => {
      proc.on("exit", (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
      });
      proc.on("error", () => {
        this.exitCode ??= -1;
        resolve();
      });
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === undefined && this.exitSignal === null;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running && this.proc.pid !== undefined) {
      try {
        process.kill(this.proc.pid, sig);
      } catch {
        /* gone */
      }
    }
  }

  /** Time of the first line matching `re` at or after `since`. */
  firstAt(re: RegExp, since = 0): number | undefined {
    return this.lines.find((l) => l.at >= since && re.test(l.text))?.at;
  }

  /** Resolves with the exit status (code, or 128+signal) or throws after `ms`. */
  async waitExit(ms: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms)));
    const r = await Promise.race([this.exited.then(() => "done" as const), t]);
    clearTimeout(timer);
    if (r === "timeout") throw new Error(`${this.name} (pid ${this.pid}) did not exit within ${ms} ms`);
    return this.exitCode ?? 128;
  }
}

/** What `crm_mon --output-as=xml` says, reduced to what the tests need. */
export interface CrmStatus {
  stack: string;
  dc: string | undefined;
  quorate: boolean;
  nodes: Array<{ name: string; id: number; online: boolean; unclean: boolean; pending: boolean }>;
  /** Resource id → nodes it is active on (role Started). */
  resources: Record<string, string[]>;
}

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
}

/** Parses `crm_mon -1 --output-as=xml`. */
export function parseCrmMonXml(xml: string): CrmStatus {
  const summaryStack = /<stack\b[^>]*>/.exec(xml)?.[0];
  const dcTag = /<current_dc\b[^>]*>/.exec(xml)?.[0];
  const nodes: CrmStatus["nodes"] = [];
  const nodesSection = /<nodes>([\s\S]*?)<\/nodes>/.exec(xml)?.[1] ?? "";
  for (const m of nodesSection.matchAll(/<node\b[^>]*>/g)) {
    const t = m[0];
    nodes.push({
      name: attr(t, "name") ?? "",
      id: Number(attr(t, "id")),
      online: attr(t, "online") === "true",
      unclean: attr(t, "unclean") === "true",
      pending: attr(t, "pending") === "true",
    });
  }
  const resources: Record<string, string[]> = {};
  const resSection = /<resources>([\s\S]*?)<\/resources>/.exec(xml)?.[1] ?? "";
  for (const m of resSection.matchAll(/<resource\b([^>]*?)(?:\/>|>([\s\S]*?)<\/resource>)/g)) {
    const head = `<resource ${m[1]}>`;
    const id = attr(head, "id") ?? "";
    const on = [...(m[2] ?? "").matchAll(/<node\b[^>]*>/g)].map((n) => attr(n[0], "name") ?? "");
    const active = attr(head, "active") === "true" && attr(head, "role") === "Started" && attr(head, "failed") !== "true";
    resources[id] = active ? on : [];
  }
  return {
    stack: (summaryStack && attr(summaryStack, "type")) ?? "",
    dc: dcTag && attr(dcTag, "present") === "true" ? attr(dcTag, "name") : undefined,
    quorate: dcTag !== undefined && attr(dcTag, "with_quorum") === "true",
    nodes,
    resources,
  };
}

const liveClusters = new Set<PacemakerCluster>();
process.on("exit", () => {
  for (const c of liveClusters) c.killAllSync();
});

/** Pids whose network namespace has inode `ino` (what `ip netns pids` lists). */
export function pidsInNetns(ino: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (statSync(`/proc/${name}/ns/net`).ino === ino) out.push(Number(name));
    } catch {
      /* exited meanwhile, or a kernel thread */
    }
  }
  return out;
}

/** One cluster node: its namespaces, directories and processes. */
export class PcmkNode {
  anchor: NodeProcess | undefined;
  corosync: NodeProcess | undefined;
  pacemakerd: NodeProcess | undefined;
  /** The network namespace's inode (for finding our processes by namespace). */
  readonly netnsIno: number;
  private boots = 0;

  constructor(
    readonly index: number,
    readonly ns: string,
    readonly address: string,
    readonly dir: string,
    private readonly trace: (text: string) => void,
  ) {
    this.netnsIno = statSync(`/run/netns/${ns}`).ino;
  }

  get name(): string {
    return `node${this.index}`;
  }

  get nodeId(): number {
    return this.index;
  }

  /** Paths in the node as seen from outside. */
  get pacemakerLogPath(): string {
    return join(this.dir, "log", "pacemaker", "pacemaker.log");
  }

  get corosyncLogPath(): string {
    return join(this.dir, "log", "corosync", "corosync.log");
  }

  pacemakerLog(): string {
    try {
      return readFileSync(this.pacemakerLogPath, "utf8");
    } catch {
      return "";
    }
  }

  /** Starts a fresh mount namespace (new /run and /dev/shm): a boot. */
  async boot(): Promise<void> {
    if (this.anchor?.running) throw new Error(`${this.name} is already booted`);
    this.boots++;
    const d = this.dir;
    const script = [
      "set -e",
      "mount -t tmpfs -o mode=0755 tmpfs /run",
      "mkdir -p /run/corosync",
      "mount -t tmpfs -o mode=1777 tmpfs /dev/shm",
      `mount --bind '${join(d, "etc-corosync")}' /etc/corosync`,
      `mount --bind '${join(d, "lib-corosync")}' /var/lib/corosync`,
      `mount --bind '${join(d, "lib-pacemaker")}' /var/lib/pacemaker`,
      `mount --bind '${join(d, "log")}' /var/log`,
      "echo anchor-ready",
      "exec sleep infinity",
    ].join("\n");
    const proc = spawn("ip", ["netns", "exec", this.ns, "unshare", "-m", "--propagation", "private", "sh", "-c", script], {
      stdio: ["ignore", "pipe", "pipe"],
      env: NODE_ENV,
      cwd: "/",
    });
    this.anchor = new NodeProcess(`${this.name} anchor`, proc, join(d, "anchor.out"));
    const end = Date.now() + 10_000;
    while (!this.anchor.lines.some((l) => l.text === "anchor-ready")) {
      if (!this.anchor.running) throw new Error(`${this.name}: namespace setup failed: ${readFileSync(join(d, "anchor.out"), "utf8")}`);
      if (Date.now() > end) throw new Error(`${this.name}: namespace setup timed out`);
      await sleep(20);
    }
    this.trace(`${this.name}: booted (anchor pid ${this.anchor.pid}, boot ${this.boots})`);
  }

  private nsArgv(argv: string[]): string[] {
    if (this.anchor === undefined || !this.anchor.running) throw new Error(`${this.name} is not booted`);
    return ["-t", String(this.anchor.pid), "-m", "-n", ...argv];
  }

  private startProcess(name: string, argv: string[], logName: string, env: Record<string, string> = {}): NodeProcess {
    const proc = spawn("nsenter", this.nsArgv(argv), { stdio: ["ignore", "pipe", "pipe"], env: { ...NODE_ENV, ...env }, cwd: "/" });
    const p = new NodeProcess(`${this.name} ${name}`, proc, join(this.dir, logName));
    this.trace(`${this.name}: started ${name} (pid ${p.pid})`);
    return p;
  }

  /** Starts our executive (`corosync -f`, default configuration path /etc/corosync). */
  startCorosync(): NodeProcess {
    if (this.corosync?.running) throw new Error(`${this.name}: corosync already running`);
    this.corosync = this.startProcess("corosync", [process.execPath, COROSYNC_BIN, "-f"], "corosync.out");
    return this.corosync;
  }

  /** Waits until the executive has completed a sync with exactly `members` (node ids). */
  async waitCorosyncMembers(members: number[], ms = 30_000, since = 0): Promise<number> {
    const want = `Members[${members.length}]: ${[...members].sort((a, b) => a - b).join(" ")}`;
    return waitUntil(`${this.name} corosync members ${members.join(",")}`, ms, () => {
      const c = this.corosync;
      if (c === undefined || !c.running) throw new Error(`${this.name}: corosync is not running`);
      const last = [...c.lines].reverse().find((l) => l.at >= since && /\[QUORUM\] Members\[/.test(l.text));
      return last !== undefined && last.text.includes(want) ? last.at : undefined;
    });
  }

  /** Starts Debian's pacemakerd, as root, as systemd would. */
  startPacemaker(): NodeProcess {
    if (this.pacemakerd?.running) throw new Error(`${this.name}: pacemakerd already running`);
    this.pacemakerd = this.startProcess("pacemakerd", [PACEMAKERD], "pacemakerd.out");
    return this.pacemakerd;
  }

  /** Runs a command in the node's namespaces (async; killed after `timeoutMs`). */
  run(argv: string[], timeoutMs = 30_000): Promise<RunResult> {
    return new Promise((resolve) => {
      execFile("nsenter", this.nsArgv(argv), { timeout: timeoutMs, env: NODE_ENV, cwd: "/", maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : null;
        resolve({ status: code, stdout, stderr });
      });
    });
  }

  /** One of our tools (`corosync-cfgtool`, ...) in the node's namespaces. */
  runOurs(tool: string, args: string[], timeoutMs = 30_000): Promise<RunResult> {
    return this.run([process.execPath, join(OUR_CLI, `${tool}.js`), ...args], timeoutMs);
  }

  /** `crm_mon -1 --output-as=xml`, parsed; undefined while Pacemaker cannot answer. */
  async status(): Promise<CrmStatus | undefined> {
    const r = await this.run(["crm_mon", "-1", "--output-as=xml"], 15_000);
    if (r.status !== 0 || !r.stdout.includes("<pacemaker-result")) return undefined;
    return parseCrmMonXml(r.stdout);
  }

  /** Pids of every process in the node's network namespace (anchor included). */
  pids(): number[] {
    return pidsInNetns(this.netnsIno);
  }

  /** SIGKILL to every process in the node (a power cut); waits until they are gone. */
  async powerOff(): Promise<void> {
    this.killAllSync();
    await waitUntil(`${this.name} processes gone`, 10_000, () => (this.pids().length === 0 ? true : undefined));
    await Promise.all([this.anchor, this.corosync, this.pacemakerd].map((p) => p?.exited));
  }

  /** Power off, then boot again (fresh /run and /dev/shm; disks kept). */
  async reboot(): Promise<void> {
    await this.powerOff();
    await this.boot();
  }

  killAllSync(): void {
    for (let round = 0; round < 3; round++) {
      const pids = this.pids();
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
    }
  }
}

export class PacemakerCluster {
  readonly nodes: PcmkNode[] = [];
  readonly lab: Lab;
  readonly dir: string;
  readonly token: number;
  private destroyed = false;

  private constructor(readonly opts: PacemakerClusterOptions) {
    this.token = opts.token ?? 1000;
    this.lab = Lab.create(opts.nodes, 1);
    liveClusters.add(this);
    this.dir = mkdtempSync(join(tmpdir(), "pacemaker-"));
    const trace = opts.trace ?? (() => {});
    for (const n of this.lab.nodes) {
      const d = join(this.dir, `node${n.index}`);
      this.nodes.push(new PcmkNode(n.index, n.ns, n.rings[0]!.address, d, trace));
    }
  }

  /** Creates the namespaces and directories and boots every node (nothing started yet). */
  static async create(opts: PacemakerClusterOptions): Promise<PacemakerCluster> {
    const c = new PacemakerCluster(opts);
    try {
      c.prepareDirs();
      for (const n of c.nodes) await n.boot();
    } catch (e) {
      await c.destroy();
      throw e;
    }
    return c;
  }

  node(index: number): PcmkNode {
    const n = this.nodes[index - 1];
    if (n === undefined) throw new Error(`no node ${index}`);
    return n;
  }

  /** token + token_coefficient (650 ms) per node beyond two, as corosync computes it. */
  get effectiveTokenMs(): number {
    return this.token + 650 * Math.max(0, this.nodes.length - 2);
  }

  get consensusMs(): number {
    return Math.round(1.2 * this.effectiveTokenMs);
  }

  corosyncConf(): string {
    const nodes = this.nodes
      .map((n) => `\tnode {\n\t\tring0_addr: ${n.address}\n\t\tnodeid: ${n.nodeId}\n\t\tname: ${n.name}\n\t}`)
      .join("\n");
    return [
      "totem {",
      "\tversion: 2",
      "\tcluster_name: pcmktest",
      "\ttransport: udpu",
      "\tcrypto_cipher: none",
      "\tcrypto_hash: none",
      `\ttoken: ${this.token}`,
      "}",
      `nodelist {\n${nodes}\n}`,
      "quorum {\n\tprovider: corosync_votequorum\n}",
      "logging {",
      "\tto_logfile: yes",
      "\tlogfile: /var/log/corosync/corosync.log",
      "\tto_stderr: yes",
      "\tto_syslog: no",
      "\ttimestamp: hires",
      "}",
      "",
    ].join("\n");
  }

  private prepareDirs(): void {
    const uid = lookupId("/etc/passwd", "hacluster")!;
    const gid = lookupId("/etc/group", "haclient")!;
    const seed = this.seedCib();
    for (const n of this.nodes) {
      const d = n.dir;
      for (const sub of ["etc-corosync", "lib-corosync", "log/corosync"]) mkdirSync(join(d, sub), { recursive: true });
      writeFileSync(join(d, "etc-corosync", "corosync.conf"), this.corosyncConf());
      const owned = (p: string, mode: number): void => {
        mkdirSync(p, { recursive: true });
        chownSync(p, uid, gid);
        chmodSync(p, mode);
      };
      mkdirSync(join(d, "lib-pacemaker"), { recursive: true });
      chmodSync(join(d, "lib-pacemaker"), 0o755);
      for (const sub of ["cib", "pengine", "blackbox", "cores"]) owned(join(d, "lib-pacemaker", sub), 0o750);
      owned(join(d, "log", "pacemaker"), 0o770);
      owned(join(d, "log", "pacemaker", "bundles"), 0o770);
      chmodSync(join(d, "log"), 0o755);
      if (seed !== undefined) {
        const cib = join(d, "lib-pacemaker", "cib", "cib.xml");
        writeFileSync(cib, seed, { mode: 0o600 });
        chownSync(cib, uid, gid);
      }
    }
  }

  /**
   * The initial CIB with the requested cluster properties, made with Pacemaker's own tools on
   * a file (`cibadmin --empty`, `CIB_file=... crm_attribute`); without a digest file, which
   * pacemaker-based accepts (Pacemaker's documented way to hand-edit a CIB offline).
   */
  private seedCib(): string | undefined {
    const props = this.opts.properties;
    if (props === undefined || Object.keys(props).length === 0) return undefined;
    const file = join(this.dir, "seed-cib.xml");
    const empty = spawnText("cibadmin", ["--empty"]);
    writeFileSync(file, empty);
    for (const [k, v] of Object.entries(props)) spawnText("crm_attribute", ["--type", "crm_config", "--name", k, "--update", v], { CIB_file: file });
    return readFileSync(file, "utf8");
  }

  /** Starts the executives, waits until all see each other, then starts Pacemaker. */
  async startAll(): Promise<void> {
    for (const n of this.nodes) n.startCorosync();
    const ids = this.nodes.map((n) => n.nodeId);
    await Promise.all(this.nodes.map((n) => n.waitCorosyncMembers(ids, 60_000)));
    for (const n of this.nodes) n.startPacemaker();
  }

  /**
   * Polls `crm_mon` on the given nodes until `pred` holds on each (returns the statuses and
   * the time it first held everywhere); throws with the last statuses after `ms`.
   */
  async waitStatus(what: string, indexes: number[], pred: (s: CrmStatus, node: PcmkNode) => boolean, ms = 120_000): Promise<{ at: number; statuses: CrmStatus[] }> {
    const end = Date.now() + ms;
    let last: Array<CrmStatus | undefined> = [];
    for (;;) {
      last = await Promise.all(indexes.map((i) => this.node(i).status()));
      if (last.every((s, k) => s !== undefined && pred(s, this.node(indexes[k]!)))) return { at: Date.now(), statuses: last as CrmStatus[] };
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; last crm_mon: ${JSON.stringify(last)}`);
      await sleep(250);
    }
  }

  /** Every node listed online, a DC, a quorate partition — as seen from each of `indexes`. */
  async waitAllOnline(indexes = this.nodes.map((n) => n.index), ms = 120_000): Promise<{ at: number; statuses: CrmStatus[] }> {
    const names = this.nodes.filter((n) => indexes.includes(n.index)).map((n) => n.name);
    return this.waitStatus(`${names.join(",")} online, quorate, with a DC`, indexes, (s) =>
      s.dc !== undefined && s.quorate && names.every((nm) => s.nodes.some((x) => x.name === nm && x.online && !x.unclean && !x.pending)),
    ms);
  }

  /**
   * Waits until the cluster has settled, as seen from node `index`: the DC's controller is
   * idle (`crmadmin -S <dc>` → S_IDLE) and the scheduler has nothing left to do
   * (`crm_resource --wait`, which re-runs it on the live CIB until no action is pending).
   * Pacemaker is busy for a while after a node (re)joins — probes, history refresh — and
   * stopping nodes in the middle of that leaves the DC waiting for results that never come
   * (an in-flight action's timeout plus cluster-delay, 80 s by default).
   */
  async waitSettled(index = 1, ms = 60_000): Promise<number> {
    const n = this.node(index);
    return waitUntilAsync("the cluster to settle (DC idle, no pending actions)", ms, async () => {
      const s = await n.status();
      if (s?.dc === undefined) return undefined;
      const idle = await n.run(["crmadmin", "-q", "-S", s.dc], 15_000);
      if (!/S_IDLE/.test(idle.stdout + idle.stderr)) return undefined;
      const w = await n.run(["crm_resource", "--wait", "--timeout=30s"], 40_000);
      return w.status === 0 ? Date.now() : undefined;
    });
  }

  /** Ends every process of every node (SIGKILL by pid), deletes namespaces and files. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all(this.nodes.map((n) => n.powerOff().catch(() => n.killAllSync())));
    this.lab.cleanupSync();
    liveClusters.delete(this);
    if (!this.opts.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** @internal the process-exit hook. */
  killAllSync(): void {
    for (const n of this.nodes) n.killAllSync();
    this.lab.cleanupSync();
    if (!this.opts.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

function spawnText(cmd: string, args: string[], env: Record<string, string> = {}): string {
  // Synchronous on purpose: a few milliseconds at setup.
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...NODE_ENV, ...env }, timeout: 20_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` (every 50 ms) until it returns a value; throws after `ms`. */
export async function waitUntil<T>(what: string, ms: number, probe: () => T | undefined): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Like waitUntil, for an asynchronous probe (polled every 250 ms). */
export async function waitUntilAsync<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(250);
  }
}
