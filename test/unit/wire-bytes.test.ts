/**
 * The hot-path byte helpers (src/wire/totem/bytes.ts) against DataView, the slab allocator's
 * independence of frames, and DecodeError's shape.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  allocFrame,
  readI16,
  readI32,
  readU16,
  readU32,
  readU64,
  view,
  writeU16LE,
  writeU32LE,
  writeU64LE,
} from "../../src/wire/totem/bytes.js";
import { DecodeError } from "../../src/wire/errors.js";

test("reads agree with DataView in both byte orders at any offset", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 8, maxLength: 24 }), fc.nat(), fc.boolean(), (b, at, le) => {
      const o = at % (b.length - 7);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      assert.equal(readU16(b, o, le), dv.getUint16(o, le));
      assert.equal(readI16(b, o, le), dv.getInt16(o, le));
      assert.equal(readU32(b, o, le), dv.getUint32(o, le));
      assert.equal(readI32(b, o, le), dv.getInt32(o, le));
      assert.equal(readU64(b, o, le), dv.getBigUint64(o, le));
    }),
  );
});

test("little-endian writes agree with DataView, u64 modulo 2^64", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -0x80000000, max: 0xffffffff }),
      fc.bigInt({ min: -(1n << 64n), max: (1n << 65n) }),
      (v, big) => {
        const b = new Uint8Array(14);
        writeU16LE(b, 0, v);
        writeU32LE(b, 2, v);
        writeU64LE(b, 6, big);
        const dv = new DataView(b.buffer);
        assert.equal(dv.getUint16(0, true), v & 0xffff);
        assert.equal(dv.getUint32(2, true), v >>> 0);
        assert.equal(dv.getBigUint64(6, true), BigInt.asUintN(64, big));
      },
    ),
  );
});

test("view shares memory and honours byteOffset", () => {
  const base = new Uint8Array(32).map((_, i) => i);
  const sub = base.subarray(4, 20);
  const v = view(sub, 2, 6);
  assert.deepEqual([...v], [6, 7, 8, 9]);
  v[0] = 99;
  assert.equal(base[6], 99);
  assert.deepEqual([...view(sub, 14)], [18, 19]);
});

test("allocFrame: zeroed, independent frames across slab boundaries; large frames alone", () => {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++) {
    const f = allocFrame(1 + (i % 700));
    assert.ok(f.every((x) => x === 0), "fresh frame is zero");
    f.fill(i & 0xff);
    frames.push(f);
  }
  frames.forEach((f, i) => assert.ok(f.every((x) => x === (i & 0xff)), `frame ${i} untouched`));
  const big = allocFrame(5000);
  assert.equal(big.byteOffset, 0);
  assert.equal(big.buffer.byteLength, 5000);
  assert.equal(allocFrame(0).byteLength, 0);
});

test("DecodeError: an Error with code, field and message", () => {
  const e = new DecodeError("TRUNCATED", "orf_token");
  assert.ok(e instanceof Error);
  assert.equal(e.name, "DecodeError");
  assert.equal(e.message, "TRUNCATED at orf_token");
  assert.equal(new DecodeError("BAD_MAGIC", "header.magic", "why").message, "why");
  assert.ok(Error.stackTraceLimit > 0, "the global stack limit is restored");
});
