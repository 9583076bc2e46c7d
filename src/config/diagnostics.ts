/**
 * Diagnostics of the configuration layer: what the parser, the cmap flattening, the
 * validator and the loader report about a corosync.conf (totem-spec §9).
 *
 * Every diagnostic names a file and a 1-based line and column; `line` 0 means "the file
 * as a whole" (a missing file, a missing mandatory section). `key` is the cmap key the
 * message is about (`totem.token`, `nodelist.node.1.nodeid`), when there is one.
 *
 * Pure: no node:* imports.
 */

/** How bad a finding is. Only `error` stops the executive (exit 8). */
export type Severity = "error" | "warning" | "notice";

/** A position in a configuration file. `line`/`column` are 1-based; line 0 = whole file. */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

/**
 * A configuration error: where it is, what was expected, and the key it concerns.
 * The parser returns (never throws) one of these for a syntax error.
 */
export interface ConfigError extends SourcePos {
  message: string;
  key?: string;
}

/** Any finding, with its severity. Errors are `ConfigError`s with severity "error". */
export interface ConfigDiagnostic extends ConfigError {
  severity: Severity;
}

/** Build a diagnostic at `pos`; `key` is omitted from the object when undefined. */
export function diagnostic(severity: Severity, pos: SourcePos, message: string, key?: string): ConfigDiagnostic {
  const d: ConfigDiagnostic = { severity, file: pos.file, line: pos.line, column: pos.column, message };
  if (key !== undefined) d.key = key;
  return d;
}

/** A position meaning "the file as a whole". */
export function filePos(file: string): SourcePos {
  return { file, line: 0, column: 0 };
}

/**
 * Render a diagnostic as `<file>:<line>:<column>: <severity>: <message>` (the shape
 * compilers use, so editors can jump to it). Whole-file findings print `<file>: ...`.
 */
export function formatDiagnostic(d: ConfigDiagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
  return `${where}: ${d.severity}: ${d.message}`;
}

/** True when any diagnostic is an error. */
export function hasErrors(diagnostics: readonly ConfigDiagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/**
 * Order diagnostics by line and column within each file; files keep the order in which
 * they first appear (the main file before its uidgid.d files). Stable for equal positions.
 */
export function sortDiagnostics(diagnostics: readonly ConfigDiagnostic[]): ConfigDiagnostic[] {
  const fileRank = new Map<string, number>();
  for (const d of diagnostics) if (!fileRank.has(d.file)) fileRank.set(d.file, fileRank.size);
  return diagnostics
    .map((d, i) => ({ d, i }))
    .sort((a, b) => fileRank.get(a.d.file)! - fileRank.get(b.d.file)! || a.d.line - b.d.line || a.d.column - b.d.column || a.i - b.i)
    .map((x) => x.d);
}

/**
 * A collector that the checking passes append to. Keeps the passes short:
 * `out.error(pos, "…", "totem.token")`.
 */
export class DiagnosticList {
  readonly items: ConfigDiagnostic[] = [];

  error(pos: SourcePos, message: string, key?: string): void {
    this.items.push(diagnostic("error", pos, message, key));
  }

  warning(pos: SourcePos, message: string, key?: string): void {
    this.items.push(diagnostic("warning", pos, message, key));
  }

  notice(pos: SourcePos, message: string, key?: string): void {
    this.items.push(diagnostic("notice", pos, message, key));
  }

  push(...ds: ConfigDiagnostic[]): void {
    this.items.push(...ds);
  }
}
