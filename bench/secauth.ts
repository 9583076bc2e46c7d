/**
 * secauth envelope micro-benchmark: µs per datagram and MB/s of frame bytes for seal and
 * open, per suite and frame size, plus the cost of refusing forged datagrams (a bad tag from
 * a known sender; a bad tag naming an unknown node id, which costs a key derivation).
 * Prints figures; not a pass/fail test. Figures on a shared VM spread by up to 2× run to run.
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/secauth.js [datagrams [rounds]]
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { createEnvelope, type Envelope } from "../src/crypto/envelope.js";
import type { EnvelopeMode } from "../src/crypto/suite.js";

const COUNT = Number(process.argv[2] ?? 50_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const SIZES = [64, 1024, 1455];
const MODES: Array<[string, EnvelopeMode]> = [
  ["aes256 (aes-256-gcm)", { cipher: "aes256", hash: "sha256" }],
  ["aes128 (aes-128-gcm)", { cipher: "aes128", hash: "sha256" }],
  ["chacha20 (chacha20-poly1305)", { cipher: "chacha20", hash: "sha256" }],
  ["none+sha256 (hmac-sha256)", { cipher: "none", hash: "sha256" }],
  ["none+sha1 (hmac-sha1)", { cipher: "none", hash: "sha1" }],
];

const key = randomBytes(256);

function pair(mode: EnvelopeMode): { tx: Envelope; rx: Envelope } {
  return {
    tx: createEnvelope({ mode, key, clusterName: "bench", nodeId: 1 }),
    rx: createEnvelope({ mode, key, clusterName: "bench", nodeId: 2 }),
  };
}

/** Best (lowest) µs per operation over the rounds. */
function measure(mode: EnvelopeMode, size: number): { seal: number; open: number; forgedKnown: number; forgedUnknown: number } {
  const frame = randomBytes(size);
  const best = { seal: Infinity, open: Infinity, forgedKnown: Infinity, forgedUnknown: Infinity };
  const { tx, rx } = pair(mode);
  let sealed: Uint8Array[] = [];
  for (let r = 0; r < ROUNDS + 1; r++) {
    sealed = []; // release the last round's datagrams before timing seal
    let t = performance.now();
    for (let i = 0; i < COUNT; i++) tx.seal(frame); // as a sender does: seal, send, drop
    const seal = ((performance.now() - t) * 1000) / COUNT;
    for (let i = 0; i < COUNT; i++) sealed[i] = tx.seal(frame);
    t = performance.now();
    for (let i = 0; i < COUNT; i++) if (!rx.open(sealed[i]!).ok) throw new Error("open failed");
    const open = ((performance.now() - t) * 1000) / COUNT;
    const forgedKnown = forgeryCost(rx, tx, frame, false);
    const forgedUnknown = forgeryCost(rx, tx, frame, true);
    if (r === 0) continue; // warm-up
    best.seal = Math.min(best.seal, seal);
    best.open = Math.min(best.open, open);
    best.forgedKnown = Math.min(best.forgedKnown, forgedKnown);
    best.forgedUnknown = Math.min(best.forgedUnknown, forgedUnknown);
  }
  return best;
}

/** µs to refuse a datagram with a flipped tag byte (fresh counters, so the tag is what fails). */
function forgeryCost(rx: Envelope, tx: Envelope, frame: Uint8Array, unknownNode: boolean): number {
  const n = Math.min(COUNT, 20_000);
  const forged: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const d = tx.seal(frame);
    d[d.length - 1]! ^= 1;
    if (unknownNode) new DataView(d.buffer, d.byteOffset).setUint32(4, 1000 + i);
    forged.push(d);
  }
  const t = performance.now();
  for (const d of forged) if (rx.open(d).ok) throw new Error("forgery accepted");
  return ((performance.now() - t) * 1000) / n;
}

const fmt = (us: number) => us.toFixed(2).padStart(7);
const mbps = (us: number, size: number) => (size / us).toFixed(0).padStart(6);

console.log(`secauth envelope, ${COUNT} datagrams x ${ROUNDS} rounds (best round), Node ${process.versions.node}, OpenSSL ${process.versions.openssl}`);
console.log("suite                          size   seal µs  MB/s   open µs  MB/s   forged(known) µs  forged(new node) µs");
for (const [name, mode] of MODES) {
  for (const size of SIZES) {
    const r = measure(mode, size);
    console.log(
      `${name.padEnd(30)} ${String(size).padStart(5)} ${fmt(r.seal)} ${mbps(r.seal, size)}  ${fmt(r.open)} ${mbps(r.open, size)}   ${fmt(r.forgedKnown)}           ${fmt(r.forgedUnknown)}`,
    );
  }
}
