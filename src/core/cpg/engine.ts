/**
 * The CPG service engine (corosync 3.1.7 `exec/cpg.c`, totem-spec §7.2): closed process
 * groups above the service host. Pure: it sees exec messages in agreed order, the sync
 * callbacks, and calls from local clients; it sends through `ServiceApi` and talks to local
 * clients through their `CpgClientSink`.
 *
 * Semantics kept from corosync (the contract every node relies on, since all nodes apply the
 * same messages in the same order and so hold the same process list):
 * - PROCJOIN adds (nodeid, pid, group) and tells local members (joined, reason JOIN);
 *   PROCLEAVE tells them (left, with the message's reason) then removes it.
 * - Sync: `init` computes the down list (CPG's own old member list minus the transitional
 *   members); `process` sends DOWNLIST then a JOINLIST of local processes (each retried when
 *   the queue is full); `activate` removes processes of down nodes (NODEDOWN, one callback
 *   per group), adds processes other nodes announced (NODEUP, one callback per group), drops
 *   remote processes their node did not re-announce (PROCDOWN, one each), then sends the
 *   totem membership callback to every client.
 * - MCAST is delivered to local members of the group only if the sender's node has a known
 *   process in the group.
 * - Library calls that send (join, leave, mcast) get TRY_AGAIN while sync runs or while the
 *   totem queue has no room (corosync's IPC glue, `corosync_sending_allowed`).
 *
 * Deliberate differences (each keeps a promise corosync makes in its own comments):
 * - After its own LEAVE is delivered, a client returns to UNJOINED and may join again
 *   (corosync's code meant to do this but loops over the wrong list, leaving the client
 *   LEAVE_STARTED for ever: a re-join then answers BUSY, which libcpg retries endlessly).
 * - A PROCLEAVE that must go out when a client disconnects is queued until the totem queue
 *   has room instead of being lost (a lost one leaves a ghost member on every node).
 * - Malformed exec messages are dropped and counted; nothing from the network can throw.
 */
import type { RingId } from "../../wire/totem/types.js";
import { ServiceId, type ExecSource, type ServiceApi, type ServiceEngine, type SyncHooks } from "../services/types.js";
import type { CsErrorName } from "../cs-error.js";
import {
  CPG_LIMITS,
  CPG_SIZES,
  CpgExecFn,
  CpgReason,
  decodeCpgExec,
  encodeDownList,
  encodeJoinList,
  encodeMcast,
  encodePartialMcast,
  encodeProcJoinLeave,
  PartialType,
  printGroupName,
  type CpgExecMessage,
  type CpgGroupName,
  type JoinListEntry,
} from "./messages.js";
import { ProcessList, type CpgIterationType, type ProcessInfo } from "./process-list.js";
import { MESSAGE_SIZE_MAX } from "../totem/constants.js";

/** `CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF`: send the totem membership once after joining. */
export const CPG_FLAG_INITIAL_TOTEM_CONF = 1;

/** A member in a confchg callback (`cpg_address`). */
export interface CpgAddress {
  nodeId: number;
  pid: number;
  /** `CpgReason`; 0 in member lists. */
  reason: number;
}

export interface CpgConfchg {
  group: CpgGroupName;
  /** The group's processes after the change (without those leaving). */
  members: CpgAddress[];
  left: CpgAddress[];
  joined: CpgAddress[];
}

export interface CpgDelivery {
  group: CpgGroupName;
  nodeId: number;
  pid: number;
  /** The message (a view into the delivered exec message: copy to keep it). */
  data: Uint8Array;
}

/** One piece of a message libcpg split (`PARTIAL_MCAST`); the client reassembles. */
export interface CpgPartialDelivery extends CpgDelivery {
  msglen: number;
  type: number;
}

export interface CpgTotemConfchg {
  ringId: RingId;
  members: number[];
}

/** Where a local client's callbacks go (the IPC layer, or a simulated client). */
export interface CpgClientSink {
  deliver(m: CpgDelivery): void;
  partialDeliver(m: CpgPartialDelivery): void;
  confchg(c: CpgConfchg): void;
  totemConfchg(t: CpgTotemConfchg): void;
}

/** corosync's `enum cpd_state`. */
export type CpgClientState = "UNJOINED" | "LEAVE_STARTED" | "JOIN_STARTED" | "JOIN_COMPLETED";

/** A local client connection (`struct cpg_pd`). */
interface LocalClient {
  readonly conn: number;
  readonly sink: CpgClientSink;
  state: CpgClientState;
  group: CpgGroupName | undefined;
  pid: number;
  flags: number;
  initialTotemConfSent: boolean;
  /** Confchgs sent to this client; a partial send spanning one is INTERRUPTed. */
  transitionCounter: number;
  initialTransitionCounter: number;
  /** FINALIZE received: no more callbacks. */
  finalized: boolean;
}

export interface CpgEngineOptions {
  api: ServiceApi;
  /** True while sync runs: library calls that send get TRY_AGAIN (as corosync's IPC glue). */
  syncing?: () => boolean;
}

export interface CpgStats {
  exec_dropped: Record<string, number>;
  mcast_delivered: number;
  mcast_unknown_node: number;
  procleave_queued: number;
}

/** What a library call answers. */
export type CpgStatus = CsErrorName;

/** A stored JOINLIST entry with its sender (`struct joinlist_msg`). */
interface StoredJoin extends JoinListEntry {
  sender: number;
}

export class CpgEngine implements ServiceEngine {
  readonly id = ServiceId.CPG;
  readonly name = "corosync_cpg";
  readonly sync: SyncHooks;
  readonly processes = new ProcessList();
  readonly stats: CpgStats = { exec_dropped: {}, mcast_delivered: 0, mcast_unknown_node: 0, procleave_queued: 0 };
  private readonly api: ServiceApi;
  private readonly syncing: () => boolean;
  private readonly clients = new Map<number, LocalClient>();
  private memberList: number[] = [];
  private oldMemberList: number[] = [];
  private lastSyncRingId: RingId = { rep: 0, seq: 0n };
  private syncState: "downlist" | "joinlist" = "downlist";
  /** corosync's global `nodeids[384]`: slots beyond this round's count keep stale values. */
  private readonly downlistSlots = new Uint32Array(CPG_LIMITS.processorCountMax);
  private downlistLeft = 0;
  /** Intersection of the transitional lists of the rounds since the last completed sync. */
  private transSinceSync: number[] | undefined;
  private joinlistStore: StoredJoin[] = [];
  /** Messages that must go out, waiting for queue room (PROCLEAVE of a vanished client). */
  private readonly outbox: Uint8Array[] = [];
  private readonly roomWaiters: Array<() => void> = [];

  constructor(opts: CpgEngineOptions) {
    this.api = opts.api;
    this.syncing = opts.syncing ?? (() => false);
    this.sync = {
      init: (trans, members, ringId) => this.syncInit(trans, members, ringId),
      process: () => this.syncProcess(),
      activate: () => this.syncActivate(),
      abort: () => {
        this.joinlistStore = [];
      },
    };
  }

  /** This node's id (`cpg_local_get`). */
  get localNodeId(): number {
    return this.api.nodeId;
  }

  /** The members of the last completed sync round (what totem confchg callbacks report). */
  get totemMembers(): { ringId: RingId; members: number[] } {
    return { ringId: { ...this.lastSyncRingId }, members: [...this.memberList] };
  }

  // ------------------------------------------------------------------ local clients

  /** A client connected (`cpg_lib_init_fn`). `conn` must be unique among live clients. */
  attach(conn: number, sink: CpgClientSink): void {
    if (this.clients.has(conn)) throw new Error(`cpg: connection ${conn} attached twice`);
    this.clients.set(conn, {
      conn,
      sink,
      state: "UNJOINED",
      group: undefined,
      pid: 0,
      flags: 0,
      initialTotemConfSent: false,
      transitionCounter: 0,
      initialTransitionCounter: 0,
      finalized: false,
    });
  }

  /**
   * The client is gone (`cpg_lib_exit_fn`): if it had joined (and was not leaving), its
   * process leaves with reason PROCDOWN. The PROCLEAVE waits for queue room if need be.
   */
  detach(conn: number): void {
    const c = this.clients.get(conn);
    if (c === undefined) return;
    this.clients.delete(conn);
    if (c.group !== undefined && c.state !== "LEAVE_STARTED") {
      this.sendOrQueue(encodeProcJoinLeave(CpgExecFn.PROCLEAVE, c.group, c.pid, CpgReason.PROCDOWN));
    }
  }

  /** FINALIZE: the client gets no more callbacks; its membership ends when it disconnects. */
  finalize(conn: number): void {
    const c = this.clients.get(conn);
    if (c !== undefined) c.finalized = true;
  }

  /** The state of a client (tests, diagnostics). */
  clientState(conn: number): { state: CpgClientState; group: CpgGroupName | undefined; pid: number } | undefined {
    const c = this.clients.get(conn);
    return c === undefined ? undefined : { state: c.state, group: c.group, pid: c.pid };
  }

  /** Why a sending call cannot go now, or undefined when it can (`corosync_sending_allowed`). */
  private sendBlocked(bytes: number): CpgStatus | undefined {
    if (bytes > MESSAGE_SIZE_MAX) return "TOO_BIG";
    if (this.syncing() || !this.api.sendOk(bytes)) return "TRY_AGAIN";
    return undefined;
  }

  /** `cpg_join`: EXIST, TRY_AGAIN, NAME_TOO_LONG, BUSY or OK (PROCJOIN sent). */
  join(conn: number, group: CpgGroupName, pid: number, flags = 0): CpgStatus {
    const c = this.clients.get(conn);
    if (c === undefined) return "BAD_HANDLE";
    for (const other of this.clients.values()) {
      if (!other.finalized && other.pid === pid && other.group === group) return "EXIST";
    }
    if (this.processes.find(group, pid, this.localNodeId) !== undefined) return "TRY_AGAIN";
    if (group.length > CPG_LIMITS.nameBytesMax) return "NAME_TOO_LONG";
    if (c.state === "LEAVE_STARTED") return "BUSY";
    if (c.state !== "UNJOINED") return "EXIST";
    const blocked = this.sendBlocked(CPG_SIZES.procjoin);
    if (blocked !== undefined) return blocked;
    if (!this.api.mcast(encodeProcJoinLeave(CpgExecFn.PROCJOIN, group, pid, CpgReason.JOIN))) return "TRY_AGAIN";
    c.state = "JOIN_STARTED";
    c.pid = pid >>> 0;
    c.flags = flags >>> 0;
    c.group = group;
    return "OK";
  }

  /**
   * `cpg_leave`: NOT_EXIST, BUSY, TRY_AGAIN or OK (PROCLEAVE reason LEAVE sent). The
   * PROCLEAVE names the client's own group and pid; a request naming another group is
   * NOT_EXIST (corosync would multicast a leave of a process that never joined it).
   */
  leave(conn: number, group: CpgGroupName): CpgStatus {
    const c = this.clients.get(conn);
    if (c === undefined) return "BAD_HANDLE";
    if (c.state === "UNJOINED" || c.state === "LEAVE_STARTED" || c.group !== group) return "NOT_EXIST";
    if (c.state === "JOIN_STARTED") return "BUSY";
    const blocked = this.sendBlocked(CPG_SIZES.procjoin);
    if (blocked !== undefined) return blocked;
    if (!this.api.mcast(encodeProcJoinLeave(CpgExecFn.PROCLEAVE, group, c.pid, CpgReason.LEAVE))) return "TRY_AGAIN";
    c.state = "LEAVE_STARTED";
    return "OK";
  }

  /**
   * `cpg_mcast_joined`: NOT_EXIST unless joined (or joining), TRY_AGAIN (sync, no room),
   * TOO_BIG, or OK (MCAST queued). `guarantee` 1 asks totem for safe delivery.
   */
  mcast(conn: number, data: Uint8Array, guarantee: 0 | 1 = 0): CpgStatus {
    const c = this.clients.get(conn);
    if (c === undefined) return "BAD_HANDLE";
    if (c.group === undefined || (c.state !== "JOIN_STARTED" && c.state !== "JOIN_COMPLETED")) return "NOT_EXIST";
    const size = CPG_SIZES.mcastHeader + data.byteLength;
    const blocked = this.sendBlocked(size);
    if (blocked !== undefined) return blocked;
    const msg = encodeMcast(c.group, c.pid, { nodeId: this.localNodeId, conn: BigInt(conn) }, data);
    return this.api.mcast(msg, guarantee) ? "OK" : "TRY_AGAIN";
  }

  /**
   * One piece of a message libcpg splits (`MESSAGE_REQ_CPG_PARTIAL_MCAST`): INTERRUPT when a
   * confchg reached the client since the FIRST piece (the receivers drop the assembly).
   */
  partialMcast(conn: number, msglen: number, type: number, data: Uint8Array, guarantee: 0 | 1 = 0): CpgStatus {
    const c = this.clients.get(conn);
    if (c === undefined) return "BAD_HANDLE";
    const size = CPG_SIZES.partialHeader + data.byteLength;
    const blocked = this.sendBlocked(size);
    if (blocked !== undefined) return blocked;
    if (type < PartialType.FIRST || type > PartialType.LAST || data.byteLength > msglen) return "INVALID_PARAM";
    if (c.group === undefined || (c.state !== "JOIN_STARTED" && c.state !== "JOIN_COMPLETED")) return "NOT_EXIST";
    if (type === PartialType.FIRST) c.initialTransitionCounter = c.transitionCounter;
    if (c.transitionCounter !== c.initialTransitionCounter) return "INTERRUPT";
    const msg = encodePartialMcast(c.group, c.pid, { nodeId: this.localNodeId, conn: BigInt(conn) }, msglen, type, data);
    return this.api.mcast(msg, guarantee) ? "OK" : "TRY_AGAIN";
  }

  /** The processes of `group` (`cpg_membership_get`), at most 384 as the reply holds. */
  membership(group: CpgGroupName): ProcessInfo[] {
    return this.processes.membersOf(group).slice(0, CPG_LIMITS.processorCountMax);
  }

  /** The snapshot behind `cpg_iteration_initialize`. */
  iterate(type: CpgIterationType, group?: CpgGroupName): ProcessInfo[] {
    return this.processes.iterationSnapshot(type, group);
  }

  /**
   * Calls `fn` once the engine may send again (after the next pump that finds room and no
   * sync running). Used by the IPC layer to hold an MCAST instead of dropping it.
   */
  whenSendable(fn: () => void): void {
    this.roomWaiters.push(fn);
  }

  /** Could `bytes` of exec message be sent now? */
  canSend(bytes: number): boolean {
    return this.sendBlocked(bytes) === undefined;
  }

  /** After every input: flush queued PROCLEAVEs (outside sync), then wake callers waiting for room. */
  pump(): void {
    // Not during sync: sync-time messages overtake the node's older queued traffic, and a
    // PROCLEAVE must not overtake the client's own last messages.
    while (this.outbox.length > 0 && !this.syncing()) {
      if (!this.api.mcast(this.outbox[0]!)) return;
      this.outbox.shift();
    }
    if (this.roomWaiters.length === 0 || this.syncing() || !this.api.sendOk(CPG_SIZES.mcastHeader)) return;
    const waiters = this.roomWaiters.splice(0);
    for (const w of waiters) w();
  }

  private sendOrQueue(msg: Uint8Array): void {
    if (this.outbox.length === 0 && !this.syncing() && this.api.mcast(msg)) return;
    this.stats.procleave_queued++;
    this.outbox.push(msg);
  }

  // ------------------------------------------------------------------ exec messages

  exec(fn: number, message: Uint8Array, from: ExecSource): void {
    const r = decodeCpgExec(fn, message, from.bigEndian);
    if (!r.ok) {
      const code = r.error.code;
      this.stats.exec_dropped[code] = (this.stats.exec_dropped[code] ?? 0) + 1;
      this.api.log("warning", "CPG", `dropping a malformed exec message (fn ${fn}) from node ${from.nodeId}: ${r.error.message}`);
      return;
    }
    this.apply(r.value, from.nodeId);
  }

  private apply(m: CpgExecMessage, nodeId: number): void {
    switch (m.fn) {
      case CpgExecFn.PROCJOIN:
        this.api.log("debug", "CPG", `got procjoin message from cluster node ${nodeId} for pid ${m.pid}`);
        this.doProcJoin(m.group, m.pid, nodeId, CpgReason.JOIN);
        break;
      case CpgExecFn.PROCLEAVE:
        this.api.log("debug", "CPG", `got procleave message from cluster node ${nodeId} for pid ${m.pid}`);
        this.doProcLeave(m.group, m.pid, nodeId, m.reason);
        break;
      case CpgExecFn.JOINLIST:
        this.api.log("debug", "CPG", `got joinlist message from node ${nodeId}`);
        for (const e of m.entries) this.joinlistStore.push({ sender: nodeId, pid: e.pid, group: e.group });
        break;
      case CpgExecFn.MCAST:
        this.deliverMcast(m.group, nodeId, (sink, base) => sink.deliver({ ...base, data: m.data }), m.pid);
        break;
      case CpgExecFn.PARTIAL_MCAST:
        this.deliverMcast(m.group, nodeId, (sink, base) => sink.partialDeliver({ ...base, data: m.data, msglen: m.msglen, type: m.type }), m.pid);
        break;
      case CpgExecFn.DOWNLIST_OLD:
        this.api.log("debug", "CPG", `downlist OLD from node ${nodeId}`);
        break;
      case CpgExecFn.DOWNLIST:
        this.api.log("debug", "CPG", `downlist left_list: ${m.leftNodes.length} received`);
        break;
    }
  }

  private deliverMcast(group: CpgGroupName, nodeId: number, send: (sink: CpgClientSink, base: { group: CpgGroupName; nodeId: number; pid: number }) => void, pid: number): void {
    let known: boolean | undefined;
    for (const c of this.clients.values()) {
      if (c.finalized || c.group !== group || (c.state !== "LEAVE_STARTED" && c.state !== "JOIN_COMPLETED")) continue;
      known ??= this.processes.nodeInGroup(nodeId, group);
      if (!known) {
        this.stats.mcast_unknown_node++;
        this.api.log("warning", "CPG", "Unknown node -> we will not deliver message");
        return;
      }
      this.stats.mcast_delivered++;
      send(c.sink, { group, nodeId, pid });
    }
  }

  // ------------------------------------------------------------------ membership bookkeeping

  /** `do_proc_join`: add if new; tell the group now, or collect into `batch` (sync). */
  private doProcJoin(group: CpgGroupName, pid: number, nodeId: number, reason: number, batch?: Map<CpgGroupName, CpgAddress[]>): void {
    if (!this.processes.add({ nodeId, pid, group })) return;
    const who: CpgAddress = { nodeId, pid, reason };
    if (batch === undefined) {
      this.notifyGroup(group, [who], []);
      return;
    }
    const list = batch.get(group);
    if (list === undefined) batch.set(group, [who]);
    else list.push(who);
  }

  /** `do_proc_leave`: tell the group (left = the process), then remove it. */
  private doProcLeave(group: CpgGroupName, pid: number, nodeId: number, reason: number): void {
    this.notifyGroup(group, [], [{ nodeId, pid, reason }]);
    this.processes.remove(group, pid, nodeId);
  }

  /**
   * `notify_lib_joinlist`: a confchg callback to the local members of `group` (members =
   * the group's processes minus `left`), after marking local joiners JOIN_COMPLETED; then
   * the initial totem membership to model-v1 clients that asked for it and lack it.
   */
  private notifyGroup(group: CpgGroupName, joined: CpgAddress[], left: CpgAddress[]): void {
    const me = this.localNodeId;
    const members = this.processes
      .membersOf(group)
      .filter((p) => !left.some((l) => l.nodeId === p.nodeId && l.pid === p.pid))
      .map((p) => ({ nodeId: p.nodeId, pid: p.pid, reason: CpgReason.UNDEFINED }));
    for (const j of joined) {
      if (j.nodeId !== me) continue;
      for (const c of this.clients.values()) if (c.pid === j.pid && c.group === group) c.state = "JOIN_COMPLETED";
    }
    const change: CpgConfchg = { group, members, left: left.map((a) => ({ ...a })), joined: joined.map((a) => ({ ...a })) };
    for (const c of this.clients.values()) {
      if (c.finalized || c.group !== group || (c.state !== "JOIN_COMPLETED" && c.state !== "LEAVE_STARTED")) continue;
      c.sink.confchg(change);
      c.transitionCounter++;
    }
    for (const l of left) {
      if (l.nodeId !== me || l.reason !== CpgReason.LEAVE) continue;
      for (const c of this.clients.values()) {
        if (c.pid === l.pid && c.group === group && c.state === "LEAVE_STARTED") {
          c.state = "UNJOINED";
          c.group = undefined;
          c.pid = 0;
        }
      }
    }
    for (const c of this.clients.values()) {
      if (c.finalized || (c.flags & CPG_FLAG_INITIAL_TOTEM_CONF) === 0 || c.initialTotemConfSent) continue;
      c.initialTotemConfSent = true;
      c.sink.totemConfchg({ ringId: { ...this.lastSyncRingId }, members: [...this.oldMemberList] });
    }
  }

  // ------------------------------------------------------------------ sync

  /**
   * Down list = old members (last completed sync) missing from the transitional list of this
   * round *or of any round since that sync*. Deviation from corosync 3.1.7 (`cpg_sync_init`
   * uses the last round's list only): when a round is interrupted, nodes that met again in
   * the next ring may have come from different transitional configurations and delivered
   * different recovered messages; with only the last list, their clients would see the same
   * confchgs around different deliveries (found by the chaos run; test/unit/cpg-downlist).
   */
  private syncInit(trans: readonly number[], members: readonly number[], ringId: RingId): void {
    this.syncState = "downlist";
    this.memberList = [...members];
    this.lastSyncRingId = { ...ringId };
    const since = this.transSinceSync;
    const kept = since === undefined ? [...trans] : trans.filter((n) => since.includes(n));
    this.transSinceSync = kept;
    let entries = 0;
    for (const n of this.oldMemberList) {
      if (!kept.includes(n) && entries < this.downlistSlots.length) this.downlistSlots[entries++] = n;
    }
    this.downlistLeft = entries;
  }

  /** DOWNLIST, then JOINLIST of local processes; false when the queue refused one. */
  private syncProcess(): boolean {
    if (this.syncState === "downlist") {
      if (!this.api.mcast(encodeDownList(this.oldMemberList.length, this.downlistLeft, this.downlistSlots))) return false;
      this.syncState = "joinlist";
    }
    const local = this.processes.ofNode(this.localNodeId);
    if (local.length === 0) return true;
    return this.api.mcast(encodeJoinList(local.map((p) => ({ pid: p.pid, group: p.group }))));
  }

  private syncActivate(): void {
    this.oldMemberList = [...this.memberList];
    this.transSinceSync = undefined;
    this.downlistInformClients();
    this.joinlistInformClients();
    this.joinlistStore = [];
    const t: CpgTotemConfchg = { ringId: { ...this.lastSyncRingId }, members: [...this.memberList] };
    for (const c of this.clients.values()) if (!c.finalized) c.sink.totemConfchg({ ringId: { ...t.ringId }, members: [...t.members] });
  }

  /** Remove every process of the nodes in my down list: one NODEDOWN confchg per group. */
  private downlistInformClients(): void {
    const down = new Set(Array.from(this.downlistSlots.subarray(0, this.downlistLeft)));
    this.api.log("debug", "CPG", `my downlist: members(old:${this.oldMemberList.length} left:${down.size})`);
    if (down.size === 0) return;
    const removed = this.processes.removeWhere((p) => down.has(p.nodeId));
    const byGroup = new Map<CpgGroupName, CpgAddress[]>();
    for (const p of removed) {
      const list = byGroup.get(p.group) ?? [];
      list.push({ nodeId: p.nodeId, pid: p.pid, reason: CpgReason.NODEDOWN });
      byGroup.set(p.group, list);
    }
    for (const group of [...byGroup.keys()].sort()) {
      this.api.log("debug", "CPG", `left_list_entries:${byGroup.get(group)!.length} group:${printGroupName(group)}`);
      this.notifyGroup(group, [], byGroup.get(group)!);
    }
  }

  /**
   * Add what other nodes announced (NODEUP, one confchg per group), then drop remote
   * processes their node did not announce (PROCDOWN). corosync walks its stored entries
   * newest first; so do we, so that joined lists come out in the same order.
   */
  private joinlistInformClients(): void {
    const me = this.localNodeId;
    const batch = new Map<CpgGroupName, CpgAddress[]>();
    for (let i = this.joinlistStore.length - 1; i >= 0; i--) {
      const e = this.joinlistStore[i]!;
      if (e.sender === me) continue;
      this.doProcJoin(e.group, e.pid, e.sender, CpgReason.NODEUP, batch);
    }
    for (const group of [...batch.keys()].sort()) this.notifyGroup(group, batch.get(group)!, []);
    const key = (nodeId: number, pid: number, group: CpgGroupName): string => `${nodeId}:${pid}:${group}`;
    const announced = new Set(this.joinlistStore.filter((e) => e.sender !== me).map((e) => key(e.sender, e.pid, e.group)));
    for (const p of this.processes.all()) {
      if (p.nodeId !== me && !announced.has(key(p.nodeId, p.pid, p.group))) this.doProcLeave(p.group, p.pid, p.nodeId, CpgReason.PROCDOWN);
    }
  }
}
