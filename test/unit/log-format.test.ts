import { test } from "node:test";
import assert from "node:assert/strict";
import {
  corosyncLogFormats,
  formatClock,
  formatSyslogFrame,
  LogPriority,
  parseFacilityName,
  parsePriorityName,
  renderLogLine,
  syslogSeverity,
  type LineContext,
  type LineFormatOptions,
  type LogRecord,
} from "../../src/daemon/log/format.js";

const T = Date.UTC(2026, 10, 25, 8, 24, 42, 397); // Nov 25 08:24:42.397 UTC
const ctx: LineContext = { pid: 23356, hostname: "vm", ident: "corosync", utcOffsetMinutes: 0 };
const rec = (over: Partial<LogRecord> = {}): LogRecord => ({
  timeMs: T,
  subsys: "TOTEM",
  priority: LogPriority.NOTICE,
  message: "A new membership (1.1a) was formed. Members left: 3",
  ...over,
});
const opts = (over: Partial<LineFormatOptions> = {}): LineFormatOptions => ({ timestamp: "hires", fileline: false, functionName: false, ...over });

function lines(o: LineFormatOptions, r: LogRecord = rec()) {
  const f = corosyncLogFormats(o);
  return { stderr: renderLogLine(f.stderr, r, ctx), logfile: renderLogLine(f.logfile, r, ctx), syslog: renderLogLine(f.syslog, r, ctx) };
}

test("timestamp: hires (the default) — the reference log line", () => {
  assert.deepEqual(lines(opts()), {
    stderr: "Nov 25 08:24:42.397 notice  [TOTEM ] A new membership (1.1a) was formed. Members left: 3",
    logfile: "Nov 25 08:24:42.397 [23356] vm corosync notice  [TOTEM ] A new membership (1.1a) was formed. Members left: 3",
    syslog: "  [TOTEM ] A new membership (1.1a) was formed. Members left: 3",
  });
});

test("timestamp: on", () => {
  assert.deepEqual(lines(opts({ timestamp: "on" }), rec({ message: "m" })), {
    stderr: "Nov 25 08:24:42 notice  [TOTEM ] m",
    logfile: "Nov 25 08:24:42 [23356] vm corosync notice  [TOTEM ] m",
    syslog: "  [TOTEM ] m",
  });
});

test("timestamp: off — including corosync's missing blank after %N in the log file", () => {
  assert.deepEqual(lines(opts({ timestamp: "off" }), rec({ message: "m" })), {
    stderr: "notice  [TOTEM ] m",
    logfile: "[23356] vm corosyncnotice  [TOTEM ] m",
    syslog: " [TOTEM ] m",
  });
});

test("the format strings corosync builds", () => {
  assert.deepEqual(corosyncLogFormats(opts()), {
    stderr: "%T %7p [%6g] %b",
    logfile: "%T [%P] %H %N %7p [%6g] %b",
    syslog: "  [%6g] %b",
  });
  assert.equal(corosyncLogFormats(opts({ fileline: true })).stderr, "%T %7p [%6g] %f:%l %b");
  assert.equal(corosyncLogFormats(opts({ fileline: true, functionName: true })).stderr, "%T %7p [%6g] %f:%n:%l %b");
  assert.equal(corosyncLogFormats(opts({ functionName: true, timestamp: "on" })).stderr, "%t %7p [%6g] %n %b");
});

test("fileline and function_name", () => {
  const r = rec({ message: "m", file: "/src/core/totem/gather.ts", line: 123, fn: "memb_state_gather_enter" });
  assert.equal(lines(opts({ fileline: true }), r).stderr, "Nov 25 08:24:42.397 notice  [TOTEM ] gather.ts:123 m");
  assert.equal(lines(opts({ fileline: true, functionName: true }), r).stderr, "Nov 25 08:24:42.397 notice  [TOTEM ] gather.ts:memb_state_gather_enter:123 m");
  assert.equal(lines(opts({ functionName: true }), r).stderr, "Nov 25 08:24:42.397 notice  [TOTEM ] memb_state_gather_enter m");
  assert.equal(lines(opts({ fileline: true }), r).syslog, "  [TOTEM ] gather.ts:123 m");
  assert.equal(lines(opts({ fileline: true }), r).logfile, "Nov 25 08:24:42.397 [23356] vm corosync notice  [TOTEM ] gather.ts:123 m");
});

test("priority padded to 7, subsystem padded or cut to 6", () => {
  const f = "%7p [%6g] %b";
  const cases: Array<[LogPriority, string, string]> = [
    [LogPriority.EMERG, "MAIN", "emerg   [MAIN  ] x"],
    [LogPriority.ALERT, "MAIN", "alert   [MAIN  ] x"],
    [LogPriority.CRIT, "QUORUM", "crit    [QUORUM] x"],
    [LogPriority.ERR, "CPG", "error   [CPG   ] x"],
    [LogPriority.WARNING, "KNET", "warning [KNET  ] x"],
    [LogPriority.NOTICE, "TOTEM", "notice  [TOTEM ] x"],
    [LogPriority.INFO, "VOTEQ", "info    [VOTEQ ] x"],
    [LogPriority.DEBUG, "SERV", "debug   [SERV  ] x"],
    [LogPriority.TRACE, "LONGSUBSYS", "trace   [LONGSU] x"],
  ];
  for (const [p, g, want] of cases) assert.equal(renderLogLine(f, rec({ priority: p, subsys: g, message: "x" }), ctx), want);
  assert.equal(renderLogLine("[%-6g]", rec({ subsys: "CPG" }), ctx), "[   CPG]");
});

test("days are zero-padded in log lines and blank-padded in syslog frames", () => {
  const t = Date.UTC(2026, 10, 5, 7, 3, 9, 5);
  assert.equal(formatClock(t, 0, false), "Nov 05 07:03:09");
  assert.equal(formatClock(t, 0, true), "Nov 05 07:03:09.005");
  assert.equal(formatClock(t, 60, false), "Nov 05 08:03:09");
  assert.equal(
    formatSyslogFrame({ facility: 3, severity: 5, timeMs: t, utcOffsetMinutes: 0, ident: "corosync", pid: 23356, body: "  [TOTEM ] m" }),
    "<29>Nov  5 07:03:09 corosync[23356]:   [TOTEM ] m",
  );
  assert.equal(
    formatSyslogFrame({ facility: 16, severity: 3, timeMs: T, utcOffsetMinutes: 0, ident: "corosync", pid: 1, hostname: "vm", body: "b" }),
    "<131>Nov 25 08:24:42 vm corosync[1]: b",
  );
});

test("lines are cut to max_line_length - 1 and lose one trailing newline", () => {
  const long = "x".repeat(600);
  assert.equal(renderLogLine("%b", rec({ message: long }), ctx).length, 511);
  assert.equal(renderLogLine("%b", rec({ message: long }), ctx, 100).length, 99);
  assert.equal(renderLogLine("%b", rec({ message: "Ignoring key change\n" }), ctx), "Ignoring key change");
});

test("priority and facility names, syslog severity bump", () => {
  assert.equal(parsePriorityName("err"), LogPriority.ERR);
  assert.equal(parsePriorityName("error"), LogPriority.ERR);
  assert.equal(parsePriorityName("WARNING"), LogPriority.WARNING);
  assert.equal(parsePriorityName("trace"), undefined);
  assert.equal(parsePriorityName("verbose"), undefined);
  assert.equal(parseFacilityName("daemon"), 3);
  assert.equal(parseFacilityName("local7"), 23);
  assert.equal(parseFacilityName("nope"), undefined);
  assert.equal(syslogSeverity(LogPriority.NOTICE), 5);
  assert.equal(syslogSeverity(LogPriority.INFO), 6);
  assert.equal(syslogSeverity(LogPriority.DEBUG), 6);
  assert.equal(syslogSeverity(LogPriority.TRACE), 7);
});
