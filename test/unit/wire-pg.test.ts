/**
 * totempg framing (totem-spec §5.1) and the group header (§5.5): corosync's exact-length
 * rule, the bounds we add, byte order, and the one-allocation mcast encoder.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeGroupMessage,
  decodePgPacket,
  encodeGroupMessage,
  encodePgMcast,
  encodePgPacket,
  GROUP_A,
  GROUP_LIMITS,
  GROUP_SYNC,
  groupMatches,
  isWholePiece,
  pgPacketSize,
} from "../../src/wire/pg/packet.js";
import { decodeTotem, encodeMcast } from "../../src/wire/totem/codec.js";
import { DecodeError, type DecodeErrorCode } from "../../src/wire/errors.js";
import { AssertionError } from "../../src/core/assert.js";
import type { Mcast } from "../../src/wire/totem/types.js";
import { SAMPLE, withU16 } from "../golden/arbitraries.js";

function code(f: () => unknown): DecodeErrorCode {
  try {
    f();
  } catch (e) {
    if (e instanceof DecodeError) return e.code;
    throw e;
  }
  assert.fail("decoded");
}

const A = encodeGroupMessage(GROUP_A, Uint8Array.of(1, 2, 3));
const SYNC = encodeGroupMessage("sync", Uint8Array.of(4));

test("group messages: 'a' bodies start at offset 5, 'sync' bodies at offset 8", () => {
  assert.deepEqual([...A], [1, 0, 1, 0, 0x61, 1, 2, 3]);
  assert.deepEqual([...SYNC.subarray(0, 8)], [1, 0, 4, 0, 0x73, 0x79, 0x6e, 0x63]);
  const a = decodeGroupMessage(A);
  assert.ok(groupMatches(a, GROUP_A) && !groupMatches(a, GROUP_SYNC));
  assert.deepEqual([...a.body], [1, 2, 3]);
  assert.equal(a.body.buffer, A.buffer, "body is a view");
  const s = decodeGroupMessage(SYNC);
  assert.ok(groupMatches(s, GROUP_SYNC));
  const two = decodeGroupMessage(encodeGroupMessage(["a", GROUP_SYNC], new Uint8Array(0)));
  assert.deepEqual(two.groups.map((g) => [...g]), [[0x61], [...GROUP_SYNC]]);
  assert.equal(two.body.byteLength, 0);
});

test("group messages: counts bounded, lengths checked, byte order honoured", () => {
  assert.equal(code(() => decodeGroupMessage(Uint8Array.of(1))), "TRUNCATED");
  assert.equal(code(() => decodeGroupMessage(Uint8Array.of(2, 0, 1, 0))), "TRUNCATED");
  assert.equal(code(() => decodeGroupMessage(withU16(A, 0, 33))), "COUNT_LIMIT");
  assert.equal(code(() => decodeGroupMessage(withU16(A, 0, 0xffff))), "COUNT_LIMIT");
  assert.equal(code(() => decodeGroupMessage(withU16(A, 2, 5))), "BAD_LENGTHS");
  assert.equal(code(() => decodeGroupMessage(withU16(A, 2, 0xffff))), "BAD_LENGTHS");
  const exact = decodeGroupMessage(withU16(A, 2, 4)); // the name takes every remaining byte
  assert.deepEqual([exact.groups[0]!.byteLength, exact.body.byteLength], [4, 0]);
  const maxGroups = encodeGroupMessage(Array.from({ length: GROUP_LIMITS.groupCountMax }, () => "a"), new Uint8Array(0));
  assert.equal(decodeGroupMessage(maxGroups).groups.length, 32);
  const be = Uint8Array.of(0, 1, 0, 1, 0x61, 9);
  assert.deepEqual([...decodeGroupMessage(be, false).body], [9]);
  assert.throws(() => encodeGroupMessage([], A), AssertionError);
  assert.throws(() => encodeGroupMessage("é", A), AssertionError);
});

test("totempg packet: header, length table and pieces; pieces are views", () => {
  const bytes = encodePgPacket(0, 0, [A, SYNC]);
  assert.equal(bytes.byteLength, pgPacketSize([A, SYNC]));
  assert.deepEqual([...bytes.subarray(0, 12)], [0, 0, 0, 0, 0, 0, 2, 0, A.length, 0, SYNC.length, 0]);
  const p = decodePgPacket(bytes);
  assert.deepEqual(p, { version: 0, type: 0, fragmented: 0, continuation: 0, pieces: [A, SYNC] });
  assert.equal(p.pieces[1]!.buffer, bytes.buffer);
  assert.equal(p.pieces[1]!.byteOffset, bytes.byteOffset + 12 + A.length);
});

test("totempg packet: corosync's exact-length rule and our bounds", () => {
  const bytes = encodePgPacket(0, 0, [A, SYNC]);
  assert.equal(code(() => decodePgPacket(bytes.subarray(0, 7))), "TRUNCATED");
  assert.equal(code(() => decodePgPacket(bytes.subarray(0, bytes.length - 1))), "BAD_LENGTHS");
  assert.equal(code(() => decodePgPacket(Uint8Array.of(...bytes, 0))), "BAD_LENGTHS");
  assert.equal(code(() => decodePgPacket(withU16(bytes, 8, A.length + 1))), "BAD_LENGTHS");
  assert.equal(code(() => decodePgPacket(withU16(bytes, 8, 0xffff))), "BAD_LENGTHS");
  assert.equal(code(() => decodePgPacket(withU16(bytes, 6, 0))), "BAD_VALUE");
  // msg_count larger than the frame can hold length words for.
  const limit = (bytes.length - 8) >>> 1;
  assert.equal(code(() => decodePgPacket(withU16(bytes, 6, limit + 1))), "COUNT_LIMIT");
  assert.equal(code(() => decodePgPacket(withU16(bytes, 6, 0xffff))), "COUNT_LIMIT");
  assert.equal(code(() => decodePgPacket(withU16(bytes, 6, limit))), "BAD_LENGTHS");
  // version and type are ignored by corosync; we keep them.
  const odd = withU16(withU16(bytes, 0, 7), 2, 0xffff);
  assert.deepEqual([decodePgPacket(odd).version, decodePgPacket(odd).type], [7, -1]);
  // A zero-length piece is framing-valid (its group header would not be).
  assert.deepEqual(decodePgPacket(encodePgPacket(0, 0, [new Uint8Array(0)])).pieces, [new Uint8Array(0)]);
});

test("totempg packet: fragment roles of the first and last pieces", () => {
  const p = decodePgPacket(encodePgPacket(4, 3, [A, SYNC, A]));
  assert.deepEqual([p.fragmented, p.continuation], [4, 3]);
  assert.deepEqual([0, 1, 2].map((i) => isWholePiece(p, i)), [false, true, false]);
  const single = decodePgPacket(encodePgPacket(2, 1, [A]));
  assert.equal(isWholePiece(single, 0), false);
  assert.equal(isWholePiece(decodePgPacket(encodePgPacket(0, 0, [A])), 0), true);
});

test("totempg packet: big-endian lengths", () => {
  const be = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 2, 0xaa, 0xbb, 0xcc);
  const p = decodePgPacket(be, false);
  assert.deepEqual(p.pieces.map((x) => [...x]), [[0xaa], [0xbb, 0xcc]]);
  assert.equal(code(() => decodePgPacket(be, true)), "COUNT_LIMIT");
});

test("encodePgMcast equals encodeMcast(encodePgPacket(...)) and decodes back", () => {
  const fields = SAMPLE.mcast();
  const pieces = [A, SYNC, A];
  const one = encodePgMcast(fields, 1, 0, pieces);
  assert.deepEqual(one, encodeMcast(fields, encodePgPacket(1, 0, pieces)));
  const m = decodeTotem(one) as Mcast;
  assert.deepEqual(decodePgPacket(m.payload).pieces, pieces);
  assert.throws(() => encodePgMcast({ ...fields, bigEndian: true }, 0, 0, pieces), AssertionError);
  assert.throws(() => encodePgPacket(0, 0, []), AssertionError);
  assert.throws(() => encodePgPacket(256, 0, [A]), AssertionError);
  assert.throws(() => encodePgPacket(0, 0, [new Uint8Array(0x10000)]), AssertionError);
});
