/**
 * The one error class client libraries throw (style.md "Errors", kind 2). `code` is the name
 * of corosync's `cs_error_t` without the `CS_ERR_` stem (`TRY_AGAIN`, `NOT_EXIST`, `ACCESS`,
 * ...) and is stable; `csError` is the number; `cause` carries the underlying error (an
 * `IpcError` for transport failures). Messages are for people and may change.
 */

/** `cs_error_t` numbers by name (corosync 3 `include/corosync/corotypes.h`). */
export const CS_ERROR_CODES = {
  OK: 1,
  LIBRARY: 2,
  VERSION: 3,
  INIT: 4,
  TIMEOUT: 5,
  TRY_AGAIN: 6,
  INVALID_PARAM: 7,
  NO_MEMORY: 8,
  BAD_HANDLE: 9,
  BUSY: 10,
  ACCESS: 11,
  NOT_EXIST: 12,
  NAME_TOO_LONG: 13,
  EXIST: 14,
  NO_SPACE: 15,
  INTERRUPT: 16,
  NAME_NOT_FOUND: 17,
  NO_RESOURCES: 18,
  NOT_SUPPORTED: 19,
  BAD_OPERATION: 20,
  FAILED_OPERATION: 21,
  MESSAGE_ERROR: 22,
  QUEUE_FULL: 23,
  QUEUE_NOT_AVAILABLE: 24,
  BAD_FLAGS: 25,
  TOO_BIG: 26,
  NO_SECTIONS: 27,
  CONTEXT_NOT_FOUND: 28,
  TOO_MANY_GROUPS: 30,
  SECURITY: 100,
} as const;

/** A `cs_error_t` name. */
export type CorosyncErrorCode = keyof typeof CS_ERROR_CODES;

const BY_NUMBER = new Map<number, CorosyncErrorCode>(
  Object.entries(CS_ERROR_CODES).map(([name, n]) => [n, name as CorosyncErrorCode]),
);

/** The name of a `cs_error_t` number; unknown numbers are `LIBRARY` (as a library would treat them). */
export function csErrorName(n: number): CorosyncErrorCode {
  return BY_NUMBER.get(n) ?? "LIBRARY";
}

/** What corosync's `cs_strerror` prints: `CS_ERR_NOT_EXIST`, `success` for OK. */
export function csStrerror(code: CorosyncErrorCode): string {
  return code === "OK" ? "success" : `CS_ERR_${code}`;
}

export class CorosyncError extends Error {
  override readonly name = "CorosyncError";
  /** The `cs_error_t` number. */
  readonly csError: number;

  constructor(
    readonly code: CorosyncErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.csError = CS_ERROR_CODES[code];
  }

  /** An error from a `cs_error_t` number as a response header carries it. */
  static fromCsError(n: number, message: string, options?: { cause?: unknown }): CorosyncError {
    return new CorosyncError(csErrorName(n), message, options);
  }
}

/** True if `e` is a `CorosyncError`, optionally with the given code. */
export function isCorosyncError(e: unknown, code?: CorosyncErrorCode): e is CorosyncError {
  return e instanceof CorosyncError && (code === undefined || e.code === code);
}
