/**
 * The redundant-ring fault detector (src/runtime/transport/rrp-detector.ts) as a pure
 * state machine: arrivals per ring and peer at given times, `tick(now)`, and the effects
 * it returns. Times are in ms; node 1 is the local node.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type RrpEffect, RRP_DEFAULTS, RrpFaultDetector } from "../../src/runtime/transport/rrp-detector.js";

const SELF = 1;
const kinds = (effects: RrpEffect[]) => effects.map((e) => `${e.kind}:${e.ring}`);
const twoPeers = [
  { nodeId: 1, rings: [0, 1] },
  { nodeId: 2, rings: [0, 1] },
  { nodeId: 3, rings: [0, 1] },
];

/** Feed `fn` every `step` ms from `from` to `to` (inclusive), collecting effects of arrivals and ticks. */
function drive(d: RrpFaultDetector, from: number, to: number, step: number, fn: (t: number) => RrpEffect[]): RrpEffect[] {
  const out: RrpEffect[] = [];
  for (let t = from; t <= to; t += step) {
    out.push(...d.tick(t));
    out.push(...fn(t));
  }
  return out;
}

test("defaults are corosync 1.x's", () => {
  assert.deepEqual({ ...RRP_DEFAULTS }, {
    tokenExpiredTimeoutMs: 47,
    problemCountThreshold: 10,
    problemCountTimeoutMs: 2000,
    autorecoveryCheckTimeoutMs: 1000,
    passiveLagSlack: 2,
  });
});

test("active: a copy on every ring within rrp_token_expired_timeout is no problem", () => {
  const d = new RrpFaultDetector("active", 2, SELF);
  d.setPeers(twoPeers);
  for (let t = 0; t < 1000; t += 10) {
    assert.deepEqual(d.received(t, 0, 2), []);
    assert.deepEqual(d.tick(t + 5), []);
    assert.deepEqual(d.received(t + 30, 1, 2), [], "the second copy 30 ms later is in time");
  }
  assert.equal(d.nextDeadline(), undefined, "nothing outstanding");
  assert.deepEqual([d.problems(0), d.problems(1)], [0, 0]);
});

test("active: copies missing on ring 1 → one problem per expiry, FAULTY at the threshold", () => {
  const d = new RrpFaultDetector("active", 2, SELF);
  d.setPeers(twoPeers);
  d.received(0, 0, 2);
  d.received(1, 1, 2);
  d.received(10, 0, 2);
  assert.equal(d.nextDeadline(), 57, "10 + 47");
  assert.deepEqual(d.tick(56), []);
  assert.deepEqual(d.tick(57), [{ kind: "problem", ring: 1, peer: 2, count: 1 }]);
  assert.equal(d.nextDeadline(), 57 + 2000, "only the decay remains");
  // A datagram every 10 ms on ring 0 only: one problem per 47 ms window.
  const effects = drive(d, 60, 2000, 10, (t) => d.received(t, 0, 2));
  const problems = effects.filter((e) => e.kind === "problem");
  assert.equal(problems.length, 9, "counted up to the threshold, then no more");
  assert.deepEqual(kinds(effects.filter((e) => e.kind === "faulty")), ["faulty:1"]);
  assert.ok(effects.findIndex((e) => e.kind === "faulty") < 470 / 10, "FAULTY within ~10 windows");
  assert.equal(d.isFaulty(1), true);
  assert.deepEqual(d.sendRings("mcast"), [0], "no more sends on the faulty ring");
  assert.deepEqual(d.sendRings("token", 2), [0]);
  assert.deepEqual(d.received(2001, 1, 2), [], "arrivals on a faulty ring are not counted");
});

test("active: the problem counter decays by one per rrp_problem_count_timeout", () => {
  const d = new RrpFaultDetector("active", 2, SELF, { problemCountThreshold: 4 });
  d.setPeers(twoPeers);
  for (const t of [0, 100, 200]) {
    d.received(t, 0, 2);
    d.tick(t + 47);
  }
  assert.equal(d.problems(1), 3);
  assert.equal(d.nextDeadline(), 47 + 2000);
  assert.deepEqual(d.tick(2047), [{ kind: "decrement", ring: 1, count: 2 }]);
  assert.deepEqual(d.tick(4047), [{ kind: "decrement", ring: 1, count: 1 }]);
  d.received(4100, 0, 2);
  assert.deepEqual(kinds(d.tick(4147)), ["problem:1"]);
  assert.deepEqual(d.tick(6047), [{ kind: "decrement", ring: 1, count: 1 }]);
  assert.deepEqual(d.tick(8047), [{ kind: "decrement", ring: 1, count: 0 }], "0: ring active with no faults");
  assert.equal(d.nextDeadline(), undefined);
  assert.equal(d.isFaulty(1), false, "3 problems at most at any time: below the threshold of 4");
});

test("active: a peer is only expected on the rings it is configured on; own datagrams are ignored", () => {
  const d = new RrpFaultDetector("active", 2, SELF);
  d.setPeers([
    { nodeId: 2, rings: [0] },
    { nodeId: 3, rings: [0, 1] },
  ]);
  d.received(0, 0, 2);
  d.received(0, 0, SELF);
  assert.equal(d.nextDeadline(), undefined);
  assert.deepEqual(d.tick(100), []);
  assert.deepEqual(d.sendRings("token", 2), [0], "a token for node 2 goes on ring 0 only");
  assert.deepEqual(d.sendRings("token", 3), [0, 1]);
  assert.deepEqual(d.sendRings("mcast"), [0, 1]);
});

test("active: a late copy after an expiry does not blame the healthy ring", () => {
  const d = new RrpFaultDetector("active", 2, SELF);
  d.setPeers(twoPeers);
  d.received(0, 0, 2);
  assert.deepEqual(kinds(d.tick(47)), ["problem:1"]);
  d.received(60, 0, 2);
  d.received(65, 1, 2);
  assert.deepEqual(d.tick(200), []);
  assert.deepEqual([d.problems(0), d.problems(1)], [0, 1]);
});

test("passive: alternating arrivals are healthy; a silent ring collects a problem per datagram beyond the slack", () => {
  const d = new RrpFaultDetector("passive", 2, SELF);
  d.setPeers(twoPeers);
  for (let i = 0; i < 100; i++) assert.deepEqual(d.received(i, i % 2, 2), []);
  // Tokens and multicasts alternate independently: two in a row on one ring is normal.
  assert.deepEqual([...d.received(100, 0, 2), ...d.received(101, 0, 2), ...d.received(102, 1, 2), ...d.received(103, 1, 2)], []);
  const effects: RrpEffect[] = [];
  for (let i = 0; i < 20; i++) effects.push(...d.received(200 + i, 0, 2));
  const firstProblem = effects.findIndex((e) => e.kind === "problem");
  assert.ok(firstProblem >= 0);
  assert.deepEqual(kinds(effects.filter((e) => e.kind !== "problem")), ["faulty:1"]);
  assert.equal(effects.filter((e) => e.kind === "problem").length, 10);
  assert.equal(d.isFaulty(1), true);
  assert.deepEqual(d.received(300, 0, 2), [], "one ring left: nothing to compare");
});

test("passive: round robin per kind over non-faulty rings", () => {
  const d = new RrpFaultDetector("passive", 2, SELF, { problemCountThreshold: 1, passiveLagSlack: 1 });
  d.setPeers(twoPeers);
  assert.deepEqual([d.sendRings("mcast"), d.sendRings("mcast"), d.sendRings("mcast")], [[0], [1], [0]]);
  assert.deepEqual([d.sendRings("token", 2), d.sendRings("token", 3)], [[0], [1]], "tokens keep their own turn");
  d.received(0, 0, 2);
  assert.deepEqual(kinds(d.received(1, 0, 2)), ["problem:1", "faulty:1"]);
  assert.deepEqual([d.sendRings("mcast"), d.sendRings("mcast"), d.sendRings("token", 2)], [[0], [0], [0]]);
  d.received(2, 1, 3); // arrivals on faulty ring 1 are not counted ...
  d.received(3, 1, 3);
  assert.equal(d.isFaulty(0), false, "... so they cannot fault ring 0");
});

test("the last working ring is never marked faulty; a target on faulty rings only still gets its token", () => {
  const d = new RrpFaultDetector("active", 2, SELF, { problemCountThreshold: 1 });
  d.setPeers([
    { nodeId: 2, rings: [0, 1] },
    { nodeId: 3, rings: [1] },
  ]);
  d.received(0, 0, 2);
  assert.deepEqual(kinds(d.tick(47)), ["problem:1", "faulty:1"]);
  for (let t = 100; t < 1000; t += 10) d.received(t, 0, 2);
  assert.deepEqual(kinds(d.tick(1000).filter((e) => e.kind !== "probe")), [], "ring 0 has nothing left to be compared with");
  assert.equal(d.isFaulty(0), false);
  assert.deepEqual(d.sendRings("mcast"), [0]);
  assert.deepEqual(d.sendRings("token", 3), [1], "node 3 is only on ring 1: corosync's fallback, send there anyway");
});

test("recovery: a probe round every rrp_autorecovery_check_timeout until every alive peer answers", () => {
  const d = new RrpFaultDetector("active", 2, SELF, { problemCountThreshold: 1 });
  d.setPeers(twoPeers);
  d.received(0, 0, 2);
  d.received(0, 0, 3);
  assert.deepEqual(kinds(d.tick(47)), ["problem:1", "faulty:1"]);
  assert.equal(d.nextDeadline(), 1047);
  assert.deepEqual(d.tick(1047), [{ kind: "probe", ring: 1, round: 1 }]);
  d.received(1050, 0, 2); // both peers stay alive on ring 0
  d.received(1050, 0, 3);
  assert.deepEqual(d.probeReply(1060, 1, 2, 1), [], "node 3 has not answered yet");
  assert.deepEqual(d.probeReply(1061, 1, 3, 0), [], "an answer to an older round does not count");
  assert.deepEqual(d.tick(2047), [{ kind: "probe", ring: 1, round: 2 }], "next round");
  d.received(2050, 0, 2);
  d.received(2050, 0, 3);
  assert.deepEqual(d.probeReply(2060, 1, 2, 2), []);
  assert.deepEqual(d.probeReply(2061, 1, 3, 2), [{ kind: "recovered", ring: 1, cause: "auto" }]);
  assert.equal(d.isFaulty(1), false);
  assert.equal(d.problems(1), 0);
  assert.deepEqual(d.sendRings("mcast"), [0, 1]);
  d.received(2100, 0, 2);
  d.received(2101, 1, 2);
  assert.deepEqual(d.tick(2200), [], "counting resumes from a clean slate");
});

test("recovery: a silent peer is not waited for, but somebody must answer", () => {
  const d = new RrpFaultDetector("passive", 2, SELF, { problemCountThreshold: 1, passiveLagSlack: 1 });
  d.setPeers(twoPeers);
  d.received(0, 0, 2);
  assert.deepEqual(kinds(d.received(1, 0, 2)), ["problem:1", "faulty:1"]);
  assert.deepEqual(kinds(d.tick(1001)), ["probe:1"]);
  assert.deepEqual(kinds(d.tick(2001)), ["probe:1"], "no answer: stay faulty, probe again");
  assert.deepEqual(d.probeReceived(2100, 1, 3), [], "node 3's probe: alive; a round started 99 ms ago is recent enough");
  assert.deepEqual(d.probeReply(2600, 1, 2, 2), [], "node 3 is alive and has not answered");
  assert.deepEqual(d.probeReceived(2700, 1, 3), [{ kind: "probe", ring: 1, round: 3 }], "a peer's probe on our faulty ring starts a round now");
  assert.equal(d.nextDeadline(), 3700);
  assert.deepEqual(kinds(d.probeReply(3010, 1, 3, 3)), [], "node 2 was heard 410 ms ago: still alive");
  assert.deepEqual(kinds(d.probeReply(3020, 1, 2, 3)), ["recovered:1"]);
  assert.deepEqual(d.probeReceived(3030, 1, 3), [], "a probe on a healthy ring starts nothing");
  // Node 2 silent for over two check periods: only node 3 is needed.
  d.received(3100, 0, 3);
  assert.deepEqual(kinds(d.received(3101, 0, 3)), ["problem:1", "faulty:1"]);
  assert.deepEqual(kinds(d.tick(4101)), ["probe:1"]);
  const [probe] = d.tick(5101);
  assert.deepEqual(probe, { kind: "probe", ring: 1, round: 5 }, "rounds keep counting across faults");
  d.received(5200, 0, 3);
  assert.deepEqual(kinds(d.probeReply(5210, 1, 3, 5)), ["recovered:1"]);
});

test("reset re-enables every faulty ring at once and clears the counters", () => {
  const d = new RrpFaultDetector("active", 2, SELF, { problemCountThreshold: 2 });
  d.setPeers(twoPeers);
  d.received(0, 0, 2);
  d.tick(47);
  d.received(100, 0, 2);
  assert.deepEqual(kinds(d.tick(147)), ["problem:1", "faulty:1"]);
  assert.deepEqual(d.reset(), [{ kind: "recovered", ring: 1, cause: "reset" }]);
  assert.deepEqual([d.isFaulty(1), d.problems(1)], [false, 0]);
  assert.equal(d.nextDeadline(), undefined, "no decay or probe pending");
  assert.deepEqual(d.reset(), [], "nothing to reset");
});

test("setPeers forgets removed peers; unknown peers count on every ring", () => {
  const d = new RrpFaultDetector("active", 2, SELF);
  d.received(0, 0, 9);
  assert.equal(d.nextDeadline(), 47, "an unlisted (learned) peer is expected on every ring");
  d.setPeers([{ nodeId: 2, rings: [0, 1] }]);
  assert.equal(d.nextDeadline(), undefined, "node 9 forgotten");
  assert.throws(() => new RrpFaultDetector("active", 0, SELF), /ring count/);
  assert.deepEqual(d.received(0, 5, 2), [], "a ring out of range is ignored");
});
