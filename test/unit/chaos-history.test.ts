/**
 * The chaos oracle (test/chaos/history.ts) on hand-written client histories: a clean history
 * passes, and each kind of violation — bad digest, unknown sender, duplicate, gap, total order,
 * virtual synchrony, self-delivery, final agreement — is caught.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkHistories, ClientHistory } from "../chaos/history.js";
import { checkChaosMessage, encodeChaosMessage } from "../helpers/chaos-message.js";

/** A client history from its output lines. */
function client(label: string, lines: string[]): ClientHistory {
  const h = new ClientHistory(label);
  for (const l of lines) h.feed(l);
  return h;
}

const oracles = (all: ClientHistory[], live = all): string[] => checkHistories(all, live).map((v) => v.oracle);

/** Two nodes, one ring, both send two messages. */
function clean(): ClientHistory[] {
  const common = ["C 1/10,2/20", "T 1.4 1,2", "M 1/10 1 ok", "M 2/20 1 ok", "M 1/10 2 ok", "M 2/20 2 ok"];
  return [client("a", ["R 1 10", ...common, "S 2"]), client("b", ["R 2 20", ...common, "S 2"])];
}

test("a clean history has no violation", () => {
  assert.deepEqual(oracles(clean()), []);
});

test("sync confchgs fold into the ring's view; views are keyed by ring and members", () => {
  const a = client("a", ["R 1 10", "C 1/10", "T 1.4 1", "M 1/10 1 ok", "C 1/10,2/20", "C 1/10,2/20,3/30", "T 1.8 1,2,3"]);
  assert.deepEqual(a.views.map((v) => `${v.ring}|${v.members.join(",")}|${v.msgs.length}`), ["1.4|1/10|1", "1.8|1/10,2/20,3/30|0"]);
});

test("clients whose syncs reported different changes did not move together (different down lists)", () => {
  const before = ["C 1/10,2/20,3/30", "T 1.4 1,2,3", "M 3/30 1 ok"];
  // Node 1 saw 3 go and come back; node 2 saw 1 and 3 go and come back: both end in 1.8.
  const a = client("a", ["R 1 10", ...before, "M 3/30 2 ok", "C 1/10,2/20", "C 1/10,2/20,3/30", "T 1.8 1,2,3"]);
  const b = client("b", ["R 2 20", ...before, "C 2/20", "C 1/10,2/20,3/30", "T 1.8 1,2,3"]);
  assert.deepEqual(oracles([a, b], []), []);
  // The same history with the same down lists is a violation.
  const b2 = client("b", ["R 2 20", ...before, "C 1/10,2/20", "C 1/10,2/20,3/30", "T 1.8 1,2,3"]);
  assert.deepEqual(oracles([a, b2], []), ["virtual synchrony"]);
});

test("a bad digest, an unknown sender, a duplicate and a gap are each caught", () => {
  assert.deepEqual(oracles([client("a", ["R 1 10", "C 1/10,2/20", "T 1.4 1,2", "M 2/20 1 sha1"])]), ["integrity"]);
  assert.deepEqual(oracles([client("a", ["R 1 10", "C 1/10", "T 1.4 1", "M 2/20 1 ok"])]), ["unknown sender"]);
  assert.deepEqual(oracles([client("a", ["R 1 10", "C 1/10,2/20", "T 1.4 1,2", "M 2/20 1 ok", "M 2/20 1 ok"])]), ["fifo/duplicate"]);
  assert.deepEqual(oracles([client("a", ["R 1 10", "C 1/10,2/20", "T 1.4 1,2", "M 2/20 1 ok", "M 2/20 3 ok"])]), ["gap"]);
  // A gap across the sender's absence is allowed (it delivered elsewhere meanwhile).
  assert.deepEqual(oracles([client("a", ["R 1 10", "C 1/10,2/20", "T 1.4 1,2", "M 2/20 1 ok", "C 1/10", "T 1.8 1", "C 1/10,2/20", "T 1.c 1,2", "M 2/20 5 ok"])]), []);
});

test("two clients delivering common messages in different orders violate total order", () => {
  const [a, b] = clean();
  const b2 = client("b", ["R 2 20", "C 1/10,2/20", "T 1.4 1,2", "M 2/20 1 ok", "M 1/10 1 ok", "M 1/10 2 ok", "M 2/20 2 ok", "S 2"]);
  assert.ok(oracles([a!, b2]).includes("total order"));
  void b;
});

test("moving together to the same next view with different deliveries violates virtual synchrony", () => {
  const next = ["C 1/10,2/20,3/30", "T 1.8 1,2,3"];
  const a = client("a", ["R 1 10", "C 1/10,2/20", "T 1.4 1,2", "M 1/10 1 ok", "M 2/20 1 ok", ...next]);
  const b = client("b", ["R 2 20", "C 1/10,2/20", "T 1.4 1,2", "M 1/10 1 ok", ...next]);
  assert.deepEqual(oracles([a, b], []), ["virtual synchrony"]);
  // Not moving together (b went elsewhere): no claim.
  const c = client("c", ["R 2 20", "C 1/10,2/20", "T 1.4 1,2", "M 1/10 1 ok", "C 2/20", "T 2.8 2"]);
  assert.deepEqual(oracles([a, c], []), []);
});

test("an accepted message never delivered to its live sender violates self-delivery", () => {
  const a = client("a", ["R 1 10", "C 1/10", "T 1.4 1", "M 1/10 1 ok", "S 2"]);
  assert.deepEqual(oracles([a]), ["self-delivery"]);
  assert.deepEqual(oracles([a], []), [], "a dead client is not held to it");
});

test("live clients ending in different views or with different last deliveries violate final agreement", () => {
  const a = client("a", ["R 1 10", "C 1/10,2/20", "T 1.4 1,2", "M 1/10 1 ok", "S 1"]);
  const b = client("b", ["R 2 20", "C 1/10,2/20", "T 1.4 1,2"]);
  assert.deepEqual(oracles([a, b]), ["final agreement"]);
});

test("chaos messages: round trip, and each field's corruption is named", () => {
  const m = encodeChaosMessage(3, 77, 12, new Uint8Array([1, 2, 3, 4, 5]));
  assert.deepEqual(checkChaosMessage(m, 3, 77), { seq: 12, status: "ok" });
  assert.equal(checkChaosMessage(m, 4, 77).status, "nodeid");
  assert.equal(checkChaosMessage(m, 3, 78).status, "pid");
  assert.equal(checkChaosMessage(m.subarray(0, 44), 3, 77).status, "size");
  const bad = m.slice();
  bad[42] ^= 1;
  assert.equal(checkChaosMessage(bad, 3, 77).status, "sha1");
  bad[0] ^= 1;
  assert.equal(checkChaosMessage(bad, 3, 77).status, "magic");
});

test("clients that reached the same last view by different changes (a merge, a join during its sync) agree", () => {
  // a lived through ring 1.4 with 3/30; in 1.8's sync 3/30 went down and 3/31 (b) joined.
  const a = client("a", ["R 1 10", "C 1/10,3/30", "T 1.4 1,3", "C 1/10", "C 1/10,3/31", "T 1.8 1,3", "M 3/31 1 ok", "S 0"]);
  const b = client("b", ["R 3 31", "C 1/10,3/31", "T 1.8 1,3", "T 1.8 1,3", "M 3/31 1 ok", "S 1"]);
  assert.deepEqual(oracles([a, b]), []);
  const late = client("late", ["R 3 31", "C 1/10,3/31", "T 1.8 1,3", "T 1.8 1,3", "S 0"]);
  assert.deepEqual(oracles([a, late]), ["final agreement"], "the same view with different deliveries");
});
