/**
 * libqb IPC setup protocol and corosync's message headers (libqb-ipc-spec.md §1.2, §2.1):
 * constants, socket names, and the encoders/decoders both ends share. Pure (no I/O) except
 * that `ipcSocketName` reads the environment when no prefix is given.
 */

/**
 * Environment variable that makes our daemon, our tools and our client library use distinct
 * IPC names, so several daemons can share one network namespace (abstract socket names are
 * per network namespace). When set to `P`, service `cmap` listens on `\0P-cmap` instead of
 * `\0cmap`. Real (C) corosync tools know nothing of it and only reach the plain names.
 */
export const IPC_PREFIX_ENV = "COROSYNC_IPC_PREFIX";

/** corosync's IPC services and their service ids (the `service` field of its IPC glue). */
export const SERVICE_IDS = {
  cmap: 0,
  cfg: 1,
  cpg: 2,
  quorum: 3,
  pload: 4,
  votequorum: 5,
} as const;
export type ServiceName = keyof typeof SERVICE_IDS;

/** What a prefix may look like: short, so socket and shm names stay well inside libqb's limits. */
const PREFIX_RE = /^[A-Za-z0-9._-]{1,48}$/;

/**
 * The abstract socket name (without the leading NUL) for `service`: the plain name, or
 * `<prefix>-<service>` when `prefix` (default: `$COROSYNC_IPC_PREFIX`) is non-empty.
 * Throws RangeError for a prefix outside [A-Za-z0-9._-]{1,48}.
 */
export function ipcSocketName(service: string, prefix: string | undefined = process.env[IPC_PREFIX_ENV]): string {
  if (prefix === undefined || prefix === "") return service;
  if (!PREFIX_RE.test(prefix)) throw new RangeError(`${IPC_PREFIX_ENV} must match ${PREFIX_RE.source}, got ${JSON.stringify(prefix)}`);
  return `${prefix}-${service}`;
}

/** libqb message ids below the user range. */
export const QB_IPC_MSG_AUTHENTICATE = -1;
export const QB_IPC_MSG_NEW_EVENT_SOCK = -2;
export const QB_IPC_MSG_DISCONNECT = -3;

/** `connection_type` in the setup reply. */
export const QB_IPC_SOCKET = 0;
export const QB_IPC_SHM = 1;

/** Sizes of the setup messages and of corosync's headers. */
export const CONNECTION_REQUEST_SIZE = 24;
export const CONNECTION_RESPONSE_SIZE = 12328;
export const REQUEST_HEADER_SIZE = 16;
export const RESPONSE_HEADER_SIZE = 24;
const NAME_FIELD = 4096;
const REPLY_OFF = { connectionType: 24, maxMsgSize: 28, connection: 32, request: 40, response: 4136, event: 8232 } as const;

/** What Debian's corosync libraries ask for, and what real corosync grants: 1 MiB. */
export const DEFAULT_MAX_MSG_SIZE = 1048576;

/** Linux errno values the setup reply carries (negated). */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EINVAL: 22,
  EMFILE: 24,
  ENOSPC: 28,
  EMSGSIZE: 90,
  ENOTSUP: 95,
  ENOBUFS: 105,
  ENOTCONN: 107,
  ESHUTDOWN: 108,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  ENOSYS: 38,
} as const;

/** Errno number → name, for messages. */
export function errnoName(n: number): string {
  for (const [k, v] of Object.entries(ERRNO)) if (v === n) return k;
  return `errno ${n}`;
}

/** The client's setup request. */
export function encodeConnectionRequest(maxMsgSize: number): Uint8Array {
  const b = new Uint8Array(CONNECTION_REQUEST_SIZE);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, QB_IPC_MSG_AUTHENTICATE, true);
  dv.setInt32(8, CONNECTION_REQUEST_SIZE, true);
  dv.setUint32(16, maxMsgSize, true);
  return b;
}

/** Why a setup request is refused before anything else happens. */
export type ConnectionRequestFault = "short" | "bad_id" | "bad_size" | "bad_max_msg_size";

/** A decoded setup request, or the fault. `maxMsgSize` is what the client asked for. */
export function decodeConnectionRequest(
  b: Uint8Array,
): { ok: true; maxMsgSize: number } | { ok: false; fault: ConnectionRequestFault } {
  if (b.byteLength < CONNECTION_REQUEST_SIZE) return { ok: false, fault: "short" };
  const dv = new DataView(b.buffer, b.byteOffset, CONNECTION_REQUEST_SIZE);
  if (dv.getInt32(0, true) !== QB_IPC_MSG_AUTHENTICATE) return { ok: false, fault: "bad_id" };
  if (dv.getInt32(8, true) !== CONNECTION_REQUEST_SIZE) return { ok: false, fault: "bad_size" };
  const maxMsgSize = dv.getUint32(16, true);
  if (maxMsgSize === 0 || maxMsgSize > 64 * 1048576) return { ok: false, fault: "bad_max_msg_size" };
  return { ok: true, maxMsgSize };
}

/** The server's setup reply. */
export interface ConnectionResponse {
  /** 0, or a negative errno (the connection is refused). */
  error: number;
  connectionType: number;
  maxMsgSize: number;
  /** Opaque to the client. */
  connection: bigint;
  /** Ring base names: each ring is `<name>-header` + `<name>-data`. Empty on error. */
  request: string;
  response: string;
  event: string;
}

function putCString(b: Uint8Array, off: number, s: string): void {
  const enc = new TextEncoder().encode(s);
  if (enc.byteLength >= NAME_FIELD) throw new RangeError(`name too long for the setup reply: ${s}`);
  b.set(enc, off);
}

function getCString(b: Uint8Array, off: number): string {
  const field = b.subarray(off, off + NAME_FIELD);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end < 0 ? field : field.subarray(0, end));
}

export function encodeConnectionResponse(r: ConnectionResponse): Uint8Array {
  const b = new Uint8Array(CONNECTION_RESPONSE_SIZE);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, QB_IPC_MSG_AUTHENTICATE, true);
  dv.setInt32(8, CONNECTION_RESPONSE_SIZE, true);
  dv.setInt32(16, r.error, true);
  if (r.error === 0) {
    dv.setUint32(REPLY_OFF.connectionType, r.connectionType, true);
    dv.setUint32(REPLY_OFF.maxMsgSize, r.maxMsgSize, true);
    dv.setBigUint64(REPLY_OFF.connection, r.connection, true);
    putCString(b, REPLY_OFF.request, r.request);
    putCString(b, REPLY_OFF.response, r.response);
    putCString(b, REPLY_OFF.event, r.event);
  }
  return b;
}

export function decodeConnectionResponse(b: Uint8Array): ConnectionResponse {
  if (b.byteLength < CONNECTION_RESPONSE_SIZE) throw new RangeError(`setup reply of ${b.byteLength} bytes, expected ${CONNECTION_RESPONSE_SIZE}`);
  const dv = new DataView(b.buffer, b.byteOffset, CONNECTION_RESPONSE_SIZE);
  return {
    error: dv.getInt32(16, true),
    connectionType: dv.getUint32(REPLY_OFF.connectionType, true),
    maxMsgSize: dv.getUint32(REPLY_OFF.maxMsgSize, true),
    connection: dv.getBigUint64(REPLY_OFF.connection, true),
    request: getCString(b, REPLY_OFF.request),
    response: getCString(b, REPLY_OFF.response),
    event: getCString(b, REPLY_OFF.event),
  };
}

/** corosync's request header: id @0, size @8 (whole message). */
export interface RequestHeader {
  id: number;
  size: number;
}

/** Reads a request header; null when fewer than 16 bytes. */
export function readRequestHeader(b: Uint8Array): RequestHeader | null {
  if (b.byteLength < REQUEST_HEADER_SIZE) return null;
  const dv = new DataView(b.buffer, b.byteOffset, REQUEST_HEADER_SIZE);
  return { id: dv.getInt32(0, true), size: dv.getInt32(8, true) };
}

/** Writes a request header into the first 16 bytes of `b` (padding zeroed). */
export function writeRequestHeader(b: Uint8Array, id: number, size: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, REQUEST_HEADER_SIZE);
  b.fill(0, 0, REQUEST_HEADER_SIZE);
  dv.setInt32(0, id, true);
  dv.setInt32(8, size, true);
}

/** corosync's response/event header: id @0, size @8, error @16 (a cs_error_t). */
export interface ResponseHeader {
  id: number;
  size: number;
  error: number;
}

export function readResponseHeader(b: Uint8Array): ResponseHeader | null {
  if (b.byteLength < RESPONSE_HEADER_SIZE) return null;
  const dv = new DataView(b.buffer, b.byteOffset, RESPONSE_HEADER_SIZE);
  return { id: dv.getInt32(0, true), size: dv.getInt32(8, true), error: dv.getInt32(16, true) };
}

/** Writes a response header into the first 24 bytes of `b` (padding zeroed). */
export function writeResponseHeader(b: Uint8Array, id: number, size: number, error: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, RESPONSE_HEADER_SIZE);
  b.fill(0, 0, RESPONSE_HEADER_SIZE);
  dv.setInt32(0, id, true);
  dv.setInt32(8, size, true);
  dv.setInt32(16, error, true);
}

/** A header-only response (24 bytes), e.g. `{id 0, size 24, CS_ERR_INVALID_PARAM}`. */
export function headerOnlyResponse(id: number, error: number): Uint8Array {
  const b = new Uint8Array(RESPONSE_HEADER_SIZE);
  writeResponseHeader(b, id, RESPONSE_HEADER_SIZE, error);
  return b;
}

/** `cs_error_t` values the transport itself uses. */
export const CS_OK = 1;
export const CS_ERR_TRY_AGAIN = 6;
export const CS_ERR_INVALID_PARAM = 7;
export const CS_ERR_LIBRARY = 2;
