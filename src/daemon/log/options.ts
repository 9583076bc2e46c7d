/**
 * The `logging { … }` settings, read from the cmap keys corosync 3 reads them from
 * (exec/logconfig.c, man corosync.conf(5)), with corosync's defaults:
 * `to_stderr: yes`, `to_syslog: yes`, `to_logfile: no`, `syslog_facility: daemon`,
 * `syslog_priority: info`, `logfile_priority: info`, `debug: off`, `timestamp: hires`,
 * `fileline: off`, `function_name: off`, `blackbox: on`.
 *
 * Per-subsystem overrides come from `logging.logger_subsys.<SUBSYS>.*` (coroparse stores a
 * `logger_subsys { subsys: QUORUM … }` section there) and may set every option above except
 * `timestamp`, `fileline`, `function_name` and `blackbox`, which are top level only.
 * An unset per-subsystem option inherits the top-level value, as the man page says.
 * (Two places where corosync 3.1.7's code differs from its man page and we follow the man
 * page: logsys resets `debug` to off for a subsystem section without a `debug` key, and it
 * only honours `to_stderr` / `to_syslog` at top level.)
 *
 * Values are strings, as the config parser stores them; a key holding another type is
 * treated as unset, as `map_get_string` fails on it. A bad value throws
 * `LoggingConfigError` with corosync's reason ("unknown value for debug"); at start-up the
 * executive reports it as `parse error in config: <reason>.` and exits, on a runtime change
 * it logs it and keeps the previous settings.
 */
import type { CmapStore } from "../../core/cmap/store.js";
import { LogPriority, parseFacilityName, parsePriorityName, type TimestampMode } from "./format.js";

export type DebugLevel = "off" | "on" | "trace";

/** Options valid at top level and in `logger_subsys`. */
export interface TargetOptions {
  toStderr: boolean;
  toLogfile: boolean;
  toSyslog: boolean;
  /** Path of the log file; without one `to_logfile` writes nowhere (as in corosync). */
  logfile: string | undefined;
  /** Syslog facility code (`daemon` = 3). */
  syslogFacility: number;
  syslogPriority: LogPriority;
  /** Threshold for the log file, and (as in logsys) for stderr. */
  logfilePriority: LogPriority;
  debug: DebugLevel;
}

export interface LoggingOptions extends TargetOptions {
  timestamp: TimestampMode;
  fileline: boolean;
  functionName: boolean;
  /** Keep recent records in memory for a dump (corosync's blackbox). */
  blackbox: boolean;
  /** Per-subsystem overrides, by subsystem name (`QUORUM`, `CPG`, …). */
  subsys: Readonly<Record<string, Partial<TargetOptions>>>;
}

export const DEFAULT_LOGGING_OPTIONS: Readonly<LoggingOptions> = Object.freeze({
  toStderr: true,
  toLogfile: false,
  toSyslog: true,
  logfile: undefined,
  syslogFacility: 3,
  syslogPriority: LogPriority.INFO,
  logfilePriority: LogPriority.INFO,
  debug: "off",
  timestamp: "hires",
  fileline: false,
  functionName: false,
  blackbox: true,
  subsys: Object.freeze({}),
});

/** A logging setting corosync would refuse; `message` is corosync's reason. */
export class LoggingConfigError extends Error {
  override readonly name = "LoggingConfigError";
  readonly code = "LOGGING_CONFIG";
}

/** The options in force for one subsystem: its overrides over the top level. */
export function resolveSubsys(options: LoggingOptions, subsys: string): TargetOptions {
  const o = options.subsys[subsys] ?? {};
  return {
    toStderr: o.toStderr ?? options.toStderr,
    toLogfile: o.toLogfile ?? options.toLogfile,
    toSyslog: o.toSyslog ?? options.toSyslog,
    logfile: o.logfile ?? options.logfile,
    syslogFacility: o.syslogFacility ?? options.syslogFacility,
    syslogPriority: o.syslogPriority ?? options.syslogPriority,
    logfilePriority: o.logfilePriority ?? options.logfilePriority,
    debug: o.debug ?? options.debug,
  };
}

/** Reads `logging.*` from `store` (see the file comment). Throws `LoggingConfigError`. */
export function loggingOptionsFromCmap(store: CmapStore): LoggingOptions {
  const get = (key: string) => store.getString(key);
  const top = readTargetOptions(get, "logging");
  const subsys: Record<string, Partial<TargetOptions>> = {};
  for (const name of subsystemNames(store)) subsys[name] = readTargetOptions(get, `logging.logger_subsys.${name}`);
  return {
    ...DEFAULT_LOGGING_OPTIONS,
    ...top,
    timestamp: readChoice(get("logging.timestamp"), ["on", "hires", "off"], "timestamp") ?? "hires",
    fileline: readOnOff(get("logging.fileline"), "fileline") ?? false,
    functionName: readOnOff(get("logging.function_name"), "function_name") ?? false,
    blackbox: readOnOff(get("logging.blackbox"), "blackbox") ?? true,
    subsys,
  };
}

/**
 * Subsystems with a `logger_subsys` section: logconfig walks `logging.logger_subsys.` and
 * takes each `<SUBSYS>` that has a `.subsys` key.
 */
function subsystemNames(store: CmapStore): string[] {
  const names: string[] = [];
  for (const key of store.keys("logging.logger_subsys.")) {
    const m = /^logging\.logger_subsys\.([^.]+)\.subsys$/.exec(key);
    if (m !== null) names.push(m[1] as string);
  }
  return names;
}

type Getter = (key: string) => string | undefined;

function readTargetOptions(get: Getter, path: string): Partial<TargetOptions> {
  const out: Partial<TargetOptions> = {};
  setIfDefined(out, "toStderr", readYesNo(get(`${path}.to_stderr`), "to_stderr"));
  setIfDefined(out, "toSyslog", readYesNo(get(`${path}.to_syslog`), "to_syslog"));
  // `to_file` is the obsolete spelling; `to_logfile` wins when both are there.
  setIfDefined(out, "toLogfile", readYesNo(get(`${path}.to_file`), "to_file"));
  setIfDefined(out, "toLogfile", readYesNo(get(`${path}.to_logfile`), "to_logfile"));
  setIfDefined(out, "logfile", get(`${path}.logfile`));
  setIfDefined(out, "syslogFacility", readFacility(get(`${path}.syslog_facility`)));
  // `syslog_level` is the obsolete spelling of `syslog_priority`.
  setIfDefined(out, "syslogPriority", readPriority(get(`${path}.syslog_level`), "unknown syslog level specified"));
  setIfDefined(out, "syslogPriority", readPriority(get(`${path}.syslog_priority`), "unknown syslog priority specified"));
  setIfDefined(out, "logfilePriority", readPriority(get(`${path}.logfile_priority`), "unknown logfile priority specified"));
  setIfDefined(out, "debug", readChoice(get(`${path}.debug`), ["on", "off", "trace"], "debug"));
  return out;
}

function setIfDefined<K extends keyof TargetOptions>(o: Partial<TargetOptions>, k: K, v: TargetOptions[K] | undefined): void {
  if (v !== undefined) o[k] = v;
}

function readYesNo(v: string | undefined, key: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === "yes" || v === "on") return true;
  if (v === "no" || v === "off") return false;
  throw new LoggingConfigError(`unknown value for ${key}`);
}

function readOnOff(v: string | undefined, key: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === "on") return true;
  if (v === "off") return false;
  throw new LoggingConfigError(`unknown value for ${key}`);
}

function readChoice<T extends string>(v: string | undefined, allowed: readonly T[], key: string): T | undefined {
  if (v === undefined) return undefined;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new LoggingConfigError(`unknown value for ${key}`);
}

function readFacility(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const f = parseFacilityName(v);
  if (f === undefined) throw new LoggingConfigError("unknown syslog facility specified");
  return f;
}

function readPriority(v: string | undefined, reason: string): LogPriority | undefined {
  if (v === undefined) return undefined;
  const p = parsePriorityName(v);
  if (p === undefined) throw new LoggingConfigError(reason);
  return p;
}
