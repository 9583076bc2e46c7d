/**
 * Errors of the IPC client (style.md "Errors", kind 2: what a client sees). `code` is stable:
 * an errno name for transport failures (`EACCES`, `EAGAIN`, `ECONNREFUSED`, `ENOTCONN`,
 * `EPROTO`...) or a cs_error_t name (`TRY_AGAIN`, `TIMEOUT`) where corosync's libraries would
 * return one; `errno` is the number when there is one. Messages are for people.
 */
export type IpcErrorCode =
  | "EACCES"
  | "EAGAIN"
  | "ECONNREFUSED"
  | "ENOENT"
  | "EMFILE"
  | "ENOTCONN"
  | "EPROTO"
  | "EMSGSIZE"
  | "ESHUTDOWN"
  | "TRY_AGAIN"
  | "TIMEOUT"
  | string;

export class IpcError extends Error {
  override readonly name = "IpcError";
  constructor(
    readonly code: IpcErrorCode,
    message: string,
    readonly errno?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True if `e` is an IpcError, optionally with the given code. */
export function isIpcError(e: unknown, code?: IpcErrorCode): e is IpcError {
  return e instanceof IpcError && (code === undefined || e.code === code);
}
