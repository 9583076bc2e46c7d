/**
 * The corosync.conf parser: text in, a syntax tree out (totem-spec §9).
 *
 * The grammar is corosync's line-oriented one, the same in 1.x and 3.x:
 * ```
 * totem {            <- a line containing '{' opens a section (also `totem: {`)
 *     version: 2     <- else a line containing ':' is `key: value`
 * }                  <- else a line that is exactly '}' closes the section
 * # comment          <- blank lines and lines starting with '#' are skipped
 * ```
 * Classification is by first match in that order, so a value can never contain '{'.
 * Keys are the text before the first ':', values the rest, both trimmed of blanks and
 * tabs (values may be empty and may contain ':' — IPv6 addresses work). There are no
 * end-of-line comments and no quoting: `key: a # b` has the value `a # b`.
 *
 * Deviations from corosync's `coroparse.c`, all deliberate:
 * - CRLF line endings are accepted (the original's installation guide warned that they
 *   "break the parser"); a notice records that the file uses them. A leading UTF-8 byte
 *   order mark is skipped with a notice.
 * - An empty key is an error ("Key name can't be empty", as corosync 3.1.10).
 * - A section name made only of ':' is "Missing section name" (corosync kept ':' as a name).
 * - Errors carry a column; "Missing closing brace" names the section and its line.
 *
 * The tree keeps every item in file order, repeated sections and duplicate keys included;
 * merging duplicates (last key wins) is the job of the cmap flattening (`to-cmap.ts`).
 * The parser stops at the first syntax error, as corosync does.
 *
 * Pure: no node:* imports. Columns count UTF-16 code units from 1; a tab counts as one.
 */
import { CMAP_KEYNAME_MAXLEN } from "../core/cmap/types.js";
import { type ConfigDiagnostic, type ConfigError, type SourcePos, diagnostic } from "./diagnostics.js";

/** `key: value` at `line`:`column` (the key's first character). */
export interface ConfigKey {
  kind: "key";
  name: string;
  value: string;
  line: number;
  column: number;
  /** Column of the value's first character (just past the ':' and blanks). */
  valueColumn: number;
}

/** `name {` … `}`: a section opened at `line`:`column`, closed at `endLine`. */
export interface ConfigSection {
  kind: "section";
  name: string;
  line: number;
  column: number;
  endLine: number;
  items: ConfigItem[];
}

export type ConfigItem = ConfigKey | ConfigSection;

/** A parsed file: its top-level items in file order. */
export interface ConfigTree {
  file: string;
  items: ConfigItem[];
  /** True when at least one line ended in CR LF. */
  crlf: boolean;
}

export type ParseResult =
  | { ok: true; tree: ConfigTree; diagnostics: ConfigDiagnostic[] }
  | { ok: false; error: ConfigError; diagnostics: ConfigDiagnostic[] };

/** Longest line corosync reads: a 512-byte `fgets` buffer holds 510 bytes, '\n' and NUL. */
export const LINE_MAX_BYTES = 510;
/** Longest dotted path (section path + key) that fits a cmap key name. */
export const PATH_MAX_BYTES = CMAP_KEYNAME_MAXLEN - 1;

const BOM = "\uFEFF";

/** Parse the text of `file`. Never throws; a syntax error is returned as `error`. */
export function parseConfig(text: string, file: string): ParseResult {
  const p = new Parser(file);
  const notices: ConfigDiagnostic[] = [];
  if (text.startsWith(BOM)) {
    text = text.slice(BOM.length);
    notices.push(diagnostic("notice", { file, line: 1, column: 1 }, "file starts with a UTF-8 byte order mark; ignored"));
  }
  const lines = splitLines(text);
  for (let i = 0; i < lines.length && p.error === undefined; i++) {
    const { content, crlf } = lines[i]!;
    if (crlf && !p.crlf) {
      p.crlf = true;
      notices.push(diagnostic("notice", { file, line: i + 1, column: 1 }, "file uses CRLF line endings; accepted"));
    }
    p.line(i + 1, content);
  }
  if (p.error === undefined) p.end(lines);
  if (p.error !== undefined) {
    return { ok: false, error: p.error, diagnostics: [...notices, { severity: "error", ...p.error }] };
  }
  return { ok: true, tree: { file, items: p.root, crlf: p.crlf }, diagnostics: notices };
}

interface Line {
  content: string;
  crlf: boolean;
}

/** Split on '\n'; drop one trailing '\r' per line. A final newline does not start a line. */
function splitLines(text: string): Line[] {
  const parts = text.split("\n");
  if (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts.map((raw) =>
    raw.endsWith("\r") ? { content: raw.slice(0, -1), crlf: true } : { content: raw, crlf: false },
  );
}

interface Open {
  section: ConfigSection;
  path: string;
}

class Parser {
  readonly root: ConfigItem[] = [];
  private readonly stack: Open[] = [];
  error: ConfigError | undefined;
  crlf = false;

  constructor(private readonly file: string) {}

  private get path(): string {
    return this.stack.length > 0 ? this.stack[this.stack.length - 1]!.path : "";
  }

  private get items(): ConfigItem[] {
    return this.stack.length > 0 ? this.stack[this.stack.length - 1]!.section.items : this.root;
  }

  private fail(line: number, index: number, message: string, key?: string): void {
    const e: ConfigError = { file: this.file, line, column: index + 1, message };
    if (key !== undefined) e.key = key;
    this.error = e;
  }

  /** Classify and apply one line (without its terminator). */
  line(no: number, raw: string): void {
    if (utf8Length(raw) > LINE_MAX_BYTES) {
      this.fail(no, 0, `Line too long (${utf8Length(raw)} bytes; at most ${LINE_MAX_BYTES} are allowed)`);
      return;
    }
    const text = trimEndBlanks(raw);
    const first = skipBlanks(text, 0);
    if (first === text.length || text[first] === "#") return;
    const brace = text.indexOf("{");
    if (brace >= 0) return this.openSection(no, text, first, brace);
    const colon = text.indexOf(":");
    if (colon >= 0) return this.keyValue(no, text, first, colon);
    if (text.includes("}")) return this.closeSection(no, text, first);
    this.fail(no, first, "Line is not opening or closing section or key value");
  }

  private openSection(no: number, text: string, first: number, brace: number): void {
    const name = stripSectionName(text.slice(first, brace));
    if (name === "") {
      this.fail(no, brace, "Missing section name before opening bracket '{'");
      return;
    }
    const after = skipBlanks(text, brace + 1);
    if (after < text.length) {
      this.fail(no, after, "Extra characters after opening bracket '{' (each item must be on its own line)");
      return;
    }
    const path = this.path === "" ? name : `${this.path}.${name}`;
    if (utf8Length(path) > PATH_MAX_BYTES) {
      this.fail(no, first, `Start of section makes total cmap path too long (${utf8Length(path)} bytes; at most ${PATH_MAX_BYTES})`);
      return;
    }
    const section: ConfigSection = { kind: "section", name, line: no, column: first + 1, endLine: 0, items: [] };
    this.items.push(section);
    this.stack.push({ section, path });
  }

  private keyValue(no: number, text: string, first: number, colon: number): void {
    const name = trimEndBlanks(text.slice(first, colon));
    if (name === "") {
      this.fail(no, colon, "Key name can't be empty");
      return;
    }
    const path = this.path === "" ? name : `${this.path}.${name}`;
    if (utf8Length(path) > PATH_MAX_BYTES) {
      this.fail(no, first, `New key makes total cmap path too long (${utf8Length(path)} bytes; at most ${PATH_MAX_BYTES})`, path);
      return;
    }
    const valueStart = skipBlanks(text, colon + 1);
    const key: ConfigKey = {
      kind: "key",
      name,
      value: text.slice(valueStart),
      line: no,
      column: first + 1,
      valueColumn: valueStart + 1,
    };
    this.items.push(key);
  }

  private closeSection(no: number, text: string, first: number): void {
    if (text[first] !== "}") {
      this.fail(no, first, "Extra characters before or after closing bracket '}'");
      return;
    }
    const extra = skipBlanks(text, first + 1);
    if (extra < text.length) {
      this.fail(no, extra, "Extra characters before or after closing bracket '}'");
      return;
    }
    const open = this.stack.pop();
    if (open === undefined) {
      this.fail(no, first, "Unexpected closing brace: no section is open");
      return;
    }
    open.section.endLine = no;
  }

  /** End of input: every section must have been closed. */
  end(lines: readonly Line[]): void {
    const open = this.stack[this.stack.length - 1];
    if (open === undefined) return;
    const s = open.section;
    const lastNo = Math.max(lines.length, 1);
    const lastLen = lines.length > 0 ? lines[lines.length - 1]!.content.length : 0;
    this.fail(
      lastNo,
      lastLen,
      `Missing closing brace for section '${s.name}' opened at line ${s.line}: expected '}' before the end of the file`,
    );
  }
}

/**
 * corosync's `remove_whitespace(…, 1)` on the text before '{' (which starts at the line's
 * first non-blank): drop trailing blanks, ':' and '{', so `totem: {` names `totem`.
 */
function stripSectionName(s: string): string {
  let end = s.length;
  while (end > 0 && " \t:{".includes(s[end - 1]!)) end--;
  return s.slice(0, end);
}

function isBlank(c: string | undefined): boolean {
  return c === " " || c === "\t";
}

function skipBlanks(s: string, from: number): number {
  let i = from;
  while (i < s.length && isBlank(s[i])) i++;
  return i;
}

function trimEndBlanks(s: string): string {
  let end = s.length;
  while (end > 0 && isBlank(s[end - 1])) end--;
  return s.slice(0, end);
}

/** Length of `s` in UTF-8 bytes (what corosync's byte limits count). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** The position of a tree item in `file`. */
export function itemPos(file: string, item: ConfigItem): SourcePos {
  return { file, line: item.line, column: item.column };
}
