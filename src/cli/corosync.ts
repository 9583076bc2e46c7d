#!/usr/bin/env node
/**
 * `corosync`: the Corosync Cluster Engine executive's command line.
 *
 *   corosync [-f] [-c FILE]   load and check the configuration, then start the executive
 *   corosync -t [-c FILE]     test the configuration and exit (0 valid, 8 invalid)
 *   corosync -v | -h          version / usage
 *
 * FILE defaults to $COROSYNC_MAIN_CONFIG_FILE, else /etc/corosync/corosync.conf. Every
 * diagnostic is printed to stderr as `<file>:<line>:<column>: <severity>: <message>`.
 * A configuration with errors exits 8 (corosync's COROSYNC_DONE_MAINCONFIGREAD) with
 * nothing started. The 1.x options -p and -r (process priority, round-robin scheduling)
 * are accepted and do nothing; use `system { priority, sched_rr }` instead.
 */
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { formatDiagnostic, hasErrors } from "../config/diagnostics.js";
import { type Env } from "../config/model.js";
import { loadConfigFile } from "../config/load.js";
import { startExecutive } from "../daemon/executive.js";

/** corosync's exit status when the main configuration cannot be read or is invalid. */
export const COROSYNC_DONE_MAINCONFIGREAD = 8;
export const DEFAULT_CONFIG_FILE = "/etc/corosync/corosync.conf";

const USAGE = `usage: corosync [-f] [-t] [-c FILE] [-v] [-h]
        -c FILE : Corosync config file path (default $COROSYNC_MAIN_CONFIG_FILE or ${DEFAULT_CONFIG_FILE}).
        -f      : Start application in foreground.
        -t      : Test configuration and exit.
        -v      : Display version and features, and exit.
        -h      : Display this help and exit.
        -p, -r  : Accepted for compatibility with corosync 1.x; no effect.
`;

/** Where the CLI writes. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The package version from package.json (three levels above dist/src/cli/). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

function versionText(): string {
  return (
    `Corosync Cluster Engine, version '${packageVersion()}'\n` +
    `Built-in features: udp udpu secauth corosync-1.x-config (Node.js ${process.versions.node})\n`
  );
}

/** Run the command line; resolves to the exit status. */
export async function runCorosync(argv: string[], env: Env, io: CliIo): Promise<number> {
  let values: { c?: string; f?: boolean; t?: boolean; v?: boolean; h?: boolean; p?: boolean; r?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: {
        c: { type: "string", short: "c" },
        f: { type: "boolean", short: "f" },
        t: { type: "boolean", short: "t" },
        v: { type: "boolean", short: "v" },
        h: { type: "boolean", short: "h" },
        p: { type: "boolean", short: "p" },
        r: { type: "boolean", short: "r" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    io.stderr(`corosync: ${(e as Error).message}\n${USAGE}`);
    return 1;
  }
  if (values.h) {
    io.stdout(USAGE);
    return 0;
  }
  if (values.v) {
    io.stdout(versionText());
    return 0;
  }
  for (const opt of ["p", "r"] as const) {
    if (values[opt]) io.stderr(`corosync: notice: option -${opt} has no effect (accepted for compatibility with corosync 1.x)\n`);
  }
  const configFile = values.c ?? (env.COROSYNC_MAIN_CONFIG_FILE || DEFAULT_CONFIG_FILE);
  const loaded = loadConfigFile(configFile, env);
  for (const d of loaded.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
  if (!loaded.ok || hasErrors(loaded.diagnostics)) {
    const errors = loaded.diagnostics.filter((d) => d.severity === "error").length;
    io.stderr(`corosync: configuration file '${configFile}' is invalid (${errors} error${errors === 1 ? "" : "s"}); exiting\n`);
    return COROSYNC_DONE_MAINCONFIGREAD;
  }
  if (values.t) {
    io.stdout(`Configuration file '${configFile}' is valid.\n`);
    return 0;
  }
  return startExecutive({ configFile, foreground: values.f === true });
}

/** True when this module is the program being run (also through an npm bin symlink). */
function isMain(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const io: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };
  runCorosync(process.argv.slice(2), process.env, io).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`corosync: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
