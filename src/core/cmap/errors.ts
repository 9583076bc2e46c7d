/**
 * Errors a cmap client sees (style.md "Errors, three kinds": kind 2).
 *
 * Every failing store operation throws a `CmapError` whose `code` is the name of corosync's
 * `cs_error_t` value without the `CS_ERR_` stem (`NOT_EXIST`, `ACCESS`...), and whose
 * `csError` is the number corosync puts in a response header
 * (corosync 3 `include/corosync/corotypes.h`). The IPC service answers a request by
 * catching the error and copying `csError` into the response; nothing else is needed.
 */

import { CsError } from "../cs-error.js";

/** `cs_error_t` numbers, by the names corosync gives them (the one table, src/core/cs-error.ts). */
export { CsError };

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
