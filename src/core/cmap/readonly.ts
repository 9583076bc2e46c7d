/**
 * The keys corosync 3 makes read-only for clients at start-up (`exec/main.c`,
 * `set_icmap_ro_keys_flag`; votequorum adds its own in `votequorum_set_icmap_ro_keys`).
 * `nodelist.local_node_pos` is marked later, once known, by the totem configuration code.
 */
import type { CmapStore } from "./store.js";

/** Prefixes whose every key is read-only (internal configuration and runtime data). */
export const COROSYNC_READ_ONLY_PREFIXES: readonly string[] = [
  "internal_configuration.",
  "runtime.services.",
  "runtime.config.",
  "runtime.totem.",
  "uidgid.config.",
  "system.",
  "nodelist.",
];

/** Exact configuration keys that cannot change while the executive runs. */
export const COROSYNC_READ_ONLY_KEYS: readonly string[] = [
  "totem.crypto_cipher",
  "totem.crypto_hash",
  "totem.crypto_model",
  "totem.keyfile",
  "totem.key",
  "totem.secauth",
  "totem.ip_version",
  "totem.rrp_mode",
  "totem.transport",
  "totem.cluster_name",
  "totem.netmtu",
  "totem.threads",
  "totem.version",
  "totem.nodeid",
  "totem.clear_node_high_bit",
  "config.reload_in_progress",
  "config.totemconfig_reload_in_progress",
];

/** Marked read-only by votequorum when it starts. */
export const VOTEQUORUM_READ_ONLY_KEYS: readonly string[] = [
  "quorum.allow_downscale",
  "quorum.wait_for_all",
  "quorum.last_man_standing",
  "quorum.last_man_standing_window",
  "quorum.expected_votes_tracking",
  "quorum.auto_tie_breaker",
  "quorum.auto_tie_breaker_node",
];

/** Applies the executive's start-up rules (not votequorum's). Safe to call once per store. */
export function applyCorosyncReadOnlyKeys(store: CmapStore): void {
  for (const p of COROSYNC_READ_ONLY_PREFIXES) store.setReadOnly(p, true);
  for (const k of COROSYNC_READ_ONLY_KEYS) store.setReadOnly(k, false);
}
