/**
 * Interoperability with Debian's corosync 3.1.7 at the Totem level (issue: mixed rings):
 * 2 corosync + 1 ours and 1 corosync + 2 ours form one ring; the C nodes' own tools list our
 * node; kill -9 and restart of each kind, and SIGSTOP longer than the token, re-form the ring
 * and the survivors agree.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mixedSkipReason, startMixed, type Kind } from "../helpers/mixed.js";

const skip = mixedSkipReason();

async function scenario(kinds: Kind[]): Promise<void> {
  const m = startMixed(kinds);
  const c = m.cluster;
  const all = kinds.map((_, i) => i + 1);
  try {
    c.start();
    await c.waitForMembers(all, all, 60_000);
    assert.equal(new Set(c.nodes.map((n) => n.ringId)).size, 1, `one ring id: ${c.nodes.map((n) => n.ringId).join(" ")}`);
    const cNode = kinds.indexOf("corosync") + 1;
    const ours = kinds.indexOf("ours") + 1;
    // The C node's own tools list our node.
    const cfg = m.exec(cNode, ["corosync-cfgtool", "-s"]);
    assert.equal(cfg.status, 0, cfg.stderr);
    assert.match(cfg.stdout, new RegExp(`nodeid:\\s+${ours}:\\s+connected`), cfg.stdout);
    const q = m.exec(cNode, ["corosync-quorumtool", "-l"]);
    assert.match(q.stdout, new RegExp(`^\\s+${ours}\\s+\\d+\\s.*\\bn${ours}\\b`, "m"), q.stdout);

    // kill -9 and restart of each kind.
    for (const victim of [ours, cNode]) {
      const rest = all.filter((x) => x !== victim);
      c.node(victim).signal("SIGKILL");
      await c.node(victim).exited;
      await c.waitForMembers(rest, rest, 60_000);
      c.node(victim).start();
      await c.waitForMembers(all, all, 60_000);
      assert.equal(new Set(c.nodes.map((n) => n.ringId)).size, 1, "the survivors and the restarted node agree on the ring");
    }
    // SIGSTOP of our node longer than the token (1000 + 650 = 1650 ms here).
    const stopped = c.node(ours);
    stopped.signal("SIGSTOP");
    try {
      const rest = all.filter((x) => x !== ours);
      await c.waitForMembers(rest, rest, 60_000);
    } finally {
      stopped.signal("SIGCONT");
    }
    await c.waitForMembers(all, all, 60_000);
  } finally {
    await m.destroy();
  }
  assert.deepEqual(m.lab.leftovers(), []);
}

test("2 corosync + 1 ours: one ring; C tools list our node; kills, restarts and a pause re-form it", { skip, timeout: 240_000 }, () =>
  scenario(["corosync", "corosync", "ours"]),
);

test("1 corosync + 2 ours: the same", { skip, timeout: 240_000 }, () => scenario(["ours", "corosync", "ours"]));
