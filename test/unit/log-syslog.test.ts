/**
 * The syslog sink against a real Unix datagram receiver. Node cannot bind one, so the
 * receiver is a small python3 program (socket module only, so `python3-minimal` suffices;
 * it prints each datagram in hex); the sink itself needs util-linux `logger`.
 * Debian packages: `python3-minimal` (receiver), `bsdutils` (logger; Essential).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { LoggerCommandSyslogSink } from "../../src/daemon/log/syslog.js";
import { Logger } from "../../src/daemon/log/logger.js";
import { DEFAULT_LOGGING_OPTIONS } from "../../src/daemon/log/options.js";

function has(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

const noPython = has("python3") ? false : "python3 not found: install Debian package python3-minimal (the test's unix datagram receiver)";
const noLogger = has("logger") ? false : "logger not found: install Debian package bsdutils (util-linux logger)";
const skip = noPython || noLogger;

const RECEIVER = [
  "import socket, sys",
  "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
  "s.bind(sys.argv[1])",
  "print('ready', flush=True)",
  "while True:",
  "    d = s.recv(65536)",
  "    print(d.hex(), flush=True)",
].join("\n");

interface Receiver {
  frames: string[];
  stop(): Promise<void>;
}

async function startReceiver(path: string): Promise<Receiver> {
  const child: ChildProcess = spawn("python3", ["-c", RECEIVER, path], { stdio: ["ignore", "pipe", "inherit"] });
  const frames: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`receiver exited early (${code})`)));
    lines.on("line", (line) => {
      if (line === "ready") resolve();
      else frames.push(Buffer.from(line, "hex").toString("utf8"));
    });
  });
  return {
    frames,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const STAMP = "[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}";

test("frames reach a unix datagram socket as glibc syslog(3) would send them", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "cmaplog-syslog-"));
  const path = join(dir, "log.sock");
  const rx = await startReceiver(path);
  const sink = new LoggerCommandSyslogSink({ socketPath: path, pid: 4242 });
  try {
    sink.send({ facility: 3, severity: 5, body: "  [TOTEM ] A new membership (1.1a) was formed.", timeMs: 0 });
    sink.send({ facility: 23, severity: 3, body: "  [QUORUM] two\nlines\ttab é", timeMs: 0 });
    sink.send({ facility: 3, severity: 7, body: "", timeMs: 0 });
    await waitFor(() => rx.frames.length >= 3, "three frames");
    assert.match(rx.frames[0]!, new RegExp(`^<29>${STAMP} corosync\\[4242\\]:   \\[TOTEM \\] A new membership \\(1\\.1a\\) was formed\\.$`));
    assert.match(rx.frames[1]!, new RegExp(`^<187>${STAMP} corosync\\[4242\\]:   \\[QUORUM\\] two lines\ttab é$`));
    assert.match(rx.frames[2]!, new RegExp(`^<31>${STAMP} corosync\\[4242\\]: ?$`));
    assert.deepEqual({ ...sink.stats(), lastError: undefined }, { sent: 3, dropped: 0, starts: 1, lastError: undefined });
  } finally {
    await sink.close();
    await rx.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the Logger's syslog records arrive with corosync's body and bumped severity", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "cmaplog-syslog-"));
  const path = join(dir, "log.sock");
  const rx = await startReceiver(path);
  const sink = new LoggerCommandSyslogSink({ socketPath: path, pid: 99 });
  const logger = new Logger({ options: { ...DEFAULT_LOGGING_OPTIONS, toStderr: false, debug: "on" }, syslog: sink, pid: 99 });
  try {
    logger.child("CPG").debug("joined group");
    logger.child("MAIN").notice("Corosync Cluster Engine started");
    await waitFor(() => rx.frames.length >= 2, "two frames");
    assert.match(rx.frames[0]!, new RegExp(`^<30>${STAMP} corosync\\[99\\]:   \\[CPG   \\] joined group$`));
    assert.match(rx.frames[1]!, new RegExp(`^<29>${STAMP} corosync\\[99\\]:   \\[MAIN  \\] Corosync Cluster Engine started$`));
  } finally {
    await logger.close();
    await sink.close();
    await rx.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a logger process that dies is started again; a missing socket is survived", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "cmaplog-syslog-"));
  const path = join(dir, "log.sock");
  const sink = new LoggerCommandSyslogSink({ socketPath: path, pid: 7, restartDelayMs: 0 });
  let rx: Receiver | undefined;
  try {
    sink.send({ facility: 3, severity: 5, body: "lost: nobody listens yet", timeMs: 0 });
    await new Promise((r) => setTimeout(r, 200));
    rx = await startReceiver(path);
    sink.send({ facility: 3, severity: 5, body: "found", timeMs: 0 });
    await waitFor(() => rx!.frames.length >= 1, "frame after the receiver came up");
    assert.match(rx.frames[0]!, /corosync\[7\]: found$/);
    const first = sink.childPid!;
    process.kill(first, "SIGKILL");
    await waitFor(() => sink.childPid === undefined, "logger exit noticed");
    sink.send({ facility: 3, severity: 5, body: "after restart", timeMs: 0 });
    await waitFor(() => rx!.frames.length >= 2, "frame after restart");
    assert.match(rx.frames[1]!, /corosync\[7\]: after restart$/);
    assert.notEqual(sink.childPid, first);
    assert.equal(sink.stats().starts, 2);
  } finally {
    await sink.close();
    await rx?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("without a logger program, messages are dropped and counted, never thrown", async () => {
  let now = 0;
  const sink = new LoggerCommandSyslogSink({ command: "/nonexistent/logger-program", restartDelayMs: 1000, clock: () => now });
  sink.send({ facility: 3, severity: 5, body: "a", timeMs: 0 });
  await waitFor(() => sink.childPid === undefined && sink.stats().lastError !== undefined, "spawn failure");
  sink.send({ facility: 3, severity: 5, body: "b", timeMs: 0 });
  now += 1000;
  sink.send({ facility: 3, severity: 5, body: "c", timeMs: 0 });
  await waitFor(() => sink.childPid === undefined, "second spawn failure");
  const s = sink.stats();
  assert.equal(s.starts, 2);
  assert.equal(s.dropped, 1);
  assert.match(s.lastError ?? "", /ENOENT/);
  await sink.close();
  sink.send({ facility: 3, severity: 5, body: "after close", timeMs: 0 });
  assert.equal(sink.stats().dropped, 2);
});
