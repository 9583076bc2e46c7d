#!/usr/bin/env node
/**
 * `corosync-blackbox`: asks a running corosync for its flight data and prints it.
 *
 *   corosync-blackbox [-d STATE_DIR] [-w SECONDS]    dump and print the running daemon's blackbox
 *   corosync-blackbox -f FILE                        print a blackbox file (no daemon needed)
 *
 * Mechanism (corosync's own, so it works against our daemon and a real corosync 3 alike):
 * set `runtime.blackbox.dump_state` and `runtime.blackbox.dump_flight_data` to the current
 * time over cmap; the daemon logs its state, writes `<state_dir>/fdata-<time>-<pid>` in
 * libqb's blackbox format and points `<state_dir>/fdata` at it. We wait (up to `-w`, default
 * 10 s) for that link to name a new file, then print it as Debian's `qb-blackbox` does:
 * `Dumping the contents of FILE`, then one line per record, `priority time function(line):tags: message`.
 * The state directory is `-d`, else cmap's `system.state_dir`, else `$COROSYNC_STATE_DIR`,
 * else /var/lib/corosync. Exit 0, or 1 with a message.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CmapClient } from "../client/cmap.js";
import { CorosyncError, csStrerror } from "../client/errors.js";
import { CmapType } from "../core/cmap/types.js";
import { BlackboxFormatError, decodeBlackbox, formatBlackboxLine } from "../daemon/log/blackbox-format.js";
import { getopt, isMainModule, OptionError, runAsProgram, sleep, type ToolIo } from "./cli-support.js";

const PROGRAM = "corosync-blackbox";
const DEFAULT_STATE_DIR = "/var/lib/corosync";

const USAGE = `usage: corosync-blackbox [-d STATE_DIR] [-w SECONDS]   dump and print the running corosync's blackbox
       corosync-blackbox -f FILE                        print a blackbox file
`;

/** Prints the records of the blackbox file at `path`; returns the exit status. */
export function printBlackboxFile(path: string, io: ToolIo): number {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    io.stderr(`${PROGRAM}: cannot read ${path}: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    const file = decodeBlackbox(bytes);
    io.stdout(`Dumping the contents of ${path}\n`);
    for (const r of file.records) {
      const offset = -new Date(r.sec * 1000).getTimezoneOffset();
      io.stdout(`${formatBlackboxLine(r, offset)}\n`);
    }
    return 0;
  } catch (e) {
    if (!(e instanceof BlackboxFormatError)) throw e;
    io.stderr(`${PROGRAM}: ${path} is not a blackbox file: ${e.message}\n`);
    return 1;
  }
}

/** Identity of whatever `path` (the `fdata` link) currently names; undefined when absent. */
function identity(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}:${s.mtimeMs}:${s.size}`;
  } catch {
    return undefined;
  }
}

async function stateDirOf(cmap: CmapClient, given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  try {
    const v = await cmap.get("system.state_dir");
    if (v.type === CmapType.STRING && v.value !== "") return v.value;
  } catch {
    // not configured: the daemon's default
  }
  return process.env.COROSYNC_STATE_DIR || DEFAULT_STATE_DIR;
}

/** Runs the tool; resolves to the exit status. */
export async function runBlackbox(argv: string[], io: ToolIo): Promise<number> {
  let parsed;
  try {
    parsed = getopt(argv, "hd:f:w:", PROGRAM);
  } catch (e) {
    if (e instanceof OptionError) {
      io.stderr(`${e.message}\n${USAGE}`);
      return 1;
    }
    throw e;
  }
  const opt = new Map(parsed.options.map((o) => [o.name, o.value]));
  if (opt.has("h")) {
    io.stdout(USAGE);
    return 0;
  }
  if (opt.has("f")) return printBlackboxFile(opt.get("f")!, io);
  const waitS = Number(opt.get("w") ?? 10);
  if (!(waitS > 0)) {
    io.stderr(`${PROGRAM}: -w needs a positive number of seconds\n`);
    return 1;
  }
  let cmap: CmapClient;
  try {
    cmap = await CmapClient.connect();
  } catch (e) {
    io.stderr(`Failed to initialize the cmap API. Error ${e instanceof CorosyncError ? csStrerror(e.code) : String(e)}\n`);
    return 1;
  }
  try {
    const dir = await stateDirOf(cmap, opt.get("d"));
    const link = join(dir, "fdata");
    const before = identity(link);
    const stamp = { type: CmapType.STRING, value: String(Math.floor(Date.now() / 1000)) } as const;
    try {
      await cmap.set("runtime.blackbox.dump_state", stamp);
      // Always a change: the daemon dumps on every change of the key.
      await cmap.set("runtime.blackbox.dump_flight_data", { type: CmapType.STRING, value: `${stamp.value}.${process.pid}.${Date.now()}` });
    } catch (e) {
      io.stderr(`${PROGRAM}: cannot ask for a dump: ${e instanceof CorosyncError ? csStrerror(e.code) : String(e)}\n`);
      return 1;
    }
    const deadline = Date.now() + waitS * 1000;
    while (identity(link) === before || identity(link) === undefined) {
      if (Date.now() > deadline) {
        io.stderr(`${PROGRAM}: no new blackbox file at ${link} within ${waitS} s (is ${dir} the daemon's state directory? use -d)\n`);
        return 1;
      }
      await sleep(50);
    }
    return printBlackboxFile(link, io);
  } finally {
    await cmap.close();
  }
}

if (isMainModule(import.meta.url)) runAsProgram(PROGRAM, runBlackbox);
