/**
 * Rule-by-rule tests of the Totem codec (totem-spec §3): header checks (§3.9), each type's
 * length and count rules with their DecodeError codes, byte order, encapsulation, encoders.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeEncapsulated,
  decodeTotem,
  describeForeignMagic,
  encodedSize,
  encodeMcast,
  encodeTotem,
  peekHeader,
  tryDecodeTotem,
} from "../../src/wire/totem/codec.js";
import { DecodeError, type DecodeErrorCode } from "../../src/wire/errors.js";
import { LIMITS, MessageType, SIZES, type Mcast, type TotemMessage } from "../../src/wire/totem/types.js";
import { AssertionError } from "../../src/core/assert.js";
import { encodeGroupMessage, encodePgPacket, GROUP_A } from "../../src/wire/pg/packet.js";
import { toBigEndian } from "../golden/byteswap.js";
import { resized, SAMPLE, withU32 } from "../golden/arbitraries.js";

function rejects(bytes: Uint8Array, code: DecodeErrorCode, field?: string): DecodeError {
  const res = tryDecodeTotem(bytes);
  assert.equal(res.ok, false, `expected ${code}, decoded`);
  if (res.ok) throw new Error("unreachable");
  assert.equal(res.error.code, code, `got ${res.error.code} at ${res.error.field}: ${res.error.message}`);
  if (field) assert.equal(res.error.field, field);
  assert.throws(() => decodeTotem(bytes), DecodeError);
  return res.error;
}

function roundTrips(msg: TotemMessage): Uint8Array {
  const bytes = encodeTotem(msg);
  assert.equal(bytes.byteLength, encodedSize(msg));
  assert.deepEqual(decodeTotem(bytes), msg);
  return bytes;
}

test("header: length, magic, version and type are checked in corosync's order", () => {
  const token = encodeTotem(SAMPLE.orfToken());
  rejects(token.subarray(0, 12), "TRUNCATED", "header");
  rejects(new Uint8Array(0), "TRUNCATED", "header");
  const badMagic = token.slice();
  badMagic[1] = 0xc1;
  rejects(badMagic, "BAD_MAGIC", "header.magic");
  const v2 = token.slice();
  v2[2] = 2;
  rejects(v2, "BAD_VERSION");
  const t6 = token.slice();
  t6[3] = 6;
  rejects(t6, "BAD_TYPE");
  t6[3] = 0xff;
  rejects(t6, "BAD_TYPE");
  // A short frame with a bad magic is TRUNCATED first, as in corosync.
  rejects(Uint8Array.of(0xff, 0xff, 3, 0), "TRUNCATED");
});

test("describeForeignMagic gives corosync's guesses", () => {
  const frame = (b0: number, b1: number) => Uint8Array.of(b0, b1, ...new Array<number>(20).fill(0));
  assert.equal(describeForeignMagic(frame(0xff, 0xff)), "Corosync 2.2");
  assert.equal(describeForeignMagic(frame(0xfe, 0xfe)), "Corosync 2.3+");
  assert.equal(describeForeignMagic(frame(0x01, 0x22)), "unencrypted Kronosnet");
  assert.equal(describeForeignMagic(frame(0x00, 0x00)), "unencrypted Corosync 2.0/2.1/1.x/OpenAIS");
  assert.equal(describeForeignMagic(frame(0x05, 0x99)), "unencrypted Corosync 2.0/2.1/1.x/OpenAIS");
  assert.equal(describeForeignMagic(frame(0x06, 0x00)), "encrypted Kronosnet/Corosync 2.0/2.1/1.x/OpenAIS or unknown");
  assert.equal(describeForeignMagic(frame(0xa7, 0x31)), "encrypted Kronosnet/Corosync 2.0/2.1/1.x/OpenAIS or unknown");
  const e = rejects(frame(0xfe, 0xfe), "BAD_MAGIC");
  assert.match(e.message, /Corosync 2\.3\+/);
});

test("peekHeader reads type, node ids, encapsulation and byte order without a full decode", () => {
  const m = { ...SAMPLE.mcast(), nodeId: 0x01020304, targetNodeId: 0xdeadbeef };
  const le = encodeTotem(m);
  assert.deepEqual(peekHeader(le), { type: 1, encapsulated: 2, nodeId: 0x01020304, targetNodeId: 0xdeadbeef, littleEndian: true });
  assert.deepEqual(peekHeader(toBigEndian(le)), { type: 1, encapsulated: 2, nodeId: 0x01020304, targetNodeId: 0xdeadbeef, littleEndian: false });
  // peekHeader does not look at the body: a truncated mcast still peeks.
  assert.equal(peekHeader(le.subarray(0, 13)).type, MessageType.MCAST);
  assert.throws(() => peekHeader(le.subarray(0, 12)), DecodeError);
});

test("ORF token: 57 + 16n bytes, n in 0..30, at most 1500 bytes", () => {
  roundTrips(SAMPLE.orfToken(0));
  const full = roundTrips(SAMPLE.orfToken(30));
  assert.equal(full.byteLength, 57 + 16 * 30);
  const t0 = encodeTotem(SAMPLE.orfToken(0));
  rejects(t0.subarray(0, 56), "TRUNCATED", "orf_token");
  rejects(resized(t0, 1), "TRAILING_BYTES");
  rejects(withU32(t0, 53, 1), "TRUNCATED"); // claims 1 entry, has none
  rejects(resized(withU32(t0, 53, 31), 16 * 31), "COUNT_LIMIT", "orf_token.rtr_list_entries");
  rejects(withU32(t0, 53, -1), "BAD_VALUE", "orf_token.rtr_list_entries");
  rejects(withU32(t0, 53, 0x80000000), "BAD_VALUE");
  rejects(resized(t0, 1500 - 57), "TRAILING_BYTES");
  rejects(resized(t0, 1501 - 57), "TOO_LONG", "orf_token");
});

test("ORF token: the int fields decode signed, the rest unsigned", () => {
  const t = { ...SAMPLE.orfToken(1), aru: 0xffffffff, retransFlg: -1, backlog: 0x80000000, ringId: { rep: 0xffffffff, seq: (1n << 64n) - 1n } };
  roundTrips(t);
});

test("MCAST: at least 45 bytes, at most 65536, encapsulated 1 or 2, payload is a view", () => {
  const bytes = roundTrips(SAMPLE.mcast(Uint8Array.of(1, 2, 3)));
  const m = decodeTotem(bytes) as Mcast;
  assert.equal(m.payload.buffer, bytes.buffer, "payload shares the frame's buffer");
  assert.equal(m.payload.byteOffset, bytes.byteOffset + 45);
  roundTrips(SAMPLE.mcast(new Uint8Array(0)));
  rejects(bytes.subarray(0, 44), "TRUNCATED", "mcast");
  const max = encodeMcast(SAMPLE.mcast(), new Uint8Array(LIMITS.mcastBytesMax - 45));
  assert.equal(decodeTotem(max).type, MessageType.MCAST);
  rejects(resized(max, 1), "TOO_LONG", "mcast");
  for (const e of [0, 3, 255]) {
    const b = bytes.slice();
    b[4] = e;
    rejects(b, "BAD_VALUE", "mcast.header.encapsulated");
  }
});

test("MCAST: a recovery copy carries a whole normal mcast, in its own byte order", () => {
  const inner = { ...SAMPLE.mcast(Uint8Array.of(9, 9)), nodeId: 3, systemFrom: 3, ringId: { rep: 1, seq: 0x10n } };
  const { type: _t, payload, ...innerFields } = inner;
  for (const innerBytes of [encodeTotem(inner), toBigEndian(encodeTotem({ ...inner, payload: encodePgPacket(0, 0, [encodeGroupMessage(GROUP_A, Uint8Array.of(7))]) }))]) {
    const outer: Mcast = { ...SAMPLE.mcast(innerBytes), encapsulated: 1 };
    const decoded = decodeTotem(roundTrips(outer)) as Mcast;
    const got = decodeEncapsulated(decoded);
    assert.equal(got.nodeId, 3);
    assert.deepEqual(got.ringId, inner.ringId);
    assert.equal(got.bigEndian, innerBytes[0] === 0xc0 ? true : undefined);
  }
  const good = encodeMcast({ ...innerFields }, payload);
  const wrap = (b: Uint8Array) => encodeTotem({ ...SAMPLE.mcast(b), encapsulated: 1 });
  rejects(wrap(good.subarray(0, 44)), "TRUNCATED", "mcast.encapsulated");
  rejects(wrap(new Uint8Array(0)), "TRUNCATED", "header");
  const nested = good.slice();
  nested[4] = 1;
  rejects(wrap(nested), "BAD_VALUE", "mcast.encapsulated.encapsulated");
  rejects(wrap(encodeTotem(SAMPLE.holdCancel())), "BAD_VALUE", "mcast.encapsulated.type");
  const badMagic = good.slice();
  badMagic[0] = 0;
  rejects(wrap(badMagic), "BAD_MAGIC");
  assert.throws(() => decodeEncapsulated(SAMPLE.mcast()), DecodeError);
});

test("MEMB_MERGE_DETECT and TOKEN_HOLD_CANCEL have exact lengths", () => {
  const md = roundTrips(SAMPLE.mergeDetect());
  assert.equal(md.byteLength, SIZES.mergeDetect);
  rejects(md.subarray(0, 28), "TRUNCATED");
  rejects(resized(md, 1), "TRAILING_BYTES");
  const hc = roundTrips(SAMPLE.holdCancel());
  assert.equal(hc.byteLength, SIZES.holdCancel);
  rejects(hc.subarray(0, 24), "TRUNCATED");
  rejects(resized(hc, 1), "TRAILING_BYTES");
});

test("MEMB_JOIN: 33 + 4(p+f) bytes, p and f each at most 384; a LEAVE has nodeid 0", () => {
  roundTrips(SAMPLE.join(0, 0));
  roundTrips({ ...SAMPLE.join(2, 1), nodeId: 0 });
  const full = roundTrips(SAMPLE.join(384, 384));
  assert.equal(full.byteLength, 33 + 4 * 768);
  const j = encodeTotem(SAMPLE.join(3, 1));
  rejects(j.subarray(0, 32), "TRUNCATED", "memb_join");
  rejects(j.subarray(0, j.byteLength - 1), "TRUNCATED", "memb_join");
  rejects(resized(j, 4), "TRAILING_BYTES");
  rejects(withU32(j, 17, 385), "COUNT_LIMIT", "memb_join.proc_list_entries");
  rejects(withU32(j, 21, 385), "COUNT_LIMIT", "memb_join.failed_list_entries");
  rejects(withU32(j, 21, 0xffffffff), "COUNT_LIMIT");
});

test("MEMB_COMMIT_TOKEN: 41 + 28n bytes, n in 0..384, memb_index in 0..n", () => {
  roundTrips(SAMPLE.commit(0, 0));
  roundTrips(SAMPLE.commit(3, 3));
  roundTrips(SAMPLE.commit(384, 0));
  const c = encodeTotem(SAMPLE.commit(3, 1));
  assert.equal(c.byteLength, 41 + 28 * 3);
  rejects(c.subarray(0, 40), "TRUNCATED", "memb_commit_token");
  rejects(c.subarray(0, c.byteLength - 24), "TRUNCATED");
  rejects(resized(c, 1), "TRAILING_BYTES");
  rejects(withU32(c, 37, 385), "COUNT_LIMIT", "memb_commit_token.addr_entries");
  rejects(withU32(c, 37, -1), "BAD_VALUE", "memb_commit_token.addr_entries");
  rejects(withU32(c, 33, 4), "BAD_VALUE", "memb_commit_token.memb_index");
  rejects(withU32(c, 33, -1), "BAD_VALUE", "memb_commit_token.memb_index");
});

test("non-MCAST frames: a non-zero encapsulated byte is accepted and re-encoded as 0", () => {
  const md = encodeTotem(SAMPLE.mergeDetect());
  const odd = md.slice();
  odd[4] = 7;
  assert.deepEqual(encodeTotem(decodeTotem(odd)), md);
});

test("big-endian frames decode to the same message and re-encode little-endian", () => {
  const msgs: TotemMessage[] = [
    SAMPLE.orfToken(2),
    SAMPLE.mergeDetect(),
    SAMPLE.join(3, 2),
    SAMPLE.commit(3, 2),
    SAMPLE.holdCancel(),
  ];
  for (const m of msgs) {
    const le = encodeTotem(m);
    const be = toBigEndian(le);
    assert.deepEqual(decodeTotem(be), m);
    assert.deepEqual(encodeTotem(decodeTotem(be)), le);
  }
  // Count checks happen after the byte swap.
  const be = toBigEndian(encodeTotem(SAMPLE.orfToken(0)));
  be.set([0, 0, 0, 31], 53);
  assert.equal((tryDecodeTotem(resized(be, 16 * 31)) as { error: DecodeError }).error.code, "COUNT_LIMIT");
});

test("encoders assert the limits a peer relies on", () => {
  assert.throws(() => encodeTotem(SAMPLE.orfToken(31)), AssertionError);
  assert.throws(() => encodeTotem(SAMPLE.join(385, 0)), AssertionError);
  assert.throws(() => encodeTotem(SAMPLE.commit(3, 4)), AssertionError);
  assert.throws(() => encodeTotem({ ...SAMPLE.commit(3, 1), membList: [] }), AssertionError);
  assert.throws(() => encodeTotem(SAMPLE.mcast(new Uint8Array(LIMITS.mcastBytesMax - 44))), AssertionError);
  assert.throws(() => encodeTotem({ ...SAMPLE.mcast(), encapsulated: 0 }), AssertionError);
});

test("a decoded frame's target_nodeid garbage is kept for an exact re-encode", () => {
  // An initial ORF token as captured from corosync 3.1.7 (target_nodeid = 0x01000000).
  const hex =
    "70c003000001000000000000010e000000720000000e0000000000000001000000110000000000000000000000000000000000000000000000";
  const bytes = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  const t = decodeTotem(bytes);
  assert.equal(t.targetNodeId, 0x01000000);
  assert.deepEqual(encodeTotem(t), bytes);
});
