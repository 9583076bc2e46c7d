/**
 * libcpg's IPC messages of corosync 3.1.7 (`include/corosync/ipc_cpg.h`, libqb-ipc-spec.md
 * §2.6): requests, responses and events, both ways — the daemon's CPG service decodes
 * requests and encodes responses and events; the client library does the opposite. Every
 * struct member is 8-aligned; padding is written as zeros. Decoders check sizes before
 * reading and return undefined for what does not parse (nothing throws on bad input).
 *
 * Pure.
 */
import { CPG_LIMITS, readCpgName, writeCpgName, type CpgGroupName } from "../../core/cpg/messages.js";
import { DecodeError } from "../errors.js";

/** Request ids (`enum req_cpg_types`). */
export const CpgReq = {
  JOIN: 0,
  LEAVE: 1,
  MCAST: 2,
  MEMBERSHIP: 3,
  LOCAL_GET: 4,
  ITERATIONINITIALIZE: 5,
  ITERATIONNEXT: 6,
  ITERATIONFINALIZE: 7,
  FINALIZE: 8,
  ZC_ALLOC: 9,
  ZC_FREE: 10,
  ZC_EXECUTE: 11,
  PARTIAL_MCAST: 12,
} as const;

/** Response and event ids (`enum res_cpg_types`). */
export const CpgRes = {
  JOIN: 0,
  LEAVE: 1,
  MCAST: 2,
  MEMBERSHIP: 3,
  CONFCHG_CALLBACK: 4,
  DELIVER_CALLBACK: 5,
  LOCAL_GET: 7,
  ITERATIONINITIALIZE: 9,
  ITERATIONNEXT: 10,
  ITERATIONFINALIZE: 11,
  FINALIZE: 12,
  TOTEM_CONFCHG_CALLBACK: 13,
  PARTIAL_DELIVER_CALLBACK: 17,
  PARTIAL_SEND: 18,
} as const;

/** `cpg_guarantee_t`: libcpg passes it; corosync delivers everything agreed. */
export const CpgGuarantee = { UNORDERED: 0, FIFO: 1, AGREED: 2, SAFE: 3 } as const;

/** Sizes (gcc layouts). */
export const CPG_IPC_SIZES = {
  join: 168,
  leave: 160,
  mcastHeader: 40,
  partialHeader: 56,
  membershipReq: 152,
  localGetReq: 16,
  iterInitReq: 160,
  iterHandleReq: 24,
  finalizeReq: 16,
  response: 24,
  membershipRes: 32 + 24 * CPG_LIMITS.processorCountMax,
  localGetRes: 32,
  iterInitRes: 32,
  iterNextRes: 168,
  confchgHeader: 184,
  deliverHeader: 184,
  partialDeliverHeader: 200,
  totemConfchgHeader: 48,
  address: 24,
} as const;

/** A process in a membership reply or confchg event (`mar_cpg_address_t`). */
export interface CpgIpcAddress {
  nodeId: number;
  pid: number;
  reason: number;
}

function alloc(size: number): [Uint8Array, DataView] {
  const b = new Uint8Array(size);
  return [b, new DataView(b.buffer)];
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function header(dv: DataView, id: number, size: number, error?: number): void {
  dv.setInt32(0, id, true);
  dv.setInt32(8, size, true);
  if (error !== undefined) dv.setInt32(16, error, true);
}

/** Reads a name; undefined when its length is over 128 (a caller answers NAME_TOO_LONG). */
function nameAt(b: Uint8Array, dv: DataView, off: number): CpgGroupName | undefined {
  try {
    return readCpgName(b, dv, off, true, "name");
  } catch (e) {
    if (e instanceof DecodeError) return undefined;
    throw e;
  }
}

// ------------------------------------------------------------------ requests (client → daemon)

export function encodeJoinRequest(group: CpgGroupName, pid: number, flags: number): Uint8Array {
  const [b, dv] = alloc(CPG_IPC_SIZES.join);
  header(dv, CpgReq.JOIN, CPG_IPC_SIZES.join);
  writeCpgName(b, dv, 16, group);
  dv.setUint32(152, pid >>> 0, true);
  dv.setUint32(160, flags >>> 0, true);
  return b;
}

export function encodeLeaveRequest(group: CpgGroupName, pid: number): Uint8Array {
  const [b, dv] = alloc(CPG_IPC_SIZES.leave);
  header(dv, CpgReq.LEAVE, CPG_IPC_SIZES.leave);
  writeCpgName(b, dv, 16, group);
  dv.setUint32(152, pid >>> 0, true);
  return b;
}

/** MCAST: libcpg writes a 24-byte *response* header here (error 0). Returns [header, data]. */
export function encodeMcastRequest(guarantee: number, data: Uint8Array): [Uint8Array, Uint8Array] {
  const [b, dv] = alloc(CPG_IPC_SIZES.mcastHeader);
  header(dv, CpgReq.MCAST, CPG_IPC_SIZES.mcastHeader + data.byteLength, 0);
  dv.setUint32(24, guarantee >>> 0, true);
  dv.setUint32(32, data.byteLength, true);
  return [b, data];
}

export function encodePartialRequest(guarantee: number, msglen: number, type: number, piece: Uint8Array): [Uint8Array, Uint8Array] {
  const [b, dv] = alloc(CPG_IPC_SIZES.partialHeader);
  header(dv, CpgReq.PARTIAL_MCAST, CPG_IPC_SIZES.partialHeader + piece.byteLength, 0);
  dv.setUint32(24, guarantee >>> 0, true);
  dv.setUint32(32, msglen >>> 0, true);
  dv.setUint32(40, piece.byteLength, true);
  dv.setUint32(48, type >>> 0, true);
  return [b, piece];
}

export function encodeMembershipRequest(group: CpgGroupName): Uint8Array {
  const [b, dv] = alloc(CPG_IPC_SIZES.membershipReq);
  header(dv, CpgReq.MEMBERSHIP, CPG_IPC_SIZES.membershipReq);
  writeCpgName(b, dv, 16, group);
  return b;
}

/** A request that is a header only (LOCAL_GET, FINALIZE). */
export function encodeBareRequest(id: number): Uint8Array {
  const [b, dv] = alloc(16);
  header(dv, id, 16);
  return b;
}

export function encodeIterInitRequest(type: number, group: CpgGroupName | undefined): Uint8Array {
  const [b, dv] = alloc(CPG_IPC_SIZES.iterInitReq);
  header(dv, CpgReq.ITERATIONINITIALIZE, CPG_IPC_SIZES.iterInitReq);
  writeCpgName(b, dv, 16, group ?? "");
  dv.setUint32(152, type >>> 0, true);
  return b;
}

export function encodeIterHandleRequest(id: typeof CpgReq.ITERATIONNEXT | typeof CpgReq.ITERATIONFINALIZE, handle: bigint): Uint8Array {
  const [b, dv] = alloc(CPG_IPC_SIZES.iterHandleReq);
  header(dv, id, CPG_IPC_SIZES.iterHandleReq);
  dv.setBigUint64(16, BigInt.asUintN(64, handle), true);
  return b;
}

/** A decoded JOIN or LEAVE request; `group` undefined when its name is over 128 bytes. */
export interface JoinLeaveRequest {
  group: CpgGroupName | undefined;
  pid: number;
  flags: number;
}

export function decodeJoinRequest(b: Uint8Array): JoinLeaveRequest | undefined {
  if (b.byteLength < CPG_IPC_SIZES.join) return undefined;
  const dv = view(b);
  return { group: nameAt(b, dv, 16), pid: dv.getUint32(152, true), flags: dv.getUint32(160, true) };
}

export function decodeLeaveRequest(b: Uint8Array): JoinLeaveRequest | undefined {
  if (b.byteLength < CPG_IPC_SIZES.leave) return undefined;
  const dv = view(b);
  return { group: nameAt(b, dv, 16), pid: dv.getUint32(152, true), flags: 0 };
}

export interface McastRequest {
  guarantee: number;
  /** A view of the request (copy it to keep it). */
  data: Uint8Array;
}

/** MCAST: `msglen` must equal the bytes after the 40-byte header. */
export function decodeMcastRequest(b: Uint8Array): McastRequest | undefined {
  if (b.byteLength < CPG_IPC_SIZES.mcastHeader) return undefined;
  const dv = view(b);
  const msglen = dv.getUint32(32, true);
  if (msglen !== b.byteLength - CPG_IPC_SIZES.mcastHeader) return undefined;
  return { guarantee: dv.getUint32(24, true), data: b.subarray(CPG_IPC_SIZES.mcastHeader) };
}

export interface PartialRequest extends McastRequest {
  msglen: number;
  type: number;
}

export function decodePartialRequest(b: Uint8Array): PartialRequest | undefined {
  if (b.byteLength < CPG_IPC_SIZES.partialHeader) return undefined;
  const dv = view(b);
  const fraglen = dv.getUint32(40, true);
  if (fraglen !== b.byteLength - CPG_IPC_SIZES.partialHeader) return undefined;
  return { guarantee: dv.getUint32(24, true), msglen: dv.getUint32(32, true), type: dv.getUint32(48, true), data: b.subarray(CPG_IPC_SIZES.partialHeader) };
}

/** MEMBERSHIP: the group (undefined: name too long). */
export function decodeMembershipRequest(b: Uint8Array): { group: CpgGroupName | undefined } | undefined {
  if (b.byteLength < CPG_IPC_SIZES.membershipReq) return undefined;
  return { group: nameAt(b, view(b), 16) };
}

export function decodeIterInitRequest(b: Uint8Array): { group: CpgGroupName | undefined; type: number } | undefined {
  if (b.byteLength < CPG_IPC_SIZES.iterInitReq) return undefined;
  const dv = view(b);
  return { group: nameAt(b, dv, 16), type: dv.getUint32(152, true) };
}

export function decodeIterHandleRequest(b: Uint8Array): bigint | undefined {
  if (b.byteLength < CPG_IPC_SIZES.iterHandleReq) return undefined;
  return view(b).getBigUint64(16, true);
}

// ------------------------------------------------------------------ responses (daemon → client)

/** A 24-byte response: header with `error` only. */
export function encodeStatusResponse(id: number, error: number): Uint8Array {
  const [b, dv] = alloc(CPG_IPC_SIZES.response);
  header(dv, id, CPG_IPC_SIZES.response, error);
  return b;
}

function writeAddress(dv: DataView, off: number, a: CpgIpcAddress): void {
  dv.setUint32(off, a.nodeId >>> 0, true);
  dv.setUint32(off + 8, a.pid >>> 0, true);
  dv.setUint32(off + 16, a.reason >>> 0, true);
}

function readAddress(dv: DataView, off: number): CpgIpcAddress {
  return { nodeId: dv.getUint32(off, true), pid: dv.getUint32(off + 8, true), reason: dv.getUint32(off + 16, true) };
}

/** MEMBERSHIP reply: always the full 9248 bytes (384 slots), as corosync sends. */
export function encodeMembershipResponse(error: number, members: readonly CpgIpcAddress[]): Uint8Array {
  const [b, dv] = alloc(CPG_IPC_SIZES.membershipRes);
  header(dv, CpgRes.MEMBERSHIP, CPG_IPC_SIZES.membershipRes, error);
  const n = Math.min(members.length, CPG_LIMITS.processorCountMax);
  dv.setUint32(24, n, true);
  for (let i = 0; i < n; i++) writeAddress(dv, 32 + 24 * i, { ...members[i]!, reason: 0 });
  return b;
}

export function decodeMembershipResponse(b: Uint8Array): CpgIpcAddress[] | undefined {
  if (b.byteLength < 32) return undefined;
  const dv = view(b);
  const n = dv.getUint32(24, true);
  if (n > CPG_LIMITS.processorCountMax || b.byteLength < 32 + 24 * n) return undefined;
  return Array.from({ length: n }, (_, i) => readAddress(dv, 32 + 24 * i));
}

export function encodeLocalGetResponse(nodeId: number): Uint8Array {
  const [b, dv] = alloc(CPG_IPC_SIZES.localGetRes);
  header(dv, CpgRes.LOCAL_GET, CPG_IPC_SIZES.localGetRes, 1);
  dv.setUint32(24, nodeId >>> 0, true);
  return b;
}

export function encodeIterInitResponse(error: number, handle: bigint): Uint8Array {
  const [b, dv] = alloc(CPG_IPC_SIZES.iterInitRes);
  header(dv, CpgRes.ITERATIONINITIALIZE, CPG_IPC_SIZES.iterInitRes, error);
  dv.setBigUint64(24, BigInt.asUintN(64, handle), true);
  return b;
}

/** One iteration item (`mar_cpg_iteration_description_t`: group, nodeid @136, pid @140). */
export interface CpgIterationItem {
  group: CpgGroupName;
  nodeId: number;
  pid: number;
}

export function encodeIterNextResponse(error: number, item: CpgIterationItem | undefined): Uint8Array {
  const [b, dv] = alloc(CPG_IPC_SIZES.iterNextRes);
  header(dv, CpgRes.ITERATIONNEXT, CPG_IPC_SIZES.iterNextRes, error);
  if (item !== undefined) {
    writeCpgName(b, dv, 24, item.group);
    dv.setUint32(24 + 136, item.nodeId >>> 0, true);
    dv.setUint32(24 + 140, item.pid >>> 0, true);
  }
  return b;
}

export function decodeIterNextResponse(b: Uint8Array): CpgIterationItem | undefined {
  if (b.byteLength < CPG_IPC_SIZES.iterNextRes) return undefined;
  const dv = view(b);
  const group = nameAt(b, dv, 24);
  if (group === undefined) return undefined;
  return { group, nodeId: dv.getUint32(24 + 136, true), pid: dv.getUint32(24 + 140, true) };
}

// ------------------------------------------------------------------ events (daemon → client)

/** CONFCHG event: arrays in the order members, left, joined (as libcpg reads them). */
export function encodeConfchgEvent(group: CpgGroupName, members: readonly CpgIpcAddress[], left: readonly CpgIpcAddress[], joined: readonly CpgIpcAddress[]): Uint8Array {
  const n = members.length + left.length + joined.length;
  const size = CPG_IPC_SIZES.confchgHeader + CPG_IPC_SIZES.address * n;
  const [b, dv] = alloc(size);
  header(dv, CpgRes.CONFCHG_CALLBACK, size, 1);
  writeCpgName(b, dv, 24, group);
  dv.setUint32(160, members.length, true);
  dv.setUint32(168, joined.length, true);
  dv.setUint32(176, left.length, true);
  [...members, ...left, ...joined].forEach((a, i) => writeAddress(dv, CPG_IPC_SIZES.confchgHeader + CPG_IPC_SIZES.address * i, a));
  return b;
}

export function encodeDeliverEvent(group: CpgGroupName, nodeId: number, pid: number, data: Uint8Array): Uint8Array {
  const size = CPG_IPC_SIZES.deliverHeader + data.byteLength;
  const [b, dv] = alloc(size);
  header(dv, CpgRes.DELIVER_CALLBACK, size, 1);
  writeCpgName(b, dv, 24, group);
  dv.setUint32(160, data.byteLength, true);
  dv.setUint32(168, nodeId >>> 0, true);
  dv.setUint32(176, pid >>> 0, true);
  b.set(data, CPG_IPC_SIZES.deliverHeader);
  return b;
}

export function encodePartialDeliverEvent(group: CpgGroupName, nodeId: number, pid: number, msglen: number, type: number, data: Uint8Array): Uint8Array {
  const size = CPG_IPC_SIZES.partialDeliverHeader + data.byteLength;
  const [b, dv] = alloc(size);
  header(dv, CpgRes.PARTIAL_DELIVER_CALLBACK, size, 1);
  writeCpgName(b, dv, 24, group);
  dv.setUint32(160, msglen >>> 0, true);
  dv.setUint32(168, data.byteLength, true);
  dv.setUint32(176, nodeId >>> 0, true);
  dv.setUint32(184, pid >>> 0, true);
  dv.setUint32(192, type >>> 0, true);
  b.set(data, CPG_IPC_SIZES.partialDeliverHeader);
  return b;
}

/** TOTEM_CONFCHG: ring id {nodeid @24, seq @32}, count @40, u32 node ids from @44; size 48 + 4n. */
export function encodeTotemConfchgEvent(ringRep: number, ringSeq: bigint, members: readonly number[]): Uint8Array {
  const size = CPG_IPC_SIZES.totemConfchgHeader + 4 * members.length;
  const [b, dv] = alloc(size);
  header(dv, CpgRes.TOTEM_CONFCHG_CALLBACK, size, 1);
  dv.setUint32(24, ringRep >>> 0, true);
  dv.setBigUint64(32, BigInt.asUintN(64, ringSeq), true);
  dv.setUint32(40, members.length, true);
  members.forEach((n, i) => dv.setUint32(44 + 4 * i, n >>> 0, true));
  return b;
}

/** A decoded event, as the client library hands it on. */
export type CpgIpcEvent =
  | { type: "confchg"; group: CpgGroupName; members: CpgIpcAddress[]; left: CpgIpcAddress[]; joined: CpgIpcAddress[] }
  | { type: "deliver"; group: CpgGroupName; nodeId: number; pid: number; data: Uint8Array }
  | { type: "partial"; group: CpgGroupName; nodeId: number; pid: number; msglen: number; pieceType: number; data: Uint8Array }
  | { type: "totemConfchg"; ringId: { nodeId: number; seq: bigint }; members: number[] };

/** Decodes an event; undefined for an unknown id or a malformed one. */
export function decodeCpgEvent(b: Uint8Array): CpgIpcEvent | undefined {
  if (b.byteLength < 24) return undefined;
  const dv = view(b);
  const id = dv.getInt32(0, true);
  switch (id) {
    case CpgRes.CONFCHG_CALLBACK: {
      if (b.byteLength < CPG_IPC_SIZES.confchgHeader) return undefined;
      const group = nameAt(b, dv, 24);
      const m = dv.getUint32(160, true);
      const j = dv.getUint32(168, true);
      const l = dv.getUint32(176, true);
      if (group === undefined || m + j + l > 3 * CPG_LIMITS.processorCountMax || b.byteLength < CPG_IPC_SIZES.confchgHeader + 24 * (m + j + l)) return undefined;
      const all = Array.from({ length: m + l + j }, (_, i) => readAddress(dv, CPG_IPC_SIZES.confchgHeader + 24 * i));
      return { type: "confchg", group, members: all.slice(0, m), left: all.slice(m, m + l), joined: all.slice(m + l) };
    }
    case CpgRes.DELIVER_CALLBACK: {
      if (b.byteLength < CPG_IPC_SIZES.deliverHeader) return undefined;
      const group = nameAt(b, dv, 24);
      const len = dv.getUint32(160, true);
      if (group === undefined || b.byteLength < CPG_IPC_SIZES.deliverHeader + len) return undefined;
      return { type: "deliver", group, nodeId: dv.getUint32(168, true), pid: dv.getUint32(176, true), data: b.subarray(184, 184 + len) };
    }
    case CpgRes.PARTIAL_DELIVER_CALLBACK: {
      if (b.byteLength < CPG_IPC_SIZES.partialDeliverHeader) return undefined;
      const group = nameAt(b, dv, 24);
      const frag = dv.getUint32(168, true);
      if (group === undefined || b.byteLength < CPG_IPC_SIZES.partialDeliverHeader + frag) return undefined;
      return {
        type: "partial",
        group,
        msglen: dv.getUint32(160, true),
        nodeId: dv.getUint32(176, true),
        pid: dv.getUint32(184, true),
        pieceType: dv.getUint32(192, true),
        data: b.subarray(200, 200 + frag),
      };
    }
    case CpgRes.TOTEM_CONFCHG_CALLBACK: {
      if (b.byteLength < 44) return undefined;
      const n = dv.getUint32(40, true);
      if (n > CPG_LIMITS.processorCountMax || b.byteLength < 44 + 4 * n) return undefined;
      return { type: "totemConfchg", ringId: { nodeId: dv.getUint32(24, true), seq: dv.getBigUint64(32, true) }, members: Array.from({ length: n }, (_, i) => dv.getUint32(44 + 4 * i, true)) };
    }
    default:
      return undefined;
  }
}
