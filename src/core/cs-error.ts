/**
 * corosync's `cs_error_t` (corotypes.h; libqb-ipc-spec.md §2.1): the status every IPC
 * response carries and every client library returns. Shared by the service engines (which
 * answer with the names), the daemon's IPC services (which write the numbers) and the client
 * libraries (whose `CorosyncError.code` is the name). Pure.
 */
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
export type CsErrorName = keyof typeof CsError;
export type CsErrorCode = (typeof CsError)[CsErrorName];

const BY_NUMBER = new Map<number, CsErrorName>(Object.entries(CsError).map(([k, v]) => [v, k as CsErrorName]));

/** The name of a cs_error_t number, or undefined for a number corosync does not define. */
export function csErrorName(n: number): CsErrorName | undefined {
  return BY_NUMBER.get(n);
}
