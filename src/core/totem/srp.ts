import {
  Encapsulation,
  formatRingId,
  MessageType,
  type CommitToken,
  type Mcast,
  type OrfToken,
  type RingId,
  type TotemMessage,
} from "../../wire/totem/types.js";
import { Fifo } from "./fifo.js";
import { SortQueue } from "./sort-queue.js";
import { TimerSet, type TimerName } from "./timers.js";
import {
  GatherFrom,
  MembState,
  MEMB_STATE_NAMES,
  MESSAGE_SIZE_MAX,
  SEQNO_START_MSG,
  SEQNO_START_TOKEN,
} from "./constants.js";
import {
  emptySrpStats,
  type LogLevel,
  type SrpConfig,
  type SrpEffect,
  type SrpStats,
  type SrpUpcalls,
} from "./types.js";
import * as memb from "./membership.js";
import * as token from "./token.js";

/** A message waiting in a new-message or retransmit queue, or stored in a sort queue. */
export interface StoredMcast {
  msg: Mcast;
  /** The originator wrote big-endian fields (affects how the payload is parsed above). */
  bigEndian: boolean;
}

/** Where `mcast` queues a packet (ours; corosync always uses the current queue). */
export interface McastOptions {
  /** "normal" bypasses the sync-time queue: totempg's re-pack of application traffic. */
  queue?: "current" | "normal";
  /** Ignore the queue bound (re-queuing packets that were already admitted once). */
  force?: boolean;
}

/** What the core needs at construction. */
export interface SrpInit {
  /** This processor's nodeid (non-zero). */
  nodeId: number;
  config: SrpConfig;
  /**
   * The ring seq persisted under `<state_dir>/ringid_<nodeid>` (0 when absent). The core adds
   * one at start (totem-spec §4.2) and asks the driver to persist every new ring id.
   */
  persistedRingSeq: bigint;
  upcalls: SrpUpcalls;
}

/**
 * The Totem single-ring ordering and membership protocol (SRP), corosync 3.x flavour, as a
 * pure state machine (totem-spec §4; Amir et al., TOCS 1995).
 *
 * Inputs: `start`, `receive` (a decoded, already authenticated frame), `mcast` (queue a
 * totempg packet), `tick` (time passes), `leave`, `transAck`, `holdCancel`. Outputs: upcalls
 * into the layer above (deliveries and configuration changes, in EVS order) and effects for
 * the driver (`takeEffects()`: frames to send, ring ids to persist, log records), plus
 * `nextDeadline()` for the one timer the driver arms. No sockets, clocks or randomness.
 *
 * Fields are public for the handler modules of this directory (membership.ts, token.ts,
 * delivery.ts) and for tests; only the methods are the API.
 */
export class TotemSrp {
  readonly myId: number;
  /** Replaced as a whole by `reconfigure` (never mutated in place). */
  private currentCfg: SrpConfig;
  readonly up: SrpUpcalls;
  readonly stats: SrpStats = emptySrpStats();
  readonly timers = new TimerSet();
  /** Time of the input being handled (ms, from the driver). */
  now = 0;
  effects: SrpEffect[] = [];
  /**
   * Called right after the ORF token is queued for sending (`tokenSent`), before this visit's
   * deliveries to the layer above: a driver that sets it carries out the effects queued so far
   * (this visit's MCASTs, then the token) at once, so the next processor works while this one
   * delivers — corosync's order (`token_send` before `messages_deliver_to_app`). Without it
   * the effects wait for `takeEffects` after the input, as before.
   */
  onTokenSent: (() => void) | undefined;

  state: MembState = MembState.OPERATIONAL;
  started = false;
  myRingId: RingId;
  myOldRingId: RingId;
  /** Highest ring seq seen (own ring, joins): the next ring is this + 4. */
  tokenRingIdSeq: bigint;

  myProcList: number[] = [];
  myFailedList: number[] = [];
  consensus = new Set<number>();
  /** Members of the installed ring, in ring order. */
  myMembList: number[] = [];
  myNewMembList: number[] = [];
  myTransMembList: number[] = [];
  myDeliverMembList: number[] = [];
  myLeftMembList: number[] = [];
  /** Nodes that announced a LEAVE since the last install (to log "left" vs "failed"). */
  myLeaveMembList: number[] = [];

  myAru = SEQNO_START_MSG;
  myHighSeqReceived = SEQNO_START_MSG;
  myHighDelivered = SEQNO_START_MSG;
  myLastAru = SEQNO_START_MSG;
  /** Last accepted token_seq; starts at −1 (u32 0xffffffff). */
  myTokenSeq = (SEQNO_START_TOKEN - 1) >>> 0;
  myLastSeq = 0;
  mySeqUnchanged = 0;
  myAruCount = 0;
  myRetransFlgCount = 0;
  myRotationCounter = 0;
  mySetRetransFlg = false;
  /** Consecutive RECOVERY visits that saw a retrans_flg no member can own (token.ts). */
  myOrphanRetransFlgVisits = 0;
  /** Token seq at the previous RECOVERY visit (for the count above). */
  myRecoveryLastSeq = 0;
  myReceivedFlg = true;
  myInstallSeq = SEQNO_START_MSG;
  lastReleased = SEQNO_START_MSG;
  myHighRingDelivered = 0;
  /** Highest seq known to be held by every member (safe delivery point). */
  mySafeSeq = SEQNO_START_MSG;

  oldRingStateSaved = false;
  oldRingStateAru = 0;
  oldRingStateHighSeqReceived = 0;

  orfTokenDiscard = false;
  originatedOrfToken = false;
  failedToRecv = false;
  myTrc = 0;
  myPbl = 0;
  myCbl = 0;
  myTokenHeld = false;
  waitingTransAck = true;
  globalSeqno = 0;
  lastTokenRxAt = 0;

  /** The last token or commit token sent, kept for retransmission (`orf_token_retransmit`). */
  retransmitCopy: OrfToken | CommitToken | undefined;
  /** Successor on the ring being formed / installed (transport token target). */
  tokenTarget = 0;
  commitToken: CommitToken | undefined;

  newMessageQueue: Fifo<StoredMcast>;
  newMessageQueueTrans: Fifo<StoredMcast>;
  retransMessageQueue: Fifo<StoredMcast>;
  regularSortQueue = new SortQueue<StoredMcast>();
  /**
   * New-ring regular messages received while still in RECOVERY (a member that installed
   * early): kept aside and added to the regular queue at install, so they cannot overwrite
   * old-ring messages (ours; corosync stores them in the old ring's queue).
   */
  earlyRegular = new Map<number, StoredMcast>();
  recoverySortQueue = new SortQueue<StoredMcast>();

  constructor(init: SrpInit) {
    if (!Number.isInteger(init.nodeId) || init.nodeId <= 0 || init.nodeId > 0xffffffff) {
      throw new RangeError(`nodeId must be a non-zero u32, got ${init.nodeId}`);
    }
    this.myId = init.nodeId;
    this.currentCfg = init.config;
    this.up = init.upcalls;
    this.myRingId = { rep: this.myId, seq: BigInt.asUintN(64, init.persistedRingSeq) };
    this.myOldRingId = { ...this.myRingId };
    this.tokenRingIdSeq = this.myRingId.seq;
    const queueMax = Math.max(16, Math.floor((4 * MESSAGE_SIZE_MAX) / init.config.netMtu));
    this.newMessageQueue = new Fifo(queueMax);
    this.newMessageQueueTrans = new Fifo(queueMax);
    this.retransMessageQueue = new Fifo(queueMax);
  }

  /** The timers and constants in force. */
  get cfg(): SrpConfig {
    return this.currentCfg;
  }

  /**
   * Runtime configuration change (`corosync-cfgtool -R`, corosync's
   * `totem_volatile_config_read`): new timeouts and constants take effect at their next use
   * (a running timer keeps its deadline). `netMtu` cannot change: queues and packing are sized
   * from it.
   */
  reconfigure(config: Omit<SrpConfig, "netMtu">): void {
    this.currentCfg = { ...config, netMtu: this.currentCfg.netMtu };
  }

  // ---------------------------------------------------------------- inputs

  /**
   * The interface is up (`main_iface_change_fn`, totem-spec §4.2): the ring seq loaded at
   * construction is incremented by one, so a restarted node never reuses a ring id, and the
   * processor enters GATHER.
   */
  start(now: number): void {
    this.now = now;
    if (this.started) return;
    this.started = true;
    this.lastInputAt = now;
    this.myRingId = { rep: this.myId, seq: BigInt.asUintN(64, this.myRingId.seq + 1n) };
    this.tokenRingIdSeq = this.myRingId.seq;
    this.log("debug", `Created or loaded sequence id ${formatRingId(this.myRingId)} for this ring.`);
    memb.gatherEnter(this, GatherFrom.INTERFACE_CHANGE);
  }

  /**
   * A frame from the network, decoded and authenticated by the driver. The core trusts no
   * field: anything that would corrupt its state is dropped and counted (`rx_msg_rejected`).
   */
  receive(now: number, msg: TotemMessage, bigEndian = false): void {
    this.now = now;
    if (!this.started) return;
    this.notePause(now);
    switch (msg.type) {
      case MessageType.ORF_TOKEN:
        this.stats.orf_token_rx++;
        token.handleOrfToken(this, msg);
        break;
      case MessageType.MCAST:
        this.stats.mcast_rx++;
        token.handleMcast(this, msg, bigEndian);
        break;
      case MessageType.MEMB_MERGE_DETECT:
        this.stats.memb_merge_detect_rx++;
        memb.handleMergeDetect(this, msg);
        break;
      case MessageType.MEMB_JOIN:
        this.stats.memb_join_rx++;
        memb.handleJoin(this, msg);
        break;
      case MessageType.MEMB_COMMIT_TOKEN:
        this.stats.memb_commit_token_rx++;
        memb.handleCommitToken(this, msg);
        break;
      case MessageType.TOKEN_HOLD_CANCEL:
        this.stats.token_hold_cancel_rx++;
        token.handleHoldCancel(this, msg);
        break;
    }
  }

  /**
   * Queue a totempg packet for ordered multicast (`totemsrp_mcast`). Returns false when the
   * queue is full (the caller retries later). `guarantee` 1 asks for safe delivery.
   */
  mcast(now: number, payload: Uint8Array, guarantee: 0 | 1 = 0, opts?: McastOptions): boolean {
    this.now = now;
    const queue = this.waitingTransAck && opts?.queue !== "normal" ? this.newMessageQueueTrans : this.newMessageQueue;
    if (queue.isFull() && opts?.force !== true) return false;
    const msg: Mcast = {
      type: MessageType.MCAST,
      encapsulated: Encapsulation.NOT_ENCAPSULATED,
      nodeId: this.myId,
      targetNodeId: 0,
      systemFrom: this.myId,
      seq: 0,
      thisSeqno: 0,
      ringId: this.myRingId,
      nodeIdField: 0,
      guarantee,
      payload,
    };
    this.stats.mcast_tx++;
    return opts?.force === true ? (queue.pushUnbounded({ msg, bigEndian: false }), true) : queue.push({ msg, bigEndian: false });
  }

  /**
   * Take back every packet still waiting in the normal new-message queue, in order (ours, not
   * corosync's): totempg re-packs them at a configuration change so that no packet of the new
   * configuration continues a message begun in the old one (see `TotemPg.confchg`).
   */
  takeUnsent(): Array<{ payload: Uint8Array; guarantee: 0 | 1 }> {
    const out: Array<{ payload: Uint8Array; guarantee: 0 | 1 }> = [];
    for (let item = this.newMessageQueue.shift(); item !== undefined; item = this.newMessageQueue.shift()) {
      out.push({ payload: item.msg.payload, guarantee: item.msg.guarantee === 1 ? 1 : 0 });
    }
    return out;
  }

  /** Free slots in the queue `mcast` would use (`totemsrp_avail`). */
  avail(): number {
    return (this.waitingTransAck ? this.newMessageQueueTrans : this.newMessageQueue).avail();
  }

  /** Time passes: fire every expired timer, earliest first. */
  tick(now: number): void {
    this.now = now;
    this.notePause(now);
    for (let guard = 0; guard < 64; guard++) {
      const name = this.timers.popExpired(now);
      if (name === undefined) return;
      this.fireTimer(name);
    }
  }

  /**
   * Clean shutdown (`memb_leave_message_send`): multicast a LEAVE so the others re-form at
   * once instead of waiting for the token timeout (totem-spec §3.5).
   */
  leave(now: number): void {
    this.now = now;
    if (!this.started) return;
    memb.leaveMessageSend(this);
  }

  /**
   * The layer above finished synchronisation (`totemsrp_trans_ack`): application messages
   * queued during sync may now go out.
   */
  transAck(): void {
    // Packets queued while waiting but not yet sent follow the normal queue (emission order);
    // corosync leaves them stranded in the trans queue until the next configuration change.
    for (let item = this.newMessageQueueTrans.shift(); item !== undefined; item = this.newMessageQueueTrans.shift()) {
      this.newMessageQueue.pushUnbounded(item);
    }
    this.waitingTransAck = false;
    this.up.waitingTransAck(false);
  }

  /**
   * Something wants to send (`totemsrp_event_signal`): if this node saw the token held,
   * multicast TOKEN_HOLD_CANCEL so the ring speeds up again (totem-spec §4.11).
   */
  holdCancel(now: number): void {
    this.now = now;
    token.holdCancelSend(this);
  }

  /** Force a new membership round as if the token were lost (`totemsrp_force_gather`). */
  forceGather(now: number): void {
    this.now = now;
    if (this.started) token.onTokenTimeout(this);
  }

  /**
   * Scheduling pauses (corosync's `pause_flush` threshold: more than token/2 without running;
   * a healthy node has an input at least every token-retransmit interval). Deviation from
   * corosync, for liveness: while forming a membership, a pause restarts the consensus
   * timer — the deadline says nothing about the others, who kept running, and failing every
   * processor we did not hear from while we were stopped poisons the failed lists of the
   * whole cluster for several consensus rounds (found by the swarm).
   */
  private notePause(now: number): void {
    const gap = now - this.lastInputAt;
    this.lastInputAt = now;
    if (gap <= this.cfg.tokenMs / 2) return;
    this.log("notice", `Process pause detected for ${Math.round(gap)} ms, restarting the membership round timers.`);
    if (this.timers.isPending("consensus")) this.startTimer("consensus", this.cfg.consensusMs);
    if (this.state === MembState.GATHER && this.timers.isPending("token")) memb.resetTokenTimeout(this);
  }

  private lastInputAt = 0;

  // ---------------------------------------------------------------- outputs

  /** Effects produced since the last call, in order; the driver carries them out. */
  takeEffects(): SrpEffect[] {
    const fx = this.effects;
    this.effects = [];
    return fx;
  }

  /** When `tick` must next be called (ms), or undefined if no timer is armed. */
  nextDeadline(): number | undefined {
    return this.timers.next();
  }

  get stateName(): string {
    return MEMB_STATE_NAMES[this.state];
  }

  /** Members of the installed ring (ring order). */
  get members(): readonly number[] {
    return this.myMembList;
  }

  get ringId(): RingId {
    return this.myRingId;
  }

  // ---------------------------------------------------------------- helpers for handlers

  log(level: LogLevel, text: string): void {
    this.effects.push({ kind: "log", level, text });
  }

  sendMulticast(msg: Extract<SrpEffect, { kind: "multicast" }>["msg"]): void {
    this.effects.push({ kind: "multicast", msg });
  }

  sendToken(msg: OrfToken | CommitToken): void {
    this.effects.push({ kind: "unicast", to: this.tokenTarget, msg });
  }

  /** The ORF token of this visit was queued (sent or held): let the driver send now. */
  tokenSent(): void {
    this.onTokenSent?.();
  }

  persistRingId(ringId: RingId): void {
    this.effects.push({ kind: "persistRingId", ringId: { ...ringId } });
  }

  startTimer(name: TimerName, ms: number): void {
    this.timers.start(name, this.now, ms);
  }

  private fireTimer(name: TimerName): void {
    switch (name) {
      case "token":
      case "heartbeat":
        token.onTokenTimeout(this);
        break;
      case "tokenWarning":
        token.onTokenWarning(this);
        break;
      case "tokenRetransmit":
        token.onTokenRetransmitTimeout(this);
        break;
      case "tokenHoldRetransmit":
        token.onHoldRetransmitTimeout(this);
        break;
      case "join":
        memb.onJoinTimeout(this);
        break;
      case "consensus":
        memb.consensusTimeoutExpired(this);
        break;
      case "mergeDetect":
        memb.onMergeDetectTimeout(this);
        break;
    }
  }

  /**
   * Internal consistency checks, cheap enough to run after every step in the simulator.
   * Throws an AssertionError naming the broken invariant.
   */
  invariants(): void {
    const fail = (what: string): never => {
      throw new Error(`srp invariant (node ${this.myId}): ${what}`);
    };
    if (!this.myProcList.includes(this.myId) && this.started) fail("self not in proc list");
    if (new Set(this.myProcList).size !== this.myProcList.length) fail("duplicate in proc list");
    if (new Set(this.myFailedList).size !== this.myFailedList.length) fail("duplicate in failed list");
    if (this.state === MembState.OPERATIONAL && this.started && this.myMembList.length > 0) {
      if (!this.myMembList.includes(this.myId)) fail("self not in installed ring");
      if (this.myRingId.seq !== this.myOldRingId.seq || this.myRingId.rep !== this.myOldRingId.rep) {
        fail("operational with old ring id different from ring id");
      }
    }
    const window = this.regularSortQueue.size;
    if (((this.myHighSeqReceived - this.myAru) >>> 0) >= window) fail("aru beyond high seq received");
    if (this.state === MembState.OPERATIONAL && ((this.myHighDelivered - this.lastReleased) >>> 0) >= window) {
      fail("delivered behind released");
    }
  }
}
