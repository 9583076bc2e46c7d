/**
 * votequorum beyond the reference table: administrative changes (set expected votes, set
 * votes, runtime configuration, cancel wait_for_all), allow_downscale, expected-votes
 * tracking, auto_tie_breaker, a quorum device, the never-decreasing quorum, and hostile exec
 * messages. Real engines on real service hosts, wired by hand (quorum-hand-cluster.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { HandCluster } from "./quorum-hand-cluster.js";
import { CmapType } from "../../src/core/cmap/types.js";
import { NodeFlag, ReconfigParam, encodeNodeInfo, encodeQdeviceReg, encodeReconfigure } from "../../src/core/quorum/messages.js";
import { NodeState, VQ_NODES_MAX } from "../../src/core/quorum/votequorum.js";
import { writeExecHeader, ServiceId } from "../../src/core/services/types.js";

const OK = 1;
const INVALID_PARAM = 7;
const NAME_NOT_FOUND = 17;

function startAll(c: HandCluster, ids: number[]): void {
  for (const id of ids) c.start(id);
}

function views(c: HandCluster): string[] {
  return c.running().map((id) => `${id}:${c.node(id).view}`);
}

test("quorum never decreases at a sync: a departed node's higher expected votes keep it", () => {
  const c = new HandCluster({ nodes: 5, quorum: [] });
  startAll(c, [1, 2, 3, 4, 5]);
  // Node 2 announces (as a quorate node) that it expects 7 votes: everyone takes 7 as its
  // expected votes, so quorum rises to 4.
  c.inject(2, encodeNodeInfo({ nodeId: 2, votes: 1, expectedVotes: 7, flags: NodeFlag.QUORATE }));
  assert.equal(c.node(1).vq.quorum, 4);
  c.stop(2);
  // Highest expected is back to 5 ((5+2) div 2 = 3), but quorum stays 4.
  assert.deepEqual(views(c), ["1:4/5/4 Q", "3:4/5/4 Q", "4:4/5/4 Q", "5:4/5/4 Q"]);
});

test("set expected votes: refused below the total or when a quorate cluster would lose quorum", () => {
  const c = new HandCluster({ nodes: 5, quorum: [] });
  startAll(c, [1, 2, 3, 4, 5]);
  const vq = c.node(1).vq;
  assert.equal(vq.setExpected(4), INVALID_PARAM);
  assert.equal(vq.setExpected(11), INVALID_PARAM);
  assert.equal(vq.setExpected(9), OK);
  c.drain();
  for (const v of views(c)) assert.match(v, /:5\/9\/5 Q$/);
  c.stop(5);
  for (const v of views(c)) assert.match(v, /:4\/9\/5 -$/);
  // Inquorate: lowering to the current total is allowed and restores quorum on all nodes.
  assert.equal(c.node(2).vq.setExpected(4), OK);
  c.drain();
  for (const v of views(c)) assert.match(v, /:4\/4\/3 Q$/);
});

test("set votes: applied cluster-wide; refused for unknown nodes and when quorum would exceed the votes", () => {
  const c = new HandCluster({ nodes: 5, quorum: [] });
  startAll(c, [1, 2, 3, 4, 5]);
  assert.equal(c.node(1).vq.setVotes(99, 1), NAME_NOT_FOUND);
  assert.equal(c.node(1).vq.setVotes(3, 0), OK);
  c.drain();
  for (const id of c.running()) assert.equal(c.node(id).vq.findNode(3)!.votes, 0);
  assert.equal(c.node(2).view, "4/5/3 Q");
  assert.equal(c.node(1).vq.setVotes(4, 0), OK);
  c.drain();
  assert.equal(c.node(5).view, "3/5/3 Q");
  assert.equal(c.node(1).vq.setVotes(5, 0), INVALID_PARAM);
  assert.equal(c.node(1).vq.findNode(5)!.votes, 1);
});

test("runtime configuration: a new quorum.expected_votes after a reload reaches every node", () => {
  const c = new HandCluster({ nodes: 3, quorum: [] });
  startAll(c, [1, 2, 3]);
  assert.equal(c.node(1).view, "3/3/2 Q");
  for (const id of [1, 2, 3]) {
    const cmap = c.node(id).cmap;
    cmap.set("config.totemconfig_reload_in_progress", { type: CmapType.UINT8, value: 1 }, { force: true });
    cmap.set("quorum.expected_votes", { type: CmapType.UINT32, value: 5 }, { force: true });
    cmap.set("config.reload_status", { type: CmapType.INT32, value: OK }, { force: true });
    cmap.set("config.totemconfig_reload_in_progress", { type: CmapType.UINT8, value: 0 }, { force: true });
  }
  c.drain();
  for (const v of views(c)) assert.match(v, /:3\/5\/3 Q$/);
  c.stop(3);
  for (const v of views(c)) assert.match(v, /:2\/5\/3 -$/);
});

test("runtime configuration: a failed reload changes nothing", () => {
  const c = new HandCluster({ nodes: 3, quorum: [] });
  startAll(c, [1, 2, 3]);
  const cmap = c.node(1).cmap;
  cmap.set("config.totemconfig_reload_in_progress", { type: CmapType.UINT8, value: 1 }, { force: true });
  cmap.set("quorum.expected_votes", { type: CmapType.UINT32, value: 9 }, { force: true });
  cmap.set("config.reload_status", { type: CmapType.INT32, value: INVALID_PARAM }, { force: true });
  cmap.set("config.totemconfig_reload_in_progress", { type: CmapType.UINT8, value: 0 }, { force: true });
  c.drain();
  assert.equal(c.node(1).view, "3/3/2 Q");
});

test("quorum.cancel_wait_for_all set on one node lifts wait_for_all everywhere", () => {
  const c = new HandCluster({ nodes: 3, quorum: ["wait_for_all: 1"] });
  startAll(c, [1, 2]);
  assert.deepEqual(views(c), ["1:2/3/2 -", "2:2/3/2 -"]);
  c.node(1).cmap.set("quorum.cancel_wait_for_all", { type: CmapType.UINT8, value: 1 }, { force: true });
  c.drain();
  assert.deepEqual(views(c), ["1:2/3/2 Q", "2:2/3/2 Q"]);
  assert.equal(c.node(1).cmap.get("quorum.cancel_wait_for_all")?.value, 0);
});

test("allow_downscale: a cleanly leaving node lowers expected votes to the members, quorum not below the configured expected", () => {
  const c = new HandCluster({ nodes: 5, quorum: ["allow_downscale: 1"] });
  startAll(c, [1, 2, 3, 4, 5]);
  c.stop(5);
  for (const v of views(c)) assert.match(v, /:4\/4\/3 Q$/);
  c.stop(4);
  for (const v of views(c)) assert.match(v, /:3\/3\/3 Q$/);
  c.stop(3);
  for (const v of views(c)) assert.match(v, /:2\/2\/3 -$/);
  assert.equal(c.node(1).vq.allowDownscale, true);
  assert.equal(c.evValues.get(1), 5, "allow_downscale implies expected_votes_tracking");
});

test("allow_downscale: the leaving node's LEAVING NODEINFO resolves leave()", async () => {
  const c = new HandCluster({ nodes: 2, quorum: ["allow_downscale: 1"] });
  startAll(c, [1, 2]);
  const done = c.node(2).vq.leave();
  c.drain();
  await done;
  assert.equal(c.node(1).vq.findNode(2)!.state, NodeState.LEAVING);
});

test("expected_votes_tracking: the highest expected votes seen survives a restart", () => {
  const c = new HandCluster({ nodes: 5, quorum: ["expected_votes_tracking: 1", "expected_votes: 3"] });
  startAll(c, [1, 2, 3, 4, 5]);
  assert.equal(c.node(1).view, "5/5/3 Q");
  assert.equal(c.evValues.get(1), 5);
  for (const id of [5, 4, 3, 2, 1]) c.stop(id);
  c.start(1);
  assert.equal(c.node(1).view, "1/5/3 -");
  const plain = new HandCluster({ nodes: 5, quorum: ["expected_votes: 3"] });
  plain.start(1);
  assert.equal(plain.node(1).view, "1/3/2 -");
});

test("auto_tie_breaker: in a 2|2 split the half with the tie-breaker node stays quorate", () => {
  for (const [atb, winner] of [
    [undefined, 1],
    ["lowest", 1],
    ["highest", 3],
    ["3 1", 3],
  ] as const) {
    const lines = ["auto_tie_breaker: 1", ...(atb !== undefined ? [`auto_tie_breaker_node: ${atb}`] : [])];
    const c = new HandCluster({ nodes: 4, quorum: lines });
    startAll(c, [1, 2, 3, 4]);
    c.partition([1, 2], [3, 4]);
    const q = (id: number) => c.node(id).vq.quorate;
    const winners = [1, 2, 3, 4].filter(q);
    assert.deepEqual(winners, winner === 1 ? [1, 2] : [3, 4], `auto_tie_breaker_node ${atb ?? "(default)"}`);
    assert.equal(c.node(1).view.slice(0, 5), "2/4/3");
  }
});

test("auto_tie_breaker with an odd node count and no wait_for_all is disabled", () => {
  const c = new HandCluster({ nodes: 3, quorum: ["auto_tie_breaker: 1"] });
  c.start(1);
  assert.equal(c.node(1).vq.atb, 0);
  assert.ok(c.node(1).logs.some((l) => l.includes("auto_tie_breaker has been disabled")));
});

test("quorum device: registration, polls casting a vote, and losing it when polls stop", () => {
  const c = new HandCluster({ nodes: 2, quorum: ["wait_for_all: 0", "device {", "  model: net", "  timeout: 5000", "}"] });
  c.start(1);
  const vq = c.node(1).vq;
  // Device votes are derived: 2 nodes of 1 vote → the device has 1, expected 3.
  assert.equal(c.node(1).view, "1/3/2 -");
  let registered: number | undefined;
  vq.listener.qdeviceRegistered = (e) => (registered = e);
  assert.equal(vq.qdeviceRegister("Qdevice"), undefined);
  c.drain();
  assert.equal(registered, OK);
  assert.equal(vq.qdevicePoll("Qdevice", true, { rep: 0, seq: 0n }), 22, "a poll for another ring is refused");
  assert.equal(vq.qdevicePoll("Qdevice", true, vq.ringId), OK);
  c.drain();
  assert.equal(c.node(1).view, "2/3/2 Q");
  c.advance(5001);
  assert.equal(c.node(1).view, "1/3/2 -");
  assert.equal(vq.qdeviceUnregister("other"), INVALID_PARAM);
  assert.equal(vq.qdeviceUnregister("Qdevice"), OK);
  c.drain();
  assert.equal(vq.qdeviceName, "");
});

test("hostile exec messages are dropped or bounded and never throw", () => {
  const c = new HandCluster({ nodes: 3, quorum: [] });
  startAll(c, [1, 2, 3]);
  const short = new Uint8Array(20);
  writeExecHeader(short, ServiceId.VOTEQUORUM, 0, 20);
  c.inject(2, short);
  const unknownFn = new Uint8Array(32);
  writeExecHeader(unknownFn, ServiceId.VOTEQUORUM, 77, 32);
  c.inject(2, unknownFn);
  c.inject(2, encodeReconfigure({ nodeId: 12345, value: 9, param: ReconfigParam.NODE_VOTES }));
  c.inject(2, encodeReconfigure({ nodeId: 1, value: 9, param: 200 }));
  const noNul = encodeQdeviceReg({ operation: 1, name: "x" });
  noNul.fill(0x41, 20);
  c.inject(3, noNul);
  assert.equal(c.node(1).vq.qdeviceName.length, 254);
  // A flood of NODEINFOs for ever-new node ids: the table stays bounded.
  for (let i = 0; i < 1000; i++) c.inject(2, encodeNodeInfo({ nodeId: 1000 + i, votes: 0, expectedVotes: 3, flags: 0 }));
  assert.ok(c.node(1).vq.nodeList.length <= VQ_NODES_MAX + 1);
  // A qdevice NODEINFO "from" a node nobody knows is ignored (corosync asserts here).
  c.node(1).vq.exec(0, encodeNodeInfo({ nodeId: 0, votes: 5, expectedVotes: 0, flags: 0 }), { nodeId: 77, bigEndian: false });
  assert.equal(c.node(1).vq.qdevice.votes, 0);
  assert.equal(c.node(1).view, "3/3/2 Q");
});
