/**
 * Property tests of the secauth envelope (style.md "Bytes are hostile"): arbitrary frames round
 * trip in every suite; arbitrary bytes, and mutations of real datagrams, never throw and are
 * never accepted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { ENVELOPE_MAGIC, createEnvelope, type Envelope } from "../../src/crypto/envelope.js";
import { SUITES, type EnvelopeMode } from "../../src/crypto/suite.js";

const KEY = randomBytes(200);
const MODES: EnvelopeMode[] = [
  { cipher: "aes256", hash: "sha256" },
  { cipher: "aes192", hash: "sha1" },
  { cipher: "aes128", hash: "sha512" },
  { cipher: "chacha20", hash: "sha384" },
  { cipher: "none", hash: "md5" },
  { cipher: "none", hash: "sha1" },
  { cipher: "none", hash: "sha256" },
  { cipher: "none", hash: "sha384" },
  { cipher: "none", hash: "sha512" },
];

function pair(mode: EnvelopeMode): { tx: Envelope; rx: Envelope } {
  return {
    tx: createEnvelope({ mode, key: KEY, clusterName: "prop", nodeId: 11 }),
    rx: createEnvelope({ mode, key: KEY, clusterName: "prop", nodeId: 12 }),
  };
}

test("arbitrary frames round trip in every suite", () => {
  assert.equal(MODES.length, SUITES.length);
  for (const mode of MODES) {
    const { tx, rx } = pair(mode);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (f) => {
        const r = rx.open(tx.seal(f));
        assert.ok(r.ok);
        assert.deepEqual(Uint8Array.from(r.frame), f);
      }),
      { numRuns: 200 },
    );
  }
});

/** Bytes that often look like an envelope header, so the deeper checks are reached too. */
const hostile = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.tuple(fc.constantFrom(0x01, 0x02, 0x03, 0x04, 0x11, 0x13, 0x15, 0x00, 0xff), fc.uint8Array({ maxLength: 200 })).map(
    ([suite, rest]) => Uint8Array.from([ENVELOPE_MAGIC[0], ENVELOPE_MAGIC[1], 1, suite, ...rest]),
  ),
  fc.uint8Array({ maxLength: 100 }).map((rest) => Uint8Array.from([0x70, 0xc0, ...rest])),
);

test("arbitrary bytes never throw and are never accepted", () => {
  for (const mode of MODES) {
    const { rx } = pair(mode);
    fc.assert(
      fc.property(hostile, (d) => {
        assert.equal(rx.open(d).ok, false);
      }),
      { numRuns: 300 },
    );
    assert.equal(rx.stats.senders, 0);
  }
});

test("mutated real datagrams (bit flips, splices, truncations) never throw and are never accepted", () => {
  for (const mode of [MODES[0]!, MODES[3]!, MODES[6]!]) {
    const { tx, rx } = pair(mode);
    const mutation = fc.record({
      frame: fc.uint8Array({ maxLength: 300 }),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      extra: fc.uint8Array({ maxLength: 8 }),
    });
    fc.assert(
      fc.property(mutation, ({ frame, flips, cut, extra }) => {
        const sealed = tx.seal(frame);
        const d = Uint8Array.from(sealed);
        for (const [at, x] of flips) d[at % d.length]! ^= x;
        const cutAt = cut === undefined ? d.length : cut % (d.length + 1);
        const m = Uint8Array.from([...d.subarray(0, cutAt), ...extra]);
        fc.pre(!Buffer.from(m).equals(Buffer.from(sealed))); // two flips of one byte may cancel
        assert.equal(rx.open(m).ok, false);
      }),
      { numRuns: 300 },
    );
  }
});
