/**
 * The secauth envelope: authenticated encryption (or authentication only) of every Totem
 * datagram on udp/udpu. Corosync 3 has no crypto on these transports; this format is this
 * product's own (README decision 2) and docs/secauth.md describes it byte by byte.
 *
 *   offset  0       2    3    4          8                 16          20          20+n
 *           | magic | ver| sui| node id  | epoch           | counter   | payload   | tag  |
 *           | 5E CA | 01 | id | u32 BE   | 8 random bytes  | u32 BE    | n bytes   | 16 B |
 *           |<------------ header: 20 bytes, the AAD ------------------>|
 *                                       |<------ nonce: 12 bytes ------>|
 *
 * Keys: cluster key = HKDF-SHA256(authkey, salt "corosync-ts secauth v1", info binding the
 * suite, crypto_hash and cluster_name); sender key = HKDF-Expand(cluster key, "sender-key" ‖ 0x00 ‖ node id).
 * Nonce = epoch ‖ counter: for one sender key (one node id) it never repeats, because the
 * counter only grows within an epoch and every start (and every counter exhaustion) draws a
 * fresh random 64-bit epoch; two epochs of a node collide with probability ≈ E²/2⁶⁵ over E
 * epochs. Randomness is drawn once per epoch, never per datagram.
 *
 * `open` never throws on any input: every failure is an `OpenFailure` reason, counted in
 * `stats`. Order of checks: length and header (cheap), then replay (read-only), then the
 * tag; state changes only after the tag verified.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, createSecretKey, getCiphers, getHashes, randomBytes, timingSafeEqual, type KeyObject } from "node:crypto";
import { hkdf, hkdfExpand } from "./hkdf.js";
import { DEFAULT_MAX_SENDERS, SenderTable } from "./replay.js";
import { EnvelopeConfigError, modeBinding, suiteById, suiteForMode, type EnvelopeMode, type Suite } from "./suite.js";
import { AUTHKEY_MAX_BYTES, AUTHKEY_MIN_BYTES } from "./limits.js";

export { EnvelopeConfigError, type EnvelopeMode, type Suite } from "./suite.js";

/** First two header bytes. Plain Totem frames begin 70 C0 (LE) or C0 70 (BE); 2.x crypto FE FE. */
export const ENVELOPE_MAGIC = Object.freeze([0x5e, 0xca] as const);
export const ENVELOPE_VERSION = 1;
export const HEADER_BYTES = 20;
export const TAG_BYTES = 16;
/** Bytes the envelope adds to a frame: the netmtu budget must leave room for them. */
export const ENVELOPE_OVERHEAD = HEADER_BYTES + TAG_BYTES;
/** Counter values per epoch: a u32. At the last one the sender draws a new epoch. */
export const COUNTER_MAX = 0xffff_ffff;

const OFF_SUITE = 3;
const OFF_NODEID = 4;
const OFF_EPOCH = 8;
const OFF_COUNTER = 16;
const EPOCH_BYTES = 8;

/** HKDF salt of the cluster key; also names the format version. */
export const KDF_SALT = "corosync-ts secauth v1";
/** HKDF info prefix of the cluster key; followed by the mode binding and the cluster name. */
export const KDF_CLUSTER_INFO = "cluster-key";
/** HKDF-Expand info prefix of a sender key; followed by 0x00 and the node id (u32 BE). */
export const KDF_SENDER_INFO = "sender-key";

/** Why `open` refused a datagram. */
export type OpenFailure =
  | "invalid_digest" // the tag does not verify, or the sender uses another suite: key, cluster_name or crypto settings differ
  | "bad_header" // not an envelope (unknown magic), or an unknown version or suite, or node id 0
  | "replay" // a counter or epoch this receiver has already seen from that sender
  | "too_short" // shorter than an envelope header plus tag
  | "plaintext"; // a plain Totem frame (magic 70 C0 / C0 70) while secauth is on

export type OpenResult =
  | { ok: true; frame: Uint8Array; /** The sender's node id from the authenticated header. */ nodeId: number }
  | { ok: false; reason: OpenFailure; /** Set when there is more to say than the reason. */ detail?: string };

export interface EnvelopeStats {
  sealed: number;
  opened: number;
  rejected: Record<OpenFailure, number>;
  /** New epochs drawn after the start (counter exhaustion). */
  epochRotations: number;
  /** Senders with replay state; at most `maxSenders`. */
  senders: number;
  /** Senders forgotten to stay within `maxSenders`. */
  senderEvictions: number;
}

export interface EnvelopeOptions {
  mode: EnvelopeMode;
  /** The authkey's contents: 128..4096 bytes (keyfile.ts reads and checks the file). */
  key: Uint8Array;
  /** `totem.cluster_name` (corosync's default is the empty string's absence; pass "" then). */
  clusterName: string;
  /** This node's id: a u32 other than 0, unique in the cluster (nonces depend on it). */
  nodeId: number;
  /** Source of epochs; `crypto.randomBytes` by default. Called once per epoch. */
  random?: (n: number) => Uint8Array;
  /** Senders tracked for replay protection; default 512. */
  maxSenders?: number;
  /** Testing only: the counter of the first seal (to reach exhaustion quickly). */
  initialCounter?: number;
}

export interface Envelope {
  readonly suite: Suite;
  /** Bytes added to each frame (36). */
  readonly overhead: number;
  /** Wraps a Totem frame into a new datagram. The frame is not kept or changed. */
  seal(frame: Uint8Array): Uint8Array;
  /**
   * Verifies and unwraps a datagram. Never throws. `frame` is a new buffer with a cipher; in
   * hmac suites it is a view into `datagram` (copy it before reusing the datagram's memory).
   */
  open(datagram: Uint8Array): OpenResult;
  /** The counters, updated in place as the envelope works (read them, do not write them). */
  readonly stats: Readonly<EnvelopeStats>;
}

/** Builds an envelope; throws `EnvelopeConfigError` for a mode, key or node id it cannot use. */
export function createEnvelope(opts: EnvelopeOptions): Envelope {
  return new SecauthEnvelope(opts);
}

/** The cluster key: binds authkey, suite, crypto_hash and cluster name (docs/secauth.md "Keys"). */
export function deriveClusterKey(key: Uint8Array, mode: EnvelopeMode, suite: Suite, clusterName: string): Buffer {
  const clusterNameHash = createHash("sha256").update(clusterName, "utf8").digest();
  const info = Buffer.concat([Buffer.from(`${KDF_CLUSTER_INFO}\0${modeBinding(mode, suite)}\0`, "utf8"), clusterNameHash]);
  return hkdf(key, Buffer.from(KDF_SALT, "utf8"), info, 32);
}

/** A sender's key, from the cluster key and its node id. */
export function deriveSenderKey(clusterKey: Uint8Array, suite: Suite, nodeId: number): Buffer {
  const info = Buffer.alloc(KDF_SENDER_INFO.length + 5);
  info.write(KDF_SENDER_INFO, 0, "latin1");
  info.writeUInt32BE(nodeId >>> 0, KDF_SENDER_INFO.length + 1);
  return Buffer.from(hkdfExpand(clusterKey, info, suite.keyLength));
}

/** True for the first two bytes of a plain Totem frame in either byte order. */
export function isPlainTotemMagic(b0: number, b1: number): boolean {
  return (b0 === 0x70 && b1 === 0xc0) || (b0 === 0xc0 && b1 === 0x70);
}

const FAIL: Readonly<Record<OpenFailure, OpenResult>> = Object.freeze({
  invalid_digest: Object.freeze({ ok: false, reason: "invalid_digest" }),
  bad_header: Object.freeze({ ok: false, reason: "bad_header" }),
  replay: Object.freeze({ ok: false, reason: "replay" }),
  too_short: Object.freeze({ ok: false, reason: "too_short" }),
  plaintext: Object.freeze({ ok: false, reason: "plaintext" }),
});

class SecauthEnvelope implements Envelope {
  readonly suite: Suite;
  readonly overhead = ENVELOPE_OVERHEAD;
  private readonly clusterKey: Buffer;
  private readonly nodeId: number;
  private readonly random: (n: number) => Uint8Array;
  private readonly sendKey: KeyObject;
  /** The header of the next datagram: magic, version, suite, node id, epoch; the counter is written per seal. */
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private counter: number;
  private readonly senders: SenderTable<KeyObject>;
  readonly stats: EnvelopeStats = {
    sealed: 0,
    opened: 0,
    rejected: { invalid_digest: 0, bad_header: 0, replay: 0, too_short: 0, plaintext: 0 },
    epochRotations: 0,
    senders: 0,
    senderEvictions: 0,
  };

  constructor(opts: EnvelopeOptions) {
    this.suite = suiteForMode(opts.mode);
    checkAvailable(this.suite);
    checkKey(opts.key);
    checkNodeId(opts.nodeId);
    this.nodeId = opts.nodeId;
    this.random = opts.random ?? randomBytes;
    this.senders = new SenderTable<KeyObject>(opts.maxSenders ?? DEFAULT_MAX_SENDERS);
    this.counter = checkInitialCounter(opts.initialCounter ?? 0);
    this.clusterKey = deriveClusterKey(opts.key, opts.mode, this.suite, opts.clusterName);
    this.sendKey = createSecretKey(deriveSenderKey(this.clusterKey, this.suite, this.nodeId));
    this.header[0] = ENVELOPE_MAGIC[0];
    this.header[1] = ENVELOPE_MAGIC[1];
    this.header[2] = ENVELOPE_VERSION;
    this.header[OFF_SUITE] = this.suite.id;
    this.header.writeUInt32BE(this.nodeId, OFF_NODEID);
    this.drawEpoch();
  }

  seal(frame: Uint8Array): Uint8Array {
    if (this.counter > COUNTER_MAX) this.rotateEpoch();
    const header = this.header;
    header.writeUInt32BE(this.counter++, OFF_COUNTER);
    let out: Buffer;
    if (this.suite.kind === "aead") {
      // The header buffer is reused: createCipheriv and setAAD consume it before returning,
      // and concat copies it. One allocation (the datagram) besides OpenSSL's own.
      const cipher = createCipheriv(this.suite.algorithm as "aes-256-gcm", this.sendKey, header.subarray(OFF_EPOCH), { authTagLength: TAG_BYTES });
      cipher.setAAD(header);
      const body = cipher.update(frame);
      cipher.final();
      out = Buffer.concat([header, body, cipher.getAuthTag()], HEADER_BYTES + frame.length + TAG_BYTES);
    } else {
      const tag = hmacTag(this.suite, this.sendKey, header, frame);
      out = Buffer.concat([header, frame, tag], HEADER_BYTES + frame.length + TAG_BYTES);
    }
    this.stats.sealed++;
    return out;
  }

  open(d: Uint8Array): OpenResult {
    const bad = this.checkHeader(d);
    if (bad !== undefined) return this.reject(bad);
    const nodeId = readU32BE(d, OFF_NODEID);
    const epochHi = readU32BE(d, OFF_EPOCH);
    const epochLo = readU32BE(d, OFF_EPOCH + 4);
    const counter = readU32BE(d, OFF_COUNTER);
    const check = this.senders.check(nodeId, epochHi, epochLo, counter);
    if (check === "duplicate" || check === "too_old" || check === "retired_epoch") return this.reject(FAIL.replay);
    // An unauthenticated node id gets a raw key: a KeyObject (2 µs) only once it verified.
    const known = this.senders.keyOf(nodeId);
    const key = known ?? deriveSenderKey(this.clusterKey, this.suite, nodeId);
    const frame = this.suite.kind === "aead" ? aeadOpen(this.suite, key, d) : hmacOpen(this.suite, key, d);
    if (frame === undefined) return this.reject(FAIL.invalid_digest);
    this.senders.accept(nodeId, epochHi, epochLo, counter, known ?? createSecretKey(key as Buffer));
    this.stats.opened++;
    if (known === undefined) {
      this.stats.senders = this.senders.size;
      this.stats.senderEvictions = this.senders.evictions;
    }
    return { ok: true, frame, nodeId };
  }

  /** The failure of a datagram whose header cannot be ours, or undefined if it may be. */
  private checkHeader(d: Uint8Array): OpenResult | undefined {
    const n = d.length;
    if (n >= 2 && isPlainTotemMagic(d[0]!, d[1]!)) return FAIL.plaintext;
    if (n < 4) return FAIL.too_short;
    if (d[0] !== ENVELOPE_MAGIC[0] || d[1] !== ENVELOPE_MAGIC[1]) return FAIL.bad_header;
    if (d[2] !== ENVELOPE_VERSION) return { ok: false, reason: "bad_header", detail: `envelope version ${d[2]}, this node speaks ${ENVELOPE_VERSION}` };
    const suite = suiteById(d[OFF_SUITE]!);
    if (suite === undefined) return { ok: false, reason: "bad_header", detail: `unknown secauth suite 0x${d[OFF_SUITE]!.toString(16).padStart(2, "0")}` };
    if (suite !== this.suite) return { ok: false, reason: "invalid_digest", detail: `sender uses ${suite.name}, this node ${this.suite.name}` };
    if (n < ENVELOPE_OVERHEAD) return FAIL.too_short;
    if (readU32BE(d, OFF_NODEID) === 0) return { ok: false, reason: "bad_header", detail: "sender node id 0" };
    return undefined;
  }

  private reject(r: OpenResult): OpenResult {
    if (!r.ok) this.stats.rejected[r.reason]++;
    return r;
  }

  private drawEpoch(): void {
    const epoch = this.random(EPOCH_BYTES);
    if (epoch.length !== EPOCH_BYTES) throw new EnvelopeConfigError("BAD_OPTION", `random(${EPOCH_BYTES}) returned ${epoch.length} bytes`);
    this.header.set(epoch, OFF_EPOCH);
  }

  /** Counter exhausted: a new random epoch makes every later nonce new again. */
  private rotateEpoch(): void {
    this.drawEpoch();
    this.counter = 0;
    this.stats.epochRotations++;
  }
}

function readU32BE(d: Uint8Array, at: number): number {
  return ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
}

function hmacTag(suite: Suite, key: KeyObject | Buffer, header: Uint8Array, payload: Uint8Array): Buffer {
  return createHmac(suite.algorithm, key).update(header).update(payload).digest();
}

/** Decrypts and verifies; undefined when the tag does not verify. */
function aeadOpen(suite: Suite, key: KeyObject | Buffer, d: Uint8Array): Uint8Array | undefined {
  const tagAt = d.length - TAG_BYTES;
  const decipher = createDecipheriv(suite.algorithm as "aes-256-gcm", key, d.subarray(OFF_EPOCH, HEADER_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(d.subarray(0, HEADER_BYTES));
  const frame = decipher.update(d.subarray(HEADER_BYTES, tagAt));
  decipher.setAuthTag(d.subarray(tagAt));
  // A failed tag makes final() throw. Skip the stack capture: a flood of forged datagrams
  // would otherwise pay for one per datagram (about 3 µs of the 12 µs a rejection costs).
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    decipher.final();
    return frame;
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Verifies the truncated HMAC; the frame is a view into the datagram. */
function hmacOpen(suite: Suite, key: KeyObject | Buffer, d: Uint8Array): Uint8Array | undefined {
  const tagAt = d.length - TAG_BYTES;
  const frame = d.subarray(HEADER_BYTES, tagAt);
  const expected = hmacTag(suite, key, d.subarray(0, HEADER_BYTES), frame).subarray(0, TAG_BYTES);
  return timingSafeEqual(expected, d.subarray(tagAt)) ? frame : undefined;
}

function checkAvailable(suite: Suite): void {
  const have = suite.kind === "aead" ? getCiphers() : getHashes();
  if (!have.includes(suite.algorithm)) {
    throw new EnvelopeConfigError("UNSUPPORTED", `${suite.name} is not available in this Node.js build (${process.versions.openssl ? `OpenSSL ${process.versions.openssl}` : "no OpenSSL"})`);
  }
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length < AUTHKEY_MIN_BYTES || key.length > AUTHKEY_MAX_BYTES) {
    const len = key instanceof Uint8Array ? `${key.length} bytes` : "not bytes";
    throw new EnvelopeConfigError("BAD_KEY", `the authkey must be ${AUTHKEY_MIN_BYTES}..${AUTHKEY_MAX_BYTES} bytes (got ${len})`);
  }
}

function checkNodeId(nodeId: number): void {
  if (!Number.isInteger(nodeId) || nodeId < 1 || nodeId > 0xffff_ffff) {
    throw new EnvelopeConfigError("BAD_NODE_ID", `the local node id must be an integer in 1..4294967295 (got ${nodeId})`);
  }
}

function checkInitialCounter(c: number): number {
  if (!Number.isInteger(c) || c < 0 || c > COUNTER_MAX) throw new EnvelopeConfigError("BAD_OPTION", `initialCounter must be a u32 (got ${c})`);
  return c;
}
