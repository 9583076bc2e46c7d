/**
 * A libqb IPC client connection (libqb-ipc-spec.md §1), the transport under our cmap, cpg,
 * quorum, votequorum and cfg client libraries. It speaks exactly what Debian's libqb 2.0.6
 * clients speak, so it works against our daemon and against a real C corosync 3.1.7:
 *
 *   connect   stream socket to `\0<name>` (or `\0<prefix>-<name>`, COROSYNC_IPC_PREFIX),
 *             24-byte setup request asking for 1 MiB, 12328-byte reply, map the three rings
 *   request   chunk into the request ring + semaphore post + one byte on the socket, then
 *             wait on the response ring's semaphore (short polls, then `semWaitAsync` in
 *             slices, so the event loop never blocks and a dead server is noticed)
 *   events    each byte from the server announces one chunk in the event ring
 *   close     drop our ring references, unmap, close the socket
 *
 * Contracts: requests and sends of one connection are serialised in call order (libqb clients
 * do one request at a time). A full request ring or the server's flow-control flag rejects the
 * call with code `TRY_AGAIN` (nothing was sent). When the server goes away every pending and
 * later call rejects with `ENOTCONN` and 'close' is emitted — never a silent stall. A request
 * that times out closes the connection (its late response would otherwise answer the next
 * request).
 */
import net from "node:net";
import { EventEmitter } from "node:events";
import { dirname } from "node:path";
import { rmSync } from "node:fs";
import { nativeAddon, type PeerCred } from "../../runtime/ipc/native.js";
import {
  CONNECTION_RESPONSE_SIZE,
  DEFAULT_MAX_MSG_SIZE,
  QB_IPC_SHM,
  decodeConnectionResponse,
  encodeConnectionRequest,
  errnoName,
  ipcSocketName,
} from "../../runtime/ipc/protocol.js";
import { HDR } from "../../runtime/ipc/ring-index.js";
import { RingFault, type ShmRing } from "../../runtime/ipc/ringbuffer.js";
import { openClientShm, pidAlive, type ConnectionRings } from "../../runtime/ipc/shm.js";
import { IpcError } from "./errors.js";

export interface IpcConnectOptions {
  /** Socket-name prefix; default `$COROSYNC_IPC_PREFIX`. */
  prefix?: string;
  /** Maximum message size to ask for (default 1 MiB, as corosync's libraries). */
  maxMsgSize?: number;
  /** Give up connecting after this long (default 10 s). */
  connectTimeoutMs?: number;
}

export interface IpcRequestOptions {
  /** Reject with `TIMEOUT` (and close the connection) after this long. Default: no limit. */
  timeoutMs?: number;
}

/** How long to poll the response semaphore on the event loop before waiting on a pool thread. */
const FAST_POLL_US = 300;
/** One `semWaitAsync` slice: the liveness re-check period while waiting for a response. */
const WAIT_SLICE_MS = 250;

/**
 * An open connection. Events: `'event'` (Uint8Array: one event message, header included),
 * `'close'` (reason: IpcError | undefined), `'error'` (IpcError; only emitted when listened to).
 */
export class IpcClientConnection extends EventEmitter {
  private closed = false;
  /** A request is waiting for its response (see `shutdown`). */
  private awaiting = false;
  /** The response the server wrote before it closed the connection, read at the close. */
  private rescued: Uint8Array | undefined;
  /** Events announced while paused (read when resumed). */
  private eventsPaused = false;
  private heldNotes = 0;
  private tail: Promise<unknown> = Promise.resolve();
  private signalClosed!: (v: false) => void;
  /** Resolves (false) when the connection closes; raced against response waits. */
  private readonly closedSignal = new Promise<false>((resolve) => (this.signalClosed = resolve));

  private constructor(
    private readonly socket: net.Socket,
    private readonly rings: ConnectionRings,
    private readonly names: { request: string; response: string; event: string },
    /** Abstract socket name connected to (without the NUL). */
    readonly socketName: string,
    /** Largest message either way, as granted by the server. */
    readonly maxMsgSize: number,
    /** The server's pid/uid/gid (SO_PEERCRED; what qb_ipcc_auth_get reports). */
    readonly serverCred: PeerCred,
  ) {
    super();
  }

  /**
   * Connects to `service` (`cmap`, `cpg`, ...). Rejects with an IpcError: `ECONNREFUSED` /
   * `ENOENT` when nobody listens, the server's errno when it refuses (`EACCES` unauthorised,
   * `EAGAIN` not ready, `EMFILE`...), `EPROTO` for a reply we cannot use, `TIMEOUT`.
   */
  static connect(service: string, options: IpcConnectOptions = {}): Promise<IpcClientConnection> {
    const socketName = ipcSocketName(service, options.prefix);
    const maxMsgSize = options.maxMsgSize ?? DEFAULT_MAX_MSG_SIZE;
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ path: `\0${socketName}` });
      let buf = new Uint8Array(0);
      let settled = false;
      const fail = (err: IpcError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new IpcError("TIMEOUT", `connect to @${socketName}: no reply`)), options.connectTimeoutMs ?? 10_000);
      socket.once("connect", () => socket.write(encodeConnectionRequest(maxMsgSize)));
      socket.on("error", (e: NodeJS.ErrnoException) => {
        const code = e.code ?? "ENOTCONN";
        fail(new IpcError(code, `connect to @${socketName}: ${e.message}`, undefined, { cause: e }));
      });
      socket.on("close", () => fail(new IpcError("ECONNREFUSED", `connect to @${socketName}: closed before the setup reply`)));
      const onData = (chunk: Buffer): void => {
        const joined = new Uint8Array(buf.byteLength + chunk.byteLength);
        joined.set(buf);
        joined.set(chunk, buf.byteLength);
        buf = joined;
        if (buf.byteLength < CONNECTION_RESPONSE_SIZE) return;
        socket.off("data", onData);
        const extra = buf.byteLength - CONNECTION_RESPONSE_SIZE;
        try {
          const conn = IpcClientConnection.fromReply(socket, socketName, buf);
          settled = true;
          clearTimeout(timer);
          socket.removeAllListeners("error");
          socket.removeAllListeners("close");
          conn.attach();
          resolve(conn);
          if (extra > 0) conn.onNotes(extra);
        } catch (e) {
          fail(e instanceof IpcError ? e : new IpcError("EPROTO", `connect to @${socketName}: ${(e as Error).message}`, undefined, { cause: e }));
        }
      };
      socket.on("data", onData);
    });
  }

  private static fromReply(socket: net.Socket, socketName: string, buf: Uint8Array): IpcClientConnection {
    const reply = decodeConnectionResponse(buf);
    if (reply.error !== 0) {
      const errno = -reply.error;
      throw new IpcError(errnoName(errno), `connect to @${socketName}: refused by the server (${errnoName(errno)})`, errno);
    }
    if (reply.connectionType !== QB_IPC_SHM) {
      throw new IpcError("EPROTO", `connect to @${socketName}: server offers transport ${reply.connectionType}; only shared memory (1) is supported`);
    }
    if (reply.maxMsgSize < 64 || reply.maxMsgSize > 64 * 1048576) {
      throw new IpcError("EPROTO", `connect to @${socketName}: implausible max message size ${reply.maxMsgSize}`);
    }
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
    const native = nativeAddon();
    const serverCred = native.getPeerCred(fd);
    const names = { request: reply.request, response: reply.response, event: reply.event };
    let rings: ConnectionRings;
    try {
      rings = openClientShm(names, reply.maxMsgSize);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "EPROTO";
      throw new IpcError(code, `connect to @${socketName}: cannot open shared memory: ${(e as Error).message}`, undefined, { cause: e });
    }
    return new IpcClientConnection(socket, rings, names, socketName, reply.maxMsgSize, serverCred);
  }

  private attach(): void {
    this.socket.on("data", (chunk: Buffer) => this.onNotes(chunk.byteLength));
    this.socket.on("error", (e) => this.shutdown(new IpcError("ENOTCONN", `@${this.socketName}: ${e.message}`, undefined, { cause: e })));
    this.socket.on("close", () => this.shutdown(new IpcError("ENOTCONN", `@${this.socketName}: server closed the connection`)));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Sends one request (a corosync message, header included) and resolves with the response
   * message. See the class comment for ordering, TRY_AGAIN and failure behaviour.
   */
  request(msg: Uint8Array | readonly Uint8Array[], options: IpcRequestOptions = {}): Promise<Uint8Array> {
    return this.enqueue(async () => {
      this.sendChunk(msg);
      return this.awaitResponse(options.timeoutMs);
    });
  }

  /** Sends a message that has no response (cpg MCAST), in order with the requests. */
  send(msg: Uint8Array | readonly Uint8Array[]): Promise<void> {
    return this.enqueue(async () => {
      this.sendChunk(msg);
    });
  }

  /**
   * Stops reading the event ring (consumer back-pressure): announced events stay in the
   * ring, so the server queues, and eventually disconnects a client that never resumes.
   */
  pauseEvents(): void {
    this.eventsPaused = true;
  }

  /** Reads the events announced while paused, then keeps reading as they come. */
  resumeEvents(): void {
    if (!this.eventsPaused) return;
    this.eventsPaused = false;
    const n = this.heldNotes;
    this.heldNotes = 0;
    if (n > 0) this.onNotes(n);
  }

  get eventsArePaused(): boolean {
    return this.eventsPaused;
  }

  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(cb: (event: Uint8Array) => void): () => void {
    this.on("event", cb);
    return () => this.off("event", cb);
  }

  /** Closes the connection (idempotent). Pending calls reject with ENOTCONN. */
  async close(): Promise<void> {
    this.shutdown(undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.closed) throw new IpcError("ENOTCONN", `@${this.socketName}: connection closed`);
      return op();
    };
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  private sendChunk(msg: Uint8Array | readonly Uint8Array[]): void {
    const req = this.rings.request;
    if (req.refCount !== 2) throw new IpcError("ENOTCONN", `@${this.socketName}: request ring not connected (reference count ${req.refCount})`);
    if (req.flowControl > 0) throw new IpcError("TRY_AGAIN", `@${this.socketName}: server flow control is on`, 11);
    let written: boolean;
    try {
      written = req.write(msg);
    } catch (e) {
      if (e instanceof RangeError) throw new IpcError("EMSGSIZE", e.message, 90);
      throw this.ringFailure(e);
    }
    if (!written) throw new IpcError("TRY_AGAIN", `@${this.socketName}: request ring full`, 11);
    const first = msg instanceof Uint8Array ? msg : msg[0];
    this.socket.write(new Uint8Array([first?.[0] ?? 0]));
  }

  private async awaitResponse(timeoutMs: number | undefined): Promise<Uint8Array> {
    this.awaiting = true;
    try {
      return await this.awaitResponseLoop(timeoutMs);
    } finally {
      this.awaiting = false;
      this.rescued = undefined;
    }
  }

  /** The response read at a server close, or the close as an error. */
  private afterClose(): Uint8Array {
    if (this.rescued !== undefined) return this.rescued;
    throw new IpcError("ENOTCONN", `@${this.socketName}: connection closed while waiting for a response`);
  }

  private async awaitResponseLoop(timeoutMs: number | undefined): Promise<Uint8Array> {
    const ring = this.rings.response;
    const native = nativeAddon();
    const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    const fastUntil = performance.now() + FAST_POLL_US / 1000;
    for (;;) {
      if (this.closed) return this.afterClose();
      if (ring.tryTake()) return this.readTaken(ring);
      const now = performance.now();
      if (now < fastUntil) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      const slice = Math.min(WAIT_SLICE_MS, Math.ceil(deadline - now));
      if (!(slice > 0)) {
        const err = new IpcError("TIMEOUT", `@${this.socketName}: no response within ${timeoutMs} ms`);
        this.shutdown(err);
        throw err;
      }
      // Race the pool-thread wait with our own close, so a close rejects the request at once;
      // the wait itself ends within one slice (the mapping outlives it).
      const got = await Promise.race([native.semWaitAsync(ring.headerBuffer, HDR.sem, slice), this.closedSignal]);
      if (this.closed) return this.afterClose();
      if (got) return this.readTaken(ring);
    }
  }

  private readTaken(ring: ShmRing): Uint8Array {
    try {
      return ring.readTaken();
    } catch (e) {
      throw this.ringFailure(e);
    }
  }

  private onNotes(count: number): void {
    for (let i = 0; i < count && !this.closed; i++) {
      if (this.eventsPaused) {
        this.heldNotes += count - i;
        return;
      }
      let ev: Uint8Array | null;
      try {
        ev = this.rings.event.read();
      } catch (e) {
        this.ringFailure(e);
        return;
      }
      if (ev !== null) this.emit("event", ev);
    }
  }

  private ringFailure(e: unknown): IpcError {
    const err =
      e instanceof RingFault
        ? new IpcError("EPROTO", `@${this.socketName}: ${e.message}`, undefined, { cause: e })
        : new IpcError("EPROTO", `@${this.socketName}: ${(e as Error)?.message ?? String(e)}`, undefined, { cause: e });
    this.shutdown(err);
    return err;
  }

  /**
   * Removes the connection's shm directory if its server is dead, checking a few times over
   * ~250 ms (a killed server may still be a zombie for a moment), as libqb clients do. Only a
   * directory of the exact libqb shape whose pid is the server's own is ever removed.
   */
  private cleanupAfterDeadServer(): void {
    const dir = dirname(this.names.request);
    const m = /^\/dev\/shm\/qb-(\d+)-\d+-\d+-[A-Za-z0-9]{6}$/.exec(dir);
    const pid = this.serverCred.pid;
    if (!m || Number(m[1]) !== pid) return;
    const attempt = (left: number[]): void => {
      if (!pidAlive(pid)) {
        rmSync(dir, { recursive: true, force: true });
        return;
      }
      const next = left.shift();
      if (next !== undefined) setTimeout(() => attempt(left), next).unref();
    };
    try {
      attempt([10, 40, 200]);
    } catch {
      /* not ours to remove */
    }
  }

  private shutdown(reason: IpcError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    // A server that answers and then exits (cfg shutdown) may close the socket before we
    // read the response it wrote: take it from the ring before unmapping.
    if (this.awaiting && reason?.code === "ENOTCONN") {
      try {
        // The semaphore count may already be gone to a wait still pending on the pool thread;
        // the chunk itself is what counts (readTaken refuses a position with none).
        this.rings.response.tryTake();
        this.rescued = this.rings.response.readTaken();
      } catch {
        /* nothing readable: the close stands */
      }
    }
    this.signalClosed(false);
    for (const r of [this.rings.request, this.rings.response, this.rings.event]) {
      try {
        r.refCount = Math.max(0, r.refCount - 1);
      } catch {
        /* ignore */
      }
      r.close();
    }
    this.socket.destroy();
    // Like libqb: if the server died without cleaning up, remove its files for it.
    if (reason) this.cleanupAfterDeadServer();
    if (reason && this.listenerCount("error") > 0) this.emit("error", reason);
    this.emit("close", reason);
  }
}
