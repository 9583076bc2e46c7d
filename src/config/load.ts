/**
 * Reading the configuration from disk: the main file (`corosync -c FILE`) and the
 * `uidgid.d` directory, then the pure pipeline of `compile.ts`.
 *
 * The uidgid.d directory is, as in corosync 3, `uidgid.d` next to the configuration file
 * (for the default /etc/corosync/corosync.conf that is also 1.x's fixed
 * /etc/corosync/uidgid.d). Every regular file in it is read (symlinks followed, no name
 * filtering), in name order — corosync uses readdir order, which is not reproducible.
 * A missing directory is not an error.
 */
import { accessSync, constants, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { CmapEntry } from "../core/cmap/types.js";
import { type CompileOptions, compileConfig, type SourceText } from "./compile.js";
import { type ConfigDiagnostic, diagnostic, filePos } from "./diagnostics.js";
import type { CorosyncConfig, Env } from "./model.js";
import { parseConfig } from "./parse.js";
import { type FlattenOptions, flattenUidGidFile } from "./to-cmap.js";

export interface LoadOptions extends FlattenOptions {
  /** The uidgid.d directory; default `uidgid.d` beside the configuration file. */
  uidgidDir?: string;
  /** Check that the authkey is readable when crypto is enabled (default true). */
  checkKeyFile?: boolean;
}

export type LoadResult =
  | { ok: true; config: CorosyncConfig; cmapEntries: CmapEntry[]; diagnostics: ConfigDiagnostic[] }
  | { ok: false; diagnostics: ConfigDiagnostic[] };

export interface UidGidLoadResult {
  entries: CmapEntry[];
  diagnostics: ConfigDiagnostic[];
}

/** The reason an fs call failed, without the stack: "No such file or directory" etc. */
function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const text: Record<string, string> = {
    ENOENT: "No such file or directory",
    EACCES: "Permission denied",
    EISDIR: "Is a directory",
    ENOTDIR: "Not a directory",
    ELOOP: "Too many levels of symbolic links",
  };
  return (err.code !== undefined ? text[err.code] : undefined) ?? err.message ?? String(e);
}

/**
 * Load, validate and model the configuration at `path`. A file that cannot be read is one
 * error naming the path. `env` supplies COROSYNC_STATE_DIR (never read from process.env).
 */
export function loadConfigFile(path: string, env: Env, options: LoadOptions = {}): LoadResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    return { ok: false, diagnostics: [diagnostic("error", filePos(path), `Can't read file ${path}: ${reason(e)}`)] };
  }
  const dir = readUidGidDir(options.uidgidDir ?? join(dirname(path), "uidgid.d"));
  const compileOptions: CompileOptions = { env, uidgidFiles: dir.files };
  if (options.resolveUid !== undefined) compileOptions.resolveUid = options.resolveUid;
  if (options.resolveGid !== undefined) compileOptions.resolveGid = options.resolveGid;
  if (options.checkKeyFile !== false) compileOptions.checkKeyFile = keyFileProblem;
  const result = compileConfig({ file: path, text }, compileOptions);
  return { ...result, diagnostics: [...result.diagnostics, ...dir.diagnostics] };
}

/** Why the key file cannot be read, or undefined when it can. */
function keyFileProblem(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return "Not a regular file";
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (e) {
    return reason(e);
  }
}

/** The regular files of a uidgid.d directory, in name order. */
function readUidGidDir(dir: string): { files: SourceText[]; diagnostics: ConfigDiagnostic[] } {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { files: [], diagnostics: [] };
    return { files: [], diagnostics: [diagnostic("warning", filePos(dir), `Can't read directory ${dir}: ${reason(e)}`)] };
  }
  const files: SourceText[] = [];
  const diagnostics: ConfigDiagnostic[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      if (!statSync(file).isFile()) continue;
      files.push({ file, text: readFileSync(file, "utf8") });
    } catch (e) {
      diagnostics.push(diagnostic("warning", filePos(file), `Can't read file ${file}: ${reason(e)}; skipped`));
    }
  }
  return { files, diagnostics };
}

/**
 * Read a uidgid.d directory on its own (the daemon re-reads it on reload): the
 * `uidgid.uid.*` / `uidgid.gid.*` (or, with resolvers, `uidgid.config.*`) entries of all
 * its files, and their diagnostics. Entries of files with errors are left out.
 */
export function loadUidGidDir(dir: string, options: FlattenOptions = {}): UidGidLoadResult {
  const { files, diagnostics } = readUidGidDir(dir);
  const entries: CmapEntry[] = [];
  for (const f of files) {
    const parsed = parseConfig(f.text, f.file);
    diagnostics.push(...parsed.diagnostics);
    if (!parsed.ok) continue;
    const r = flattenUidGidFile(parsed.tree, options);
    diagnostics.push(...r.diagnostics);
    if (!r.diagnostics.some((d) => d.severity === "error")) entries.push(...r.entries);
  }
  return { entries, diagnostics };
}
