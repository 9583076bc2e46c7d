/**
 * Configuration reload (`corosync-cfgtool -R`, cfg RELOAD_CONFIG on every node): re-read
 * corosync.conf and apply the keys that may change at runtime —
 *
 * - `logging.*` and the uidgid access lists (config sections and the uidgid.d directory);
 * - the votequorum keys corosync re-reads: `quorum.expected_votes`, `quorum.votes`,
 *   `quorum.two_node`, `nodelist.node.<n>.quorum_votes` (votequorum picks them up through
 *   its cmap tracking once the reload is over);
 * - the Totem timeouts and constants of corosync's `totem_volatile_config_read` (token,
 *   token_coefficient, consensus, join, merge...): the executive hands the new effective
 *   values to the SRP core and `runtime.config.totem.*` is updated.
 *
 * Everything else that differs is reported and left as it was (addresses, ports, transport,
 * crypto, cluster name, other quorum options, ...). While keys change,
 * `config.totemconfig_reload_in_progress` and `config.reload_in_progress` are 1; at the end
 * `config.reload_status` holds the cs_error_t result and both flags return to 0.
 */
import { dirname, join } from "node:path";
import type { CmapStore } from "../core/cmap/store.js";
import { CmapType, type CmapValue } from "../core/cmap/types.js";
import { loadConfigFile, loadUidGidDir } from "../config/load.js";
import { hasErrors, formatDiagnostic } from "../config/diagnostics.js";
import type { CorosyncConfig, Env } from "../config/model.js";

export interface ReloadResult {
  ok: boolean;
  message: string;
  /** Keys whose new value was applied. */
  applied: string[];
  /** Keys that differ but cannot change at runtime. */
  refused: string[];
  /** The freshly loaded configuration (when ok), for the parts applied outside cmap. */
  config?: CorosyncConfig;
}

const RUNTIME_PREFIXES = ["logging.", "uidgid."];

/** Totem keys corosync re-reads at runtime (`totem_volatile_config_read`) that we apply. */
const TOTEM_RUNTIME_KEYS = [
  "token",
  "token_coefficient",
  "token_retransmit",
  "token_retransmits_before_loss_const",
  "token_warning",
  "hold",
  "join",
  "send_join",
  "consensus",
  "merge",
  "downcheck",
  "fail_recv_const",
  "seqno_unchanged_const",
  "heartbeat_failures_allowed",
  "max_network_delay",
  "window_size",
  "max_messages",
  "miss_count_const",
  "cancel_token_hold_on_retransmit",
];

const RUNTIME_KEY_PATTERNS: readonly RegExp[] = [
  /^quorum\.(expected_votes|votes|two_node)$/,
  /^nodelist\.node\.\d+\.quorum_votes$/,
  new RegExp(`^totem\\.(${TOTEM_RUNTIME_KEYS.join("|")})$`),
];

/**
 * Keys gone from the file are deleted under these prefixes only, as corosync's
 * `remove_deleted_entries` does: `uidgid.uid.*`/`uidgid.gid.*` set at runtime (pacemakerd
 * grants its daemons access that way) survive a reload.
 */
const DELETABLE_PREFIXES = ["logging.", "totem.", "nodelist.", "quorum.", "uidgid.config."];

const CS_OK = 1;
const CS_ERR_INVALID_PARAM = 7;

/** May `key` change while the executive runs? */
export function isRuntimeChangeable(key: string): boolean {
  return RUNTIME_PREFIXES.some((p) => key.startsWith(p)) || RUNTIME_KEY_PATTERNS.some((re) => re.test(key));
}

function valueText(v: unknown): string {
  return typeof v === "object" && v !== null && "value" in v ? String((v as { value: unknown }).value) : String(v);
}

function flag(cmap: CmapStore, key: string, value: number, type: typeof CmapType.UINT8 | typeof CmapType.INT32 = CmapType.UINT8): void {
  cmap.set(key, { type, value } as CmapValue, { force: true });
}

/** Re-read `file` and update `cmap` (the executive re-applies logging and timers after). */
export function reloadConfiguration(file: string, env: Env, cmap: CmapStore): ReloadResult {
  flag(cmap, "config.totemconfig_reload_in_progress", 1);
  let result: ReloadResult;
  try {
    result = applyFile(file, env, cmap);
  } finally {
    flag(cmap, "config.reload_in_progress", 0);
  }
  flag(cmap, "config.reload_status", result.ok ? CS_OK : CS_ERR_INVALID_PARAM, CmapType.INT32);
  // Listeners (votequorum) re-read their keys when this goes back to 0.
  flag(cmap, "config.totemconfig_reload_in_progress", 0);
  return result;
}

function applyFile(file: string, env: Env, cmap: CmapStore): ReloadResult {
  const loaded = loadConfigFile(file, env);
  if (!loaded.ok || hasErrors(loaded.diagnostics)) {
    const first = loaded.diagnostics.find((d) => d.severity === "error");
    return { ok: false, message: `configuration file ${file} is invalid: ${first ? formatDiagnostic(first) : "unknown error"}`, applied: [], refused: [] };
  }
  flag(cmap, "config.reload_in_progress", 1);
  const fresh = new Map(loaded.cmapEntries.map((e) => [e.key, e.value]));
  const uidgidDir = join(dirname(file), "uidgid.d");
  for (const e of loadUidGidDir(uidgidDir).entries) fresh.set(e.key, e.value);
  const applied: string[] = [];
  const refused: string[] = [];
  for (const [key, value] of fresh) {
    if (key.startsWith("runtime.")) continue;
    const old = cmap.get(key);
    if (old !== undefined && old.type === value.type && valueText(old) === valueText(value)) continue;
    if (isRuntimeChangeable(key)) {
      cmap.set(key, value, { force: true });
      applied.push(key);
    } else {
      refused.push(key);
    }
  }
  for (const key of cmap.keys()) {
    if (!fresh.has(key) && DELETABLE_PREFIXES.some((p) => key.startsWith(p)) && isRuntimeChangeable(key)) {
      cmap.delete(key, { force: true });
      applied.push(key);
    }
  }
  // The effective Totem values follow the new file (what `corosync-cmapctl -g
  // runtime.config.totem.token` shows).
  for (const [key, value] of fresh) if (key.startsWith("runtime.config.totem.")) cmap.set(key, value, { force: true });
  const message = `reload: ${applied.length} key(s) applied${refused.length > 0 ? `; not changeable at runtime: ${refused.join(", ")}` : ""}`;
  return { ok: true, message, applied, refused, config: loaded.config };
}
