import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, renameSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger, type LoggerInit } from "../../src/daemon/log/logger.js";
import { LogPriority } from "../../src/daemon/log/format.js";
import { DEFAULT_LOGGING_OPTIONS, LoggingConfigError, type LoggingOptions } from "../../src/daemon/log/options.js";
import { MemorySyslogSink } from "../../src/daemon/log/syslog.js";
import { BoundedRing } from "../../src/daemon/log/ring.js";
import { RateLimiter } from "../../src/daemon/log/ratelimit.js";

const T0 = Date.UTC(2026, 10, 25, 8, 24, 42, 397);

interface Rig {
  logger: Logger;
  err: string[];
  sys: MemorySyslogSink;
  clock: { now: number };
}

function rig(options: Partial<LoggingOptions> = {}, init: Partial<LoggerInit> = {}): Rig {
  const err: string[] = [];
  const sys = new MemorySyslogSink();
  const clock = { now: T0 };
  const logger = new Logger({
    options: { ...DEFAULT_LOGGING_OPTIONS, ...options },
    hostname: "vm",
    pid: 23356,
    clock: () => clock.now,
    utcOffsetMinutes: () => 0,
    stderr: { write: (s: string) => err.push(s) },
    syslog: sys,
    ...init,
  });
  return { logger, err, sys, clock };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "cmaplog-"));
}

test("defaults: stderr and syslog at info and above, hires stamps, nothing to a file", async () => {
  const { logger, err, sys } = rig();
  const totem = logger.child("TOTEM");
  totem.notice("A new membership (1.1a) was formed. Members left: 3");
  totem.info("info line");
  totem.debug("debug line");
  totem.trace("trace line");
  assert.deepEqual(err, [
    "Nov 25 08:24:42.397 notice  [TOTEM ] A new membership (1.1a) was formed. Members left: 3\n",
    "Nov 25 08:24:42.397 info    [TOTEM ] info line\n",
  ]);
  assert.deepEqual(
    sys.messages.map((m) => [m.facility, m.severity, m.body]),
    [
      [3, 5, "  [TOTEM ] A new membership (1.1a) was formed. Members left: 3"],
      [3, 6, "  [TOTEM ] info line"],
    ],
  );
  assert.equal(logger.stats().files.length, 0);
  await logger.close();
});

test("debug: on / trace raise both thresholds; debug goes to syslog as info", async () => {
  const on = rig({ debug: "on" });
  on.logger.log("MAIN", LogPriority.DEBUG, "d");
  on.logger.log("MAIN", LogPriority.TRACE, "t");
  assert.equal(on.err.length, 1);
  assert.deepEqual(on.sys.messages.map((m) => m.severity), [6]);
  const trace = rig({ debug: "trace" });
  trace.logger.log("MAIN", LogPriority.TRACE, "t");
  assert.deepEqual(trace.err, ["Nov 25 08:24:42.397 trace   [MAIN  ] t\n"]);
  assert.deepEqual(trace.sys.messages.map((m) => m.severity), [7]);
  await on.logger.close();
  await trace.logger.close();
});

test("syslog_priority and logfile_priority are separate; stderr follows logfile_priority", async () => {
  const { logger, err, sys } = rig({ syslogPriority: LogPriority.WARNING, logfilePriority: LogPriority.NOTICE });
  logger.log("CPG", LogPriority.NOTICE, "n");
  logger.log("CPG", LogPriority.WARNING, "w");
  logger.log("CPG", LogPriority.INFO, "i");
  assert.deepEqual(err.map((l) => l.trim().split(" ").pop()), ["n", "w"]);
  assert.deepEqual(sys.messages.map((m) => m.body), ["  [CPG   ] w"]);
  await logger.close();
});

test("per-subsystem overrides: debug for one subsystem, syslog off for another", async () => {
  const { logger, err, sys } = rig({
    subsys: { QUORUM: { debug: "on" }, CPG: { toSyslog: false }, KNET: { syslogFacility: 16 } },
  });
  logger.log("QUORUM", LogPriority.DEBUG, "q-debug");
  logger.log("TOTEM", LogPriority.DEBUG, "t-debug");
  logger.log("CPG", LogPriority.NOTICE, "c-notice");
  logger.log("KNET", LogPriority.ERR, "k-err");
  assert.deepEqual(err.map((l) => l.trim().split(" ").pop()), ["q-debug", "c-notice", "k-err"]);
  assert.deepEqual(sys.messages.map((m) => [m.facility, m.body]), [
    [3, "  [QUORUM] q-debug"],
    [16, "  [KNET  ] k-err"],
  ]);
  await logger.close();
});

test("to_stderr / to_syslog off; applyConfig changes levels at runtime", async () => {
  const { logger, err, sys } = rig({ toStderr: false, toSyslog: false });
  logger.log("MAIN", LogPriority.ERR, "quiet");
  assert.equal(err.length + sys.messages.length, 0);
  logger.applyConfig({ ...DEFAULT_LOGGING_OPTIONS, debug: "on" });
  logger.log("MAIN", LogPriority.DEBUG, "loud");
  assert.equal(err.length, 1);
  assert.equal(sys.messages.length, 1);
  assert.equal(logger.config.debug, "on");
  assert.equal(logger.isEnabled("MAIN", LogPriority.TRACE), true); // blackbox takes everything
  logger.applyConfig({ ...DEFAULT_LOGGING_OPTIONS, blackbox: false });
  assert.equal(logger.isEnabled("MAIN", LogPriority.DEBUG), false);
  assert.equal(logger.isEnabled("MAIN", LogPriority.INFO), true);
  await logger.close();
});

test("log file: lines in corosync's file shape, thresholds, timestamp off quirk", async () => {
  const dir = tmp();
  const path = join(dir, "corosync.log");
  const { logger } = rig({ toStderr: false, toSyslog: false, toLogfile: true, logfile: path, fileline: true });
  logger.log("TOTEM", LogPriority.NOTICE, "formed", { file: "src/core/totem/srp.ts", line: 42 });
  logger.log("TOTEM", LogPriority.DEBUG, "hidden");
  await logger.flush();
  assert.equal(readFileSync(path, "utf8"), "Nov 25 08:24:42.397 [23356] vm corosync notice  [TOTEM ] srp.ts:42 formed\n");
  logger.applyConfig({ ...logger.config, timestamp: "off", fileline: false });
  logger.log("MAIN", LogPriority.INFO, "x");
  await logger.flush();
  assert.match(readFileSync(path, "utf8"), /\n\[23356\] vm corosyncinfo    \[MAIN  \] x\n$/);
  assert.deepEqual(logger.stats().files.map((f) => [f.path, f.written, f.errors]), [[path, 2, 0]]);
  await logger.close();
  rmSync(dir, { recursive: true });
});

test("per-subsystem log files share one target per path", async () => {
  const dir = tmp();
  const main = join(dir, "main.log");
  const q = join(dir, "quorum.log");
  const { logger } = rig({ toStderr: false, toSyslog: false, toLogfile: true, logfile: main, subsys: { QUORUM: { logfile: q }, CPG: { logfile: main } } });
  logger.log("QUORUM", LogPriority.NOTICE, "to-q");
  logger.log("CPG", LogPriority.NOTICE, "to-main-1");
  logger.log("TOTEM", LogPriority.NOTICE, "to-main-2");
  await logger.flush();
  assert.equal(logger.stats().files.length, 2);
  assert.match(readFileSync(q, "utf8"), /to-q\n$/);
  assert.equal(readFileSync(main, "utf8").split("\n").filter(Boolean).length, 2);
  await logger.close();
  rmSync(dir, { recursive: true });
});

test("reopen after logrotate renamed the file: new lines go to a new file", async () => {
  const dir = tmp();
  const path = join(dir, "corosync.log");
  const { logger } = rig({ toStderr: false, toSyslog: false, toLogfile: true, logfile: path });
  logger.log("MAIN", LogPriority.NOTICE, "before");
  await logger.flush();
  renameSync(path, path + ".1");
  logger.log("MAIN", LogPriority.NOTICE, "still-old"); // the open descriptor follows the rename
  assert.deepEqual(logger.reopen(), [{ path, ok: true }]);
  logger.log("MAIN", LogPriority.NOTICE, "after");
  await logger.flush();
  await logger.close();
  assert.match(readFileSync(path + ".1", "utf8"), /before\n.*still-old\n$/);
  assert.match(readFileSync(path, "utf8"), /^[^\n]*after\n$/);
  rmSync(dir, { recursive: true });
});

test("a log file that cannot be opened refuses the configuration and keeps the old one", async () => {
  const dir = tmp();
  const good = join(dir, "good.log");
  const { logger } = rig({ toStderr: false, toSyslog: false, toLogfile: true, logfile: good });
  const bad = join(dir, "missing-dir", "x.log");
  assert.throws(
    () => logger.applyConfig({ ...logger.config, logfile: bad }),
    (e: unknown) => e instanceof LoggingConfigError && e.message === `Can't open logfile '${bad}' for reason: no such file or directory (2)`,
  );
  assert.equal(logger.config.logfile, good);
  logger.log("MAIN", LogPriority.NOTICE, "kept");
  await logger.flush();
  assert.match(readFileSync(good, "utf8"), /kept\n$/);
  assert.throws(() => rig({ toLogfile: true, logfile: bad }), LoggingConfigError);
  await logger.close();
  rmSync(dir, { recursive: true });
});

test("write errors (disk full) are counted, never thrown; writes retry later", { skip: !existsSync("/dev/full") && "no /dev/full" }, async () => {
  const { logger, clock } = rig({ toStderr: false, toSyslog: false, toLogfile: true, logfile: "/dev/full" }, { fileRetryMs: 1000 });
  logger.log("MAIN", LogPriority.NOTICE, "one");
  await new Promise((r) => setTimeout(r, 50));
  logger.log("MAIN", LogPriority.NOTICE, "dropped while failed");
  let s = logger.stats().files[0]!;
  assert.equal(s.errors, 1);
  assert.equal(s.dropped, 1);
  assert.match(s.lastError ?? "", /ENOSPC/);
  clock.now += 1000;
  logger.log("MAIN", LogPriority.NOTICE, "retried");
  await new Promise((r) => setTimeout(r, 50));
  s = logger.stats().files[0]!;
  assert.equal(s.written, 2);
  assert.equal(s.errors, 2);
  await logger.close();
});

test("a throwing stderr is counted, not propagated", async () => {
  const { logger } = rig({}, { stderr: { write: () => { throw new Error("EPIPE"); } } });
  logger.log("MAIN", LogPriority.ERR, "x");
  assert.deepEqual(logger.stats().stderr, { written: 0, errors: 1 });
  await logger.close();
});

test("blackbox keeps the last N records of every priority; off keeps none", async () => {
  const { logger } = rig({ toStderr: false, toSyslog: false }, { ringSize: 3 });
  for (let i = 0; i < 5; i++) logger.log("TOTEM", LogPriority.TRACE, `r${i}`, { fn: "f" });
  assert.deepEqual(logger.recent().map((r) => r.message), ["r2", "r3", "r4"]);
  assert.equal(logger.recent()[0]!.fn, "f");
  assert.deepEqual(logger.stats().blackbox, { size: 3, capacity: 3, overwritten: 2 });
  assert.equal(logger.recentLines()[0], "Nov 25 08:24:42.397 [23356] vm corosync trace   [TOTEM ] r2");
  logger.applyConfig({ ...logger.config, blackbox: false });
  logger.log("TOTEM", LogPriority.ERR, "x");
  assert.equal(logger.recent().length, 0);
  await logger.close();
});

test("BoundedRing order and bounds", () => {
  const r = new BoundedRing<number>(4);
  for (let i = 1; i <= 10; i++) r.push(i);
  assert.deepEqual(r.toArray(), [7, 8, 9, 10]);
  assert.equal(r.overwritten, 6);
  r.clear();
  assert.deepEqual(r.toArray(), []);
  assert.throws(() => new BoundedRing(0), RangeError);
});

test("rate limiting: once per interval per key, with the count of suppressed lines", async () => {
  const { logger, err, clock } = rig({ toSyslog: false });
  const totem = logger.child("TOTEM");
  for (let i = 0; i < 5; i++) totem.rateLimited("bad-frame:10.0.0.9", 10_000, LogPriority.WARNING, "Invalid packet data");
  totem.rateLimited("bad-frame:10.0.0.8", 10_000, LogPriority.WARNING, "Invalid packet data from .8");
  clock.now += 9_999;
  assert.equal(logger.rateLimited("bad-frame:10.0.0.9", 10_000), true);
  clock.now += 1;
  totem.rateLimited("bad-frame:10.0.0.9", 10_000, LogPriority.WARNING, "Invalid packet data");
  assert.deepEqual(err.map((l) => l.slice(l.indexOf("[TOTEM ]"))), [
    "[TOTEM ] Invalid packet data\n",
    "[TOTEM ] Invalid packet data from .8\n",
    "[TOTEM ] Invalid packet data (5 similar messages suppressed)\n",
  ]);
  await logger.close();
});

test("RateLimiter bounds its table", () => {
  const rl = new RateLimiter(2);
  assert.equal(rl.allow("a", 100, 0), true);
  assert.equal(rl.allow("b", 100, 0), true);
  assert.equal(rl.allow("a", 100, 50), false);
  assert.equal(rl.suppressedSince("a"), 1);
  assert.equal(rl.allow("c", 100, 60), true); // evicts the least recently allowed: a
  assert.equal(rl.size, 2);
  assert.equal(rl.allow("a", 100, 70), true);
});
