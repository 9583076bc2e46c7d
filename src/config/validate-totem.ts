/**
 * Validation of the totem section proper: the mandatory version, crypto settings and the
 * timer/constant ranges (corosync 3.1.7 `totem_config_validate`,
 * `totem_volatile_config_validate`, `totem_get_crypto`; totem-spec §4.12, §6.3).
 *
 * Timers are checked on their effective values (configured, or derived as corosync derives
 * them), so "token: 40" fails on the derived token_retransmit just as corosync fails.
 * Deliberate differences from corosync:
 * - crypto (`secauth`, `crypto_cipher`) on udp/udpu is allowed: it selects this product's
 *   own authenticated-encryption envelope (a notice says real corosync 3 cannot join);
 * - `window_size: 0` and `max_messages: 0` are rejected (corosync reads 0 as "default"),
 *   as is a window smaller than `max_messages`;
 * - timers longer than Node.js can arm (2^31 − 1 ms) are rejected;
 * - a netmtu below 576 bytes, or above one UDP datagram on udp/udpu, is rejected.
 *
 * Pure: no node:* imports.
 */
import type { DiagnosticList, SourcePos } from "./diagnostics.js";
import { type FlatConfig, type Transport, effectiveCrypto, flatNumber, flatString, posOf, totemInputFromFlat } from "./flat.js";
import { type TotemConfig, computeTotemConfig } from "./totem-defaults.js";

/** corosync's `MINIMUM_TIMEOUT`: 3 · 1000/HZ ms. */
export const MINIMUM_TIMEOUT_MS = 30;
/** corosync's `MINIMUM_TIMEOUT_HOLD`: (int)(30 · 0.8 − 10) ms. */
export const MINIMUM_TIMEOUT_HOLD_MS = 14;
/** The longest delay `setTimeout` honours; longer ones fire at once. */
export const NODE_TIMER_MAX_MS = 2147483647;

/** `totem.version` must be present and 2. */
export function checkVersion(flat: FlatConfig, out: DiagnosticList): void {
  const hasTotem = flat.sections.has("totem") || [...flat.entries.keys()].some((k) => k.startsWith("totem."));
  const msg = "This totem parser can only parse version 2 configurations.";
  if (!hasTotem) {
    out.error(posOf(flat), `No totem section: a 'totem' section with 'version: 2' is required. ${msg}`, "totem.version");
    return;
  }
  const version = flatNumber(flat, "totem.version");
  if (version === undefined && !flat.entries.has("totem.version")) {
    out.error(posOf(flat, "totem.version", "totem"), `totem.version is missing; it must be 2. ${msg}`, "totem.version");
  } else if (version !== undefined && version !== 2) {
    out.error(posOf(flat, "totem.version"), `totem.version is ${version}. ${msg}`, "totem.version");
  }
}

/** A cipher needs a hash; knet has no chacha20 and (here) no compression; crypto on udp/udpu is our envelope (notice). */
export function checkCrypto(flat: FlatConfig, out: DiagnosticList, transport: Transport | undefined): void {
  const { cipher, hash } = effectiveCrypto(flat);
  if (cipher !== "none" && hash === "none") {
    out.error(
      posOf(flat, "totem.crypto_hash", "totem.crypto_cipher", "totem.secauth", "totem"),
      "crypto_cipher requires crypto_hash with value other than none",
      "totem.crypto_hash",
    );
  }
  if (cipher === "chacha20" && transport === "knet") {
    out.error(
      posOf(flat, "totem.crypto_cipher", "totem"),
      "crypto_cipher chacha20 is not available with the knet transport. Should be none, aes256, aes192 or aes128",
      "totem.crypto_cipher",
    );
  }
  const compression = flatString(flat, "totem.knet_compression_model");
  if (transport === "knet" && compression !== undefined && compression !== "none") {
    out.error(
      posOf(flat, "totem.knet_compression_model"),
      `knet_compression_model ${compression} is not supported by this implementation (only none): its nodes could not read compressed knet frames`,
      "totem.knet_compression_model",
    );
  }
  if ((cipher !== "none" || hash !== "none") && transport !== undefined && transport !== "knet") {
    out.notice(
      posOf(flat, "totem.crypto_cipher", "totem.secauth", "totem.crypto_hash", "totem"),
      `crypto on ${transport} uses this implementation's own authenticated-encryption envelope; corosync 3 nodes (which allow crypto only with knet) cannot join this cluster`,
      flat.entries.has("totem.crypto_cipher") ? "totem.crypto_cipher" : "totem.secauth",
    );
  }
}

interface TimerRule {
  key: string;
  value: (t: TotemConfig) => number;
  name: string;
  /** Keys the value is derived from when it is not configured (for the message position). */
  from: string[];
  min: number;
}

const TIMER_RULES: TimerRule[] = [
  { key: "max_network_delay", value: (t) => t.maxNetworkDelayMs, name: "The max_network_delay parameter", from: [], min: MINIMUM_TIMEOUT_MS },
  { key: "token", value: (t) => t.tokenMs, name: "The token timeout parameter", from: [], min: MINIMUM_TIMEOUT_MS },
  {
    key: "token_retransmit",
    value: (t) => t.tokenRetransmitMs,
    name: "The token retransmit timeout parameter",
    from: ["token", "token_retransmits_before_loss_const"],
    min: MINIMUM_TIMEOUT_MS,
  },
  { key: "hold", value: (t) => t.holdMs, name: "The token hold timeout parameter", from: ["token_retransmit", "token"], min: MINIMUM_TIMEOUT_HOLD_MS },
  { key: "join", value: (t) => t.joinMs, name: "The join timeout parameter", from: [], min: MINIMUM_TIMEOUT_MS },
  { key: "consensus", value: (t) => t.consensusMs, name: "The consensus timeout parameter", from: ["token"], min: MINIMUM_TIMEOUT_MS },
  { key: "merge", value: (t) => t.mergeMs, name: "The merge timeout parameter", from: [], min: MINIMUM_TIMEOUT_MS },
  { key: "downcheck", value: (t) => t.downcheckMs, name: "The downcheck timeout parameter", from: [], min: MINIMUM_TIMEOUT_MS },
  { key: "send_join", value: (t) => t.sendJoinMs, name: "The send_join parameter", from: [], min: 0 },
];

/** Where to point at a timer: the key if set, else the first set key it derives from, else the section. */
function timerPos(flat: FlatConfig, key: string, from: readonly string[]): SourcePos {
  return posOf(flat, ...[key, ...from].map((k) => `totem.${k}`), "totem");
}

/** Effective timers within corosync's minimums (and what Node can arm). */
export function checkTimers(flat: FlatConfig, out: DiagnosticList, transport: Transport): void {
  const t = computeTotemConfig(totemInputFromFlat(flat, transport)).totem;
  for (const rule of TIMER_RULES) {
    const v = rule.value(t);
    const configured = flat.entries.has(`totem.${rule.key}`) && flatNumber(flat, `totem.${rule.key}`) !== 0;
    const key = `totem.${rule.key}`;
    if (v > NODE_TIMER_MAX_MS) {
      out.error(timerPos(flat, rule.key, rule.from), `${rule.name} (${v} ms) is longer than the longest timer Node.js can arm (${NODE_TIMER_MAX_MS} ms).`, key);
    } else if (v < rule.min && rule.key === "token_retransmit" && !configured) {
      out.error(timerPos(flat, rule.key, rule.from), "Not appropriate token or token_retransmits_before_loss_const value set", key);
    } else if (v < rule.min) {
      const derived = configured || rule.from.length === 0 ? "" : `, derived from ${rule.from.join(" and ")}`;
      const at = timerPos(flat, rule.key, rule.from);
      out.error(at, `${rule.name} (${v} ms${derived}) may not be less than (${rule.min} ms).`, key);
    }
  }
  if (t.consensusMs < t.joinMs) {
    out.error(
      timerPos(flat, "consensus", ["token"]),
      `The consensus timeout parameter (${t.consensusMs} ms) may not be less than join timeout (${t.joinMs} ms).`,
      "totem.consensus",
    );
  }
  checkConstants(flat, out, t);
  checkNetMtu(flat, out, t, transport);
}

/** Smallest netmtu accepted: the IPv4 minimum reassembly size (corosync has no check). */
export const NETMTU_MIN = 576;
/** Largest UDP payload over IPv4: the most a udp/udpu frame can be. */
export const UDP_PAYLOAD_MAX = 65507;

/** netmtu must leave room for a Totem frame and fit one UDP datagram (udp/udpu). */
function checkNetMtu(flat: FlatConfig, out: DiagnosticList, t: TotemConfig, transport: Transport): void {
  if (!flat.entries.has("totem.netmtu") || flatNumber(flat, "totem.netmtu") === 0) return;
  const at = posOf(flat, "totem.netmtu");
  if (t.netMtu < NETMTU_MIN) {
    out.error(at, `netmtu (${t.netMtu}) is too small: a Totem frame needs at least ${NETMTU_MIN} bytes`, "totem.netmtu");
  } else if (transport !== "knet" && t.netMtu > UDP_PAYLOAD_MAX) {
    out.error(at, `netmtu (${t.netMtu}) is larger than one UDP datagram can carry (${UDP_PAYLOAD_MAX})`, "totem.netmtu");
  }
}

function checkConstants(flat: FlatConfig, out: DiagnosticList, t: TotemConfig): void {
  if (t.tokenWarningPercent > 100) {
    out.error(posOf(flat, "totem.token_warning"), `The token warning parameter (${t.tokenWarningPercent}%) must be between 0 (disabled) and 100.`, "totem.token_warning");
  }
  for (const key of ["window_size", "max_messages"]) {
    if (flatNumber(flat, `totem.${key}`) === 0) {
      out.error(posOf(flat, `totem.${key}`), `${key} must be at least 1 (0 would stop the ring from sending)`, `totem.${key}`);
    }
  }
  if (t.windowSize < t.maxMessages) {
    const key = flat.entries.has("totem.window_size") ? "totem.window_size" : "totem.max_messages";
    out.error(posOf(flat, key, "totem"), `window_size (${t.windowSize}) may not be less than max_messages (${t.maxMessages})`, key);
  }
}
