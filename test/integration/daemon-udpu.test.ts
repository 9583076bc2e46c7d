/**
 * Real executives over udpu on loopback: formation, kill -9 and restart, SIGSTOP longer than
 * the token and SIGCONT, and a clean SIGTERM (LEAVE). Three separate processes talking UDP.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { DaemonCluster } from "../helpers/daemons.js";

// token 1000 with 3 nodes → runtime token 1650 ms, consensus 1980 ms (totem-spec §4.12).
const TOKEN_MS = 1650;
const CONSENSUS_MS = 1980;

const cluster = new DaemonCluster({ nodes: 3, token: 1000 });
after(() => cluster.destroy());

test("three executives over udpu on 127.x form one ring", async () => {
  cluster.start();
  await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
  const rings = new Set(cluster.nodes.map((n) => n.ringId));
  assert.equal(rings.size, 1, `all nodes report the same ring id: ${[...rings].join(" ")}`);
});

test("kill -9 of one node: the others install a new ring within token + consensus + 500 ms", async () => {
  const killedAt = Date.now();
  cluster.node(3).signal("SIGKILL");
  const formedAt = await cluster.waitForMembers([1, 2], [1, 2]);
  const elapsed = formedAt - killedAt;
  assert.ok(elapsed <= TOKEN_MS + CONSENSUS_MS + 500, `new ring after ${elapsed} ms, bound ${TOKEN_MS + CONSENSUS_MS + 500} ms`);
  assert.ok(elapsed >= TOKEN_MS * 0.9, `the failure was detected by token loss (${elapsed} ms), not by something faster`);
});

test("the killed node restarts and rejoins", async () => {
  await cluster.node(3).exited;
  cluster.node(3).start();
  await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
});

test("SIGSTOP longer than the token: the others re-form; SIGCONT: it merges back", async () => {
  const n2 = cluster.node(2);
  n2.signal("SIGSTOP");
  try {
    await cluster.waitForMembers([1, 3], [1, 3]);
  } finally {
    n2.signal("SIGCONT");
  }
  await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
});

test("clean SIGTERM: the others see the node leave at once (LEAVE), not after the token timeout", async () => {
  const n3 = cluster.node(3);
  const sentAt = Date.now();
  n3.signal("SIGTERM");
  const formedAt = await cluster.waitForMembers([1, 2], [1, 2]);
  await n3.exited;
  assert.equal(n3.exitCode, 0, "SIGTERM exits 0");
  const elapsed = formedAt - sentAt;
  assert.ok(elapsed < TOKEN_MS, `ring re-formed ${elapsed} ms after SIGTERM, before the token timeout (${TOKEN_MS} ms)`);
  const n1 = cluster.node(1);
  assert.ok(n1.lines.some((l) => l.at >= sentAt && /Members left: 3/.test(l.text)), "node 1 logged node 3 leaving");
  assert.ok(
    !n1.lines.some((l) => l.at >= sentAt && /Failed to receive the leave message/.test(l.text)),
    "node 3's leave was received (no 'Failed to receive the leave message')",
  );
});
