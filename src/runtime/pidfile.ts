/**
 * The executive's pid file and single-instance lock: `<run_dir>/corosync.pid`, run dir from
 * `COROSYNC_RUN_DIR` (default /run/corosync). A second daemon with the same run dir refuses
 * to start (corosync's COROSYNC_DONE_ALREADY_RUNNING) while the recorded pid is alive; a
 * stale file from a dead process is taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

export const DEFAULT_RUN_DIR = "/run/corosync";

export class AlreadyRunningError extends Error {
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(`another corosync is already running (pid ${pid}, lock file ${path})`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Create the pid file exclusively; returns its path. Throws AlreadyRunningError or Error. */
export function acquirePidFile(runDir: string, pid = process.pid): string {
  mkdirSync(runDir, { recursive: true, mode: 0o755 });
  const path = join(runDir, "corosync.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o644);
      try {
        writeSync(fd, `${pid}\n`);
      } finally {
        closeSync(fd);
      }
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new Error(`Can't create lock file ${path}: ${(e as Error).message}`);
      const other = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
      if (Number.isInteger(other) && other > 0 && other !== pid && alive(other)) throw new AlreadyRunningError(path, other);
      unlinkSync(path); // stale: the process that wrote it is gone
    }
  }
  throw new Error(`Can't acquire lock file ${path}`);
}

/** Remove the pid file if it is still ours. */
export function releasePidFile(path: string, pid = process.pid): void {
  try {
    if (Number.parseInt(readFileSync(path, "utf8").trim(), 10) === pid) unlinkSync(path);
  } catch {
    // already gone
  }
}
