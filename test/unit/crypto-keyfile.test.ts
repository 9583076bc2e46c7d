/** Reading the authkey (src/crypto/keyfile.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthKeyError, loadAuthKey, readAuthKey, type AuthKeyErrorCode } from "../../src/crypto/keyfile.js";
import { DEFAULT_KEYFILE } from "../../src/config/model.js";

const dir = mkdtempSync(join(tmpdir(), "authkey-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

let serial = 0;
function keyFile(bytes: Uint8Array, mode = 0o400): string {
  const p = join(dir, `key${serial++}`);
  writeFileSync(p, bytes, { mode: 0o600 });
  chmodSync(p, mode);
  return p;
}

function failure(f: () => unknown): AuthKeyError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof AuthKeyError, `not an AuthKeyError: ${String(e)}`);
    return e;
  }
  assert.fail("no error");
}

function code(f: () => unknown): AuthKeyErrorCode {
  return failure(f).code;
}

test("a 0400 or 0600 key of 128..4096 bytes is read whole", () => {
  for (const [n, mode] of [
    [128, 0o400],
    [256, 0o600],
    [4096, 0o400],
  ] as const) {
    const bytes = randomBytes(n);
    assert.deepEqual(Buffer.from(readAuthKey(keyFile(bytes, mode))), bytes);
  }
});

test("a missing file: NOT_FOUND, naming the path", () => {
  const p = join(dir, "nope");
  const e = failure(() => readAuthKey(p));
  assert.equal(e.code, "NOT_FOUND");
  assert.equal(e.path, p);
  assert.equal(e.message, `Could not open ${p}: No such file or directory`);
});

test("a short key: corosync's message", () => {
  const p = keyFile(randomBytes(100));
  const e = failure(() => readAuthKey(p));
  assert.equal(e.code, "TOO_SHORT");
  assert.match(e.message, new RegExp(`^Could only read 800 bits of minimum 1024 bits from ${p}\\.`));
  assert.equal(code(() => readAuthKey(keyFile(new Uint8Array(0)))), "TOO_SHORT");
});

test("a key longer than 4096 bytes is refused", () => {
  const e = failure(() => readAuthKey(keyFile(randomBytes(4097))));
  assert.equal(e.code, "TOO_LONG");
  assert.match(e.message, /4097 bytes/);
});

test("group or other access is refused with a chmod hint; checkMode: false allows it", () => {
  for (const mode of [0o644, 0o640, 0o604, 0o602, 0o610]) {
    const p = keyFile(randomBytes(256), mode);
    const e = failure(() => readAuthKey(p));
    assert.equal(e.code, "INSECURE_MODE");
    assert.match(e.message, new RegExp(`mode 0${mode.toString(8)}`));
    assert.match(e.message, /chmod 0400/);
    assert.equal(readAuthKey(p, { checkMode: false }).length, 256);
  }
});

test("a directory is not a key file", () => {
  const d = join(dir, "adir");
  mkdirSync(d, { mode: 0o700 });
  assert.equal(code(() => readAuthKey(d)), "NOT_A_FILE");
});

test("an unreadable file: UNREADABLE", () => {
  const p = keyFile(randomBytes(256), 0o000);
  if (process.getuid?.() !== 0) {
    const e = failure(() => readAuthKey(p));
    assert.equal(e.code, "UNREADABLE");
    assert.match(e.message, /Permission denied/);
    return;
  }
  // Root reads anything: read it as uid 65534 instead (the directory traversable, the file not readable).
  chmodSync(dir, 0o711);
  const mod = new URL("../../src/crypto/keyfile.js", import.meta.url).href;
  const script = `import { readAuthKey } from ${JSON.stringify(mod)}; try { readAuthKey(${JSON.stringify(p)}); console.log("{}"); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
  const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const e = JSON.parse(r.stdout) as { code?: string; message?: string };
  assert.equal(e.code, "UNREADABLE", r.stdout);
  assert.match(e.message ?? "", /Permission denied/);
});

test("loadAuthKey: keyfile, else inline totem.key, as corosync 3 chooses", () => {
  const bytes = randomBytes(256);
  const p = keyFile(bytes);
  assert.deepEqual(loadAuthKey({ keyfile: p }), { key: new Uint8Array(bytes), source: p });
  assert.equal(loadAuthKey({ keyfile: p, key: "x".repeat(200) }).source, p, "an explicit keyfile wins");
  const inline = loadAuthKey({ keyfile: DEFAULT_KEYFILE, key: "k".repeat(150) });
  assert.equal(inline.source, "totem.key");
  assert.equal(inline.key.length, 150);
  const short = failure(() => loadAuthKey({ keyfile: DEFAULT_KEYFILE, key: "short" }));
  assert.equal(short.code, "TOO_SHORT");
  assert.equal(short.message, "key is too short (5 bytes, at least 128)");
  assert.equal(code(() => loadAuthKey({ keyfile: DEFAULT_KEYFILE, key: "k".repeat(4097) })), "TOO_LONG");
});
