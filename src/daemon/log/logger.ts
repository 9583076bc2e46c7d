/**
 * The executive's logger: corosync's logsys targets (stderr, log files, syslog) with their
 * thresholds, per-subsystem overrides, an in-memory blackbox of recent records and a rate
 * limiter for lines peers could repeat without end.
 *
 * Routing of a record (subsystem S, priority p), with S's options resolved over the top
 * level (`resolveSubsys`):
 * - `debug: on` sets both thresholds to debug, `debug: trace` to trace; otherwise they are
 *   `syslog_priority` and `logfile_priority` (logsys `_logsys_config_apply_per_file`);
 * - stderr takes p ≤ the logfile threshold when `to_stderr` (logsys filters stderr with
 *   the logfile priority); a log file likewise when `to_logfile` and a `logfile` path is
 *   set; syslog takes p ≤ the syslog threshold when `to_syslog`, sent with severity
 *   `syslogSeverity(p)` (debug → info, trace → debug, libqb's priority bump);
 * - the blackbox, when on, keeps every record whatever its priority.
 *
 * Writes never block the event loop for long and never throw: stderr is written as given
 * (Node makes it synchronous for files and terminals, asynchronous for pipes), log files
 * through `FileTarget` (logfile.ts: drop and count when backed up or failing, retry later).
 * `reopen()` closes and opens every log file again (after logrotate renamed it:
 * `corosync-cfgtool -L`).
 */
import { hostname as osHostname } from "node:os";
import {
  corosyncLogFormats,
  LogPriority,
  QB_LOG_MAX_LEN,
  renderLogLine,
  syslogSeverity,
  type LineContext,
  type LogFormats,
  type LogRecord,
} from "./format.js";
import { DEFAULT_LOGGING_OPTIONS, resolveSubsys, type LoggingOptions, type TargetOptions } from "./options.js";
import { BoundedRing } from "./ring.js";
import { RateLimiter } from "./ratelimit.js";
import { LoggerCommandSyslogSink, type SyslogSink, type SyslogSinkStats } from "./syslog.js";
import { FileTarget, type FileTargetStats, type ReopenResult } from "./logfile.js";

/** Where in the code a record was made (`fileline`, `function_name`). */
export interface LogWhere {
  file?: string;
  line?: number;
  fn?: string;
}

/** Anything with a `write(string)`: `process.stderr`, or a test's collector. */
export interface TextSink {
  write(chunk: string): unknown;
}

export interface LoggerInit {
  options?: LoggingOptions;
  hostname?: string;
  pid?: number;
  /** `%N` and the syslog tag: `corosync`. */
  ident?: string;
  /** Milliseconds since the epoch; `Date.now` by default. */
  clock?: () => number;
  /** Local time offset at an instant; the host's zone by default. */
  utcOffsetMinutes?: (timeMs: number) => number;
  /** `process.stderr` by default. */
  stderr?: TextSink;
  /** Syslog sink; by default a `LoggerCommandSyslogSink` made when first needed; `null` for none. */
  syslog?: SyslogSink | null;
  /** Records the blackbox keeps. */
  ringSize?: number;
  maxLineLength?: number;
  /** Bytes that may wait for one log file before lines are dropped. */
  maxPendingBytes?: number;
  /** Wait before opening a log file again after a write error. */
  fileRetryMs?: number;
}

export const DEFAULT_RING_SIZE = 4096;

export interface LoggerStats {
  records: number;
  stderr: { written: number; errors: number };
  files: FileTargetStats[];
  syslog: SyslogSinkStats | undefined;
  blackbox: { size: number; capacity: number; overwritten: number };
}

/** A logger bound to one subsystem: `logger.child("TOTEM").notice("…")`. */
export interface SubsysLogger {
  readonly subsys: string;
  log(priority: LogPriority, message: string, where?: LogWhere): void;
  emerg(message: string, where?: LogWhere): void;
  alert(message: string, where?: LogWhere): void;
  crit(message: string, where?: LogWhere): void;
  error(message: string, where?: LogWhere): void;
  warning(message: string, where?: LogWhere): void;
  notice(message: string, where?: LogWhere): void;
  info(message: string, where?: LogWhere): void;
  debug(message: string, where?: LogWhere): void;
  trace(message: string, where?: LogWhere): void;
  /** `Logger.logRateLimited` for this subsystem. */
  rateLimited(key: string, intervalMs: number, priority: LogPriority, message: string): void;
}

interface Route {
  stderrMax: number;
  file: FileTarget | undefined;
  fileMax: number;
  syslogMax: number;
  facility: number;
}

const NONE = -1;
/** Subsystems are a handful of names; the cache is bounded anyway. */
const MAX_CACHED_ROUTES = 256;

export class Logger {
  private options: LoggingOptions;
  private formats: LogFormats;
  private readonly ctx: Omit<LineContext, "utcOffsetMinutes">;
  private readonly clock: () => number;
  private readonly utcOffset: (timeMs: number) => number;
  private readonly stderr: TextSink;
  private readonly ownsStderr: boolean;
  private syslogSink: SyslogSink | null | undefined;
  private readonly ownsSyslog: boolean;
  private readonly ring: BoundedRing<LogRecord>;
  private readonly limiter = new RateLimiter();
  private readonly maxLineLength: number;
  private readonly maxPendingBytes: number;
  private readonly fileRetryMs: number;
  private files = new Map<string, FileTarget>();
  private routes = new Map<string, Route>();
  private records = 0;
  private stderrWritten = 0;
  private stderrErrors = 0;
  private readonly onStderrError = () => {
    this.stderrErrors++;
  };

  constructor(init: LoggerInit = {}) {
    this.ctx = { pid: init.pid ?? process.pid, hostname: init.hostname ?? osHostname(), ident: init.ident ?? "corosync" };
    this.clock = init.clock ?? Date.now;
    this.utcOffset = init.utcOffsetMinutes ?? ((ms) => -new Date(ms).getTimezoneOffset());
    this.ownsStderr = init.stderr === undefined;
    this.stderr = init.stderr ?? process.stderr;
    this.ownsSyslog = init.syslog === undefined;
    this.syslogSink = init.syslog;
    this.ring = new BoundedRing<LogRecord>(init.ringSize ?? DEFAULT_RING_SIZE);
    this.maxLineLength = init.maxLineLength ?? QB_LOG_MAX_LEN;
    this.maxPendingBytes = init.maxPendingBytes ?? 4 << 20;
    this.fileRetryMs = init.fileRetryMs ?? 5000;
    this.options = DEFAULT_LOGGING_OPTIONS;
    this.formats = corosyncLogFormats(this.options);
    this.applyConfig(init.options ?? DEFAULT_LOGGING_OPTIONS);
    if (this.ownsStderr) process.stderr.on("error", this.onStderrError);
  }

  /**
   * Puts new settings in force (start-up, or a reload after `logging.*` changed). Log files
   * are opened first; if one cannot be opened, nothing changes and `LoggingConfigError`
   * carries corosync's reason (`Can't open logfile '…' for reason: … (errno)`).
   */
  applyConfig(options: LoggingOptions): void {
    const wanted = wantedLogfiles(options);
    const opened = new Map<string, FileTarget>();
    try {
      for (const path of wanted) {
        opened.set(path, this.files.get(path) ?? FileTarget.open(path, this.maxPendingBytes, this.fileRetryMs, this.clock));
      }
    } catch (e) {
      for (const [path, t] of opened) if (!this.files.has(path)) void t.close();
      throw e;
    }
    for (const [path, t] of this.files) if (!opened.has(path)) void t.close();
    this.files = opened;
    this.options = options;
    this.formats = corosyncLogFormats(options);
    this.routes.clear();
    if (!options.blackbox) this.ring.clear();
  }

  /** The settings in force. */
  get config(): LoggingOptions {
    return this.options;
  }

  /** Logs one record for `subsys` (see the routing rules in the file comment). */
  log(subsys: string, priority: LogPriority, message: string, where?: LogWhere): void {
    const record: LogRecord = { timeMs: this.clock(), subsys, priority, message, ...where };
    this.records++;
    if (this.options.blackbox) this.ring.push(record);
    const route = this.routeFor(subsys);
    if (priority > route.stderrMax && priority > route.fileMax && priority > route.syslogMax) return;
    const ctx: LineContext = { ...this.ctx, utcOffsetMinutes: this.utcOffset(record.timeMs) };
    if (priority <= route.stderrMax) this.writeStderr(renderLogLine(this.formats.stderr, record, ctx, this.maxLineLength));
    if (route.file !== undefined && priority <= route.fileMax) {
      route.file.write(renderLogLine(this.formats.logfile, record, ctx, this.maxLineLength));
    }
    if (priority <= route.syslogMax) {
      const body = renderLogLine(this.formats.syslog, record, ctx, this.maxLineLength);
      this.syslog()?.send({ facility: route.facility, severity: syslogSeverity(priority), body, timeMs: record.timeMs });
    }
  }

  /** True if a record of this priority would reach an output or the blackbox. */
  isEnabled(subsys: string, priority: LogPriority): boolean {
    if (this.options.blackbox) return true;
    const r = this.routeFor(subsys);
    return priority <= Math.max(r.stderrMax, r.fileMax, r.syslogMax);
  }

  /** A logger for one subsystem. */
  child(subsys: string): SubsysLogger {
    const at = (p: LogPriority) => (message: string, where?: LogWhere) => this.log(subsys, p, message, where);
    return {
      subsys,
      log: (p, message, where) => this.log(subsys, p, message, where),
      emerg: at(LogPriority.EMERG),
      alert: at(LogPriority.ALERT),
      crit: at(LogPriority.CRIT),
      error: at(LogPriority.ERR),
      warning: at(LogPriority.WARNING),
      notice: at(LogPriority.NOTICE),
      info: at(LogPriority.INFO),
      debug: at(LogPriority.DEBUG),
      trace: at(LogPriority.TRACE),
      rateLimited: (key, intervalMs, p, message) => this.logRateLimited(subsys, p, key, intervalMs, message),
    };
  }

  /**
   * True if an event for `key` is rate limited now, i.e. must NOT be logged: the first event
   * of a key passes, then one per `intervalMs` (the logger's clock).
   */
  rateLimited(key: string, intervalMs: number): boolean {
    return !this.limiter.allow(key, intervalMs, this.clock());
  }

  /**
   * Logs `message` unless `key` is rate limited; when events were suppressed since the last
   * line for `key`, appends ` (N similar messages suppressed)`.
   */
  logRateLimited(subsys: string, priority: LogPriority, key: string, intervalMs: number, message: string): void {
    if (this.rateLimited(key, intervalMs)) return;
    const n = this.limiter.suppressedBefore(key);
    this.log(subsys, priority, n > 0 ? `${message} (${n} similar messages suppressed)` : message);
  }

  /** The blackbox: recent records, oldest first. */
  recent(): LogRecord[] {
    return this.ring.toArray();
  }

  /** The blackbox as log file lines, for a dump when an invariant breaks. */
  recentLines(): string[] {
    return this.ring.toArray().map((r) =>
      renderLogLine(this.formats.logfile, r, { ...this.ctx, utcOffsetMinutes: this.utcOffset(r.timeMs) }, this.maxLineLength),
    );
  }

  /** Closes and opens every log file again (log rotation). Never throws. */
  reopen(): ReopenResult[] {
    return [...this.files.values()].map((t) => t.reopen());
  }

  /** Resolves once everything written so far has reached the log files. */
  async flush(): Promise<void> {
    await Promise.all([...this.files.values()].map((t) => t.flush()));
  }

  stats(): LoggerStats {
    return {
      records: this.records,
      stderr: { written: this.stderrWritten, errors: this.stderrErrors },
      files: [...this.files.values()].map((t) => t.stats()),
      syslog: this.syslogSink?.stats(),
      blackbox: { size: this.ring.size, capacity: this.ring.capacity, overwritten: this.ring.overwritten },
    };
  }

  /** Flushes and closes files, stops the syslog sink if the logger made it. */
  async close(): Promise<void> {
    const files = [...this.files.values()];
    this.files = new Map();
    this.routes.clear();
    await Promise.all(files.map((t) => t.close()));
    if (this.ownsSyslog && this.syslogSink) await this.syslogSink.close();
    this.syslogSink = null;
    if (this.ownsStderr) process.stderr.off("error", this.onStderrError);
  }

  private routeFor(subsys: string): Route {
    let r = this.routes.get(subsys);
    if (r === undefined) {
      if (this.routes.size >= MAX_CACHED_ROUTES) this.routes.clear();
      r = makeRoute(resolveSubsys(this.options, subsys), this.files);
      this.routes.set(subsys, r);
    }
    return r;
  }

  private syslog(): SyslogSink | null {
    if (this.syslogSink === undefined) {
      this.syslogSink = new LoggerCommandSyslogSink({ ident: this.ctx.ident, pid: this.ctx.pid, clock: this.clock });
    }
    return this.syslogSink;
  }

  private writeStderr(line: string): void {
    try {
      this.stderr.write(line + "\n");
      this.stderrWritten++;
    } catch {
      this.stderrErrors++;
    }
  }
}

function makeRoute(t: TargetOptions, files: Map<string, FileTarget>): Route {
  const debugMax = t.debug === "trace" ? LogPriority.TRACE : t.debug === "on" ? LogPriority.DEBUG : undefined;
  const fileMax = debugMax ?? t.logfilePriority;
  const syslogMax = debugMax ?? t.syslogPriority;
  const file = t.toLogfile && t.logfile !== undefined ? files.get(t.logfile) : undefined;
  return {
    stderrMax: t.toStderr ? fileMax : NONE,
    file,
    fileMax: file === undefined ? NONE : fileMax,
    syslogMax: t.toSyslog ? syslogMax : NONE,
    facility: t.syslogFacility,
  };
}

/** Log files some route will write: the top level's and each subsystem's, when enabled. */
function wantedLogfiles(options: LoggingOptions): Set<string> {
  const paths = new Set<string>();
  const add = (t: TargetOptions) => {
    if (t.toLogfile && t.logfile !== undefined) paths.add(t.logfile);
  };
  add(options);
  for (const name of Object.keys(options.subsys)) add(resolveSubsys(options, name));
  return paths;
}
