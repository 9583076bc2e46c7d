/**
 * The libqb IPC server as corosync 3.1.7 runs it (libqb-ipc-spec.md §1, §2.1): one abstract
 * stream socket per service (`\0cmap`, `\0cfg`, `\0cpg`, `\0quorum`, `\0votequorum`, or
 * `\0<prefix>-<name>` with COROSYNC_IPC_PREFIX), the 24-byte setup request and 12328-byte
 * reply, three shared-memory rings per connection, one socket byte per request (client →
 * server) and per event (server → client), responses signalled by the semaphore alone.
 *
 * Contracts:
 * - Nothing a client sends or writes into its shared memory can throw past this module or
 *   make it loop: a malformed setup request is answered with -EINVAL (or the socket closed),
 *   a corrupt ring closes that connection (counted, logged at a limited rate), other
 *   connections are unaffected.
 * - Requests of one connection are handled strictly one after another, in ring order; the
 *   handler may be async, and its response is written before the next request is read.
 * - Events are queued per connection in memory when the event ring is full, as corosync's
 *   outq does (no bound on their number by default: a client that reads, however slowly, is
 *   kept); a client that does not drain its ring within `eventStallMs`, or whose queue passes
 *   `eventQueueBytesMax` (a memory bound corosync does not have), is disconnected.
 * - The server never waits on a semaphore; it only posts and try-waits.
 */
import net from "node:net";
import { EventEmitter } from "node:events";
import { nativeAddon, type PeerCred } from "./native.js";
import {
  CONNECTION_REQUEST_SIZE,
  CS_ERR_INVALID_PARAM,
  CS_ERR_LIBRARY,
  DEFAULT_MAX_MSG_SIZE,
  ERRNO,
  QB_IPC_MSG_DISCONNECT,
  QB_IPC_SHM,
  REQUEST_HEADER_SIZE,
  decodeConnectionRequest,
  encodeConnectionResponse,
  headerOnlyResponse,
  ipcSocketName,
  readRequestHeader,
} from "./protocol.js";
import { FLOW_CONTROL_OFF, FLOW_CONTROL_ON } from "./ring-index.js";
import { cleanStaleShmDirs, createServerShm, destroyServerShm, type ServerShm } from "./shm.js";

/** One request as read from a connection's request ring. */
export interface IpcRequest {
  /** corosync request id (service-local), ≥ 0. */
  id: number;
  /** Message size from the header (= payload.byteLength). */
  size: number;
  /** The whole message, header included. */
  payload: Uint8Array;
}

/** What a service plugs into the server. */
export interface IpcServiceHandler {
  /**
   * Number of request ids the service knows (ids 0..requestIds-1). Others are answered by the
   * server itself with `{id 0, size 24, CS_ERR_INVALID_PARAM}` as corosync does. Omit to pass
   * every id ≥ 0 to `onRequest`.
   */
  requestIds?: number;
  /**
   * Handles one request. Return the response message (header included, written as is), or
   * undefined when the call has no response (cpg MCAST). May be async. A throw is logged and
   * answered with `{id 0, size 24, CS_ERR_LIBRARY}` so that the client does not hang.
   */
  onRequest(conn: IpcConnection, req: IpcRequest): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /** A client finished the handshake. */
  onConnect?(conn: IpcConnection): void;
  /** The connection is gone (client closed, error, protocol violation, server stop). */
  onDisconnect?(conn: IpcConnection, reason: string): void;
}

/** Log levels the server uses; the daemon maps them onto its logger. */
export type IpcLogLevel = "error" | "warning" | "notice" | "debug";

export interface IpcServerOptions {
  /** Service name → handler. Names are corosync's (`cmap`, `cpg`...). */
  services: Record<string, IpcServiceHandler>;
  /** Socket-name prefix; default `$COROSYNC_IPC_PREFIX` (see protocol.ts). */
  prefix?: string;
  /**
   * Who may connect. Default: uid 0 or gid 0 (the daemon adds corosync's uidgid.* rules).
   * A refused client gets the setup reply with -EACCES.
   */
  authorize?: (cred: PeerCred, service: string) => boolean;
  /** False while the daemon cannot serve yet: clients get -EAGAIN. Default: always ready. */
  ready?: () => boolean;
  /** Log sink; calls are rate-limited per kind. */
  log?: (level: IpcLogLevel, message: string) => void;
  /** Granted maximum message size; the larger of this and the client's ask (1 MiB). */
  maxMsgSize?: number;
  /** Max events queued in memory per connection while its event ring is full (default: no bound, as corosync). */
  eventQueueMax?: number;
  /** Max bytes so queued (default 64 MiB). */
  eventQueueBytesMax?: number;
  /** Disconnect a client whose event ring makes no progress for this long (default 30 s). */
  eventStallMs?: number;
  /** Close a socket that has not completed the handshake after this long (default 5 s). */
  handshakeTimeoutMs?: number;
  /** Max connections per service; more get -EMFILE (default 1024). */
  maxConnections?: number;
  /** Directory for the rings (default /dev/shm). */
  shmDir?: string;
  /** Remove stale qb-* directories of dead servers at start (default true). */
  cleanStale?: boolean;
}

/** Per-connection counters, in the spirit of corosync's `stats.ipcs.service<N>.<pid>.*`. */
export interface IpcConnectionStats {
  service: string;
  pid: number;
  uid: number;
  gid: number;
  fd: number;
  requests: number;
  responses: number;
  events: number;
  /** Events waiting in memory for room in the event ring. */
  queued: number;
  /** Times an event found the ring full. */
  sendRetries: number;
  /** Notification bytes that had no chunk behind them. */
  recvRetries: number;
  /** Requests answered INVALID_PARAM because of an unknown id. */
  invalidRequests: number;
  flowControl: boolean;
  flowControlCount: number;
}

/** Server-wide counters (corosync: `stats.ipcs.global.*`). */
export interface IpcServerStats {
  active: number;
  closed: number;
  refused: number;
  protocolErrors: number;
  connections: IpcConnectionStats[];
}

const DEFAULT_AUTHORIZE = (c: PeerCred): boolean => c.uid === 0 || c.gid === 0;
const EVENT_DRAIN_INTERVAL_MS = 5;
const YIELD_EVERY = 32;

/** Rate-limits log lines per kind: at most `burst` per `windowMs`, then one summary. */
class LogLimiter {
  private readonly windows = new Map<string, { start: number; count: number; suppressed: number }>();
  constructor(
    private readonly sink: ((level: IpcLogLevel, message: string) => void) | undefined,
    private readonly burst = 10,
    private readonly windowMs = 10_000,
  ) {}
  log(kind: string, level: IpcLogLevel, message: string): void {
    if (!this.sink) return;
    const now = Date.now();
    let w = this.windows.get(kind);
    if (!w || now - w.start >= this.windowMs) {
      if (w && w.suppressed > 0) this.sink(level, `ipc: ${w.suppressed} more "${kind}" messages suppressed`);
      w = { start: now, count: 0, suppressed: 0 };
      this.windows.set(kind, w);
      if (this.windows.size > 64) this.windows.delete(this.windows.keys().next().value as string);
    }
    if (w.count < this.burst) {
      w.count++;
      this.sink(level, message);
    } else {
      w.suppressed++;
    }
  }
}

let nextConnectionId = 1;

/**
 * One admitted client connection. The service handler gets it with every request; it sends
 * events and carries the service's per-connection state in `context`.
 */
export class IpcConnection {
  /** Unique within this process. */
  readonly id = nextConnectionId++;
  /** For the service's own per-connection state. */
  context: unknown;
  private closed = false;
  private pendingNotes = 0;
  private pumping = false;
  private flowControlOn = false;
  /** Events waiting for room in the ring: eventQueue[eventQueueHead ..] (no O(n) shift). */
  private eventQueue: Array<Uint8Array | undefined> = [];
  private eventQueueHead = 0;
  private eventQueueBytes = 0;
  private drainTimer: NodeJS.Timeout | undefined;
  private lastEventProgress = 0;
  /** Events written to the ring whose socket byte is not written yet (see noteEvent). */
  private notesOwed = 0;
  private readonly counters = {
    requests: 0,
    responses: 0,
    events: 0,
    sendRetries: 0,
    recvRetries: 0,
    invalidRequests: 0,
    flowControlCount: 0,
  };

  /** @internal created by IpcServer after a successful handshake. */
  constructor(
    private readonly owner: ServiceEndpoint,
    private readonly socket: net.Socket,
    private readonly shm: ServerShm,
    /** Service name (without prefix). */
    readonly service: string,
    /** Peer credentials at connect time. */
    readonly cred: PeerCred,
    /** Server-side descriptor of the setup socket. */
    readonly fd: number,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** The connection's shm directory (for diagnostics and tests). */
  get shmDir(): string {
    return this.shm.dir;
  }

  /**
   * Queues one event for the client: written to the event ring (semaphore posted) and
   * announced with one byte on the socket; kept in memory when the ring is full. Returns false
   * when the connection is closed or has just been closed for overflowing its queue.
   */
  sendEvent(msg: Uint8Array): boolean {
    if (this.closed) return false;
    if (msg.byteLength > this.shm.event.maxMsgSize) throw new RangeError(`event of ${msg.byteLength} bytes exceeds ${this.shm.event.maxMsgSize}`);
    if (this.queuedEvents === 0 && this.tryWriteEvent(msg)) return true;
    if (this.closed) return false;
    if (this.queuedEvents >= this.owner.opts.eventQueueMax || this.eventQueueBytes + msg.byteLength > this.owner.opts.eventQueueBytesMax) {
      this.drop("event queue overflow (client is not reading events)");
      return false;
    }
    if (this.queuedEvents === 0) this.lastEventProgress = Date.now();
    this.eventQueue.push(msg);
    this.eventQueueBytes += msg.byteLength;
    this.armDrain();
    return true;
  }

  /**
   * Turns the flow-control flag in the request ring on or off. While on, libqb clients get
   * TRY_AGAIN on send, and this server reads no further requests of the connection.
   */
  setFlowControl(on: boolean): void {
    if (this.closed || on === this.flowControlOn) return;
    this.flowControlOn = on;
    this.counters.flowControlCount++;
    this.shm.request.flowControl = on ? FLOW_CONTROL_ON : FLOW_CONTROL_OFF;
    if (!on) this.pump();
  }

  /** Counters for cmap's stats.ipcs keys. */
  stats(): IpcConnectionStats {
    return {
      service: this.service,
      pid: this.cred.pid,
      uid: this.cred.uid,
      gid: this.cred.gid,
      fd: this.fd,
      ...this.counters,
      queued: this.queuedEvents,
      flowControl: this.flowControlOn,
    };
  }

  /** Closes the connection: socket, rings, files; tells the service. Idempotent. */
  close(reason = "closed by server"): void {
    if (this.closed) return;
    this.closed = true;
    if (this.drainTimer) clearInterval(this.drainTimer);
    this.drainTimer = undefined;
    this.eventQueue = [];
    this.eventQueueHead = 0;
    this.socket.destroy();
    destroyServerShm(this.shm);
    this.owner.connectionClosed(this, reason);
  }

  /** @internal socket bytes after the handshake: one per request chunk. */
  notified(count: number): void {
    this.pendingNotes += count;
    this.pump();
  }

  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    this.pumpLoop().then(
      () => {
        this.pumping = false;
      },
      (e: unknown) => {
        this.pumping = false;
        this.fail("internal", `request loop failed: ${(e as Error)?.message ?? String(e)}`);
      },
    );
  }

  private async pumpLoop(): Promise<void> {
    let handled = 0;
    while (this.pendingNotes > 0 && !this.closed && !this.flowControlOn) {
      this.pendingNotes--;
      let msg: Uint8Array | null;
      try {
        msg = this.shm.request.read();
      } catch (e) {
        this.fail("ring", `request ring: ${(e as Error).message}`);
        return;
      }
      if (msg === null) {
        this.counters.recvRetries++;
        continue;
      }
      await this.dispatch(msg);
      if (++handled % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
    }
  }

  private async dispatch(msg: Uint8Array): Promise<void> {
    const hdr = readRequestHeader(msg);
    if (!hdr || hdr.size < REQUEST_HEADER_SIZE || hdr.size > msg.byteLength) {
      this.fail("protocol", `malformed request header (chunk ${msg.byteLength} bytes, header size ${hdr?.size})`);
      return;
    }
    if (hdr.id === QB_IPC_MSG_DISCONNECT) {
      this.close("client requested disconnect");
      return;
    }
    this.counters.requests++;
    const handler = this.owner.handler;
    if (hdr.id < 0 || (handler.requestIds !== undefined && hdr.id >= handler.requestIds)) {
      this.counters.invalidRequests++;
      this.respond(headerOnlyResponse(0, CS_ERR_INVALID_PARAM));
      return;
    }
    const payload = hdr.size === msg.byteLength ? msg : msg.subarray(0, hdr.size);
    let res: Uint8Array | undefined;
    try {
      res = await handler.onRequest(this, { id: hdr.id, size: hdr.size, payload });
    } catch (e) {
      this.owner.limiter.log("handler", "error", `ipc ${this.service}: handler for request ${hdr.id} threw: ${(e as Error)?.stack ?? String(e)}`);
      res = headerOnlyResponse(0, CS_ERR_LIBRARY);
    }
    if (res !== undefined) this.respond(res);
  }

  /** Writes one response; a full response ring means the client ignores responses: close. */
  private respond(res: Uint8Array): void {
    if (this.closed) return;
    try {
      if (this.shm.response.write(res)) {
        this.counters.responses++;
        return;
      }
      this.fail("protocol", "response ring full (client is not reading responses)");
    } catch (e) {
      if (e instanceof RangeError) {
        this.owner.limiter.log("handler", "error", `ipc ${this.service}: response too large: ${e.message}`);
        this.respond(headerOnlyResponse(0, CS_ERR_LIBRARY));
      } else {
        this.fail("ring", `response ring: ${(e as Error).message}`);
      }
    }
  }

  private tryWriteEvent(msg: Uint8Array): boolean {
    let ok: boolean;
    try {
      ok = this.shm.event.write(msg);
    } catch (e) {
      this.fail("ring", `event ring: ${(e as Error).message}`);
      return false;
    }
    if (!ok) {
      this.counters.sendRetries++;
      return false;
    }
    this.counters.events++;
    this.noteEvent();
    return true;
  }

  /**
   * One socket byte per event, as libqb's client reads them (one per event it takes from
   * the ring) — but written together: the bytes of every event written in this turn of the
   * event loop go out in one `write` (at most NOTES_PER_WRITE), not one syscall each. The
   * client sees the same byte stream; it only wakes once for a burst.
   */
  private noteEvent(): void {
    if (this.notesOwed++ === 0) setImmediate(() => this.writeNotes());
  }

  private writeNotes(): void {
    let n = this.notesOwed;
    this.notesOwed = 0;
    if (this.closed) return;
    while (n > 0) {
      const k = Math.min(n, NOTES_PER_WRITE);
      this.socket.write(k === 1 ? NOTE_BYTE : NOTE_BYTES.subarray(0, k));
      n -= k;
    }
  }

  private get queuedEvents(): number {
    return this.eventQueue.length - this.eventQueueHead;
  }

  private armDrain(): void {
    if (this.drainTimer) return;
    this.drainTimer = setInterval(() => this.drainEvents(), EVENT_DRAIN_INTERVAL_MS);
    this.drainTimer.unref();
  }

  private drainEvents(): void {
    while (this.queuedEvents > 0 && !this.closed) {
      const next = this.eventQueue[this.eventQueueHead]!;
      if (!this.tryWriteEvent(next)) break;
      this.eventQueue[this.eventQueueHead++] = undefined;
      this.eventQueueBytes -= next.byteLength;
      this.lastEventProgress = Date.now();
    }
    if (this.closed) return;
    if (this.eventQueueHead >= 1024 && this.eventQueueHead * 2 >= this.eventQueue.length) {
      this.eventQueue = this.eventQueue.slice(this.eventQueueHead);
      this.eventQueueHead = 0;
    }
    if (this.queuedEvents === 0) {
      clearInterval(this.drainTimer);
      this.drainTimer = undefined;
    } else if (Date.now() - this.lastEventProgress > this.owner.opts.eventStallMs) {
      this.drop("event ring stalled (client is not reading events)");
    }
  }

  /** A client that does not keep up is disconnected, and the log says why. */
  private drop(why: string): void {
    if (this.closed) return;
    this.owner.limiter.log("slow-client", "warning", `ipc ${this.service}: closing connection of pid ${this.cred.pid}: ${why}`);
    this.close(why);
  }

  private fail(kind: string, message: string): void {
    if (this.closed) return;
    this.owner.protocolError();
    this.owner.limiter.log(kind, "warning", `ipc ${this.service}: closing connection of pid ${this.cred.pid}: ${message}`);
    this.close(message);
  }
}

const NOTE_BYTE = new Uint8Array([1]);
const NOTES_PER_WRITE = 4096;
/** Never written to: shared by every pending write. */
const NOTE_BYTES = new Uint8Array(NOTES_PER_WRITE).fill(1);

type ResolvedOptions = Required<Omit<IpcServerOptions, "services" | "prefix" | "log" | "shmDir">> & { shmDir: string | undefined };

/** One listening service socket and its connections. @internal */
class ServiceEndpoint {
  readonly connections = new Set<IpcConnection>();
  private readonly server: net.Server;
  private readonly pendingSockets = new Set<net.Socket>();

  constructor(
    readonly name: string,
    readonly socketName: string,
    readonly handler: IpcServiceHandler,
    readonly opts: ResolvedOptions,
    readonly limiter: LogLimiter,
    private readonly parent: IpcServer,
  ) {
    this.server = net.createServer({ pauseOnConnect: false }, (s) => this.accept(s));
    this.server.on("error", (e) => limiter.log("listen", "error", `ipc ${name}: server socket error: ${e.message}`));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException): void => {
        const err = new Error(
          e.code === "EADDRINUSE"
            ? `IPC name @${this.socketName} is in use in this network namespace (another corosync?); set COROSYNC_IPC_PREFIX to run several daemons side by side`
            : `cannot listen on @${this.socketName}: ${e.message}`,
          { cause: e },
        ) as Error & { code?: string };
        err.code = e.code;
        reject(err);
      };
      this.server.once("error", onError);
      this.server.listen({ path: `\0${this.socketName}` }, () => {
        this.server.off("error", onError);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    for (const s of this.pendingSockets) s.destroy();
    for (const c of [...this.connections]) c.close("server stopping");
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  connectionClosed(conn: IpcConnection, reason: string): void {
    if (!this.connections.delete(conn)) return;
    this.parent.counters.closed++;
    try {
      this.handler.onDisconnect?.(conn, reason);
    } catch (e) {
      this.limiter.log("handler", "error", `ipc ${this.name}: onDisconnect threw: ${(e as Error)?.message}`);
    }
  }

  protocolError(): void {
    this.parent.counters.protocolErrors++;
  }

  private accept(socket: net.Socket): void {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
    let cred: PeerCred;
    try {
      cred = nativeAddon().getPeerCred(fd);
    } catch (e) {
      this.limiter.log("peercred", "warning", `ipc ${this.name}: cannot read peer credentials: ${(e as Error).message}`);
      socket.destroy();
      return;
    }
    this.pendingSockets.add(socket);
    let buf = new Uint8Array(0);
    const timer = setTimeout(() => finish(), this.opts.handshakeTimeoutMs);
    timer.unref();
    const finish = (): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      this.pendingSockets.delete(socket);
      socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      const joined = new Uint8Array(buf.byteLength + chunk.byteLength);
      joined.set(buf);
      joined.set(chunk, buf.byteLength);
      buf = joined;
      if (buf.byteLength < CONNECTION_REQUEST_SIZE) return;
      clearTimeout(timer);
      socket.off("data", onData);
      this.pendingSockets.delete(socket);
      this.handshake(socket, fd, cred, buf);
    };
    socket.on("data", onData);
    socket.on("error", () => finish());
    socket.on("close", () => finish());
  }

  private refuse(socket: net.Socket, errno: number): void {
    socket.end(encodeConnectionResponse({ error: -errno, connectionType: 0, maxMsgSize: 0, connection: 0n, request: "", response: "", event: "" }));
    socket.destroySoon();
    this.parent.counters.refused++;
  }

  private handshake(socket: net.Socket, fd: number, cred: PeerCred, buf: Uint8Array): void {
    const req = decodeConnectionRequest(buf);
    if (!req.ok) {
      this.protocolError();
      this.limiter.log("handshake", "warning", `ipc ${this.name}: bad setup request from pid ${cred.pid} (${req.fault})`);
      this.refuse(socket, ERRNO.EINVAL);
      return;
    }
    if (!this.opts.authorize(cred, this.name)) {
      this.limiter.log("eacces", "error", `ipc ${this.name}: invalid IPC credentials (pid ${cred.pid}, uid ${cred.uid}, gid ${cred.gid})`);
      this.refuse(socket, ERRNO.EACCES);
      return;
    }
    if (!this.opts.ready()) {
      this.limiter.log("eagain", "warning", `ipc ${this.name}: denied connection of pid ${cred.pid}, not ready`);
      this.refuse(socket, ERRNO.EAGAIN);
      return;
    }
    if (this.connections.size >= this.opts.maxConnections) {
      this.limiter.log("emfile", "warning", `ipc ${this.name}: too many connections, refusing pid ${cred.pid}`);
      this.refuse(socket, ERRNO.EMFILE);
      return;
    }
    const maxMsgSize = Math.max(req.maxMsgSize, this.opts.maxMsgSize);
    let shm: ServerShm;
    try {
      shm = createServerShm({
        serverPid: process.pid,
        clientPid: cred.pid,
        fd,
        service: this.socketName,
        owner: process.getuid?.() === 0 ? { uid: cred.uid, gid: cred.gid } : undefined,
        maxMsgSize,
        shmDir: this.opts.shmDir,
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "EIO";
      const errno = (ERRNO as Record<string, number>)[code] ?? ERRNO.ENOMEM;
      this.limiter.log("shm", "error", `ipc ${this.name}: cannot create shared memory for pid ${cred.pid}: ${(e as Error).message}`);
      this.refuse(socket, errno);
      return;
    }
    const conn = new IpcConnection(this, socket, shm, this.name, cred, fd);
    this.connections.add(conn);
    socket.on("data", (chunk: Buffer) => conn.notified(chunk.byteLength));
    socket.on("error", () => conn.close("socket error"));
    socket.on("close", () => conn.close("client disconnected"));
    socket.write(
      encodeConnectionResponse({
        error: 0,
        connectionType: QB_IPC_SHM,
        maxMsgSize,
        connection: BigInt(conn.id),
        request: shm.names.request,
        response: shm.names.response,
        event: shm.names.event,
      }),
    );
    try {
      this.handler.onConnect?.(conn);
    } catch (e) {
      this.limiter.log("handler", "error", `ipc ${this.name}: onConnect threw: ${(e as Error)?.message}`);
    }
    // Bytes that came with the setup request are notifications already.
    if (buf.byteLength > CONNECTION_REQUEST_SIZE) conn.notified(buf.byteLength - CONNECTION_REQUEST_SIZE);
  }
}

/**
 * The IPC server: one endpoint per configured service. `start()` listens (after removing
 * stale shm directories of dead servers); `stop()` closes every connection and socket.
 * Emits nothing; counters via `stats()`.
 */
export class IpcServer extends EventEmitter {
  /** @internal */
  readonly counters = { closed: 0, refused: 0, protocolErrors: 0 };
  private readonly endpoints: ServiceEndpoint[] = [];
  private started = false;

  constructor(private readonly options: IpcServerOptions) {
    super();
    const opts: ResolvedOptions = {
      authorize: options.authorize ?? DEFAULT_AUTHORIZE,
      ready: options.ready ?? (() => true),
      maxMsgSize: options.maxMsgSize ?? DEFAULT_MAX_MSG_SIZE,
      eventQueueMax: options.eventQueueMax ?? Infinity,
      eventQueueBytesMax: options.eventQueueBytesMax ?? 64 * 1048576,
      eventStallMs: options.eventStallMs ?? 30_000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5_000,
      maxConnections: options.maxConnections ?? 1024,
      cleanStale: options.cleanStale ?? true,
      shmDir: options.shmDir,
    };
    const limiter = new LogLimiter(options.log);
    for (const [name, handler] of Object.entries(options.services)) {
      this.endpoints.push(new ServiceEndpoint(name, ipcSocketName(name, options.prefix), handler, opts, limiter, this));
    }
    this.cleanStale = opts.cleanStale;
  }

  private readonly cleanStale: boolean;

  /** Abstract socket names served (without the leading NUL). */
  get socketNames(): string[] {
    return this.endpoints.map((e) => e.socketName);
  }

  /** Listens on every service socket. Rejects (and closes what it opened) if one fails. */
  async start(): Promise<void> {
    if (this.started) return;
    nativeAddon();
    if (this.cleanStale) cleanStaleShmDirs(this.options.shmDir);
    const done: ServiceEndpoint[] = [];
    try {
      for (const ep of this.endpoints) {
        await ep.listen();
        done.push(ep);
      }
    } catch (e) {
      await Promise.all(done.map((ep) => ep.close()));
      throw e;
    }
    this.started = true;
  }

  /** Closes every connection (services get onDisconnect) and stops listening. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await Promise.all(this.endpoints.map((ep) => ep.close()));
  }

  /** Live connections, optionally of one service. */
  connections(service?: string): IpcConnection[] {
    const out: IpcConnection[] = [];
    for (const ep of this.endpoints) if (service === undefined || ep.name === service) out.push(...ep.connections);
    return out;
  }

  /** Flow control for every connection (daemon overloaded: clients get TRY_AGAIN). */
  setFlowControl(on: boolean): void {
    for (const c of this.connections()) c.setFlowControl(on);
  }

  stats(): IpcServerStats {
    const connections = this.connections().map((c) => c.stats());
    return { active: connections.length, ...this.counters, connections };
  }
}
