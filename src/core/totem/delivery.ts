/**
 * Delivery upward and the install of a new ring with extended virtual synchrony
 * (totem-spec §4.8; corosync `messages_deliver_to_app`, `memb_state_operational_enter`,
 * `deliver_messages_from_recovery_to_regular`).
 */
import { tryDecodeTotem } from "../../wire/totem/codec.js";
import { Encapsulation, formatRingId, MessageType, ringIdEquals } from "../../wire/totem/types.js";
import { seqLt } from "../seq.js";
import { MembState, SORT_QUEUE_SIZE } from "./constants.js";
import { subtract } from "./nodeset.js";
import type { TotemSrp } from "./srp.js";

/**
 * How `deliverToApp` treats gaps and safe messages:
 * - `agreed`: stop at the first gap, and before a safe message not yet held by everyone;
 * - `install`: stop at the first gap, ignore safe-ness (old ring, regular configuration);
 * - `skipGaps`: skip gaps, deliver only messages from the deliver set (transitional).
 */
export type DeliverMode = "agreed" | "install" | "skipGaps";

/** `messages_deliver_to_app`: deliver from my high delivered up to `endPoint`. */
export function deliverToApp(s: TotemSrp, m: DeliverMode, endPoint: number): void {
  const range = (endPoint - s.myHighDelivered) >>> 0;
  if (range === 0 || range >= SORT_QUEUE_SIZE) return;
  const base = s.myHighDelivered;
  const queue = s.regularSortQueue;
  for (let i = 1; i <= range; i++) {
    const seq = (base + i) >>> 0;
    if (!queue.inRange(seq)) break;
    const item = queue.get(seq);
    if (item === undefined && m !== "skipGaps") break;
    if (item !== undefined && m === "agreed" && item.msg.guarantee === 1 && seqLt(s.mySafeSeq, seq)) break;
    s.myHighDelivered = seq;
    if (item === undefined) continue;
    if (m === "skipGaps" && !s.myDeliverMembList.includes(item.msg.systemFrom)) continue;
    s.up.deliver(item.msg.nodeId, item.msg.payload, item.bigEndian);
  }
}

/**
 * Unwrap the encapsulated recovery copies (recovery sort queue, seqs 1…my aru) whose inner
 * message belongs to my old ring into the regular (old-ring) sort queue (§4.8 step 1).
 */
function deliverMessagesFromRecoveryToRegular(s: TotemSrp): void {
  const range = Math.min(s.myAru >>> 0, SORT_QUEUE_SIZE - 1);
  s.log("debug", `recovery to regular 1-${range.toString(16)}`);
  for (let i = 1; i <= range; i++) {
    const item = s.recoverySortQueue.get(i);
    if (item === undefined || item.msg.encapsulated !== Encapsulation.ENCAPSULATED) continue;
    const inner = tryDecodeTotem(item.msg.payload);
    if (!inner.ok || inner.msg.type !== MessageType.MCAST) {
      s.stats.rx_msg_rejected++;
      continue;
    }
    const msg = inner.msg;
    if (!ringIdEquals(msg.ringId, s.myOldRingId)) continue;
    if (s.regularSortQueue.inRange(msg.seq) && !s.regularSortQueue.has(msg.seq)) {
      s.regularSortQueue.add(msg.seq, { msg, bigEndian: item.msg.payload[0] === 0xc0 });
      if (seqLt(s.oldRingStateHighSeqReceived, msg.seq)) s.oldRingStateHighSeqReceived = msg.seq;
    }
  }
}

/**
 * `memb_state_operational_enter` (§4.8): deliver the old ring's messages, the transitional
 * configuration, the remaining old-ring messages of the deliver set, the regular
 * configuration; then the recovery queue becomes the regular one and the ring is installed.
 */
export function operationalEnter(s: TotemSrp): void {
  s.originatedOrfToken = false;
  s.consensus.clear();
  s.oldRingStateSaved = false;
  deliverMessagesFromRecoveryToRegular(s);

  const aruSave = s.myAru;
  s.myAru = s.oldRingStateAru;
  s.log("debug", `Delivering to app ${((s.myHighDelivered + 1) >>> 0).toString(16)} to ${s.oldRingStateHighSeqReceived.toString(16)}`);
  deliverToApp(s, "install", s.oldRingStateHighSeqReceived);
  s.log("debug", `Delivered up to ${s.myHighDelivered.toString(16)}`);

  s.myLeftMembList = subtract(s.myMembList, s.myTransMembList);
  const joined = subtract(s.myNewMembList, s.myTransMembList);
  s.myMembList = [...s.myNewMembList];
  s.lastReleased = 0;
  s.mySetRetransFlg = false;
  const ringId = { ...s.myRingId };
  s.up.confchg({ type: "transitional", members: [...s.myTransMembList], left: [...s.myLeftMembList], joined: [], ringId });

  s.waitingTransAck = true;
  deliverToApp(s, "skipGaps", s.oldRingStateHighSeqReceived);
  s.up.waitingTransAck(true);
  s.myAru = aruSave;
  s.up.confchg({ type: "regular", members: [...s.myNewMembList], left: [], joined, ringId: { ...ringId } });

  installRecoveryQueue(s);
  logNewMembership(s, joined);
  s.myLeaveMembList = [];
  s.state = MembState.OPERATIONAL;
  s.stats.operational_entered++;
  s.stats.continuous_gather = 0;
  s.myReceivedFlg = true;
  s.myOldRingId = { ...s.myRingId };
}

/**
 * §4.8 step 9: the recovery sort queue becomes the regular one; everything up to the highest
 * present seq is considered delivered (it was handled as recovery copies) and released.
 */
function installRecoveryQueue(s: TotemSrp): void {
  s.regularSortQueue.copyFrom(s.recoverySortQueue);
  s.myLastAru = 0;
  s.myProcList = [...s.myNewMembList];
  s.myFailedList = [];
  let i = s.myHighSeqReceived >>> 0;
  while (i > 0 && !s.regularSortQueue.has(i)) i--;
  s.myHighDelivered = i;
  s.regularSortQueue.releaseTo(i);
  s.lastReleased = i;
  s.mySafeSeq = i;
  for (const [seq, item] of s.earlyRegular) {
    // Only seqs in (i, i + SORT_QUEUE_SIZE): the last slot of the window would put high seq
    // received a whole window past the aru (srp.invariants; found by the fuzzer).
    const ahead = (seq - i) >>> 0;
    if (ahead === 0 || ahead >= SORT_QUEUE_SIZE || !s.regularSortQueue.inRange(seq) || s.regularSortQueue.has(seq)) continue;
    s.regularSortQueue.add(seq, item);
    if (seqLt(s.myHighSeqReceived, seq)) s.myHighSeqReceived = seq;
  }
  s.earlyRegular.clear();
  while (s.myAru !== s.myHighSeqReceived && s.regularSortQueue.has((s.myAru + 1) >>> 0)) s.myAru = (s.myAru + 1) >>> 0;
}

function logNewMembership(s: TotemSrp, joined: number[]): void {
  const joinedText = joined.length > 0 ? ` joined: ${joined.join(" ")}` : "";
  const left = s.myLeftMembList;
  const leftText = left.length > 0 ? ` left: ${left.join(" ")}` : "";
  s.log("debug", "entering OPERATIONAL state.");
  s.log("notice", `A new membership (${formatRingId(s.myRingId)}) was formed. Members${joinedText}${leftText}`);
  const failed = left.filter((n) => !s.myLeaveMembList.includes(n));
  if (failed.length > 0) s.log("notice", `Failed to receive the leave message. failed: ${failed.join(" ")}`);
}
