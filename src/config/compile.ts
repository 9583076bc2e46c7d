/**
 * The whole configuration pipeline on text already read: parse → flatten (plus the
 * uidgid.d files) → validate → model → cmap entries. `load.ts` does the file reading;
 * this part is pure so that tests and the simulator can use it without a file system.
 *
 * The cmap entries are what the daemon loads into its map at start-up, in this order:
 * the file's keys; the keys corosync writes back (generated node ids; udp multicast
 * address and port); the `runtime.config.totem.*` keys of the effective timers.
 *
 * Pure: no node:* imports.
 */
import { CmapError } from "../core/cmap/errors.js";
import { isValidKeyName } from "../core/cmap/keys.js";
import type { CmapEntry } from "../core/cmap/types.js";
import { normalizeValue } from "../core/cmap/values.js";
import { type ConfigDiagnostic, hasErrors, diagnostic, sortDiagnostics } from "./diagnostics.js";
import { type FlatConfig, posOf, toCmapEntries, totemInputFromFlat } from "./flat.js";
import { type CorosyncConfig, type Env, buildConfigModel, writeBackEntries } from "./model.js";
import { parseConfig } from "./parse.js";
import { type FlattenOptions, flattenConfig, flattenUidGidFile } from "./to-cmap.js";
import { computeTotemConfig } from "./totem-defaults.js";
import { validateConfig } from "./validate.js";

/** A file's name and text. */
export interface SourceText {
  file: string;
  text: string;
}

export interface CompileOptions extends FlattenOptions {
  /** Environment (COROSYNC_STATE_DIR...); empty when omitted. */
  env?: Env;
  /** The files of the uidgid.d directory, in the order to apply them. */
  uidgidFiles?: readonly SourceText[];
  /**
   * Called with the key file path when crypto is enabled; returns why it cannot be read,
   * or undefined when it can. Omitted: the key file is not checked.
   */
  checkKeyFile?: (path: string) => string | undefined;
}

export type CompileResult =
  | { ok: true; config: CorosyncConfig; cmapEntries: CmapEntry[]; diagnostics: ConfigDiagnostic[] }
  | { ok: false; diagnostics: ConfigDiagnostic[] };

/** Run the pipeline on the main file's text. */
export function compileConfig(main: SourceText, options: CompileOptions = {}): CompileResult {
  const parsed = parseConfig(main.text, main.file);
  if (!parsed.ok) return { ok: false, diagnostics: parsed.diagnostics };
  const flattened = flattenConfig(parsed.tree, options);
  const diagnostics = [...parsed.diagnostics, ...flattened.diagnostics];
  for (const f of options.uidgidFiles ?? []) diagnostics.push(...mergeUidGidFile(flattened.flat, f, options));
  diagnostics.push(...withoutCascades(validateConfig(parsed.tree, flattened.flat), flattened.diagnostics));
  diagnostics.push(...unstorableKeys(flattened.flat));
  if (hasErrors(diagnostics)) return { ok: false, diagnostics: sortDiagnostics(diagnostics) };
  const config = buildConfigModel(flattened.flat, options.env ?? {});
  const keyProblem = config.crypto.enabled ? options.checkKeyFile?.(config.crypto.keyfile) : undefined;
  if (keyProblem !== undefined) {
    const at = posOf(flattened.flat, "totem.keyfile", "totem.crypto_cipher", "totem.secauth", "totem.crypto_hash", "totem");
    diagnostics.push(diagnostic("error", at, `Could not open ${config.crypto.keyfile}: ${keyProblem}`, "totem.keyfile"));
    return { ok: false, diagnostics: sortDiagnostics(diagnostics) };
  }
  return { ok: true, config, cmapEntries: cmapEntries(flattened.flat, config), diagnostics: sortDiagnostics(diagnostics) };
}

/** Parse and flatten one uidgid.d file into `flat`; returns its diagnostics. */
function mergeUidGidFile(flat: FlatConfig, source: SourceText, options: FlattenOptions): ConfigDiagnostic[] {
  const parsed = parseConfig(source.text, source.file);
  if (!parsed.ok) return parsed.diagnostics;
  const r = flattenUidGidFile(parsed.tree, options);
  for (const [key, entry] of r.flat.entries) flat.entries.set(key, entry);
  return [...parsed.diagnostics, ...r.diagnostics];
}

/**
 * Keys the cmap store would refuse (a name outside icmap's `[A-Za-z0-9_./:-]{3,255}`, a
 * string value holding NUL...): configuration errors, as corosync's parser reports them
 * ("Can't store key ... into icmap"), instead of an exception when the executive loads the
 * entries at start or at a reload (found by the fuzzer, test/fuzz/regressions.test.ts).
 */
function unstorableKeys(flat: FlatConfig): ConfigDiagnostic[] {
  const out: ConfigDiagnostic[] = [];
  for (const [key, entry] of flat.entries) {
    let why: string | undefined;
    if (!isValidKeyName(key)) {
      why = "not a valid key name (3 to 255 characters of A-Z a-z 0-9 _ . / : -)";
    } else {
      try {
        normalizeValue(key, entry.value);
      } catch (e) {
        if (!(e instanceof CmapError)) throw e;
        why = e.message;
      }
    }
    if (why !== undefined) out.push(diagnostic("error", entry.pos, `Can't store key ${JSON.stringify(key)} into icmap: ${why}`, key));
  }
  return out;
}

/**
 * Drop validation findings about keys the flattening already rejected (a bad `nodeid`
 * number must not also be reported as a missing nodeid).
 */
function withoutCascades(found: ConfigDiagnostic[], flattening: readonly ConfigDiagnostic[]): ConfigDiagnostic[] {
  const rejected = new Set(flattening.filter((d) => d.severity === "error" && d.key !== undefined).map((d) => d.key));
  return found.filter((d) => d.severity !== "error" || d.key === undefined || !rejected.has(d.key));
}

function cmapEntries(flat: FlatConfig, config: CorosyncConfig): CmapEntry[] {
  const runtime = computeTotemConfig(totemInputFromFlat(flat, config.transport)).runtimeEntries;
  return [...toCmapEntries(flat), ...writeBackEntries(flat, config), ...runtime];
}
