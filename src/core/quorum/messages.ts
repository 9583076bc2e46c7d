/**
 * votequorum exec messages (service 5) as corosync 3.1.7 puts them on the wire
 * (totem-spec §7.3): packed structs behind the 16-byte exec header, sent in agreed order.
 *
 *   fn 0 NODEINFO            32 B  nodeid @16 · votes @20 · expected_votes @24 · flags @28
 *   fn 1 RECONFIGURE         32 B  nodeid @16 · value @20 · param u8 @24 · 3 zero bytes (28 used)
 *   fn 2 QDEVICE_REG        280 B  operation @16 · name char[255] @20
 *   fn 3 QDEVICE_RECONFIGURE 528 B oldname char[255] @16 · newname char[255] @271
 *
 * Decoders take the sender's byte order (corosync swaps the u32 fields of big-endian
 * senders), check the length first and return undefined for anything they cannot use; they
 * never throw. Pure.
 */
import { ServiceId, writeExecHeader } from "../services/types.js";

export const VQ_EXEC = { NODEINFO: 0, RECONFIGURE: 1, QDEVICE_REG: 2, QDEVICE_RECONFIGURE: 3 } as const;

/** NODEINFO flags (`NODE_FLAGS_*`). */
export const NodeFlag = {
  QUORATE: 1,
  LEAVING: 2,
  WFASTATUS: 4,
  FIRST: 8,
  QDEVICE_REGISTERED: 16,
  QDEVICE_ALIVE: 32,
  QDEVICE_CAST_VOTE: 64,
  QDEVICE_MASTER_WINS: 128,
} as const;

/** RECONFIGURE params (`VOTEQUORUM_RECONFIG_PARAM_*`). */
export const ReconfigParam = { EXPECTED_VOTES: 1, NODE_VOTES: 2, CANCEL_WFA: 3 } as const;

/** QDEVICE_REG operations. */
export const QdeviceOp = { UNREGISTER: 0, REGISTER: 1 } as const;

/** `VOTEQUORUM_QDEVICE_MAX_NAME_LEN`: name fields are char[255], NUL-terminated. */
export const QDEVICE_NAME_MAX = 255;
/** The node id votequorum uses for the quorum device. */
export const QDEVICE_NODEID = 0;

export const NODEINFO_BYTES = 32;
export const RECONFIGURE_BYTES = 32;
const RECONFIGURE_USED = 28;
export const QDEVICE_REG_BYTES = 280;
const QDEVICE_REG_USED = 20 + QDEVICE_NAME_MAX;
export const QDEVICE_RECONFIGURE_BYTES = 528;
const QDEVICE_RECONFIGURE_USED = 16 + 2 * QDEVICE_NAME_MAX;

export interface NodeInfoMsg {
  nodeId: number;
  votes: number;
  expectedVotes: number;
  flags: number;
}

export interface ReconfigureMsg {
  nodeId: number;
  value: number;
  param: number;
}

export interface QdeviceRegMsg {
  operation: number;
  name: string;
}

export interface QdeviceReconfigureMsg {
  oldName: string;
  newName: string;
}

function message(fn: number, size: number): { bytes: Uint8Array; dv: DataView } {
  const bytes = new Uint8Array(size);
  writeExecHeader(bytes, ServiceId.VOTEQUORUM, fn, size);
  return { bytes, dv: new DataView(bytes.buffer) };
}

/** A C string field: UTF-8 up to `max - 1` bytes, NUL-padded. Longer names are refused. */
function putName(bytes: Uint8Array, off: number, name: string): void {
  const enc = new TextEncoder().encode(name);
  if (enc.byteLength >= QDEVICE_NAME_MAX) throw new RangeError(`qdevice name longer than ${QDEVICE_NAME_MAX - 1} bytes`);
  bytes.set(enc, off);
}

/**
 * Reads a char[max] field up to its first NUL (or its first `max - 1` bytes when a hostile
 * sender left none). Bytes that are not UTF-8 become U+FFFD (3 bytes each once re-encoded),
 * so the text is cut, on a character boundary, to what fits the field again: votequorum
 * re-sends a peer's qdevice name in every sync round, and a name that no longer fits
 * char[max] made `putName` throw there (fuzz regression "vq-qdevice-name-resend").
 */
export function getCString(bytes: Uint8Array, off: number, max: number): string {
  const field = bytes.subarray(off, Math.min(bytes.byteLength, off + max));
  const end = field.indexOf(0);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(end < 0 ? field.subarray(0, max - 1) : field.subarray(0, end));
  return fitUtf8(text, max - 1);
}

/** The longest prefix of `text` (whole code points) whose UTF-8 encoding has at most `limit` bytes. */
function fitUtf8(text: string, limit: number): string {
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i)!;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > limit) break;
    bytes += n;
    i += cp >= 0x10000 ? 2 : 1;
  }
  return i === text.length ? text : text.slice(0, i);
}

export function encodeNodeInfo(m: NodeInfoMsg): Uint8Array {
  const { bytes, dv } = message(VQ_EXEC.NODEINFO, NODEINFO_BYTES);
  dv.setUint32(16, m.nodeId >>> 0, true);
  dv.setUint32(20, m.votes >>> 0, true);
  dv.setUint32(24, m.expectedVotes >>> 0, true);
  dv.setUint32(28, m.flags >>> 0, true);
  return bytes;
}

export function decodeNodeInfo(b: Uint8Array, bigEndian: boolean): NodeInfoMsg | undefined {
  if (b.byteLength < NODEINFO_BYTES) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, NODEINFO_BYTES);
  const le = !bigEndian;
  return { nodeId: dv.getUint32(16, le), votes: dv.getUint32(20, le), expectedVotes: dv.getUint32(24, le), flags: dv.getUint32(28, le) };
}

export function encodeReconfigure(m: ReconfigureMsg): Uint8Array {
  const { bytes, dv } = message(VQ_EXEC.RECONFIGURE, RECONFIGURE_BYTES);
  dv.setUint32(16, m.nodeId >>> 0, true);
  dv.setUint32(20, m.value >>> 0, true);
  dv.setUint8(24, m.param & 0xff);
  return bytes;
}

export function decodeReconfigure(b: Uint8Array, bigEndian: boolean): ReconfigureMsg | undefined {
  if (b.byteLength < RECONFIGURE_USED) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, RECONFIGURE_USED);
  const le = !bigEndian;
  return { nodeId: dv.getUint32(16, le), value: dv.getUint32(20, le), param: dv.getUint8(24) };
}

export function encodeQdeviceReg(m: QdeviceRegMsg): Uint8Array {
  const { bytes, dv } = message(VQ_EXEC.QDEVICE_REG, QDEVICE_REG_BYTES);
  dv.setUint32(16, m.operation >>> 0, true);
  putName(bytes, 20, m.name);
  return bytes;
}

export function decodeQdeviceReg(b: Uint8Array, bigEndian: boolean): QdeviceRegMsg | undefined {
  if (b.byteLength < QDEVICE_REG_USED) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, QDEVICE_REG_USED);
  return { operation: dv.getUint32(16, !bigEndian), name: getCString(b, 20, QDEVICE_NAME_MAX) };
}

export function encodeQdeviceReconfigure(m: QdeviceReconfigureMsg): Uint8Array {
  const { bytes } = message(VQ_EXEC.QDEVICE_RECONFIGURE, QDEVICE_RECONFIGURE_BYTES);
  putName(bytes, 16, m.oldName);
  putName(bytes, 16 + QDEVICE_NAME_MAX, m.newName);
  return bytes;
}

export function decodeQdeviceReconfigure(b: Uint8Array): QdeviceReconfigureMsg | undefined {
  if (b.byteLength < QDEVICE_RECONFIGURE_USED) return undefined;
  return { oldName: getCString(b, 16, QDEVICE_NAME_MAX), newName: getCString(b, 16 + QDEVICE_NAME_MAX, QDEVICE_NAME_MAX) };
}
