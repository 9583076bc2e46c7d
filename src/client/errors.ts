/**
 * The one error class every client library throws (style.md "Errors", kind 2): `code` is the
 * name of corosync's `cs_error_t` without the `CS_ERR_` stem (`TRY_AGAIN`, `NOT_EXIST`,
 * `ACCESS`, `TOO_BIG`...), as corosync's C libraries would return it, and is stable; `csError`
 * is the number; `cause` carries the underlying error (an IpcError with its errno name for
 * transport failures). Shared by the cpg, cmap, quorum, votequorum and cfg client libraries.
 */
import { CsError, csErrorName as csErrorNameOrUndefined, type CsErrorName } from "../core/cs-error.js";
import { IpcError } from "./ipc/errors.js";

export type { CsErrorName } from "../core/cs-error.js";
/** `cs_error_t` numbers by name (corosync 3 `include/corosync/corotypes.h`). */
export const CS_ERROR_CODES = CsError;
/** The same table under the name the quorum/cfg clients use. */
export const CS_ERROR = CsError;
/** A `cs_error_t` name. */
export type CorosyncErrorCode = CsErrorName;

/** The name of a `cs_error_t` number; unknown numbers are `LIBRARY` (as a library would treat them). */
export function csErrorName(n: number): CorosyncErrorCode {
  return csErrorNameOrUndefined(n) ?? "LIBRARY";
}

/** What corosync's `cs_strerror` prints: `CS_ERR_NOT_EXIST`, `success` for OK (a name or a number). */
export function csStrerror(code: CorosyncErrorCode | number): string {
  const name = typeof code === "number" ? csErrorName(code) : code;
  return name === "OK" ? "success" : `CS_ERR_${name}`;
}

export class CorosyncError extends Error {
  override readonly name = "CorosyncError";
  /** The cs_error_t number of `code`. */
  readonly csError: number;

  readonly code: CsErrorName;

  /** `error` is a cs_error_t name or number; the message defaults to `CS_ERR_<NAME>`. */
  constructor(error: CsErrorName | number, message?: string, options?: { cause?: unknown }) {
    const code = typeof error === "number" ? csErrorName(error) : error;
    super(message ?? csStrerror(code), options);
    this.code = code;
    this.csError = CsError[code];
  }

  /** From a cs_error_t number in a response (`what` says which call). */
  static fromStatus(error: number, what: string): CorosyncError {
    const known = csErrorNameOrUndefined(error);
    const code = known ?? "LIBRARY";
    return new CorosyncError(code, `${what}: CS_ERR_${code}${known === undefined ? ` (unknown status ${error})` : ""}`);
  }

  /** An error from a `cs_error_t` number as a response header carries it. */
  static fromCsError(n: number, message: string, options?: { cause?: unknown }): CorosyncError {
    return new CorosyncError(csErrorName(n), message, options);
  }

  /**
   * From a transport failure, mapped as corosync's `qb_to_cs_error` maps errnos: EACCES →
   * ACCESS, EAGAIN/TRY_AGAIN → TRY_AGAIN, EMSGSIZE → TOO_BIG, EMFILE → NO_RESOURCES, ENOMEM
   * → NO_MEMORY, TIMEOUT → TIMEOUT, ENOENT → NOT_EXIST; anything else (no daemon, connection
   * lost, protocol error) → LIBRARY.
   */
  static fromIpc(e: unknown, what: string): CorosyncError {
    if (e instanceof CorosyncError) return e;
    if (!(e instanceof IpcError)) return new CorosyncError("LIBRARY", `${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    const map: Record<string, CsErrorName> = {
      EACCES: "ACCESS",
      EAGAIN: "TRY_AGAIN",
      TRY_AGAIN: "TRY_AGAIN",
      EMSGSIZE: "TOO_BIG",
      EMFILE: "NO_RESOURCES",
      ENOMEM: "NO_MEMORY",
      TIMEOUT: "TIMEOUT",
      ENOENT: "NOT_EXIST",
    };
    const code = map[e.code] ?? "LIBRARY";
    return new CorosyncError(code, `${what}: ${e.message}`, { cause: e });
  }
}

/** True if `e` is a CorosyncError, optionally with the given code. */
export function isCorosyncError(e: unknown, code?: CsErrorName): e is CorosyncError {
  return e instanceof CorosyncError && (code === undefined || e.code === code);
}
