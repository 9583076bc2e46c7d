/**
 * Configuration reload (`corosync-cfgtool -R`): re-read corosync.conf and apply the keys that
 * may change at runtime. Today: logging levels and targets, and the uidgid access lists
 * (config sections and the uidgid.d directory). Everything else that differs is reported and
 * left as it was.
 */
import { dirname, join } from "node:path";
import type { CmapStore } from "../core/cmap/store.js";
import { loadConfigFile, loadUidGidDir } from "../config/load.js";
import { hasErrors, formatDiagnostic } from "../config/diagnostics.js";
import type { Env } from "../config/model.js";

export interface ReloadResult {
  ok: boolean;
  message: string;
  /** Keys whose new value was applied. */
  applied: string[];
  /** Keys that differ but cannot change at runtime. */
  refused: string[];
}

const RUNTIME_PREFIXES = ["logging.", "uidgid."];

function valueText(v: unknown): string {
  return typeof v === "object" && v !== null && "value" in v ? String((v as { value: unknown }).value) : String(v);
}

/** Re-read `file` and update `cmap` (the executive re-applies logging from cmap after). */
export function reloadConfiguration(file: string, env: Env, cmap: CmapStore): ReloadResult {
  const loaded = loadConfigFile(file, env);
  if (!loaded.ok || hasErrors(loaded.diagnostics)) {
    const first = loaded.diagnostics.find((d) => d.severity === "error");
    return { ok: false, message: `configuration file ${file} is invalid: ${first ? formatDiagnostic(first) : "unknown error"}`, applied: [], refused: [] };
  }
  const fresh = new Map(loaded.cmapEntries.map((e) => [e.key, e.value]));
  const uidgidDir = join(dirname(file), "uidgid.d");
  for (const e of loadUidGidDir(uidgidDir).entries) fresh.set(e.key, e.value);
  const applied: string[] = [];
  const refused: string[] = [];
  for (const [key, value] of fresh) {
    if (key.startsWith("runtime.")) continue;
    const old = cmap.get(key);
    if (old !== undefined && old.type === value.type && valueText(old) === valueText(value)) continue;
    if (RUNTIME_PREFIXES.some((p) => key.startsWith(p))) {
      cmap.set(key, value, { force: true });
      applied.push(key);
    } else {
      refused.push(key);
    }
  }
  for (const prefix of RUNTIME_PREFIXES) {
    for (const key of [...cmap.keys(prefix)]) {
      if (!fresh.has(key)) {
        cmap.delete(key, { force: true });
        applied.push(key);
      }
    }
  }
  const message = `reload: ${applied.length} key(s) applied${refused.length > 0 ? `; not changeable at runtime: ${refused.join(", ")}` : ""}`;
  return { ok: true, message, applied, refused };
}
