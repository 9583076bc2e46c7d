/**
 * The one error class a client of our libraries sees (style.md "Errors", kind 2): `code`
 * is corosync's `cs_error_t` name without the `CS_ERR_` prefix (`TRY_AGAIN`, `NOT_EXIST`,
 * `ACCESS`...), `csError` its number, `cause` the underlying error if there is one.
 */

/** corosync's `cs_error_t` (include/corosync/corotypes.h), by name. */
export const CS_ERROR = {
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
export type CsErrorName = keyof typeof CS_ERROR;

/** The name of a `cs_error_t` number (`LIBRARY` for numbers corosync does not define). */
export function csErrorName(n: number): CsErrorName {
  for (const [k, v] of Object.entries(CS_ERROR)) if (v === n) return k as CsErrorName;
  return "LIBRARY";
}

/** What corosync's `cs_strerror()` prints: `success` or `CS_ERR_<NAME>`. */
export function csStrerror(n: number): string {
  return n === CS_ERROR.OK ? "success" : `CS_ERR_${csErrorName(n)}`;
}

export class CorosyncError extends Error {
  override readonly name = "CorosyncError";
  readonly code: CsErrorName;
  readonly csError: number;

  constructor(error: CsErrorName | number, message?: string, options?: { cause?: unknown }) {
    const code = typeof error === "number" ? csErrorName(error) : error;
    super(message ?? csStrerror(CS_ERROR[code]), options);
    this.code = code;
    this.csError = CS_ERROR[code];
  }
}

/** True if `e` is a CorosyncError, optionally with the given code. */
export function isCorosyncError(e: unknown, code?: CsErrorName): e is CorosyncError {
  return e instanceof CorosyncError && (code === undefined || e.code === code);
}
