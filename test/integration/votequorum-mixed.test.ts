/**
 * votequorum across implementations in one mixed ring (issue 8): nodes 1 and 3 run Debian's
 * corosync 3.1.7, nodes 2 and 4 ours, one vote each, expected 4. Through a go-down/go-up
 * sequence — our node down (kill -9) and back, a corosync node down (SIGTERM) and back, two
 * nodes down (a corosync by kill -9, one of ours by SIGTERM: inquorate) and back — every
 * running node reports the same state through Debian's `corosync-quorumtool -s`: nodes, ring
 * id, quorate, expected votes, highest expected, total votes, quorum, flags, the membership
 * table and the exit status; on our nodes our own corosync-quorumtool prints the same.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { mixedSkipReason, startMixed, type MixedCluster } from "../helpers/mixed.js";

const skip = mixedSkipReason();
const OUR_QUORUMTOOL = fileURLToPath(new URL("../../src/cli/corosync-quorumtool.js", import.meta.url));
const KINDS = ["corosync", "ours", "corosync", "ours"] as const;

interface QuorumState {
  nodes: string;
  ringId: string;
  quorate: string;
  expected: string;
  highest: string;
  total: string;
  quorum: string;
  flags: string;
  members: string[];
  status: number | null;
}

function field(out: string, name: string): string {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, "m").exec(out);
  return m === null ? "<missing>" : m[1]!.trimEnd();
}

/** `corosync-quorumtool -s` of node `id`, Debian's or ours, parsed. */
function quorumState(m: MixedCluster, id: number, ours = false): QuorumState {
  const r = m.exec(id, ours ? [process.execPath, OUR_QUORUMTOOL, "-s"] : ["corosync-quorumtool", "-s"]);
  const table = r.stdout.split("Membership information")[1] ?? "";
  return {
    nodes: field(r.stdout, "Nodes"),
    ringId: field(r.stdout, "Ring ID"),
    quorate: field(r.stdout, "Quorate"),
    expected: field(r.stdout, "Expected votes"),
    highest: field(r.stdout, "Highest expected"),
    total: field(r.stdout, "Total votes"),
    quorum: field(r.stdout, "Quorum"),
    flags: field(r.stdout, "Flags"),
    members: table
      .split("\n")
      .filter((l) => /^\s+\d+\s+\d+\s/.test(l))
      .map((l) => l.replace(/ \(local\)$/, "").trim())
      .sort(),
    status: r.status,
  };
}

/** What every running node must report with `up` running (4 nodes, one vote each, expected 4). */
function want(up: number[]): Omit<QuorumState, "ringId"> {
  const quorate = up.length >= 3;
  return {
    nodes: String(up.length),
    quorate: quorate ? "Yes" : "No",
    expected: "4",
    highest: "4",
    total: String(up.length),
    quorum: quorate ? "3" : "3 Activity blocked",
    flags: quorate ? "Quorate" : "",
    members: up.map((id) => `${id}          1 n${id}`).sort(),
    status: quorate ? 0 : 2,
  };
}

/**
 * Wait (generous deadline) until every node in `up` reports the wanted state through Debian's
 * tool, then check that they agree on everything, the ring id included, and that our tool on
 * our nodes prints the same.
 */
async function agree(m: MixedCluster, up: number[], step: string): Promise<void> {
  const goal = want(up);
  const deadline = Date.now() + 60_000;
  let seen: QuorumState[] = [];
  for (;;) {
    seen = up.map((id) => quorumState(m, id));
    const ok = seen.every((s) => {
      const { ringId: _r, ...rest } = s;
      return JSON.stringify(rest) === JSON.stringify(goal);
    });
    if (ok && new Set(seen.map((s) => s.ringId)).size === 1) break;
    if (Date.now() > deadline) {
      assert.fail(`${step}: nodes ${up.join(",")} did not all reach ${JSON.stringify(goal)}; last:\n${seen.map((s, i) => `node ${up[i]} (${KINDS[up[i]! - 1]}): ${JSON.stringify(s)}`).join("\n")}\n${m.cluster.describe()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const id of up.filter((x) => KINDS[x - 1] === "ours")) {
    assert.deepEqual(quorumState(m, id, true), seen[up.indexOf(id)], `${step}: our corosync-quorumtool -s on node ${id} prints what Debian's does`);
  }
}

test("votequorum in a mixed ring (2 corosync + 2 ours): every node agrees through downs and ups of each kind", { skip, timeout: 180_000 }, async () => {
  const m = startMixed([...KINDS]);
  const c = m.cluster;
  const all = [1, 2, 3, 4];
  const down = async (id: number, sig: NodeJS.Signals): Promise<void> => {
    c.node(id).signal(sig);
    await c.node(id).exited;
  };
  try {
    c.start();
    await c.waitForMembers(all, all, 60_000);
    await agree(m, all, "all four up");

    await down(4, "SIGKILL");
    await agree(m, [1, 2, 3], "our node 4 down (kill -9)");
    c.node(4).start();
    await agree(m, all, "our node 4 back");

    await down(3, "SIGTERM");
    assert.equal(c.node(3).exitCode, 0, "corosync node 3 stopped cleanly");
    await agree(m, [1, 2, 4], "corosync node 3 down (SIGTERM)");
    c.node(3).start();
    await agree(m, all, "corosync node 3 back");

    await down(1, "SIGKILL");
    await down(2, "SIGTERM");
    assert.equal(c.node(2).exitCode, 0, "our node 2 stopped cleanly");
    await agree(m, [3, 4], "corosync node 1 (kill -9) and our node 2 (SIGTERM) down: inquorate");
    c.node(1).start();
    c.node(2).start();
    await agree(m, all, "nodes 1 and 2 back: quorate again");
  } finally {
    await m.destroy();
  }
  assert.deepEqual(m.lab.leftovers(), []);
  assert.deepEqual(m.shmLeftovers(), []);
});
