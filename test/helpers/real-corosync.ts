/**
 * Test helper: a real corosync 3.1.7 (Debian package `corosync`) inside a network namespace,
 * with a private mount namespace whose /run is a fresh tmpfs (its pid file and lock) — the
 * configuration's `system.state_dir` keeps its ring ids in the test's directory. The process
 * is the one we spawned (`ip netns exec` and `unshare` exec it), so it is stopped by pid.
 * Also: running a command inside a namespace with a deadline.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, rmSync } from "node:fs";

/** Where Debian installs corosync, or undefined. */
export const COROSYNC_REAL = ["/usr/sbin/corosync", "/usr/bin/corosync"].find((p) => existsSync(p));

/** Why tests needing a real corosync and namespaces cannot run here, or false. */
export function realCorosyncSkipReason(): string | false {
  if (COROSYNC_REAL === undefined) return "real corosync not installed: install the Debian package corosync";
  if (process.getuid?.() !== 0) return "needs root for network and mount namespaces";
  if (spawnSync("ip", ["-V"]).error) return "ip not installed: install the Debian package iproute2";
  if (spawnSync("unshare", ["--version"]).error) return "unshare not installed: install the Debian package util-linux";
  return false;
}

export class RealCorosync {
  readonly proc: ChildProcess;
  log = "";
  exitCode: number | null | undefined;
  readonly exited: Promise<void>;

  constructor(
    readonly ns: string,
    readonly configPath: string,
  ) {
    const script = `mount -t tmpfs tmpfs /run && mkdir -p /run/corosync && exec ${COROSYNC_REAL} -f -c ${configPath}`;
    this.proc = spawn("ip", ["netns", "exec", ns, "unshare", "-m", "sh", "-c", script], { stdio: ["ignore", "pipe", "pipe"] });
    this.proc.stdout!.on("data", (d) => (this.log += d));
    this.proc.stderr!.on("data", (d) => (this.log += d));
    this.exited = new Promise((resolve) =>
      this.proc.on("exit", (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        resolve();
      }),
    );
  }

  get running(): boolean {
    return this.exitCode === undefined;
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

  /**
   * SIGTERM, then SIGKILL after `ms`; then remove what a killed corosync leaves in /dev/shm
   * (its libqb blackbox and IPC directories; only this process's own names).
   */
  async stop(ms = 5000): Promise<void> {
    if (this.running) {
      this.signal("SIGTERM");
      const t = setTimeout(() => this.signal("SIGKILL"), ms);
      await this.exited;
      clearTimeout(t);
    }
    const pid = this.proc.pid;
    if (pid === undefined) return;
    for (const name of [`qb-corosync-${pid}-blackbox-data`, `qb-corosync-${pid}-blackbox-header`]) rmSync(`/dev/shm/${name}`, { force: true });
  }
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `cmd args` inside namespace `ns` (killed after `timeoutMs`). */
export function nsRun(ns: string, cmd: string, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile("ip", ["netns", "exec", ns, cmd, ...args], { timeout: timeoutMs, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : -1;
      resolve({ code, stdout, stderr });
    });
  });
}
