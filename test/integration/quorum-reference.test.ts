/**
 * The reference results of totem-spec §7.3 with real executives: five nodes on 127.x (one
 * vote each, expected_votes 5), stopped one by one and started again one by one; at every
 * step each running node must show exactly the `total/expected/quorum` and quorate state
 * of the table — plain, wait_for_all and last_man_standing (short window) — and two_node keeps
 * the survivor of two quorate once both were seen.
 *
 * Values are read from each executive with our votequorum client library (getinfo).
 */
import { test } from "node:test";
import { DaemonCluster } from "../helpers/daemons.js";
import { vqView, waitViews } from "../helpers/quorum.js";

/** Fast membership: no per-node token coefficient, short token. */
const TOTEM = ["token_coefficient: 0", "join: 50"];
const TOKEN = 400;

type Step = { action: "start" | "stop"; node: number; expect: string; afterWindow?: string };

function cluster(nodes: number, quorum: string[]): DaemonCluster {
  return new DaemonCluster({
    nodes,
    token: TOKEN,
    totemExtra: TOTEM,
    extraSections: `quorum {\n\tprovider: corosync_votequorum\n${quorum.map((l) => `\t${l}\n`).join("")}}\n`,
  });
}

function running(c: DaemonCluster): number[] {
  return c.nodes.filter((n) => n.running).map((n) => n.id);
}

async function apply(c: DaemonCluster, s: Step): Promise<void> {
  const n = c.node(s.node);
  if (s.action === "start") {
    n.start();
  } else {
    n.signal("SIGTERM");
    await n.exited;
  }
  const ids = running(c);
  await c.waitForMembers(ids, ids);
}

async function runTable(c: DaemonCluster, steps: Step[]): Promise<void> {
  for (const s of steps) {
    await apply(c, s);
    const ids = running(c);
    await waitViews(c, ids, s.expect);
    if (s.afterWindow !== undefined) await waitViews(c, ids, s.afterWindow);
  }
}

const startAll = (views: string[]): Step[] => views.map((expect, i) => ({ action: "start", node: i + 1, expect }));
const stops = (views: Array<[string, string?]>): Step[] =>
  views.map(([expect, afterWindow], i) => ({ action: "stop", node: 5 - i, expect, ...(afterWindow !== undefined ? { afterWindow } : {}) }));

test("plain: quorum 3 of 5 at every step of stopping and restarting nodes", { timeout: 120_000 }, async () => {
  const c = cluster(5, []);
  try {
    await runTable(c, [
      ...startAll(["1/5/3 -", "2/5/3 -", "3/5/3 Q", "4/5/3 Q", "5/5/3 Q"]),
      ...stops([["4/5/3 Q"], ["3/5/3 Q"], ["2/5/3 -"], ["1/5/3 -"]]),
      { action: "start", node: 2, expect: "2/5/3 -" },
      { action: "start", node: 3, expect: "3/5/3 Q" },
      { action: "start", node: 4, expect: "4/5/3 Q" },
      { action: "start", node: 5, expect: "5/5/3 Q" },
    ]);
  } finally {
    await c.destroy();
  }
});

test("wait_for_all: quorate only when all 5 were seen, re-armed after losing quorum", { timeout: 120_000 }, async () => {
  const c = cluster(5, ["wait_for_all: 1"]);
  try {
    await runTable(c, [
      ...startAll(["1/5/3 -", "2/5/3 -", "3/5/3 -", "4/5/3 -", "5/5/3 Q"]),
      ...stops([["4/5/3 Q"], ["3/5/3 Q"], ["2/5/3 -"], ["1/5/3 -"]]),
      { action: "start", node: 2, expect: "2/5/3 -" },
      { action: "start", node: 3, expect: "3/5/3 -" },
      { action: "start", node: 4, expect: "4/5/3 -" },
      { action: "start", node: 5, expect: "5/5/3 Q" },
    ]);
  } finally {
    await c.destroy();
  }
});

test("last_man_standing (window 2 s): expected votes follow the members down to 2", { timeout: 120_000 }, async () => {
  const c = cluster(5, ["last_man_standing: 1", "last_man_standing_window: 2000"]);
  try {
    await runTable(c, [
      ...startAll(["1/5/3 -", "2/5/3 -", "3/5/3 Q", "4/5/3 Q", "5/5/3 Q"]),
      ...stops([
        ["4/5/3 Q", "4/4/3 Q"],
        ["3/4/3 Q", "3/3/2 Q"],
        ["2/3/2 Q", "2/2/2 Q"],
        ["1/2/2 -"],
      ]),
    ]);
    // Node 2 back: the survivor is quorate at once; the newcomer shows 2/2/2 Q if it processed
    // the survivor's NODEINFO before sending its own, else 2/5/3 - (totem-spec §7.3; real
    // corosync 3.1.7 takes either path). The next steps follow the table on the first path;
    // on the second the same algorithm may keep quorum 3 a while, so there they must only be
    // quorate with every vote counted.
    await apply(c, { action: "start", node: 2, expect: "" });
    await waitViews(c, [1, 2], (id) => (id === 1 ? "2/2/2 Q" : ["2/2/2 Q", "2/5/3 -"]));
    const tablePath = (await vqView(c.node(2))) === "2/2/2 Q";
    for (const [node, view] of [
      [3, "3/3/2 Q"],
      [4, "4/4/3 Q"],
      [5, "5/5/3 Q"],
    ] as const) {
      await apply(c, { action: "start", node, expect: view });
      const ids = running(c);
      if (tablePath) await waitViews(c, ids, view);
      else await waitViews(c, ids, () => [2, 3].flatMap((q) => [3, 4, 5].filter((e) => e >= node).map((e) => `${node}/${e}/${q} Q`)));
    }
  } finally {
    await c.destroy();
  }
});

test("two_node: inquorate alone at first (wait_for_all), then the survivor of two stays quorate", { timeout: 60_000 }, async () => {
  const c = cluster(2, ["two_node: 1"]);
  try {
    await runTable(c, [
      { action: "start", node: 1, expect: "1/2/1 -" },
      { action: "start", node: 2, expect: "2/2/1 Q" },
      { action: "stop", node: 2, expect: "1/2/1 Q" },
      { action: "start", node: 2, expect: "2/2/1 Q" },
    ]);
  } finally {
    await c.destroy();
  }
});
