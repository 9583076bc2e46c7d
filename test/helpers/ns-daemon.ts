/**
 * Test helper: one corosync executive — the real C corosync 3.1.7 or ours — in a network
 * namespace and its own mount namespace (private tmpfs on /run and /var/lib/corosync, so it
 * uses corosync's default paths without touching the host's), plus a way to run tools inside
 * both namespaces (`nsenter -t <pid> -m -n`): Debian's `corosync-cmapctl`,
 * `corosync-blackbox`, `qb-blackbox`, or ours. Plain IPC socket names (one daemon per network
 * namespace), so unmodified C tools reach it.
 *
 * Every process is ended by pid; the temporary directory is removed by `stop()`; the network
 * namespace belongs to the caller (a Lab, or one made with `makeNamespace`).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COROSYNC_BIN } from "./daemons.js";

export const REAL_COROSYNC = ["/usr/sbin/corosync", "/usr/bin/corosync"].find((p) => existsSync(p));
export const CMAPCTL_C = ["/usr/sbin/corosync-cmapctl", "/usr/bin/corosync-cmapctl"].find((p) => existsSync(p));
export const OUR_TOOLS = new URL("../../src/cli/", import.meta.url).pathname;

export interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Creates a network namespace with loopback up; returns the remover. */
export function makeNamespace(name: string): () => void {
  spawnSync("ip", ["netns", "del", name]);
  const r = spawnSync("ip", ["netns", "add", name], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`);
  spawnSync("ip", ["-n", name, "link", "set", "lo", "up"]);
  return () => void spawnSync("ip", ["netns", "del", name]);
}

export class NsDaemon {
  log = "";
  exitCode: number | null | undefined;
  readonly exited: Promise<void>;

  private constructor(
    readonly kind: "real" | "ours",
    readonly ns: string,
    readonly dir: string,
    private readonly proc: ChildProcess,
  ) {
    proc.stdout!.on("data", (d) => (this.log += d));
    proc.stderr!.on("data", (d) => (this.log += d));
    this.exited = new Promise((resolve) => proc.on("exit", (code, sig) => {
      this.exitCode = code ?? (sig ? 128 : null);
      resolve();
    }));
  }

  /**
   * Starts `kind` with `config` in `ns`; resolves once it completed its first sync (or at
   * once with `waitReady: false`, for a daemon expected to exit).
   */
  static async start(kind: "real" | "ours", ns: string, config: string, opts: { waitMs?: number; waitReady?: boolean } = {}): Promise<NsDaemon> {
    const waitMs = opts.waitMs ?? 20_000;
    const dir = mkdtempSync(join(tmpdir(), `nsd-${kind}-`));
    writeFileSync(join(dir, "corosync.conf"), config);
    const exe = kind === "real" ? REAL_COROSYNC! : `${process.execPath} ${COROSYNC_BIN}`;
    const script = `mount -t tmpfs tmpfs /run && mkdir -p /run/corosync && mount -t tmpfs tmpfs /var/lib/corosync && exec ${exe} -f -c ${join(dir, "corosync.conf")}`;
    // ip netns exec → unshare → sh all exec: the pid is the daemon's own.
    const proc = spawn("ip", ["netns", "exec", ns, "unshare", "-m", "sh", "-c", script], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, COROSYNC_IPC_PREFIX: "", COROSYNC_RUN_DIR: "", COROSYNC_STATE_DIR: "" },
    });
    const d = new NsDaemon(kind, ns, dir, proc);
    if (opts.waitReady === false) return d;
    try {
      await d.waitLog(/ready to provide service/, waitMs);
    } catch (e) {
      await d.stop();
      throw e;
    }
    return d;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Waits for a log line matching `re` (counting from `from` characters into the log). */
  async waitLog(re: RegExp, ms: number, from = 0): Promise<void> {
    const end = Date.now() + ms;
    while (!re.test(this.log.slice(from))) {
      if (!this.running) throw new Error(`${this.kind} corosync exited (${this.exitCode}) before ${re}:\n${this.log}`);
      if (Date.now() > end) throw new Error(`${this.kind} corosync: no ${re} within ${ms} ms:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Waits until the process has exited (or throws after `ms`). */
  async waitExit(ms: number): Promise<number | null> {
    const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms).unref());
    if ((await Promise.race([this.exited.then(() => "done" as const), timer])) === "timeout") {
      throw new Error(`${this.kind} corosync did not exit within ${ms} ms:\n${this.log.slice(-2000)}`);
    }
    return this.exitCode ?? null;
  }

  /** Runs `argv` in the daemon's network and mount namespaces. */
  run(argv: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): ToolResult {
    const r = spawnSync("nsenter", ["-t", String(this.pid), "-m", "-n", ...argv], {
      encoding: "utf8",
      input: opts.input,
      timeout: opts.timeoutMs ?? 20_000,
      env: { ...process.env, COROSYNC_IPC_PREFIX: "", ...opts.env },
    });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  /** Debian's `corosync-cmapctl` (or another C tool) inside the namespaces. */
  c(tool: string, args: string[], opts: { input?: string } = {}): ToolResult {
    return this.run([tool, ...args], opts);
  }

  /** One of our tools (`corosync-cmapctl`...) inside the namespaces. */
  ours(tool: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}): ToolResult {
    return this.run([process.execPath, join(OUR_TOOLS, `${tool}.js`), ...args], opts);
  }

  /**
   * Starts a long-running tool (track mode) inside the namespaces; `finish()` types `q`,
   * waits for it to end and returns its output; it is killed by pid if it does not.
   */
  spawnTool(argv: string[]): { output: () => string; finish: () => Promise<ToolResult> } {
    const p = spawn("nsenter", ["-t", String(this.pid), "-m", "-n", ...argv], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, COROSYNC_IPC_PREFIX: "" } });
    let out = "";
    let err = "";
    p.stdout!.on("data", (d) => (out += d));
    p.stderr!.on("data", (d) => (err += d));
    const done = new Promise<number | null>((r) => p.on("exit", (c) => r(c)));
    return {
      output: () => out,
      finish: async () => {
        p.stdin!.end("q\n");
        const t = setTimeout(() => p.pid && process.kill(p.pid, "SIGKILL"), 5000);
        const status = await done;
        clearTimeout(t);
        return { status, stdout: out, stderr: err };
      },
    };
  }

  /** A file in the daemon's private mount namespace, read through `cat`. */
  readFile(path: string): Uint8Array {
    const r = spawnSync("nsenter", ["-t", String(this.pid), "-m", "cat", path], { timeout: 10_000 });
    if (r.status !== 0) throw new Error(`cannot read ${path}: ${r.stderr}`);
    return new Uint8Array(r.stdout);
  }

  /** SIGTERM, then SIGKILL after 5 s; removes the temporary directory. Idempotent. */
  async stop(): Promise<void> {
    if (this.running) {
      try {
        process.kill(this.pid, "SIGTERM");
      } catch {
        /* gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(this.pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }, 5000);
      await this.exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The config file (to edit before a restart). */
  get configPath(): string {
    return join(this.dir, "corosync.conf");
  }

  readConfig(): string {
    return readFileSync(this.configPath, "utf8");
  }
}

/** A single-node udpu configuration like the one the C tool comparisons use. */
export function singleNodeConfig(opts: { clusterName?: string; address?: string; extraTotem?: string[]; extra?: string } = {}): string {
  return [
    "totem {",
    "  version: 2",
    `  cluster_name: ${opts.clusterName ?? "cmapcmp"}`,
    "  transport: udpu",
    "  crypto_cipher: none",
    "  crypto_hash: none",
    ...(opts.extraTotem ?? []).map((l) => `  ${l}`),
    "}",
    "nodelist {",
    "  node {",
    `    ring0_addr: ${opts.address ?? "127.0.0.1"}`,
    "    nodeid: 1",
    "    name: n1",
    "  }",
    "}",
    "quorum {",
    "  provider: corosync_votequorum",
    "}",
    "logging {",
    "  to_stderr: yes",
    "  to_syslog: no",
    "  to_logfile: no",
    "}",
    opts.extra ?? "",
    "",
  ].join("\n");
}
