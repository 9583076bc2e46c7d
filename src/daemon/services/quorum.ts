/**
 * The quorum stack of the executive: the quorum service (service 3, IPC `quorum`) and, when
 * `quorum.provider: corosync_votequorum` is configured, votequorum (service 5, IPC
 * `votequorum`) as its provider — as corosync 3.1.7's `vsf_quorum.c` loads `votequorum.c`.
 *
 * Both modules share one stack per executive (`quorumStack(ctx)`); the IPC handlers here turn
 * engine state into libquorum/libvotequorum answers and events (libqb-ipc-spec.md §2.3, §2.4).
 * Every request is length-checked; a short one is answered INVALID_PARAM.
 */
import { closeSync, fdatasyncSync, openSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";
import { QuorumService } from "../../core/quorum/quorum-service.js";
import { VoteQuorum, type EvTrackingStore } from "../../core/quorum/votequorum.js";
import type { IpcConnection, IpcRequest, IpcServiceHandler } from "../../runtime/ipc/server.js";
import { statusResponse } from "../../wire/ipc/common.js";
import {
  QuorumModel,
  QuorumReq,
  QuorumRes,
  TrackFlag,
  decodeQuorumArg,
  encodeNodelistNotification,
  encodeQuorumNotificationV0,
  encodeQuorumNotificationV1,
  encodeU32Response,
} from "../../wire/ipc/quorum.js";
import {
  VqReq,
  VqRes,
  decodeVqRequest,
  encodeGetInfo,
  encodeVqExpectedVotesNotification,
  encodeVqNodelistNotification,
  encodeVqQuorumNotification,
  type VqRequest,
} from "../../wire/ipc/votequorum.js";
import type { ServiceContext, ServiceModule } from "./index.js";

const CS = { OK: 1, INVALID_PARAM: 7, NOT_EXIST: 12, EXIST: 14, NOT_SUPPORTED: 19 } as const;

/** The shared engines of one executive. */
export interface QuorumStack {
  quorum: QuorumService;
  /** Undefined without a quorum provider. */
  votequorum: VoteQuorum | undefined;
  quorumIpc: QuorumIpc;
  votequorumIpc: VotequorumIpc | undefined;
}

const stacks = new WeakMap<ServiceContext, QuorumStack>();

/** The stack of `ctx`, built on first use. Throws corosync's error for an unusable config. */
export function quorumStack(ctx: ServiceContext): QuorumStack {
  let stack = stacks.get(ctx);
  if (stack !== undefined) return stack;
  const api = ctx.host.api();
  const provider = ctx.config.quorum.provider === "corosync_votequorum";
  const quorum = new QuorumService(api, provider);
  const quorumIpc = new QuorumIpc(quorum);
  let votequorum: VoteQuorum | undefined;
  let votequorumIpc: VotequorumIpc | undefined;
  if (provider) {
    ctx.log("QUORUM", "notice", "Using quorum provider corosync_votequorum");
    votequorum = new VoteQuorum({ api, cmap: ctx.cmap, evTracking: evTrackingFile(ctx.config.system.stateDir) });
    votequorumIpc = new VotequorumIpc(votequorum);
    votequorum.listener.quorumChanged = (members, quorate, ringId) => quorum.setQuorum(members, quorate, ringId);
    const error = votequorum.init();
    if (error !== undefined) throw new Error(`Quorum provider: corosync_votequorum failed to initialize: ${error}`);
  }
  stack = { quorum, votequorum, quorumIpc, votequorumIpc };
  stacks.set(ctx, stack);
  return stack;
}

/** `<state_dir>/ev_tracking`: the highest expected votes, a native (little-endian) u32. */
export function evTrackingFile(stateDir: string): EvTrackingStore {
  const path = join(stateDir, "ev_tracking");
  const write = (value: number): void => {
    const fd = openSync(path, "w", 0o700);
    try {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(value >>> 0);
      writeSync(fd, b, 0, 4, 0);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  };
  return {
    load: () => {
      try {
        const fd = openSync(path, "r");
        try {
          const b = Buffer.alloc(4);
          if (readSync(fd, b, 0, 4, 0) === 4) return b.readUInt32LE(0);
        } finally {
          closeSync(fd);
        }
      } catch {
        /* missing or unreadable: create it below */
      }
      write(0);
      return 0;
    },
    save: write,
  };
}

// ---------------------------------------------------------------- quorum (service 3) IPC

interface QuorumConn {
  model: number;
  tracking: boolean;
}

/** libquorum requests, events to tracking clients in their model's format. */
export class QuorumIpc implements IpcServiceHandler {
  readonly requestIds = 5;
  private readonly conns = new Map<IpcConnection, QuorumConn>();

  constructor(private readonly service: QuorumService) {
    service.listener.quorumNotification = () => {
      for (const [conn, s] of this.conns) if (s.tracking) conn.sendEvent(this.quorumEvent(s.model));
    };
    service.listener.nodelistNotification = () => {
      for (const [conn, s] of this.conns) if (s.tracking && s.model === QuorumModel.V1) conn.sendEvent(this.nodelistEvent(true));
    };
  }

  onConnect(conn: IpcConnection): void {
    this.conns.set(conn, { model: QuorumModel.V0, tracking: false });
  }

  onDisconnect(conn: IpcConnection): void {
    this.conns.delete(conn);
  }

  onRequest(conn: IpcConnection, req: IpcRequest): Uint8Array {
    const s = this.conns.get(conn) ?? { model: QuorumModel.V0, tracking: false };
    this.conns.set(conn, s);
    switch (req.id) {
      case QuorumReq.GETQUORATE:
        return encodeU32Response(QuorumRes.GETQUORATE, this.service.quorate ? 1 : 0);
      case QuorumReq.GETTYPE:
        return encodeU32Response(QuorumRes.GETTYPE, this.service.quorumType);
      case QuorumReq.MODEL_GETTYPE: {
        const model = decodeQuorumArg(req.payload);
        const ok = model === QuorumModel.V0 || model === QuorumModel.V1;
        if (ok) s.model = model;
        return encodeU32Response(QuorumRes.MODEL_GETTYPE, this.service.quorumType, ok ? CS.OK : CS.INVALID_PARAM);
      }
      case QuorumReq.TRACKSTART:
        return this.trackStart(conn, s, decodeQuorumArg(req.payload));
      case QuorumReq.TRACKSTOP:
        // corosync answers OK even when the client was not tracking.
        s.tracking = false;
        return statusResponse(QuorumRes.TRACKSTOP, CS.OK);
      default:
        return statusResponse(0, CS.INVALID_PARAM);
    }
  }

  private trackStart(conn: IpcConnection, s: QuorumConn, flags: number | undefined): Uint8Array {
    if (flags === undefined) return statusResponse(QuorumRes.TRACKSTART, CS.INVALID_PARAM);
    if (flags & (TrackFlag.CURRENT | TrackFlag.CHANGES)) {
      if (s.model === QuorumModel.V1) conn.sendEvent(this.nodelistEvent(false));
      conn.sendEvent(this.quorumEvent(s.model));
    }
    if (s.tracking) return statusResponse(QuorumRes.TRACKSTART, CS.EXIST);
    if (flags & (TrackFlag.CHANGES | TrackFlag.CHANGES_ONLY)) s.tracking = true;
    return statusResponse(QuorumRes.TRACKSTART, CS.OK);
  }

  private quorumEvent(model: number): Uint8Array {
    const n = { quorate: this.service.quorate, ringId: { nodeId: this.service.quorumRingId.rep, seq: this.service.quorumRingId.seq }, viewList: this.service.viewList };
    return model === QuorumModel.V1 ? encodeQuorumNotificationV1(n) : encodeQuorumNotificationV0(n);
  }

  private nodelistEvent(withJoinedLeft: boolean): Uint8Array {
    const s = this.service;
    return encodeNodelistNotification({
      ringId: { nodeId: s.lastSyncRingId.rep, seq: s.lastSyncRingId.seq },
      members: s.memberList,
      joined: withJoinedLeft ? s.joinedList : [],
      left: withJoinedLeft ? s.leftList : [],
    });
  }
}

// ---------------------------------------------------------------- votequorum (service 5) IPC

interface VqTracker {
  context: bigint;
  flags: number;
}

/** libvotequorum requests and the tracking clients' events. */
export class VotequorumIpc implements IpcServiceHandler {
  readonly requestIds = 10;
  private readonly trackers = new Map<IpcConnection, VqTracker>();
  /** The connection whose qdevice registration is going round the ring, and its answer. */
  private qdeviceReg: { conn: IpcConnection; answer: (r: Uint8Array) => void } | undefined;

  constructor(private readonly vq: VoteQuorum) {
    const l = vq.listener;
    l.quorumNotification = () => this.broadcast((t) => this.quorumEvent(t.context));
    l.nodelistNotification = () => this.broadcast((t) => this.nodelistEvent(t.context));
    l.expectedVotesNotification = (ev) => this.broadcast((t) => encodeVqExpectedVotesNotification(t.context, ev));
    l.qdeviceRegistered = (error) => {
      const pending = this.qdeviceReg;
      this.qdeviceReg = undefined;
      pending?.answer(statusResponse(VqRes.STATUS, error));
    };
  }

  private broadcast(make: (t: VqTracker) => Uint8Array): void {
    for (const [conn, t] of this.trackers) conn.sendEvent(make(t));
  }

  onDisconnect(conn: IpcConnection): void {
    this.trackers.delete(conn);
    if (this.qdeviceReg?.conn === conn) {
      this.qdeviceReg.answer(statusResponse(VqRes.STATUS, CS.OK));
      this.qdeviceReg = undefined;
      this.vq.qdeviceRegisterAbandoned();
    }
  }

  onRequest(conn: IpcConnection, req: IpcRequest): Uint8Array | Promise<Uint8Array> {
    const r = decodeVqRequest(req.id, req.payload);
    if (r === undefined) return req.id === VqReq.GETINFO ? encodeGetInfo(undefined, CS.INVALID_PARAM) : statusResponse(VqRes.STATUS, CS.INVALID_PARAM);
    return this.handle(conn, r);
  }

  private handle(conn: IpcConnection, r: VqRequest): Uint8Array | Promise<Uint8Array> {
    const status = (e: number) => statusResponse(VqRes.STATUS, e);
    switch (r.id) {
      case VqReq.GETINFO: {
        const info = this.vq.getInfo(r.nodeId);
        return encodeGetInfo(info, info === undefined ? CS.NOT_EXIST : CS.OK);
      }
      case VqReq.SETEXPECTED:
        return status(this.vq.setExpected(r.expectedVotes));
      case VqReq.SETVOTES:
        return status(this.vq.setVotes(r.nodeId, r.votes));
      case VqReq.TRACKSTART:
        return status(this.trackStart(conn, r.context, r.flags));
      case VqReq.TRACKSTOP:
        return status(this.trackers.delete(conn) ? CS.OK : CS.NOT_EXIST);
      case VqReq.QDEVICE_REGISTER:
        return this.qdeviceRegister(conn, r.name);
      case VqReq.QDEVICE_UNREGISTER:
        return status(this.vq.qdeviceUnregister(r.name));
      case VqReq.QDEVICE_UPDATE:
        return status(this.vq.qdeviceUpdate(r.oldName, r.newName));
      case VqReq.QDEVICE_POLL:
        return status(this.vq.qdevicePoll(r.name, r.castVote, { rep: r.ringId.nodeId, seq: r.ringId.seq }));
      case VqReq.QDEVICE_MASTER_WINS:
        return status(this.vq.qdeviceMasterWinsSet(r.name, r.allow));
      default:
        return status(CS.NOT_SUPPORTED);
    }
  }

  /** TRACKSTART: current state first (CURRENT or CHANGES), then record CHANGES / CHANGES_ONLY. */
  private trackStart(conn: IpcConnection, context: bigint, flags: number): number {
    if (flags & (TrackFlag.CURRENT | TrackFlag.CHANGES)) {
      conn.sendEvent(this.nodelistEvent(context));
      conn.sendEvent(this.quorumEvent(context));
    }
    if (this.trackers.has(conn)) return CS.EXIST;
    if (flags & (TrackFlag.CHANGES | TrackFlag.CHANGES_ONLY)) this.trackers.set(conn, { context, flags });
    return CS.OK;
  }

  /** The answer comes when our QDEVICE_REG has gone round the ring. */
  private qdeviceRegister(conn: IpcConnection, name: string): Uint8Array | Promise<Uint8Array> {
    const now = this.vq.qdeviceRegister(name);
    if (now !== undefined) return statusResponse(VqRes.STATUS, now);
    return new Promise((answer) => (this.qdeviceReg = { conn, answer }));
  }

  private quorumEvent(context: bigint): Uint8Array {
    return encodeVqQuorumNotification(this.vq.quorate, context, this.vq.notificationNodes());
  }

  private nodelistEvent(context: bigint): Uint8Array {
    return encodeVqNodelistNotification(context, { nodeId: this.vq.ringId.rep, seq: this.vq.ringId.seq }, this.vq.members);
  }
}

// ---------------------------------------------------------------- the modules

/** Service 3: the quorum service and its `quorum` IPC. */
export function quorumModule(ctx: ServiceContext): ServiceModule {
  const stack = quorumStack(ctx);
  return { engine: stack.quorum, ipc: { name: "quorum", handler: stack.quorumIpc } };
}

/**
 * Service 5: votequorum and its `votequorum` IPC, only with the provider configured. On a
 * clean stop with allow_downscale it announces LEAVING first (`beforeLeave`).
 */
export function votequorumModule(ctx: ServiceContext): ServiceModule {
  const stack = quorumStack(ctx);
  const vq = stack.votequorum;
  if (vq === undefined || stack.votequorumIpc === undefined) return {};
  return {
    engine: vq,
    ipc: { name: "votequorum", handler: stack.votequorumIpc },
    beforeLeave: () => vq.leave(),
    stop: () => vq.stop(),
  };
}
