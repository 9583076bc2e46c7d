/**
 * Constants of the Totem SRP core (totem-spec §1.3, §4).
 */

/** `enum memb_state` (totem-spec §4). The numbers are corosync's. */
export const MembState = {
  OPERATIONAL: 1,
  GATHER: 2,
  COMMIT: 3,
  RECOVERY: 4,
} as const;
export type MembState = (typeof MembState)[keyof typeof MembState];

export const MEMB_STATE_NAMES: Readonly<Record<MembState, string>> = {
  1: "OPERATIONAL",
  2: "GATHER",
  3: "COMMIT",
  4: "RECOVERY",
};

/** Why GATHER was entered; corosync logs "entering GATHER state from N(text)" (§4.3). */
export const GatherFrom = {
  CONSENSUS_TIMEOUT: 0,
  MISSING: 1,
  TOKEN_LOST_IN_OPERATIONAL: 2,
  CONSENSUS_TIMEOUT_EXPIRED: 3,
  TOKEN_LOST_IN_COMMIT: 4,
  TOKEN_LOST_IN_RECOVERY: 5,
  FAILED_TO_RECEIVE: 6,
  FOREIGN_MESSAGE_IN_OPERATIONAL: 7,
  FOREIGN_MESSAGE_IN_GATHER: 8,
  MERGE_DURING_OPERATIONAL: 9,
  MERGE_DURING_GATHER: 10,
  MERGE_DURING_JOIN: 11,
  JOIN_DURING_OPERATIONAL: 12,
  JOIN_DURING_COMMIT: 13,
  JOIN_DURING_RECOVERY: 14,
  INTERFACE_CHANGE: 15,
} as const;
export type GatherFrom = (typeof GatherFrom)[keyof typeof GatherFrom];

export const GATHER_FROM_TEXT: readonly string[] = [
  "consensus timeout",
  "missing",
  "The token was lost in the OPERATIONAL state.",
  "The consensus timeout expired.",
  "The token was lost in the COMMIT state.",
  "The token was lost in the RECOVERY state.",
  "failed to receive",
  "foreign message in operational state",
  "foreign message in gather state",
  "merge during operational state",
  "merge during gather state",
  "merge during join",
  "join during operational state",
  "join during commit state",
  "join during recovery",
  "interface change",
];

/** `QUEUE_RTR_ITEMS_SIZE_MAX`: slots of a sort queue, i.e. the seq window. */
export const SORT_QUEUE_SIZE = 16384;
/** `RETRANSMIT_ENTRIES_MAX`. */
export const RTR_ENTRIES_MAX = 30;
/** `PROCESSOR_COUNT_MAX`. */
export const PROCESSOR_COUNT_MAX = 384;
/** `SEQNO_START_MSG` and `SEQNO_START_TOKEN`. */
export const SEQNO_START_MSG = 0;
export const SEQNO_START_TOKEN = 0;
/**
 * Consecutive token visits in RECOVERY after which a retrans_flg nobody owns ends the
 * recovery like a token loss (ours, not corosync's; see token.ts `recoveryInstallRule`).
 */
export const RETRANS_FLG_ORPHAN_VISITS = 10;
/** `MESSAGE_SIZE_MAX` (totempg reassembly limit), used to size the new-message queue. */
export const MESSAGE_SIZE_MAX = 1024 * 1024;
/** Room reserved per packet for the recovery encapsulation (2 * sizeof(struct mcast), §5.3). */
export const MTU_ENCAPSULATION_RESERVE = 90;
