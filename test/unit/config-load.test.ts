/**
 * Loading from disk: the main file, uidgid.d beside it, the authkey check, and the
 * `corosync -t` command line end to end.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfigFile, loadUidGidDir } from "../../src/config/load.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "..", "..", "..");
const cli = join(here, "..", "..", "src", "cli", "corosync.js");
const example = (name: string) => join(root, "examples", name);

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "corosync-config-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function corosync(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("loadConfigFile: the examples load", () => {
  for (const name of ["single-node.conf", "three-node-udpu.conf", "corosync-1x-multicast.conf"]) {
    const r = loadConfigFile(example(name), {});
    assert.ok(r.ok, name);
  }
});

test("loadConfigFile: a missing file is one error naming the path", () => {
  const r = loadConfigFile("/nonexistent/corosync.conf", {});
  assert.deepEqual(r, {
    ok: false,
    diagnostics: [{ severity: "error", file: "/nonexistent/corosync.conf", line: 0, column: 0, message: "Can't read file /nonexistent/corosync.conf: No such file or directory" }],
  });
});

test("loadConfigFile: a directory is not a file", (t) => {
  const dir = tempDir(t);
  const r = loadConfigFile(dir, {});
  assert.ok(!r.ok);
  assert.match(r.diagnostics[0]!.message, /^Can't read file .*: Is a directory$/);
});

test("loadConfigFile: uidgid.d beside the file is read, regular files in name order", (t) => {
  const dir = tempDir(t);
  const conf = join(dir, "corosync.conf");
  writeFileSync(conf, readFileSync(example("single-node.conf")));
  mkdirSync(join(dir, "uidgid.d"));
  mkdirSync(join(dir, "uidgid.d", "subdir"));
  writeFileSync(join(dir, "uidgid.d", "b-ops"), "uidgid {\n\tuid: ops\n}\n");
  writeFileSync(join(dir, "uidgid.d", "a-web"), "uidgid {\r\n\tgid: www\r\n}\r\n");
  symlinkSync(join(dir, "uidgid.d", "b-ops"), join(dir, "uidgid.d", "c-link"));
  const r = loadConfigFile(conf, {});
  assert.ok(r.ok);
  assert.deepEqual(r.config.uidgid, { uids: ["ops"], gids: ["www"] });
  assert.ok(r.diagnostics.some((d) => d.file.endsWith("a-web") && d.message === "file uses CRLF line endings; accepted"));
  const other = join(dir, "elsewhere");
  mkdirSync(other);
  writeFileSync(join(other, "x"), "uidgid {\n\tuid: elsewhere\n}\n");
  const moved = loadConfigFile(conf, {}, { uidgidDir: other });
  assert.ok(moved.ok);
  assert.deepEqual(moved.config.uidgid.uids, ["elsewhere"]);
});

test("loadUidGidDir: entries for reload; bad files reported and left out; a missing directory is empty", (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "good"), "uidgid {\n\tuid: alice\n\tgid: 100\n}\n");
  writeFileSync(join(dir, "bad"), "totem {\n}\n");
  const r = loadUidGidDir(dir, { resolveUid: (n) => (n === "alice" ? 1000 : undefined), resolveGid: () => undefined });
  assert.deepEqual(r.entries.map((e) => e.key), ["uidgid.config.uid.1000", "uidgid.config.gid.100"]);
  assert.deepEqual(r.diagnostics.map((d) => [d.file, d.line, d.message]), [[join(dir, "bad"), 1, "uidgid: Can't add subsection different than uidgid"]]);
  assert.deepEqual(loadUidGidDir(join(dir, "none")), { entries: [], diagnostics: [] });
});

test("loadConfigFile: with crypto on, an unreadable authkey is an error", (t) => {
  const dir = tempDir(t);
  const conf = join(dir, "corosync.conf");
  const key = join(dir, "authkey");
  const text = readFileSync(example("single-node.conf"), "utf8").replace("\tcrypto_cipher: none\n\tcrypto_hash: none\n", `\tsecauth: on\n\tkeyfile: ${key}\n`);
  writeFileSync(conf, text);
  const missing = loadConfigFile(conf, {});
  assert.ok(!missing.ok);
  assert.ok(missing.diagnostics.some((d) => d.message === `Could not open ${key}: No such file or directory` && d.line === 9));
  writeFileSync(key, new Uint8Array(128));
  chmodSync(key, 0o400);
  assert.ok(loadConfigFile(conf, {}).ok);
  assert.ok(loadConfigFile(conf, {}, { checkKeyFile: false }).ok);
});

test("corosync -t: the examples are valid (exit 0); warnings and notices go to stderr", () => {
  for (const name of ["corosync-1x-multicast.conf", "three-node-udpu.conf", "single-node.conf"]) {
    const r = corosync(["-t", "-c", example(name)]);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.equal(r.stdout, `Configuration file '${example(name)}' is valid.\n`);
  }
  const oneX = corosync(["-t", "-c", example("corosync-1x-multicast.conf")]);
  assert.match(oneX.stderr, /corosync-1x-multicast\.conf:3:1: notice: 'compatibility' has no effect here/);
});

test("corosync -t: a CRLF copy loads", (t) => {
  const dir = tempDir(t);
  const conf = join(dir, "crlf.conf");
  writeFileSync(conf, readFileSync(example("three-node-udpu.conf"), "utf8").replace(/\n/g, "\r\n"));
  const r = corosync(["-t", "-c", conf]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /crlf\.conf:1:1: notice: file uses CRLF line endings; accepted/);
});

test("corosync -t: errors exit 8, naming file, line and column", (t) => {
  const dir = tempDir(t);
  const conf = join(dir, "bad.conf");
  writeFileSync(conf, readFileSync(example("single-node.conf"), "utf8").replace("transport: udpu", "transport: udpu\n\ttoken: 10ms"));
  const r = corosync(["-t", "-c", conf]);
  assert.equal(r.status, 8);
  assert.match(r.stderr, new RegExp(`${conf.replace(/[.]/g, "\\.")}:8:9: error: Value of key "totem.token" is expected to be integer in range \\(0\\.\\.4294967295\\), but "10ms" was given`));
  assert.match(r.stderr, /is invalid \(1 error\); exiting/);
  const syntax = join(dir, "syntax.conf");
  writeFileSync(syntax, "totem {\n\tversion: 2\n");
  const s = corosync(["-t", "-c", syntax]);
  assert.equal(s.status, 8);
  assert.match(s.stderr, /syntax\.conf:2:12: error: Missing closing brace for section 'totem' opened at line 1/);
  const seed = corosync(["-t", "-c", join(root, "test", "fixtures", "config", "seed-1x.conf")]);
  assert.equal(seed.status, 0);
  assert.match(seed.stderr, /seed-1x\.conf:18:2: warning: Key 'to_file' is obsolete; did you mean 'to_logfile'\?/);
});

test("corosync: a missing file exits 8 naming the path; the default path comes from COROSYNC_MAIN_CONFIG_FILE", () => {
  const r = corosync(["-t"], { COROSYNC_MAIN_CONFIG_FILE: "/nonexistent/x.conf" });
  assert.equal(r.status, 8);
  assert.match(r.stderr, /^\/nonexistent\/x\.conf: error: Can't read file \/nonexistent\/x\.conf: No such file or directory\n/);
  const ok = corosync(["-t"], { COROSYNC_MAIN_CONFIG_FILE: example("single-node.conf") });
  assert.equal(ok.status, 0, ok.stderr);
  const start = corosync(["-c", "/nonexistent/y.conf", "-f"]);
  assert.equal(start.status, 8);
});

test("corosync -v, -h, -p/-r and unknown options", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  const v = corosync(["-v"]);
  assert.equal(v.status, 0);
  const lines = v.stdout.split("\n");
  assert.equal(lines[0], `Corosync Cluster Engine, version '${pkg.version}'`);
  assert.match(lines[1]!, /^Built-in features: /);
  const h = corosync(["-h"]);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /-t\s+: Test configuration and exit\./);
  const p = corosync(["-p", "-r", "-t", "-c", example("single-node.conf")]);
  assert.equal(p.status, 0);
  assert.match(p.stderr, /option -p has no effect/);
  assert.match(p.stderr, /option -r has no effect/);
  const bad = corosync(["-x"]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /usage: corosync/);
});

test("corosync without -t: a valid configuration starts the executive, which leaves cleanly on SIGTERM", async () => {
  const dir = mkdtempSync(join(tmpdir(), "corosync-run-"));
  try {
    const child = spawn(process.execPath, [cli, "-f", "-c", example("single-node.conf")], {
      env: { ...process.env, COROSYNC_RUN_DIR: join(dir, "run"), COROSYNC_STATE_DIR: join(dir, "state") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const started = Date.now();
    while (!/ready to provide service/.test(out)) {
      if (Date.now() - started > 30_000 || child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(out, /ready to provide service/, out);
    child.kill("SIGTERM");
    assert.equal(await exited, 0, out);
    assert.doesNotMatch(out, /error/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
