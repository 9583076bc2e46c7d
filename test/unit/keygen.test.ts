/**
 * corosync-keygen, run as a process from the compiled tree (dist/src/cli/corosync-keygen.js)
 * in a temporary directory.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readAuthKey } from "../../src/crypto/keyfile.js";
import { runKeygen } from "../../src/cli/corosync-keygen.js";

const KEYGEN = fileURLToPath(new URL("../../src/cli/corosync-keygen.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "keygen-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

let serial = 0;
function fresh(name = "authkey"): string {
  return join(dir, `case${serial++}`, name);
}

function keygen(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [KEYGEN, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function mode(p: string): number {
  return statSync(p).mode & 0o7777;
}

test("default: 256 bytes from /dev/urandom, mode 0400, corosync's messages; parent created 0700", () => {
  const p = fresh();
  const r = keygen("-k", p);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    r.stdout,
    "Corosync Cluster Engine Authentication key generator.\n" +
      "Gathering 2048 bits for key from /dev/urandom.\n" +
      `Writing corosync key to ${p}.\n`,
  );
  assert.equal(r.stderr, "");
  assert.equal(readFileSync(p).length, 256);
  assert.equal(mode(p), 0o400);
  assert.equal(mode(join(p, "..")), 0o700);
  assert.equal(readAuthKey(p).length, 256, "the daemon accepts what keygen writes");
});

test("-s: 128 and 4096 accepted; 127, 4097, 0x100, 12k and empty refused with status 1", () => {
  for (const size of [128, 4096]) {
    const p = fresh();
    const r = keygen("-k", p, "-s", String(size));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Gathering ${size * 8} bits`));
    assert.equal(readFileSync(p).length, size);
  }
  for (const bad of ["127", "4097", "0x100", "12k", "", "-5"]) {
    const p = fresh();
    const r = keygen("-k", p, `--size=${bad}`);
    assert.equal(r.status, 1, `size ${bad}`);
    assert.match(r.stderr, /Unsupported key size .* \(supported <128,4096>\)/);
    assert.equal(existsSync(p), false);
  }
});

test("-r reads exactly SIZE bytes from the given source; a short source is an error", () => {
  const src = join(dir, "random.bin");
  const bytes = Buffer.alloc(1000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff;
  writeFileSync(src, bytes);
  const p = fresh();
  const r = keygen("-k", p, "-r", src, "-s", "300");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Gathering 2400 bits for key from ${src.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\.`));
  assert.deepEqual(readFileSync(p), bytes.subarray(0, 300));

  const short = fresh();
  const s = keygen("-k", short, "-r", src, "-s", "2000");
  assert.equal(s.status, 1);
  assert.match(s.stderr, /Unexpected end of .*random\.bin \(got 1000 of 2000 bytes\)/);
  assert.equal(existsSync(short), false, "nothing written");

  const missing = keygen("-k", fresh(), "-r", join(dir, "no-such-device"));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /Failed to open random source .*no-such-device: No such file or directory/);
});

test("an existing key is kept (status 2, -f named); -f replaces it atomically", () => {
  const p = fresh();
  assert.equal(keygen("-k", p).status, 0);
  const before = readFileSync(p);
  const r = keygen("-k", p);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /already exists; not overwriting it\. Use -f \(--force\)/);
  assert.deepEqual(readFileSync(p), before);

  const f = keygen("-k", p, "-f", "-s", "512");
  assert.equal(f.status, 0, f.stderr);
  const after = readFileSync(p);
  assert.equal(after.length, 512);
  assert.notDeepEqual(after, before);
  assert.equal(mode(p), 0o400);
  assert.deepEqual(readdirSync(join(p, "..")), ["authkey"], "no temporary file left behind");
});

test("-l is accepted and ignored; -h prints usage; unknown options are status 1", () => {
  const p = fresh();
  assert.equal(keygen("-l", "-k", p).status, 0);
  const h = keygen("-h");
  assert.equal(h.status, 0);
  assert.match(h.stdout, /^Usage: corosync-keygen \[-k <keyfile>\]/);
  assert.match(h.stdout, /-l \/ --less-secure/);
  const u = keygen("--bogus");
  assert.equal(u.status, 1);
  assert.match(u.stderr, /Error parsing command line options/);
  const pos = keygen("extra");
  assert.equal(pos.status, 1);
});

test("a key file path whose parent cannot be created: status 2", () => {
  const blocker = join(dir, "blocker");
  writeFileSync(blocker, "x");
  const r = keygen("-k", join(blocker, "sub", "authkey"));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Could not create directory/);
});

test("interactive confirmation (runKeygen with a confirm callback): y replaces, anything else keeps", async () => {
  const p = fresh();
  const out: string[] = [];
  const io = (answer: boolean) => ({
    stdout: (t: string) => out.push(t),
    stderr: (t: string) => out.push(t),
    confirm: async (q: string) => {
      out.push(q);
      return answer;
    },
  });
  assert.equal(await runKeygen(["-k", p], io(false)), 0);
  const first = readFileSync(p);
  assert.equal(await runKeygen(["-k", p], io(false)), 2);
  assert.deepEqual(readFileSync(p), first);
  assert.ok(out.some((l) => /Overwrite\? \[y\/N\]/.test(l)));
  assert.equal(await runKeygen(["-k", p], io(true)), 0);
  assert.notDeepEqual(readFileSync(p), first);
});
