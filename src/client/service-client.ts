/**
 * The common part of our quorum, votequorum and cfg client libraries: one libqb IPC
 * connection (client/ipc/connection.ts), requests whose response header error becomes a
 * `CorosyncError`, transport failures mapped as corosync's `qb_to_cs_error` maps errnos, and
 * events delivered both as typed listener callbacks and as async iterators.
 */
import { IpcClientConnection, type IpcConnectOptions } from "./ipc/connection.js";
import { IpcError } from "./ipc/errors.js";
import { CS_ERROR, CorosyncError, type CsErrorName } from "./errors.js";
import { responseHeader } from "../wire/ipc/common.js";

export interface ClientOptions {
  /** Socket-name prefix; default `$COROSYNC_IPC_PREFIX` (plain corosync names when unset). */
  prefix?: string;
  /** Give up connecting after this long (default 10 s). */
  connectTimeoutMs?: number;
  /** Fail a request with TIMEOUT after this long (default: wait, as corosync's libraries). */
  requestTimeoutMs?: number;
}

/** `qb_to_cs_error` for the errno names our IPC client reports. */
const ERRNO_TO_CS: Record<string, CsErrorName> = {
  EAGAIN: "TRY_AGAIN",
  TRY_AGAIN: "TRY_AGAIN",
  ENOBUFS: "TRY_AGAIN",
  ETIMEDOUT: "TRY_AGAIN",
  ENOMEM: "NO_MEMORY",
  EBADF: "BAD_HANDLE",
  EINVAL: "INVALID_PARAM",
  EBUSY: "BUSY",
  EACCES: "ACCESS",
  EEXIST: "EXIST",
  ENOSPC: "NO_SPACE",
  EINTR: "INTERRUPT",
  ENOENT: "NOT_EXIST",
  ENODEV: "NOT_EXIST",
  ENOSYS: "NOT_SUPPORTED",
  ENOTSUP: "NOT_SUPPORTED",
  EMSGSIZE: "TOO_BIG",
  TIMEOUT: "TIMEOUT",
};

/** Wraps any failure of the IPC layer into a CorosyncError (errors we made pass through). */
export function toCorosyncError(e: unknown, what: string): CorosyncError {
  if (e instanceof CorosyncError) return e;
  if (e instanceof IpcError) return new CorosyncError(ERRNO_TO_CS[e.code] ?? "LIBRARY", `${what}: ${e.message}`, { cause: e });
  return new CorosyncError("LIBRARY", `${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

/** A bounded queue behind an async iterator of events; ends when the client closes. */
export class EventStream<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private done = false;

  constructor(
    private readonly detach: () => void,
    private readonly max = 10_000,
  ) {}

  /** @internal */
  push(item: T): void {
    if (this.done) return;
    if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: item, done: false });
      return;
    }
    if (this.items.length >= this.max) this.items.shift();
    this.items.push(item);
  }

  /** @internal */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.detach();
    this.waiter?.({ value: undefined, done: true });
    this.waiter = undefined;
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

type Listener<E> = (event: E) => void;

/**
 * Base of the service clients. `E` maps event names to payload types; subclasses decode raw
 * events in `onRawEvent` and call `dispatch`.
 */
export abstract class ServiceClient<E extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof E, Set<Listener<never>>>();
  private readonly streams = new Set<EventStream<{ [K in keyof E]: { type: K; event: E[K] } }[keyof E]>>();
  private closedFlag = false;

  protected constructor(
    protected readonly conn: IpcClientConnection,
    private readonly requestTimeoutMs: number | undefined,
    private readonly serviceName: string,
  ) {
    conn.onEvent((raw) => this.onRawEvent(raw));
    conn.on("close", () => this.finish());
  }

  protected static async open(service: string, options: ClientOptions): Promise<IpcClientConnection> {
    const connect: IpcConnectOptions = {};
    if (options.prefix !== undefined) connect.prefix = options.prefix;
    if (options.connectTimeoutMs !== undefined) connect.connectTimeoutMs = options.connectTimeoutMs;
    try {
      return await IpcClientConnection.connect(service, connect);
    } catch (e) {
      throw toCorosyncError(e, `${service}: connect`);
    }
  }

  /** The server's credentials (corosync runs as root). */
  get serverCred(): { pid: number; uid: number; gid: number } {
    return this.conn.serverCred;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Send a request; resolves with the whole response once its header error is CS_OK,
   * rejects with a CorosyncError otherwise. `acceptErrors` lists errors the caller handles.
   */
  protected async call(req: Uint8Array, what: string, minBytes = 24, acceptErrors: readonly number[] = []): Promise<{ res: Uint8Array; error: number }> {
    let res: Uint8Array;
    try {
      res = await this.conn.request(req, this.requestTimeoutMs === undefined ? {} : { timeoutMs: this.requestTimeoutMs });
    } catch (e) {
      throw toCorosyncError(e, `${this.serviceName} ${what}`);
    }
    const h = responseHeader(res);
    if (h === undefined || res.byteLength < minBytes) throw new CorosyncError("LIBRARY", `${this.serviceName} ${what}: short response (${res.byteLength} bytes)`);
    if (h.error !== CS_ERROR.OK && !acceptErrors.includes(h.error)) throw new CorosyncError(h.error, `${this.serviceName} ${what}: CS_ERR_${new CorosyncError(h.error).code}`);
    return { res, error: h.error };
  }

  /** Decode one raw event and `dispatch` it. */
  protected abstract onRawEvent(raw: Uint8Array): void;

  protected dispatch<K extends keyof E>(type: K, event: E[K]): void {
    for (const l of this.listeners.get(type) ?? []) (l as Listener<E[K]>)(event);
    for (const s of this.streams) s.push({ type, event } as { [T in keyof E]: { type: T; event: E[T] } }[keyof E]);
  }

  /** Subscribe to one kind of event; returns the unsubscribe function. */
  on<K extends keyof E>(type: K, listener: Listener<E[K]>): () => void {
    let set = this.listeners.get(type);
    if (set === undefined) this.listeners.set(type, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set!.delete(listener as Listener<never>);
  }

  /** Every event from now on, in order, until the client closes (or the loop breaks). */
  events(): AsyncIterableIterator<{ [K in keyof E]: { type: K; event: E[K] } }[keyof E]> {
    const stream = new EventStream<{ [K in keyof E]: { type: K; event: E[K] } }[keyof E]>(() => this.streams.delete(stream));
    if (this.closedFlag) stream.end();
    else this.streams.add(stream);
    return stream;
  }

  /** Close the connection (idempotent); iterators end. */
  async close(): Promise<void> {
    await this.conn.close();
    this.finish();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private finish(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const s of [...this.streams]) s.end();
  }
}
