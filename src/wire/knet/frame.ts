/**
 * kronosnet (knet) on-wire version 1 frames, as libknet 1.x sends them under corosync 3
 * (knet-spec §3): the 6-byte common header and the DATA, PING, PONG, PMTUD and PMTUD_REPLY
 * bodies. This is the plaintext frame; crypto (src/crypto/knet.ts) wraps the whole of it.
 *
 * Byte order is mixed, as on the wire: host id and sequence numbers are big-endian; the ping
 * timestamp and the PMTUd size are the sender's native order (little-endian on every
 * platform corosync ships on), so they are read and written little-endian here.
 *
 * `decodeKnetFrame` never throws: a frame that breaks a rule comes back as a `DecodeError`
 * (style.md "Bytes are hostile"). `encodeKnetFrame(decodeKnetFrame(b))` gives `b` back byte
 * for byte, pad bytes included (knet 2.x puts its highest on-wire version in byte 4).
 * The `write*` helpers fill a caller's buffer for the hot path (no allocation).
 *
 * Pure: no node:* imports.
 */
import { DecodeError, type Decoded } from "../errors.js";

/** `KNET_HEADER_VERSION`: the only on-wire version libknet 1.x sends or accepts. */
export const KNET_VERSION = 1;

/** `kh_type` values. Bit 0x80 marks a link-level (control) frame. */
export const KnetType = {
  DATA: 0x00,
  PING: 0x81,
  PONG: 0x82,
  PMTUD: 0x83,
  PMTUD_REPLY: 0x84,
} as const;
export type KnetType = (typeof KnetType)[keyof typeof KnetType];

/** Control frames (ping, pong, PMTUd) have this bit set in `kh_type`. */
export const KNET_CONTROL_BIT = 0x80;

/** `KNET_HEADER_SIZE`: version, type, host id (BE u16), two pad bytes. */
export const KNET_HEADER_SIZE = 6;
/** `KNET_HEADER_DATA_SIZE`: the common header plus the 8-byte DATA header. */
export const KNET_DATA_HEADER_SIZE = 14;
/** `KNET_HEADER_PING_SIZE`: a whole PING or PONG frame. */
export const KNET_PING_SIZE = 26;
/** `KNET_HEADER_PMTUD_SIZE`: a PMTUD_REPLY frame, and the fixed part of a PMTUD probe. */
export const KNET_PMTUD_SIZE = 9;
/** `KNET_HEADER_ALL_SIZE`: sizeof(struct knet_header); the MTU arithmetic uses it. */
export const KNET_HEADER_ALL_SIZE = 26;
/** `KNET_MAX_PACKET_SIZE`: the largest application packet (one Totem message). */
export const KNET_MAX_PACKET_SIZE = 65536;
/** `KNET_MAX_LINK`: link ids 0…7. */
export const KNET_MAX_LINK = 8;
/** Host ids are u16 (`KNET_MAX_HOST`). */
export const KNET_MAX_HOST = 65536;
/** Frames shorter than this are dropped before anything else is read (knet's rule). */
export const KNET_MIN_FRAME = KNET_HEADER_SIZE + 1;
/** Length of the ping timestamp (`struct timespec`: i64 seconds, i64 nanoseconds). */
export const KNET_PING_TIME_SIZE = 16;

/** Fields every frame has. */
export interface KnetHeader {
  /** Sender's host id = its corosync nodeid. */
  hostId: number;
  /** Byte 4: 0 from knet 1.x (`kh_pad1`), the highest on-wire version from knet 2.x. */
  maxVer: number;
  /** Byte 5 (`kh_pad2`), 0. */
  pad: number;
}

/** DATA: one application packet (a Totem message) or one fragment of it. */
export interface KnetData extends KnetHeader {
  type: typeof KnetType.DATA;
  /** Per-sender packet counter, 1…65535 (0 is never sent). */
  seq: number;
  /** Compression model id; 0 = not compressed (corosync's default). */
  compress: number;
  /** Byte 9 (`khp_data_pad1`). */
  dataPad: number;
  /** 1 = sent to every reachable host, 0 = unicast (informational). */
  bcast: number;
  /** Number of fragments; 1 = not fragmented. */
  fragNum: number;
  /** 0 when not fragmented, else 1…fragNum. */
  fragSeq: number;
  /** Signed channel number; corosync uses 0. */
  channel: number;
  /** The user data: a view into the decoded frame, not a copy. */
  payload: Uint8Array;
}

/** PING or PONG: a PONG is the PING echoed back with the type and host id replaced. */
export interface KnetPing extends KnetHeader {
  type: typeof KnetType.PING | typeof KnetType.PONG;
  /** The pinger's link id for this destination. */
  link: number;
  /** The pinger's monotonic clock (16 bytes, opaque to the ponger): a view, not a copy. */
  time: Uint8Array;
  /** The pinger's current DATA sequence number (0 before it sent any data). */
  seq: number;
  /** 1 = regular heartbeat, 0 = "untimed" ping sent every 8191 DATA packets. */
  timed: number;
}

/** PMTUD probe: padded with `fill` to the probed size. */
export interface KnetPmtud extends KnetHeader {
  type: typeof KnetType.PMTUD;
  link: number;
  /** The probed on-wire size (IP + UDP + payload), native (LE) order. */
  size: number;
  /** The padding after the fixed part (zeros from libknet): a view, not a copy. */
  fill: Uint8Array;
}

/** PMTUD_REPLY: the first 9 bytes of the probe, echoed with the replier's host id. */
export interface KnetPmtudReply extends KnetHeader {
  type: typeof KnetType.PMTUD_REPLY;
  link: number;
  size: number;
}

export type KnetFrame = KnetData | KnetPing | KnetPmtud | KnetPmtudReply;

function fail(code: "TRUNCATED" | "TRAILING_BYTES" | "BAD_VERSION" | "BAD_TYPE" | "BAD_VALUE", field: string, message: string): Decoded<KnetFrame> {
  return { ok: false, error: new DecodeError(code, field, message) };
}

/** Big-endian u16 (host id, sequence numbers). Unchecked: the caller checked the length. */
export function readBE16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function writeBE16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

/** The sender's host id of a frame of at least 4 bytes (for logs before a full decode). */
export function peekHostId(b: Uint8Array): number | undefined {
  return b.byteLength >= 4 ? readBE16(b, 2) : undefined;
}

/**
 * Decode one plaintext knet frame, checking in knet's order: length ≥ 7, version 1, a known
 * type, then the type's own length and field rules:
 * - DATA: ≥ 14 bytes and at least one byte of user data; `fragNum` ≥ 1; when fragmented,
 *   1 ≤ `fragSeq` ≤ `fragNum` (the checks knet 1.25 lacked, CVE fixes in later releases).
 * - PING / PONG: exactly 26 bytes.  PMTUD: ≥ 9 bytes.  PMTUD_REPLY: exactly 9 bytes.
 * The link id of control frames is not range-checked here (knet uses it modulo 8).
 */
export function decodeKnetFrame(b: Uint8Array): Decoded<KnetFrame> {
  if (b.byteLength < KNET_MIN_FRAME) return fail("TRUNCATED", "knet.header", `${b.byteLength} bytes, a knet frame needs at least ${KNET_MIN_FRAME}`);
  if (b[0] !== KNET_VERSION) return fail("BAD_VERSION", "knet.version", `on-wire version ${b[0]}, expected ${KNET_VERSION}`);
  const type = b[1]!;
  switch (type) {
    case KnetType.DATA:
      return decodeData(b);
    case KnetType.PING:
    case KnetType.PONG:
      return decodePing(b, type);
    case KnetType.PMTUD:
    case KnetType.PMTUD_REPLY:
      return decodePmtud(b, type);
    default:
      return fail("BAD_TYPE", "knet.type", `unknown frame type 0x${type.toString(16)}`);
  }
}

function decodeData(b: Uint8Array): Decoded<KnetFrame> {
  if (b.byteLength <= KNET_DATA_HEADER_SIZE) return fail("TRUNCATED", "knet.data", `${b.byteLength}-byte DATA frame carries no user data`);
  const fragNum = b[11]!;
  const fragSeq = b[12]!;
  if (fragNum === 0) return fail("BAD_VALUE", "knet.data.frag_num", "frag_num 0");
  if (fragNum > 1 && (fragSeq === 0 || fragSeq > fragNum)) return fail("BAD_VALUE", "knet.data.frag_seq", `fragment ${fragSeq} of ${fragNum}`);
  const frame: KnetData = {
    type: KnetType.DATA,
    hostId: readBE16(b, 2),
    maxVer: b[4]!,
    pad: b[5]!,
    seq: readBE16(b, 6),
    compress: b[8]!,
    dataPad: b[9]!,
    bcast: b[10]!,
    fragNum,
    fragSeq,
    channel: (b[13]! << 24) >> 24,
    payload: b.subarray(KNET_DATA_HEADER_SIZE),
  };
  return { ok: true, value: frame };
}

function decodePing(b: Uint8Array, type: typeof KnetType.PING | typeof KnetType.PONG): Decoded<KnetFrame> {
  if (b.byteLength < KNET_PING_SIZE) return fail("TRUNCATED", "knet.ping", `${b.byteLength}-byte ping/pong, expected ${KNET_PING_SIZE}`);
  if (b.byteLength > KNET_PING_SIZE) return fail("TRAILING_BYTES", "knet.ping", `${b.byteLength}-byte ping/pong, expected ${KNET_PING_SIZE}`);
  const frame: KnetPing = { type, hostId: readBE16(b, 2), maxVer: b[4]!, pad: b[5]!, link: b[6]!, time: b.subarray(7, 23), seq: readBE16(b, 23), timed: b[25]! };
  return { ok: true, value: frame };
}

function decodePmtud(b: Uint8Array, type: typeof KnetType.PMTUD | typeof KnetType.PMTUD_REPLY): Decoded<KnetFrame> {
  if (b.byteLength < KNET_PMTUD_SIZE) return fail("TRUNCATED", "knet.pmtud", `${b.byteLength}-byte PMTUd frame, needs ${KNET_PMTUD_SIZE}`);
  const head: KnetHeader = { hostId: readBE16(b, 2), maxVer: b[4]!, pad: b[5]! };
  const link = b[6]!;
  const size = b[7]! | (b[8]! << 8);
  if (type === KnetType.PMTUD) return { ok: true, value: { type, ...head, link, size, fill: b.subarray(KNET_PMTUD_SIZE) } };
  if (b.byteLength > KNET_PMTUD_SIZE) return fail("TRAILING_BYTES", "knet.pmtud_reply", `${b.byteLength}-byte PMTUd reply, expected ${KNET_PMTUD_SIZE}`);
  return { ok: true, value: { type, ...head, link, size } };
}

/** The encoded length of a frame. */
export function knetFrameSize(f: KnetFrame): number {
  switch (f.type) {
    case KnetType.DATA:
      return KNET_DATA_HEADER_SIZE + f.payload.byteLength;
    case KnetType.PING:
    case KnetType.PONG:
      return KNET_PING_SIZE;
    case KnetType.PMTUD:
      return KNET_PMTUD_SIZE + f.fill.byteLength;
    case KnetType.PMTUD_REPLY:
      return KNET_PMTUD_SIZE;
  }
}

/** Encode a frame into a new array (the exact inverse of `decodeKnetFrame`). */
export function encodeKnetFrame(f: KnetFrame): Uint8Array {
  const b = new Uint8Array(knetFrameSize(f));
  writeKnetHeader(b, 0, f.type, f.hostId, f.maxVer, f.pad);
  switch (f.type) {
    case KnetType.DATA:
      writeDataFields(b, 0, f.seq, f.bcast, f.fragNum, f.fragSeq, f.channel, f.compress, f.dataPad);
      b.set(f.payload, KNET_DATA_HEADER_SIZE);
      break;
    case KnetType.PING:
    case KnetType.PONG:
      b[6] = f.link;
      b.set(f.time.subarray(0, KNET_PING_TIME_SIZE), 7);
      writeBE16(b, 23, f.seq);
      b[25] = f.timed;
      break;
    case KnetType.PMTUD:
      writePmtudFields(b, 0, f.link, f.size);
      b.set(f.fill, KNET_PMTUD_SIZE);
      break;
    case KnetType.PMTUD_REPLY:
      writePmtudFields(b, 0, f.link, f.size);
      break;
  }
  return b;
}

/** The 6-byte common header at `o`. */
export function writeKnetHeader(b: Uint8Array, o: number, type: KnetType, hostId: number, maxVer = 0, pad = 0): void {
  b[o] = KNET_VERSION;
  b[o + 1] = type;
  writeBE16(b, o + 2, hostId);
  b[o + 4] = maxVer;
  b[o + 5] = pad;
}

/** The 8 DATA-specific header bytes of a frame starting at `o` (the common header is separate). */
export function writeDataFields(b: Uint8Array, o: number, seq: number, bcast: number, fragNum: number, fragSeq: number, channel = 0, compress = 0, dataPad = 0): void {
  writeBE16(b, o + 6, seq);
  b[o + 8] = compress;
  b[o + 9] = dataPad;
  b[o + 10] = bcast;
  b[o + 11] = fragNum;
  b[o + 12] = fragSeq;
  b[o + 13] = channel & 0xff;
}

/** Link id and size (LE u16) of a PMTUD / PMTUD_REPLY frame starting at `o`. */
export function writePmtudFields(b: Uint8Array, o: number, link: number, size: number): void {
  b[o + 6] = link;
  b[o + 7] = size & 0xff;
  b[o + 8] = (size >>> 8) & 0xff;
}

/**
 * A whole PING (or PONG) frame at `o`: our clock `timeMs` (monotonic milliseconds) as a
 * little-endian timespec, our current DATA seq, and the timed flag.
 */
export function writePing(b: Uint8Array, o: number, type: typeof KnetType.PING | typeof KnetType.PONG, hostId: number, link: number, timeMs: number, seq: number, timed: number): void {
  writeKnetHeader(b, o, type, hostId);
  b[o + 6] = link;
  writeTimespec(b, o + 7, timeMs);
  writeBE16(b, o + 23, seq);
  b[o + 25] = timed;
}

/** `timeMs` (≥ 0) as a little-endian `struct timespec` (i64 seconds, i64 nanoseconds). */
export function writeTimespec(b: Uint8Array, o: number, timeMs: number): void {
  const sec = Math.floor(timeMs / 1000);
  const nsec = Math.min(999_999_999, Math.round((timeMs - sec * 1000) * 1e6));
  writeLE64(b, o, sec);
  writeLE64(b, o + 8, nsec);
}

/**
 * A little-endian timespec back in milliseconds; undefined when it is not one we could have
 * written (negative, nanoseconds out of range, or seconds beyond 2^53 / 1000).
 */
export function readTimespecMs(b: Uint8Array, o: number): number | undefined {
  const sec = readLE64(b, o);
  const nsec = readLE64(b, o + 8);
  if (sec === undefined || nsec === undefined || nsec > 999_999_999 || sec > Number.MAX_SAFE_INTEGER / 1000) return undefined;
  return sec * 1000 + nsec / 1e6;
}

function writeLE64(b: Uint8Array, o: number, v: number): void {
  const lo = v % 0x1_0000_0000;
  const hi = Math.floor(v / 0x1_0000_0000);
  for (let i = 0; i < 4; i++) {
    b[o + i] = (lo >>> (8 * i)) & 0xff;
    b[o + 4 + i] = (hi >>> (8 * i)) & 0xff;
  }
}

/** An LE i64 as a number when it is non-negative and below 2^53, else undefined. */
function readLE64(b: Uint8Array, o: number): number | undefined {
  const lo = (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
  const hi = (b[o + 4]! | (b[o + 5]! << 8) | (b[o + 6]! << 16) | (b[o + 7]! << 24)) >>> 0;
  if (hi >= 0x20_0000) return undefined;
  return hi * 0x1_0000_0000 + lo;
}

/** Human name of a frame type, for logs and counters. */
export function knetTypeName(type: number): string {
  switch (type) {
    case KnetType.DATA:
      return "data";
    case KnetType.PING:
      return "ping";
    case KnetType.PONG:
      return "pong";
    case KnetType.PMTUD:
      return "pmtud";
    case KnetType.PMTUD_REPLY:
      return "pmtud_reply";
    default:
      return `type_0x${type.toString(16)}`;
  }
}
