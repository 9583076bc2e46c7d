/**
 * The effective Totem timers and constants, computed exactly as corosync 3.x's
 * `totem_volatile_config_read` and `calc_knet_ping_timers` do (totem-spec §4.12), and the
 * `runtime.config.totem.*` keys corosync publishes for them (reference-outputs.md).
 *
 * Order of derivation, as corosync: effective `token` (configured or 3000, plus
 * (N − 2) · `token_coefficient` when the nodelist has N > 2 nodes with a link-0 address —
 * added to a configured token too) → `token_retransmit` from it → `hold` from the resulting
 * `token_retransmit` → `consensus` from the effective `token`. A configured 0 means "use the
 * default" for every key except `token_warning`, `send_join`, `heartbeat_failures_allowed`,
 * `token_coefficient` and the knet compression keys, where 0 is a real value.
 * The C conversions are reproduced: `(int)(t / (c + 0.2))` → `Math.trunc`,
 * `(int)(r * 0.8 - 1000/HZ)` with HZ = 100, `(int)(float)(1.2 * t)` → `Math.fround` first.
 *
 * Worked values (token / consensus / token_retransmit / hold): 2 nodes 3000/3600/714/561;
 * 3 nodes 3650/4380/869/685; 3 nodes with `token: 1000` 1650/1980/392/303;
 * 5 nodes 4950/5940/1178/932.
 *
 * Range checks are the validator's job (validate.ts); this function computes for any input.
 * Pure: no node:* imports.
 */
import { CmapType, type CmapEntry, type CmapValue } from "../core/cmap/types.js";
import type { Transport } from "./flat.js";

/** corosync's `#define`s in `totemconfig.c` (3.x). */
export const TOTEM_DEFAULTS = {
  tokenMs: 3000,
  tokenCoefficientMs: 650,
  tokenWarningPercent: 75,
  tokenRetransmitsBeforeLossConst: 4,
  joinMs: 50,
  mergeMs: 200,
  downcheckMs: 1000,
  failRecvConst: 2500,
  seqnoUnchangedConst: 30,
  maxNetworkDelayMs: 50,
  windowSize: 50,
  maxMessages: 17,
  missCountConst: 5,
  blockUnlistedIps: true,
  cancelTokenHoldOnRetransmit: false,
  udpNetMtu: 1500,
  /** `KNET_MAX_PACKET_SIZE`: the netmtu knet uses when none is configured. */
  knetNetMtu: 65536,
  knetPmtudIntervalS: 30,
  knetMtu: 0,
  knetPingPrecision: 2048,
  knetPongCount: 2,
  knetLinkPriority: 1,
} as const;

/** 1000/HZ with corosync's userspace HZ of 100. */
const TICK_MS = 10;

/** Effective per-link knet timers (published for every configured link, udpu too). */
export interface TotemLinkConfig {
  linkNumber: number;
  knetPingIntervalMs: number;
  knetPingTimeoutMs: number;
  knetPingPrecision: number;
  knetPongCount: number;
  knetLinkPriority: number;
}

/** The effective Totem settings. Units are in the names; counts have none. */
export interface TotemConfig {
  tokenMs: number;
  tokenCoefficientMs: number;
  tokenWarningPercent: number;
  tokenRetransmitMs: number;
  holdMs: number;
  tokenRetransmitsBeforeLossConst: number;
  joinMs: number;
  sendJoinMs: number;
  consensusMs: number;
  mergeMs: number;
  downcheckMs: number;
  failRecvConst: number;
  seqnoUnchangedConst: number;
  heartbeatFailuresAllowed: number;
  maxNetworkDelayMs: number;
  windowSize: number;
  maxMessages: number;
  missCountConst: number;
  netMtu: number;
  blockUnlistedIps: boolean;
  cancelTokenHoldOnRetransmit: boolean;
  knetPmtudIntervalS: number;
  knetMtu: number;
  knetCompressionModel: string;
  knetCompressionThreshold: number;
  knetCompressionLevel: number;
  links: TotemLinkConfig[];
}

export interface TotemDefaultsInput {
  /** The configured value of a cmap key (`totem.token`...), or undefined. */
  lookup: (key: string) => CmapValue | undefined;
  /** Nodes with a link-0 address (corosync's `interfaces[0].member_count`). */
  memberCount: number;
  /** Configured link numbers (nodelist `ringX_addr` links and interface sections). */
  links: readonly number[];
  transport: Transport;
}

export interface TotemDefaultsResult {
  totem: TotemConfig;
  /** `runtime.config.totem.*` with corosync's types, sorted by key. */
  runtimeEntries: CmapEntry[];
}

/** Compute the effective Totem settings (see the file comment for the rules). */
export function computeTotemConfig(input: TotemDefaultsInput): TotemDefaultsResult {
  const num = (key: string): number | undefined => {
    const v = input.lookup(`totem.${key}`);
    return v !== undefined && typeof v.value === "number" ? v.value : undefined;
  };
  const orDefault = (key: string, dflt: number): number => num(key) || dflt;
  const D = TOTEM_DEFAULTS;

  const tokenRetransmitsBeforeLossConst = orDefault("token_retransmits_before_loss_const", D.tokenRetransmitsBeforeLossConst);
  const tokenCoefficientMs = num("token_coefficient") ?? D.tokenCoefficientMs;
  let tokenMs = orDefault("token", D.tokenMs);
  if (input.memberCount > 2) tokenMs += (input.memberCount - 2) * tokenCoefficientMs;
  const tokenRetransmitMs = orDefault("token_retransmit", Math.trunc(tokenMs / (tokenRetransmitsBeforeLossConst + 0.2)));
  const totem: TotemConfig = {
    tokenMs,
    tokenCoefficientMs,
    tokenWarningPercent: num("token_warning") ?? D.tokenWarningPercent,
    tokenRetransmitMs,
    holdMs: orDefault("hold", Math.trunc(tokenRetransmitMs * 0.8 - TICK_MS)),
    tokenRetransmitsBeforeLossConst,
    joinMs: orDefault("join", D.joinMs),
    sendJoinMs: num("send_join") ?? 0,
    consensusMs: orDefault("consensus", Math.trunc(Math.fround(1.2 * tokenMs))),
    mergeMs: orDefault("merge", D.mergeMs),
    downcheckMs: orDefault("downcheck", D.downcheckMs),
    failRecvConst: orDefault("fail_recv_const", D.failRecvConst),
    seqnoUnchangedConst: orDefault("seqno_unchanged_const", D.seqnoUnchangedConst),
    heartbeatFailuresAllowed: num("heartbeat_failures_allowed") ?? 0,
    maxNetworkDelayMs: orDefault("max_network_delay", D.maxNetworkDelayMs),
    windowSize: orDefault("window_size", D.windowSize),
    maxMessages: orDefault("max_messages", D.maxMessages),
    missCountConst: orDefault("miss_count_const", D.missCountConst),
    netMtu: orDefault("netmtu", input.transport === "knet" ? D.knetNetMtu : D.udpNetMtu),
    blockUnlistedIps: yesNo(input.lookup("totem.block_unlisted_ips"), D.blockUnlistedIps),
    cancelTokenHoldOnRetransmit: yesNo(input.lookup("totem.cancel_token_hold_on_retransmit"), D.cancelTokenHoldOnRetransmit),
    knetPmtudIntervalS: orDefault("knet_pmtud_interval", D.knetPmtudIntervalS),
    knetMtu: orDefault("knet_mtu", D.knetMtu),
    knetCompressionModel: stringOf(input.lookup("totem.knet_compression_model")) ?? "none",
    knetCompressionThreshold: num("knet_compression_threshold") ?? 0,
    knetCompressionLevel: num("knet_compression_level") ?? 0,
    links: [],
  };
  totem.links = [...new Set(input.links)].sort((a, b) => a - b).map((l) => linkConfig(l, tokenMs, num));
  return { totem, runtimeEntries: runtimeEntries(totem) };
}

/** corosync's `calc_knet_ping_timers` for one link. */
function linkConfig(linkNumber: number, tokenMs: number, num: (key: string) => number | undefined): TotemLinkConfig {
  const D = TOTEM_DEFAULTS;
  const link = (key: string) => num(`interface.${linkNumber}.${key}`);
  const knetPongCount = link("knet_pong_count") || D.knetPongCount;
  return {
    linkNumber,
    knetPingTimeoutMs: link("knet_ping_timeout") || Math.trunc(tokenMs / knetPongCount),
    knetPingIntervalMs: link("knet_ping_interval") || Math.trunc(tokenMs / (knetPongCount * 2)),
    knetPingPrecision: link("knet_ping_precision") ?? D.knetPingPrecision,
    knetPongCount,
    knetLinkPriority: link("knet_link_priority") ?? D.knetLinkPriority,
  };
}

function yesNo(v: CmapValue | undefined, dflt: boolean): boolean {
  const s = stringOf(v);
  return s === "yes" ? true : s === "no" ? false : dflt;
}

function stringOf(v: CmapValue | undefined): string | undefined {
  return v?.type === CmapType.STRING ? v.value : undefined;
}

/** The `runtime.config.totem.*` keys corosync 3.1.7 publishes, with its types. */
function runtimeEntries(t: TotemConfig): CmapEntry[] {
  const u32 = (key: string, value: number | boolean): CmapEntry => ({
    key: `runtime.config.totem.${key}`,
    value: { type: CmapType.UINT32, value: typeof value === "boolean" ? (value ? 1 : 0) : value },
  });
  const out: CmapEntry[] = [
    u32("block_unlisted_ips", t.blockUnlistedIps),
    u32("cancel_token_hold_on_retransmit", t.cancelTokenHoldOnRetransmit),
    u32("consensus", t.consensusMs),
    u32("downcheck", t.downcheckMs),
    u32("fail_recv_const", t.failRecvConst),
    u32("heartbeat_failures_allowed", t.heartbeatFailuresAllowed),
    u32("hold", t.holdMs),
    u32("join", t.joinMs),
    { key: "runtime.config.totem.knet_compression_level", value: { type: CmapType.INT32, value: t.knetCompressionLevel } },
    { key: "runtime.config.totem.knet_compression_model", value: { type: CmapType.STRING, value: t.knetCompressionModel } },
    u32("knet_compression_threshold", t.knetCompressionThreshold),
    u32("knet_mtu", t.knetMtu),
    u32("knet_pmtud_interval", t.knetPmtudIntervalS),
    u32("max_messages", t.maxMessages),
    u32("max_network_delay", t.maxNetworkDelayMs),
    u32("merge", t.mergeMs),
    u32("miss_count_const", t.missCountConst),
    u32("send_join", t.sendJoinMs),
    u32("seqno_unchanged_const", t.seqnoUnchangedConst),
    u32("token", t.tokenMs),
    u32("token_retransmit", t.tokenRetransmitMs),
    u32("token_retransmits_before_loss_const", t.tokenRetransmitsBeforeLossConst),
    u32("token_warning", t.tokenWarningPercent),
    u32("window_size", t.windowSize),
  ];
  for (const l of t.links) {
    out.push(u32(`interface.${l.linkNumber}.knet_ping_interval`, l.knetPingIntervalMs));
    out.push(u32(`interface.${l.linkNumber}.knet_ping_timeout`, l.knetPingTimeoutMs));
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
