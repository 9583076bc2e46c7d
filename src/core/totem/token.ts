/**
 * ORF token processing, multicast receipt, flow control, retransmission, message release and
 * the token timers (totem-spec §4.6, §4.7, §4.9–§4.11; corosync `message_handler_orf_token`,
 * `orf_token_rtr`, `orf_token_mcast`, `fcc_*`, `messages_free`, `update_aru`).
 */
import {
  Encapsulation,
  MessageType,
  ringIdEquals,
  type HoldCancel,
  type Mcast,
  type OrfToken,
} from "../../wire/totem/types.js";
import { seqLt, seqLte } from "../seq.js";
import { GatherFrom, MembState, RETRANS_FLG_ORPHAN_VISITS, RTR_ENTRIES_MAX, SORT_QUEUE_SIZE } from "./constants.js";
import * as memb from "./membership.js";
import { deliverToApp, operationalEnter } from "./delivery.js";
import type { SortQueue } from "./sort-queue.js";
import type { StoredMcast, TotemSrp } from "./srp.js";

/** The sort queue the current state works on. */
function currentSortQueue(s: TotemSrp): SortQueue<StoredMcast> {
  return s.state === MembState.RECOVERY ? s.recoverySortQueue : s.regularSortQueue;
}

// ------------------------------------------------------------------ MCAST

/** `message_handler_mcast` (§4.7): store own-ring messages, treat others as foreign. */
export function handleMcast(s: TotemSrp, m: Mcast, bigEndian: boolean): void {
  if (!ringIdEquals(m.ringId, s.myRingId)) {
    memb.foreignFrame(s, m.systemFrom, m.ringId, GatherFrom.FOREIGN_MESSAGE_IN_OPERATIONAL, GatherFrom.FOREIGN_MESSAGE_IN_GATHER);
    return;
  }
  if (s.state === MembState.RECOVERY && m.encapsulated !== Encapsulation.ENCAPSULATED) {
    if (s.earlyRegular.size < SORT_QUEUE_SIZE && !s.earlyRegular.has(m.seq)) s.earlyRegular.set(m.seq, { msg: m, bigEndian });
    return;
  }
  const queue = m.encapsulated === Encapsulation.ENCAPSULATED ? s.recoverySortQueue : s.regularSortQueue;
  // A seq a whole window or more past my aru cannot be legitimate (senders stay a window
  // behind the release point, fccRtrLimit) and would put high seq received out of the aru's
  // window (srp.invariants); found by the fuzzer (test/fuzz/regressions.test.ts).
  if (queue.inRange(m.seq) && ((m.seq - s.myAru) >>> 0) < SORT_QUEUE_SIZE && !queue.has(m.seq)) {
    queue.add(m.seq, { msg: m, bigEndian });
    if (seqLt(s.myHighSeqReceived, m.seq)) s.myHighSeqReceived = m.seq;
  }
  updateAru(s);
  if (s.state === MembState.OPERATIONAL) deliverToApp(s, "agreed", s.myHighSeqReceived);
}

/** `update_aru`: advance my aru over contiguous received seqs. */
export function updateAru(s: TotemSrp): void {
  const queue = currentSortQueue(s);
  const range = Math.min((s.myHighSeqReceived - s.myAru) >>> 0, SORT_QUEUE_SIZE);
  let i = 1;
  for (; i <= range; i++) if (!queue.has((s.myAru + i) >>> 0)) break;
  s.myAru = (s.myAru + i - 1) >>> 0;
}

// ------------------------------------------------------------------ ORF token

/** Copy a token so that we never mutate a decoded frame someone else may hold. */
function cloneToken(t: OrfToken): OrfToken {
  return { ...t, ringId: { ...t.ringId }, rtrList: t.rtrList.map((r) => ({ ringId: { ...r.ringId }, seq: r.seq })) };
}

/** `message_handler_orf_token` (§4.7 steps 1–15). */
export function handleOrfToken(s: TotemSrp, incoming: OrfToken): void {
  if (s.orfTokenDiscard) return;
  if (incoming.retransFlg !== 0 && incoming.retransFlg !== 1) {
    // Only 0 and 1 are ever sent (corosync too); any other value would never be cleared
    // (only a flag of 1 is) and would hold the ring in RECOVERY for ever (fuzzer).
    s.stats.rx_msg_rejected++;
    s.log("debug", `Rejecting token with retrans_flg ${incoming.retransFlg}`);
    return;
  }
  const tok = cloneToken(incoming);
  mergeAndHoldBookkeeping(s, tok);
  let forward = !(s.myRingId.rep === s.myId && s.myTokenHeld);

  if (s.state === MembState.COMMIT) return;
  if (!ringIdEquals(tok.ringId, s.myRingId)) {
    heartbeatAfterToken(s, forward);
    return;
  }
  if (seqLte(tok.tokenSeq, s.myTokenSeq)) return;
  // Deviation from corosync, which frees messages before the two checks above: a stale
  // retransmitted copy of the token can carry an aru raised by its aru_addr holder that no
  // full rotation has confirmed; combined with my_last_aru it released messages a member
  // still lacked, which recovery could then no longer supply (EVS broken). Found by the swarm.
  if (s.state === MembState.OPERATIONAL) messagesFree(s, tok.aru);
  if (((tok.seq - s.myAru) >>> 0) >= SORT_QUEUE_SIZE) {
    // A token whose seq is outside any window we could hold: corosync asserts here.
    s.stats.rx_msg_rejected++;
    s.log("debug", `Rejecting token with seq ${tok.seq.toString(16)} far from my aru ${s.myAru.toString(16)}`);
    return;
  }

  s.stats.mtt_rx_token = s.lastTokenRxAt > 0 ? s.now - s.lastTokenRxAt : 0;
  s.lastTokenRxAt = s.now;
  s.up.tokenReceived();

  const lastAru = s.myLastAru;
  s.myLastAru = tok.aru;
  if (s.state === MembState.OPERATIONAL) raiseSafePoint(s, tok.aru, lastAru);

  let allowed = fccCalculate(s, tok);
  const remcasted = orfTokenRtr(s, tok, allowed);
  allowed -= remcasted;
  if (s.cfg.cancelTokenHoldOnRetransmit && s.myTokenHeld && (tok.rtrList.length > 0 || remcasted > 0)) {
    s.myTokenHeld = false;
    forward = true;
  }
  allowed = fccRtrLimit(s, tok, allowed);
  const mcasted = orfTokenMcast(s, tok, allowed);
  fccTokenUpdate(s, tok, remcasted + mcasted);
  applyAruRule(s, tok, lastAru);

  if (s.myAruCount > s.cfg.failRecvConst && tok.aruAddr === s.myId) {
    s.log("error", "FAILED TO RECEIVE");
    s.failedToRecv = true;
    if (!s.myFailedList.includes(s.myId)) s.myFailedList.push(s.myId);
    memb.gatherEnter(s, GatherFrom.FAILED_TO_RECEIVE);
  } else {
    s.myTokenSeq = tok.tokenSeq;
    tok.tokenSeq = (tok.tokenSeq + 1) >>> 0;
    if (s.state === MembState.RECOVERY && !recoveryInstallRule(s, tok)) {
      // Drop the token rather than leave RECOVERY here: every member then times out as on
      // any token loss, at the same protocol point (leaving at once, while the others still
      // held the ring, let members come out of the recovery with different histories: 100k
      // run, seed 8694, 13 nodes).
      s.log("notice", `The token's retrans_flg has had no owner for ${RETRANS_FLG_ORPHAN_VISITS} rotations: dropping the token to end this recovery.`);
    } else {
      tokenSend(s, tok, forward);
      s.tokenSent();
      if (s.state === MembState.OPERATIONAL) deliverToApp(s, "agreed", s.myHighSeqReceived);
      memb.resetTokenTimeout(s);
      s.startTimer("tokenRetransmit", s.cfg.tokenRetransmitMs);
      if (s.myId === s.myRingId.rep && s.myTokenHeld) s.startTimer("tokenHoldRetransmit", s.cfg.holdMs);
    }
  }
  heartbeatAfterToken(s, forward);
}

/** §4.7 steps 2 and 4: merge-detect timer, unchanged-seq counter and the hold decision. */
function mergeAndHoldBookkeeping(s: TotemSrp, tok: OrfToken): void {
  if (tok.seq === s.myLastSeq) {
    if (!s.timers.isPending("mergeDetect")) s.startTimer("mergeDetect", s.cfg.mergeMs);
    s.mySeqUnchanged++;
  } else {
    s.timers.cancel("mergeDetect");
    s.timers.cancel("tokenHoldRetransmit");
    s.mySeqUnchanged = 0;
  }
  s.myLastSeq = tok.seq;
  const isRep = s.myRingId.rep === s.myId;
  s.myTokenHeld = isRep ? s.mySeqUnchanged > s.cfg.seqnoUnchangedConst : s.mySeqUnchanged >= s.cfg.seqnoUnchangedConst;
}

/**
 * Safe delivery point: seqs every member is known to hold, i.e. the release rule's bound
 * min(token aru, my aru of the previous visit) (§4.10). Messages asking for safe delivery wait
 * for it (`deliverToApp`).
 */
function raiseSafePoint(s: TotemSrp, tokenAru: number, lastAru: number): void {
  const stable = seqLt(tokenAru, lastAru) ? tokenAru : lastAru;
  if (seqLt(s.mySafeSeq, stable)) s.mySafeSeq = stable;
}

/**
 * §4.7 step 11–12: the aru rule and the aru-unchanged counter. Deviation from corosync: an
 * aru_addr that is no member of the ring counts like 0. Only members set it (to their own id),
 * so legitimate tokens are unaffected; a forged token's foreign aru_addr would otherwise pin
 * a low aru for ever (nobody may raise it and FAILED TO RECEIVE never fires): no release, no
 * safe delivery, and in RECOVERY no install (found by the fuzzer).
 */
function applyAruRule(s: TotemSrp, tok: OrfToken, lastAru: number): void {
  if (seqLt(s.myAru, tok.aru) || tok.aruAddr === s.myId || tok.aruAddr === 0 || !ringMembers(s).includes(tok.aruAddr)) {
    tok.aru = s.myAru;
    tok.aruAddr = tok.aru === tok.seq ? 0 : s.myId;
  }
  if (tok.aru === lastAru && tok.aruAddr !== 0) s.myAruCount++;
  else s.myAruCount = 0;
}

/** The members of the ring the token belongs to (the new ring while in RECOVERY). */
function ringMembers(s: TotemSrp): readonly number[] {
  return s.state === MembState.RECOVERY ? s.myNewMembList : s.myMembList;
}

/**
 * The RECOVERY install rule (§4.6): the retrans flag, its consecutive-zero counter, the
 * install seq, and two rotations with everyone at the install seq before OPERATIONAL.
 *
 * Deviation from corosync: only the processor that set retrans_flg clears it, so a flag
 * nobody set (a forged token's) would hold the ring in RECOVERY for ever while the token
 * circulates (no token loss ever ends it; found by the fuzzer). An owner still has copies to
 * send and sends new ones on every visit (unless its whole allowance goes to retransmissions),
 * so the token's seq moves. When I do not own the flag, have nothing to retransmit, and the
 * flag stayed set with the seq unchanged for RETRANS_FLG_ORPHAN_VISITS visits, nobody owns
 * it: returns false and the caller ends this recovery as a token loss would. That is always
 * safe for extended virtual synchrony (a false alarm, e.g. an owner spending every visit on
 * retransmissions, costs a membership round, nothing else); clearing the flag instead could
 * let members install while a stalled owner still holds copies. The token's retransmit list
 * is not looked at: forged entries for seqs nobody has are never served and stay on it.
 */
function recoveryInstallRule(s: TotemSrp, tok: OrfToken): boolean {
  if (!s.retransMessageQueue.isEmpty()) {
    if (tok.retransFlg === 0) {
      tok.retransFlg = 1;
      s.mySetRetransFlg = true;
    }
  } else if (tok.retransFlg === 1 && s.mySetRetransFlg) {
    tok.retransFlg = 0;
    s.mySetRetransFlg = false;
  }
  const orphan = tok.retransFlg === 1 && !s.mySetRetransFlg && s.retransMessageQueue.isEmpty() && tok.seq === s.myRecoveryLastSeq;
  s.myOrphanRetransFlgVisits = orphan ? s.myOrphanRetransFlgVisits + 1 : 0;
  s.myRecoveryLastSeq = tok.seq;
  if (s.myOrphanRetransFlgVisits >= RETRANS_FLG_ORPHAN_VISITS) {
    s.myOrphanRetransFlgVisits = 0;
    return false;
  }
  if (tok.retransFlg === 0) s.myRetransFlgCount++;
  else s.myRetransFlgCount = 0;
  if (s.myRetransFlgCount === 2) s.myInstallSeq = tok.seq;
  if (s.myRetransFlgCount >= 2 && !s.myReceivedFlg && seqLte(s.myInstallSeq, s.myAru)) {
    s.myReceivedFlg = true;
    s.myDeliverMembList = [...s.myTransMembList];
  }
  if (s.myRetransFlgCount >= 3 && seqLte(s.myInstallSeq, tok.aru)) s.myRotationCounter++;
  else s.myRotationCounter = 0;
  if (s.myRotationCounter === 2) {
    operationalEnter(s);
    s.myRotationCounter = 0;
    s.myRetransFlgCount = 0;
  }
  return true;
}

/** `token_send`: keep the copy for retransmission; send unless held. */
function tokenSend(s: TotemSrp, tok: OrfToken, forward: boolean): void {
  tok.nodeId = s.myId;
  s.retransmitCopy = cloneToken(tok);
  if (!forward) return;
  s.sendToken(tok);
}

function heartbeatAfterToken(s: TotemSrp, forward: boolean): void {
  const hb = heartbeatTimeoutMs(s);
  if (forward && hb > 0) s.startTimer("heartbeat", hb);
  else s.timers.cancel("heartbeat");
}

/** Heartbeat timeout (§4.11); 0 when disabled. */
function heartbeatTimeoutMs(s: TotemSrp): number {
  if (s.cfg.heartbeatFailuresAllowed <= 0) return 0;
  const t = s.cfg.heartbeatFailuresAllowed * s.cfg.tokenRetransmitMs + s.cfg.maxNetworkDelayMs;
  return t >= s.cfg.tokenMs ? 0 : t;
}

// ------------------------------------------------------------------ flow control (§4.9)

/** `backlog_get`: length of the queue this node would send from. */
function backlogGet(s: TotemSrp): number {
  if (s.state === MembState.OPERATIONAL) {
    return (s.waitingTransAck ? s.newMessageQueueTrans : s.newMessageQueue).length;
  }
  if (s.state === MembState.RECOVERY) return s.retransMessageQueue.length;
  return 0;
}

/** `fcc_calculate`: messages this node may broadcast on this visit (unsigned arithmetic). */
function fccCalculate(s: TotemSrp, tok: OrfToken): number {
  let allowed = s.cfg.maxMessages;
  const room = (s.cfg.windowSize - tok.fcc) >>> 0;
  if (allowed > room) allowed = room;
  s.myCbl = backlogGet(s);
  const denom = (tok.backlog + s.myCbl - s.myPbl) >>> 0;
  if (denom !== 0) {
    const calc = Math.floor((s.cfg.windowSize * s.myPbl) / denom) >>> 0;
    if (calc > 0 && allowed > calc) allowed = calc;
  }
  return allowed;
}

/** `fcc_rtr_limit`: never let the ring run ahead of the sort-queue window. */
function fccRtrLimit(s: TotemSrp, tok: OrfToken, allowed: number): number {
  const bound = (s.lastReleased + SORT_QUEUE_SIZE - allowed - s.cfg.windowSize) >>> 0;
  return seqLt(bound, tok.seq) ? 0 : allowed;
}

/** `fcc_token_update`: replace this node's contribution to fcc and backlog. */
function fccTokenUpdate(s: TotemSrp, tok: OrfToken, sent: number): void {
  tok.fcc = (tok.fcc + sent - s.myTrc) >>> 0;
  tok.backlog = (tok.backlog + s.myCbl - s.myPbl) >>> 0;
  s.myTrc = sent;
  s.myPbl = s.myCbl;
}

// ------------------------------------------------------------------ retransmission (§4.10)

/**
 * `orf_token_rtr`: serve the token's retransmit requests for my ring (within `allowed`), then
 * add my own missing seqs once they were missed `miss_count_const` times. Returns the number
 * of messages re-multicast.
 */
function orfTokenRtr(s: TotemSrp, tok: OrfToken, allowed: number): number {
  const queue = currentSortQueue(s);
  if (tok.rtrList.length > 0) {
    s.log("notice", `Retransmit List: ${tok.rtrList.map((r) => r.seq.toString(16)).join(" ")} `);
  }
  let remcasted = 0;
  for (let i = 0; remcasted < allowed && i < tok.rtrList.length; ) {
    const item = tok.rtrList[i]!;
    const stored = ringIdEquals(item.ringId, s.myRingId) ? queue.get(item.seq) : undefined;
    if (stored !== undefined) {
      s.sendMulticast(stored.msg);
      tok.rtrList.splice(i, 1);
      s.stats.mcast_retx++;
      remcasted++;
    } else {
      i++;
    }
  }
  const range = (tok.seq - s.myAru) >>> 0;
  for (let i = 1; tok.rtrList.length < RTR_ENTRIES_MAX && i <= range; i++) {
    const seq = (s.myAru + i) >>> 0;
    if (!queue.inRange(seq)) break;
    if (queue.has(seq)) continue;
    if (queue.bumpMissCount(seq) < s.cfg.missCountConst) continue;
    if (!tok.rtrList.some((r) => r.seq === seq)) tok.rtrList.push({ ringId: { ...s.myRingId }, seq });
  }
  return remcasted;
}

/**
 * `orf_token_mcast`: send up to `allowed` queued messages, each with the next ring seq, and
 * keep them in my sort queue.
 */
function orfTokenMcast(s: TotemSrp, tok: OrfToken, allowed: number): number {
  let queueUsed;
  const sortQueue = currentSortQueue(s);
  if (s.state === MembState.RECOVERY) {
    queueUsed = s.retransMessageQueue;
    s.startTimer("tokenRetransmit", s.cfg.tokenRetransmitMs);
  } else {
    queueUsed = s.waitingTransAck ? s.newMessageQueueTrans : s.newMessageQueue;
  }
  let sent = 0;
  for (; sent < allowed; sent++) {
    const item = queueUsed.shift();
    if (item === undefined) break;
    tok.seq = (tok.seq + 1) >>> 0;
    const m = item.msg;
    m.seq = tok.seq;
    m.thisSeqno = s.globalSeqno;
    s.globalSeqno = (s.globalSeqno + 1) | 0;
    m.ringId = { ...s.myRingId };
    sortQueue.add(m.seq, item);
    s.sendMulticast(m);
    s.myHighSeqReceived = tok.seq;
  }
  updateAru(s);
  return sent;
}

/**
 * `messages_free`: release messages every member holds: up to min(token aru, my last aru,
 * my high delivered). A release point outside the window is ignored (hostile aru).
 */
export function messagesFree(s: TotemSrp, tokenAru: number): void {
  let releaseTo = tokenAru;
  if (seqLt(s.myLastAru, releaseTo)) releaseTo = s.myLastAru;
  if (seqLt(s.myHighDelivered, releaseTo)) releaseTo = s.myHighDelivered;
  if (seqLt(releaseTo, s.lastReleased)) return;
  const range = (releaseTo - s.lastReleased) >>> 0;
  if (range === 0 || range >= SORT_QUEUE_SIZE) return;
  s.regularSortQueue.releaseTo(releaseTo);
  s.lastReleased = releaseTo;
}

// ------------------------------------------------------------------ hold cancel (§4.11)

/** `token_hold_cancel_send`: only if this node saw the token held. */
export function holdCancelSend(s: TotemSrp): void {
  if (!s.myTokenHeld) return;
  s.myTokenHeld = false;
  const m: HoldCancel = { type: MessageType.TOKEN_HOLD_CANCEL, nodeId: s.myId, targetNodeId: 0, ringId: { ...s.myRingId } };
  s.stats.token_hold_cancel_tx++;
  s.sendMulticast(m);
}

/** `message_handler_token_hold_cancel`. */
export function handleHoldCancel(s: TotemSrp, m: HoldCancel): void {
  if (!ringIdEquals(m.ringId, s.myRingId)) return;
  s.mySeqUnchanged = 0;
  if (s.myRingId.rep === s.myId) onTokenRetransmitTimeout(s);
}

// ------------------------------------------------------------------ timers

/** `timer_function_orf_token_timeout` (§4.10 token loss). */
export function onTokenTimeout(s: TotemSrp): void {
  switch (s.state) {
    case MembState.OPERATIONAL:
      s.log("debug", "The token was lost in the OPERATIONAL state.");
      s.log(
        "notice",
        `A processor failed, forming new configuration: token timed out (${s.cfg.tokenMs}ms), waiting ${s.cfg.consensusMs}ms for consensus.`,
      );
      memb.gatherEnter(s, GatherFrom.TOKEN_LOST_IN_OPERATIONAL);
      s.stats.operational_token_lost++;
      break;
    case MembState.GATHER:
      s.log("debug", `The consensus timeout expired (${s.cfg.consensusMs}ms).`);
      memb.consensusTimeoutExpired(s);
      memb.gatherEnter(s, GatherFrom.CONSENSUS_TIMEOUT_EXPIRED);
      s.stats.gather_token_lost++;
      break;
    case MembState.COMMIT:
      s.log("debug", "The token was lost in the COMMIT state.");
      memb.gatherEnter(s, GatherFrom.TOKEN_LOST_IN_COMMIT);
      s.stats.commit_token_lost++;
      break;
    case MembState.RECOVERY:
      s.log("debug", "The token was lost in the RECOVERY state.");
      memb.recoveryStateTokenLoss(s);
      s.orfTokenDiscard = true;
      break;
  }
}

/** `timer_function_orf_token_warning`: log that the token is late, and re-arm. */
export function onTokenWarning(s: TotemSrp): void {
  if (s.cfg.tokenWarningPercent <= 0) return;
  // Since the last token, or since the timer was armed when none has come yet.
  const since = s.lastTokenRxAt > 0 ? s.now - s.lastTokenRxAt : Math.trunc((s.cfg.tokenWarningPercent * s.cfg.tokenMs) / 100);
  s.log("notice", `Token has not been received in ${Math.round(since)} ms `);
  s.startTimer("tokenWarning", Math.trunc((s.cfg.tokenWarningPercent * s.cfg.tokenMs) / 100));
}

/** `timer_function_token_retransmit_timeout`: resend the stored token copy. */
export function onTokenRetransmitTimeout(s: TotemSrp): void {
  if (s.state === MembState.GATHER) return;
  tokenRetransmit(s);
  s.startTimer("tokenRetransmit", s.cfg.tokenRetransmitMs);
}

/** `timer_function_token_hold_retransmit_timeout`: the rep releases a held token. */
export function onHoldRetransmitTimeout(s: TotemSrp): void {
  if (s.state === MembState.OPERATIONAL || s.state === MembState.RECOVERY) tokenRetransmit(s);
}

function tokenRetransmit(s: TotemSrp): void {
  const copy = s.retransmitCopy;
  if (copy === undefined) return;
  if (copy.type === MessageType.ORF_TOKEN) s.sendToken(cloneToken(copy));
  else s.sendToken({ ...copy, ringId: { ...copy.ringId }, addr: [...copy.addr], membList: copy.membList.map((e) => ({ ...e, ringId: { ...e.ringId } })) });
}
