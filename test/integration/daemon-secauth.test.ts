/**
 * secauth with real executives: keys made by our corosync-keygen; the cluster forms and
 * carries traffic with the envelope on; a node with another key never joins and the others
 * log "invalid digest" (rate-limited); key file problems refuse to start, naming the path.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { COROSYNC_BIN, DaemonCluster } from "../helpers/daemons.js";

const KEYGEN = fileURLToPath(new URL("../../src/cli/corosync-keygen.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "secauth-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function keygen(path: string): void {
  const r = spawnSync(process.execPath, [KEYGEN, "-k", path], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
}

const good = join(dir, "authkey");
const other = join(dir, "otherkey");
keygen(good);
keygen(other);

const crypto = (keyfile: string): string[] => ["crypto_cipher: aes256", "crypto_hash: sha256", `keyfile: ${keyfile}`];
const cluster = new DaemonCluster({ nodes: 3, token: 1000, totemExtra: (id) => crypto(id === 3 ? other : good) });
after(() => cluster.destroy());

test("with secauth on, the nodes sharing a key form a ring; the node with another key never joins", async () => {
  cluster.start();
  await cluster.waitForMembers([1, 2], [1, 2]);
  // Give node 3 several join rounds to (wrongly) get in.
  await new Promise((r) => setTimeout(r, 2000));
  assert.deepEqual([...cluster.node(1).members].sort(), [1, 2]);
  assert.deepEqual(cluster.node(3).members, [3], "node 3 stays alone in its own ring");
  const digest = cluster.node(1).grep(/invalid digest/);
  assert.ok(digest.length >= 1, "node 1 logged invalid digest");
  assert.ok(digest.every((l) => l.includes(cluster.node(3).address)), "the digest failures name node 3's address");
  // At most one line per source per 10 s (plus one from the other phase of startup timing).
  assert.ok(digest.length <= 2, `invalid digest logged ${digest.length} times in ~3 s: rate limit`);
  assert.ok(cluster.node(1).grep(/secauth: aes-256-gcm/).length === 1, "the envelope suite is logged");
});

function runOnce(configText: string): { status: number | null; stderr: string } {
  const d = mkdtempSync(join(dir, "once-"));
  const conf = join(d, "corosync.conf");
  writeFileSync(conf, configText);
  const r = spawnSync(process.execPath, [COROSYNC_BIN, "-f", "-c", conf], {
    encoding: "utf8",
    timeout: 20_000,
    env: { ...process.env, COROSYNC_RUN_DIR: join(d, "run"), COROSYNC_STATE_DIR: join(d, "state") },
  });
  return { status: r.status, stderr: r.stderr + r.stdout };
}

function singleNode(keyfile: string): string {
  return `totem {\n version: 2\n cluster_name: k\n transport: udpu\n crypto_cipher: aes256\n crypto_hash: sha256\n keyfile: ${keyfile}\n interface {\n  mcastport: ${30000 + Math.floor(Math.random() * 20000)}\n }\n}\nnodelist {\n node {\n  ring0_addr: 127.0.0.1\n  nodeid: 1\n }\n}\nlogging {\n to_stderr: yes\n to_syslog: no\n}\n`;
}

test("a key file readable by others is refused, naming the path", () => {
  const loose = join(dir, "loosekey");
  copyFileSync(good, loose);
  chmodSync(loose, 0o644);
  const r = runOnce(singleNode(loose));
  assert.equal(r.status, 8, r.stderr);
  assert.match(r.stderr, new RegExp(loose.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  assert.match(r.stderr, /0400|0600|readable/i);
});

test("a missing key file refuses to start, naming the path", () => {
  const missing = join(dir, "no-such-key");
  const r = runOnce(singleNode(missing));
  assert.equal(r.status, 8, r.stderr);
  assert.ok(r.stderr.includes(missing), r.stderr);
});
