/**
 * The sort queue (src/core/totem/sort-queue.ts, corosync's sq.h): a window of slots keyed by
 * message seq that must behave the same on both sides of the u32 wrap.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SortQueue } from "../../src/core/totem/sort-queue.js";
import { SORT_QUEUE_SIZE } from "../../src/core/totem/constants.js";

const u32 = (n: number): number => n >>> 0;

test("the default window is SORT_QUEUE_SIZE slots from headSeq", () => {
  const q = new SortQueue<string>();
  assert.equal(q.size, SORT_QUEUE_SIZE);
  assert.equal(q.headSeq, 0);
  assert.ok(q.inRange(0));
  assert.ok(q.inRange(SORT_QUEUE_SIZE - 1));
  assert.ok(!q.inRange(SORT_QUEUE_SIZE));
  assert.ok(!q.inRange(0xffffffff), "one below the head is outside");
});

test("a window that straddles the wrap: 0xfffff000 + 16384 ends at 0x2fff", () => {
  const q = new SortQueue<string>(SORT_QUEUE_SIZE, 0xfffff000);
  for (const s of [0xfffff000, 0xffffffff, 0, 1, 0x2fff]) assert.ok(q.inRange(s), s.toString(16));
  for (const s of [0x3000, 0xffffefff, 0x80000000, 0x7fffffff]) assert.ok(!q.inRange(s), s.toString(16));
  q.add(0xfffffffe, "a");
  q.add(0xffffffff, "b");
  q.add(0, "c");
  q.add(1, "d");
  assert.deepEqual([0xfffffffe, 0xffffffff, 0, 1, 2].map((s) => q.get(s)), ["a", "b", "c", "d", undefined]);
  assert.ok(q.has(0) && !q.has(2));
  assert.equal(q.countItems(), 4);
});

test("a seq outside the window is never stored and never aliases a slot", () => {
  const q = new SortQueue<string>(8, 0xfffffffc);
  q.add(0xfffffffc, "head");
  // headSeq + size maps to the head's slot under a plain modulo.
  q.add(u32(0xfffffffc + 8), "alias");
  assert.equal(q.get(0xfffffffc), "head");
  assert.equal(q.get(u32(0xfffffffc + 8)), undefined);
  assert.ok(!q.has(u32(0xfffffffc + 8)));
  assert.equal(q.bumpMissCount(u32(0xfffffffc + 8)), 0);
  assert.equal(q.countItems(), 1);
});

test("releaseTo across the wrap drops up to and including seq and moves the window", () => {
  const q = new SortQueue<number>(32, 0xfffffff0);
  for (let i = 0; i < 32; i++) q.add(u32(0xfffffff0 + i), i);
  q.releaseTo(2); // releases fffffff0..ffffffff, 0, 1, 2: 19 items
  assert.equal(q.headSeq, 3);
  assert.equal(q.countItems(), 13);
  assert.equal(q.get(2), undefined);
  assert.equal(q.get(3), 19);
  assert.equal(q.get(0xffffffff), undefined, "behind the window now");
  assert.ok(q.inRange(3 + 31) && !q.inRange(3 + 32));
  // The freed slots serve the new end of the window.
  q.add(3 + 31, 99);
  assert.equal(q.get(3 + 31), 99);
  assert.equal(q.get(3), 19);
});

test("releaseTo of headSeq − 1, of a seq behind the window or far ahead changes nothing", () => {
  const q = new SortQueue<number>(16, 100);
  q.add(100, 1);
  q.add(101, 2);
  for (const s of [99, 50, 100 + 16, 0x80000000]) {
    q.releaseTo(s);
    assert.equal(q.headSeq, 100, `releaseTo(${s})`);
    assert.equal(q.countItems(), 2);
  }
});

test("releaseTo of the window's last seq empties it and starts the next window after it", () => {
  const q = new SortQueue<number>(16, 0xfffffff8);
  for (let i = 0; i < 16; i++) q.add(u32(0xfffffff8 + i), i);
  q.releaseTo(7); // 0xfffffff8 + 15
  assert.equal(q.headSeq, 8);
  assert.equal(q.countItems(), 0);
  assert.ok(q.inRange(8) && q.inRange(23) && !q.inRange(24));
});

test("miss counters count per seq, and a stored item or a release resets them", () => {
  const q = new SortQueue<string>(8, 0xfffffffe);
  assert.equal(q.bumpMissCount(0), 1);
  assert.equal(q.bumpMissCount(0), 2);
  assert.equal(q.bumpMissCount(1), 1);
  q.add(0, "x");
  assert.equal(q.bumpMissCount(0), 1, "add resets the counter");
  q.releaseTo(1);
  // seq 1 + 8 reuses a released slot: its counter starts again from zero.
  assert.equal(q.bumpMissCount(u32(1 + 8)), 1);
});

test("reinit empties the queue at a new head; copyFrom is an independent copy", () => {
  const q = new SortQueue<string>(8, 5);
  q.add(5, "a");
  q.add(6, "b");
  q.bumpMissCount(7);
  const c = new SortQueue<string>(8);
  c.copyFrom(q);
  assert.equal(c.headSeq, 5);
  assert.equal(c.get(6), "b");
  assert.equal(c.bumpMissCount(7), 2);
  q.reinit(0xffffffff);
  assert.equal(q.countItems(), 0);
  assert.ok(q.inRange(0xffffffff) && q.inRange(6) && !q.inRange(7));
  assert.equal(c.get(5), "a", "the copy does not share storage");
  c.add(7, "c");
  assert.equal(q.get(7), undefined);
});

test("property: the queue behaves as a map restricted to the moving window, at any head", () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant("add" as const), off: fc.integer({ min: -4, max: 36 }) }),
    fc.record({ kind: fc.constant("release" as const), off: fc.integer({ min: -2, max: 34 }) }),
    fc.record({ kind: fc.constant("bump" as const), off: fc.integer({ min: 0, max: 31 }) }),
  );
  const head = fc.oneof(fc.constant(0), fc.constant(0xffffffe0), fc.constant(0xfffffff0), fc.integer({ min: 0, max: 0xffffffff }));
  fc.assert(
    fc.property(head, fc.array(op, { maxLength: 80 }), (h, ops) => {
      const size = 32;
      const q = new SortQueue<number>(size, h);
      let mHead = h >>> 0;
      const model = new Map<number, number>();
      const misses = new Map<number, number>();
      const inWin = (s: number): boolean => u32(s - mHead) < size;
      let value = 0;
      for (const o of ops) {
        const seq = u32(mHead + o.off);
        if (o.kind === "add") {
          q.add(seq, ++value);
          if (inWin(seq)) {
            model.set(seq, value);
            misses.delete(seq);
          }
        } else if (o.kind === "release") {
          q.releaseTo(seq);
          const count = u32(u32(seq - mHead) + 1);
          if (count !== 0 && count <= size) {
            for (let i = 0; i < count; i++) {
              model.delete(u32(mHead + i));
              misses.delete(u32(mHead + i));
            }
            mHead = u32(seq + 1);
          }
        } else {
          const got = q.bumpMissCount(seq);
          const want = (misses.get(seq) ?? 0) + 1;
          misses.set(seq, want);
          if (got !== want) return false;
        }
        if (q.headSeq !== mHead) return false;
        for (let i = -3; i < size + 3; i++) {
          const s = u32(mHead + i);
          if (q.get(s) !== (inWin(s) ? model.get(s) : undefined)) return false;
        }
        if (q.countItems() !== model.size) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
});
