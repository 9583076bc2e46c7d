import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { seqLt, seqLte, seqAdd } from "../../src/core/seq.js";

test("corosync sq_lt: the initial token aru 0xFFFFFFFF is below seq 0", () => {
  assert.equal(seqLt(0xffffffff, 0), true);
  assert.equal(seqLt(0, 0xffffffff), false);
  assert.equal(seqLte(0xffffffff, 0xffffffff), true);
});

test("plain comparison below 0x80000000", () => {
  assert.equal(seqLt(5, 7), true);
  assert.equal(seqLt(7, 5), false);
  assert.equal(seqLte(7, 7), true);
});

test("wrap region: values near 0xffffffff compare below small values after the shift", () => {
  assert.equal(seqLt(0xfffffff0, 0x10), true);
  assert.equal(seqLt(0x10, 0xfffffff0), false);
});

test("seqLt is irreflexive and seqLte is reflexive; seqAdd wraps", () => {
  fc.assert(
    fc.property(fc.nat({ max: 0xffffffff }), (a) => !seqLt(a, a) && seqLte(a, a)),
  );
  assert.equal(seqAdd(0xffffffff, 1), 0);
});

test("for a window of < 0x10000 around the wrap, a < a+k for small k", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0xffff0000, max: 0xffffffff }), fc.integer({ min: 1, max: 0xfff0 }), (a, k) =>
      seqLt(a, seqAdd(a, k)),
    ),
  );
});
