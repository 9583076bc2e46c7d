import { test } from "node:test";
import assert from "node:assert/strict";
import { CmapStore } from "../../src/core/cmap/store.js";
import { CmapType } from "../../src/core/cmap/types.js";
import { LogPriority } from "../../src/daemon/log/format.js";
import {
  DEFAULT_LOGGING_OPTIONS,
  LoggingConfigError,
  loggingOptionsFromCmap,
  resolveSubsys,
} from "../../src/daemon/log/options.js";

function storeWith(entries: Record<string, string>): CmapStore {
  const s = new CmapStore();
  for (const [k, v] of Object.entries(entries)) s.set(k, { type: CmapType.STRING, value: v });
  return s;
}

test("an empty logging section gives corosync's defaults", () => {
  assert.deepEqual(loggingOptionsFromCmap(new CmapStore()), {
    ...DEFAULT_LOGGING_OPTIONS,
    subsys: {},
  });
  assert.equal(DEFAULT_LOGGING_OPTIONS.toStderr, true);
  assert.equal(DEFAULT_LOGGING_OPTIONS.toSyslog, true);
  assert.equal(DEFAULT_LOGGING_OPTIONS.toLogfile, false);
  assert.equal(DEFAULT_LOGGING_OPTIONS.timestamp, "hires");
  assert.equal(DEFAULT_LOGGING_OPTIONS.syslogFacility, 3);
});

test("logging.* keys map onto options, logger_subsys sections onto overrides", () => {
  const o = loggingOptionsFromCmap(
    storeWith({
      "logging.to_stderr": "no",
      "logging.to_logfile": "yes",
      "logging.logfile": "/var/log/cluster/corosync.log",
      "logging.to_syslog": "on",
      "logging.syslog_facility": "local3",
      "logging.syslog_priority": "warning",
      "logging.logfile_priority": "err",
      "logging.debug": "off",
      "logging.timestamp": "on",
      "logging.fileline": "on",
      "logging.function_name": "on",
      "logging.blackbox": "off",
      "logging.logger_subsys.QUORUM.subsys": "QUORUM",
      "logging.logger_subsys.QUORUM.debug": "on",
      "logging.logger_subsys.CPG.subsys": "CPG",
      "logging.logger_subsys.CPG.to_syslog": "no",
      "logging.logger_subsys.CPG.syslog_priority": "debug",
      "logging.logger_subsys.NOSUBSYSKEY.debug": "on", // ignored: no .subsys key, as logconfig does
    }),
  );
  assert.deepEqual(o, {
    toStderr: false,
    toLogfile: true,
    toSyslog: true,
    logfile: "/var/log/cluster/corosync.log",
    syslogFacility: 19,
    syslogPriority: LogPriority.WARNING,
    logfilePriority: LogPriority.ERR,
    debug: "off",
    timestamp: "on",
    fileline: true,
    functionName: true,
    blackbox: false,
    subsys: {
      CPG: { toSyslog: false, syslogPriority: LogPriority.DEBUG },
      QUORUM: { debug: "on" },
    },
  });
  assert.equal(resolveSubsys(o, "QUORUM").debug, "on");
  assert.equal(resolveSubsys(o, "QUORUM").syslogPriority, LogPriority.WARNING);
  assert.equal(resolveSubsys(o, "TOTEM").debug, "off");
  assert.equal(resolveSubsys(o, "CPG").toSyslog, false);
});

test("obsolete spellings: to_file and syslog_level", () => {
  const o = loggingOptionsFromCmap(storeWith({ "logging.to_file": "yes", "logging.syslog_level": "notice" }));
  assert.equal(o.toLogfile, true);
  assert.equal(o.syslogPriority, LogPriority.NOTICE);
  const both = loggingOptionsFromCmap(storeWith({ "logging.to_file": "yes", "logging.to_logfile": "no", "logging.syslog_level": "notice", "logging.syslog_priority": "err" }));
  assert.equal(both.toLogfile, false);
  assert.equal(both.syslogPriority, LogPriority.ERR);
});

test("bad values are refused with corosync's reasons", () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ "logging.debug": "yes" }, "unknown value for debug"],
    [{ "logging.to_syslog": "maybe" }, "unknown value for to_syslog"],
    [{ "logging.timestamp": "always" }, "unknown value for timestamp"],
    [{ "logging.fileline": "yes" }, "unknown value for fileline"],
    [{ "logging.syslog_facility": "daemons" }, "unknown syslog facility specified"],
    [{ "logging.syslog_priority": "loud" }, "unknown syslog priority specified"],
    [{ "logging.logfile_priority": "trace" }, "unknown logfile priority specified"],
    [{ "logging.logger_subsys.X.subsys": "X", "logging.logger_subsys.X.debug": "2" }, "unknown value for debug"],
  ];
  for (const [entries, reason] of cases) {
    assert.throws(() => loggingOptionsFromCmap(storeWith(entries)), (e: unknown) => e instanceof LoggingConfigError && e.message === reason, reason);
  }
});

test("a logging key holding a non-string value counts as unset", () => {
  const s = new CmapStore();
  s.set("logging.debug", { type: CmapType.UINT8, value: 1 });
  assert.equal(loggingOptionsFromCmap(s).debug, "off");
});
