/**
 * Reading the authkey (corosync 3 `read_keyfile`, `totem_config_keyread`; totem-spec §8.3).
 *
 * Like corosync: the key is the file's bytes, at least 128 ("Could only read N bits of
 * minimum 1024 bits from <path>."). Stricter than corosync, on purpose:
 * - a key file that group or others may access (mode & 0o077) is refused: the key is the
 *   cluster's only secret, and corosync-keygen writes it 0400;
 * - a file longer than 4096 bytes is refused (corosync silently uses the first 4096), so a
 *   wrong file (a certificate bundle, a log) is not taken for a key;
 * - something that is not a regular file (a directory, a FIFO) is refused.
 * Every refusal is an `AuthKeyError` whose message names the path and what to do.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import type { CryptoConfig } from "../config/model.js";
import { DEFAULT_KEYFILE } from "../config/model.js";
import { errnoText } from "./errno.js";
import { AUTHKEY_MAX_BYTES, AUTHKEY_MIN_BYTES } from "./limits.js";

export { AUTHKEY_DEFAULT_BYTES, AUTHKEY_MAX_BYTES, AUTHKEY_MIN_BYTES } from "./limits.js";

export type AuthKeyErrorCode =
  | "NOT_FOUND" // no such file
  | "UNREADABLE" // open or read failed (permissions, I/O)
  | "NOT_A_FILE" // a directory, device, FIFO...
  | "INSECURE_MODE" // group or others have some access
  | "TOO_SHORT" // fewer than 128 bytes
  | "TOO_LONG"; // more than 4096 bytes

/** Why the authkey cannot be used; `path` is the file (or "totem.key" for an inline key). */
export class AuthKeyError extends Error {
  override readonly name = "AuthKeyError";
  constructor(
    readonly code: AuthKeyErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ReadAuthKeyOptions {
  /** Refuse a key file that group or others may access; default true. */
  checkMode?: boolean;
}

/** Reads and checks a key file; throws `AuthKeyError`. */
export function readAuthKey(path: string, opts: ReadAuthKeyOptions = {}): Uint8Array {
  const fd = openKeyFile(path);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new AuthKeyError("NOT_A_FILE", path, `Key file ${path} is not a regular file`);
    if ((opts.checkMode ?? true) && (st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
      throw new AuthKeyError(
        "INSECURE_MODE",
        path,
        `Key file ${path} has mode ${mode}: group or others may access it. Run 'chmod 0400 ${path}' (or 0600) and make the file owned by the user corosync runs as`,
      );
    }
    if (st.size > AUTHKEY_MAX_BYTES) throw tooLong(path, st.size);
    const key = readUpTo(fd, path, AUTHKEY_MAX_BYTES + 1);
    if (key.length > AUTHKEY_MAX_BYTES) throw tooLong(path, key.length);
    if (key.length < AUTHKEY_MIN_BYTES) {
      throw new AuthKeyError(
        "TOO_SHORT",
        path,
        `Could only read ${key.length * 8} bits of minimum ${AUTHKEY_MIN_BYTES * 8} bits from ${path}. Generate a new key with corosync-keygen`,
      );
    }
    return key;
  } finally {
    closeSync(fd);
  }
}

/**
 * The authkey a configuration names, as corosync 3 picks it: `totem.keyfile` if set, else an
 * inline `totem.key`, else /etc/corosync/authkey. The model fills `keyfile` with the default
 * when unset, so an inline key wins only while `keyfile` is the default path.
 */
export function loadAuthKey(crypto: Pick<CryptoConfig, "keyfile" | "key">, opts: ReadAuthKeyOptions = {}): { key: Uint8Array; source: string } {
  if (crypto.key !== undefined && crypto.keyfile === DEFAULT_KEYFILE) {
    return { key: inlineKey(crypto.key), source: "totem.key" };
  }
  return { key: readAuthKey(crypto.keyfile, opts), source: crypto.keyfile };
}

/** An inline `totem.key`: its UTF-8 bytes, within the same bounds as a file. */
export function inlineKey(text: string): Uint8Array {
  const key = new TextEncoder().encode(text);
  if (key.length > AUTHKEY_MAX_BYTES) throw new AuthKeyError("TOO_LONG", "totem.key", `key is too long (${key.length} bytes, at most ${AUTHKEY_MAX_BYTES})`);
  if (key.length < AUTHKEY_MIN_BYTES) throw new AuthKeyError("TOO_SHORT", "totem.key", `key is too short (${key.length} bytes, at least ${AUTHKEY_MIN_BYTES})`);
  return key;
}

function openKeyFile(path: string): number {
  try {
    return openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const code = err.code === "ENOENT" ? "NOT_FOUND" : "UNREADABLE";
    throw new AuthKeyError(code, path, `Could not open ${path}: ${errnoText(err)}`, { cause: e });
  }
}

function readUpTo(fd: number, path: string, limit: number): Uint8Array {
  const buf = new Uint8Array(limit);
  let got = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, got, limit - got, null);
      if (n === 0) break;
      got += n;
      if (got === limit) break;
    }
  } catch (e) {
    throw new AuthKeyError("UNREADABLE", path, `Could not read ${path}: ${errnoText(e)}`, { cause: e });
  }
  return buf.slice(0, got);
}

function tooLong(path: string, size: number): AuthKeyError {
  return new AuthKeyError(
    "TOO_LONG",
    path,
    `Key file ${path} is ${size} bytes; a key is ${AUTHKEY_MIN_BYTES}..${AUTHKEY_MAX_BYTES} bytes. Is this the right file? corosync-keygen makes one`,
  );
}
