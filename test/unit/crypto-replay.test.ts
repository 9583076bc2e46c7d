/** The replay window and the bounded per-sender table (src/crypto/replay.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { REPLAY_WINDOW_SIZE, RETIRED_EPOCHS_MAX, ReplayWindow, SenderTable } from "../../src/crypto/replay.js";

test("window: fresh, duplicate, too old, and jumps of every size", () => {
  const w = new ReplayWindow();
  assert.equal(w.highestSeen, -1);
  assert.equal(w.check(0), "fresh");
  w.accept(0);
  assert.equal(w.check(0), "duplicate");
  w.accept(10);
  assert.equal(w.check(5), "fresh");
  w.accept(5);
  assert.equal(w.check(5), "duplicate");
  w.accept(10 + REPLAY_WINDOW_SIZE - 1);
  assert.equal(w.check(10), "duplicate", "still inside the window");
  assert.equal(w.check(9), "too_old");
  w.accept(5_000_000);
  assert.equal(w.check(5_000_000 - REPLAY_WINDOW_SIZE + 1), "fresh", "a big jump clears the window");
  assert.equal(w.check(5_000_000 - REPLAY_WINDOW_SIZE), "too_old");
  w.accept(0xffffffff);
  assert.equal(w.check(0xffffffff), "duplicate");
  assert.equal(w.check(0xfffffffe), "fresh");
});

test("window agrees with a model (a set of seen counters) on random traffic", () => {
  fc.assert(
    fc.property(fc.array(fc.nat(3000), { maxLength: 400 }), (counters) => {
      const w = new ReplayWindow();
      const seen = new Set<number>();
      let highest = -1;
      for (const c of counters) {
        const expected = seen.has(c) ? "duplicate" : highest - c >= REPLAY_WINDOW_SIZE ? "too_old" : "fresh";
        const got = w.check(c);
        // A counter both seen and below the window may be reported either way: both refuse it.
        if (expected === "duplicate" && highest - c >= REPLAY_WINDOW_SIZE) assert.notEqual(got, "fresh");
        else assert.equal(got, expected, `counter ${c}`);
        if (got === "fresh") {
          w.accept(c);
          seen.add(c);
          highest = Math.max(highest, c);
        }
      }
    }),
  );
});

test("table: unknown sender, fresh, new epoch, retired epoch", () => {
  const t = new SenderTable<string>(8);
  assert.equal(t.check(1, 0, 1, 0), "unknown_sender");
  t.accept(1, 0, 1, 0, "k1");
  assert.equal(t.keyOf(1), "k1");
  assert.equal(t.check(1, 0, 1, 0), "duplicate");
  assert.equal(t.check(1, 0, 1, 1), "fresh");
  assert.equal(t.check(1, 0, 2, 0), "new_epoch");
  t.accept(1, 0, 2, 0, "k1");
  assert.equal(t.check(1, 0, 1, 1), "retired_epoch");
  assert.equal(t.check(1, 0, 2, 1), "fresh");
});

test("table: at most RETIRED_EPOCHS_MAX old epochs are remembered per sender", () => {
  const t = new SenderTable<string>(8);
  for (let e = 0; e <= RETIRED_EPOCHS_MAX + 1; e++) t.accept(1, 7, e, 0, "k");
  // Current epoch is RETIRED_EPOCHS_MAX + 1; epochs 1..RETIRED_EPOCHS_MAX are retired, 0 forgotten.
  assert.equal(t.check(1, 7, 0, 5), "new_epoch");
  for (let e = 1; e <= RETIRED_EPOCHS_MAX; e++) assert.equal(t.check(1, 7, e, 5), "retired_epoch");
});

test("table: least recently heard sender evicted first", () => {
  const t = new SenderTable<number>(3);
  t.accept(1, 0, 0, 0, 1);
  t.accept(2, 0, 0, 0, 2);
  t.accept(3, 0, 0, 0, 3);
  t.accept(1, 0, 0, 1, 1); // 1 heard again: 2 is now the least recent
  t.accept(4, 0, 0, 0, 4);
  assert.equal(t.size, 3);
  assert.equal(t.evictions, 1);
  assert.equal(t.keyOf(2), undefined);
  assert.equal(t.keyOf(1), 1);
  assert.throws(() => new SenderTable(0), RangeError);
});
