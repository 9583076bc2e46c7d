/**
 * The SRP core's named deadlines (src/core/totem/timers.ts): the driver asks next() and
 * ticks; expired timers fire earliest first, ties in the fixed TIMER_NAMES order.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { TimerSet, TIMER_NAMES, type TimerName } from "../../src/core/totem/timers.js";

test("start, deadline, pending, cancel and clear", () => {
  const t = new TimerSet();
  assert.equal(t.next(), undefined);
  t.start("token", 100, 1650);
  t.start("join", 100, 50);
  assert.ok(t.isPending("token"));
  assert.equal(t.deadline("token"), 1750);
  assert.equal(t.next(), 150);
  t.cancel("join");
  assert.ok(!t.isPending("join"));
  assert.equal(t.deadline("join"), undefined);
  assert.equal(t.next(), 1750);
  t.clear();
  assert.equal(t.next(), undefined);
});

test("restarting a timer replaces its deadline (corosync's del + add)", () => {
  const t = new TimerSet();
  t.start("consensus", 0, 1980);
  t.start("consensus", 500, 1980);
  assert.equal(t.deadline("consensus"), 2480);
  t.start("consensus", 600, 10);
  assert.equal(t.deadline("consensus"), 610, "a restart may also bring it forward");
});

test("a zero or negative delay still lies in the future (at least 1 ms)", () => {
  const t = new TimerSet();
  t.start("mergeDetect", 10, 0);
  t.start("heartbeat", 10, -5);
  assert.equal(t.deadline("mergeDetect"), 11);
  assert.equal(t.deadline("heartbeat"), 11);
  assert.equal(t.popExpired(10), undefined);
});

test("popExpired: earliest first, ties in TIMER_NAMES order, only expired ones, each once", () => {
  const t = new TimerSet();
  t.start("join", 0, 50);
  t.start("token", 0, 30);
  t.start("tokenRetransmit", 0, 30);
  t.start("consensus", 0, 200);
  assert.equal(t.popExpired(29), undefined);
  // token and tokenRetransmit tie at 30: tokenRetransmit comes first in TIMER_NAMES.
  assert.equal(t.popExpired(60), "tokenRetransmit");
  assert.equal(t.popExpired(60), "token");
  assert.equal(t.popExpired(60), "join");
  assert.equal(t.popExpired(60), undefined);
  assert.ok(t.isPending("consensus"));
  assert.equal(t.next(), 200);
  assert.equal(t.popExpired(200), "consensus", "a deadline equal to now has expired");
  assert.equal(t.next(), undefined);
});

test("property: popping until empty yields expired timers sorted by (deadline, name order)", () => {
  const entry = fc.record({ name: fc.constantFrom(...TIMER_NAMES), now: fc.integer({ min: 0, max: 1000 }), after: fc.integer({ min: 0, max: 1000 }) });
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 20 }), fc.integer({ min: 0, max: 2200 }), (starts, now) => {
      const t = new TimerSet();
      const due = new Map<TimerName, number>();
      for (const s of starts) {
        t.start(s.name, s.now, s.after);
        due.set(s.name, s.now + Math.max(1, s.after));
      }
      const want = [...due]
        .filter(([, d]) => d <= now)
        .sort((a, b) => a[1] - b[1] || TIMER_NAMES.indexOf(a[0]) - TIMER_NAMES.indexOf(b[0]))
        .map(([n]) => n);
      const got: TimerName[] = [];
      for (let n = t.popExpired(now); n !== undefined; n = t.popExpired(now)) got.push(n);
      const left = [...due].filter(([, d]) => d > now).map(([, d]) => d);
      return got.join() === want.join() && t.next() === (left.length > 0 ? Math.min(...left) : undefined);
    }),
    { numRuns: 300 },
  );
});
