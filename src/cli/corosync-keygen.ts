#!/usr/bin/env node
/**
 * `corosync-keygen`: writes a new authkey (corosync 3.1.7 `tools/corosync-keygen.c`).
 *
 *   corosync-keygen [-k FILE] [-s SIZE] [-r DEVICE] [-l] [-f] [-h]
 *
 * Reads exactly SIZE bytes (128..4096, default 256) from DEVICE (default /dev/urandom) and
 * writes them to FILE (default /etc/corosync/authkey), owned by the caller, mode 0400. Prints
 * what corosync prints. Differences from corosync 3.1.7, on purpose:
 * - an existing key file is not overwritten unless `-f`/`--force` is given or, on a terminal,
 *   the user answers y: replacing a key cuts the node off from the rest of the cluster;
 *   a forced overwrite writes a temporary file and renames it, so a failure never leaves
 *   a half-written key (and a 0400 key can be replaced without root);
 * - a missing parent directory is created with mode 0700 (corosync 1.x did this).
 *
 * Exit status, as corosync: 0 written; 1 bad option or random source error; 2 the key file
 * cannot be created (or exists and was kept); 3 chmod failed; 4 write failed; 5 fsync/close failed.
 */
import { closeSync, constants, existsSync, fchmodSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync, chmodSync, realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { createInterface } from "node:readline/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_KEYFILE } from "../config/model.js";
import { errnoText } from "../crypto/errno.js";
import { AUTHKEY_DEFAULT_BYTES, AUTHKEY_MAX_BYTES, AUTHKEY_MIN_BYTES } from "../crypto/limits.js";

export const DEFAULT_RANDOM_DEVICE = "/dev/urandom";

export const EXIT_OK = 0;
export const EXIT_USAGE = 1;
export const EXIT_CREATE = 2;
export const EXIT_CHMOD = 3;
export const EXIT_WRITE = 4;
export const EXIT_CLOSE = 5;

const USAGE = `Usage: corosync-keygen [-k <keyfile>] [-s size] [-r <randomfile>] [-l] [-f] [-h]
     -k / --key-file=<filename> -  Write to the specified keyfile
            instead of the default ${DEFAULT_KEYFILE}.
     -r / --random-file -  Random number source file. Default is
            ${DEFAULT_RANDOM_DEVICE}. As an example /dev/random may be requested
            (that may require user input for entropy).
     -l / --less-secure - Not used, option is kept only
            for compatibility.
     -s / --size -  Length of key in bytes (${AUTHKEY_MIN_BYTES}..${AUTHKEY_MAX_BYTES}, default ${AUTHKEY_DEFAULT_BYTES}).
     -f / --force -  Replace an existing keyfile without asking.
     -h / --help -  Print basic usage.
`;

/** Where the tool writes and how it asks. */
export interface KeygenIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Asks a yes/no question; undefined when there is no terminal to ask on. */
  confirm?: (question: string) => Promise<boolean>;
}

interface KeygenArgs {
  keyFile: string;
  size: number;
  randomDevice: string;
  force: boolean;
}

/** A failure with its exit status; the message is printed as `corosync-keygen: <message>`. */
class KeygenFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Runs the tool; resolves to the exit status. Only a bug (not a user or file error) rejects. */
export async function runKeygen(argv: string[], io: KeygenIo): Promise<number> {
  try {
    const args = parseKeygenArgs(argv, io);
    if (args === undefined) return EXIT_OK;
    io.stdout("Corosync Cluster Engine Authentication key generator.\n");
    const replacing = existsSync(args.keyFile);
    if (replacing && !args.force && !(await confirmOverwrite(args.keyFile, io))) {
      throw new KeygenFailure(EXIT_CREATE, `${args.keyFile} already exists; not overwriting it. Use -f (--force) to replace it: nodes with a different key cannot join the cluster`);
    }
    const key = gatherKey(args, io);
    ensureParentDir(args.keyFile);
    io.stdout(`Writing corosync key to ${args.keyFile}.\n`);
    if (replacing) replaceKeyFile(args.keyFile, key);
    else writeNewKeyFile(args.keyFile, key);
    return EXIT_OK;
  } catch (e) {
    if (!(e instanceof KeygenFailure)) throw e;
    io.stderr(`corosync-keygen: ${e.message}\n`);
    return e.status;
  }
}

/** The options, or undefined after printing the help. */
function parseKeygenArgs(argv: string[], io: KeygenIo): KeygenArgs | undefined {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        "key-file": { type: "string", short: "k" },
        "random-file": { type: "string", short: "r" },
        size: { type: "string", short: "s" },
        "less-secure": { type: "boolean", short: "l" },
        force: { type: "boolean", short: "f" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new KeygenFailure(EXIT_USAGE, `Error parsing command line options: ${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    io.stdout(USAGE);
    return undefined;
  }
  return {
    keyFile: values["key-file"] ?? DEFAULT_KEYFILE,
    size: parseSize(values.size),
    randomDevice: values["random-file"] ?? DEFAULT_RANDOM_DEVICE,
    force: values.force === true,
  };
}

function parseSize(text: string | undefined): number {
  if (text === undefined) return AUTHKEY_DEFAULT_BYTES;
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(n >= AUTHKEY_MIN_BYTES && n <= AUTHKEY_MAX_BYTES)) {
    throw new KeygenFailure(EXIT_USAGE, `Unsupported key size ${JSON.stringify(text)} (supported <${AUTHKEY_MIN_BYTES},${AUTHKEY_MAX_BYTES}>)`);
  }
  return n;
}

async function confirmOverwrite(keyFile: string, io: KeygenIo): Promise<boolean> {
  if (io.confirm === undefined) return false;
  return io.confirm(`${keyFile} already exists. Replacing it cuts this node off from nodes that keep the old key. Overwrite? [y/N] `);
}

/** Exactly `size` bytes from the random device (corosync's read loop). */
function gatherKey(args: KeygenArgs, io: KeygenIo): Uint8Array {
  io.stdout(`Gathering ${args.size * 8} bits for key from ${args.randomDevice}.\n`);
  let fd: number;
  try {
    fd = openSync(args.randomDevice, constants.O_RDONLY);
  } catch (e) {
    throw new KeygenFailure(EXIT_USAGE, `Failed to open random source ${args.randomDevice}: ${errnoText(e)}`);
  }
  if (args.randomDevice === "/dev/random") io.stdout("Press keys on your keyboard to generate entropy.\n");
  const key = new Uint8Array(args.size);
  try {
    let got = 0;
    while (got < args.size) {
      let n: number;
      try {
        n = readSync(fd, key, got, args.size - got, null);
      } catch (e) {
        throw new KeygenFailure(EXIT_USAGE, `Could not read ${args.randomDevice}: ${errnoText(e)}`);
      }
      if (n === 0) throw new KeygenFailure(EXIT_USAGE, `Unexpected end of ${args.randomDevice} (got ${got} of ${args.size} bytes)`);
      got += n;
    }
  } finally {
    closeSync(fd);
  }
  return key;
}

/** Creates the key file's directory (and missing ancestors) with mode 0700. */
function ensureParentDir(keyFile: string): void {
  const dir = dirname(keyFile);
  if (existsSync(dir)) return;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700); // the umask may have taken bits away; it cannot have added any
  } catch (e) {
    throw new KeygenFailure(EXIT_CREATE, `Could not create directory ${dir}: ${errnoText(e)}`);
  }
}

/** A new file: O_CREAT|O_EXCL 0600, write, fsync, fchmod 0400, close; removed on failure. */
function writeNewKeyFile(path: string, key: Uint8Array): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    throw new KeygenFailure(EXIT_CREATE, `Could not create ${path}: ${errnoText(e)}`);
  }
  try {
    writeKey(fd, path, key);
  } catch (e) {
    rmSync(path, { force: true });
    throw e;
  }
}

/** Replacing: write a temporary file beside it the same way, then rename it over the old one. */
function replaceKeyFile(path: string, key: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeNewKeyFile(tmp, key);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new KeygenFailure(EXIT_CREATE, `Could not replace ${path}: ${errnoText(e)}`);
  }
}

function writeKey(fd: number, path: string, key: Uint8Array): void {
  let closed = false;
  try {
    try {
      let done = 0;
      while (done < key.length) done += writeSync(fd, key, done, key.length - done);
    } catch (e) {
      throw new KeygenFailure(EXIT_WRITE, `Could not write ${path}: ${errnoText(e)}`);
    }
    try {
      fchmodSync(fd, 0o400);
    } catch (e) {
      throw new KeygenFailure(EXIT_CHMOD, `Failed to set key file permissions to 0400: ${errnoText(e)}`);
    }
    try {
      fsyncSync(fd);
      closed = true;
      closeSync(fd);
    } catch (e) {
      throw new KeygenFailure(EXIT_CLOSE, `Could not close ${path}: ${errnoText(e)}`);
    }
  } finally {
    if (!closed) closeSync(fd);
  }
}

/** A y/N question on the terminal; anything but y/yes is no. */
async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
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
  const io: KeygenIo = {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    ...(process.stdin.isTTY ? { confirm: askOnTerminal } : {}),
  };
  runKeygen(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`corosync-keygen: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
