import type { CommitToken, MembJoin, MergeDetect, HoldCancel, Mcast, OrfToken, RingId } from "../../wire/totem/types.js";

/**
 * The SRP core's configuration: effective timer values and constants, as computed by
 * `totem_volatile_config_read` (totem-spec §4.12). All times are milliseconds.
 */
export interface SrpConfig {
  tokenMs: number;
  tokenRetransmitMs: number;
  holdMs: number;
  joinMs: number;
  consensusMs: number;
  mergeMs: number;
  /** Token warning threshold in percent of `tokenMs` (0 = off). */
  tokenWarningPercent: number;
  failRecvConst: number;
  seqnoUnchangedConst: number;
  windowSize: number;
  maxMessages: number;
  missCountConst: number;
  /** 0 disables the heartbeat (corosync's default). */
  heartbeatFailuresAllowed: number;
  maxNetworkDelayMs: number;
  cancelTokenHoldOnRetransmit: boolean;
  /** Largest totemsrp payload (a totempg packet): netmtu − 90 (totem-spec §5.3). */
  netMtu: number;
}

/** Defaults for 2 nodes with `token` unset (totem-spec §4.12 table). */
export const DEFAULT_SRP_CONFIG: Readonly<SrpConfig> = {
  tokenMs: 3000,
  tokenRetransmitMs: 714,
  holdMs: 561,
  joinMs: 50,
  consensusMs: 3600,
  mergeMs: 200,
  tokenWarningPercent: 75,
  failRecvConst: 2500,
  seqnoUnchangedConst: 30,
  windowSize: 50,
  maxMessages: 17,
  missCountConst: 5,
  heartbeatFailuresAllowed: 0,
  maxNetworkDelayMs: 50,
  cancelTokenHoldOnRetransmit: false,
  netMtu: 1410,
};

/** A configuration change delivered upward (totem-spec §4.8, EVS). */
export interface ConfigurationChange {
  type: "transitional" | "regular";
  /** Members of the configuration: the transitional set, or the new ring. */
  members: number[];
  /** Members of the previous regular configuration that are gone (transitional only). */
  left: number[];
  /** Members new to this ring (regular only). */
  joined: number[];
  /** The new ring's id (both for the transitional and the regular configuration). */
  ringId: RingId;
}

/**
 * Calls into the layer above (totempg), made synchronously from inside the core so that
 * deliveries and configuration changes reach it in one order, as in corosync.
 */
export interface SrpUpcalls {
  /**
   * A message in agreed order. `nodeId` is the originator, `payload` the totempg packet (a view
   * that stays valid), `bigEndian` whether the originator wrote native big-endian fields.
   */
  deliver(nodeId: number, payload: Uint8Array, bigEndian: boolean): void;
  /** Transitional then regular configuration, in order with the deliveries. */
  confchg(change: ConfigurationChange): void;
  /**
   * TOKEN_RECEIVED (§4.7 step 7): the token is here; the layer above may flush what it packed
   * by calling `mcast` now, before this visit's sends.
   */
  tokenReceived(): void;
  /** `waiting_trans_ack` changed (totempg switches its assembly set, §4.8 step 7). */
  waitingTransAck(waiting: boolean): void;
}

export type LogLevel = "error" | "warning" | "notice" | "info" | "debug" | "trace";

/**
 * Effects for the driver, in order. A `persistRingId` must be durable before any later
 * `unicast`/`multicast` of the same batch is sent.
 */
export type SrpEffect =
  | { kind: "unicast"; to: number; msg: OrfToken | CommitToken }
  | { kind: "multicast"; msg: Mcast | MembJoin | MergeDetect | HoldCancel }
  | { kind: "persistRingId"; ringId: RingId }
  | { kind: "log"; level: LogLevel; text: string };

/** Counters in the shape of corosync's `stats.srp.*` (cmap_keys(7)). */
export interface SrpStats {
  orf_token_tx: number;
  orf_token_rx: number;
  memb_merge_detect_tx: number;
  memb_merge_detect_rx: number;
  memb_join_tx: number;
  memb_join_rx: number;
  mcast_tx: number;
  mcast_retx: number;
  mcast_rx: number;
  memb_commit_token_tx: number;
  memb_commit_token_rx: number;
  token_hold_cancel_tx: number;
  token_hold_cancel_rx: number;
  operational_entered: number;
  operational_token_lost: number;
  gather_entered: number;
  gather_token_lost: number;
  commit_entered: number;
  commit_token_lost: number;
  recovery_entered: number;
  recovery_token_lost: number;
  consensus_timeouts: number;
  rx_msg_dropped: number;
  continuous_gather: number;
  continuous_sendmsg_failures: number;
  firewall_enabled_or_nic_failure: number;
  /** Frames the core refused because a field was hostile (ours; not in corosync). */
  rx_msg_rejected: number;
  /** Last token rotation time in ms (for `stats.srp.mtt_rx_token`). */
  mtt_rx_token: number;
}

export function emptySrpStats(): SrpStats {
  return {
    orf_token_tx: 0,
    orf_token_rx: 0,
    memb_merge_detect_tx: 0,
    memb_merge_detect_rx: 0,
    memb_join_tx: 0,
    memb_join_rx: 0,
    mcast_tx: 0,
    mcast_retx: 0,
    mcast_rx: 0,
    memb_commit_token_tx: 0,
    memb_commit_token_rx: 0,
    token_hold_cancel_tx: 0,
    token_hold_cancel_rx: 0,
    operational_entered: 0,
    operational_token_lost: 0,
    gather_entered: 0,
    gather_token_lost: 0,
    commit_entered: 0,
    commit_token_lost: 0,
    recovery_entered: 0,
    recovery_token_lost: 0,
    consensus_timeouts: 0,
    rx_msg_dropped: 0,
    continuous_gather: 0,
    continuous_sendmsg_failures: 0,
    firewall_enabled_or_nic_failure: 0,
    rx_msg_rejected: 0,
    mtt_rx_token: 0,
  };
}
