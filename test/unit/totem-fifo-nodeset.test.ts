/**
 * The bounded FIFO behind totemsrp's message queues (src/core/totem/fifo.ts) and the
 * processor-list set algebra of the membership protocol (src/core/totem/nodeset.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Fifo } from "../../src/core/totem/fifo.js";
import { hasDuplicates, isSubset, mergeInto, setEqual, sortedAscending, subtract } from "../../src/core/totem/nodeset.js";

test("Fifo: bounded push, FIFO order, avail and full", () => {
  const f = new Fifo<number>(3);
  assert.ok(f.isEmpty());
  assert.equal(f.avail(), 3);
  assert.ok(f.push(1) && f.push(2) && f.push(3));
  assert.ok(f.isFull());
  assert.equal(f.push(4), false, "a full queue refuses");
  assert.equal(f.length, 3);
  assert.equal(f.avail(), 0);
  assert.equal(f.peek(), 1);
  assert.equal(f.shift(), 1);
  assert.equal(f.avail(), 1);
  assert.ok(f.push(4));
  assert.deepEqual([...f], [2, 3, 4]);
  assert.equal(f.shift(), 2);
  assert.equal(f.shift(), 3);
  assert.equal(f.shift(), 4);
  assert.equal(f.shift(), undefined);
  assert.equal(f.peek(), undefined);
});

test("Fifo: pushUnbounded goes past the capacity; avail never goes negative", () => {
  const f = new Fifo<string>(1);
  assert.ok(f.push("a"));
  f.pushUnbounded("b");
  f.pushUnbounded("c");
  assert.equal(f.length, 3);
  assert.equal(f.avail(), 0);
  assert.ok(f.isFull());
  assert.equal(f.push("d"), false);
  assert.deepEqual([...f], ["a", "b", "c"]);
  f.clear();
  assert.ok(f.isEmpty());
  assert.ok(f.push("e"));
});

test("Fifo: property: any push/shift sequence matches an array model (compaction included)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3000 }),
      fc.array(fc.oneof(fc.constant("shift"), fc.constant("push"), fc.constant("force"), fc.integer({ min: 1, max: 1500 })), { maxLength: 60 }),
      (cap, ops) => {
        const f = new Fifo<number>(cap);
        const model: number[] = [];
        let next = 0;
        for (const o of ops) {
          if (o === "shift") {
            if (f.shift() !== model.shift()) return false;
          } else if (o === "push") {
            const ok = f.push(next);
            if (ok !== model.length < cap) return false;
            if (ok) model.push(next);
            next++;
          } else if (o === "force") {
            f.pushUnbounded(next);
            model.push(next++);
          } else {
            // a burst: fill then drain o items (crosses the 1024-shift compaction)
            for (let k = 0; k < o; k++) (f.pushUnbounded(next), model.push(next++));
            for (let k = 0; k < o; k++) if (f.shift() !== model.shift()) return false;
          }
          if (f.length !== model.length || f.peek() !== model[0] || f.avail() !== Math.max(0, cap - model.length)) return false;
        }
        return [...f].every((x, i) => x === model[i]) && [...f].length === model.length;
      },
    ),
    { numRuns: 200 },
  );
});

test("nodeset: equality and subset are set relations, whatever the order", () => {
  assert.ok(setEqual([1, 2, 3], [3, 1, 2]));
  assert.ok(!setEqual([1, 2], [1, 2, 3]));
  assert.ok(!setEqual([1, 2, 4], [1, 2, 3]));
  assert.ok(setEqual([], []));
  assert.ok(isSubset([], [1]));
  assert.ok(isSubset([3, 1], [1, 2, 3]));
  assert.ok(!isSubset([1, 4], [1, 2, 3]));
  assert.ok(!isSubset([1, 2], [1]));
});

test("nodeset: mergeInto appends only new members, in order; subtract keeps the first list's order", () => {
  const into = [5, 1];
  mergeInto(into, [1, 7, 5, 3, 7]);
  assert.deepEqual(into, [5, 1, 7, 3]);
  assert.deepEqual(subtract([9, 4, 7, 1], [7, 2]), [9, 4, 1]);
  assert.deepEqual(subtract([1, 2], []), [1, 2]);
  assert.ok(hasDuplicates([1, 2, 1]));
  assert.ok(!hasDuplicates([1, 2, 3]));
  const l = [3, 1, 2];
  assert.deepEqual(sortedAscending(l), [1, 2, 3]);
  assert.deepEqual(l, [3, 1, 2], "sortedAscending does not mutate");
  assert.deepEqual(sortedAscending([0xfffffffe, 10, 0x80000000]), [10, 0x80000000, 0xfffffffe], "numeric, not string, order");
});

test("nodeset: property: the list operations agree with Set semantics", () => {
  const ids = fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 12 });
  fc.assert(
    fc.property(ids, ids, (a, b) => {
      const A = new Set(a);
      const B = new Set(b);
      const eq = A.size === B.size && [...A].every((x) => B.has(x));
      const sub = [...A].every((x) => B.has(x));
      const merged = [...a];
      mergeInto(merged, b);
      const diff = subtract(a, b);
      return (
        setEqual(a, b) === eq &&
        isSubset(a, b) === sub &&
        !hasDuplicates(merged) &&
        merged.length === new Set([...a, ...b]).size &&
        merged.slice(0, a.length).every((x, i) => x === a[i]) &&
        diff.every((x) => A.has(x) && !B.has(x)) &&
        diff.length === [...A].filter((x) => !B.has(x)).length
      );
    }),
    { numRuns: 300 },
  );
});
