/**
 * Log line shapes, as corosync 3 (logsys on libqb) writes them. No I/O here: time, host
 * name and pid come in as parameters, so every line is reproducible in a test.
 *
 * How corosync builds its formats (exec/logconfig.c, exec/logsys.c, checked at v3.1.7):
 * - the base format is `%7p [%6g] %b` (priority, subsystem, message);
 * - `fileline: on` inserts ` %f:%l` after `g]`; `function_name: on` then inserts `%n:`
 *   after `f:` (giving `%f:%n:%l`), or ` %n` after `g]` when fileline is off;
 * - `timestamp: on` prepends `%t ` (`Nov 25 08:24:42`), `hires` (the default) prepends
 *   `%T ` (`Nov 25 08:24:42.397`), `off` nothing;
 * - stderr uses that format as it is;
 * - a log file uses the timestamp (if any) + ` ` + `[%P] %H %N` + the rest after the
 *   timestamp. With `timestamp: off` the rest has no leading blank, so corosync writes
 *   `[1234] host corosyncnotice  [MAIN  ] …` — we keep that shape, it is the oracle's;
 * - syslog drops `%t`, `%T` and `%p` from the stderr format and keeps the blanks around
 *   them, so its body is `  [TOTEM ] msg` (two leading blanks) with a timestamp mode set,
 *   ` [TOTEM ] msg` without one; syslog itself adds `<PRI>Mmm dd hh:mm:ss corosync[pid]: `.
 *
 * Conversions follow libqb's `qb_log_target_format` (lib/log_format.c): `%Np` pads with
 * blanks or cuts to exactly N characters, left-aligned (`%-Np` right-aligns); priority
 * names are libqb's (`error`, not `err`); `%f` is the file's base name; the line is cut to
 * `max_line_length - 1` characters (512 by default) and one trailing newline is dropped.
 */

/** Priorities, numbered as syslog's `LOG_*` plus libqb's `LOG_TRACE` (8). */
export const LogPriority = {
  EMERG: 0,
  ALERT: 1,
  CRIT: 2,
  ERR: 3,
  WARNING: 4,
  NOTICE: 5,
  INFO: 6,
  DEBUG: 7,
  TRACE: 8,
} as const;
export type LogPriority = (typeof LogPriority)[keyof typeof LogPriority];

/** Names libqb prints for `%p`, by priority number. */
export const PRIORITY_NAMES: readonly string[] = ["emerg", "alert", "crit", "error", "warning", "notice", "info", "debug", "trace"];

/** Names corosync.conf accepts for `syslog_priority` / `logfile_priority` (logsys `prioritynames`). */
const CONFIG_PRIORITY_NAMES: Readonly<Record<string, LogPriority>> = {
  alert: LogPriority.ALERT,
  crit: LogPriority.CRIT,
  debug: LogPriority.DEBUG,
  emerg: LogPriority.EMERG,
  err: LogPriority.ERR,
  error: LogPriority.ERR,
  info: LogPriority.INFO,
  notice: LogPriority.NOTICE,
  warning: LogPriority.WARNING,
};

/** Syslog facility codes by the names libqb accepts (`qb_log_facility2int`). */
export const SYSLOG_FACILITIES: Readonly<Record<string, number>> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

/** A corosync.conf priority name (case-insensitive, as logsys compares) or undefined. */
export function parsePriorityName(name: string): LogPriority | undefined {
  return CONFIG_PRIORITY_NAMES[name.toLowerCase()];
}

/** A syslog facility name (case-insensitive) or undefined. */
export function parseFacilityName(name: string): number | undefined {
  return SYSLOG_FACILITIES[name.toLowerCase()];
}

/**
 * The severity a record is sent to syslog with. corosync sets libqb's syslog priority bump
 * to `LOG_INFO - LOG_DEBUG`, applied only below info: debug goes out as info, trace as debug.
 */
export function syslogSeverity(priority: LogPriority): number {
  return priority > LogPriority.INFO ? priority - 1 : priority;
}

export type TimestampMode = "off" | "on" | "hires";

/** The top-level `logging` settings that shape lines. */
export interface LineFormatOptions {
  timestamp: TimestampMode;
  fileline: boolean;
  functionName: boolean;
}

/** Format strings per target, in libqb's `%` language. */
export interface LogFormats {
  stderr: string;
  logfile: string;
  syslog: string;
}

/** One log record. `timeMs` is the epoch time in milliseconds. */
export interface LogRecord {
  timeMs: number;
  subsys: string;
  priority: LogPriority;
  message: string;
  file?: string;
  line?: number;
  fn?: string;
}

/** The process facts a line may show. `utcOffsetMinutes` turns `timeMs` into local time. */
export interface LineContext {
  pid: number;
  hostname: string;
  /** `%N`, the name logsys was started with: `corosync`. */
  ident: string;
  utcOffsetMinutes: number;
}

/** Default `max_line_length` of a libqb target (`QB_LOG_MAX_LEN`), NUL included. */
export const QB_LOG_MAX_LEN = 512;

/** The stderr format corosync builds for these settings (see the file comment). */
export function corosyncFormatString(o: LineFormatOptions): string {
  let f = "%7p [%6g] %b";
  if (o.fileline) f = insertAfter(f, "g]", " %f:%l");
  if (o.functionName) f = f.includes("f:") ? insertAfter(f, "f:", "%n:") : insertAfter(f, "g]", " %n");
  if (o.timestamp === "on") f = "%t " + f;
  else if (o.timestamp === "hires") f = "%T " + f;
  return f;
}

function insertAfter(format: string, after: string, entry: string): string {
  const at = format.indexOf(after);
  if (at < 0) return format;
  const cut = at + after.length;
  return format.slice(0, cut) + entry + format.slice(cut);
}

/** The log file format derived from a stderr format (logsys `logsys_file_format_get`). */
export function logfileFormatOf(format: string): string {
  let head = "";
  let rest = format;
  for (const ts of ["%t", "%T"]) {
    const at = format.indexOf(ts);
    if (at >= 0) {
      head = ts + " ";
      rest = format.slice(at + ts.length);
    }
  }
  return head + "[%P] %H %N" + rest;
}

/** The syslog format derived from a stderr format: `%t`, `%T`, `%p` removed (logsys). */
export function syslogFormatOf(format: string): string {
  return format.replace(/%\d*[tTp]/g, "");
}

/** All three formats for these settings. */
export function corosyncLogFormats(o: LineFormatOptions): LogFormats {
  const stderr = corosyncFormatString(o);
  return { stderr, logfile: logfileFormatOf(stderr), syslog: syslogFormatOf(stderr) };
}

type Token = string | { conv: string; width: number; rightAlign: boolean };

const compiled = new Map<string, Token[]>();

function compile(format: string): Token[] {
  const cached = compiled.get(format);
  if (cached !== undefined) return cached;
  const tokens: Token[] = [];
  const re = /%(-?)(\d*)([A-Za-z%])/g;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    if (m.index > last) tokens.push(format.slice(last, m.index));
    tokens.push({ conv: m[3] as string, width: m[2] === "" ? 0 : Number(m[2]), rightAlign: m[1] === "-" });
    last = re.lastIndex;
  }
  if (last < format.length) tokens.push(format.slice(last));
  if (compiled.size < 64) compiled.set(format, tokens);
  return tokens;
}

/** Renders `record` with a libqb-style `format` (see the file comment). */
export function renderLogLine(format: string, record: LogRecord, ctx: LineContext, maxLineLength = QB_LOG_MAX_LEN): string {
  let out = "";
  for (const t of compile(format)) {
    if (typeof t === "string") out += t;
    else out += fit(conversion(t.conv, record, ctx), t.width, t.rightAlign);
  }
  if (out.length > maxLineLength - 1) out = out.slice(0, maxLineLength - 1);
  return out.endsWith("\n") ? out.slice(0, -1) : out;
}

function conversion(conv: string, r: LogRecord, ctx: LineContext): string {
  switch (conv) {
    case "t":
      return formatClock(r.timeMs, ctx.utcOffsetMinutes, false);
    case "T":
      return formatClock(r.timeMs, ctx.utcOffsetMinutes, true);
    case "P":
      return String(ctx.pid);
    case "H":
      return ctx.hostname;
    case "N":
      return ctx.ident;
    case "p":
      return PRIORITY_NAMES[r.priority] ?? "trace";
    case "g":
      return r.subsys;
    case "b":
      return r.message;
    case "f":
      return r.file === undefined ? "" : baseName(r.file);
    case "l":
      return r.line === undefined ? "" : String(r.line);
    case "n":
      return r.fn ?? "";
    default:
      return "";
  }
}

/** libqb's `_strcpy_cutoff`: pad with blanks or cut to `width` (0 = as is). */
function fit(s: string, width: number, rightAlign: boolean): string {
  if (width === 0) return s;
  if (s.length >= width) return s.slice(0, width);
  return rightAlign ? s.padStart(width) : s.padEnd(width);
}

function baseName(path: string): string {
  const at = path.lastIndexOf("/");
  return at < 0 ? path : path.slice(at + 1);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `Nov 05 08:24:42` (libqb `%t`, day zero-padded) or with `.397` (`%T`). */
export function formatClock(timeMs: number, utcOffsetMinutes: number, hires: boolean): string {
  const d = new Date(Math.floor(timeMs) + utcOffsetMinutes * 60_000);
  const base = `${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return hires ? `${base}.${String(d.getUTCMilliseconds()).padStart(3, "0")}` : base;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** What an RFC 3164 syslog frame carries. */
export interface SyslogFrameFields {
  facility: number;
  severity: number;
  timeMs: number;
  utcOffsetMinutes: number;
  ident: string;
  pid: number;
  /** Present for RFC 3164 over a network; glibc's `syslog(3)` leaves it out on /dev/log. */
  hostname?: string;
  body: string;
}

/**
 * `<PRI>Mmm dd hh:mm:ss [host ]ident[pid]: body`, day blank-padded (`Nov  5`) as glibc's
 * `syslog(3)` writes it; PRI = facility × 8 + severity.
 */
export function formatSyslogFrame(f: SyslogFrameFields): string {
  const d = new Date(Math.floor(f.timeMs) + f.utcOffsetMinutes * 60_000);
  const day = String(d.getUTCDate()).padStart(2, " ");
  const stamp = `${MONTHS[d.getUTCMonth()]} ${day} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  const host = f.hostname === undefined ? "" : `${f.hostname} `;
  return `<${f.facility * 8 + f.severity}>${stamp} ${host}${f.ident}[${f.pid}]: ${f.body}`;
}
