/**
 * The secauth envelope's receive side, `createEnvelope().open`: forged, mutated, truncated,
 * replayed and reordered datagrams, from senders the receiver knows and from ever-new node
 * ids. Oracles: `open` never throws; it accepts only datagrams some sender really sealed
 * (no forgery), each at most once per receiver (no replay), and hands back exactly the
 * sealed frame; the sender table stays within `maxSenders`.
 */
import { createEnvelope, HEADER_BYTES, TAG_BYTES, type Envelope, type EnvelopeMode } from "../../../src/crypto/envelope.js";
import type { Prng } from "../../../sim/prng.js";
import { totemFrames } from "../corpus.js";
import { bytesEqual } from "../decoder.js";
import { toHex } from "../engine.js";
import type { Field, FuzzTarget } from "../target.js";
import { memo } from "./layers.js";

const KEY = Uint8Array.from({ length: 256 }, (_, i) => (i * 131 + 7) & 0xff);
const MODES: EnvelopeMode[] = [
  { cipher: "aes256", hash: "sha256" },
  { cipher: "none", hash: "sha256" },
];
/** The receiver's sender table limit (small, so eviction happens). */
const MAX_SENDERS = 16;

/** Every datagram a legitimate sender sealed in this process: hex → the frame it carries. */
const sealed = new Map<string, Uint8Array>();
const SEALED_MAX = 200_000;

function remember(datagram: Uint8Array, frame: Uint8Array): Uint8Array {
  if (sealed.size >= SEALED_MAX) sealed.delete(sealed.keys().next().value as string);
  sealed.set(toHex(datagram), frame.slice());
  return datagram;
}

/** A deterministic epoch source (the envelope draws 8 random bytes per epoch). */
function fixedRandom(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0;
  return (n) =>
    Uint8Array.from({ length: n }, () => {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      return x >>> 24;
    });
}

function sender(mode: EnvelopeMode, nodeId: number, epochSeed: number, initialCounter = 0): Envelope {
  return createEnvelope({ mode, key: KEY, clusterName: "fuzz", nodeId, random: fixedRandom(epochSeed), initialCounter });
}

/** Input byte 0 selects the mode (bit 0), the datagram follows. */
function withMode(modeIndex: number, datagram: Uint8Array): Uint8Array {
  const out = new Uint8Array(datagram.byteLength + 1);
  out[0] = modeIndex;
  out.set(datagram, 1);
  return out;
}

function corpus(): Uint8Array[] {
  const frames = totemFrames().filter((_, i) => i % 5 === 0);
  const out: Uint8Array[] = [];
  MODES.forEach((mode, mi) => {
    const senders = [1, 2, 3, 0xffffffff].map((id) => sender(mode, id, id * 7 + mi));
    frames.forEach((f, i) => {
      const s = senders[i % senders.length]!;
      out.push(withMode(mi, remember(s.seal(f), f)));
    });
  });
  return out;
}

/** Fresh datagrams: new and old node ids, counters near the window's edges and the u32 end. */
function generate(rng: Prng): Uint8Array {
  const mi = rng.int(0, MODES.length - 1);
  const nodeId = rng.chance(0.6) ? rng.int(1, 40) : rng.chance(0.5) ? 0xffffffff : rng.u32() || 1;
  const counter = rng.pick([0, 1, 1023, 1024, 1025, 0x7fffffff, 0xfffffffe, 0xffffffff, rng.u32()]);
  const s = sender(MODES[mi]!, nodeId, rng.int(0, 3), counter);
  const frame = rng.pick(totemFrames());
  const d = remember(s.seal(frame), frame);
  return withMode(mi, d);
}

function fields(b: Uint8Array): Field[] {
  if (b.byteLength < 1 + HEADER_BYTES) return [];
  return [
    { name: "mode", at: 0, width: 1, le: true, kind: "enum", valid: [0, 1] },
    { name: "envelope.magic", at: 1, width: 2, le: false, kind: "enum", valid: [0x5eca] },
    { name: "envelope.version", at: 3, width: 1, le: false, kind: "enum", valid: [1] },
    { name: "envelope.suite", at: 4, width: 1, le: false, kind: "enum", valid: [0x01, 0x02, 0x03, 0x04, 0x11, 0x12, 0x13, 0x14, 0x15] },
    { name: "envelope.nodeid", at: 5, width: 4, le: false, kind: "value" },
    { name: "envelope.epoch", at: 9, width: 8, le: false, kind: "value" },
    { name: "envelope.counter", at: 17, width: 4, le: false, kind: "value" },
  ];
}

export const envelopeTarget: FuzzTarget = {
  name: "envelope",
  about: "createEnvelope().open: forged, mutated, replayed datagrams; no forgery, no replay, never throws, bounded sender table",
  episode: 2000,
  maxBytes: 4096,
  avgBudgetUs: 1000,
  corpus: memo(corpus),
  fields,
  generate,
  open(_rng, ctx) {
    const receivers = MODES.map((mode) => createEnvelope({ mode, key: KEY, clusterName: "fuzz", nodeId: 100, maxSenders: MAX_SENDERS, random: fixedRandom(100) }));
    // Datagram → the receiver's eviction count when it was accepted: accepting it again is a
    // replay unless its sender was evicted meanwhile (documented in docs/secauth.md "Replays").
    const accepted = new Map<string, number>();
    return {
      feed(input) {
        const rx = receivers[(input[0] ?? 0) & 1]!;
        const datagram = input.subarray(Math.min(1, input.byteLength));
        const r = rx.open(datagram);
        ctx.check(rx.stats.senders <= MAX_SENDERS, "envelope-senders", () => `${rx.stats.senders} senders tracked (max ${MAX_SENDERS})`);
        if (!r.ok) return r.reason;
        const hex = toHex(datagram);
        const frame = sealed.get(hex);
        ctx.check(frame !== undefined, "envelope-forgery", () => `accepted a datagram no sender sealed (node ${r.nodeId})`);
        const evictions = rx.stats.senderEvictions;
        const before = accepted.get(hex);
        ctx.check(before === undefined || before !== evictions, "envelope-replay", () => `accepted the same datagram twice (node ${r.nodeId})`);
        accepted.set(hex, evictions);
        ctx.check(frame !== undefined && bytesEqual(r.frame, frame), "envelope-frame", () => `opened frame differs from the sealed one`);
        ctx.check(r.frame.byteLength === datagram.byteLength - HEADER_BYTES - TAG_BYTES, "envelope-frame", () => `frame length ${r.frame.byteLength}`);
        return "ok";
      },
    };
  },
};
