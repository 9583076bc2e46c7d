/**
 * Errors a cmap client sees (style.md "Errors, three kinds": kind 2).
 *
 * Every failing store operation throws a `CmapError` whose `code` is the name of corosync's
 * `cs_error_t` value without the `CS_ERR_` stem (`NOT_EXIST`, `ACCESS`...), and whose
 * `csError` is the number corosync puts in a response header
 * (corosync 3 `include/corosync/corotypes.h`). The IPC service answers a request by
 * catching the error and copying `csError` into the response; nothing else is needed.
 */

/** `cs_error_t` numbers, by the names corosync gives them (without `CS_ERR_`). */
export const CsError = {
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

/** A `cs_error_t` name other than `OK`. */
export type CsErrorCode = Exclude<keyof typeof CsError, "OK">;

/**
 * A refused cmap operation. `code` is stable and mirrors corosync's `cs_error_t`; the message
 * is for people and may change.
 */
export class CmapError extends Error {
  override readonly name = "CmapError";
  /** The `cs_error_t` number, ready for a response header. */
  readonly csError: number;

  constructor(
    readonly code: CsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.csError = CsError[code];
  }
}

/** True if `e` is a `CmapError`, optionally with the given code. */
export function isCmapError(e: unknown, code?: CsErrorCode): e is CmapError {
  return e instanceof CmapError && (code === undefined || e.code === code);
}
