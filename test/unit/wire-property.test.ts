/**
 * Property tests of the wire codecs (style.md "Bytes are hostile"):
 *  - encode∘decode is the identity on valid messages of every type, within the limits;
 *  - decode∘encode reproduces canonical bytes (little-endian, encapsulated 0 outside MCAST)
 *    from non-canonical and big-endian renditions;
 *  - hostile input — arbitrary bytes, bit-flipped, truncated, spliced golden frames, counts
 *    inflated to the limit, limit+1, 2^31, 2^32−1 — never throws anything but DecodeError
 *    (through the Totem, totempg and group layers) and decodes quickly.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { performance } from "node:perf_hooks";
import { decodeTotem, encodeTotem, tryDecodeTotem } from "../../src/wire/totem/codec.js";
import { decodeGroupMessage, decodePgPacket, isWholePiece } from "../../src/wire/pg/packet.js";
import { DecodeError, tryDecode } from "../../src/wire/errors.js";
import { MessageType, type Mcast, type TotemMessage } from "../../src/wire/totem/types.js";
import * as arb from "../golden/arbitraries.js";
import { toBigEndian } from "../golden/byteswap.js";
import { loadFixtureFrames } from "../golden/frames.js";

const FIXTURE = loadFixtureFrames().map((f) => f.bytes);

// ---------------------------------------------------------------------------------------------
// Identity and canonical bytes
// ---------------------------------------------------------------------------------------------

const FAMILIES: Array<[string, fc.Arbitrary<TotemMessage>]> = [
  ["orf_token", arb.orfToken()],
  ["mcast (opaque payload)", arb.mcastOpaque()],
  ["mcast (totempg payload)", arb.mcastPg()],
  ["mcast (encapsulated)", arb.mcastEncapsulated()],
  ["memb_merge_detect", arb.mergeDetect()],
  ["memb_join", arb.membJoin()],
  ["memb_commit_token", arb.commitToken()],
  ["token_hold_cancel", arb.holdCancel()],
];

for (const [name, family] of FAMILIES) {
  test(`decode(encode(m)) = m for arbitrary valid ${name}`, () => {
    fc.assert(
      fc.property(family, (m) => {
        assert.deepEqual(decodeTotem(encodeTotem(m)), m);
      }),
      { numRuns: 200 },
    );
  });
}

test("encode(decode(b)) is canonical: any encapsulated byte outside MCAST re-encodes as 0", () => {
  const nonMcast = fc.oneof(arb.orfToken(), arb.mergeDetect(), arb.membJoin(20), arb.commitToken(20), arb.holdCancel());
  fc.assert(
    fc.property(nonMcast, fc.nat({ max: 255 }), (m, e) => {
      const canonical = encodeTotem(m);
      const odd = canonical.slice();
      odd[4] = e;
      assert.deepEqual(encodeTotem(decodeTotem(odd)), canonical);
    }),
  );
});

test("big-endian renditions decode to the same message; only an mcast stays big-endian", () => {
  const family = fc.oneof(arb.orfToken(), arb.mcastPg(), arb.mergeDetect(), arb.membJoin(20), arb.commitToken(20), arb.holdCancel());
  fc.assert(
    fc.property(family, (m) => {
      const le = encodeTotem(m);
      const be = toBigEndian(le);
      const back = decodeTotem(be);
      if (back.type === MessageType.MCAST) {
        const { payload: _p, bigEndian, ...rest } = back;
        const { payload: _q, ...want } = m as Mcast;
        assert.equal(bigEndian, true);
        assert.deepEqual(rest, want);
        assert.deepEqual(encodeTotem(back), be);
        assert.deepEqual(
          decodePgPacket(back.payload, false).pieces.length,
          decodePgPacket((m as Mcast).payload, true).pieces.length,
        );
      } else {
        assert.deepEqual(back, m);
        assert.deepEqual(encodeTotem(back), le);
      }
    }),
  );
});

// ---------------------------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------------------------

/** Decode through every layer; any exception other than DecodeError fails the test. */
class Prober {
  decodes = 0;
  elapsedMs = 0;
  maxMs = 0;
  readonly outcomes = new Map<string, number>();

  probe(bytes: Uint8Array): string {
    const t0 = performance.now();
    const outcome = this.decodeDeep(bytes);
    const dt = performance.now() - t0;
    this.decodes++;
    this.elapsedMs += dt;
    if (dt > this.maxMs) this.maxMs = dt;
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    return outcome;
  }

  private decodeDeep(bytes: Uint8Array): string {
    const res = tryDecodeTotem(bytes);
    if (!res.ok) return res.error.code;
    const msg = res.msg;
    if (msg.type !== MessageType.MCAST || msg.encapsulated !== 2) return "ok";
    const le = msg.bigEndian !== true;
    const pg = tryDecode(() => decodePgPacket(msg.payload, le));
    if (!pg.ok) return `pg:${pg.error.code}`;
    for (let i = 0; i < pg.value.pieces.length; i++) {
      if (!isWholePiece(pg.value, i)) continue;
      const gm = tryDecode(() => decodeGroupMessage(pg.value.pieces[i]!, le));
      if (!gm.ok) return `group:${gm.error.code}`;
    }
    return "ok";
  }

  /** Assert a generous average (1 ms per frame) and report the figures. */
  check(t: { diagnostic(msg: string): void }, label: string): void {
    const avgUs = (this.elapsedMs / this.decodes) * 1000;
    const outcomes = [...this.outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ");
    t.diagnostic(`${label}: ${this.decodes} decodes, avg ${avgUs.toFixed(2)} µs, max ${this.maxMs.toFixed(3)} ms; ${outcomes}`);
    assert.ok(avgUs < 1000, `average decode ${avgUs.toFixed(1)} µs`);
  }
}

test("arbitrary byte strings only ever yield DecodeError", (t) => {
  const p = new Prober();
  /** Random bytes of a length spread over 0..max (fast-check's default keeps arrays short). */
  const bytes = (max: number) =>
    fc
      .oneof(fc.nat({ max: 80 }), fc.nat({ max }))
      .chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
  fc.assert(fc.property(bytes(2000), (b) => void p.probe(b)), { numRuns: 2000 });
  // With a valid header in either byte order, so the type decoders see them.
  const withHeader = fc
    .tuple(fc.boolean(), fc.nat({ max: 7 }), fc.nat({ max: 3 }), bytes(1600))
    .map(([le, type, encap, body]) => Uint8Array.of(...(le ? [0x70, 0xc0] : [0xc0, 0x70]), 3, type, encap, ...body));
  fc.assert(fc.property(withHeader, (b) => void p.probe(b)), { numRuns: 5000 });
  p.check(t, "arbitrary");
});

test("golden frames truncated at every offset only ever yield DecodeError", (t) => {
  const p = new Prober();
  const shapes = new Map<string, Uint8Array>();
  for (const f of FIXTURE) shapes.set(`${f[3]}/${f.byteLength}/${f[4]}`, f);
  for (const f of shapes.values()) {
    assert.equal(p.probe(f), "ok");
    for (let len = 0; len < f.byteLength; len++) assert.notEqual(p.probe(f.subarray(0, len)), "ok", `cut at ${len}`);
  }
  p.check(t, `truncation (${shapes.size} shapes)`);
});

test("bit-flipped and spliced golden frames only ever yield DecodeError", (t) => {
  const p = new Prober();
  const frame = fc.constantFrom(...FIXTURE);
  const flipped = fc
    .tuple(frame, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 7 })), { minLength: 1, maxLength: 8 }))
    .map(([f, flips]) => {
      const b = f.slice();
      for (const [at, bit] of flips) b[at % b.length]! ^= 1 << bit;
      return b;
    });
  fc.assert(fc.property(flipped, (b) => void p.probe(b)), { numRuns: 5000 });
  const spliced = fc.tuple(frame, frame, fc.nat(), fc.nat()).map(([a, b, i, j]) => {
    const head = a.subarray(0, i % (a.length + 1));
    const tail = b.subarray(j % (b.length + 1));
    return Uint8Array.of(...head, ...tail);
  });
  fc.assert(fc.property(spliced, (b) => void p.probe(b)), { numRuns: 3000 });
  p.check(t, "flips and splices");
});

/** Offsets of every count field by Totem type (totem-spec §3.3–§3.7). */
const COUNT_OFFSETS: Record<number, number[]> = {
  [MessageType.ORF_TOKEN]: [53],
  [MessageType.MEMB_JOIN]: [17, 21],
  [MessageType.MEMB_COMMIT_TOKEN]: [33, 37],
};

test("counts inflated to the limit, limit+1, 2^31 and 2^32−1 are rejected or bounded", (t) => {
  const p = new Prober();
  const values = [0, 1, 30, 31, 383, 384, 385, 0x7fffffff, 0x80000000, 0xffffffff];
  const seen = new Set<string>();
  for (const f of FIXTURE) {
    const shape = `${f[3]}/${f.byteLength}`;
    if (seen.has(shape)) continue;
    seen.add(shape);
    for (const at of COUNT_OFFSETS[f[3]!] ?? []) {
      for (const v of values) {
        const b = arb.withU32(f, at, v);
        const outcome = p.probe(b);
        // The only inflated frames that decode are those whose count still matches the length.
        if (outcome === "ok") assert.deepEqual(encodeTotem(decodeTotem(b)), b);
        // Frames padded to what the count claims are rejected by a limit, not by arithmetic.
        if (v > 384) assert.notEqual(p.probe(arb.resized(b, Math.min(v, 100_000) * 4)), "ok");
      }
    }
    if (f[3] === MessageType.MCAST && f[4] === 2) {
      // totempg msg_count (payload offset 6) and the first piece's group_count.
      const groupAt = 45 + 8 + 2 * new DataView(f.buffer, f.byteOffset).getUint16(45 + 6, true);
      for (const v of [0, 1, 32, 33, 0x7fff, 0x8000, 0xffff]) {
        p.probe(arb.withU16(f, 45 + 6, v));
        p.probe(arb.withU16(f, 45 + 8, v));
        p.probe(arb.withU16(f, groupAt, v));
        p.probe(arb.withU16(f, groupAt + 2, v));
      }
    }
  }
  p.check(t, "inflated counts");
  assert.ok(p.outcomes.has("COUNT_LIMIT") && p.outcomes.has("pg:COUNT_LIMIT") && p.outcomes.has("group:COUNT_LIMIT"));
});

test("the prober itself reports a non-DecodeError", () => {
  assert.throws(() => tryDecode(() => { throw new RangeError("boom"); }), RangeError);
  assert.equal(tryDecode(() => { throw new DecodeError("TRUNCATED", "x"); }).ok, false);
});
