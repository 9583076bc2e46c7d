/**
 * The reference results of totem-spec §7.3 (5 nodes, 1 vote each, expected_votes 5; and
 * two_node), reproduced by real votequorum engines on real service hosts wired by hand:
 * stopping nodes one by one and starting them again, every running node must show exactly
 * `total/expected/quorum` and quorate as the real corosync 3.1.7 did.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { HandCluster } from "./quorum-hand-cluster.js";

type Step = { action: "start" | "stop"; node: number; expect: string; afterWindow?: string };

/** Apply steps; at each, every running node must show `expect` (then `afterWindow` after LMS). */
function runTable(c: HandCluster, steps: Step[], windowMs = 0): void {
  for (const s of steps) {
    if (s.action === "start") c.start(s.node);
    else c.stop(s.node);
    const label = `${s.action} ${s.node} (running ${c.running().join(",")})`;
    for (const id of c.running()) assert.equal(c.node(id).view, s.expect, `${label}: node ${id}`);
    if (windowMs > 0) {
      c.advance(windowMs + 1);
      const after = s.afterWindow ?? s.expect;
      for (const id of c.running()) assert.equal(c.node(id).view, after, `${label} after the window: node ${id}`);
    }
  }
}

const START_ALL = (expect: string[]): Step[] => [1, 2, 3, 4, 5].map((n, i) => ({ action: "start", node: n, expect: expect[i]! }));

test("plain: quorum 3 of 5, never decreasing; restarting nodes does not lower it", () => {
  const c = new HandCluster({ nodes: 5, quorum: [] });
  runTable(c, [
    ...START_ALL(["1/5/3 -", "2/5/3 -", "3/5/3 Q", "4/5/3 Q", "5/5/3 Q"]),
    { action: "stop", node: 5, expect: "4/5/3 Q" },
    { action: "stop", node: 4, expect: "3/5/3 Q" },
    { action: "stop", node: 3, expect: "2/5/3 -" },
    { action: "stop", node: 2, expect: "1/5/3 -" },
    { action: "start", node: 2, expect: "2/5/3 -" },
    { action: "start", node: 3, expect: "3/5/3 Q" },
    { action: "start", node: 4, expect: "4/5/3 Q" },
    { action: "start", node: 5, expect: "5/5/3 Q" },
  ]);
});

test("wait_for_all: quorate only once all 5 were seen; losing quorum re-arms the wait", () => {
  const c = new HandCluster({ nodes: 5, quorum: ["wait_for_all: 1"] });
  runTable(c, [
    ...START_ALL(["1/5/3 -", "2/5/3 -", "3/5/3 -", "4/5/3 -", "5/5/3 Q"]),
    { action: "stop", node: 5, expect: "4/5/3 Q" },
    { action: "stop", node: 4, expect: "3/5/3 Q" },
    { action: "stop", node: 3, expect: "2/5/3 -" },
    { action: "stop", node: 2, expect: "1/5/3 -" },
    { action: "start", node: 2, expect: "2/5/3 -" },
    { action: "start", node: 3, expect: "3/5/3 -" },
    { action: "start", node: 4, expect: "4/5/3 -" },
    { action: "start", node: 5, expect: "5/5/3 Q" },
  ]);
  for (const id of c.running()) assert.equal(c.node(id).vq.waitForAllStatus, false);
});

test("wait_for_all: a node restarted into a quorate cluster is quorate at its first sync", () => {
  const c = new HandCluster({ nodes: 5, quorum: ["wait_for_all: 1"] });
  for (const n of [1, 2, 3, 4, 5]) c.start(n);
  c.stop(5);
  assert.equal(c.node(1).view, "4/5/3 Q");
  c.start(5);
  for (const id of c.running()) assert.equal(c.node(id).view, "5/5/3 Q", `node ${id}`);
});

test("last_man_standing: expected votes follow the members after each window, down to 2", () => {
  const window = 1000;
  const c = new HandCluster({ nodes: 5, quorum: ["last_man_standing: 1", `last_man_standing_window: ${window}`] });
  runTable(
    c,
    [
      ...START_ALL(["1/5/3 -", "2/5/3 -", "3/5/3 Q", "4/5/3 Q", "5/5/3 Q"]),
      { action: "stop", node: 5, expect: "4/5/3 Q", afterWindow: "4/4/3 Q" },
      { action: "stop", node: 4, expect: "3/4/3 Q", afterWindow: "3/3/2 Q" },
      { action: "stop", node: 3, expect: "2/3/2 Q", afterWindow: "2/2/2 Q" },
      { action: "stop", node: 2, expect: "1/2/2 -" },
    ],
    window,
  );
  // Restart 2: the survivor is quorate at once; the newcomer's view depends on whether it
  // processed the survivor's NODEINFO before sending its own (totem-spec §7.3).
  c.start(2);
  assert.equal(c.node(1).view, "2/2/2 Q");
  assert.ok(["2/2/2 Q", "2/5/3 -"].includes(c.node(2).view), `node 2: ${c.node(2).view}`);
  c.advance(window + 1);
  runTable(c, [
    { action: "start", node: 3, expect: "3/3/2 Q" },
    { action: "start", node: 4, expect: "4/4/3 Q" },
    { action: "start", node: 5, expect: "5/5/3 Q" },
  ]);
});

test("last_man_standing: stops faster than the window restart it; an inquorate partition stays 2/5/3", () => {
  const window = 1000;
  const c = new HandCluster({ nodes: 5, quorum: ["last_man_standing: 1", `last_man_standing_window: ${window}`] });
  for (const n of [1, 2, 3, 4, 5]) c.start(n);
  c.stop(5);
  c.advance(window / 4);
  c.stop(4);
  c.advance(window / 4);
  c.stop(3);
  assert.equal(c.node(1).view, "2/5/3 -");
  c.advance(2 * window);
  assert.equal(c.node(1).view, "2/5/3 -");
  assert.equal(c.node(2).view, "2/5/3 -");
});

test("two_node: quorum 1 once both were seen; the survivor stays quorate; wait_for_all is implied", () => {
  const c = new HandCluster({ nodes: 2, quorum: ["two_node: 1"] });
  c.start(1);
  assert.equal(c.node(1).view, "1/2/1 -");
  assert.equal(c.node(1).vq.waitForAll, true);
  c.start(2);
  assert.equal(c.node(1).view, "2/2/1 Q");
  assert.equal(c.node(2).view, "2/2/1 Q");
  c.stop(2);
  assert.equal(c.node(1).view, "1/2/1 Q");
  c.start(2);
  assert.equal(c.node(1).view, "2/2/1 Q");
  assert.equal(c.node(2).view, "2/2/1 Q");
  c.stop(1);
  assert.equal(c.node(2).view, "1/2/1 Q");
});

test("two_node with wait_for_all: 0 explicitly: a node alone is quorate at once", () => {
  const c = new HandCluster({ nodes: 2, quorum: ["two_node: 1", "wait_for_all: 0"] });
  c.start(1);
  assert.equal(c.node(1).view, "1/2/1 Q");
});

test("two_node: a third node in the ring cancels the two-node rule", () => {
  const c = new HandCluster({ nodes: 3, quorum: ["two_node: 1", "expected_votes: 2"] });
  c.start(1);
  c.start(2);
  assert.equal(c.node(1).view, "2/2/1 Q");
  c.start(3);
  // 3 votes > expected 2: expected follows the total, quorum (3+2) div 2 = 2.
  for (const id of [1, 2, 3]) assert.equal(c.node(id).view, "3/3/2 Q", `node ${id}`);
});
