/**
 * The fuzz engine itself: cases replay from their seed, a non-typed exception and an oracle
 * violation are reported with everything needed to replay them, and the structure-aware
 * sweep contains the bad-input matrix (limits, limit+1, 2^31, 2^32−1, wrapping pairs,
 * every truncation).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DecodeError } from "../../src/wire/errors.js";
import { catchDecode, decoderTarget } from "./decoder.js";
import { fromHex, makeCase, replay, runTarget, toHex } from "./engine.js";
import { sweep } from "./fields.js";
import { totemTarget } from "./targets/wire.js";
import type { Field } from "./target.js";

test("a random case is a pure function of (seed, target, index)", () => {
  for (const i of [0, 1, 77, 12345]) {
    assert.deepEqual(makeCase(totemTarget, 9, i).bytes, makeCase(totemTarget, 9, i).bytes);
  }
  assert.notDeepEqual(makeCase(totemTarget, 9, 3).bytes, makeCase(totemTarget, 10, 3).bytes);
});

/** A decoder with a planted bug: a RangeError for inputs starting with 0xff. */
const buggy = decoderTarget({
  name: "buggy",
  about: "test",
  corpus: () => [Uint8Array.of(1, 2, 3, 4), Uint8Array.of(9, 9)],
  fields: (): Field[] => [{ name: "x.count", at: 0, width: 1, le: true, kind: "count", limit: 3 }],
  decode: (input, ctx) => {
    const r = catchDecode(() => {
      if (input.length === 0) throw new DecodeError("TRUNCATED", "x");
      if (input[0] === 0xff) throw new RangeError("planted");
      return input[0]!;
    });
    if (!r.ok) return r.code;
    ctx.check(r.value !== 0x80, "planted-oracle", () => "0x80 seen");
    return "ok";
  },
});

test("a non-typed exception and an oracle violation are failures with seed, case and hex; replay reproduces them", () => {
  const s = runTarget(buggy, { seed: 5, sweep: true, cases: 2000 });
  assert.ok(s.failureCount > 0);
  assert.ok(s.outcomes.get("TRUNCATED")! > 0, "typed errors are outcomes, not failures");
  const planted = s.failures.find((f) => f.error.startsWith("RangeError: planted"));
  const oracle = s.failures.find((f) => f.error.includes("[planted-oracle]"));
  assert.ok(planted !== undefined && oracle !== undefined, s.failures.map((f) => f.error).join("\n"));
  for (const f of [planted, oracle]) {
    assert.ok(f.source === "sweep" || f.source === "random");
    const again = replay(buggy, f.seed, f.source, f.index);
    assert.equal(again.failureCount, 1);
    assert.equal(again.failures[0]!.hex, f.hex);
    assert.equal(replay(buggy, 0, "hex", 0, f.hex).failureCount, 1);
  }
  assert.deepEqual(fromHex(toHex(Uint8Array.of(0, 255, 16))), Uint8Array.of(0, 255, 16));
});

test("the sweep holds every truncation, counts at limit/limit+1/2^31/2^32-1 and pairs that wrap in 32 bits", () => {
  const base = new Uint8Array(16);
  base[0] = 2; // p
  base[4] = 1; // f
  const fields: Field[] = [
    { name: "p", at: 0, width: 4, le: true, kind: "count", limit: 384, unit: 4, group: "g" },
    { name: "f", at: 4, width: 4, le: true, kind: "count", limit: 384, unit: 4, group: "g" },
  ];
  const vs = sweep(base, fields, 1 << 16);
  for (let n = 0; n < base.length; n++) assert.ok(vs.some((v) => v.how === `truncated to ${n}`));
  for (const v of [384, 385, 0x80000000, 0xffffffff]) assert.ok(vs.some((x) => x.how === `p=0x${v.toString(16)}`), `p=${v}`);
  assert.ok(vs.some((x) => x.how === "p=0x181+resized" && x.bytes.length === 16 + (385 - 2) * 4));
  const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
  const wraps = vs.filter((x) => x.how.startsWith("wrap "));
  assert.ok(wraps.length >= 4);
  assert.ok(wraps.some((w) => ((u32(w.bytes, 0) + u32(w.bytes, 4)) * 4) % 2 ** 32 === 12 && u32(w.bytes, 0) + u32(w.bytes, 4) > 384), "a pair whose 32-bit byte count equals the original");
});
