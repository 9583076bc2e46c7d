/**
 * The secauth envelope (src/crypto/envelope.ts, docs/secauth.md): round trips in every mode,
 * the bytes of the format (checked against an independent computation of the documented
 * derivation), refusal of every kind of wrong or hostile datagram, replay protection, nonce
 * uniqueness and epoch rotation.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv, createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import {
  COUNTER_MAX,
  ENVELOPE_OVERHEAD,
  HEADER_BYTES,
  createEnvelope,
  deriveClusterKey,
  deriveSenderKey,
  type Envelope,
  type EnvelopeOptions,
  type OpenResult,
} from "../../src/crypto/envelope.js";
import { EnvelopeConfigError, SUITES, suiteForMode, type EnvelopeMode } from "../../src/crypto/suite.js";
import { hkdf, hkdfExpand } from "../../src/crypto/hkdf.js";
import { CRYPTO_CIPHERS, CRYPTO_HASHES } from "../../src/config/schema.js";
import { encodeTotem } from "../../src/wire/totem/codec.js";
import { MessageType } from "../../src/wire/totem/types.js";

const KEY = randomBytes(256);
const AES: EnvelopeMode = { cipher: "aes256", hash: "sha256" };

/** Every configuration pair that selects an envelope. */
const ALL_MODES: EnvelopeMode[] = CRYPTO_CIPHERS.flatMap((cipher) =>
  CRYPTO_HASHES.filter((hash) => hash !== "none").map((hash) => ({ cipher, hash })),
);

function env(over: Partial<EnvelopeOptions> = {}): Envelope {
  return createEnvelope({ mode: AES, key: KEY, clusterName: "alpha", nodeId: 1, ...over });
}

function frame(n: number, fill = 0x5a): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

function reasonOf(r: OpenResult): string {
  return r.ok ? "ok" : r.reason;
}

test("every mode round trips frames of 0, 1, 64, 1024 and 1500 bytes", () => {
  for (const mode of ALL_MODES) {
    const tx = env({ mode, nodeId: 7 });
    const rx = env({ mode, nodeId: 8 });
    for (const n of [0, 1, 64, 1024, 1500]) {
      const f = randomBytes(n);
      const d = tx.seal(f);
      assert.equal(d.length, n + ENVELOPE_OVERHEAD, `${mode.cipher}/${mode.hash}`);
      const r = rx.open(d);
      assert.ok(r.ok, `${mode.cipher}/${mode.hash} size ${n}: ${reasonOf(r)}`);
      assert.deepEqual(Buffer.from(r.frame), f);
      assert.equal(r.nodeId, 7);
    }
  }
});

test("suites: aes256/192/128 are AES-GCM of that key size, chacha20 is ChaCha20-Poly1305, none+hash is HMAC", () => {
  assert.equal(suiteForMode({ cipher: "aes256", hash: "sha1" }).name, "aes-256-gcm");
  assert.equal(suiteForMode({ cipher: "aes192", hash: "sha1" }).name, "aes-192-gcm");
  assert.equal(suiteForMode({ cipher: "aes128", hash: "sha1" }).name, "aes-128-gcm");
  assert.equal(suiteForMode({ cipher: "chacha20", hash: "md5" }).name, "chacha20-poly1305");
  for (const hash of ["md5", "sha1", "sha256", "sha384", "sha512"] as const) {
    assert.equal(suiteForMode({ cipher: "none", hash }).name, `hmac-${hash}`);
  }
  assert.equal(new Set(SUITES.map((s) => s.id)).size, SUITES.length, "suite ids are distinct");
});

test("an encrypting suite hides the frame; an hmac suite carries it in clear", () => {
  const secret = new TextEncoder().encode("a CPG message that must not travel in clear");
  const enc = Buffer.from(env().seal(secret));
  assert.equal(enc.indexOf(Buffer.from(secret)), -1);
  const mac = Buffer.from(env({ mode: { cipher: "none", hash: "sha256" } }).seal(secret));
  assert.equal(mac.indexOf(Buffer.from(secret)), HEADER_BYTES);
});

test("known answer: the documented derivation and layout, recomputed with hkdfSync and createCipheriv", () => {
  const key = new Uint8Array(256).map((_, i) => i);
  const epoch = new Uint8Array(8).fill(0xab);
  const nodeId = 0x01020304;
  const frameBytes = new TextEncoder().encode("Totem frame");
  const expected: Record<string, string> = {
    "aes-256-gcm": "5eca010101020304abababababababab00000000ceb7249c1d67b4b2a11d9925c08fe7f16e23cb8d6554027f337867",
    "chacha20-poly1305": "5eca010401020304abababababababab0000000041740ff9344578ded9cb9828cc391ac9657e8b4f2d2d105337ea94",
    "hmac-sha256": "5eca011301020304abababababababab00000000546f74656d206672616d6586e70fb4942b630649faf7eacaa84c64",
  };
  const modes: EnvelopeMode[] = [AES, { cipher: "chacha20", hash: "sha256" }, { cipher: "none", hash: "sha256" }];
  for (const mode of modes) {
    const suite = suiteForMode(mode);
    const e = createEnvelope({ mode, key, clusterName: "kat", nodeId, random: (n) => epoch.slice(0, n) });
    const sealed = Buffer.from(e.seal(frameBytes)).toString("hex");
    assert.equal(sealed, expected[suite.name], suite.name);

    // Independent computation, straight from docs/secauth.md "Keys" and "Layout".
    const info = Buffer.concat([Buffer.from(`cluster-key\0suite=${suite.name} hash=${mode.hash}\0`), createHash("sha256").update("kat").digest()]);
    const clusterKey = Buffer.from(hkdfSync("sha256", key, Buffer.from("corosync-ts secauth v1"), info, 32));
    const senderInfo = Buffer.concat([Buffer.from("sender-key\0"), Buffer.from([1, 2, 3, 4])]);
    const senderKey = createHmac("sha256", clusterKey).update(senderInfo).update(Buffer.from([1])).digest().subarray(0, suite.keyLength);
    const header = Buffer.concat([Buffer.from([0x5e, 0xca, 0x01, suite.id, 1, 2, 3, 4]), epoch, Buffer.from([0, 0, 0, 0])]);
    let body: Buffer;
    let tag: Buffer;
    if (suite.kind === "aead") {
      const c = createCipheriv(suite.algorithm as "aes-256-gcm", senderKey, header.subarray(8, 20), { authTagLength: 16 });
      c.setAAD(header);
      body = c.update(frameBytes);
      c.final();
      tag = c.getAuthTag();
    } else {
      body = Buffer.from(frameBytes);
      tag = createHmac(suite.algorithm, senderKey).update(header).update(frameBytes).digest().subarray(0, 16);
    }
    assert.equal(Buffer.concat([header, body, tag]).toString("hex"), sealed, `${suite.name} independent`);
  }
});

test("hkdf agrees with crypto.hkdfSync and with RFC 5869 test case 1", () => {
  const ikm = Buffer.alloc(22, 0x0b);
  const salt = Buffer.from("000102030405060708090a0b0c", "hex");
  const info = Buffer.from("f0f1f2f3f4f5f6f7f8f9", "hex");
  assert.equal(
    hkdf(ikm, salt, info, 42).toString("hex"),
    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
  );
  for (const len of [1, 16, 32, 33, 64, 100]) {
    const k = randomBytes(200);
    const s = randomBytes(len % 7 === 0 ? 0 : 16);
    const i = randomBytes(len);
    assert.deepEqual(hkdf(k, s, i, len), Buffer.from(hkdfSync("sha256", k, s, i, len)));
  }
  assert.throws(() => hkdfExpand(randomBytes(32), new Uint8Array(0), 0), RangeError);
});

test("sender keys differ per node id, cluster keys per cluster name, suite and hash", () => {
  const suite = suiteForMode(AES);
  const ck = deriveClusterKey(KEY, AES, suite, "alpha");
  assert.notDeepEqual(deriveSenderKey(ck, suite, 1), deriveSenderKey(ck, suite, 2));
  assert.notDeepEqual(ck, deriveClusterKey(KEY, AES, suite, "beta"));
  assert.notDeepEqual(ck, deriveClusterKey(KEY, { cipher: "aes256", hash: "sha1" }, suite, "alpha"));
  assert.notDeepEqual(ck, deriveClusterKey(KEY, AES, suiteForMode({ cipher: "chacha20", hash: "sha256" }), "alpha"));
});

test("a different authkey is an invalid digest", () => {
  const d = env().seal(frame(100));
  const r = env({ key: randomBytes(256), nodeId: 2 }).open(d);
  assert.equal(reasonOf(r), "invalid_digest");
});

test("a different cluster_name is an invalid digest (same key)", () => {
  const d = env({ clusterName: "alpha" }).seal(frame(100));
  assert.equal(reasonOf(env({ clusterName: "beta", nodeId: 2 }).open(d)), "invalid_digest");
  assert.equal(reasonOf(env({ clusterName: "", nodeId: 2 }).open(d)), "invalid_digest");
});

test("a different crypto_hash or cipher is an invalid digest, and the detail names the sender's suite", () => {
  const d = env().seal(frame(100));
  assert.equal(reasonOf(env({ mode: { cipher: "aes256", hash: "sha1" }, nodeId: 2 }).open(d)), "invalid_digest");
  const r = env({ mode: { cipher: "chacha20", hash: "sha256" }, nodeId: 2 }).open(d);
  assert.equal(reasonOf(r), "invalid_digest");
  assert.match(!r.ok ? (r.detail ?? "") : "", /sender uses aes-256-gcm, this node chacha20-poly1305/);
  const h = env({ mode: { cipher: "none", hash: "sha256" }, nodeId: 2 }).open(d);
  assert.equal(reasonOf(h), "invalid_digest");
});

test("tampering with any byte (header, payload, tag) is refused, and leaves the receiver unharmed", () => {
  for (const mode of [AES, { cipher: "chacha20", hash: "sha256" }, { cipher: "none", hash: "sha512" }] as EnvelopeMode[]) {
    const tx = env({ mode });
    const rx = env({ mode, nodeId: 2 });
    const d = tx.seal(randomBytes(200));
    for (let i = 0; i < d.length; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const t = Uint8Array.from(d);
        t[i]! ^= flip;
        const r = rx.open(t);
        assert.equal(r.ok, false, `${mode.cipher}: byte ${i} ^ ${flip} accepted`);
      }
    }
    assert.ok(rx.open(d).ok, "the untouched datagram still opens");
    assert.equal(rx.stats.senders, 1);
  }
});

test("every truncation and every extension is refused without throwing", () => {
  for (const mode of [AES, { cipher: "none", hash: "sha1" }] as EnvelopeMode[]) {
    const rx = env({ mode, nodeId: 2 });
    const d = env({ mode }).seal(randomBytes(300));
    for (let n = 0; n < d.length; n++) {
      const r = rx.open(d.subarray(0, n));
      assert.equal(r.ok, false, `prefix of ${n}`);
      if (n < ENVELOPE_OVERHEAD) assert.equal(reasonOf(r), "too_short", `prefix of ${n}`);
      const s = rx.open(d.subarray(d.length - n));
      assert.equal(s.ok, false, `suffix of ${n}`);
    }
    assert.equal(reasonOf(rx.open(Buffer.concat([d, Buffer.from([0])]))), "invalid_digest");
    assert.ok(rx.open(d).ok);
  }
});

test("a plain Totem frame (either byte order) is 'plaintext', not a crash", () => {
  const rx = env();
  const token = encodeTotem({
    type: MessageType.ORF_TOKEN,
    nodeId: 1,
    targetNodeId: 0,
    seq: 1,
    tokenSeq: 1,
    aru: 0,
    aruAddr: 0,
    ringId: { rep: 1, seq: 4n },
    backlog: 0,
    fcc: 0,
    retransFlg: 0,
    rtrList: [],
  });
  assert.deepEqual([token[0], token[1]], [0x70, 0xc0]);
  assert.equal(reasonOf(rx.open(token)), "plaintext");
  assert.equal(reasonOf(rx.open(Uint8Array.of(0xc0, 0x70, 3, 0))), "plaintext");
  assert.equal(reasonOf(rx.open(Uint8Array.of(0x70, 0xc0))), "plaintext");
  assert.equal(rx.stats.rejected.plaintext, 3);
});

test("other headers: 2.x crypto header, unknown version or suite, node id 0, tiny datagrams", () => {
  const rx = env({ nodeId: 2 });
  const good = env().seal(frame(40));
  const with_ = (i: number, v: number) => {
    const t = Uint8Array.from(good);
    t[i] = v;
    return t;
  };
  assert.equal(reasonOf(rx.open(Buffer.concat([Buffer.from([0xfe, 0xfe, 0, 0]), randomBytes(60)]))), "bad_header");
  const v = rx.open(with_(2, 2));
  assert.equal(reasonOf(v), "bad_header");
  assert.match(!v.ok ? (v.detail ?? "") : "", /version 2/);
  assert.equal(reasonOf(rx.open(with_(3, 0x7f))), "bad_header");
  const zero = Uint8Array.from(good);
  zero.fill(0, 4, 8);
  assert.equal(reasonOf(rx.open(zero)), "bad_header");
  assert.equal(reasonOf(rx.open(new Uint8Array(0))), "too_short");
  assert.equal(reasonOf(rx.open(Uint8Array.of(0x5e))), "too_short");
  assert.equal(reasonOf(rx.open(Uint8Array.of(0x5e, 0xca, 1, 1))), "too_short");
});

test("replays: a datagram opens once; reordering within the window is fine; too old is refused", () => {
  const tx = env();
  const rx = env({ nodeId: 2 });
  const ds = Array.from({ length: 1100 }, (_, i) => tx.seal(frame(10, i & 0xff)));
  assert.ok(rx.open(ds[5]!).ok);
  assert.equal(reasonOf(rx.open(ds[5]!)), "replay");
  assert.ok(rx.open(ds[3]!).ok, "older but unseen, within the window");
  assert.ok(rx.open(ds[1099]!).ok);
  assert.equal(reasonOf(rx.open(ds[3]!)), "replay", "seen");
  assert.equal(reasonOf(rx.open(ds[50]!)), "replay", "1049 below the highest: outside the 1024 window");
  assert.ok(rx.open(ds[1000]!).ok, "99 below, unseen");
  assert.equal(rx.stats.rejected.replay, 3);
  assert.equal(rx.stats.opened, 4);
});

test("a restarted sender (new epoch) is accepted; its old epoch is then refused", () => {
  const rx = env({ nodeId: 2 });
  const first = env({ nodeId: 1 });
  const old = [first.seal(frame(10)), first.seal(frame(10)), first.seal(frame(10))];
  assert.ok(rx.open(old[0]!).ok);
  const restarted = env({ nodeId: 1 });
  const fresh = restarted.seal(frame(10));
  assert.ok(rx.open(fresh).ok, "new epoch, counter 0");
  assert.equal(reasonOf(rx.open(old[1]!)), "replay", "an epoch the sender left");
  assert.ok(rx.open(restarted.seal(frame(10))).ok);
});

test("a forged datagram does not disturb the sender's replay state", () => {
  const tx = env();
  const rx = env({ nodeId: 2 });
  const a = tx.seal(frame(10));
  const b = tx.seal(frame(10));
  assert.ok(rx.open(b).ok);
  // Forge "a new epoch" for node 1 with a far counter: it must not retire the real epoch.
  const forged = Uint8Array.from(a);
  forged[8]! ^= 1;
  forged[16] = 0x7f;
  assert.equal(reasonOf(rx.open(forged)), "invalid_digest");
  assert.ok(rx.open(a).ok, "the real epoch and window are intact");
});

test("nonces never repeat: 20k seals of one envelope, and two envelopes with different epochs", () => {
  const seen = new Set<string>();
  const a = env();
  for (let i = 0; i < 20_000; i++) {
    const d = a.seal(frame(1));
    seen.add(Buffer.from(d.subarray(8, 20)).toString("hex"));
  }
  assert.equal(seen.size, 20_000);
  const b = env(); // same node id, as after a restart
  const first = Buffer.from(b.seal(frame(1)).subarray(8, 20)).toString("hex");
  assert.ok(!seen.has(first), "a new start draws a new random epoch");
  const epochA = [...seen][0]!.slice(0, 16);
  assert.notEqual(first.slice(0, 16), epochA);
});

test("randomness is drawn once per epoch, never per datagram", () => {
  let calls = 0;
  const e = env({
    random: (n) => {
      calls++;
      return randomBytes(n);
    },
  });
  for (let i = 0; i < 1000; i++) e.seal(frame(8));
  assert.equal(calls, 1);
});

test("counter exhaustion rotates the epoch; receivers follow and refuse the old epoch", () => {
  const epochs = [new Uint8Array(8).fill(1), new Uint8Array(8).fill(2)];
  const tx = env({ initialCounter: COUNTER_MAX - 1, random: () => epochs.shift()! });
  const rx = env({ nodeId: 2 });
  const d1 = tx.seal(frame(4));
  const d2 = tx.seal(frame(4));
  const d3 = tx.seal(frame(4));
  assert.equal(Buffer.from(d1.subarray(8, 20)).toString("hex"), "0101010101010101fffffffe");
  assert.equal(Buffer.from(d2.subarray(8, 20)).toString("hex"), "0101010101010101ffffffff");
  assert.equal(Buffer.from(d3.subarray(8, 20)).toString("hex"), "020202020202020200000000");
  assert.equal(tx.stats.epochRotations, 1);
  assert.ok(rx.open(d1).ok);
  assert.ok(rx.open(d3).ok);
  assert.equal(reasonOf(rx.open(d2)), "replay", "the old epoch is retired");
});

test("sender state is bounded: least recently heard senders are evicted", () => {
  const rx = env({ nodeId: 100, maxSenders: 4 });
  for (let id = 1; id <= 10; id++) assert.ok(rx.open(env({ nodeId: id }).seal(frame(4))).ok);
  const s = rx.stats;
  assert.equal(s.senders, 4);
  assert.equal(s.senderEvictions, 6);
});

test("forged datagrams from unknown node ids create no state", () => {
  const rx = env({ nodeId: 2 });
  const d = env().seal(frame(30));
  for (let id = 1000; id < 1200; id++) {
    const f = Uint8Array.from(d);
    new DataView(f.buffer).setUint32(4, id);
    assert.equal(reasonOf(rx.open(f)), "invalid_digest");
  }
  assert.equal(rx.stats.senders, 0);
  assert.equal(rx.stats.rejected.invalid_digest, 200);
});

test("a node opens its own datagrams (udpu sends to itself too)", () => {
  const e = env();
  const r = e.open(e.seal(frame(64)));
  assert.ok(r.ok);
  assert.equal(r.nodeId, 1);
});

test("open accepts views at any offset of a larger buffer", () => {
  const d = env().seal(frame(77));
  const big = new Uint8Array(d.length + 13);
  big.set(d, 5);
  const r = env({ nodeId: 2 }).open(big.subarray(5, 5 + d.length));
  assert.ok(r.ok);
  assert.equal(r.frame.length, 77);
});

test("stats count seals, opens and each kind of refusal", () => {
  const tx = env();
  const rx = env({ nodeId: 2 });
  const d = tx.seal(frame(10));
  rx.open(d);
  rx.open(d);
  rx.open(Uint8Array.of(1));
  rx.open(Uint8Array.of(0x70, 0xc0, 3));
  assert.deepEqual(rx.stats, {
    sealed: 0,
    opened: 1,
    epochRotations: 0,
    rejected: { invalid_digest: 0, bad_header: 0, replay: 1, too_short: 1, plaintext: 1 },
    senders: 1,
    senderEvictions: 0,
  });
  assert.equal(tx.stats.sealed, 1);
});

test("configuration errors are EnvelopeConfigError with a code", () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof EnvelopeConfigError);
      return e.code;
    }
    return "no error";
  };
  assert.equal(code(() => env({ mode: { cipher: "none", hash: "none" } })), "SECAUTH_OFF");
  assert.equal(code(() => env({ mode: { cipher: "aes256", hash: "none" } })), "CIPHER_NEEDS_HASH");
  assert.equal(code(() => env({ key: randomBytes(127) })), "BAD_KEY");
  assert.equal(code(() => env({ key: randomBytes(4097) })), "BAD_KEY");
  assert.equal(code(() => env({ nodeId: 0 })), "BAD_NODE_ID");
  assert.equal(code(() => env({ nodeId: 2 ** 32 })), "BAD_NODE_ID");
  assert.equal(code(() => env({ nodeId: 1.5 })), "BAD_NODE_ID");
  assert.equal(code(() => env({ initialCounter: -1 })), "BAD_OPTION");
  assert.equal(code(() => env({ random: () => new Uint8Array(3) })), "BAD_OPTION");
  assert.equal(code(() => env({ key: randomBytes(128) })), "no error");
  assert.equal(code(() => env({ key: randomBytes(4096), nodeId: 0xffffffff })), "no error");
});
