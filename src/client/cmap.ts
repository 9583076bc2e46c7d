/**
 * The cmap client library: libcmap 3.1.7's calls over our libqb IPC client, usable against
 * our daemon and against a real C corosync (libqb-ipc-spec.md §2.2).
 *
 *   const cmap = await CmapClient.connect();                 // { map: "stats" } for the stats map
 *   const v = await cmap.get("totem.cluster_name");           // { type: CmapType.STRING, value: "demo" }
 *   await cmap.set("uidgid.gid.1001", { type: CmapType.UINT8, value: 1 });
 *   for await (const { key, value } of cmap.iterate("nodelist.")) ...
 *   const t = await cmap.track("totem.", { prefix: true });   // t.on("change", ...) or for await
 *   await cmap.close();
 *
 * Contracts: every failure is a `CorosyncError` whose `code` is what libcmap would return
 * (`NOT_EXIST`, `ACCESS`, `INVALID_PARAM`, `TRY_AGAIN`, `LIBRARY` when the daemon is not
 * there...; transport errors keep the `IpcError` as `cause`). Calls of one client are
 * serialised in call order (one request at a time, as libqb clients do). Key names are
 * checked here as libcmap does (`NAME_TOO_LONG` from 256 UTF-8 bytes on). Values read back
 * are decoded loosely (a C corosync may hold NaN floats or non-UTF-8 strings).
 */
import { EventEmitter } from "node:events";
import { IpcClientConnection, type IpcConnectOptions } from "./ipc/connection.js";
import { IpcError } from "./ipc/errors.js";
import { CorosyncError, type CorosyncErrorCode } from "./errors.js";
import { CmapType, type CmapEntry, type CmapValue } from "../core/cmap/types.js";
import { CmapError } from "../core/cmap/errors.js";
import { normalizeValue } from "../core/cmap/values.js";
import { DecodeError } from "../wire/errors.js";
import { decodeCmapValueLoose, encodeCmapValue } from "../wire/cmap/value.js";
import {
  CMAP_MAP_DEFAULT,
  CMAP_MAP_STATS,
  CmapReqId,
  decodeCmapResponseHeader,
  decodeGetResponse,
  decodeHandleResponse,
  decodeIterNextResponse,
  decodeNotifyEvent,
  encodeCmapRequest,
  keyNameBytes,
  MAR_NAME_VALUE_SIZE,
  type CmapRequest,
} from "../wire/cmap/ipc.js";

export { CmapType, type CmapEntry, type CmapValue } from "../core/cmap/types.js";

/** Which map a connection works on: the configuration map or the stats map. */
export type CmapMapName = "icmap" | "default" | "stats";

export interface CmapConnectOptions extends IpcConnectOptions {
  /** Map to use (libcmap's `cmap_initialize_map`); default the configuration map. */
  map?: CmapMapName;
  /** Give up a call after this long (default 60 s; the connection is closed then). */
  requestTimeoutMs?: number;
}

/** A key's type and value length as iteration reports them. */
export interface CmapKeyInfo {
  key: string;
  type: CmapType;
  /** `value_len`: fixed width, string bytes + NUL, binary length. */
  length: number;
}

export type CmapChangeKind = "add" | "modify" | "delete";

/** One change a tracker reports. */
export interface CmapChange {
  kind: CmapChangeKind;
  key: string;
  /** Set for add and modify. */
  newValue?: CmapValue;
  /** Set for modify and delete. */
  oldValue?: CmapValue;
}

export interface CmapTrackOptions {
  /** Track every key starting with the given string. */
  prefix?: boolean;
  /** Which changes (default all three). */
  events?: readonly CmapChangeKind[];
}

const EVENT_BITS: Readonly<Record<CmapChangeKind, number>> = { delete: 1, modify: 2, add: 4 };
const TRACK_PREFIX = 8;
const CS_OK = 1;
const CS_ERR_NO_SECTIONS = 27;
/** Changes a tracker buffers for a consumer that is not reading. */
const TRACKER_QUEUE_MAX = 65536;

/** libqb's errno → cs_error_t (corosync's `qb_to_cs_error`). */
const ERRNO_CODES: Readonly<Record<string, CorosyncErrorCode>> = {
  EBADF: "BAD_HANDLE",
  ENOMEM: "NO_MEMORY",
  ENOBUFS: "TRY_AGAIN",
  ETIMEDOUT: "TRY_AGAIN",
  EAGAIN: "TRY_AGAIN",
  TRY_AGAIN: "TRY_AGAIN",
  EINVAL: "INVALID_PARAM",
  EBUSY: "BUSY",
  EACCES: "ACCESS",
  EEXIST: "EXIST",
  ENOSPC: "NO_SPACE",
  EINTR: "INTERRUPT",
  ENOENT: "NOT_EXIST",
  ENOSYS: "NOT_SUPPORTED",
  ENOTSUP: "NOT_SUPPORTED",
  EMSGSIZE: "TOO_BIG",
  TIMEOUT: "TIMEOUT",
};

/** A client-visible error for whatever went wrong below. */
function toCorosyncError(e: unknown, what: string): CorosyncError {
  if (e instanceof CorosyncError) return e;
  if (e instanceof IpcError) return new CorosyncError(ERRNO_CODES[e.code] ?? "LIBRARY", `${what}: ${e.message}`, { cause: e });
  if (e instanceof CmapError) return new CorosyncError(e.code, `${what}: ${e.message}`, { cause: e });
  if (e instanceof DecodeError) return new CorosyncError("MESSAGE_ERROR", `${what}: malformed response (${e.code} at ${e.field})`, { cause: e });
  return new CorosyncError("LIBRARY", `${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

function checkKey(key: string): void {
  if (typeof key !== "string") throw new CorosyncError("INVALID_PARAM", "key name must be a string");
  if (keyNameBytes(key) >= MAR_NAME_VALUE_SIZE) throw new CorosyncError("NAME_TOO_LONG", `key name of ${keyNameBytes(key)} bytes is too long`);
}

const mar = (text: string) => ({ length: keyNameBytes(text), text });

export class CmapClient {
  private readonly trackers = new Map<bigint, CmapTracker>();
  private nextInst = 1n;

  private constructor(
    private readonly conn: IpcClientConnection,
    private readonly timeoutMs: number,
  ) {
    conn.onEvent((b) => this.onEvent(b));
    conn.on("close", () => {
      for (const t of this.trackers.values()) t.ended(new CorosyncError("LIBRARY", "cmap connection closed"));
      this.trackers.clear();
    });
  }

  /** Connects to cmap (and selects the map when one is given). */
  static async connect(options: CmapConnectOptions = {}): Promise<CmapClient> {
    let conn: IpcClientConnection;
    try {
      conn = await IpcClientConnection.connect("cmap", options);
    } catch (e) {
      throw toCorosyncError(e, "cmap connect");
    }
    const client = new CmapClient(conn, options.requestTimeoutMs ?? 60_000);
    if (options.map !== undefined) {
      try {
        await client.call({ id: CmapReqId.SET_CURRENT_MAP, map: options.map === "stats" ? CMAP_MAP_STATS : CMAP_MAP_DEFAULT }, "select map");
      } catch (e) {
        await conn.close();
        throw e;
      }
    }
    return client;
  }

  /** The daemon's pid/uid/gid as the kernel reported them. */
  get server(): { pid: number; uid: number; gid: number } {
    return this.conn.serverCred;
  }

  /** Sends one request; resolves with the response when its error is OK (or one of `accept`). */
  private async call(req: CmapRequest, what: string, accept: readonly number[] = []): Promise<Uint8Array> {
    let res: Uint8Array;
    try {
      res = await this.conn.request(encodeCmapRequest(req), { timeoutMs: this.timeoutMs });
    } catch (e) {
      throw toCorosyncError(e, what);
    }
    let error: number;
    try {
      error = decodeCmapResponseHeader(res).error;
    } catch (e) {
      throw toCorosyncError(e, what);
    }
    if (error !== CS_OK && !accept.includes(error)) throw CorosyncError.fromCsError(error, `${what} failed`);
    return res;
  }

  /** Type and length of `key` (GET with no buffer). */
  async info(key: string): Promise<{ type: CmapType; length: number }> {
    checkKey(key);
    const r = decodeGetResponse(await this.call({ id: CmapReqId.GET, key: mar(key), valueLen: 0n }, `get ${key}`));
    return { type: r.type as CmapType, length: r.valueLen };
  }

  /** The value of `key`; `NOT_EXIST` when there is none. */
  async get(key: string): Promise<CmapValue> {
    const { length } = await this.info(key);
    const res = await this.call({ id: CmapReqId.GET, key: mar(key), valueLen: BigInt(length) }, `get ${key}`);
    try {
      const r = decodeGetResponse(res);
      return decodeCmapValueLoose(key, r.type, r.value.subarray(0, r.valueLen));
    } catch (e) {
      throw toCorosyncError(e, `get ${key}`);
    }
  }

  /** Sets `key` (added when new). The value is checked first (`INVALID_PARAM`), as the daemon would. */
  async set(key: string, value: CmapValue): Promise<void> {
    checkKey(key);
    let bytes: Uint8Array;
    try {
      bytes = encodeCmapValue(normalizeValue(key, value));
    } catch (e) {
      throw toCorosyncError(e, `set ${key}`);
    }
    await this.call({ id: CmapReqId.SET, key: mar(key), valueLen: BigInt(bytes.byteLength), type: value.type, value: bytes }, `set ${key}`);
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.call({ id: CmapReqId.DELETE, key: mar(key) }, `delete ${key}`);
  }

  /** Adds `step` (an int32) to an integer key, wrapping at its width. */
  async adjust(key: string, step: number): Promise<void> {
    checkKey(key);
    if (!Number.isInteger(step) || step < -0x80000000 || step > 0x7fffffff) throw new CorosyncError("INVALID_PARAM", `step ${step} is not an int32`);
    await this.call({ id: CmapReqId.ADJUST_INT, key: mar(key), step }, `adjust ${key}`);
  }

  inc(key: string): Promise<void> {
    return this.adjust(key, 1);
  }

  dec(key: string): Promise<void> {
    return this.adjust(key, -1);
  }

  /**
   * Keys under `prefix` ("" = all) with type and length, in key order (ITER_INIT / NEXT /
   * FINALIZE; the iterator is finalized however the loop ends).
   */
  async *keys(prefix = ""): AsyncGenerator<CmapKeyInfo, void, undefined> {
    if (prefix !== "") checkKey(prefix);
    const init = decodeHandleResponse(await this.call({ id: CmapReqId.ITER_INIT, prefix: mar(prefix) }, `iterate ${prefix}`));
    try {
      for (;;) {
        const res = await this.call({ id: CmapReqId.ITER_NEXT, iterHandle: init.handle }, `iterate ${prefix}`, [CS_ERR_NO_SECTIONS]);
        const n = decodeIterNextResponse(res);
        if (n.error === CS_ERR_NO_SECTIONS) return;
        yield { key: n.key, type: n.type as CmapType, length: n.valueLen };
      }
    } finally {
      if (!this.conn.isClosed) await this.call({ id: CmapReqId.ITER_FINALIZE, iterHandle: init.handle }, "iter finalize").catch(() => {});
    }
  }

  /** Keys and values under `prefix`; a key deleted between listing and reading is skipped. */
  async *iterate(prefix = ""): AsyncGenerator<CmapEntry, void, undefined> {
    for await (const { key } of this.keys(prefix)) {
      try {
        yield { key, value: await this.get(key) };
      } catch (e) {
        if (e instanceof CorosyncError && e.code === "NOT_EXIST") continue;
        throw e;
      }
    }
  }

  /** Starts tracking `key` (or every key under it with `prefix: true`). */
  async track(key: string, options: CmapTrackOptions = {}): Promise<CmapTracker> {
    if (key !== "") checkKey(key);
    const kinds = options.events ?? ["add", "modify", "delete"];
    const trackType = kinds.reduce((b, k) => b | EVENT_BITS[k], 0) | (options.prefix ? TRACK_PREFIX : 0);
    const inst = this.nextInst++;
    const tracker: CmapTracker = new CmapTracker(key, (): Promise<void> => this.untrack(inst, tracker));
    this.trackers.set(inst, tracker);
    try {
      const res = await this.call({ id: CmapReqId.TRACK_ADD, key: mar(key), trackType, trackInstHandle: inst }, `track ${key}`);
      tracker.handle = decodeHandleResponse(res).handle;
    } catch (e) {
      this.trackers.delete(inst);
      throw e;
    }
    return tracker;
  }

  private async untrack(inst: bigint, tracker: CmapTracker): Promise<void> {
    if (!this.trackers.delete(inst) || this.conn.isClosed || tracker.handle === undefined) return;
    await this.call({ id: CmapReqId.TRACK_DELETE, trackHandle: tracker.handle }, "track delete");
  }

  private onEvent(bytes: Uint8Array): void {
    let ev;
    try {
      ev = decodeNotifyEvent(bytes);
    } catch {
      return; // not ours to understand; libcmap fails the dispatch, we keep the connection
    }
    const tracker = this.trackers.get(ev.trackInstHandle);
    if (tracker === undefined) return; // deleted meanwhile (libcmap ignores it too)
    const kind: CmapChangeKind = ev.event === 4 ? "add" : ev.event === 2 ? "modify" : "delete";
    const change: CmapChange = { kind, key: ev.key };
    try {
      if (ev.newType !== 0) change.newValue = decodeCmapValueLoose(ev.key, ev.newType, ev.newValue);
      if (ev.oldType !== 0) change.oldValue = decodeCmapValueLoose(ev.key, ev.oldType, ev.oldValue);
    } catch {
      // A value we cannot type: report the change without it.
    }
    tracker.deliver(change);
  }

  /** Closes the connection; trackers end. Idempotent. */
  async close(): Promise<void> {
    await this.conn.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * A live tracker: `'change'` events (CmapChange) and an async iterator over the same
 * changes; `'end'` when it stops (closed, or the connection went away: the iterator then
 * throws that error). Changes are buffered for the iterator up to 65536, then it fails with
 * `QUEUE_FULL`.
 */
export class CmapTracker extends EventEmitter implements AsyncIterable<CmapChange> {
  /** The daemon's handle, once TRACK_ADD answered. @internal */
  handle: bigint | undefined;
  private readonly queue: CmapChange[] = [];
  private waiters: Array<() => void> = [];
  private done = false;
  private failure: CorosyncError | undefined;

  /** @internal made by `CmapClient.track`. */
  constructor(
    readonly key: string,
    private readonly remove: () => Promise<void>,
  ) {
    super();
  }

  /** @internal */
  deliver(change: CmapChange): void {
    if (this.done) return;
    this.emit("change", change);
    if (this.queue.length >= TRACKER_QUEUE_MAX) {
      this.ended(new CorosyncError("QUEUE_FULL", `tracker ${this.key}: ${TRACKER_QUEUE_MAX} changes not read`));
      return;
    }
    this.queue.push(change);
    this.wake();
  }

  /** @internal */
  ended(error?: CorosyncError): void {
    if (this.done) return;
    this.done = true;
    this.failure = error;
    this.emit("end", error);
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Stops tracking (TRACK_DELETE). Idempotent. */
  async close(): Promise<void> {
    if (this.done) return;
    this.ended();
    await this.remove().catch(() => {});
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<CmapChange, void, undefined> {
    try {
      for (;;) {
        const next = this.queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (this.done) {
          if (this.failure !== undefined) throw this.failure;
          return;
        }
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    } finally {
      if (!this.done) await this.close();
    }
  }
}

export { CorosyncError } from "./errors.js";
