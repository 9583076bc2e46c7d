/**
 * The knet frame codec (src/wire/knet/frame.ts): the spec's worked examples, every rule of
 * `decodeKnetFrame`, timestamps, and properties — encode∘decode is the identity on every
 * valid frame, and no byte string makes the decoder throw.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  KNET_DATA_HEADER_SIZE,
  KNET_PING_SIZE,
  KnetType,
  decodeKnetFrame,
  encodeKnetFrame,
  readTimespecMs,
  writePing,
  writeTimespec,
  type KnetFrame,
} from "../../src/wire/knet/frame.js";
import { bytesToHex, hexToBytes } from "../golden/frames.js";

function decode(hex: string): KnetFrame {
  const r = decodeKnetFrame(hexToBytes(hex.replace(/[ |]/g, "")));
  assert.ok(r.ok, r.ok ? "" : r.error.message);
  return r.value;
}

function failCode(bytes: Uint8Array): string {
  const r = decodeKnetFrame(bytes);
  assert.equal(r.ok, false);
  return r.ok ? "" : r.error.code;
}

test("knet-spec §3.2: an ORF token in a DATA frame from host 1, seq 55, unicast", () => {
  const f = decode("01 00 0001 0000 | 0037 00 00 00 01 00 00 | 70c0 03 00 00 01000000 02000000 0f000000");
  assert.equal(f.type, KnetType.DATA);
  if (f.type !== KnetType.DATA) return;
  assert.deepEqual([f.hostId, f.seq, f.bcast, f.fragNum, f.fragSeq, f.channel, f.payload.byteLength], [1, 55, 0, 1, 0, 0, 17]);
  assert.equal(bytesToHex(f.payload.subarray(0, 2)), "70c0");
});

test("knet-spec §3.3: a PING and its PONG differ only in type and host id", () => {
  const ping = decode("01 81 0002 0000 | 00 | b80f000000000000 6d59840800000000 | 0036 | 01");
  const pong = decode("01 82 0003 0000 | 00 | b80f000000000000 6d59840800000000 | 0036 | 01");
  assert.equal(ping.type, KnetType.PING);
  assert.equal(pong.type, KnetType.PONG);
  if (ping.type !== KnetType.PING || pong.type !== KnetType.PONG) return;
  assert.deepEqual([ping.hostId, ping.link, ping.seq, ping.timed], [2, 0, 0x36, 1]);
  assert.equal(readTimespecMs(ping.time, 0), 4024 * 1000 + 142_891_373 / 1e6);
  assert.deepEqual(pong.time, ping.time);
});

test("knet-spec §3.4: a PMTUd probe of 1500 and its 9-byte reply", () => {
  const probe = new Uint8Array(1472);
  probe.set(hexToBytes("01830001000000dc05"), 0);
  const f = decodeKnetFrame(probe);
  assert.ok(f.ok && f.value.type === KnetType.PMTUD && f.value.size === 1500 && f.value.fill.byteLength === 1463);
  const reply = decode("01 84 0002 0000 00 dc05");
  assert.ok(reply.type === KnetType.PMTUD_REPLY && reply.size === 1500 && reply.hostId === 2);
});

test("decoder rules: length, version, type, fragments, exact control sizes", () => {
  assert.equal(failCode(hexToBytes("010000010000")), "TRUNCATED", "6 bytes");
  assert.equal(failCode(hexToBytes("02000001000000")), "BAD_VERSION");
  assert.equal(failCode(hexToBytes("01050001000000")), "BAD_TYPE");
  assert.equal(failCode(hexToBytes("0100000100000001000000010000")), "TRUNCATED", "DATA without user data");
  assert.equal(failCode(hexToBytes("010000010000000100000000000041")), "BAD_VALUE", "frag_num 0");
  assert.equal(failCode(hexToBytes("010000010000000100000002000041")), "BAD_VALUE", "fragment 0 of 2");
  assert.equal(failCode(hexToBytes("010000010000000100000002030041")), "BAD_VALUE", "fragment 3 of 2");
  assert.equal(failCode(new Uint8Array(25).fill(0x81).fill(1, 0, 1)), "TRUNCATED", "25-byte ping");
  const long = new Uint8Array(27);
  long.set([1, 0x82]);
  assert.equal(failCode(long), "TRAILING_BYTES", "27-byte pong");
  assert.equal(failCode(hexToBytes("0183000100000000")), "TRUNCATED", "8-byte probe");
  assert.equal(failCode(hexToBytes("01840001000000dc0500")), "TRAILING_BYTES", "10-byte PMTUd reply");
  // Not fragmented: frag_seq is carried but not checked (knet ignores it).
  const f = decode("0100000100000001000000010700 41");
  assert.ok(f.type === KnetType.DATA && f.fragSeq === 7);
  // knet 2.x puts its max on-wire version in byte 4: accepted, kept, re-encoded.
  const v2 = decode("01 00 0001 0200 0001 00 00 01 01 00 00 41");
  assert.equal(v2.maxVer, 2);
  assert.equal(bytesToHex(encodeKnetFrame(v2)), "01000001020000010000010100 0041".replace(/ /g, ""));
});

test("timestamps: our monotonic milliseconds survive a ping round trip to the microsecond", () => {
  const b = new Uint8Array(KNET_PING_SIZE);
  for (const ms of [0, 0.001, 912.5, 4024142.891373, 86_400_000 * 365.25 * 30 + 0.25]) {
    writePing(b, 0, KnetType.PING, 7, 3, ms, 65535, 1);
    const f = decodeKnetFrame(b);
    assert.ok(f.ok && f.value.type === KnetType.PING);
    if (!f.ok || f.value.type !== KnetType.PING) return;
    assert.ok(Math.abs(readTimespecMs(f.value.time, 0)! - ms) < 1e-3, `${ms}`);
    assert.deepEqual([f.value.hostId, f.value.link, f.value.seq, f.value.timed], [7, 3, 65535, 1]);
  }
  const t = new Uint8Array(16);
  writeTimespec(t, 0, 1000);
  t[15] = 0x80; // a negative tv_nsec
  assert.equal(readTimespecMs(t, 0), undefined);
  t.fill(0xff);
  assert.equal(readTimespecMs(t, 0), undefined, "negative seconds");
});

const header = fc.record({ hostId: fc.integer({ min: 0, max: 0xffff }), maxVer: fc.nat({ max: 255 }), pad: fc.nat({ max: 255 }) });
const frames: fc.Arbitrary<KnetFrame> = fc.oneof(
  fc.tuple(header, fc.integer({ min: 0, max: 0xffff }), fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.integer({ min: 1, max: 255 }), fc.integer({ min: -128, max: 127 }), fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat()).map(
    ([h, seq, compress, dataPad, bcast, fragNum, channel, payload, r]): KnetFrame => ({ type: KnetType.DATA, ...h, seq, compress, dataPad, bcast, fragNum, fragSeq: fragNum === 1 ? r % 256 : 1 + (r % fragNum), channel, payload }),
  ),
  fc.tuple(header, fc.constantFrom(KnetType.PING, KnetType.PONG), fc.nat({ max: 255 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 0xffff }), fc.nat({ max: 255 })).map(
    ([h, type, link, time, seq, timed]): KnetFrame => ({ type, ...h, link, time, seq, timed }),
  ),
  fc.tuple(header, fc.nat({ max: 255 }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 64 })).map(([h, link, size, fill]): KnetFrame => ({ type: KnetType.PMTUD, ...h, link, size, fill })),
  fc.tuple(header, fc.nat({ max: 255 }), fc.integer({ min: 0, max: 0xffff })).map(([h, link, size]): KnetFrame => ({ type: KnetType.PMTUD_REPLY, ...h, link, size })),
);

test("property: decode(encode(f)) = f and encode(decode(b)) = b for every valid frame", () => {
  fc.assert(
    fc.property(frames, (f) => {
      const bytes = encodeKnetFrame(f);
      const d = decodeKnetFrame(bytes);
      assert.ok(d.ok, d.ok ? "" : d.error.message);
      assert.deepEqual(d.value, f);
      assert.deepEqual(encodeKnetFrame(d.value), bytes);
    }),
    { numRuns: 500 },
  );
});

test("property: no byte string makes the decoder throw (mangled frames included)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
      decodeKnetFrame(b);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(frames, fc.nat(), fc.nat({ max: 255 }), fc.nat(), (f, at, v, cut) => {
      const b = encodeKnetFrame(f);
      b[at % b.length] = v;
      decodeKnetFrame(b);
      decodeKnetFrame(b.subarray(0, cut % (b.length + 1)));
    }),
    { numRuns: 1000 },
  );
  assert.equal(KNET_DATA_HEADER_SIZE, 14);
});
