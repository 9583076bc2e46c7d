/**
 * knet's crypto, as corosync 3 configures it (knet-spec §6), byte for byte:
 *
 *     | salt (16) | AES-CBC(key = authkey[0..keylen), IV = salt, PKCS#7)(knet frame) | HMAC |
 *     HMAC = HMAC-<hash>(key = the whole authkey, data = salt ‖ ciphertext)
 *
 * With a hash and no cipher the frame travels in clear followed by HMAC(frame). Every knet
 * frame type is wrapped; there is no cleartext field, so the sender is known only after the
 * frame authenticated. Two configuration slots (1 and 2) exist for a runtime key change: we
 * encrypt with the slot in use and, on receipt, try the slot in use first and then the other.
 *
 * Costs kept off the hot path: salts come from a pooled random buffer (one `randomFillSync`
 * per 256 frames, not a syscall per frame); the HMAC key schedule (the authkey hashed into
 * the inner and outer pads) is computed once and its hash states copied per frame; CBC
 * decryption runs as one reusable ECB pass plus an XOR with the previous ciphertext block
 * (CBC decryption needs no chaining), instead of a new decipher per frame.
 *
 * Encryption reuses one CBC cipher for every frame instead of creating one per frame (half
 * the cost): a CBC stream's chaining value after a block is that block's ciphertext, so
 * feeding first the block `D(salt) ⊕ chain` (D = AES decryption, chain = the stream's last
 * ciphertext block) makes the stream emit `salt` and continue from it: the frame that follows
 * is encrypted exactly as a fresh CBC with IV = salt would encrypt it (the tests compare with
 * `createCipheriv` byte for byte). The salt stays fresh random per frame; nothing about the
 * previous frame reaches the new one.
 *
 * `decrypt` never throws on any input: it returns undefined ("invalid digest") for a short
 * frame, a wrong HMAC, a ciphertext that is not whole blocks, or bad padding.
 */
import { type Cipher, type Decipher, type Hash, createCipheriv, createDecipheriv, createHash, randomFillSync, timingSafeEqual } from "node:crypto";
import type { CryptoOverhead } from "../core/knet/mtu.js";
import { AUTHKEY_MAX_BYTES, AUTHKEY_MIN_BYTES } from "./limits.js";

export type KnetCipher = "none" | "aes128" | "aes192" | "aes256";
export type KnetHash = "none" | "md5" | "sha1" | "sha256" | "sha384" | "sha512";

/** `SALT_SIZE` of libknet's crypto modules: the CBC IV in front of every frame. */
export const KNET_SALT_BYTES = 16;
const AES_BLOCK = 16;

const CIPHER_KEY_BYTES: Readonly<Record<Exclude<KnetCipher, "none">, number>> = { aes128: 16, aes192: 24, aes256: 32 };
const HASH_BYTES: Readonly<Record<Exclude<KnetHash, "none">, number>> = { md5: 16, sha1: 20, sha256: 32, sha384: 48, sha512: 64 };
const HASH_BLOCK_BYTES: Readonly<Record<Exclude<KnetHash, "none">, number>> = { md5: 64, sha1: 64, sha256: 64, sha384: 128, sha512: 128 };

export interface KnetCryptoConfig {
  cipher: KnetCipher;
  hash: KnetHash;
  /** The whole authkey (128…4096 bytes), used raw as libknet does. */
  key: Uint8Array;
}

/** Counters of a `KnetCrypto`. */
export interface KnetCryptoStats {
  encrypted: number;
  decrypted: number;
  /** Frames that failed in every slot ("invalid digest"). */
  failed: number;
  /** Frames that authenticated only with the slot not in use (during a key change). */
  otherSlot: number;
}

/** A reason a configuration cannot be used. */
export class KnetCryptoConfigError extends Error {
  override readonly name = "KnetCryptoConfigError";
}

/**
 * A pool of random bytes handed out 16 at a time. `take()` returns a view that stays valid
 * until the next 255 takes (the pool is refilled in place when exhausted): copy it at once.
 */
export class SaltPool {
  private readonly pool: Buffer;
  private offset: number;

  constructor(private readonly saltBytes = KNET_SALT_BYTES, count = 256) {
    this.pool = Buffer.allocUnsafe(saltBytes * count);
    this.offset = this.pool.length;
  }

  take(): Buffer {
    if (this.offset + this.saltBytes > this.pool.length) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const salt = this.pool.subarray(this.offset, this.offset + this.saltBytes);
    this.offset += this.saltBytes;
    return salt;
  }
}

/** HMAC with its key schedule done once: per message two hash-state copies. */
class PrecomputedHmac {
  private readonly inner: Hash;
  private readonly outer: Hash;

  constructor(algorithm: string, key: Uint8Array, blockBytes: number) {
    const k = Buffer.alloc(blockBytes);
    (key.byteLength > blockBytes ? createHash(algorithm).update(key).digest() : Buffer.from(key)).copy(k);
    const ipad = Buffer.alloc(blockBytes);
    const opad = Buffer.alloc(blockBytes);
    for (let i = 0; i < blockBytes; i++) {
      ipad[i] = k[i]! ^ 0x36;
      opad[i] = k[i]! ^ 0x5c;
    }
    this.inner = createHash(algorithm).update(ipad);
    this.outer = createHash(algorithm).update(opad);
  }

  digest(data: Uint8Array): Buffer {
    const inner = this.inner.copy().update(data).digest();
    return this.outer.copy().update(inner).digest();
  }
}

/** One crypto configuration (one slot): encrypt-and-sign, authenticate-and-decrypt. */
export class KnetCryptoInstance {
  readonly overhead: CryptoOverhead;
  readonly cipher: KnetCipher;
  readonly hash: KnetHash;
  private readonly hmac: PrecomputedHmac | undefined;
  private readonly hashBytes: number;
  private readonly ecb: Decipher | undefined;
  /** The reused CBC stream (no padding: we pad) and its last ciphertext block. */
  private readonly cbc: Cipher | undefined;
  private readonly chain = Buffer.alloc(AES_BLOCK);
  /** Scratch for one frame's stream input: the steering block, the frame, the padding. */
  private scratch = Buffer.alloc(0);
  private readonly salts = new SaltPool();

  constructor(cfg: KnetCryptoConfig) {
    checkConfig(cfg);
    this.cipher = cfg.cipher;
    this.hash = cfg.hash;
    this.hashBytes = cfg.hash === "none" ? 0 : HASH_BYTES[cfg.hash];
    if (cfg.hash !== "none") this.hmac = new PrecomputedHmac(cfg.hash, cfg.key, HASH_BLOCK_BYTES[cfg.hash]);
    if (cfg.cipher !== "none") {
      const bytes = CIPHER_KEY_BYTES[cfg.cipher];
      const cipherKey = Buffer.from(cfg.key.subarray(0, bytes));
      this.ecb = createDecipheriv(`aes-${bytes * 8}-ecb`, cipherKey, null);
      this.ecb.setAutoPadding(false);
      this.cbc = createCipheriv(`aes-${bytes * 8}-cbc`, cipherKey, this.chain);
      this.cbc.setAutoPadding(false);
    }
    this.overhead = {
      saltBytes: cfg.cipher === "none" ? 0 : KNET_SALT_BYTES,
      hashBytes: this.hashBytes,
      blockBytes: cfg.cipher === "none" ? 0 : AES_BLOCK,
    };
  }

  /** The encrypted size of a `plainLen`-byte frame. */
  sealedSize(plainLen: number): number {
    const body = this.cbc === undefined ? plainLen : KNET_SALT_BYTES + plainLen - (plainLen % AES_BLOCK) + AES_BLOCK;
    return body + this.hashBytes;
  }

  /** Encrypt and sign `plain` with a fresh salt from the pool; a new buffer. */
  encrypt(plain: Uint8Array): Buffer {
    return this.encryptWithSalt(plain, this.cbc === undefined ? undefined : this.salts.take());
  }

  /** `encrypt` with a given salt (deterministic: golden tests re-encrypt captured frames). */
  encryptWithSalt(plain: Uint8Array, salt: Uint8Array | undefined): Buffer {
    if (this.cbc === undefined) {
      const out = Buffer.allocUnsafe(this.sealedSize(plain.byteLength));
      out.set(plain, 0);
      out.set(this.hmac!.digest(plain), plain.byteLength);
      return out;
    }
    if (salt === undefined || salt.byteLength !== KNET_SALT_BYTES) throw new RangeError("knet crypto: a 16-byte salt is required");
    const stream = this.cbc.update(this.streamInput(plain, salt));
    // `stream` = salt ‖ ciphertext (see the file comment); its last block chains the next frame.
    stream.copy(this.chain, 0, stream.length - AES_BLOCK);
    const out = Buffer.allocUnsafe(stream.length + this.hashBytes);
    stream.copy(out, 0);
    if (this.hmac !== undefined) out.set(this.hmac.digest(stream), stream.length);
    return out;
  }

  /** `D(salt) ⊕ chain`, then the frame, then PKCS#7 padding, in the reused scratch buffer. */
  private streamInput(plain: Uint8Array, salt: Uint8Array): Buffer {
    const pad = AES_BLOCK - (plain.byteLength % AES_BLOCK);
    const len = AES_BLOCK + plain.byteLength + pad;
    if (this.scratch.length < len) this.scratch = Buffer.alloc(Math.max(len, 2048));
    const input = this.scratch.subarray(0, len);
    const steer = this.ecb!.update(salt);
    for (let i = 0; i < AES_BLOCK; i++) input[i] = steer[i]! ^ this.chain[i]!;
    input.set(plain, AES_BLOCK);
    input.fill(pad, AES_BLOCK + plain.byteLength);
    return input;
  }

  /** The plaintext frame, or undefined when `sealed` does not authenticate or decrypt. */
  decrypt(sealed: Uint8Array): Uint8Array | undefined {
    let body = sealed.byteLength;
    if (this.hmac !== undefined) {
      body -= this.hashBytes;
      if (body <= 0) return undefined;
      const want = this.hmac.digest(sealed.subarray(0, body));
      const got = sealed.subarray(body, body + this.hashBytes);
      if (!timingSafeEqual(want, got)) return undefined;
    }
    if (this.ecb === undefined) return sealed.subarray(0, body);
    return this.cbcDecrypt(sealed, body);
  }

  /** CBC decryption of `sealed[16..body)` as one ECB pass and an XOR; PKCS#7 removed. */
  private cbcDecrypt(sealed: Uint8Array, body: number): Uint8Array | undefined {
    const ctLen = body - KNET_SALT_BYTES;
    if (ctLen < AES_BLOCK || ctLen % AES_BLOCK !== 0) return undefined;
    const p = this.ecb!.update(sealed.subarray(KNET_SALT_BYTES, body));
    if (p.length !== ctLen) return undefined;
    // Block i was chained with block i − 1 of the ciphertext (the salt for block 0), which
    // sits 16 bytes earlier in `sealed`: plaintext[j] = ecb[j] ^ sealed[j].
    for (let j = 0; j < ctLen; j++) p[j] = p[j]! ^ sealed[j]!;
    const pad = p[ctLen - 1]!;
    if (pad === 0 || pad > AES_BLOCK) return undefined;
    for (let j = ctLen - pad; j < ctLen - 1; j++) if (p[j] !== pad) return undefined;
    return p.subarray(0, ctLen - pad);
  }
}

/** The two crypto slots of a knet handle (knet-spec §6.4). */
export class KnetCrypto {
  readonly stats: KnetCryptoStats = { encrypted: 0, decrypted: 0, failed: 0, otherSlot: 0 };
  private readonly slots: [undefined, KnetCryptoInstance | undefined, KnetCryptoInstance | undefined] = [undefined, undefined, undefined];
  private inUse: 1 | 2 = 1;

  /** Slot 1 holds `cfg` and is in use (corosync's `knet_handle_crypto_set_config(…, 1)`). */
  constructor(cfg: KnetCryptoConfig) {
    this.slots[1] = new KnetCryptoInstance(cfg);
  }

  /** Put a configuration into a slot (the other slot keeps working). */
  install(slot: 1 | 2, cfg: KnetCryptoConfig): void {
    this.slots[slot] = new KnetCryptoInstance(cfg);
  }

  /** Encrypt with `slot` from now on. */
  use(slot: 1 | 2): void {
    if (this.slots[slot] === undefined) throw new KnetCryptoConfigError(`knet crypto slot ${slot} is empty`);
    this.inUse = slot;
  }

  /** Empty the slot not in use (the cleanup phase of a key change). */
  clear(slot: 1 | 2): void {
    if (slot === this.inUse) throw new KnetCryptoConfigError(`knet crypto slot ${slot} is in use`);
    this.slots[slot] = undefined;
  }

  /** The instance encrypting now. */
  get current(): KnetCryptoInstance {
    return this.slots[this.inUse]!;
  }

  encrypt(plain: Uint8Array): Buffer {
    this.stats.encrypted++;
    return this.current.encrypt(plain);
  }

  /** Try the slot in use, then the other; undefined when neither authenticates the frame. */
  decrypt(sealed: Uint8Array): Uint8Array | undefined {
    const first = this.current.decrypt(sealed);
    if (first !== undefined) {
      this.stats.decrypted++;
      return first;
    }
    const other = this.slots[3 - this.inUse];
    const second = other?.decrypt(sealed);
    if (second !== undefined) {
      this.stats.decrypted++;
      this.stats.otherSlot++;
      return second;
    }
    this.stats.failed++;
    return undefined;
  }
}

function checkConfig(cfg: KnetCryptoConfig): void {
  if (cfg.cipher !== "none" && !(cfg.cipher in CIPHER_KEY_BYTES)) throw new KnetCryptoConfigError(`knet does not support crypto_cipher ${cfg.cipher} (aes256, aes192, aes128 or none)`);
  if (cfg.hash !== "none" && !(cfg.hash in HASH_BYTES)) throw new KnetCryptoConfigError(`knet does not support crypto_hash ${cfg.hash}`);
  if (cfg.cipher !== "none" && cfg.hash === "none") throw new KnetCryptoConfigError("crypto_cipher requires crypto_hash with value other than none");
  if (cfg.cipher === "none" && cfg.hash === "none") throw new KnetCryptoConfigError("knet crypto needs a cipher or a hash (both are none)");
  if (cfg.key.byteLength < AUTHKEY_MIN_BYTES || cfg.key.byteLength > AUTHKEY_MAX_BYTES) {
    throw new KnetCryptoConfigError(`knet crypto key is ${cfg.key.byteLength} bytes; it must be ${AUTHKEY_MIN_BYTES}…${AUTHKEY_MAX_BYTES}`);
  }
}
