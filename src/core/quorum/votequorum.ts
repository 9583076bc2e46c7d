/**
 * votequorum (service 5): vote-based quorum as corosync 3.1.7 computes it (totem-spec §7.3,
 * votequorum(5)). Every node keeps a table of nodes {state, votes, expected_votes, flags},
 * learnt from NODEINFO exec messages that each member sends once per sync round; quorum is
 * recomputed from that table whenever it changes, at the end of every sync round and when the
 * last-man-standing window expires.
 *
 * Arithmetic (OpenVMS style, as corosync):
 *   quorum   = max((highest_expected + 2) div 2, (total_votes + 2) div 2), never decreasing
 *              unless explicitly allowed, 1 with two_node while at most two nodes are members
 *   quorate  = total_votes ≥ quorum, plus the wait_for_all gate, the auto_tie_breaker rule and
 *              the qdevice master_wins rule
 * `quorum` is kept in a u8 as corosync does (it wraps above 255 votes).
 *
 * Deviations from corosync, each to keep hostile input harmless: the node table is bounded
 * (a full table reuses a DEAD entry, else the message is dropped and logged); a qdevice
 * NODEINFO from a sender we have no entry for is ignored (corosync asserts).
 *
 * Pure: time, timers and sends come through `ServiceApi`; the configuration from `CmapStore`;
 * `ev_tracking` persistence through an injected store.
 */
import type { CmapStore, CmapTrackHandle, CmapNotification } from "../cmap/store.js";
import { CMAP_TRACK_ADD, CMAP_TRACK_DELETE, CMAP_TRACK_MODIFY } from "../cmap/store.js";
import { CmapType, type CmapValue } from "../cmap/types.js";
import type { RingId } from "../../wire/totem/types.js";
import type { VqInfoWire } from "../../wire/ipc/votequorum.js";
import { ServiceId, type ExecSource, type ServiceApi, type ServiceEngine, type SyncHooks, type TimerHandle } from "../services/types.js";
import { AtbType, QuorumKeys, parseAtbNodes, readNodelistVotes, readQdevice, QDEVICE_DEFAULT_SYNC_TIMEOUT_MS, QDEVICE_DEFAULT_TIMEOUT_MS } from "./config.js";
import {
  NodeFlag,
  QDEVICE_NODEID,
  QdeviceOp,
  ReconfigParam,
  VQ_EXEC,
  decodeNodeInfo,
  decodeQdeviceReconfigure,
  decodeQdeviceReg,
  decodeReconfigure,
  encodeNodeInfo,
  encodeQdeviceReconfigure,
  encodeQdeviceReg,
  encodeReconfigure,
} from "./messages.js";

/** Node states as votequorum and its library number them. */
export const NodeState = { MEMBER: 1, DEAD: 2, LEAVING: 3 } as const;
export type NodeState = (typeof NodeState)[keyof typeof NodeState];

/** `VOTEQUORUM_INFO_*` flags of getinfo. */
export const InfoFlag = {
  TWONODE: 1,
  QUORATE: 2,
  WAIT_FOR_ALL: 4,
  LAST_MAN_STANDING: 8,
  AUTO_TIE_BREAKER: 16,
  ALLOW_DOWNSCALE: 32,
  QDEVICE_REGISTERED: 64,
  QDEVICE_ALIVE: 128,
  QDEVICE_CAST_VOTE: 256,
  QDEVICE_MASTER_WINS: 512,
} as const;

/** `cs_error_t` values the engine answers with. */
const CS = { OK: 1, TRY_AGAIN: 6, INVALID_PARAM: 7, ACCESS: 11, NOT_EXIST: 12, EXIST: 14, NAME_NOT_FOUND: 17, NO_RESOURCES: 18, MESSAGE_ERROR: 22 } as const;

/** `PROCESSOR_COUNT_MAX`: the node table holds this many nodes (plus us). */
export const VQ_NODES_MAX = 384;
const DEFAULT_LMS_WINDOW_MS = 10000;

/** One entry of the node table (`struct cluster_node`). */
export interface VqNode {
  nodeId: number;
  state: NodeState;
  votes: number;
  expectedVotes: number;
  flags: number;
}

/** The answer to getinfo (`res_lib_votequorum_getinfo`): the wire layout's fields. */
export type VqInfo = VqInfoWire;

/** Persistence of the highest expected votes seen (`<state_dir>/ev_tracking`). */
export interface EvTrackingStore {
  /** The stored value; creates the store with 0 when missing. Throws when it cannot. */
  load(): number;
  /** Stores `value` durably. Throws on failure (logged, not fatal). */
  save(value: number): void;
}

/** Who hears about quorum changes. */
export interface VoteQuorumListener {
  /**
   * corosync's `quorum_callback` into the quorum service: after every sync round and when
   * quorate flips outside a sync round.
   */
  quorumChanged?(members: readonly number[], quorate: boolean, ringId: RingId): void;
  /** votequorum library notifications, to every tracking client. */
  quorumNotification?(): void;
  nodelistNotification?(): void;
  expectedVotesNotification?(expectedVotes: number): void;
  /** A pending local qdevice registration finished (its IPC response). */
  qdeviceRegistered?(error: number): void;
}

export interface VoteQuorumOptions {
  api: ServiceApi;
  cmap: CmapStore;
  evTracking?: EvTrackingStore;
  listener?: VoteQuorumListener;
}

/**
 * The votequorum engine. Construct, then `init()` (reads the configuration; a returned string
 * is corosync's fatal start-up error), then register it with the service host.
 */
export class VoteQuorum implements ServiceEngine {
  readonly id = ServiceId.VOTEQUORUM;
  readonly name = "corosync_votequorum";
  readonly sync: SyncHooks;

  private readonly api: ServiceApi;
  private readonly keys: QuorumKeys;
  private readonly evStore: EvTrackingStore | undefined;
  listener: VoteQuorumListener;

  /** The node table, sorted by node id; `us` is in it, the qdevice entry is not. */
  private readonly nodes: VqNode[] = [];
  readonly us: VqNode;
  readonly qdevice: VqNode = { nodeId: QDEVICE_NODEID, state: NodeState.DEAD, votes: 0, expectedVotes: 0, flags: 0 };
  qdeviceName = "";

  /** `uint8_t quorum`. */
  quorum = 0;
  quorate = false;
  twoNode = false;
  waitForAll = false;
  waitForAllStatus = false;
  private waitForAllAutoset = false;
  lastManStanding = false;
  lastManStandingWindowMs = DEFAULT_LMS_WINDOW_MS;
  atb: AtbType = AtbType.NONE;
  private initialAtb: AtbType = AtbType.NONE;
  private atbList: number[] = [];
  private lowestNodeId = -1;
  private highestNodeId = -1;
  allowDownscale = false;
  evBarrier = 0;
  evTracking = false;
  evTrackingBarrier = 0;
  qdeviceCanOperate = true;
  qdeviceMasterWins = false;
  private qdeviceTimeoutMs = QDEVICE_DEFAULT_TIMEOUT_MS;
  private qdeviceSyncTimeoutMs = QDEVICE_DEFAULT_SYNC_TIMEOUT_MS;

  /** Members of the current and previous sync rounds, and the current ring. */
  members: number[] = [];
  private previousMembers: number[] = [];
  ringId: RingId = { rep: 0, seq: 0n };

  private syncInProgress = false;
  private syncNodeinfoSent = false;
  private syncWaitForPoll = false;
  private lmsTimer: TimerHandle | undefined;
  private qdeviceTimer: TimerHandle | undefined;
  /** A local qdevice registration waiting for its QDEVICE_REG to come back. */
  private qdeviceRegPending = false;
  private readonly tracks: CmapTrackHandle[] = [];
  private leavingSent: (() => void) | undefined;

  constructor(opts: VoteQuorumOptions) {
    this.api = opts.api;
    this.keys = new QuorumKeys(opts.cmap);
    this.evStore = opts.evTracking;
    this.listener = opts.listener ?? {};
    this.us = this.addNode(opts.api.nodeId)!;
    this.us.state = NodeState.MEMBER;
    this.us.votes = 1;
    this.us.flags |= NodeFlag.FIRST;
    this.sync = {
      init: (trans, members, ringId) => this.syncInit(members, ringId),
      process: () => this.syncProcess(),
      activate: () => this.syncActivate(),
      abort: () => {},
    };
  }

  // ------------------------------------------------------------------ start and stop

  /**
   * `votequorum_exec_init_fn`: read the configuration, compute quorum, watch the
   * `quorum.`/`nodelist.` keys for runtime changes and announce ourselves (NODEINFO with
   * FIRST). Returns corosync's error text when the configuration is unusable.
   */
  init(): string | undefined {
    this.setRuntime("this_node_id", CmapType.UINT32, this.us.nodeId);
    const error = this.readConfig(false);
    if (error !== undefined) return error;
    this.recalculateQuorum(false, false);
    for (const key of ["allow_downscale", "wait_for_all", "last_man_standing", "last_man_standing_window", "expected_votes_tracking", "auto_tie_breaker", "auto_tie_breaker_node"]) {
      this.keys.cmap.setReadOnly(`quorum.${key}`, false);
    }
    const events = CMAP_TRACK_ADD | CMAP_TRACK_DELETE | CMAP_TRACK_MODIFY;
    this.tracks.push(this.keys.cmap.track("nodelist.", { prefix: true, events }, (n) => this.refreshConfig(n)));
    this.tracks.push(this.keys.cmap.track("quorum.", { prefix: true, events }, (n) => this.refreshConfig(n)));
    this.tracks.push(this.keys.cmap.track("config.totemconfig_reload_in_progress", { events: CMAP_TRACK_ADD | CMAP_TRACK_MODIFY }, (n) => this.refreshConfig(n)));
    this.sendNodeInfo(this.us.nodeId);
    return undefined;
  }

  /**
   * `votequorum_exec_exit_fn`: with allow_downscale, tell the others we leave (NODEINFO with
   * LEAVING). Resolves once that message came back in agreed order (or at once when nothing
   * was sent); the caller bounds the wait.
   */
  leave(): Promise<void> {
    if (!this.allowDownscale) return Promise.resolve();
    this.us.flags |= NodeFlag.LEAVING;
    if (!this.sendNodeInfo(this.us.nodeId)) return Promise.resolve();
    return new Promise((resolve) => (this.leavingSent = resolve));
  }

  /** Cancel timers and cmap tracking. */
  stop(): void {
    this.lmsTimer?.cancel();
    this.qdeviceTimer?.cancel();
    this.lmsTimer = this.qdeviceTimer = undefined;
    for (const t of this.tracks.splice(0)) t.cancel();
  }

  // ------------------------------------------------------------------ node table

  /** All entries, ascending node id (`cluster_members_list`). */
  get nodeList(): readonly VqNode[] {
    return this.nodes;
  }

  findNode(nodeId: number): VqNode | undefined {
    if (nodeId === this.us.nodeId) return this.us;
    if (nodeId === QDEVICE_NODEID) return this.qdevice;
    return this.nodes.find((n) => n.nodeId === nodeId);
  }

  /** `allocate_node`: a new entry in id order; a full table reuses a DEAD entry. */
  private addNode(nodeId: number): VqNode | undefined {
    if (this.nodes.length >= VQ_NODES_MAX + 1) {
      const dead = this.nodes.findIndex((n) => n.state === NodeState.DEAD && n !== this.us);
      if (dead < 0) return undefined;
      this.nodes.splice(dead, 1);
    }
    const node: VqNode = { nodeId, state: NodeState.DEAD, votes: 0, expectedVotes: 0, flags: 0 };
    const at = this.nodes.findIndex((n) => nodeId < n.nodeId);
    if (at < 0) this.nodes.push(node);
    else this.nodes.splice(at, 0, node);
    return node;
  }

  private memberNodes(): VqNode[] {
    return this.nodes.filter((n) => n.state === NodeState.MEMBER);
  }

  // ------------------------------------------------------------------ quorum arithmetic

  /**
   * `calculate_quorum`: the quorum for the current table. `maxExpected` > 0 replaces the
   * highest expected votes (raised to `ev_barrier` with allow_downscale and allowDecrease).
   */
  calculateQuorum(allowDecrease: boolean, maxExpected: number): { quorum: number; totalVotes: number } {
    if (this.allowDownscale && allowDecrease && maxExpected > 0) maxExpected = Math.max(this.evBarrier, maxExpected);
    let totalVotes = 0;
    let totalNodes = 0;
    let highestExpected = 0;
    for (const n of this.memberNodes()) {
      highestExpected = Math.max(highestExpected, n.expectedVotes);
      totalVotes += n.votes;
      totalNodes++;
    }
    if (this.us.flags & NodeFlag.QDEVICE_CAST_VOTE) {
      totalVotes += this.qdevice.votes;
      totalNodes++;
    }
    if (maxExpected > 0) highestExpected = maxExpected;
    let quorum = Math.max(Math.floor((highestExpected + 2) / 2), Math.floor((totalVotes + 2) / 2));
    if (!allowDecrease) quorum = Math.max(this.quorum, quorum);
    if (this.twoNode && totalNodes <= 2) quorum = 1;
    return { quorum, totalVotes };
  }

  /** `update_node_expected_votes`: every MEMBER's expected votes := `value` (0: no change). */
  private setMembersExpected(value: number): void {
    if (value === 0) return;
    for (const n of this.memberNodes()) n.expectedVotes = value;
  }

  /** `get_total_votes`: MEMBER votes plus the qdevice's, members counting the device. */
  private totalVotes(): { votes: number; members: number } {
    const m = this.memberNodes();
    let votes = m.reduce((s, n) => s + n.votes, 0);
    let members = m.length;
    if (this.qdevice.votes > 0) {
      votes += this.qdevice.votes;
      members++;
    }
    return { votes, members };
  }

  /**
   * `recalculate_quorum`: raise our expected votes to the total, persist it with
   * expected_votes_tracking, recompute quorum (with `byCurrentNodes`, expected votes become
   * the member count) and decide quorate.
   */
  recalculateQuorum(allowDecrease: boolean, byCurrentNodes: boolean): void {
    const t = this.totalVotes();
    this.api.log("debug", "VOTEQ", `total_votes=${t.votes}, expected_votes=${this.us.expectedVotes}`);
    const members = byCurrentNodes ? t.members : 0;
    if (t.votes > this.us.expectedVotes) {
      this.us.expectedVotes = t.votes;
      this.listener.expectedVotesNotification?.(this.us.expectedVotes);
    }
    if (this.evTracking && this.us.expectedVotes > this.evTrackingBarrier) this.updateEvTrackingBarrier(this.us.expectedVotes);
    const q = this.calculateQuorum(allowDecrease, members);
    this.quorum = q.quorum & 0xff;
    this.setMembersExpected(members);
    this.areWeQuorate(q.totalVotes);
  }

  /** `are_we_quorate`: the wait_for_all gate, the vote rule, ATB and master_wins. */
  private areWeQuorate(totalVotes: number): void {
    if (this.waitForAll && this.waitForAllStatus) {
      if (totalVotes !== this.us.expectedVotes) {
        this.api.log("notice", "VOTEQ", `Waiting for all cluster members. Current votes: ${totalVotes} expected_votes: ${this.us.expectedVotes}`);
        return;
      }
      this.setWaitForAllStatus(false);
    }
    let quorate = this.quorum <= totalVotes;
    if (quorate) this.updateLowestHighest();
    if (this.atb !== AtbType.NONE && totalVotes === Math.floor(this.us.expectedVotes / 2) && this.previousMembers.length - this.members.length < this.quorum && this.checkAutoTieBreaker()) {
      quorate = true;
    }
    if (this.qdeviceMasterWins && !quorate && this.memberNodes().some((n) => (n.flags & NodeFlag.QDEVICE_MASTER_WINS) !== 0 && (n.flags & NodeFlag.QDEVICE_CAST_VOTE) !== 0)) {
      this.api.log("debug", "VOTEQ", "node is quorate as part of master_wins partition");
      quorate = true;
    }
    const changed = quorate !== this.quorate;
    if (changed) this.api.log("debug", "VOTEQ", quorate ? "quorum regained, resuming activity" : "quorum lost, blocking activity");
    this.quorate = quorate;
    if (quorate) this.us.flags |= NodeFlag.QUORATE;
    else this.us.flags &= ~NodeFlag.QUORATE;
    if (this.waitForAll) this.setWaitForAllStatus(!quorate);
    if (changed && !this.syncInProgress) {
      this.listener.quorumChanged?.(this.members, this.quorate, this.ringId);
      this.listener.quorumNotification?.();
    }
  }

  private updateLowestHighest(): void {
    const ids = this.memberNodes().map((n) => n.nodeId);
    this.lowestNodeId = Math.min(this.us.nodeId, ...ids);
    this.highestNodeId = Math.max(this.us.nodeId, ...ids);
    this.setRuntime("lowest_node_id", CmapType.UINT32, this.lowestNodeId);
    this.setRuntime("highest_node_id", CmapType.UINT32, this.highestNodeId);
  }

  private isMember(nodeId: number): boolean {
    return this.memberNodes().some((n) => n.nodeId === nodeId);
  }

  /**
   * `check_auto_tie_breaker`: lowest/highest — that node is a member here. A list — the first
   * listed node in this partition wins, unless an earlier-listed node was in the previous
   * membership (it may be in the other half).
   */
  private checkAutoTieBreaker(): boolean {
    if (this.atb === AtbType.LOWEST) return this.isMember(this.lowestNodeId);
    if (this.atb === AtbType.HIGHEST) return this.isMember(this.highestNodeId);
    for (let i = 0; i < this.atbList.length; i++) {
      if (!this.members.includes(this.atbList[i]!)) continue;
      return !this.atbList.slice(0, i).some((id) => this.previousMembers.includes(id));
    }
    return false;
  }

  private setWaitForAllStatus(on: boolean): void {
    this.waitForAllStatus = on;
    if (on) this.us.flags |= NodeFlag.WFASTATUS;
    else this.us.flags &= ~NodeFlag.WFASTATUS;
    this.setRuntime("wait_for_all_status", CmapType.UINT8, on ? 1 : 0);
  }

  private updateEvTrackingBarrier(value: number): void {
    this.evTrackingBarrier = value;
    this.setRuntime("ev_tracking_barrier", CmapType.UINT32, value);
    try {
      this.evStore?.save(value);
    } catch (e) {
      this.api.log("warning", "VOTEQ", `Unable to update ev_tracking_barrier on disk data!!! (${(e as Error).message})`);
    }
  }

  private setRuntime(key: string, type: typeof CmapType.UINT32 | typeof CmapType.UINT8, value: number): void {
    const v: CmapValue = { type, value };
    try {
      this.keys.cmap.set(`runtime.votequorum.${key}`, v, { force: true });
    } catch {
      /* a key name we build is always valid */
    }
  }

  // ------------------------------------------------------------------ configuration

  /**
   * `votequorum_readconfig`. At start-up (`runtime` false) every option is read and an
   * inconsistent configuration returns corosync's error text; at runtime only votes,
   * expected votes, two_node, the nodelist and qdevice settings are re-read, and
   * inconsistencies disable the quorum device instead.
   */
  readConfig(runtime: boolean): string | undefined {
    if (runtime) {
      this.twoNode = false;
      this.atb = this.initialAtb;
      this.setRuntime("atb_type", CmapType.UINT32, this.atb);
    }
    let expectedVotes = this.keys.u32("quorum.expected_votes") ?? 0;
    const nodelist = readNodelistVotes(this.keys);
    const qdev = readQdevice(this.keys);
    if (qdev !== undefined) {
      this.qdeviceTimeoutMs = qdev.timeoutMs;
      this.qdeviceSyncTimeoutMs = qdev.syncTimeoutMs;
      this.setQdeviceCanOperate(true);
    }
    let qdeviceVotes = qdev?.votes ?? 0;
    this.twoNode = (this.keys.u8("quorum.two_node") ?? 0) !== 0;
    const fail = (text: string): string | undefined => {
      if (!runtime) return text;
      this.api.log("error", "VOTEQ", text);
      this.api.log("error", "VOTEQ", "will continue with current runtime data");
      return undefined;
    };
    if (nodelist === undefined && expectedVotes === 0) return fail("configuration error: nodelist or quorum.expected_votes must be configured!");
    if (this.twoNode && qdev !== undefined) {
      if (!runtime) return "configuration error: two_node and quorum device cannot be configured at the same time!";
      this.api.log("error", "VOTEQ", "configuration error: two_node and quorum device cannot be configured at the same time!");
      if (this.us.flags & NodeFlag.QDEVICE_REGISTERED) this.twoNode = false;
      else this.setQdeviceCanOperate(false);
    }
    if (!runtime) {
      const error = this.readStartupOptions();
      if (error !== undefined) return error;
    }
    if (this.waitForAllAutoset) this.waitForAll = this.twoNode;
    if (this.twoNode && this.atb !== AtbType.NONE) {
      this.api.log("error", "VOTEQ", "two_node and auto_tie_breaker are both specified but are not compatible.");
      this.api.log("error", "VOTEQ", "two_node has been disabled, please fix your corosync.conf");
      this.twoNode = false;
    }
    const nodeExpected = nodelist?.expectedVotes ?? 0;
    if (this.atb !== AtbType.NONE && nodeExpected % 2 === 1 && !this.waitForAll) {
      if (this.lastManStanding) return "configuration error: auto_tie_breaker & last_man_standing not available in odd sized cluster";
      this.api.log("error", "VOTEQ", "auto_tie_breaker is set and the cluster has an odd number of nodes. wait_for_all needs to be set for this configuration but it is missing. Therefore auto_tie_breaker has been disabled. Please fix your corosync.conf");
      this.atb = AtbType.NONE;
      this.setRuntime("atb_type", CmapType.UINT32, this.atb);
    }
    const qdevError = this.checkQdeviceConfig(runtime, qdev !== undefined, qdeviceVotes, expectedVotes, nodelist);
    if (qdevError !== undefined) return qdevError;
    let nodelistExpected = nodeExpected;
    if (qdev !== undefined && qdeviceVotes === -1 && expectedVotes === 0 && nodelist !== undefined && nodelist.nodes === nodelist.expectedVotes) {
      qdeviceVotes = nodelist.expectedVotes - 1;
      nodelistExpected = nodelist.expectedVotes + qdeviceVotes;
    }
    if (this.evTracking) expectedVotes = this.evTrackingBarrier;
    if (nodelist !== undefined) {
      this.us.votes = nodelist.votes;
      this.us.expectedVotes = nodelistExpected;
    } else {
      this.us.votes = this.keys.u32("quorum.votes") ?? 1;
    }
    if (expectedVotes > 0) this.us.expectedVotes = expectedVotes;
    if (qdev === undefined) this.qdevice.votes = 0;
    if (qdeviceVotes !== -1 && qdev !== undefined) this.qdevice.votes = qdeviceVotes;
    this.evBarrier = this.us.expectedVotes;
    this.setRuntime("ev_barrier", CmapType.UINT32, this.evBarrier);
    this.setRuntime("two_node", CmapType.UINT8, this.twoNode ? 1 : 0);
    if (this.waitForAll) {
      if (!runtime) this.setWaitForAllStatus(true);
    } else if (this.waitForAllAutoset && this.waitForAllStatus) {
      this.setWaitForAllStatus(false);
    }
    return undefined;
  }

  /** The options read only at start-up: wait_for_all, LMS, ATB, allow_downscale, tracking. */
  private readStartupOptions(): string | undefined {
    this.allowDownscale = (this.keys.u8("quorum.allow_downscale") ?? 0) !== 0;
    const wfa = this.keys.u8("quorum.wait_for_all");
    this.waitForAllAutoset = wfa === undefined;
    this.waitForAll = (wfa ?? 0) !== 0;
    this.lastManStanding = (this.keys.u8("quorum.last_man_standing") ?? 0) !== 0;
    this.lastManStandingWindowMs = this.keys.u32("quorum.last_man_standing_window") ?? DEFAULT_LMS_WINDOW_MS;
    this.evTracking = (this.keys.u8("quorum.expected_votes_tracking") ?? 0) !== 0;
    const atbOn = (this.keys.u8("quorum.auto_tie_breaker") ?? 0) !== 0;
    const atbNode = this.keys.str("quorum.auto_tie_breaker_node");
    this.atb = atbOn ? AtbType.LOWEST : AtbType.NONE;
    if (!atbOn && atbNode !== undefined) this.api.log("warning", "VOTEQ", "auto_tie_breaker_node: is meaningless if auto_tie_breaker is set to 0");
    if (atbOn && atbNode !== undefined) {
      const parsed = parseAtbNodes(atbNode);
      if (parsed === undefined) {
        this.api.log("warning", "VOTEQ", "auto_tie_breaker_nodes is not valid. It must be 'lowest', 'highest' or a space-separated list of node IDs. auto_tie_breaker is disabled");
        this.atb = AtbType.NONE;
      } else {
        this.atb = parsed.type;
        this.atbList = parsed.list;
      }
    }
    // corosync sets runtime.votequorum.atb_type at start-up only when auto_tie_breaker is on
    // (a reload or a later disable sets it in any case).
    if (atbOn) this.setRuntime("atb_type", CmapType.UINT32, this.atb);
    this.initialAtb = this.atb;
    if (this.allowDownscale) this.evTracking = true;
    if (this.evTracking) {
      try {
        this.evTrackingBarrier = this.evStore?.load() ?? 0;
      } catch {
        return "Unable to load ev_tracking file!";
      }
      this.updateEvTrackingBarrier(this.evTrackingBarrier);
    }
    return undefined;
  }

  /** The quorum-device consistency rules of `votequorum_readconfig`. */
  private checkQdeviceConfig(runtime: boolean, haveQdevice: boolean, qdeviceVotes: number, expectedVotes: number, nodelist: { nodes: number; expectedVotes: number } | undefined): string | undefined {
    if (!haveQdevice) return undefined;
    const rules: Array<[boolean, string]> = [
      [this.lastManStanding, "configuration error: quorum.device is not compatible with last_man_standing"],
      [this.atb !== AtbType.NONE, "configuration error: quorum.device is not compatible with auto_tie_breaker"],
      [this.allowDownscale, "configuration error: quorum.device is not compatible with allow_downscale"],
      [expectedVotes > 0 && qdeviceVotes === -1, "configuration error: quorum.device.votes must be specified when quorum.expected_votes is set"],
      [qdeviceVotes === -1 && nodelist !== undefined && nodelist.nodes !== nodelist.expectedVotes, "configuration error: quorum.device.votes must be specified when not all nodes votes 1"],
      [qdeviceVotes > 0 && expectedVotes > 0 && expectedVotes - qdeviceVotes < 2, "configuration error: quorum.device.votes is too high or expected_votes is too low"],
    ];
    for (const [bad, text] of rules) {
      if (!bad) continue;
      if (!runtime) return text;
      this.api.log("error", "VOTEQ", text);
      this.api.log("error", "VOTEQ", "disabling quorum device operations");
      this.setQdeviceCanOperate(false);
    }
    return undefined;
  }

  private setQdeviceCanOperate(on: boolean): void {
    this.qdeviceCanOperate = on;
    this.setRuntime("qdevice_can_operate", CmapType.UINT8, on ? 1 : 0);
  }

  /**
   * `votequorum_refresh_config`: a `quorum.`/`nodelist.` key changed. Nothing happens while
   * a configuration reload is in progress; when it ends (successfully) the configuration is
   * re-read once. `quorum.cancel_wait_for_all` set ≥ 1 is a request to cancel wait_for_all
   * cluster-wide (RECONFIGURE param 3). Otherwise: re-read, announce our NODEINFO (and the
   * qdevice's), and send RECONFIGURE for changed votes / expected votes.
   */
  private refreshConfig(n: CmapNotification): void {
    if ((this.keys.u8("config.totemconfig_reload_in_progress") ?? 0) !== 0) return;
    if (n.key === "config.totemconfig_reload_in_progress") {
      const status = this.keys.cmap.get("config.reload_status");
      if (status !== undefined && status.type === CmapType.INT32 && status.value !== CS.OK) return;
    }
    if (n.key === "quorum.cancel_wait_for_all" && (this.keys.u8("quorum.cancel_wait_for_all") ?? 0) >= 1) {
      try {
        this.keys.cmap.set("quorum.cancel_wait_for_all", { type: CmapType.UINT8, value: 0 }, { force: true });
      } catch {
        /* ignore */
      }
      if (!this.sendReconfigure(ReconfigParam.CANCEL_WFA, this.us.nodeId, 0)) this.api.log("error", "VOTEQ", "Failed to send Cancel WFA message to other nodes");
      return;
    }
    const oldVotes = this.us.votes;
    const oldExpected = this.us.expectedVotes;
    this.readConfig(true);
    this.sendNodeInfo(this.us.nodeId);
    this.sendNodeInfo(QDEVICE_NODEID);
    if (this.us.votes !== oldVotes && !this.sendReconfigure(ReconfigParam.NODE_VOTES, this.us.nodeId, this.us.votes)) {
      this.api.log("error", "VOTEQ", "Failed to send new votes message to other nodes");
    }
    if (this.us.expectedVotes !== oldExpected && !this.sendReconfigure(ReconfigParam.EXPECTED_VOTES, this.us.nodeId, this.us.expectedVotes)) {
      this.api.log("error", "VOTEQ", "Failed to send expected votes message to other nodes");
    }
  }

  // ------------------------------------------------------------------ sending

  /** NODEINFO for `nodeId` as we store it (own entry, or the qdevice for 0). */
  private sendNodeInfo(nodeId: number): boolean {
    const node = this.findNode(nodeId);
    if (node === undefined) return false;
    if (nodeId !== QDEVICE_NODEID) this.api.log("debug", "VOTEQ", `sending nodeinfo: votes: ${node.votes}, expected: ${node.expectedVotes} flags: ${node.flags}`);
    return this.api.mcast(encodeNodeInfo({ nodeId, votes: node.votes, expectedVotes: node.expectedVotes, flags: node.flags }));
  }

  private sendReconfigure(param: number, nodeId: number, value: number): boolean {
    return this.api.mcast(encodeReconfigure({ nodeId, value, param }));
  }

  // ------------------------------------------------------------------ exec messages

  /** An exec message of service 5 in agreed order; malformed ones are dropped. */
  exec(fn: number, message: Uint8Array, from: ExecSource): void {
    switch (fn) {
      case VQ_EXEC.NODEINFO: {
        const m = decodeNodeInfo(message, from.bigEndian);
        if (m !== undefined) this.onNodeInfo(m.nodeId, m.votes, m.expectedVotes, m.flags, from.nodeId);
        return;
      }
      case VQ_EXEC.RECONFIGURE: {
        const m = decodeReconfigure(message, from.bigEndian);
        if (m !== undefined) this.onReconfigure(m.param, m.nodeId, m.value, from.nodeId);
        return;
      }
      case VQ_EXEC.QDEVICE_REG: {
        const m = decodeQdeviceReg(message, from.bigEndian);
        if (m !== undefined) this.onQdeviceReg(m.operation, m.name, from.nodeId);
        return;
      }
      case VQ_EXEC.QDEVICE_RECONFIGURE: {
        const m = decodeQdeviceReconfigure(message);
        if (m !== undefined && m.oldName === this.qdeviceName) {
          this.api.log("debug", "VOTEQ", "Allowing qdevice rename");
          this.qdeviceName = m.newName;
        }
        return;
      }
      default:
        return;
    }
  }

  /** `message_handler_req_exec_votequorum_nodeinfo` (totem-spec §7.3 "NODEINFO handler"). */
  private onNodeInfo(nodeId: number, votes: number, expectedVotes: number, flags: number, sender: number): void {
    this.api.log("debug", "VOTEQ", `got nodeinfo message from cluster node ${sender}`);
    this.api.log("debug", "VOTEQ", `nodeinfo message[${nodeId}]: votes: ${votes}, expected: ${expectedVotes} flags: ${flags}`);
    if (nodeId === QDEVICE_NODEID) {
      this.onQdeviceInfo(votes, sender);
      return;
    }
    let node = this.findNode(nodeId);
    const isNew = node === undefined;
    node ??= this.addNode(nodeId);
    if (node === undefined) {
      this.api.log("error", "VOTEQ", `Unable to find memory for node ${nodeId} data!!`);
      return;
    }
    const old = isNew ? { votes: 0, expected: 0, state: NodeState.DEAD as NodeState, flags: 0 } : { votes: node.votes, expected: node.expectedVotes, state: node.state, flags: node.flags };
    let allowDecrease = false;
    let byNode = false;
    node.flags = flags;
    node.votes = votes;
    node.state = NodeState.MEMBER;
    if (flags & NodeFlag.LEAVING) {
      node.state = NodeState.LEAVING;
      allowDecrease = byNode = true;
    }
    if (!this.quorate && flags & NodeFlag.QUORATE) {
      allowDecrease = true;
      this.us.expectedVotes = expectedVotes;
    }
    node.expectedVotes = flags & NodeFlag.QUORATE || this.evTracking ? expectedVotes : this.us.expectedVotes;
    if (this.lastManStanding && node.votes > 1) this.disableLastManStanding();
    const changed = isNew || node === this.us || (node.flags & NodeFlag.FIRST) !== 0 || old.votes !== node.votes || old.expected !== node.expectedVotes || old.flags !== node.flags || old.state !== node.state;
    if (changed) this.recalculateQuorum(allowDecrease, byNode);
    if (this.waitForAll && !(node.flags & NodeFlag.WFASTATUS) && node.flags & NodeFlag.QUORATE) this.setWaitForAllStatus(false);
    if (node === this.us && flags & NodeFlag.LEAVING) this.leavingSent?.();
  }

  /** NODEINFO for node 0: the sender's view of the quorum device's votes. */
  private onQdeviceInfo(votes: number, sender: number): void {
    const senderNode = this.findNode(sender);
    if (senderNode === undefined) return;
    const old = this.qdevice.votes;
    this.qdevice.votes = !this.quorate && senderNode.flags & NodeFlag.QUORATE ? votes : Math.max(old, votes);
    if (old !== this.qdevice.votes) this.recalculateQuorum(false, false);
  }

  private disableLastManStanding(): void {
    this.api.log("warning", "VOTEQ", "Last Man Standing feature is supported only when all cluster nodes votes are set to 1. Disabling LMS.");
    this.lastManStanding = false;
    this.lmsTimer?.cancel();
    this.lmsTimer = undefined;
  }

  /** `message_handler_req_exec_votequorum_reconfigure`. */
  private onReconfigure(param: number, nodeId: number, value: number, sender: number): void {
    this.api.log("debug", "VOTEQ", `got reconfigure message from cluster node ${sender} for ${nodeId}`);
    switch (param) {
      case ReconfigParam.EXPECTED_VOTES:
        this.setMembersExpected(value);
        this.listener.expectedVotesNotification?.(this.us.expectedVotes);
        this.evBarrier = value;
        this.setRuntime("ev_barrier", CmapType.UINT32, value);
        if (this.evTracking) this.us.expectedVotes = Math.max(this.us.expectedVotes, this.evTrackingBarrier);
        this.recalculateQuorum(true, false);
        return;
      case ReconfigParam.NODE_VOTES: {
        const node = this.findNode(nodeId);
        if (node === undefined) return;
        node.votes = value;
        this.recalculateQuorum(true, false);
        return;
      }
      case ReconfigParam.CANCEL_WFA:
        this.setWaitForAllStatus(false);
        this.api.log("info", "VOTEQ", `wait_for_all_status reset by user on node ${nodeId}.`);
        this.recalculateQuorum(false, false);
        return;
      default:
        return;
    }
  }

  /** `message_handler_req_exec_votequorum_qdevice_reg`. */
  private onQdeviceReg(operation: number, name: string, sender: number): void {
    if (operation === QdeviceOp.REGISTER) {
      if (sender !== this.us.nodeId) {
        if (this.qdeviceName === "") this.qdeviceName = name;
        return;
      }
      if (this.us.flags & NodeFlag.QDEVICE_REGISTERED || !this.qdeviceRegPending) return;
      if (this.qdeviceName === "") this.qdeviceName = name;
      let error: number = CS.OK;
      if (name === this.qdeviceName) {
        this.us.flags |= NodeFlag.QDEVICE_REGISTERED;
        this.sendNodeInfo(QDEVICE_NODEID);
        this.sendNodeInfo(this.us.nodeId);
      } else {
        this.api.log("warning", "VOTEQ", `A new qdevice with different name (new: ${name} old: ${this.qdeviceName}) is trying to register!`);
        error = CS.EXIST;
      }
      this.qdeviceRegPending = false;
      this.listener.qdeviceRegistered?.(error);
    } else if (operation === QdeviceOp.UNREGISTER) {
      const stillRegistered = this.memberNodes().some((n) => n.flags & NodeFlag.QDEVICE_REGISTERED);
      if (!stillRegistered) this.qdeviceName = "";
    }
  }

  // ------------------------------------------------------------------ sync

  /** `votequorum_sync_init`: mark nodes that left DEAD, arm the LMS window, rotate lists. */
  private syncInit(members: readonly number[], ringId: RingId): void {
    this.syncInProgress = true;
    this.syncNodeinfoSent = false;
    this.syncWaitForPoll = false;
    if (members.length > 1) this.us.flags &= ~NodeFlag.FIRST;
    let leftNodes = false;
    for (const id of this.members) {
      if (members.includes(id)) continue;
      leftNodes = true;
      const node = this.findNode(id);
      if (node !== undefined) node.state = NodeState.DEAD;
    }
    if (this.lastManStanding) this.maybeArmLms(members.length, leftNodes);
    this.previousMembers = this.members;
    this.members = [...members];
    this.ringId = { ...ringId };
    if (this.us.flags & NodeFlag.QDEVICE_REGISTERED && this.us.flags & NodeFlag.QDEVICE_ALIVE) {
      this.qdeviceTimer?.cancel();
      this.qdeviceTimer = this.api.schedule(this.qdeviceSyncTimeoutMs, () => this.qdeviceTimerExpired());
      this.syncWaitForPoll = true;
      this.api.log("info", "VOTEQ", `waiting for quorum device ${this.qdeviceName} poll (but maximum for ${this.qdeviceSyncTimeoutMs} ms)`);
    }
  }

  /**
   * The LMS window starts (again) when the new ring still has at least `quorum` members and
   * somebody left, or — with ATB — when it is down to `quorum` or fewer and holds the lowest
   * node id. A running window is restarted; it is never cancelled here.
   */
  private maybeArmLms(memberCount: number, leftNodes: boolean): void {
    const byLeave = memberCount >= this.quorum && leftNodes;
    const byAtb = memberCount <= this.quorum && this.atb !== AtbType.NONE && this.isMember(this.lowestNodeId);
    if (!byLeave && !byAtb) return;
    this.lmsTimer?.cancel();
    this.lmsTimer = this.api.schedule(this.lastManStandingWindowMs, () => {
      this.lmsTimer = undefined;
      if (this.quorate) this.recalculateQuorum(true, true);
    });
  }

  /** `votequorum_sync_process`: our NODEINFO, the qdevice's, a QDEVICE_REG if we know one. */
  private syncProcess(): boolean {
    if (!this.syncNodeinfoSent) {
      const need = 32 + 32 + (this.qdeviceName !== "" ? 280 : 0);
      if (!this.api.sendOk(need)) return false;
      this.sendNodeInfo(this.us.nodeId);
      this.sendNodeInfo(QDEVICE_NODEID);
      if (this.qdeviceName !== "") this.api.mcast(encodeQdeviceReg({ operation: QdeviceOp.REGISTER, name: this.qdeviceName }));
      this.listener.nodelistNotification?.();
      this.syncNodeinfoSent = true;
    }
    return !(this.us.flags & NodeFlag.QDEVICE_REGISTERED && this.syncWaitForPoll);
  }

  /** `votequorum_sync_activate`: recompute (quorum never decreases here) and tell everyone. */
  private syncActivate(): void {
    this.recalculateQuorum(false, false);
    this.listener.quorumChanged?.(this.members, this.quorate, this.ringId);
    this.listener.quorumNotification?.();
    this.syncInProgress = false;
  }

  // ------------------------------------------------------------------ library calls

  /**
   * getinfo for `nodeId` (0 = us): undefined when we have no entry (`NOT_EXIST`). Totals are
   * over MEMBER nodes, plus the device's votes when that node's flags say it casts them.
   */
  getInfo(nodeId: number): VqInfo | undefined {
    const node = this.findNode(nodeId === QDEVICE_NODEID ? this.us.nodeId : nodeId);
    if (node === undefined) return undefined;
    let highestExpected = 0;
    let totalVotes = 0;
    for (const n of this.memberNodes()) {
      highestExpected = Math.max(highestExpected, n.expectedVotes);
      totalVotes += n.votes;
    }
    if (node.flags & NodeFlag.QDEVICE_CAST_VOTE) totalVotes += this.qdevice.votes;
    let flags = 0;
    if (this.twoNode) flags |= InfoFlag.TWONODE;
    if (this.quorate) flags |= InfoFlag.QUORATE;
    if (this.waitForAll) flags |= InfoFlag.WAIT_FOR_ALL;
    if (this.lastManStanding) flags |= InfoFlag.LAST_MAN_STANDING;
    if (this.atb !== AtbType.NONE) flags |= InfoFlag.AUTO_TIE_BREAKER;
    if (this.allowDownscale) flags |= InfoFlag.ALLOW_DOWNSCALE;
    if (node.flags & NodeFlag.QDEVICE_REGISTERED) flags |= InfoFlag.QDEVICE_REGISTERED;
    if (node.flags & NodeFlag.QDEVICE_ALIVE) flags |= InfoFlag.QDEVICE_ALIVE;
    if (node.flags & NodeFlag.QDEVICE_CAST_VOTE) flags |= InfoFlag.QDEVICE_CAST_VOTE;
    if (node.flags & NodeFlag.QDEVICE_MASTER_WINS) flags |= InfoFlag.QDEVICE_MASTER_WINS;
    return {
      nodeId: node.nodeId,
      state: node.state,
      votes: node.votes,
      expectedVotes: node.expectedVotes,
      highestExpected,
      totalVotes,
      quorum: this.quorum,
      flags,
      qdeviceVotes: this.qdevice.votes,
      qdeviceName: this.qdeviceName,
    };
  }

  /**
   * setexpected: refused (`INVALID_PARAM`) below the current total votes, or when a quorate
   * cluster would become inquorate; else applied to our MEMBER entries and sent to all as
   * RECONFIGURE (`NO_RESOURCES` when it cannot be queued).
   */
  setExpected(expected: number): number {
    const saved = this.allowDownscale;
    this.allowDownscale = false;
    const q = this.calculateQuorum(true, expected);
    this.allowDownscale = saved;
    if (expected < q.totalVotes || (this.quorate && q.quorum > q.totalVotes)) return CS.INVALID_PARAM;
    this.setMembersExpected(expected);
    return this.sendReconfigure(ReconfigParam.EXPECTED_VOTES, this.us.nodeId, expected) ? CS.OK : CS.NO_RESOURCES;
  }

  /**
   * setvotes: `NAME_NOT_FOUND` for an unknown node; `INVALID_PARAM` when the resulting quorum
   * would be below half or above the total votes; else applied locally and sent to all.
   */
  setVotes(nodeId: number, votes: number): number {
    const node = this.findNode(nodeId);
    if (node === undefined) return CS.NAME_NOT_FOUND;
    const saved = node.votes;
    node.votes = votes;
    const q = this.calculateQuorum(true, 0);
    if (q.quorum < Math.floor(q.totalVotes / 2) || q.quorum > q.totalVotes) {
      node.votes = saved;
      return CS.INVALID_PARAM;
    }
    return this.sendReconfigure(ReconfigParam.NODE_VOTES, nodeId, votes) ? CS.OK : CS.NO_RESOURCES;
  }

  /** The node list of a quorum notification: every entry (and the device when registered). */
  notificationNodes(): Array<{ nodeId: number; state: number }> {
    const out = this.nodes.map((n) => ({ nodeId: n.nodeId, state: n.state as number }));
    if (this.us.flags & NodeFlag.QDEVICE_REGISTERED) out.push({ nodeId: QDEVICE_NODEID, state: this.qdevice.state });
    return out;
  }

  // ------------------------------------------------------------------ quorum device

  /**
   * qdevice_register: `ACCESS` when the configuration forbids a device, `EXIST` for another
   * name, `TRY_AGAIN` while a registration is pending. Otherwise a QDEVICE_REG goes round the
   * ring and the answer comes through `listener.qdeviceRegistered` (undefined returned here).
   */
  qdeviceRegister(name: string): number | undefined {
    if (!this.qdeviceCanOperate) {
      this.api.log("info", "VOTEQ", "Registration of quorum device is disabled by incorrect corosync.conf. See logs for more information");
      return CS.ACCESS;
    }
    if (this.us.flags & NodeFlag.QDEVICE_REGISTERED) return name === this.qdeviceName ? CS.OK : CS.EXIST;
    if (this.qdeviceRegPending) return CS.TRY_AGAIN;
    let msg: Uint8Array;
    try {
      msg = encodeQdeviceReg({ operation: QdeviceOp.REGISTER, name });
    } catch {
      return CS.INVALID_PARAM;
    }
    if (!this.api.mcast(msg)) return CS.TRY_AGAIN;
    this.qdeviceRegPending = true;
    return undefined;
  }

  /** The registering connection went away before its answer. */
  qdeviceRegisterAbandoned(): void {
    this.qdeviceRegPending = false;
  }

  qdeviceUnregister(name: string): number {
    if (!(this.us.flags & NodeFlag.QDEVICE_REGISTERED)) return CS.NOT_EXIST;
    if (name !== this.qdeviceName) return CS.INVALID_PARAM;
    this.qdeviceTimer?.cancel();
    this.qdeviceTimer = undefined;
    this.syncWaitForPoll = false;
    this.us.flags &= ~(NodeFlag.QDEVICE_REGISTERED | NodeFlag.QDEVICE_ALIVE | NodeFlag.QDEVICE_CAST_VOTE | NodeFlag.QDEVICE_MASTER_WINS);
    this.sendNodeInfo(this.us.nodeId);
    this.api.mcast(encodeQdeviceReg({ operation: QdeviceOp.UNREGISTER, name }));
    return CS.OK;
  }

  qdeviceUpdate(oldName: string, newName: string): number {
    if (!(this.us.flags & NodeFlag.QDEVICE_REGISTERED)) return CS.NOT_EXIST;
    if (oldName !== this.qdeviceName) return CS.INVALID_PARAM;
    try {
      this.api.mcast(encodeQdeviceReconfigure({ oldName, newName }));
    } catch {
      return CS.INVALID_PARAM;
    }
    return CS.OK;
  }

  /**
   * qdevice_poll: the device is alive (and casts its vote or not) for the ring `ringId`,
   * which must be the last synced ring (`MESSAGE_ERROR` otherwise).
   */
  qdevicePoll(name: string, castVote: boolean, ringId: RingId): number {
    if (!this.qdeviceCanOperate) return CS.ACCESS;
    if (!(this.us.flags & NodeFlag.QDEVICE_REGISTERED)) return CS.NOT_EXIST;
    if (ringId.rep !== this.ringId.rep || ringId.seq !== this.ringId.seq) return CS.MESSAGE_ERROR;
    if (name !== this.qdeviceName) return CS.INVALID_PARAM;
    this.qdeviceTimer?.cancel();
    const oldFlags = this.us.flags;
    this.us.flags |= NodeFlag.QDEVICE_ALIVE;
    if (castVote) this.us.flags |= NodeFlag.QDEVICE_CAST_VOTE;
    else this.us.flags &= ~NodeFlag.QDEVICE_CAST_VOTE;
    if (this.us.flags !== oldFlags) this.sendNodeInfo(this.us.nodeId);
    this.qdeviceTimer = this.api.schedule(this.qdeviceTimeoutMs, () => this.qdeviceTimerExpired());
    this.syncWaitForPoll = false;
    return CS.OK;
  }

  qdeviceMasterWinsSet(name: string, allow: boolean): number {
    if (!this.qdeviceCanOperate) return CS.ACCESS;
    if (!(this.us.flags & NodeFlag.QDEVICE_REGISTERED)) return CS.NOT_EXIST;
    if (name !== this.qdeviceName) return CS.INVALID_PARAM;
    const oldFlags = this.us.flags;
    if (allow) this.us.flags |= NodeFlag.QDEVICE_MASTER_WINS;
    else this.us.flags &= ~NodeFlag.QDEVICE_MASTER_WINS;
    if (this.us.flags !== oldFlags) this.sendNodeInfo(this.us.nodeId);
    this.qdeviceMasterWins = allow;
    this.setRuntime("qdevice_master_wins", CmapType.UINT8, allow ? 1 : 0);
    return CS.OK;
  }

  /** No poll in time: the device is considered dead and its vote withdrawn. */
  private qdeviceTimerExpired(): void {
    this.qdeviceTimer = undefined;
    if (!(this.us.flags & NodeFlag.QDEVICE_ALIVE)) return;
    this.us.flags &= ~(NodeFlag.QDEVICE_ALIVE | NodeFlag.QDEVICE_CAST_VOTE);
    this.api.log("info", "VOTEQ", `lost contact with quorum device ${this.qdeviceName}`);
    this.sendNodeInfo(this.us.nodeId);
    this.syncWaitForPoll = false;
  }
}
