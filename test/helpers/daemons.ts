/**
 * Test helper: runs N real `corosync` executives as child processes over udpu on loopback
 * (each cluster on its own 127.a.b.0/24 and a random port, each node with its own config, run
 * dir and state dir), follows their logs, waits for membership states with generous
 * deadlines, and always cleans up: every process it started is killed by pid and the
 * temporary directory removed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The compiled executive (tests run from dist/test/...). */
export const COROSYNC_BIN = fileURLToPath(new URL("../../src/cli/corosync.js", import.meta.url));

export interface ClusterOptions {
  nodes: number;
  /** `totem.token` (before the per-node coefficient). */
  token?: number;
  /** Default udpu; null writes no `transport:` line (corosync 3's default: knet with a nodelist). */
  transport?: "udpu" | "udp" | "knet" | null;
  /** Extra lines inside `totem { }` (or per node). */
  totemExtra?: string[] | ((nodeId: number) => string[]);
  /** Extra top-level sections appended to every config. */
  extraSections?: string;
  /** Per-node extra env. */
  env?: (nodeId: number) => Record<string, string>;
  /** Start only these node ids (default all). */
  start?: number[];
  /** A whole custom corosync.conf per node (instead of the generated udpu one). */
  config?: (nodeId: number, port: number, dir: string) => string;
  /** Run node N inside this network namespace (`ip netns exec`). */
  netns?: (nodeId: number) => string;
  /**
   * The command line of node N (default: our executive). It must exec the daemon so that the
   * pid is the daemon's, and the daemon must log membership lines to stdout/stderr.
   */
  command?: (nodeId: number, configPath: string, dir: string) => string[];
}

export interface LogLine {
  at: number;
  text: string;
}

export class DaemonNode {
  proc: ChildProcess | undefined;
  lines: LogLine[] = [];
  /** Members from the last `Members[N]: ...` line. */
  members: number[] = [];
  ringId = "";
  exitCode: number | null | undefined;
  exited: Promise<void> = Promise.resolve();
  /** Every pid this node has had, oldest first (one per start). */
  readonly pids: number[] = [];
  private partial = "";

  constructor(
    readonly id: number,
    readonly address: string,
    readonly dir: string,
    readonly configPath: string,
    readonly env: Record<string, string>,
    readonly netns?: string,
    readonly command?: string[],
  ) {}

  /** The IPC prefix clients must use to reach this node (undefined: plain corosync names). */
  get ipcPrefix(): string | undefined {
    return this.env.COROSYNC_IPC_PREFIX;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc !== undefined && this.exitCode === undefined;
  }

  start(): void {
    if (this.running) throw new Error(`node ${this.id} is already running`);
    this.exitCode = undefined;
    this.members = [];
    this.ringId = "";
    const argv = this.command ?? [process.execPath, COROSYNC_BIN, "-f", "-c", this.configPath];
    // `ip netns exec` execs the command: the pid we get is the executive's own.
    const [cmd, ...args] = this.netns === undefined ? argv : ["ip", "netns", "exec", this.netns, ...argv];
    const proc = spawn(cmd!, args, {
      env: { ...process.env, ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.proc = proc;
    if (proc.pid !== undefined) this.pids.push(proc.pid);
    const onData = (chunk: Buffer): void => this.consume(chunk.toString("utf8"));
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    this.exited = new Promise((resolve) => {
      proc.on("exit", (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        resolve();
      });
    });
  }

  private consume(text: string): void {
    const all = this.partial + text;
    const parts = all.split("\n");
    this.partial = parts.pop() ?? "";
    for (const line of parts) {
      this.lines.push({ at: Date.now(), text: line });
      const m = /Members\[(\d+)\]:((?: \d+)*)/.exec(line);
      if (m) this.members = m[2]!.trim() === "" ? [] : m[2]!.trim().split(/\s+/).map(Number);
      const r = /A new membership \(([0-9a-f]+\.[0-9a-f]+)\) was formed/.exec(line);
      if (r) this.ringId = r[1]!;
    }
  }

  signal(sig: NodeJS.Signals): void {
    if (this.proc?.pid !== undefined && this.running) process.kill(this.proc.pid, sig);
  }

  /** Lines matching a pattern, as text. */
  grep(re: RegExp): string[] {
    return this.lines.filter((l) => re.test(l.text)).map((l) => l.text);
  }

  /** Time (ms since epoch) of the first line matching `re` after `since`. */
  firstAt(re: RegExp, since = 0): number | undefined {
    return this.lines.find((l) => l.at >= since && re.test(l.text))?.at;
  }
}

function randomOctet(): number {
  return 2 + Math.floor(Math.random() * 250);
}

/**
 * One node's corosync.conf. All nodes share a host, so every 127.a.b.x is local to each:
 * `totem.nodeid` names the node's own nodelist entry.
 */
export function nodeConfig(opts: ClusterOptions, addresses: string[], port: number, nodeId: number): string {
  const nodes = addresses.map((a, i) => `\tnode {\n\t\tring0_addr: ${a}\n\t\tnodeid: ${i + 1}\n\t\tname: node${i + 1}\n\t}`).join("\n");
  const totem = [
    "\tversion: 2",
    "\tcluster_name: testcluster",
    ...(opts.transport === null ? [] : [`\ttransport: ${opts.transport ?? "udpu"}`]),
    `\ttoken: ${opts.token ?? 1000}`,
    `\tnodeid: ${nodeId}`,
    ...(typeof opts.totemExtra === "function" ? opts.totemExtra(nodeId) : (opts.totemExtra ?? [])).map((l) => `\t${l}`),
    "\tinterface {",
    "\t\tlinknumber: 0",
    `\t\tmcastport: ${port}`,
    "\t}",
  ].join("\n");
  return `totem {\n${totem}\n}\nnodelist {\n${nodes}\n}\nlogging {\n\tto_stderr: yes\n\tto_syslog: no\n\ttimestamp: hires\n}\n${opts.extraSections ?? ""}\n`;
}

export class DaemonCluster {
  readonly nodes: DaemonNode[] = [];
  readonly dir: string;
  readonly port: number;

  constructor(readonly opts: ClusterOptions) {
    this.dir = mkdtempSync(join(tmpdir(), "corosync-test-"));
    this.port = 20000 + 2 * Math.floor(Math.random() * 20000);
    const net = `127.${randomOctet()}.${randomOctet()}`;
    const addresses = Array.from({ length: opts.nodes }, (_, i) => `${net}.${i + 1}`);
    for (let i = 0; i < opts.nodes; i++) {
      const id = i + 1;
      const dir = join(this.dir, `node${id}`);
      mkdirSync(join(dir, "run"), { recursive: true });
      mkdirSync(join(dir, "state"), { recursive: true });
      const configPath = join(dir, "corosync.conf");
      writeFileSync(configPath, opts.config?.(id, this.port, dir) ?? nodeConfig(opts, addresses, this.port, id));
      // Several executives in one network namespace need distinct IPC socket names.
      const ipcPrefix = `t${process.pid}x${this.port}-n${id}`;
      const env = {
        COROSYNC_RUN_DIR: join(dir, "run"),
        COROSYNC_STATE_DIR: join(dir, "state"),
        ...(opts.netns === undefined ? { COROSYNC_IPC_PREFIX: ipcPrefix } : {}),
        ...(opts.env?.(id) ?? {}),
      };
      this.nodes.push(new DaemonNode(id, addresses[i]!, dir, configPath, env, opts.netns?.(id), opts.command?.(id, configPath, dir)));
    }
  }

  node(id: number): DaemonNode {
    const n = this.nodes[id - 1];
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  start(ids = this.opts.start ?? this.nodes.map((n) => n.id)): void {
    for (const id of ids) this.node(id).start();
  }

  /** Poll until `pred()` holds or the deadline passes (then throw with `describe`). */
  async waitFor(what: string, pred: () => boolean, timeoutMs = 30_000): Promise<number> {
    const start = Date.now();
    while (!pred()) {
      if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.describe()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return Date.now();
  }

  /** Wait until every listed node reports exactly `members` as its membership. */
  async waitForMembers(ids: number[], members: number[], timeoutMs = 30_000): Promise<number> {
    const want = [...members].sort((a, b) => a - b).join(",");
    return this.waitFor(`members [${want}] at nodes ${ids.join(",")}`, () =>
      ids.every((id) => {
        const n = this.node(id);
        return n.running && [...n.members].sort((a, b) => a - b).join(",") === want;
      }),
    timeoutMs);
  }

  describe(): string {
    return this.nodes
      .map((n) => `node ${n.id} ${n.running ? "running" : `exited(${n.exitCode})`} ring ${n.ringId} members [${n.members.join(",")}]\n  ${n.lines.slice(-12).map((l) => l.text).join("\n  ")}`)
      .join("\n");
  }

  /** Kill every process this cluster started (by pid) and remove the directory. */
  async destroy(): Promise<void> {
    for (const n of this.nodes) {
      if (n.running) {
        n.signal("SIGCONT");
        n.signal("SIGKILL");
      }
    }
    await Promise.all(this.nodes.map((n) => n.exited));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
