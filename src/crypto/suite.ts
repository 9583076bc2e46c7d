/**
 * The secauth suites: which primitive protects a datagram for each `crypto_cipher` /
 * `crypto_hash` pair of the configuration (docs/secauth.md "Modes").
 *
 * - `aes256` / `aes192` / `aes128` → AES-GCM with a 256/192/128-bit key: the name keeps
 *   the key size the administrator asked for (corosync 2.x used these names for AES-CBC of
 *   the same key sizes); the mode is GCM because an AEAD needs one pass and one object.
 * - `chacha20` → ChaCha20-Poly1305 (this product's extension).
 * - `none` with a hash → HMAC-<hash> over header and frame, tag truncated to 16 bytes
 *   (authentication only, the frame travels in clear).
 * - With a cipher, `crypto_hash` is not a second MAC (the AEAD tag authenticates) but it is
 *   bound into the derived keys, so nodes must agree on it as they must in corosync.
 * - 1.x `secauth: on` arrives here as aes256 + sha256 (config `effectiveCrypto`).
 */
import type { CryptoCipher, CryptoHash } from "../config/schema.js";

/** The configuration's crypto pair (`CorosyncConfig.crypto.cipher` / `.hash`). */
export interface EnvelopeMode {
  cipher: CryptoCipher;
  hash: CryptoHash;
}

export interface Suite {
  /** Byte 3 of the envelope header. */
  readonly id: number;
  /** Name in logs, docs and key derivation, e.g. "aes-256-gcm", "hmac-sha256". */
  readonly name: string;
  readonly kind: "aead" | "hmac";
  /** node:crypto name: a cipher for "aead", a hash for "hmac". */
  readonly algorithm: string;
  /** Bytes of the per-sender key. */
  readonly keyLength: number;
}

/** Every suite, by header id. Ids are part of the wire format: never renumber. */
export const SUITES: readonly Suite[] = Object.freeze([
  { id: 0x01, name: "aes-256-gcm", kind: "aead", algorithm: "aes-256-gcm", keyLength: 32 },
  { id: 0x02, name: "aes-192-gcm", kind: "aead", algorithm: "aes-192-gcm", keyLength: 24 },
  { id: 0x03, name: "aes-128-gcm", kind: "aead", algorithm: "aes-128-gcm", keyLength: 16 },
  { id: 0x04, name: "chacha20-poly1305", kind: "aead", algorithm: "chacha20-poly1305", keyLength: 32 },
  { id: 0x11, name: "hmac-md5", kind: "hmac", algorithm: "md5", keyLength: 32 },
  { id: 0x12, name: "hmac-sha1", kind: "hmac", algorithm: "sha1", keyLength: 32 },
  { id: 0x13, name: "hmac-sha256", kind: "hmac", algorithm: "sha256", keyLength: 32 },
  { id: 0x14, name: "hmac-sha384", kind: "hmac", algorithm: "sha384", keyLength: 32 },
  { id: 0x15, name: "hmac-sha512", kind: "hmac", algorithm: "sha512", keyLength: 32 },
] satisfies Suite[]);

const BY_ID: ReadonlyArray<Suite | undefined> = (() => {
  const table: Array<Suite | undefined> = new Array(256).fill(undefined);
  for (const s of SUITES) table[s.id] = s;
  return table;
})();

const AEAD_FOR_CIPHER: Readonly<Record<Exclude<CryptoCipher, "none">, string>> = {
  aes256: "aes-256-gcm",
  aes192: "aes-192-gcm",
  aes128: "aes-128-gcm",
  chacha20: "chacha20-poly1305",
};

export type EnvelopeConfigErrorCode =
  | "SECAUTH_OFF" // cipher and hash are both none: there is no envelope to make
  | "CIPHER_NEEDS_HASH" // corosync's rule: a cipher without a hash is refused
  | "UNSUPPORTED" // this Node.js build lacks the primitive (e.g. md5 under FIPS)
  | "BAD_KEY" // the authkey is shorter or longer than allowed
  | "BAD_NODE_ID" // the local node id is not a u32 other than 0
  | "BAD_OPTION"; // another option out of range

/** A secauth setting or argument the envelope cannot work with (a startup error, never a network one). */
export class EnvelopeConfigError extends Error {
  override readonly name = "EnvelopeConfigError";
  constructor(
    readonly code: EnvelopeConfigErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The suite a header byte names, or undefined for an unknown byte. */
export function suiteById(id: number): Suite | undefined {
  return BY_ID[id];
}

/** The suite a configuration selects; throws `EnvelopeConfigError` for a pair without one. */
export function suiteForMode(mode: EnvelopeMode): Suite {
  if (mode.cipher === "none" && mode.hash === "none") {
    throw new EnvelopeConfigError("SECAUTH_OFF", "crypto_cipher and crypto_hash are both none: secauth is off, no envelope is used");
  }
  if (mode.cipher !== "none" && mode.hash === "none") {
    throw new EnvelopeConfigError("CIPHER_NEEDS_HASH", "crypto_cipher requires crypto_hash with value other than none");
  }
  const name = mode.cipher === "none" ? `hmac-${mode.hash}` : AEAD_FOR_CIPHER[mode.cipher];
  const suite = SUITES.find((s) => s.name === name);
  if (suite === undefined) throw new EnvelopeConfigError("UNSUPPORTED", `no secauth suite for crypto_cipher ${mode.cipher}, crypto_hash ${mode.hash}`);
  return suite;
}

/**
 * The text bound into the cluster key: the suite and the configured hash. Two nodes whose
 * texts differ derive different keys and see each other's datagrams as "invalid digest".
 */
export function modeBinding(mode: EnvelopeMode, suite: Suite): string {
  return `suite=${suite.name} hash=${mode.hash}`;
}
