/**
 * knet crypto (src/crypto/knet.ts) against an independent reference built from Node's
 * one-shot primitives (createCipheriv aes-*-cbc, createHmac): every cipher × hash corosync
 * allows, the hash-only layout, sizes, the two key slots, salts, padding abuse, and that no
 * input makes `decrypt` throw. The captures' own frames are in knet-golden.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv, createHmac, randomBytes } from "node:crypto";
import fc from "fast-check";
import { KnetCrypto, KnetCryptoConfigError, KnetCryptoInstance, SaltPool, type KnetCipher, type KnetHash } from "../../src/crypto/knet.js";
import { dataMtuFor } from "../../src/core/knet/mtu.js";

const KEY = randomBytes(256);
const CIPHERS: Array<Exclude<KnetCipher, "none">> = ["aes128", "aes192", "aes256"];
const HASHES: Array<Exclude<KnetHash, "none">> = ["md5", "sha1", "sha256", "sha384", "sha512"];

/** The layout of knet-spec §6.2, written out with one-shot primitives. */
function reference(cipher: KnetCipher, hash: KnetHash, key: Uint8Array, plain: Uint8Array, salt: Uint8Array): Buffer {
  let body: Buffer;
  if (cipher === "none") body = Buffer.from(plain);
  else {
    const bits = { aes128: 128, aes192: 192, aes256: 256 }[cipher];
    const c = createCipheriv(`aes-${bits}-cbc`, key.subarray(0, bits / 8), salt);
    body = Buffer.concat([salt, c.update(plain), c.final()]);
  }
  return hash === "none" ? body : Buffer.concat([body, createHmac(hash, key).update(body).digest()]);
}

test("every cipher × hash: our frames equal the reference layout, decrypt back, and have the computed size", () => {
  const salt = randomBytes(16);
  for (const cipher of [...CIPHERS, "none" as const]) {
    for (const hash of HASHES) {
      const inst = new KnetCryptoInstance({ cipher, hash, key: KEY });
      for (const len of [1, 15, 16, 17, 26, 71, 1411, 1423]) {
        const plain = randomBytes(len);
        const sealed = inst.encryptWithSalt(plain, cipher === "none" ? undefined : salt);
        assert.deepEqual(sealed, reference(cipher, hash, KEY, plain, salt), `${cipher}/${hash} ${len}`);
        assert.equal(sealed.length, inst.sealedSize(len));
        assert.deepEqual(Buffer.from(inst.decrypt(sealed)!), plain, `${cipher}/${hash} ${len} decrypts`);
        assert.deepEqual(Buffer.from(inst.decrypt(inst.encrypt(plain))!), plain, `${cipher}/${hash} ${len} pooled salt`);
      }
    }
  }
});

test("sizes of knet-spec §6.2 with aes256 + sha256: ping 26 → 80, PMTUd reply 9 → 64, token 71 → 128; the data MTU fills a 1472-byte datagram", () => {
  const inst = new KnetCryptoInstance({ cipher: "aes256", hash: "sha256", key: KEY });
  assert.deepEqual([26, 9, 43, 71].map((n) => inst.sealedSize(n)), [80, 64, 96, 128]);
  const mtu = dataMtuFor(1500, "IPv4", inst.overhead);
  assert.equal(mtu, 1397);
  assert.equal(inst.sealedSize(mtu + 14), 1472, "a full DATA frame is a 1472-byte UDP payload");
  assert.ok(inst.sealedSize(1424) > 1472, "knet keeps one byte short of a whole block: 1423 plaintext bytes still fit");
});

test("authentication: a wrong key, a flipped bit anywhere, a truncation all fail; nothing throws", () => {
  const inst = new KnetCryptoInstance({ cipher: "aes256", hash: "sha256", key: KEY });
  const other = new KnetCryptoInstance({ cipher: "aes256", hash: "sha256", key: randomBytes(256) });
  const sealed = inst.encrypt(randomBytes(100));
  assert.equal(other.decrypt(sealed), undefined);
  for (let i = 0; i < sealed.length; i += 7) {
    const bad = Buffer.from(sealed);
    bad[i]! ^= 0x10;
    assert.equal(inst.decrypt(bad), undefined, `flip at ${i}`);
  }
  for (const n of [0, 1, 31, 32, 33, 48, sealed.length - 1]) assert.equal(inst.decrypt(sealed.subarray(0, n)), undefined, `${n} bytes`);
});

test("padding and block rules are checked after a valid HMAC (a sender with the key cannot crash us either)", () => {
  const inst = new KnetCryptoInstance({ cipher: "aes256", hash: "sha256", key: KEY });
  const sign = (body: Buffer) => Buffer.concat([body, createHmac("sha256", KEY).update(body).digest()]);
  const salt = randomBytes(16);
  const raw = (blocks: Buffer) => {
    const c = createCipheriv("aes-256-cbc", KEY.subarray(0, 32), salt);
    c.setAutoPadding(false);
    return sign(Buffer.concat([salt, c.update(blocks), c.final()]));
  };
  assert.equal(inst.decrypt(raw(Buffer.alloc(16, 0))), undefined, "pad byte 0");
  assert.equal(inst.decrypt(raw(Buffer.alloc(16, 17))), undefined, "pad byte 17");
  const mixed = Buffer.alloc(32, 4);
  mixed[30] = 3;
  assert.equal(inst.decrypt(raw(mixed)), undefined, "inconsistent padding");
  assert.deepEqual(Buffer.from(inst.decrypt(raw(Buffer.alloc(16, 16)))!), Buffer.alloc(0), "a whole pad block: empty plaintext");
  assert.equal(inst.decrypt(sign(Buffer.concat([salt, randomBytes(20)]))), undefined, "ciphertext not whole blocks");
  assert.equal(inst.decrypt(sign(salt)), undefined, "no ciphertext");
});

test("property: decrypt never throws and rejects random datagrams", () => {
  const inst = new KnetCryptoInstance({ cipher: "aes256", hash: "sha256", key: KEY });
  const hashOnly = new KnetCryptoInstance({ cipher: "none", hash: "sha1", key: KEY });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      assert.equal(inst.decrypt(b), undefined);
      assert.equal(hashOnly.decrypt(b), undefined);
    }),
    { numRuns: 1000 },
  );
});

test("two key slots: the new key encrypts after use(2); frames of either key decrypt until the old slot is cleared", () => {
  const k2 = randomBytes(300);
  const c = new KnetCrypto({ cipher: "aes256", hash: "sha256", key: KEY });
  const old = c.encrypt(Buffer.from("old"));
  c.install(2, { cipher: "aes128", hash: "sha512", key: k2 });
  assert.deepEqual(Buffer.from(c.decrypt(old)!), Buffer.from("old"));
  c.use(2);
  const fresh = c.encrypt(Buffer.from("new"));
  assert.equal(new KnetCryptoInstance({ cipher: "aes256", hash: "sha256", key: KEY }).decrypt(fresh), undefined, "encrypted with slot 2");
  assert.deepEqual(Buffer.from(c.decrypt(fresh)!), Buffer.from("new"));
  assert.deepEqual(Buffer.from(c.decrypt(old)!), Buffer.from("old"), "slot 1 is tried second");
  assert.equal(c.stats.otherSlot, 1);
  assert.throws(() => c.clear(2), KnetCryptoConfigError);
  c.clear(1);
  assert.equal(c.decrypt(old), undefined);
  assert.equal(c.stats.failed, 1);
  assert.throws(() => c.use(1), /slot 1 is empty/);
});

test("salts: pooled, never repeated across many frames, refilled in place", () => {
  const pool = new SaltPool(16, 4);
  const seen = new Set<string>();
  for (let i = 0; i < 4000; i++) seen.add(pool.take().toString("hex"));
  assert.equal(seen.size, 4000);
  const inst = new KnetCryptoInstance({ cipher: "aes256", hash: "sha256", key: KEY });
  const salts = new Set<string>();
  for (let i = 0; i < 1000; i++) salts.add(inst.encrypt(Buffer.from("x")).subarray(0, 16).toString("hex"));
  assert.equal(salts.size, 1000);
});

test("configurations corosync refuses are refused", () => {
  assert.throws(() => new KnetCryptoInstance({ cipher: "aes256", hash: "none", key: KEY }), /requires crypto_hash/);
  assert.throws(() => new KnetCryptoInstance({ cipher: "chacha20" as KnetCipher, hash: "sha256", key: KEY }), /does not support crypto_cipher chacha20/);
  assert.throws(() => new KnetCryptoInstance({ cipher: "aes256", hash: "sha256", key: randomBytes(127) }), /128…4096/);
  assert.throws(() => new KnetCryptoInstance({ cipher: "none", hash: "none", key: KEY }), /needs a cipher or a hash/);
});
