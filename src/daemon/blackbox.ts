/**
 * The executive's blackbox ("flight data"): the logger keeps its recent records in memory
 * (every priority, `logging.blackbox: on` by default); this module writes them to
 * `<state_dir>/fdata-<local time>-<pid>` in libqb's blackbox format (blackbox-format.ts) and
 * points the symlink `<state_dir>/fdata` at the newest file, as corosync does. Debian's
 * `qb-blackbox` and our `corosync-blackbox` read it.
 *
 * When a dump is written:
 * - a client changes `runtime.blackbox.dump_flight_data` (corosync's trigger, used by
 *   corosync's own `corosync-blackbox` script and ours); `runtime.blackbox.dump_state`
 *   logs a state summary first (corosync's `corosync_state_dump`);
 * - SIGUSR2 (ours: a dump without IPC, next to the statistics line the signal logs);
 * - a broken invariant (an uncaught exception, e.g. a failed `assert`): the error is logged,
 *   the dump written, and the process exits non-zero (`installFatalHandler`).
 * `runtime.force_gather` is handled here too (another corosync trigger key in `runtime.`):
 * any value but `no` forces the SRP into GATHER and the key goes back to `no`.
 */
import { mkdirSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CmapStore } from "../core/cmap/store.js";
import { CMAP_TRACK_ADD, CMAP_TRACK_DELETE, CMAP_TRACK_MODIFY } from "../core/cmap/store.js";
import { CmapType } from "../core/cmap/types.js";
import type { LogRecord } from "./log/format.js";
import { encodeBlackbox, type BlackboxRecord } from "./log/blackbox-format.js";

export const DUMP_FLIGHT_DATA_KEY = "runtime.blackbox.dump_flight_data";
export const DUMP_STATE_KEY = "runtime.blackbox.dump_state";
export const FORCE_GATHER_KEY = "runtime.force_gather";

/** Our numbering of subsystems for the records' `tags` (corosync uses its logsys ids). */
const SUBSYS_TAGS: readonly string[] = ["", "MAIN", "TOTEM", "SYNC", "CMAP", "CFG", "CPG", "QUORUM", "VOTEQ", "MON", "WD", "CONFDB", "SERV", "KNET", "IPC", "LOG"];

/** Log records as blackbox records: function = the record's function, else its subsystem. */
export function toBlackboxRecords(records: readonly LogRecord[]): BlackboxRecord[] {
  return records.map((r) => ({
    lineno: r.line ?? 0,
    tags: Math.max(0, SUBSYS_TAGS.indexOf(r.subsys)),
    priority: r.priority,
    fn: r.fn ?? r.subsys,
    sec: Math.floor(r.timeMs / 1000),
    nsec: Math.round((r.timeMs % 1000) * 1e6),
    message: r.message,
  }));
}

/** `YYYY-MM-DDTHH:MM:SS` in local time (corosync's `strftime("%Y-%m-%dT%H:%M:%S")`). */
export function localStamp(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/**
 * Writes the dump and re-points `<stateDir>/fdata` at it; returns the file's path. Throws
 * the file system's error (callers log it: a failing dump must not take the daemon down).
 */
export function writeBlackboxFile(stateDir: string, records: readonly LogRecord[], pid = process.pid, now = new Date()): string {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, `fdata-${localStamp(now)}-${pid}`);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, encodeBlackbox(toBlackboxRecords(records)), { mode: 0o700 });
  renameSync(tmp, file);
  const link = join(stateDir, "fdata");
  try {
    unlinkSync(link);
  } catch {
    // no previous link
  }
  symlinkSync(file, link);
  return file;
}

export interface RuntimeTriggerHandlers {
  /** Write the blackbox (runtime.blackbox.dump_flight_data). */
  dumpFlightData(): void;
  /** Log a state summary (runtime.blackbox.dump_state). */
  dumpState(): void;
  /** Force the SRP into GATHER (runtime.force_gather). */
  forceGather(): void;
}

/**
 * Creates the trigger keys with value `no` and acts on their changes (see the file comment).
 * Returns the function that stops tracking them.
 */
export function installRuntimeTriggers(cmap: CmapStore, h: RuntimeTriggerHandlers): () => void {
  const all = CMAP_TRACK_ADD | CMAP_TRACK_DELETE | CMAP_TRACK_MODIFY;
  const no = { type: CmapType.STRING, value: "no" } as const;
  cmap.set(DUMP_FLIGHT_DATA_KEY, no, { force: true });
  cmap.set(DUMP_STATE_KEY, no, { force: true });
  cmap.set(FORCE_GATHER_KEY, no, { force: true });
  const tracks = [
    cmap.track(DUMP_FLIGHT_DATA_KEY, all, () => h.dumpFlightData()),
    cmap.track(DUMP_STATE_KEY, all, () => h.dumpState()),
    cmap.track(FORCE_GATHER_KEY, all, (n) => {
      if (n.newValue?.type === CmapType.STRING && n.newValue.value === "no") return;
      cmap.set(FORCE_GATHER_KEY, no, { force: true });
      h.forceGather();
    }),
  ];
  return () => tracks.forEach((t) => t.cancel());
}

export interface FatalHandlerOptions {
  log(text: string): void;
  /** Writes the blackbox; returns its path. */
  dump(): string;
  /** Ends the process (default `process.exit`). */
  exit?(code: number): void;
  /** Exit status (default 15, corosync's COROSYNC_DONE_FATAL_ERR). */
  exitCode?: number;
}

/**
 * On an uncaught exception or unhandled rejection (a failed `assert` included): log it,
 * write the blackbox, exit non-zero — the daemon never runs on with a broken invariant.
 * Returns the function that removes the handlers.
 */
export function installFatalHandler(o: FatalHandlerOptions): () => void {
  let handled = false;
  const onFatal = (e: unknown): void => {
    if (handled) return;
    handled = true;
    const kind = e instanceof Error && e.name.startsWith("AssertionError") ? "Assertion failed" : "Uncaught exception";
    try {
      o.log(`${kind}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      o.log(`Blackbox written to ${o.dump()}`);
    } catch (dumpError) {
      try {
        o.log(`Can't store blackbox file: ${(dumpError as Error).message}`);
      } catch {
        // nothing left to report to
      }
    }
    (o.exit ?? ((c: number) => process.exit(c)))(o.exitCode ?? 15);
  };
  process.on("uncaughtException", onFatal);
  process.on("unhandledRejection", onFatal);
  return () => {
    process.off("uncaughtException", onFatal);
    process.off("unhandledRejection", onFatal);
  };
}
