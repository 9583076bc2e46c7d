/**
 * knet micro-benchmarks: µs per frame for knet crypto (aes256 + sha256, corosync's `secauth:
 * on`) — ours (pooled salts, precomputed HMAC pads, ECB+XOR decryption) against the
 * straightforward one-shot primitives (createCipheriv/createHmac/createDecipheriv per frame),
 * the cost of refusing a forged frame, and the engine's send + receive path for one Totem
 * packet without sockets (plain and with crypto, unfragmented and 20 KiB in fragments).
 * Prints figures (best round); not a pass/fail test. A shared VM spreads them by up to 2×.
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/knet.js [frames [rounds]]
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { performance } from "node:perf_hooks";
import { KnetEngine } from "../src/core/knet/engine.js";
import { KnetCryptoInstance } from "../src/crypto/knet.js";

const COUNT = Number(process.argv[2] ?? 50_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const KEY = randomBytes(256);
const SIZES: Array<[string, number]> = [
  ["ping", 26],
  ["token", 71],
  ["mcast 400", 414],
  ["full 1411", 1411],
];

function best(run: () => number): number {
  let b = Infinity;
  for (let r = 0; r <= ROUNDS; r++) {
    const v = run();
    if (r > 0) b = Math.min(b, v);
  }
  return b;
}

function perOp(n: number, f: (i: number) => void): number {
  const t = performance.now();
  for (let i = 0; i < n; i++) f(i);
  return ((performance.now() - t) * 1000) / n;
}

/** The one-shot way, for comparison. */
const naive = {
  encrypt(plain: Uint8Array): Buffer {
    const salt = randomBytes(16);
    const c = createCipheriv("aes-256-cbc", KEY.subarray(0, 32), salt);
    const body = Buffer.concat([salt, c.update(plain), c.final()]);
    return Buffer.concat([body, createHmac("sha256", KEY).update(body).digest()]);
  },
  decrypt(sealed: Uint8Array): Buffer | undefined {
    const body = sealed.subarray(0, sealed.length - 32);
    const mac = createHmac("sha256", KEY).update(body).digest();
    if (!timingSafeEqual(mac, sealed.subarray(sealed.length - 32))) return undefined;
    const d = createDecipheriv("aes-256-cbc", KEY.subarray(0, 32), body.subarray(0, 16));
    return Buffer.concat([d.update(body.subarray(16)), d.final()]);
  },
};

function cryptoFigures(): void {
  const inst = new KnetCryptoInstance({ cipher: "aes256", hash: "sha256", key: KEY });
  console.log(`knet crypto aes256+sha256, ${COUNT} frames x ${ROUNDS} rounds (best), Node ${process.versions.node}, OpenSSL ${process.versions.openssl}`);
  console.log("frame          bytes   encrypt µs (one-shot)   decrypt µs (one-shot)   forged µs");
  for (const [name, size] of SIZES) {
    const plain = randomBytes(size);
    const sealed = Array.from({ length: 1000 }, () => inst.encrypt(plain));
    const forged = sealed.map((s) => {
      const f = Buffer.from(s);
      f[f.length - 1]! ^= 1;
      return f;
    });
    const enc = best(() => perOp(COUNT, () => inst.encrypt(plain)));
    const encNaive = best(() => perOp(COUNT, () => naive.encrypt(plain)));
    const dec = best(() => perOp(COUNT, (i) => inst.decrypt(sealed[i % 1000]!)));
    const decNaive = best(() => perOp(COUNT, (i) => naive.decrypt(sealed[i % 1000]!)));
    const bad = best(() => perOp(COUNT, (i) => inst.decrypt(forged[i % 1000]!)));
    const f = (v: number) => v.toFixed(2).padStart(6);
    console.log(`${name.padEnd(14)} ${String(size).padStart(5)}   ${f(enc)} (${f(encNaive)})        ${f(dec)} (${f(decNaive)})        ${f(bad)}`);
  }
}

/** Two engines wired back to back (links already up): µs per packet sent by one and delivered by the other. */
function engineFigures(): void {
  console.log("\nengine send + receive, two nodes, no sockets (crypto: encrypt once, decrypt once per frame)");
  console.log("packet                 plain µs   aes256+sha256 µs");
  for (const [name, size] of [
    ["token 71", 57],
    ["mcast 1 KiB", 1024],
    ["mcast 20 KiB (15 frags)", 20_000],
  ] as const) {
    const row = [false, true].map((crypto) => enginePair(size, crypto));
    console.log(`${name.padEnd(22)} ${row[0]!.toFixed(2).padStart(8)}   ${row[1]!.toFixed(2).padStart(8)}`);
  }
}

function enginePair(size: number, crypto: boolean): number {
  const inst = crypto ? new KnetCryptoInstance({ cipher: "aes256", hash: "sha256", key: KEY }) : undefined;
  const timers = { pingIntervalMs: 100, pongTimeoutMs: 1000, pongCount: 2, precision: 2048 };
  const hosts = [1, 2].map((n) => ({ nodeId: n, addrs: [`10.0.0.${n}`] }));
  const engines: KnetEngine[] = [];
  let delivered = 0;
  let now = 0;
  const mk = (id: number): KnetEngine =>
    new KnetEngine(
      { localNodeId: id, hosts, links: [{ link: 0, priority: 1, ...timers }], linkMode: "passive", dataMtu: crypto ? 1397 : 1446 },
      {
        send: (frame, dests) => {
          const bytes = inst === undefined ? Uint8Array.from(frame) : inst.encrypt(frame);
          for (const d of dests) {
            const plain = inst === undefined ? bytes : inst.decrypt(bytes)!;
            engines[d.nodeId - 1]!.receive(now, `10.0.0.${id}`, plain);
          }
        },
        deliver: () => void delivered++,
        loopback: () => {},
        event: () => {},
      },
    );
  engines.push(mk(1), mk(2));
  for (now = 0; now <= 2000; now += 100) for (const e of engines) e.tick(now);
  const packet = new Uint8Array(size);
  packet.set([0x70, 0xc0, 3, 1]);
  const n = Math.max(1000, Math.floor(COUNT / Math.ceil(size / 1397)));
  const us = best(() => perOp(n, () => engines[0]!.send(now, 2, packet)));
  if (delivered < n * (ROUNDS + 1)) throw new Error(`only ${delivered} of ${n * (ROUNDS + 1)} delivered`);
  return us;
}

cryptoFigures();
engineFigures();
