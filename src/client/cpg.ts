/**
 * The CPG client library: libcpg's protocol (libqb-ipc-spec.md §2.6) in TypeScript, for our
 * daemon and for a real C corosync 3.x alike.
 *
 * ```ts
 * await using cpg = await Cpg.connect();
 * await cpg.join("demo");
 * cpg.on("message", (m) => console.log(m.nodeId, m.pid, m.data));
 * await cpg.mcast("hello");
 * ```
 *
 * Contracts:
 * - One `Cpg` is one libcpg handle: one IPC connection, at most one joined group.
 * - Calls of one `Cpg` run in call order; `mcast` resolves once the daemon took the message.
 * - TRY_AGAIN (sync in progress, totem queue full, the daemon's flow control) is retried
 *   with exponential backoff (1 ms … 100 ms) for up to `retryTimeoutMs` (default 30 s), then
 *   surfaces as `CorosyncError("TRY_AGAIN")`; pass `retryTimeoutMs: 0` to see it at once.
 * - Messages larger than the connection allows (1 MiB − 1 KiB) go as PARTIAL pieces, as
 *   libcpg sends them; incoming pieces are reassembled per sender. A piece sequence cut by a
 *   confchg (CS_ERR_INTERRUPT) is sent again from the start, up to 3 times.
 * - Events arrive in the daemon's order: as 'message', 'confchg' and 'totemConfchg' events,
 *   and through `events()` — an async iterator with a high-water mark: when that many events
 *   wait unread, the library stops reading the connection's event ring (the daemon queues,
 *   and drops a client that never reads again) until the consumer catches up.
 * - When the daemon goes away: 'error' (if listened to) and 'close' are emitted, pending and
 *   later calls reject with `CorosyncError("LIBRARY")`, iterators throw it. Never a silent
 *   stall.
 */
import { EventEmitter } from "node:events";
import { CPG_LIMITS, PartialType, groupNameBytes, groupNameFromBytes, type CpgGroupName } from "../core/cpg/messages.js";
import { CsError } from "../core/cs-error.js";
import { IpcClientConnection } from "./ipc/connection.js";
import type { IpcError } from "./ipc/errors.js";
import { CorosyncError } from "./errors.js";
import { readResponseHeader } from "../runtime/ipc/protocol.js";
import {
  CpgGuarantee,
  CpgReq,
  decodeCpgEvent,
  decodeIterNextResponse,
  decodeMembershipResponse,
  encodeBareRequest,
  encodeIterHandleRequest,
  encodeIterInitRequest,
  encodeJoinRequest,
  encodeLeaveRequest,
  encodeMcastRequest,
  encodeMembershipRequest,
  encodePartialRequest,
  type CpgIpcEvent,
} from "../wire/ipc/cpg.js";

/** A process in a group (`cpg_address`). */
export interface CpgMember {
  nodeId: number;
  pid: number;
  /** Why it joined or left (CpgReason: 1 JOIN, 2 LEAVE, 3 NODEDOWN, 4 NODEUP, 5 PROCDOWN); 0 in member lists. */
  reason: number;
}

/** A group name as text (UTF-8) or as its exact bytes (e.g. testcpg's "GROUP\0"). */
export type CpgGroup = string | Uint8Array;

export interface CpgMessageEvent {
  type: "message";
  /** The group name decoded as UTF-8; `groupBytes` is exact. */
  group: string;
  groupBytes: Uint8Array;
  nodeId: number;
  pid: number;
  data: Uint8Array;
}

export interface CpgConfchgEvent {
  type: "confchg";
  group: string;
  groupBytes: Uint8Array;
  members: CpgMember[];
  left: CpgMember[];
  joined: CpgMember[];
}

export interface CpgTotemConfchgEvent {
  type: "totemConfchg";
  ringId: { nodeId: number; seq: bigint };
  members: number[];
}

export type CpgEvent = CpgMessageEvent | CpgConfchgEvent | CpgTotemConfchgEvent;

export interface CpgConnectOptions {
  /** IPC name prefix (default `$COROSYNC_IPC_PREFIX`; see docs). */
  prefix?: string;
  /** Abort connecting. */
  signal?: AbortSignal;
  /** Give up connecting after this long (default 10 s). */
  connectTimeoutMs?: number;
  /** How long TRY_AGAIN is retried before it surfaces (default 30 000 ms; 0: never retried). */
  retryTimeoutMs?: number;
  /** Ask for the totem membership once right after joining (`CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF`). */
  initialTotemConf?: boolean;
  /** The pid the join announces (default `process.pid`, as libcpg's getpid()). */
  pid?: number;
}

export interface CpgMcastOptions {
  /** 'agreed' (default) or 'safe' (delivered once every member has it). */
  guarantee?: "agreed" | "safe";
}

export interface CpgEventsOptions {
  /** Unread events at which reading pauses (default 1024). */
  highWaterMark?: number;
  /** Ends the iteration (it throws the signal's reason). */
  signal?: AbortSignal;
}

/** One group and its members, from `groups()`. */
export interface CpgGroupInfo {
  group: string;
  groupBytes: Uint8Array;
  members: Array<{ nodeId: number; pid: number }>;
}

const td = new TextDecoder();
const te = new TextEncoder();

function toName(g: CpgGroup): CpgGroupName {
  const bytes = typeof g === "string" ? te.encode(g) : g;
  if (bytes.byteLength > CPG_LIMITS.nameBytesMax) throw new CorosyncError("NAME_TOO_LONG", `group name of ${bytes.byteLength} bytes (max ${CPG_LIMITS.nameBytesMax})`);
  return groupNameFromBytes(bytes);
}

function nameText(n: CpgGroupName): { group: string; groupBytes: Uint8Array } {
  const groupBytes = groupNameBytes(n);
  return { group: td.decode(groupBytes), groupBytes };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Events waiting for an `events()` consumer. */
class EventQueue {
  readonly items: CpgEvent[] = [];
  private wake: (() => void) | undefined;
  failure: unknown;
  ended = false;
  push(e: CpgEvent): void {
    this.items.push(e);
    this.notify();
  }
  fail(err: unknown): void {
    this.failure ??= err;
    this.notify();
  }
  notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  wait(): Promise<void> {
    return new Promise((r) => (this.wake = r));
  }
}

/** The typed events of a `Cpg` (an EventEmitter). */
export interface CpgEventMap {
  message: [CpgMessageEvent];
  confchg: [CpgConfchgEvent];
  totemConfchg: [CpgTotemConfchgEvent];
  /** The daemon went away (only emitted when listened to). */
  error: [CorosyncError];
  /** The handle closed: `undefined` after `close()`, the error when the daemon went away. */
  close: [CorosyncError | undefined];
}

export interface Cpg {
  on<K extends keyof CpgEventMap>(event: K, listener: (...args: CpgEventMap[K]) => void): this;
  once<K extends keyof CpgEventMap>(event: K, listener: (...args: CpgEventMap[K]) => void): this;
  off<K extends keyof CpgEventMap>(event: K, listener: (...args: CpgEventMap[K]) => void): this;
}

/** A libcpg handle. See the file comment for the contracts. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Cpg extends EventEmitter {
  private joined: CpgGroupName | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly assemblies = new Map<string, Uint8Array[]>();
  private readonly queues = new Set<{ q: EventQueue; hwm: number }>();
  private closedReason: CorosyncError | undefined;
  private closed = false;

  private constructor(
    private readonly conn: IpcClientConnection,
    private readonly opts: CpgConnectOptions,
  ) {
    super();
    conn.on("event", (b: Uint8Array) => this.onEvent(b));
    conn.on("close", (reason: IpcError | undefined) => this.onClose(reason));
  }

  /** Connects to the CPG service (`cpg_model_initialize`). Rejects with a CorosyncError (ACCESS, LIBRARY...). */
  static async connect(opts: CpgConnectOptions = {}): Promise<Cpg> {
    opts.signal?.throwIfAborted();
    let conn: IpcClientConnection;
    try {
      const connecting = IpcClientConnection.connect("cpg", { prefix: opts.prefix, connectTimeoutMs: opts.connectTimeoutMs });
      conn = opts.signal === undefined ? await connecting : await abortable(connecting, opts.signal, (c) => void c.close());
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      throw CorosyncError.fromIpc(e, "cpg connect");
    }
    return new Cpg(conn, opts);
  }

  /** The group joined (or being joined), as text. */
  get group(): string | undefined {
    return this.joined === undefined ? undefined : nameText(this.joined).group;
  }

  /** The server's credentials (SO_PEERCRED). */
  get serverCred(): { pid: number; uid: number; gid: number } {
    return this.conn.serverCred;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ------------------------------------------------------------------ calls

  /** `cpg_join`: EXIST if already joined; BUSY is retried like libcpg does. */
  join(group: CpgGroup): Promise<void> {
    const name = toName(group);
    return this.serial(async () => {
      const flags = this.opts.initialTotemConf ? 1 : 0;
      await this.callRetrying("cpg join", () => encodeJoinRequest(name, this.pid, flags), ["BUSY"]);
      this.joined = name;
    });
  }

  /** `cpg_leave` of the joined group (NOT_EXIST if none). Resolves when the daemon accepted it. */
  leave(): Promise<void> {
    return this.serial(async () => {
      if (this.joined === undefined) throw new CorosyncError("NOT_EXIST", "cpg leave: not joined");
      const name = this.joined;
      await this.callRetrying("cpg leave", () => encodeLeaveRequest(name, this.pid), ["BUSY"]);
      this.joined = undefined;
    });
  }

  /** `cpg_mcast_joined`: queue a message to the joined group. */
  mcast(data: Uint8Array | string, opts: CpgMcastOptions = {}): Promise<void> {
    const bytes = typeof data === "string" ? te.encode(data) : data;
    const guarantee = opts.guarantee === "safe" ? CpgGuarantee.SAFE : CpgGuarantee.AGREED;
    return this.serial(async () => {
      const max = this.conn.maxMsgSize - 1024;
      if (bytes.byteLength > max) return this.sendPieces(bytes, guarantee, max);
      await this.retrying("cpg mcast", () => this.conn.send(encodeMcastRequest(guarantee, bytes)));
    });
  }

  /** `cpg_membership_get` of `group` (default: the joined one). */
  membership(group?: CpgGroup): Promise<CpgMember[]> {
    return this.serial(async () => {
      const name = group === undefined ? this.joined : toName(group);
      if (name === undefined) throw new CorosyncError("NOT_EXIST", "cpg membership: no group given and none joined");
      const res = await this.call("cpg membership", encodeMembershipRequest(name));
      const list = decodeMembershipResponse(res);
      if (list === undefined) throw new CorosyncError("MESSAGE_ERROR", "cpg membership: malformed response");
      return list;
    });
  }

  /** `cpg_local_get`: this node's id. */
  localNodeId(): Promise<number> {
    return this.serial(async () => {
      const res = await this.call("cpg local_get", encodeBareRequest(CpgReq.LOCAL_GET));
      return new DataView(res.buffer, res.byteOffset, res.byteLength).getUint32(24, true);
    });
  }

  /**
   * Every group and its members (`cpg_iteration_*` with CPG_ITERATION_ALL), in the daemon's
   * iteration order (what corosync-cpgtool prints).
   */
  groups(): Promise<CpgGroupInfo[]> {
    return this.serial(async () => {
      const out: CpgGroupInfo[] = [];
      for (const item of await this.iterateLocked(3)) {
        const last = out[out.length - 1];
        const t = nameText(item.group);
        if (last !== undefined && last.group === t.group && sameBytes(last.groupBytes, t.groupBytes)) last.members.push({ nodeId: item.nodeId, pid: item.pid });
        else out.push({ ...t, members: [{ nodeId: item.nodeId, pid: item.pid }] });
      }
      return out;
    });
  }

  /** Raw iteration (`type` 1 NAME_ONLY, 2 ONE_GROUP, 3 ALL), as libcpg's iteration calls. */
  iterate(type: 1 | 2 | 3, group?: CpgGroup): Promise<Array<{ group: string; groupBytes: Uint8Array; nodeId: number; pid: number }>> {
    const name = group === undefined ? undefined : toName(group);
    return this.serial(async () => (await this.iterateLocked(type, name)).map((i) => ({ ...nameText(i.group), nodeId: i.nodeId, pid: i.pid })));
  }

  /** Events in order, with back-pressure (see the file comment). */
  events(opts: CpgEventsOptions = {}): AsyncIterableIterator<CpgEvent> {
    const q = new EventQueue();
    const entry = { q, hwm: Math.max(1, opts.highWaterMark ?? 1024) };
    this.queues.add(entry);
    if (this.closed) q.fail(this.closedReason ?? new CorosyncError("BAD_HANDLE", "cpg: handle closed"));
    const signal = opts.signal;
    const onAbort = (): void => q.fail(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const finish = (): void => {
      this.queues.delete(entry);
      signal?.removeEventListener("abort", onAbort);
      this.updatePause();
    };
    const it: AsyncIterableIterator<CpgEvent> = {
      next: async () => {
        for (;;) {
          if (signal?.aborted) {
            finish();
            throw signal.reason;
          }
          const e = q.items.shift();
          if (e !== undefined) {
            this.updatePause();
            return { value: e, done: false };
          }
          if (q.failure !== undefined) {
            finish();
            if (q.ended) return { value: undefined, done: true };
            throw q.failure;
          }
          await q.wait();
        }
      },
      return: async () => {
        finish();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }

  /** `cpg_finalize` then disconnect (idempotent). Joined processes leave with PROCDOWN... unless left first. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.serial(() => this.call("cpg finalize", encodeBareRequest(CpgReq.FINALIZE), { timeoutMs: 5000 }));
    } catch {
      // closing anyway
    }
    this.closed = true;
    for (const { q } of this.queues) {
      q.ended = true;
      q.fail(new CorosyncError("BAD_HANDLE", "cpg: handle closed"));
    }
    await this.conn.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ------------------------------------------------------------------ internals

  private get pid(): number {
    return this.opts.pid ?? process.pid;
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.closedReason !== undefined) throw this.closedReason;
      return op();
    };
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** A request; a non-OK status rejects with that code. */
  private async call(what: string, msg: Uint8Array | readonly Uint8Array[], ro?: { timeoutMs?: number }): Promise<Uint8Array> {
    let res: Uint8Array;
    try {
      res = await this.conn.request(msg, ro);
    } catch (e) {
      throw this.closedReason ?? CorosyncError.fromIpc(e, what);
    }
    const h = readResponseHeader(res);
    if (h === null) throw new CorosyncError("MESSAGE_ERROR", `${what}: short response`);
    if (h.error !== CsError.OK) throw CorosyncError.fromStatus(h.error, what);
    return res;
  }

  /** `call`, retrying TRY_AGAIN (and the codes in `also`) with backoff. */
  private callRetrying(what: string, build: () => Uint8Array | readonly Uint8Array[], also: string[] = []): Promise<Uint8Array> {
    return this.retrying(what, () => this.call(what, build()), also);
  }

  private async retrying<T>(what: string, op: () => Promise<T>, also: string[] = []): Promise<T> {
    const deadline = Date.now() + (this.opts.retryTimeoutMs ?? 30_000);
    for (let delay = 1; ; delay = Math.min(100, delay * 2)) {
      try {
        return await op();
      } catch (e) {
        const err = e instanceof CorosyncError ? e : CorosyncError.fromIpc(e, what);
        const again = err.code === "TRY_AGAIN" || also.includes(err.code);
        if (!again || Date.now() + delay > deadline || this.closedReason !== undefined) throw this.closedReason ?? err;
        await sleep(delay);
      }
    }
  }

  private async sendPieces(bytes: Uint8Array, guarantee: number, max: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        for (let off = 0; off < bytes.byteLength; off += max) {
          const end = Math.min(bytes.byteLength, off + max);
          const type = off === 0 ? PartialType.FIRST : end === bytes.byteLength ? PartialType.LAST : PartialType.CONTINUED;
          await this.callRetrying("cpg mcast (partial)", () => encodePartialRequest(guarantee, bytes.byteLength, type, bytes.subarray(off, end)));
        }
        return;
      } catch (e) {
        if (!(e instanceof CorosyncError && e.code === "INTERRUPT" && attempt < 3)) throw e;
      }
    }
  }

  private async iterateLocked(type: number, group?: CpgGroupName): Promise<Array<{ group: CpgGroupName; nodeId: number; pid: number }>> {
    const init = await this.call("cpg iteration_initialize", encodeIterInitRequest(type, group));
    const handle = new DataView(init.buffer, init.byteOffset, init.byteLength).getBigUint64(24, true);
    const out: Array<{ group: CpgGroupName; nodeId: number; pid: number }> = [];
    try {
      for (;;) {
        let res: Uint8Array;
        try {
          res = await this.call("cpg iteration_next", encodeIterHandleRequest(CpgReq.ITERATIONNEXT, handle));
        } catch (e) {
          if (e instanceof CorosyncError && e.code === "NO_SECTIONS") break;
          throw e;
        }
        const item = decodeIterNextResponse(res);
        if (item === undefined) throw new CorosyncError("MESSAGE_ERROR", "cpg iteration_next: malformed response");
        out.push(item);
      }
    } finally {
      await this.call("cpg iteration_finalize", encodeIterHandleRequest(CpgReq.ITERATIONFINALIZE, handle)).catch(() => undefined);
    }
    return out;
  }

  private onEvent(b: Uint8Array): void {
    const ev = decodeCpgEvent(b);
    if (ev === undefined) return;
    const out = this.toEvent(ev);
    if (out === undefined) return;
    this.emit(out.type, out);
    for (const { q } of this.queues) q.push(out);
    this.updatePause();
  }

  private toEvent(ev: CpgIpcEvent): CpgEvent | undefined {
    switch (ev.type) {
      case "deliver":
        return { type: "message", ...nameText(ev.group), nodeId: ev.nodeId, pid: ev.pid, data: ev.data.slice() };
      case "partial":
        return this.assemble(ev);
      case "confchg":
        for (const l of ev.left) this.assemblies.delete(`${l.nodeId}/${l.pid}`);
        if (this.joined !== undefined && ev.group === this.joined && ev.left.some((l) => l.pid === this.pid && l.reason === 2)) this.joined = undefined;
        return { type: "confchg", ...nameText(ev.group), members: ev.members, left: ev.left, joined: ev.joined };
      case "totemConfchg":
        return { type: "totemConfchg", ringId: ev.ringId, members: ev.members };
    }
  }

  /** libcpg's reassembly: FIRST starts (and replaces) a sender's assembly, LAST completes it. */
  private assemble(ev: Extract<CpgIpcEvent, { type: "partial" }>): CpgMessageEvent | undefined {
    const key = `${ev.nodeId}/${ev.pid}`;
    if (ev.pieceType === PartialType.FIRST) this.assemblies.set(key, []);
    const parts = this.assemblies.get(key);
    if (parts === undefined) return undefined;
    parts.push(ev.data.slice());
    if (ev.pieceType !== PartialType.LAST) return undefined;
    this.assemblies.delete(key);
    const data = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let off = 0;
    for (const p of parts) {
      data.set(p, off);
      off += p.byteLength;
    }
    return { type: "message", ...nameText(ev.group), nodeId: ev.nodeId, pid: ev.pid, data };
  }

  /** Pause reading while any iterator holds `hwm` unread events; resume below it. */
  private updatePause(): void {
    const full = [...this.queues].some(({ q, hwm }) => q.items.length >= hwm);
    if (full) this.conn.pauseEvents();
    else this.conn.resumeEvents();
  }

  private onClose(reason: IpcError | undefined): void {
    if (reason === undefined) {
      this.closed = true;
      this.emit("close", undefined);
      return;
    }
    const err = CorosyncError.fromIpc(reason, "cpg: connection to the daemon lost");
    this.closedReason = err;
    this.closed = true;
    for (const { q } of this.queues) q.fail(err);
    if (this.listenerCount("error") > 0) this.emit("error", err);
    this.emit("close", err);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}

/** Races `p` with `signal`; a value that arrives after the abort goes to `dispose`. */
function abortable<T>(p: Promise<T>, signal: AbortSignal, dispose: (v: T) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) dispose(v);
        else resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
