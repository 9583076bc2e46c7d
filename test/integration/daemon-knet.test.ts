/**
 * Our executives over knet on loopback, as corosync 3 runs by default: a nodelist and no
 * `transport:` line (knet), crypto aes256 + sha256 with a shared authkey. Formation, kill -9
 * and rejoin (the restarted node's seq-0 pings reset the others' duplicate windows), and a
 * clean SIGTERM whose LEAVE reaches the others before the token timeout.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DaemonCluster } from "../helpers/daemons.js";

const TOKEN_MS = 1650;
const keyDir = mkdtempSync(join(tmpdir(), "knet-key-"));
const keyfile = join(keyDir, "authkey");
writeFileSync(keyfile, randomBytes(256), { mode: 0o400 });

const cluster = new DaemonCluster({
  nodes: 3,
  token: 1000,
  transport: null,
  totemExtra: ["crypto_cipher: aes256", "crypto_hash: sha256", `keyfile: ${keyfile}`],
});
after(async () => {
  await cluster.destroy();
  rmSync(keyDir, { recursive: true, force: true });
});

test("three executives, no transport line: knet with crypto, one ring", async () => {
  cluster.start();
  await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
  assert.equal(new Set(cluster.nodes.map((n) => n.ringId)).size, 1);
  for (const n of cluster.nodes) {
    assert.equal(n.grep(/Initializing transport \(Kronosnet\)/).length, 1, `node ${n.id} runs knet`);
    assert.equal(n.grep(/knet crypto: aes256\/sha256/).length, 1);
    assert.equal(n.grep(/secauth: .* envelope/).length, 0, "no envelope on knet");
    assert.equal(n.grep(/invalid digest/).length, 0);
  }
});

test("kill -9 and restart: the ring re-forms without the node, then with it", async () => {
  cluster.node(3).signal("SIGKILL");
  await cluster.waitForMembers([1, 2], [1, 2]);
  await cluster.node(3).exited;
  cluster.node(3).start();
  await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
  assert.ok(cluster.node(1).grep(/host: 3 link: 0 is (up|down)/).length >= 1, "node 1 logged node 3's link");
});

test("clean SIGTERM: the LEAVE goes out over knet before the sockets close", async () => {
  const n3 = cluster.node(3);
  const sentAt = Date.now();
  n3.signal("SIGTERM");
  const formedAt = await cluster.waitForMembers([1, 2], [1, 2]);
  await n3.exited;
  assert.equal(n3.exitCode, 0);
  assert.ok(formedAt - sentAt < TOKEN_MS, `re-formed ${formedAt - sentAt} ms after SIGTERM`);
  assert.ok(!cluster.node(1).lines.some((l) => l.at >= sentAt && /Failed to receive the leave message/.test(l.text)));
});
