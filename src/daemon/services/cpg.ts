/**
 * The CPG service of the executive: the CPG engine (src/core/cpg) registered with the service
 * host, and libcpg's IPC (`\0cpg`, libqb-ipc-spec.md §2.6) in front of it.
 *
 * Contracts, per connection:
 * - JOIN/LEAVE answer at once; TRY_AGAIN while sync runs or the totem queue is full (libcpg
 *   applications retry), as corosync's IPC glue does.
 * - MCAST has no response. When it cannot be sent now (sync, full queue) it is held, not
 *   dropped: the connection's flow-control flag goes on (the client's next sends get
 *   TRY_AGAIN from libqb itself) and no further request of this connection is read until the
 *   message went out. PARTIAL_MCAST pieces are held the same way, their response follows.
 * - A client that disconnects while joined leaves with reason PROCDOWN (engine.detach).
 * - Events go through the IPC server's bounded per-connection queue; a client that stops
 *   reading is disconnected by the server rather than slowing anyone else down.
 * - Zero-copy (ZC_ALLOC/FREE/EXECUTE, libcpg's `cpg_zcb_*`) is not offered: ALLOC and FREE
 *   answer NOT_SUPPORTED, EXECUTE answers MCAST NOT_SUPPORTED, so `cpg_zcb_mcast_joined`
 *   fails cleanly (upstream removed zero-copy CPG after 3.1.7).
 * - Malformed requests get INVALID_PARAM (MCAST: logged, as it has no response).
 */
import { CpgEngine, type CpgClientSink } from "../../core/cpg/engine.js";
import type { CpgGroupName } from "../../core/cpg/messages.js";
import { CpgIterationType, type ProcessInfo } from "../../core/cpg/process-list.js";
import { CsError, type CsErrorName } from "../../core/cs-error.js";
import type { IpcConnection, IpcRequest, IpcServiceHandler } from "../../runtime/ipc/server.js";
import {
  CpgGuarantee,
  CpgReq,
  CpgRes,
  decodeIterHandleRequest,
  decodeIterInitRequest,
  decodeJoinRequest,
  decodeLeaveRequest,
  decodeMcastRequest,
  decodeMembershipRequest,
  decodePartialRequest,
  encodeConfchgEvent,
  encodeDeliverEvent,
  encodeIterInitResponse,
  encodeIterNextResponse,
  encodeLocalGetResponse,
  encodeMembershipResponse,
  encodePartialDeliverEvent,
  encodeStatusResponse,
  encodeTotemConfchgEvent,
} from "../../wire/ipc/cpg.js";
import type { ServiceContext, ServiceModule } from "./index.js";

/** Iterations one connection may hold open at once. */
const ITERATIONS_PER_CONNECTION_MAX = 64;

/** What the service keeps per connection. */
interface CpgConnState {
  iterations: Map<bigint, { items: ProcessInfo[]; next: number }>;
}

const status = (name: CsErrorName): number => CsError[name];

/** Iteration handles: unique within the daemon, hard to guess across connections. */
class HandleSource {
  private counter = 0n;
  private readonly salt = BigInt(Math.floor(Math.random() * 0xffffffff)) << 32n;
  next(): bigint {
    this.counter = (this.counter + 1n) & 0xffffffffn;
    return this.salt | this.counter;
  }
}

/** The callbacks of one connection, as libcpg events. */
function sinkFor(conn: IpcConnection, log: (text: string) => void): CpgClientSink {
  const send = (event: Uint8Array): void => {
    try {
      conn.sendEvent(event);
    } catch (e) {
      log(`cpg: event of ${event.byteLength} bytes not sent to pid ${conn.cred.pid}: ${(e as Error).message}`);
    }
  };
  return {
    deliver: (m) => send(encodeDeliverEvent(m.group, m.nodeId, m.pid, m.data)),
    partialDeliver: (m) => send(encodePartialDeliverEvent(m.group, m.nodeId, m.pid, m.msglen, m.type, m.data)),
    confchg: (c) => send(encodeConfchgEvent(c.group, c.members, c.left, c.joined)),
    totemConfchg: (t) => send(encodeTotemConfchgEvent(t.ringId.rep, t.ringId.seq, t.members)),
  };
}

/** The CPG service module (engine + IPC handler). */
export function createCpgService(ctx: ServiceContext): ServiceModule {
  const engine = new CpgEngine({ api: ctx.host.api(), syncing: () => ctx.host.syncing });
  const handles = new HandleSource();
  const warn = (text: string): void => ctx.log("CPG", "warning", text);
  const state = (conn: IpcConnection): CpgConnState => conn.context as CpgConnState;

  /**
   * Runs `attempt` now, or — while it answers TRY_AGAIN — again whenever the engine may send,
   * with the connection's flow control on meanwhile. Resolves with the final status
   * (BAD_HANDLE if the connection closed first).
   */
  const hold = (conn: IpcConnection, attempt: () => CsErrorName): CsErrorName | Promise<CsErrorName> => {
    const first = attempt();
    if (first !== "TRY_AGAIN") return first;
    conn.setFlowControl(true);
    return new Promise((resolve) => {
      const retry = (): void => {
        if (conn.isClosed) return resolve("BAD_HANDLE");
        const r = attempt();
        if (r === "TRY_AGAIN") return engine.whenSendable(retry);
        conn.setFlowControl(false);
        resolve(r);
      };
      engine.whenSendable(retry);
    });
  };

  const guaranteeOf = (g: number): 0 | 1 => (g === CpgGuarantee.SAFE ? 1 : 0);

  const onMcast = async (conn: IpcConnection, req: IpcRequest): Promise<undefined> => {
    const m = decodeMcastRequest(req.payload);
    if (m === undefined) {
      warn(`cpg: malformed MCAST request from pid ${conn.cred.pid} (${req.size} bytes)`);
      return undefined;
    }
    let data = m.data;
    const r = await hold(conn, () => {
      const s = engine.mcast(conn.id, data, guaranteeOf(m.guarantee));
      if (s === "TRY_AGAIN" && data === m.data) data = data.slice(); // the ring slot is reused
      return s;
    });
    if (r !== "OK" && r !== "BAD_HANDLE") warn(`cpg: can't mcast for pid ${conn.cred.pid}: ${r}`);
    return undefined;
  };

  const onPartial = async (conn: IpcConnection, req: IpcRequest): Promise<Uint8Array> => {
    const m = decodePartialRequest(req.payload);
    if (m === undefined) return encodeStatusResponse(CpgRes.PARTIAL_SEND, status("INVALID_PARAM"));
    let data = m.data;
    const r = await hold(conn, () => {
      const s = engine.partialMcast(conn.id, m.msglen, m.type, data, guaranteeOf(m.guarantee));
      if (s === "TRY_AGAIN" && data === m.data) data = data.slice();
      return s;
    });
    return encodeStatusResponse(CpgRes.PARTIAL_SEND, status(r));
  };

  const joinLeave = (conn: IpcConnection, req: IpcRequest): Uint8Array => {
    const join = req.id === CpgReq.JOIN;
    const resId = join ? CpgRes.JOIN : CpgRes.LEAVE;
    const r = join ? decodeJoinRequest(req.payload) : decodeLeaveRequest(req.payload);
    if (r === undefined) return encodeStatusResponse(resId, status("INVALID_PARAM"));
    if (r.group === undefined) return encodeStatusResponse(resId, status("NAME_TOO_LONG"));
    const s = join ? engine.join(conn.id, r.group, r.pid, r.flags) : engine.leave(conn.id, r.group);
    return encodeStatusResponse(resId, status(s));
  };

  const membership = (req: IpcRequest): Uint8Array => {
    const r = decodeMembershipRequest(req.payload);
    if (r === undefined) return encodeMembershipResponse(status("INVALID_PARAM"), []);
    if (r.group === undefined) return encodeMembershipResponse(status("NAME_TOO_LONG"), []);
    return encodeMembershipResponse(status("OK"), engine.membership(r.group).map((p) => ({ nodeId: p.nodeId, pid: p.pid, reason: 0 })));
  };

  const iterInit = (conn: IpcConnection, req: IpcRequest): Uint8Array => {
    const r = decodeIterInitRequest(req.payload);
    const types: number[] = [CpgIterationType.NAME_ONLY, CpgIterationType.ONE_GROUP, CpgIterationType.ALL];
    if (r === undefined || !types.includes(r.type)) return encodeIterInitResponse(status("INVALID_PARAM"), 0n);
    // Only ONE_GROUP reads the name: libcpg leaves it uninitialized for the other types.
    const oneGroup = r.type === CpgIterationType.ONE_GROUP;
    if (oneGroup && r.group === undefined) return encodeIterInitResponse(status("NAME_TOO_LONG"), 0n);
    const its = state(conn).iterations;
    if (its.size >= ITERATIONS_PER_CONNECTION_MAX) return encodeIterInitResponse(status("NO_RESOURCES"), 0n);
    const handle = handles.next();
    its.set(handle, { items: engine.iterate(r.type as CpgIterationType, oneGroup ? (r.group as CpgGroupName) : undefined), next: 0 });
    return encodeIterInitResponse(status("OK"), handle);
  };

  const iterNext = (conn: IpcConnection, req: IpcRequest): Uint8Array => {
    const h = decodeIterHandleRequest(req.payload);
    const it = h === undefined ? undefined : state(conn).iterations.get(h);
    if (it === undefined) return encodeIterNextResponse(status("LIBRARY"), undefined);
    const item = it.items[it.next];
    if (item === undefined) return encodeIterNextResponse(status("NO_SECTIONS"), undefined);
    it.next++;
    return encodeIterNextResponse(status("OK"), item);
  };

  const iterFinalize = (conn: IpcConnection, req: IpcRequest): Uint8Array => {
    const h = decodeIterHandleRequest(req.payload);
    const ok = h !== undefined && state(conn).iterations.delete(h);
    return encodeStatusResponse(CpgRes.ITERATIONFINALIZE, status(ok ? "OK" : "LIBRARY"));
  };

  const handler: IpcServiceHandler = {
    requestIds: 13,
    onConnect(conn) {
      conn.context = { iterations: new Map() } satisfies CpgConnState;
      engine.attach(conn.id, sinkFor(conn, warn));
    },
    onDisconnect(conn) {
      engine.detach(conn.id);
      state(conn)?.iterations.clear();
    },
    onRequest(conn, req) {
      switch (req.id) {
        case CpgReq.JOIN:
        case CpgReq.LEAVE:
          return joinLeave(conn, req);
        case CpgReq.MCAST:
          return onMcast(conn, req);
        case CpgReq.PARTIAL_MCAST:
          return onPartial(conn, req);
        case CpgReq.MEMBERSHIP:
          return membership(req);
        case CpgReq.LOCAL_GET:
          return encodeLocalGetResponse(engine.localNodeId);
        case CpgReq.ITERATIONINITIALIZE:
          return iterInit(conn, req);
        case CpgReq.ITERATIONNEXT:
          return iterNext(conn, req);
        case CpgReq.ITERATIONFINALIZE:
          return iterFinalize(conn, req);
        case CpgReq.FINALIZE:
          engine.finalize(conn.id);
          return encodeStatusResponse(CpgRes.FINALIZE, status("OK"));
        case CpgReq.ZC_ALLOC:
        case CpgReq.ZC_FREE:
          return encodeStatusResponse(0, status("NOT_SUPPORTED"));
        case CpgReq.ZC_EXECUTE:
          return encodeStatusResponse(CpgRes.MCAST, status("NOT_SUPPORTED"));
        default:
          return encodeStatusResponse(0, status("INVALID_PARAM"));
      }
    },
  };
  return { engine, ipc: { name: "cpg", handler } };
}
