/**
 * The 13-byte Totem message header (totem-spec §3.1) and the receive-path header checks of
 * corosync's `check_message_header_validity` (totem-spec §3.9): length, magic (which also
 * tells the sender's byte order, §1.1), version, type.
 *
 * Pure: no node modules, no clocks (style.md "Architecture").
 */
import { DecodeError } from "../errors.js";
import { readU32 } from "./bytes.js";
import { MessageType, SIZES, TOTEM_VERSION } from "./types.js";

/** Highest valid `enum message_type` value (TOKEN_HOLD_CANCEL). */
export const MESSAGE_TYPE_MAX = MessageType.TOKEN_HOLD_CANCEL;

/** Header byte offsets (totem-spec §3.1). */
export const HEADER = {
  magic: 0,
  version: 2,
  type: 3,
  encapsulated: 4,
  nodeId: 5,
  targetNodeId: 9,
} as const;

/** What `peekHeader` learns from the first 13 bytes without decoding the body. */
export interface PeekedHeader {
  type: MessageType;
  /** Raw `encapsulated` byte: 1 or 2 in an MCAST, 0 elsewhere (not checked here). */
  encapsulated: number;
  nodeId: number;
  targetNodeId: number;
  /** False when the sender wrote big-endian (magic bytes `C0 70`); totem-spec §1.1. */
  littleEndian: boolean;
}

/**
 * The sender's byte order from the magic bytes: `70 C0` is 0xC070 written little-endian,
 * `C0 70` big-endian (corosync compares the magic with 0xC070 and its byte swap).
 * Returns `undefined` for a foreign magic. The caller has checked that 2 bytes exist.
 */
export function magicByteOrder(bytes: Uint8Array): boolean | undefined {
  const b0 = bytes[0];
  const b1 = bytes[1];
  if (b0 === 0x70 && b1 === 0xc0) return true;
  if (b0 === 0xc0 && b1 === 0x70) return false;
  return undefined;
}

/**
 * Corosync's diagnostic guess at what sent a frame with a foreign magic (totem-spec §3.9,
 * `check_message_header_validity`); the wording is corosync 3.1.7's so logs compare.
 * Meant for a rate-limited log line; never used to accept a frame.
 */
export function describeForeignMagic(bytes: Uint8Array): string {
  if (bytes.byteLength < 2) return "too short to tell";
  const b0 = bytes[0]!;
  const b1 = bytes[1]!;
  if (b0 === 0xff && b1 === 0xff) return "Corosync 2.2";
  if (b0 === 0xfe && b1 === 0xfe) return "Corosync 2.3+";
  if (b0 === 0x01) return "unencrypted Kronosnet";
  if (b0 <= 5) return "unencrypted Corosync 2.0/2.1/1.x/OpenAIS";
  return "encrypted Kronosnet/Corosync 2.0/2.1/1.x/OpenAIS or unknown";
}

/**
 * Header checks in corosync's order (totem-spec §3.9 steps 1–4): length ≥ 13, magic in
 * either byte order, version 3, type ≤ 5. Returns the sender's byte order.
 * @throws DecodeError TRUNCATED, BAD_MAGIC, BAD_VERSION or BAD_TYPE.
 */
export function checkHeader(bytes: Uint8Array): boolean {
  if (bytes.byteLength < SIZES.header) {
    throw new DecodeError("TRUNCATED", "header", `${bytes.byteLength} bytes, header needs ${SIZES.header}`);
  }
  const littleEndian = magicByteOrder(bytes);
  if (littleEndian === undefined) {
    throw new DecodeError("BAD_MAGIC", "header.magic", `bad magic (probably sent by ${describeForeignMagic(bytes)})`);
  }
  const version = bytes[HEADER.version]!;
  if (version !== TOTEM_VERSION) {
    throw new DecodeError("BAD_VERSION", "header.version", `unsupported version ${version}`);
  }
  const type = bytes[HEADER.type]!;
  if (type > MESSAGE_TYPE_MAX) throw new DecodeError("BAD_TYPE", "header.type", `unknown message type ${type}`);
  return littleEndian;
}

/**
 * The header fields without decoding the body: the driver's fast path to route a frame
 * (e.g. count it by type, pick the token or mcast handler) before a full decode.
 * @throws DecodeError as `checkHeader`.
 */
export function peekHeader(bytes: Uint8Array): PeekedHeader {
  const littleEndian = checkHeader(bytes); // so the 13 header bytes are there
  return {
    type: bytes[HEADER.type] as MessageType,
    encapsulated: bytes[HEADER.encapsulated]!,
    nodeId: readU32(bytes, HEADER.nodeId, littleEndian),
    targetNodeId: readU32(bytes, HEADER.targetNodeId, littleEndian),
    littleEndian,
  };
}
