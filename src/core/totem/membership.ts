/**
 * Membership: GATHER, consensus, the commit token's two rotations, and entry into RECOVERY
 * (totem-spec §4.3–§4.6; corosync `memb_*` functions). Functions take the SRP instance and
 * mutate it; sends and logs go to its effect list.
 */
import {
  Encapsulation,
  formatRingId,
  MessageType,
  ringIdEquals,
  type CommitMembEntry,
  type CommitToken,
  type MembJoin,
  type RingId,
  type MergeDetect,
} from "../../wire/totem/types.js";
import { seqLt } from "../seq.js";
import {
  GatherFrom,
  GATHER_FROM_TEXT,
  MembState,
  PROCESSOR_COUNT_MAX,
  SEQNO_START_MSG,
  SEQNO_START_TOKEN,
  SORT_QUEUE_SIZE,
} from "./constants.js";
import { hasDuplicates, isSubset, mergeInto, setEqual, sortedAscending, subtract } from "./nodeset.js";
import type { StoredMcast, TotemSrp } from "./srp.js";
import { encodeTotem } from "../../wire/totem/codec.js";

// ------------------------------------------------------------------ GATHER

/**
 * `memb_state_gather_enter` (§4.3): discard ORF tokens, add self to the proc list, multicast
 * a JOIN, restart the join and consensus timers, stop token timers, reset consensus to self.
 */
export function gatherEnter(s: TotemSrp, from: GatherFrom): void {
  s.orfTokenDiscard = true;
  s.originatedOrfToken = false;
  mergeInto(s.myProcList, [s.myId]);
  joinMessageSend(s);
  s.startTimer("join", s.cfg.joinMs);
  s.startTimer("consensus", s.cfg.consensusMs);
  s.timers.cancel("tokenRetransmit");
  s.timers.cancel("token");
  s.timers.cancel("tokenWarning");
  s.timers.cancel("mergeDetect");
  s.consensus.clear();
  s.consensus.add(s.myId);
  s.log("debug", `entering GATHER state from ${from}(${GATHER_FROM_TEXT[from]}).`);
  s.state = MembState.GATHER;
  s.stats.gather_entered++;
  if (from === GatherFrom.CONSENSUS_TIMEOUT_EXPIRED) s.stats.continuous_gather++;
}

/** `memb_join_message_send`: multicast JOIN{proc, failed, ring_seq}. */
export function joinMessageSend(s: TotemSrp): void {
  const join: MembJoin = {
    type: MessageType.MEMB_JOIN,
    nodeId: s.myId,
    targetNodeId: 0,
    systemFrom: s.myId,
    ringSeq: s.myRingId.seq,
    procList: [...s.myProcList],
    failedList: [...s.myFailedList],
  };
  s.stats.memb_join_tx++;
  s.sendMulticast(join);
}

/**
 * `memb_leave_message_send` (§3.5): a JOIN with header nodeid 0, proc list without self and
 * failed list with self appended last.
 */
export function leaveMessageSend(s: TotemSrp): void {
  s.log("debug", "sending join/leave message");
  mergeInto(s.myFailedList, [s.myId]);
  const leave: MembJoin = {
    type: MessageType.MEMB_JOIN,
    nodeId: 0,
    targetNodeId: 0,
    systemFrom: s.myId,
    ringSeq: s.myRingId.seq,
    procList: subtract(s.myProcList, [s.myId]),
    failedList: [...s.myFailedList],
  };
  s.stats.memb_join_tx++;
  s.sendMulticast(leave);
}

/** The join timer: re-send the JOIN while in GATHER or COMMIT. */
export function onJoinTimeout(s: TotemSrp): void {
  if (s.state !== MembState.GATHER && s.state !== MembState.COMMIT) return;
  joinMessageSend(s);
  s.startTimer("join", s.cfg.joinMs);
}

/** `memb_consensus_agreed`: every processor of (proc − failed) sent a matching join. */
export function consensusAgreed(s: TotemSrp): boolean {
  const tokenMemb = subtract(s.myProcList, s.myFailedList);
  for (const n of tokenMemb) if (!s.consensus.has(n)) return false;
  if (s.failedToRecv) return true;
  // corosync asserts the set is non-empty; an empty set can never be agreed here.
  return tokenMemb.length > 0;
}

/** `memb_lowest_in_config`: am I the lowest nodeid of (proc − failed)? */
function lowestInConfig(s: TotemSrp): boolean {
  const tokenMemb = subtract(s.myProcList, s.myFailedList);
  if (tokenMemb.length === 0) return false;
  return Math.min(...tokenMemb) === s.myId;
}

/**
 * `memb_state_consensus_timeout_expired` (§4.3): if agreed, restart consensus at self and arm
 * the token timer; otherwise every processor without consensus is moved to the failed list.
 */
export function consensusTimeoutExpired(s: TotemSrp): void {
  s.stats.consensus_timeouts++;
  if (consensusAgreed(s)) {
    s.consensus.clear();
    s.consensus.add(s.myId);
    resetTokenTimeout(s);
  } else {
    const noConsensus = s.myProcList.filter((n) => !s.consensus.has(n));
    mergeInto(s.myFailedList, noConsensus);
    gatherEnter(s, GatherFrom.CONSENSUS_TIMEOUT);
  }
}

export function resetTokenTimeout(s: TotemSrp): void {
  s.startTimer("token", s.cfg.tokenMs);
  if (s.cfg.tokenWarningPercent > 0) {
    s.startTimer("tokenWarning", Math.trunc((s.cfg.tokenWarningPercent * s.cfg.tokenMs) / 100));
  }
}

// ------------------------------------------------------------------ JOIN

/** Why a join is refused before it touches state (hostile-field checks; ours, not corosync's). */
function joinIsMalformed(s: TotemSrp, join: MembJoin): string | undefined {
  if (join.systemFrom === 0) return "system_from is 0";
  if (join.procList.includes(0) || join.failedList.includes(0)) return "nodeid 0 in a list";
  if (hasDuplicates(join.procList) || hasDuplicates(join.failedList)) return "duplicate nodeid in a list";
  const union = [...s.myProcList];
  mergeInto(union, join.procList);
  mergeInto(union, [join.systemFrom]);
  if (union.length > PROCESSOR_COUNT_MAX) return "membership would exceed PROCESSOR_COUNT_MAX";
  const failedUnion = [...s.myFailedList];
  mergeInto(failedUnion, join.failedList);
  if (failedUnion.length > PROCESSOR_COUNT_MAX) return "failed list would exceed PROCESSOR_COUNT_MAX";
  return undefined;
}

/** `message_handler_memb_join` (§4.3). */
export function handleJoin(s: TotemSrp, join: MembJoin): void {
  const bad = joinIsMalformed(s, join);
  if (bad !== undefined) {
    s.stats.rx_msg_rejected++;
    s.log("debug", `Rejecting join from ${join.systemFrom}: ${bad}`);
    return;
  }
  if (s.tokenRingIdSeq < join.ringSeq) s.tokenRingIdSeq = join.ringSeq;
  const from = join.systemFrom;
  switch (s.state) {
    case MembState.OPERATIONAL:
      if (!ignoreJoinUnderOperational(s, join)) joinProcess(s, join);
      break;
    case MembState.GATHER:
      joinProcess(s, join);
      break;
    case MembState.COMMIT:
      if (s.myNewMembList.includes(from) && join.ringSeq >= s.myRingId.seq) {
        forgetAbandonedFailures(s);
        joinProcess(s, join);
        gatherEnter(s, GatherFrom.JOIN_DURING_COMMIT);
      }
      break;
    case MembState.RECOVERY:
      if (s.myNewMembList.includes(from) && join.ringSeq >= s.myRingId.seq) {
        forgetAbandonedFailures(s);
        joinProcess(s, join);
        recoveryStateTokenLoss(s);
        gatherEnter(s, GatherFrom.JOIN_DURING_RECOVERY);
      }
      break;
  }
}

/**
 * Deviation from corosync, for liveness: a member of the ring being formed asks for a new
 * round, so the proposal is abandoned; the failed list it was built on is dropped with it
 * (corosync keeps it until an install). Kept, it is re-announced to members that already
 * installed (who adopt a ring member's failures) and re-excludes processors that are now
 * reachable: two halves of a healed cluster then abort each other's recoveries forever
 * (found by the swarm, seed 3684 with 16 nodes). A processor that really failed is failed
 * again by the next consensus timeout.
 */
function forgetAbandonedFailures(s: TotemSrp): void {
  s.myFailedList = s.failedToRecv ? [s.myId] : [];
}

/**
 * `ignore_join_under_operational`: a join that lists me as failed, or a stale join (older
 * ring seq) from a member of my ring, is ignored while operational.
 */
function ignoreJoinUnderOperational(s: TotemSrp, join: MembJoin): boolean {
  if (join.failedList.includes(s.myId)) return true;
  return s.myMembList.includes(join.systemFrom) && join.ringSeq < s.myRingId.seq;
}

/** `memb_join_process` (§4.3 steps 1–6). */
function joinProcess(s: TotemSrp, join: MembJoin): void {
  const proc = join.procList;
  const failed = join.failedList;
  const from = join.systemFrom;
  const isLeave = join.nodeId === 0;
  let gatherEntered = false;

  if (isLeave) {
    const leaver = failed.length > 0 ? failed[failed.length - 1]! : 0;
    s.log("debug", `Received LEAVE message from ${leaver}`);
    if (leaver !== 0 && !s.myLeaveMembList.includes(leaver) && s.myLeaveMembList.length < PROCESSOR_COUNT_MAX - 1) {
      s.myLeaveMembList.push(leaver);
    }
  }

  if (setEqual(proc, s.myProcList) && setEqual(failed, s.myFailedList)) {
    if (!isLeave) s.consensus.add(from);
    if (consensusAgreed(s) && s.failedToRecv) {
      s.failedToRecv = false;
      s.myProcList = [s.myId];
      s.myFailedList = [];
      commitTokenCreate(s);
      commitEnter(s);
      return;
    }
    if (consensusAgreed(s) && lowestInConfig(s)) {
      commitTokenCreate(s);
      commitEnter(s);
    }
  } else if (isSubset(proc, s.myProcList) && isSubset(failed, s.myFailedList)) {
    // nothing new
  } else if (s.myFailedList.includes(from)) {
    // the sender is failed in my view
  } else {
    const procBefore = s.myProcList.length;
    const failedBefore = s.myFailedList.length;
    mergeInto(s.myProcList, proc);
    if (failed.includes(s.myId)) {
      // "The sender lists me as failed, so I fail it." Deviation from corosync: never for a
      // join claiming to come from me (forged, or a stale copy of my own): adding myself to my
      // failed list takes me out of proc − failed for good, and consensus can never be agreed
      // (I loop in GATHER forever; found by the fuzzer). FAILED TO RECEIVE adds me itself.
      if (from !== s.myId) mergeInto(s.myFailedList, [from]);
    } else if (s.myMembList.includes(from)) {
      if (!s.myFailedList.includes(from)) {
        mergeInto(s.myFailedList, failed);
      } else {
        mergeInto(s.myFailedList, subtract(failed, s.myMembList));
      }
    }
    // Deviation from corosync, for liveness: corosync re-enters GATHER (re-sending its join
    // and restarting the consensus timer) even when the join taught it nothing — e.g. a
    // failed list it does not adopt from a processor outside its ring. Two such processors
    // then answer each other's joins forever and the consensus timer never expires. We
    // re-enter only when the lists grew; the join timer keeps re-sending ours meanwhile.
    const changed = s.myProcList.length !== procBefore || s.myFailedList.length !== failedBefore;
    if (changed || s.state !== MembState.GATHER) {
      gatherEnter(s, GatherFrom.MERGE_DURING_JOIN);
      gatherEntered = true;
    }
  }

  if (!gatherEntered && s.state === MembState.OPERATIONAL) {
    gatherEnter(s, GatherFrom.JOIN_DURING_OPERATIONAL);
  }
}

// ------------------------------------------------------------------ foreign traffic

/**
 * A frame from another ring (an MCAST with a foreign ring id, or a MERGE_DETECT): the sender
 * is added and GATHER entered (§4.3 "Foreign traffic"). Returns true if the frame was
 * consumed as foreign.
 */
export function foreignFrame(s: TotemSrp, systemFrom: number, ringId: RingId, fromOperational: GatherFrom, fromGather: GatherFrom): void {
  if (systemFrom === 0) {
    s.stats.rx_msg_rejected++;
    return;
  }
  // Deviation from corosync: a frame from a member of my ring carrying an older ring id is a
  // late copy (a retransmission or a duplicate from a ring we both left), not news of another
  // partition — a member that moved on forms rings with higher seqs. corosync treats it as
  // foreign and re-forms the ring for nothing (duplicated or delayed datagrams after every
  // configuration change).
  if (s.myMembList.includes(systemFrom) && ringId.seq < s.myRingId.seq) {
    s.stats.rx_msg_dropped++;
    return;
  }
  if (s.state === MembState.OPERATIONAL || s.state === MembState.GATHER) {
    s.log("debug", `foreign frame from ${systemFrom} of ring ${formatRingId(ringId)} (mine ${formatRingId(s.myRingId)})`);
  }
  switch (s.state) {
    case MembState.OPERATIONAL:
      if (!s.myProcList.includes(systemFrom) && s.myProcList.length >= PROCESSOR_COUNT_MAX) {
        s.stats.rx_msg_rejected++;
        return;
      }
      mergeInto(s.myProcList, [systemFrom]);
      gatherEnter(s, fromOperational);
      break;
    case MembState.GATHER:
      if (!s.myProcList.includes(systemFrom)) {
        if (s.myProcList.length >= PROCESSOR_COUNT_MAX) {
          s.stats.rx_msg_rejected++;
          return;
        }
        mergeInto(s.myProcList, [systemFrom]);
        gatherEnter(s, fromGather);
      }
      break;
    default:
      s.stats.rx_msg_dropped++;
  }
}

/** `message_handler_memb_merge_detect` (§4.11). */
export function handleMergeDetect(s: TotemSrp, m: MergeDetect): void {
  if (ringIdEquals(m.ringId, s.myRingId)) return;
  if (s.state === MembState.COMMIT || s.state === MembState.RECOVERY) return;
  foreignFrame(s, m.systemFrom, m.ringId, GatherFrom.MERGE_DURING_OPERATIONAL, GatherFrom.MERGE_DURING_GATHER);
}

/** The merge timer: on an idle ring the representative announces itself (§4.11). */
export function onMergeDetectTimeout(s: TotemSrp): void {
  if (s.state !== MembState.OPERATIONAL || s.myRingId.rep !== s.myId) return;
  const m: MergeDetect = {
    type: MessageType.MEMB_MERGE_DETECT,
    nodeId: s.myId,
    targetNodeId: 0,
    systemFrom: s.myId,
    ringId: { ...s.myRingId },
  };
  s.stats.memb_merge_detect_tx++;
  s.sendMulticast(m);
}

// ------------------------------------------------------------------ COMMIT

/**
 * `memb_state_commit_token_create` (§4.4): ring id {self, highest seen + 4}, members =
 * (proc − failed) sorted ascending, all entries empty.
 */
function commitTokenCreate(s: TotemSrp): void {
  s.log("debug", "Creating commit token because I am the rep.");
  const addr = sortedAscending(subtract(s.myProcList, s.myFailedList));
  const empty = (): CommitMembEntry => ({ ringId: { rep: 0, seq: 0n }, aru: 0, highDelivered: 0, receivedFlg: 0 });
  s.commitToken = {
    type: MessageType.MEMB_COMMIT_TOKEN,
    nodeId: s.myId,
    targetNodeId: 0,
    tokenSeq: 0,
    ringId: { rep: s.myId, seq: BigInt.asUintN(64, s.tokenRingIdSeq + 4n) },
    retransFlg: 0,
    membIndex: 0,
    addr,
    membList: addr.map(empty),
  };
}

/** `old_ring_state_save`: remember the old ring's aru and high seq once per reconfiguration. */
function oldRingStateSave(s: TotemSrp): void {
  if (s.oldRingStateSaved) return;
  s.oldRingStateSaved = true;
  s.myOldRingId = { ...s.myRingId };
  s.oldRingStateAru = s.myAru;
  s.oldRingStateHighSeqReceived = s.myHighSeqReceived;
  s.log("debug", `Saving state aru ${s.myAru.toString(16)} high seq received ${s.myHighSeqReceived.toString(16)}`);
}

/** `old_ring_state_restore`: after a failed recovery, go back to the old ring's counters. */
export function oldRingStateRestore(s: TotemSrp): void {
  s.myAru = s.oldRingStateAru;
  s.myHighSeqReceived = s.oldRingStateHighSeqReceived;
}

/** `memb_recovery_state_token_loss`. */
export function recoveryStateTokenLoss(s: TotemSrp): void {
  oldRingStateRestore(s);
  gatherEnter(s, GatherFrom.TOKEN_LOST_IN_RECOVERY);
  s.stats.recovery_token_lost++;
}

/**
 * `memb_state_commit_token_update` (§4.5 step 2–3): fill my entry, clear `received_flg` of
 * entries of my old ring whose aru is below the highest, advance `memb_index`.
 */
function commitTokenUpdate(s: TotemSrp, ct: CommitToken): void {
  s.myNewMembList = [...ct.addr];
  const i = ct.membIndex;
  const mine = ct.membList[i]!;
  mine.ringId = { ...s.myOldRingId };
  mine.aru = s.oldRingStateAru;
  s.myReceivedFlg = s.myAru === s.myHighSeqReceived;
  mine.receivedFlg = s.myReceivedFlg ? 1 : 0;
  mine.highDelivered = s.myHighDelivered;
  let highAru = mine.aru;
  for (let j = 0; j <= i; j++) {
    const e = ct.membList[j]!;
    if (ringIdEquals(e.ringId, mine.ringId) && seqLt(highAru, e.aru)) highAru = e.aru;
  }
  for (let j = 0; j <= i; j++) {
    const e = ct.membList[j]!;
    if (ringIdEquals(e.ringId, mine.ringId) && seqLt(e.aru, highAru)) {
      e.receivedFlg = 0;
      if (j === i) s.myReceivedFlg = false;
    }
  }
  ct.nodeId = s.myId;
  ct.membIndex = i + 1;
}

/**
 * `memb_state_commit_enter` (§4.5): save the old ring state, fill my entry, adopt and persist
 * the new ring id, then send the commit token to the next member. We persist before the
 * send (corosync sends first): the rule is that a ring seq is durable before any frame
 * of that ring leaves this node.
 */
function commitEnter(s: TotemSrp): void {
  const ct = s.commitToken!;
  oldRingStateSave(s);
  commitTokenUpdate(s, ct);
  s.tokenTarget = ct.addr[ct.membIndex % ct.addr.length]!;
  s.timers.cancel("join");
  s.timers.cancel("consensus");
  s.myRingId = { ...ct.ringId };
  s.persistRingId(s.myRingId);
  s.tokenRingIdSeq = s.myRingId.seq;
  s.log("debug", "entering COMMIT state.");
  s.state = MembState.COMMIT;
  s.startTimer("tokenRetransmit", s.cfg.tokenRetransmitMs);
  resetTokenTimeout(s);
  s.stats.commit_entered++;
  s.stats.continuous_gather = 0;
  s.myTrc = 0;
  s.myPbl = 0;
  s.myCbl = 0;
  commitTokenSend(s, ct);
}

/** `memb_state_commit_token_send(_recovery)`: bump token_seq, keep a copy, send, re-arm. */
function commitTokenSend(s: TotemSrp, ct: CommitToken): void {
  ct.tokenSeq = (ct.tokenSeq + 1) >>> 0;
  ct.nodeId = s.myId;
  const copy = cloneCommitToken(ct);
  s.retransmitCopy = copy;
  s.stats.memb_commit_token_tx++;
  s.sendToken(cloneCommitToken(ct));
  s.startTimer("tokenRetransmit", s.cfg.tokenRetransmitMs);
}

function cloneCommitToken(ct: CommitToken): CommitToken {
  return {
    ...ct,
    ringId: { ...ct.ringId },
    addr: [...ct.addr],
    membList: ct.membList.map((e) => ({ ...e, ringId: { ...e.ringId } })),
  };
}

/** Structural checks on a commit token beyond the codec's (hostile-field rule). */
function commitTokenIsMalformed(ct: CommitToken): string | undefined {
  const n = ct.addr.length;
  if (n === 0 || n !== ct.membList.length) return "empty or inconsistent member list";
  for (let i = 0; i < n; i++) {
    if (ct.addr[i] === 0) return "nodeid 0 in member list";
    if (i > 0 && ct.addr[i]! <= ct.addr[i - 1]!) return "member list not strictly ascending";
  }
  if (ct.membIndex < 0 || ct.membIndex > n) return "memb_index out of range";
  return undefined;
}

/** `message_handler_memb_commit_token` (§4.5). */
export function handleCommitToken(s: TotemSrp, incoming: CommitToken): void {
  const bad = commitTokenIsMalformed(incoming);
  if (bad !== undefined) {
    s.stats.rx_msg_rejected++;
    s.log("debug", `Rejecting commit token: ${bad}`);
    return;
  }
  const ct = cloneCommitToken(incoming);
  switch (s.state) {
    case MembState.OPERATIONAL:
      break;
    case MembState.GATHER: {
      const sub = subtract(s.myProcList, s.myFailedList);
      // memb_index must point at me: otherwise the C would write past its entries.
      if (
        setEqual(ct.addr, sub) &&
        ct.ringId.seq > s.myRingId.seq &&
        ct.membIndex < ct.addr.length &&
        ct.addr[ct.membIndex] === s.myId
      ) {
        s.commitToken = ct;
        commitEnter(s);
      }
      break;
    }
    case MembState.COMMIT:
      if (ct.ringId.seq === s.myRingId.seq && ct.membIndex === ct.addr.length && setEqual(ct.addr, s.myNewMembList)) {
        recoveryEnter(s, ct);
      }
      break;
    case MembState.RECOVERY:
      if (s.myId === s.myRingId.rep && !s.originatedOrfToken) {
        s.originatedOrfToken = true;
        s.log("debug", "Sending initial ORF token");
        orfTokenSendInitial(s);
        resetTokenTimeout(s);
        s.startTimer("tokenRetransmit", s.cfg.tokenRetransmitMs);
      }
      break;
  }
}

/** `orf_token_send_initial` (§3.3): the rep injects the first ORF token of the new ring. */
function orfTokenSendInitial(s: TotemSrp): void {
  const hasRetrans = !s.retransMessageQueue.isEmpty();
  s.mySetRetransFlg = hasRetrans;
  s.stats.orf_token_tx++;
  const tok = {
    type: MessageType.ORF_TOKEN,
    nodeId: s.myId,
    targetNodeId: 0,
    seq: SEQNO_START_MSG,
    tokenSeq: SEQNO_START_TOKEN,
    aru: (SEQNO_START_MSG - 1) >>> 0,
    aruAddr: s.myId,
    ringId: { ...s.myRingId },
    backlog: 0,
    fcc: 0,
    retransFlg: hasRetrans ? 1 : 0,
    rtrList: [],
  } as const;
  s.retransmitCopy = { ...tok, rtrList: [] };
  s.sendToken({ ...tok, rtrList: [] });
}

// ------------------------------------------------------------------ RECOVERY

/**
 * `memb_state_recovery_enter` (§4.6): forward the commit token (second rotation), compute the
 * transitional set, and copy the old-ring messages some transitional member lacks into the
 * retransmit queue, each wrapped in a new-ring MCAST (`encapsulated = 1`).
 */
function recoveryEnter(s: TotemSrp, ct: CommitToken): void {
  s.log("debug", "entering RECOVERY state.");
  s.orfTokenDiscard = false;
  s.myHighRingDelivered = 0;
  s.recoverySortQueue.reinit(SEQNO_START_MSG);
  s.retransMessageQueue.clear();
  s.earlyRegular.clear();
  // Deviation from corosync, which keeps these counters from an aborted recovery: stale
  // counts let one member install (and send new-ring messages) a rotation before another
  // is out of RECOVERY, whose old-ring queue then loses a message (EVS broken; found by the
  // swarm). Every recovery starts the install rule from zero.
  s.myRetransFlgCount = 0;
  s.myRotationCounter = 0;
  s.myOrphanRetransFlgVisits = 0;
  s.myRecoveryLastSeq = SEQNO_START_MSG;
  commitTokenSend(s, ct);
  s.myTokenSeq = (SEQNO_START_TOKEN - 1) >>> 0;

  s.myTransMembList = transitionalSet(s, ct);
  for (let i = 0; i < ct.addr.length; i++) {
    const e = ct.membList[i]!;
    s.log(
      "debug",
      `position [${i}] member ${ct.addr[i]}: previous ringid (${formatRingId(e.ringId)}) aru ${e.aru.toString(16)} high delivered ${e.highDelivered.toString(16)} received flag ${e.receivedFlg}`,
    );
  }
  const someoneLacks = ct.addr.some((n, i) => s.myTransMembList.includes(n) && ct.membList[i]!.receivedFlg === 0);
  if (someoneLacks) {
    s.myDeliverMembList = [...s.myTransMembList];
    originateRecoveryCopies(s, ct);
  } else {
    s.log("debug", "Did not need to originate any messages in recovery.");
  }
  s.myAru = SEQNO_START_MSG;
  s.myAruCount = 0;
  s.mySeqUnchanged = 0;
  s.myHighSeqReceived = SEQNO_START_MSG;
  s.myInstallSeq = SEQNO_START_MSG;
  s.lastReleased = SEQNO_START_MSG;
  resetTokenTimeout(s);
  s.startTimer("tokenRetransmit", s.cfg.tokenRetransmitMs);
  s.state = MembState.RECOVERY;
  s.stats.recovery_entered++;
  s.stats.continuous_gather = 0;
}

/**
 * `memb_set_and_with_ring_id`: members of the new ring that were in my installed ring and
 * whose commit entry names my old ring, in my installed ring's order.
 */
function transitionalSet(s: TotemSrp, ct: CommitToken): number[] {
  const out: number[] = [];
  for (const n of s.myMembList) {
    const i = ct.addr.indexOf(n);
    if (i >= 0 && ringIdEquals(ct.membList[i]!.ringId, s.myOldRingId)) out.push(n);
  }
  return out;
}

/** Copy old-ring messages in (low_ring_aru, old high seq] into the retransmit queue. */
function originateRecoveryCopies(s: TotemSrp, ct: CommitToken): void {
  let lowRingAru = s.oldRingStateHighSeqReceived;
  for (let i = 0; i < ct.addr.length; i++) {
    const e = ct.membList[i]!;
    if (!s.myDeliverMembList.includes(ct.addr[i]!) || !ringIdEquals(e.ringId, s.myOldRingId)) continue;
    if (seqLt(e.aru, lowRingAru)) lowRingAru = e.aru;
    if (seqLt(s.myHighRingDelivered, e.highDelivered)) s.myHighRingDelivered = e.highDelivered;
  }
  let range = (s.oldRingStateHighSeqReceived - lowRingAru) >>> 0;
  if (range === 0) {
    s.log("debug", "Did not need to originate any messages in recovery.");
    return;
  }
  if (range >= SORT_QUEUE_SIZE) {
    // A commit entry claims an aru outside any window we could hold: bound it (the C asserts).
    s.stats.rx_msg_rejected++;
    range = SORT_QUEUE_SIZE - 1;
    lowRingAru = (s.oldRingStateHighSeqReceived - range) >>> 0;
  }
  s.log("debug", `copying all old ring messages from ${((lowRingAru + 1) >>> 0).toString(16)}-${s.oldRingStateHighSeqReceived.toString(16)}.`);
  let originated = 0;
  for (let i = 1; i <= range; i++) {
    const old = s.regularSortQueue.get((lowRingAru + i) >>> 0);
    if (old === undefined) continue;
    originated++;
    s.retransMessageQueue.push(encapsulate(s, old));
  }
  s.log("debug", `Originated ${originated} messages in RECOVERY.`);
}

/** Wrap an old-ring message in a new-ring MCAST header (`encapsulated = 1`, §4.6 step 4). */
function encapsulate(s: TotemSrp, old: StoredMcast): StoredMcast {
  return {
    msg: {
      type: MessageType.MCAST,
      encapsulated: Encapsulation.ENCAPSULATED,
      nodeId: s.myId,
      targetNodeId: 0,
      systemFrom: s.myId,
      seq: 0,
      thisSeqno: 0,
      ringId: { ...s.myRingId },
      nodeIdField: 0,
      guarantee: 0,
      payload: encodeTotem(old.msg),
    },
    bigEndian: false,
  };
}
