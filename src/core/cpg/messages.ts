/**
 * CPG exec messages (service 2) of corosync 3.x, byte for byte (totem-spec §7.2): the
 * 8-aligned structs that CPG multicasts in totempg group "a". Encoders write little-endian
 * with zeroed padding; decoders accept either byte order (`bigEndian` = the sender's order
 * as totem reported it), check every length and count against a named limit before using
 * it, and return a typed `DecodeError` instead of throwing.
 *
 * Group names are carried as "binary strings" (`CpgGroupName`): one char per byte, 0..255,
 * at most 128 of them, compared by length and bytes exactly as corosync's `mar_name_compare`.
 *
 * Pure: no node modules.
 */
import { DecodeError, tryDecode, type Decoded } from "../../wire/errors.js";
import { EXEC_HEADER_BYTES, ServiceId, writeExecHeader } from "../services/types.js";

/** CPG exec function ids (`enum cpg_message_req_types`). */
export const CpgExecFn = {
  PROCJOIN: 0,
  PROCLEAVE: 1,
  JOINLIST: 2,
  MCAST: 3,
  DOWNLIST_OLD: 4,
  DOWNLIST: 5,
  PARTIAL_MCAST: 6,
} as const;
export type CpgExecFn = (typeof CpgExecFn)[keyof typeof CpgExecFn];

/** Reasons in PROCJOIN/PROCLEAVE and in confchg callbacks (`CONFCHG_CPG_REASON_*`). */
export const CpgReason = {
  UNDEFINED: 0,
  JOIN: 1,
  LEAVE: 2,
  NODEDOWN: 3,
  NODEUP: 4,
  PROCDOWN: 5,
} as const;
export type CpgReason = (typeof CpgReason)[keyof typeof CpgReason];

/** Pieces of a message that libcpg split (`enum lib_cpg_partial_types`). */
export const PartialType = { FIRST: 1, CONTINUED: 2, LAST: 3 } as const;
export type PartialType = (typeof PartialType)[keyof typeof PartialType];

/** Limits and sizes (gcc layouts of the structs, totem-spec §7.2). */
export const CPG_LIMITS = {
  /** `CPG_MAX_NAME_LENGTH`. */
  nameBytesMax: 128,
  /** `PROCESSOR_COUNT_MAX`: slots in DOWNLIST, entries in a membership reply. */
  processorCountMax: 384,
  /**
   * Entries one JOINLIST may carry: (1 MiB − header) / entry. corosync has no explicit
   * limit; a JOINLIST cannot be larger than a totempg message.
   */
  joinlistEntriesMax: Math.floor((1024 * 1024 - 24) / 144),
} as const;

export const CPG_SIZES = {
  /** `mar_cpg_name_t`: u32 length @0, char value[128] @8. */
  name: 136,
  procjoin: 168,
  joinlistHeader: 24,
  joinlistEntry: 144,
  mcastHeader: 184,
  downlistOld: 1560,
  downlist: 1568,
  partialHeader: 200,
} as const;

/** A CPG group name as a binary string (one char per byte). */
export type CpgGroupName = string;

/** The bytes of a group name. */
export function groupNameBytes(name: CpgGroupName): Uint8Array {
  const b = new Uint8Array(name.length);
  for (let i = 0; i < name.length; i++) b[i] = name.charCodeAt(i) & 0xff;
  return b;
}

/** A group name from bytes (no terminator handling: the bytes are the name). */
export function groupNameFromBytes(b: Uint8Array): CpgGroupName {
  let s = "";
  const n = b.byteLength; // read once: not hoisted out of the loop by V8
  for (let i = 0; i < n; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** A group name from text, as libcpg users write it (UTF-8 bytes). */
export function groupNameFromText(text: string): CpgGroupName {
  return groupNameFromBytes(new TextEncoder().encode(text));
}

/** corosync's printable form of a group name (`cpg_print_group_name`): `\\`, `\xNN` escapes. */
export function printGroupName(name: CpgGroupName): string {
  let out = "";
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x5c) out += name[i];
    else if (c === 0x5c) out += "\\\\";
    else out += `\\x${c.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Writes `mar_cpg_name_t` at `off` (length, zeroed padding, value, zeroed tail). */
export function writeCpgName(buf: Uint8Array, dv: DataView, off: number, name: CpgGroupName): void {
  if (name.length > CPG_LIMITS.nameBytesMax) throw new RangeError(`CPG group name of ${name.length} bytes exceeds ${CPG_LIMITS.nameBytesMax}`);
  buf.fill(0, off, off + CPG_SIZES.name);
  dv.setUint32(off, name.length, true);
  for (let i = 0; i < name.length; i++) buf[off + 8 + i] = name.charCodeAt(i) & 0xff;
}

/** Reads `mar_cpg_name_t` at `off`; throws DecodeError when the length exceeds 128. */
export function readCpgName(buf: Uint8Array, dv: DataView, off: number, le: boolean, field: string): CpgGroupName {
  const len = dv.getUint32(off, le);
  if (len > CPG_LIMITS.nameBytesMax) throw new DecodeError("COUNT_LIMIT", `${field}.length`, `${field}: name length ${len} > ${CPG_LIMITS.nameBytesMax}`);
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(buf[off + 8 + i]!);
  return s;
}

/** PROCJOIN / PROCLEAVE. */
export interface ProcJoinLeave {
  fn: typeof CpgExecFn.PROCJOIN | typeof CpgExecFn.PROCLEAVE;
  group: CpgGroupName;
  pid: number;
  reason: number;
}

/** One entry of a JOINLIST: a process of the sending node. */
export interface JoinListEntry {
  pid: number;
  group: CpgGroupName;
}

export interface JoinList {
  fn: typeof CpgExecFn.JOINLIST;
  entries: JoinListEntry[];
}

/** `mar_message_source_t`: the sender's node id and its local connection pointer (opaque). */
export interface MessageSource {
  nodeId: number;
  conn: bigint;
}

export interface McastMessage {
  fn: typeof CpgExecFn.MCAST;
  group: CpgGroupName;
  pid: number;
  source: MessageSource;
  /** A view into the delivered bytes. */
  data: Uint8Array;
}

export interface PartialMcastMessage {
  fn: typeof CpgExecFn.PARTIAL_MCAST;
  group: CpgGroupName;
  /** Length of the whole message the pieces make. */
  msglen: number;
  pid: number;
  type: number;
  source: MessageSource;
  /** This piece (a view). */
  data: Uint8Array;
}

export interface DownListOld {
  fn: typeof CpgExecFn.DOWNLIST_OLD;
  leftNodes: number;
}

export interface DownList {
  fn: typeof CpgExecFn.DOWNLIST;
  oldMembers: number;
  /** The first `left_nodes` slots. */
  leftNodes: number[];
}

export type CpgExecMessage = ProcJoinLeave | JoinList | McastMessage | PartialMcastMessage | DownListOld | DownList;

function alloc(size: number): [Uint8Array, DataView] {
  const b = new Uint8Array(size);
  return [b, new DataView(b.buffer)];
}

/** PROCJOIN (fn 0) or PROCLEAVE (fn 1), 168 bytes. */
export function encodeProcJoinLeave(fn: ProcJoinLeave["fn"], group: CpgGroupName, pid: number, reason: number): Uint8Array {
  const [b, dv] = alloc(CPG_SIZES.procjoin);
  writeExecHeader(b, ServiceId.CPG, fn, CPG_SIZES.procjoin);
  writeCpgName(b, dv, 16, group);
  dv.setUint32(152, pid >>> 0, true);
  dv.setUint32(160, reason >>> 0, true);
  return b;
}

/**
 * JOINLIST (fn 2): a 24-byte `qb_ipc_response_header` (id, size, error 0) and 144-byte
 * entries. corosync sends none when there are no entries; the encoder does not decide that.
 */
export function encodeJoinList(entries: readonly JoinListEntry[]): Uint8Array {
  const size = CPG_SIZES.joinlistHeader + CPG_SIZES.joinlistEntry * entries.length;
  const [b, dv] = alloc(size);
  dv.setInt32(0, (ServiceId.CPG << 16) | CpgExecFn.JOINLIST, true);
  dv.setInt32(8, size, true);
  entries.forEach((e, i) => {
    const off = CPG_SIZES.joinlistHeader + CPG_SIZES.joinlistEntry * i;
    dv.setUint32(off, e.pid >>> 0, true);
    writeCpgName(b, dv, off + 8, e.group);
  });
  return b;
}

function writeSource(dv: DataView, off: number, s: MessageSource): void {
  dv.setUint32(off, s.nodeId >>> 0, true);
  dv.setBigUint64(off + 8, BigInt.asUintN(64, s.conn), true);
}

/** MCAST (fn 3): 184-byte header, then the message. */
export function encodeMcast(group: CpgGroupName, pid: number, source: MessageSource, data: Uint8Array): Uint8Array {
  const size = CPG_SIZES.mcastHeader + data.byteLength;
  const [b, dv] = alloc(size);
  writeExecHeader(b, ServiceId.CPG, CpgExecFn.MCAST, size);
  writeCpgName(b, dv, 16, group);
  dv.setUint32(152, data.byteLength, true);
  dv.setUint32(160, pid >>> 0, true);
  writeSource(dv, 168, source);
  b.set(data, CPG_SIZES.mcastHeader);
  return b;
}

/** PARTIAL_MCAST (fn 6): 200-byte header, then this piece. */
export function encodePartialMcast(group: CpgGroupName, pid: number, source: MessageSource, msglen: number, type: number, data: Uint8Array): Uint8Array {
  const size = CPG_SIZES.partialHeader + data.byteLength;
  const [b, dv] = alloc(size);
  writeExecHeader(b, ServiceId.CPG, CpgExecFn.PARTIAL_MCAST, size);
  writeCpgName(b, dv, 16, group);
  dv.setUint32(152, msglen >>> 0, true);
  dv.setUint32(160, data.byteLength, true);
  dv.setUint32(168, pid >>> 0, true);
  dv.setUint32(176, type >>> 0, true);
  writeSource(dv, 184, source);
  b.set(data, CPG_SIZES.partialHeader);
  return b;
}

/**
 * DOWNLIST (fn 5), always 1568 bytes. `slots` is the sender's whole `nodeids[384]` array:
 * corosync keeps it between rounds, so slots past `leftNodes` carry stale values (receivers
 * read only `left_nodes` entries). Pass the same array every round to reproduce that.
 */
export function encodeDownList(oldMembers: number, leftNodes: number, slots: Uint32Array): Uint8Array {
  if (slots.length !== CPG_LIMITS.processorCountMax || leftNodes > slots.length) throw new RangeError("downlist slots");
  const [b, dv] = alloc(CPG_SIZES.downlist);
  writeExecHeader(b, ServiceId.CPG, CpgExecFn.DOWNLIST, CPG_SIZES.downlist);
  dv.setUint32(16, oldMembers >>> 0, true);
  dv.setUint32(24, leftNodes >>> 0, true);
  for (let i = 0; i < slots.length; i++) dv.setUint32(32 + 4 * i, slots[i]!, true);
  return b;
}

/** DOWNLIST_OLD (fn 4): never sent by 3.x; encoded for tests of the receive path. */
export function encodeDownListOld(nodeIds: readonly number[]): Uint8Array {
  const [b, dv] = alloc(CPG_SIZES.downlistOld);
  writeExecHeader(b, ServiceId.CPG, CpgExecFn.DOWNLIST_OLD, CPG_SIZES.downlistOld);
  dv.setUint32(16, nodeIds.length, true);
  nodeIds.forEach((n, i) => dv.setUint32(24 + 4 * i, n >>> 0, true));
  return b;
}

function need(b: Uint8Array, bytes: number, field: string): void {
  if (b.byteLength < bytes) throw new DecodeError("TRUNCATED", field, `${field}: ${b.byteLength} bytes, need ${bytes}`);
}

function exact(b: Uint8Array, bytes: number, field: string): void {
  need(b, bytes, field);
  if (b.byteLength > bytes) throw new DecodeError("TRAILING_BYTES", field, `${field}: ${b.byteLength} bytes, expected ${bytes}`);
}

function readSource(dv: DataView, off: number, le: boolean): MessageSource {
  return { nodeId: dv.getUint32(off, le), conn: dv.getBigUint64(off + 8, le) };
}

function decodeJoinList(b: Uint8Array, dv: DataView, le: boolean): JoinList {
  need(b, CPG_SIZES.joinlistHeader, "joinlist.header");
  const size = dv.getInt32(8, le);
  if (size !== b.byteLength) throw new DecodeError("BAD_LENGTHS", "joinlist.size", `joinlist size ${size} != ${b.byteLength} bytes delivered`);
  const body = size - CPG_SIZES.joinlistHeader;
  if (body % CPG_SIZES.joinlistEntry !== 0) throw new DecodeError("BAD_LENGTHS", "joinlist.entries", `joinlist body of ${body} bytes is not whole entries`);
  const count = body / CPG_SIZES.joinlistEntry;
  if (count > CPG_LIMITS.joinlistEntriesMax) throw new DecodeError("COUNT_LIMIT", "joinlist.entries");
  const entries: JoinListEntry[] = [];
  for (let i = 0; i < count; i++) {
    const off = CPG_SIZES.joinlistHeader + CPG_SIZES.joinlistEntry * i;
    entries.push({ pid: dv.getUint32(off, le), group: readCpgName(b, dv, off + 8, le, "joinlist.group_name") });
  }
  return { fn: CpgExecFn.JOINLIST, entries };
}

function decodeMcast(b: Uint8Array, dv: DataView, le: boolean): McastMessage {
  need(b, CPG_SIZES.mcastHeader, "mcast.header");
  const msglen = dv.getUint32(152, le);
  exact(b, CPG_SIZES.mcastHeader + msglen, "mcast.msglen");
  return {
    fn: CpgExecFn.MCAST,
    group: readCpgName(b, dv, 16, le, "mcast.group_name"),
    pid: dv.getUint32(160, le),
    source: readSource(dv, 168, le),
    data: b.subarray(CPG_SIZES.mcastHeader),
  };
}

function decodePartial(b: Uint8Array, dv: DataView, le: boolean): PartialMcastMessage {
  need(b, CPG_SIZES.partialHeader, "partial_mcast.header");
  const fraglen = dv.getUint32(160, le);
  exact(b, CPG_SIZES.partialHeader + fraglen, "partial_mcast.fraglen");
  const msglen = dv.getUint32(152, le);
  const type = dv.getUint32(176, le);
  if (type < PartialType.FIRST || type > PartialType.LAST) throw new DecodeError("BAD_VALUE", "partial_mcast.type");
  if (fraglen > msglen) throw new DecodeError("BAD_LENGTHS", "partial_mcast.fraglen", `fragment of ${fraglen} bytes in a ${msglen}-byte message`);
  return {
    fn: CpgExecFn.PARTIAL_MCAST,
    group: readCpgName(b, dv, 16, le, "partial_mcast.group_name"),
    msglen,
    pid: dv.getUint32(168, le),
    type,
    source: readSource(dv, 184, le),
    data: b.subarray(CPG_SIZES.partialHeader),
  };
}

function decodeDownList(b: Uint8Array, dv: DataView, le: boolean): DownList {
  exact(b, CPG_SIZES.downlist, "downlist");
  const left = dv.getUint32(24, le);
  if (left > CPG_LIMITS.processorCountMax) throw new DecodeError("COUNT_LIMIT", "downlist.left_nodes");
  const leftNodes: number[] = [];
  for (let i = 0; i < left; i++) leftNodes.push(dv.getUint32(32 + 4 * i, le));
  return { fn: CpgExecFn.DOWNLIST, oldMembers: dv.getUint32(16, le), leftNodes };
}

/**
 * Decodes a whole CPG exec message (header included) of function `fn`. Rejects: a length
 * that disagrees with the message's own size fields, trailing bytes, a group name over 128
 * bytes, counts over their limits, an unknown function or partial type.
 */
export function decodeCpgExec(fn: number, b: Uint8Array, bigEndian = false): Decoded<CpgExecMessage> {
  return tryDecode(() => {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const le = !bigEndian;
    need(b, EXEC_HEADER_BYTES, "cpg.header");
    switch (fn) {
      case CpgExecFn.PROCJOIN:
      case CpgExecFn.PROCLEAVE:
        exact(b, CPG_SIZES.procjoin, "procjoin");
        return { fn, group: readCpgName(b, dv, 16, le, "procjoin.group_name"), pid: dv.getUint32(152, le), reason: dv.getUint32(160, le) };
      case CpgExecFn.JOINLIST:
        return decodeJoinList(b, dv, le);
      case CpgExecFn.MCAST:
        return decodeMcast(b, dv, le);
      case CpgExecFn.DOWNLIST_OLD: {
        exact(b, CPG_SIZES.downlistOld, "downlist_old");
        return { fn, leftNodes: dv.getUint32(16, le) };
      }
      case CpgExecFn.DOWNLIST:
        return decodeDownList(b, dv, le);
      case CpgExecFn.PARTIAL_MCAST:
        return decodePartial(b, dv, le);
      default:
        throw new DecodeError("BAD_TYPE", "cpg.fn", `unknown CPG exec function ${fn}`);
    }
  });
}
