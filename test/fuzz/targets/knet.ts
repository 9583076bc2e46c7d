/**
 * kronosnet, from the wire up:
 * - `knet-frame`: `decodeKnetFrame` never throws, `encodeKnetFrame(decode(x))` is `x` byte for
 *   byte, the ping timestamp reader never throws;
 * - `knet-crypto`: `KnetCryptoInstance.decrypt` / `KnetCrypto.decrypt` (four configurations,
 *   two slots) against an independent reference written with `createDecipheriv` and
 *   `createHmac`: the same answer for every datagram (a bad HMAC, a ciphertext that is not whole
 *   blocks, bad PKCS#7 padding → rejected), never an exception. The generator seals datagrams
 *   with a valid HMAC around arbitrary (mostly badly padded) plaintext, so the padding checks
 *   are reached;
 * - `knet-engine`: `KnetEngine.receive` with hostile frames from listed and unlisted
 *   addresses (prefix: flags — 1 a heartbeat tick, 2 with pongs, 4 a packet of ours, 8 the
 *   frame's payload first as a whole fragmented packet — then the source address selector) once the links are up (node 3 with peers 1 and 2, as in the captures);
 *   no exception, bounded reassembly (≤ 32 packets, ≤ 4 MiB held per host), everything we send decodes, deliveries ≤ 64 KiB.
 *
 * Corpus: the golden frames captured from corosync 3.1.7 + libknet 1.25
 * (test/fixtures/knet/knet-frames.jsonl) and encoder output.
 */
import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";
import { KnetEngine, type KnetEngineConfig, type KnetSink } from "../../../src/core/knet/engine.js";
import { KNET_DEFRAG_BUFFERS } from "../../../src/core/knet/assembly.js";
import { KnetCrypto, KnetCryptoInstance, type KnetCipher, type KnetCryptoConfig, type KnetHash } from "../../../src/crypto/knet.js";
import {
  decodeKnetFrame,
  encodeKnetFrame,
  KNET_MAX_PACKET_SIZE,
  KnetType,
  readTimespecMs,
  writeKnetHeader,
} from "../../../src/wire/knet/frame.js";
import type { Prng } from "../../../sim/prng.js";
import { knetCaptureKey, loadKnetFixture } from "../../golden/knet-frames.js";
import { bytesEqual, decoderTarget, firstDiff } from "../decoder.js";
import { concat, randomBytes } from "../mutate.js";
import type { Field, FuzzContext, FuzzTarget } from "../target.js";
import { memo } from "./layers.js";

const fixture = memo(loadKnetFixture);

// ------------------------------------------------------------------------------ frames

/** Field layout of a plaintext knet frame at `at` (knet-spec §3). */
function knetFields(b: Uint8Array, at: number): Field[] {
  if (b.byteLength < at + 7) return [];
  const f: Field[] = [
    { name: "knet.version", at, width: 1, le: true, kind: "enum", valid: [1] },
    { name: "knet.type", at: at + 1, width: 1, le: true, kind: "enum", valid: [0, 0x81, 0x82, 0x83, 0x84] },
    { name: "knet.host_id", at: at + 2, width: 2, le: false, kind: "value" },
    { name: "knet.pad1", at: at + 4, width: 1, le: true, kind: "value" },
    { name: "knet.pad2", at: at + 5, width: 1, le: true, kind: "value" },
  ];
  const type = b[at + 1];
  if (type === KnetType.DATA && b.byteLength >= at + 14) {
    f.push({ name: "data.seq", at: at + 6, width: 2, le: false, kind: "value" });
    f.push({ name: "data.compress", at: at + 8, width: 1, le: true, kind: "enum", valid: [0, 1] });
    f.push({ name: "data.bcast", at: at + 10, width: 1, le: true, kind: "enum", valid: [0, 1] });
    f.push({ name: "data.frag_num", at: at + 11, width: 1, le: true, kind: "count", limit: 255 });
    f.push({ name: "data.frag_seq", at: at + 12, width: 1, le: true, kind: "count", limit: b[at + 11]! });
    f.push({ name: "data.channel", at: at + 13, width: 1, le: true, kind: "enum", valid: [0, 0xff] });
  } else if ((type === KnetType.PING || type === KnetType.PONG) && b.byteLength >= at + 26) {
    f.push({ name: "ping.link", at: at + 6, width: 1, le: true, kind: "count", limit: 7 });
    f.push({ name: "ping.time.sec", at: at + 7, width: 8, le: true, kind: "value" }, { name: "ping.time.nsec", at: at + 15, width: 8, le: true, kind: "value" });
    f.push({ name: "ping.seq", at: at + 23, width: 2, le: false, kind: "value" }, { name: "ping.timed", at: at + 25, width: 1, le: true, kind: "enum", valid: [0, 1] });
  } else if ((type === KnetType.PMTUD || type === KnetType.PMTUD_REPLY) && b.byteLength >= at + 9) {
    f.push({ name: "pmtud.link", at: at + 6, width: 1, le: true, kind: "count", limit: 7 }, { name: "pmtud.size", at: at + 7, width: 2, le: true, kind: "value" });
  }
  return f;
}

export const knetFrameTarget = decoderTarget({
  name: "knet-frame",
  about: "decodeKnetFrame: never throws; encodeKnetFrame(decodeKnetFrame(x)) = x byte for byte; readTimespecMs on every ping",
  corpus: () => fixture().map((g) => g.plain),
  fields: (b) => knetFields(b, 0),
  decode: (input, ctx) => {
    const r = decodeKnetFrame(input);
    if (!r.ok) return r.error.code;
    const re = encodeKnetFrame(r.value);
    ctx.check(bytesEqual(re, input), "knet-round-trip", () => `encodeKnetFrame(decodeKnetFrame(x)) differs at ${firstDiff(re, input)}`);
    const f = r.value;
    if (f.type === KnetType.PING || f.type === KnetType.PONG) {
      const ms = readTimespecMs(f.time, 0);
      ctx.check(ms === undefined || (Number.isFinite(ms) && ms >= 0), "knet-timespec", () => `timestamp ${ms}`);
    }
    if (f.type === KnetType.DATA) ctx.check(f.fragNum >= 1 && (f.fragNum === 1 || (f.fragSeq >= 1 && f.fragSeq <= f.fragNum)), "knet-limits", () => `fragment ${f.fragSeq} of ${f.fragNum}`);
    return `ok:${f.type}`;
  },
  maxBytes: 2048,
  boundedCases: 2000,
});

// ------------------------------------------------------------------------------ crypto

const KEY_A = Uint8Array.from({ length: 256 }, (_, i) => (i * 37 + 11) & 0xff);
const KEY_B = Uint8Array.from({ length: 128 }, (_, i) => (i * 101 + 3) & 0xff);

/** The configurations input byte 0 selects (mod 4); the first uses the crypto capture's key. */
const configs = memo((): KnetCryptoConfig[] => {
  return [
    { cipher: "aes256", hash: "sha256", key: knetCaptureKey("crypto.jsonl")! },
    { cipher: "aes128", hash: "sha1", key: KEY_A },
    { cipher: "none", hash: "sha512", key: KEY_B },
    { cipher: "aes192", hash: "md5", key: KEY_B },
  ];
});

const CIPHER_KEY: Record<Exclude<KnetCipher, "none">, number> = { aes128: 16, aes192: 24, aes256: 32 };
const HASH_LEN: Record<Exclude<KnetHash, "none">, number> = { md5: 16, sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

/** Why the reference rejected the last datagram (the outcome label). */
let refReason = "";

/** The reference: libknet's receive side written plainly (HMAC over salt ‖ ciphertext, CBC, PKCS#7). */
function referenceDecrypt(cfg: KnetCryptoConfig, sealed: Uint8Array): Uint8Array | undefined {
  let body = sealed.byteLength;
  refReason = "ok";
  const reject = (why: string): undefined => void (refReason = why);
  if (cfg.hash !== "none") {
    const h = HASH_LEN[cfg.hash];
    body -= h;
    if (body <= 0) return reject("short");
    const want = createHmac(cfg.hash, cfg.key).update(sealed.subarray(0, body)).digest();
    if (!bytesEqual(want, sealed.subarray(body, body + h))) return reject("bad_hmac");
  }
  if (cfg.cipher === "none") return sealed.subarray(0, body);
  const ct = sealed.subarray(16, Math.max(16, body));
  if (body < 32 || ct.byteLength % 16 !== 0) return reject("bad_length");
  const kl = CIPHER_KEY[cfg.cipher];
  const d = createDecipheriv(`aes-${kl * 8}-cbc`, cfg.key.subarray(0, kl), sealed.subarray(0, 16));
  d.setAutoPadding(false);
  const p = Buffer.concat([d.update(ct), d.final()]);
  const pad = p[p.length - 1]!;
  if (pad === 0 || pad > 16) return reject("bad_padding");
  for (let i = p.length - pad; i < p.length; i++) if (p[i] !== pad) return reject("bad_padding");
  return p.subarray(0, p.length - pad);
}

/** Seal `plain` (already whole blocks when a cipher is set: no padding added) with a valid HMAC. */
function sealRaw(cfg: KnetCryptoConfig, salt: Uint8Array, plain: Uint8Array): Uint8Array {
  let body: Uint8Array = plain;
  if (cfg.cipher !== "none") {
    const kl = CIPHER_KEY[cfg.cipher];
    const c = createCipheriv(`aes-${kl * 8}-cbc`, cfg.key.subarray(0, kl), salt);
    c.setAutoPadding(false);
    body = concat(salt, c.update(plain), c.final());
  }
  if (cfg.hash === "none") return body;
  return concat(body, createHmac(cfg.hash, cfg.key).update(body).digest());
}

/** A datagram for configuration `ci`, prefixed by its selector byte. */
function withConfig(ci: number, datagram: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(ci), datagram);
}

function knetCryptoCorpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const g of fixture()) if (g.capture === "crypto.jsonl") out.push(withConfig(0, g.wire));
  const plains = fixture().filter((_, i) => i % 20 === 0).map((g) => g.plain);
  configs().forEach((cfg, ci) => {
    const inst = new KnetCryptoInstance(cfg);
    for (const p of plains) out.push(withConfig(ci, inst.encryptWithSalt(p, cfg.cipher === "none" ? undefined : Uint8Array.from({ length: 16 }, (_, i) => i * ci))));
  });
  return out;
}

/** Valid-HMAC datagrams around plaintext blocks whose padding is usually wrong; and real seals. */
function generateKnetCrypto(rng: Prng): Uint8Array {
  const ci = rng.int(0, 3);
  const cfg = configs()[ci]!;
  const salt = randomBytes(rng, 16);
  if (rng.chance(0.2)) {
    const inst = new KnetCryptoInstance(cfg);
    return withConfig(ci, inst.encryptWithSalt(randomBytes(rng, rng.int(1, 200)), cfg.cipher === "none" ? undefined : salt));
  }
  const blocks = rng.pick([0, 1, 1, 2, 3, rng.int(1, 20)]);
  const plain = randomBytes(rng, cfg.cipher === "none" ? rng.int(0, 100) : 16 * blocks);
  if (plain.byteLength > 0 && cfg.cipher !== "none") {
    // The last bytes: good padding, a near miss, zero, > 16, or anything.
    const pad = rng.pick([1, 2, 15, 16, 0, 17, 0xff, rng.int(1, 16)]);
    const n = Math.min(plain.byteLength, pad === 0 || pad > 16 ? 1 : pad);
    plain.fill(pad, plain.byteLength - n);
    if (rng.chance(0.4)) plain[plain.byteLength - 1 - rng.int(0, n - 1)] ^= 1 << rng.int(0, 7);
  }
  let d = sealRaw(cfg, salt, plain);
  // Sometimes break the length after sealing (the HMAC then covers odd-length ciphertext).
  if (rng.chance(0.15) && cfg.cipher !== "none") {
    const body = concat(salt, randomBytes(rng, rng.int(0, 40)));
    d = cfg.hash === "none" ? body : concat(body, createHmac(cfg.hash, cfg.key).update(body).digest());
  }
  return withConfig(ci, d);
}

function show(b: Uint8Array | undefined): string {
  return b === undefined ? "rejected" : `${b.byteLength} bytes`;
}

export const knetCryptoTarget: FuzzTarget = {
  name: "knet-crypto",
  about: "knet crypto decrypt (4 configurations, two slots) = an independent createDecipheriv/createHmac reference on every datagram: bad HMAC, length or padding rejected, never throws",
  episode: 500,
  maxBytes: 2048,
  generateShare: 50,
  boundedCases: 1500,
  sweepLimit: 300,
  corpus: memo(knetCryptoCorpus),
  fields: (b) => [{ name: "config", at: 0, width: 1, le: true, kind: "enum", valid: [0, 1, 2, 3] }],
  generate: generateKnetCrypto,
  open(_rng, ctx: FuzzContext) {
    const cfgs = configs();
    const instances = cfgs.map((c) => new KnetCryptoInstance(c));
    // Two slots: config 1 in use, config 0 in the other slot (a key change in progress).
    const slots = new KnetCrypto(cfgs[1]!);
    slots.install(2, cfgs[0]!);
    return {
      feed(input) {
        const ci = (input[0] ?? 0) & 3;
        const sealed = input.subarray(Math.min(1, input.byteLength));
        const want = referenceDecrypt(cfgs[ci]!, sealed);
        const reason = refReason;
        const got = instances[ci]!.decrypt(sealed);
        ctx.check(got === undefined ? want === undefined : want !== undefined && bytesEqual(got, want), "knet-crypto-reference", () => `config ${ci}: decrypt ${show(got)}, reference ${show(want)}`);
        if (ci <= 1) {
          const both = slots.decrypt(sealed);
          const ref = referenceDecrypt(cfgs[1]!, sealed) ?? referenceDecrypt(cfgs[0]!, sealed);
          ctx.check(both === undefined ? ref === undefined : ref !== undefined && bytesEqual(both, ref), "knet-crypto-slots", () => `two slots: decrypt ${show(both)}, reference ${show(ref)}`);
        }
        if (got === undefined) return reason;
        // What authenticated also decodes or fails as a frame without throwing.
        const f = decodeKnetFrame(got);
        return f.ok ? "ok:frame" : "ok:not_a_frame";
      },
    };
  },
};

// ------------------------------------------------------------------------------ engine

const LOCAL = 3;
/** Source addresses input byte 1 selects (mod 8): the peers' two links, then unlisted ones. */
const SOURCES = ["10.217.0.1:5405", "10.217.0.2:5405", "10.218.0.1:5405", "10.218.0.2:5405", "10.217.0.3:5405", "10.9.9.9:1", "", "10.217.0.1:5406"];
const ENGINE_PREFIX = 2;

function engineConfig(mode: KnetEngineConfig["linkMode"], mtu: number): KnetEngineConfig {
  const timers = { pingIntervalMs: 200, pongTimeoutMs: 1000, pongCount: 2, precision: 2048 };
  return {
    localNodeId: LOCAL,
    hosts: [
      { nodeId: 1, addrs: [SOURCES[0], SOURCES[2]] },
      { nodeId: 2, addrs: [SOURCES[1], SOURCES[3]] },
      { nodeId: 3, addrs: ["10.217.0.3:5405", "10.218.0.3:5405"] },
      { nodeId: 4, addrs: [undefined, undefined] },
    ],
    links: [
      { link: 0, priority: 1, ...timers },
      { link: 1, priority: 2, ...timers },
    ],
    linkMode: mode,
    dataMtu: mtu,
  };
}

interface HostView {
  assembler: { inProgress: number; slots: Array<{ parts: Array<Uint8Array | undefined> } | undefined> };
}

/** Bytes a host's reassemblies hold: at most 32 packets of at most 64 KiB (plus a shorter last fragment each). */
function heldBytes(h: HostView): number {
  let n = 0;
  for (const s of h.assembler.slots) for (const p of s?.parts ?? []) n += p?.byteLength ?? 0;
  return n;
}

function knetEngineCorpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const g of fixture()) {
    if (g.khost === LOCAL) continue;
    const src = SOURCES.indexOf(g.src);
    out.push(concat(Uint8Array.of(0, src < 0 ? 0 : src), g.plain));
  }
  return out;
}

/** Hostile DATA: fragments of packets (sizes, numbers, orders), old and new seqs, pings with seq 0. */
function generateKnetEngine(rng: Prng): Uint8Array {
  const host = rng.pick([1, 2, 1, 2, 3, 4, 0, rng.int(0, 0xffff)]);
  const src = rng.chance(0.85) ? host === 2 ? rng.pick([1, 3]) : rng.pick([0, 2]) : rng.int(0, 7);
  const flags = rng.pick([0, 0, 0, 1, 2, 4, 8, 8]);
  const r = rng.int(0, 9);
  let frame: Uint8Array;
  if (r <= 5) {
    const fragNum = rng.pick([1, 1, 2, 3, 4, 255, rng.int(1, 255)]);
    const fragSeq = fragNum === 1 ? rng.pick([0, 0, 1]) : rng.pick([1, 2, fragNum, rng.int(1, fragNum)]);
    const len = rng.pick([1, 13, 100, 1400, rng.int(1, 1500)]);
    frame = new Uint8Array(14 + len);
    writeKnetHeader(frame, 0, KnetType.DATA, host);
    const seq = rng.pick([1, 2, 3, rng.int(1, 40), rng.int(0, 0xffff), 0xffff, 0]);
    frame[6] = seq >>> 8;
    frame[7] = seq & 0xff;
    frame[8] = rng.chance(0.9) ? 0 : 1;
    frame[10] = rng.int(0, 1);
    frame[11] = fragNum;
    frame[12] = fragSeq;
    frame[13] = rng.chance(0.95) ? 0 : 0xff;
    frame.set(randomBytes(rng, Math.min(len, 20)), 14);
    // A Totem header whose target is us, another node, or broadcast.
    if (len >= 13) frame.set(Uint8Array.of(0x70, 0xc0, 3, 1, 0, host, 0, 0, 0, rng.pick([0, LOCAL, 1, 9]), 0, 0, 0), 14);
  } else if (r <= 8) {
    frame = new Uint8Array(26);
    writeKnetHeader(frame, 0, rng.chance(0.5) ? KnetType.PING : KnetType.PONG, host);
    frame[6] = rng.pick([0, 1, 2, 8, 9, 255]);
    frame.set(randomBytes(rng, 16), 7);
    if (rng.chance(0.5)) frame.fill(0, 7, 23);
    const seq = rng.pick([0, 0, 1, rng.int(0, 0xffff)]);
    frame[23] = seq >>> 8;
    frame[24] = seq & 0xff;
    frame[25] = rng.int(0, 1);
  } else {
    frame = new Uint8Array(rng.pick([9, 9, 100, 1500]));
    writeKnetHeader(frame, 0, rng.chance(0.5) ? KnetType.PMTUD : KnetType.PMTUD_REPLY, host);
    frame[6] = rng.int(0, 9);
  }
  return concat(Uint8Array.of(flags, src), frame);
}

export const knetEngineTarget: FuzzTarget = {
  name: "knet-engine",
  about: "KnetEngine.receive with hostile frames from listed and unlisted addresses, links up; never throws, bounded reassembly, every frame sent decodes",
  episode: 400,
  maxBytes: 4096,
  generateShare: 40,
  boundedCases: 2000,
  sweepLimit: 600,
  corpus: memo(knetEngineCorpus),
  fields: (b) => [
    { name: "prefix.flags", at: 0, width: 1, le: true, kind: "enum", valid: [0, 1, 2, 4, 7, 8] },
    { name: "prefix.source", at: 1, width: 1, le: true, kind: "enum", valid: [0, 1, 2, 3, 4, 5] },
    ...knetFields(b, ENGINE_PREFIX),
  ],
  generate: generateKnetEngine,
  open(rng, ctx) {
    let now = 1000;
    const pings: Array<{ frame: Uint8Array; nodeId: number; link: number }> = [];
    let delivered = 0;
    const sink: KnetSink = {
      send(frame, dests) {
        const r = decodeKnetFrame(frame);
        ctx.check(r.ok && r.value.hostId === LOCAL, "knet-engine-send", () => `sent a frame that does not decode as ours: ${r.ok ? `host ${r.value.hostId}` : r.error.message}`);
        ctx.check(dests.every((d) => d.nodeId !== LOCAL && d.link >= 0 && d.link < 8), "knet-engine-send", () => `sent to ${JSON.stringify(dests)}`);
        if (r.ok && r.value.type === KnetType.PING) for (const d of dests) pings.push({ frame: frame.slice(), nodeId: d.nodeId, link: d.link });
      },
      deliver(packet, nodeId) {
        delivered++;
        ctx.check(packet.byteLength >= 1 && packet.byteLength <= KNET_MAX_PACKET_SIZE, "knet-engine-deliver", () => `delivered ${packet.byteLength} bytes`);
        ctx.check(nodeId === 1 || nodeId === 2, "knet-engine-deliver", () => `delivered a packet from host ${nodeId}`);
      },
      loopback() {},
      event() {},
    };
    const engine = new KnetEngine(engineConfig(rng.pick(["passive", "active", "rr"] as const), rng.pick([64, 1000, 1397])), sink);
    const addr = (nodeId: number, link: number): string => SOURCES[(nodeId - 1) + 2 * link]!;
    /** Answer every ping sent so far with the peer's pong (links come up after pong_count + 1). */
    const answerPings = (): void => {
      for (const p of pings.splice(0)) {
        const pong = p.frame.slice();
        writeKnetHeader(pong, 0, KnetType.PONG, p.nodeId);
        engine.receive(now + 1, addr(p.nodeId, p.link), pong);
      }
    };
    for (let i = 0; i < 6 && !(engine.isReachable(1) && engine.isReachable(2)); i++) {
      now += 200;
      engine.tick(now);
      answerPings();
    }
    const hosts = (engine as unknown as { hosts: Map<number, HostView> }).hosts;
    return {
      feed(input) {
        const flags = input[0] ?? 0;
        const source = SOURCES[(input[1] ?? 0) & 7]!;
        const frame = input.subarray(Math.min(ENGINE_PREFIX, input.byteLength));
        if (flags & 1) {
          now += 200;
          engine.tick(now);
          if (flags & 2) answerPings();
          else pings.length = 0;
        }
        if (flags & 4) engine.send(now, rng.pick([0, 1, 2]), new Uint8Array(rng.pick([1, 100, 3000])));
        const before = delivered;
        if (flags & 8 && frame.byteLength > 14) {
          // The frame's payload as a whole fragmented packet: n fragments (frame[11] picks n),
          // fed in a rotated order (frame[12]), each with the frame's header and seq.
          const payload = frame.subarray(14);
          const n = Math.min(2 + (frame[11]! % 8), payload.byteLength);
          const size = Math.ceil(payload.byteLength / n);
          const count = Math.ceil(payload.byteLength / size);
          for (let k = 0; k < count; k++) {
            const i = (k + frame[12]!) % count;
            const piece = payload.subarray(i * size, Math.min(payload.byteLength, (i + 1) * size));
            const f = concat(frame.subarray(0, 14), piece);
            f[11] = count;
            f[12] = i + 1;
            engine.receive(now, source, f);
          }
        }
        // The engine keeps views of the frame: hand it a copy, as a socket would.
        engine.receive(now, source, frame.slice());
        for (const [id, h] of hosts) {
          ctx.check(h.assembler.inProgress <= KNET_DEFRAG_BUFFERS, "knet-engine-defrag", () => `host ${id}: ${h.assembler.inProgress} reassemblies`);
          const held = heldBytes(h);
          ctx.check(held <= KNET_DEFRAG_BUFFERS * 2 * KNET_MAX_PACKET_SIZE, "knet-engine-defrag", () => `host ${id}: reassemblies hold ${held} bytes`);
        }
        ctx.check(Object.keys(engine.dropped).length <= 64, "knet-engine-drops", () => `${Object.keys(engine.dropped).length} drop reasons`);
        ctx.check(pings.length <= 1000, "knet-engine-pings", () => `${pings.length} pings`);
        if (delivered > before) return "delivered";
        const r = decodeKnetFrame(frame);
        return r.ok ? `kept:${r.value.type}` : `bad:${r.error.code}`;
      },
    };
  },
};
