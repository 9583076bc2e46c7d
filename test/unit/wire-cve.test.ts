/**
 * Regression tests for the remote-crash classes corosync has had on its receive path
 * (totem-spec §3.3–§3.7, §5.1, §5.5; background/failure-modes-and-testing.md): each hostile
 * frame is rejected with its specific DecodeError code, returned — never thrown — by the
 * wire layer's try-decoders.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeTotem, tryDecodeTotem } from "../../src/wire/totem/codec.js";
import { decodeGroupMessage, decodePgPacket, encodeGroupMessage, encodePgPacket, GROUP_A } from "../../src/wire/pg/packet.js";
import { tryDecode, type DecodeErrorCode } from "../../src/wire/errors.js";
import { MessageType, type Mcast } from "../../src/wire/totem/types.js";
import { resized, SAMPLE, withU16, withU32 } from "../golden/arbitraries.js";

function rejectedWith(bytes: Uint8Array, code: DecodeErrorCode, field: string): void {
  const res = tryDecodeTotem(bytes);
  assert.equal(res.ok, false, "the frame must be rejected");
  if (!res.ok) assert.deepEqual([res.error.code, res.error.field], [code, field], res.error.message);
}

test("ORF token with more than 30 rtr entries: COUNT_LIMIT (3.1.7 reads past its copy)", () => {
  const token = encodeTotem(SAMPLE.orfToken(0));
  for (const n of [31, 90]) {
    const bytes = resized(withU32(token, 53, n), 16 * n); // self-consistent length, ≤ 1500 bytes
    assert.ok(bytes.byteLength <= 1500);
    rejectedWith(bytes, "COUNT_LIMIT", "orf_token.rtr_list_entries");
  }
});

test("ORF token longer than 1500 bytes: TOO_LONG (copied into a 1500-byte buffer)", () => {
  const token = encodeTotem(SAMPLE.orfToken(0));
  rejectedWith(resized(token, 1501 - 57), "TOO_LONG", "orf_token");
  rejectedWith(resized(withU32(token, 53, 100), 1600), "TOO_LONG", "orf_token");
  rejectedWith(resized(withU32(token, 53, 4000), 16 * 4000), "TOO_LONG", "orf_token");
});

test("MEMB_JOIN whose proc+failed counts wrap in 32-bit arithmetic: COUNT_LIMIT", () => {
  // corosync 3.1.7 computes 33 + (p + f) * 4 in 32 bits: 0x40000000 + 0xC0000000 wraps to 0,
  // so a 33-byte frame passes its check and the handler walks 4 GiB of lists.
  const join = encodeTotem(SAMPLE.join(0, 0));
  assert.equal(join.byteLength, 33);
  rejectedWith(withU32(withU32(join, 17, 0x40000000), 21, 0xc0000000), "COUNT_LIMIT", "memb_join.proc_list_entries");
  rejectedWith(withU32(withU32(join, 17, 0), 21, 0xc0000000), "COUNT_LIMIT", "memb_join.failed_list_entries");
  rejectedWith(withU32(withU32(join, 17, 0xffffffff), 21, 1), "COUNT_LIMIT", "memb_join.proc_list_entries");
  // Each count within the limit but the frame too short for them: TRUNCATED, not a wrap.
  rejectedWith(withU32(withU32(join, 17, 384), 21, 384), "TRUNCATED", "memb_join");
});

test("commit token shorter than its member count implies: TRUNCATED (3.1.10 returned OK)", () => {
  const commit = encodeTotem(SAMPLE.commit(1, 0));
  rejectedWith(withU32(commit, 37, 3), "TRUNCATED", "memb_commit_token");
  rejectedWith(withU32(encodeTotem(SAMPLE.commit(0, 0)), 37, 384), "TRUNCATED", "memb_commit_token");
  // Shorter than even the fixed part.
  rejectedWith(commit.subarray(0, 40), "TRUNCATED", "memb_commit_token");
  // Negative count (the field is an int).
  rejectedWith(withU32(commit, 37, 0xffffffff), "BAD_VALUE", "memb_commit_token.addr_entries");
});

test("truncated MCAST: TRUNCATED", () => {
  const mcast = encodeTotem(SAMPLE.mcast(new Uint8Array(100)));
  for (const len of [13, 20, 44]) rejectedWith(mcast.subarray(0, len), "TRUNCATED", "mcast");
  rejectedWith(mcast.subarray(0, 12), "TRUNCATED", "header");
});

/** An MCAST frame around `payload`; the totempg layer is then decoded from its payload. */
function pgOutcome(payload: Uint8Array): DecodeErrorCode | "ok" {
  const res = tryDecodeTotem(encodeTotem(SAMPLE.mcast(payload)));
  assert.ok(res.ok && res.msg.type === MessageType.MCAST, "the mcast itself is well-formed");
  const pg = tryDecode(() => decodePgPacket((res.msg as Mcast).payload));
  return pg.ok ? "ok" : pg.error.code;
}

test("totempg lengths that exceed the frame: BAD_LENGTHS", () => {
  const packet = encodePgPacket(0, 0, [encodeGroupMessage(GROUP_A, new Uint8Array(20))]);
  assert.equal(pgOutcome(packet), "ok");
  assert.equal(pgOutcome(withU16(packet, 8, 0xffff)), "BAD_LENGTHS");
  assert.equal(pgOutcome(withU16(packet, 8, packet.length)), "BAD_LENGTHS");
  assert.equal(pgOutcome(packet.subarray(0, packet.length - 1)), "BAD_LENGTHS");
});

test("totempg msg_count larger than the frame can hold: COUNT_LIMIT", () => {
  const packet = encodePgPacket(0, 0, [encodeGroupMessage(GROUP_A, new Uint8Array(20))]);
  assert.equal(pgOutcome(withU16(packet, 6, 0xffff)), "COUNT_LIMIT");
  assert.equal(pgOutcome(withU16(packet, 6, ((packet.length - 8) >>> 1) + 1)), "COUNT_LIMIT");
  assert.equal(pgOutcome(withU16(packet.subarray(0, 9), 6, 1)), "COUNT_LIMIT");
});

test("group header with lengths past the end: BAD_LENGTHS; too many groups: COUNT_LIMIT", () => {
  const message = encodeGroupMessage(GROUP_A, Uint8Array.of(1, 2));
  const past = tryDecode(() => decodeGroupMessage(withU16(message, 2, 0xffff)));
  assert.ok(!past.ok && past.error.code === "BAD_LENGTHS");
  const manyNames = tryDecode(() => decodeGroupMessage(withU16(message, 0, 0xffff)));
  assert.ok(!manyNames.ok && manyNames.error.code === "COUNT_LIMIT");
  const tableCut = tryDecode(() => decodeGroupMessage(withU16(message, 0, 3)));
  assert.ok(!tableCut.ok && tableCut.error.code === "TRUNCATED");
});
