/**
 * libvotequorum IPC (`\0votequorum`, service 5) as corosync 3.1.7 speaks it
 * (libqb-ipc-spec.md §2.4, include/corosync/ipc_votequorum.h; offsets checked with gcc):
 *
 *   req 0 GETINFO nodeid i32 @16 (24)          → res 1 GETINFO (320): nodeid @24, state @28,
 *         votes @32, expected @36, highest_expected @40, total_votes @44, quorum @48,
 *         flags @52, qdevice_votes @56, qdevice_name char[255] @60
 *   req 1 SETEXPECTED expected u32 @16 (24)    → res 0 STATUS (24)
 *   req 2 SETVOTES votes u32 @16, nodeid @20   → res 0
 *   req 3 TRACKSTART context u64 @16, flags u32 @24 (32) → res 0, then events
 *   req 4 TRACKSTOP (16)                       → res 0
 *   req 5 QDEVICE_REGISTER name @16 (272), 6 QDEVICE_UNREGISTER name @16 (272),
 *   req 7 QDEVICE_UPDATE oldname @16 newname @271 (528),
 *   req 8 QDEVICE_POLL name @16, cast_vote i32 @272, ring_id {nodeid @280, seq @288} (296),
 *   req 9 QDEVICE_MASTER_WINS name @16, allow u32 @272 (280)   → res 0
 *   event 3 QUORUM_NOTIFICATION: quorate @24, context u64 @32, entries @40, {nodeid,state} @48
 *         (size 48 + 8n); event 4 EXPECTEDVOTES: context @24, expected @32 (40);
 *   event 5 NODELIST_NOTIFICATION: context @24, ring_id {@32, @40}, entries @48, u32[] @56
 *         (size 56 + 4n)
 * Pure.
 */
import { newRequest, newResponse, readCString, readU32List, viewOf, writeCString } from "./common.js";
import type { RingIdValue } from "./quorum.js";

export const VqReq = {
  GETINFO: 0,
  SETEXPECTED: 1,
  SETVOTES: 2,
  TRACKSTART: 3,
  TRACKSTOP: 4,
  QDEVICE_REGISTER: 5,
  QDEVICE_UNREGISTER: 6,
  QDEVICE_UPDATE: 7,
  QDEVICE_POLL: 8,
  QDEVICE_MASTER_WINS: 9,
} as const;
export const VqRes = { STATUS: 0, GETINFO: 1, TRACKSTART: 2, QUORUM_NOTIFICATION: 3, EXPECTEDVOTES_NOTIFICATION: 4, NODELIST_NOTIFICATION: 5 } as const;

export const VQ_GETINFO_BYTES = 320;
const NAME = 255;
const NODE_LIST_MAX = 385;

export interface VqInfoWire {
  nodeId: number;
  state: number;
  votes: number;
  expectedVotes: number;
  highestExpected: number;
  totalVotes: number;
  quorum: number;
  flags: number;
  qdeviceVotes: number;
  qdeviceName: string;
}

// ---------------------------------------------------------------- requests

export type VqRequest =
  | { id: typeof VqReq.GETINFO; nodeId: number }
  | { id: typeof VqReq.SETEXPECTED; expectedVotes: number }
  | { id: typeof VqReq.SETVOTES; votes: number; nodeId: number }
  | { id: typeof VqReq.TRACKSTART; context: bigint; flags: number }
  | { id: typeof VqReq.TRACKSTOP }
  | { id: typeof VqReq.QDEVICE_REGISTER | typeof VqReq.QDEVICE_UNREGISTER; name: string }
  | { id: typeof VqReq.QDEVICE_UPDATE; oldName: string; newName: string }
  | { id: typeof VqReq.QDEVICE_POLL; name: string; castVote: boolean; ringId: RingIdValue }
  | { id: typeof VqReq.QDEVICE_MASTER_WINS; name: string; allow: boolean };

const REQUEST_SIZES: Record<number, number> = { 0: 24, 1: 24, 2: 24, 3: 32, 4: 16, 5: 272, 6: 272, 7: 528, 8: 296, 9: 280 };

/** Encode a request (client side). Throws RangeError for a name of 255 bytes or more. */
export function encodeVqRequest(r: VqRequest): Uint8Array {
  const { bytes, dv } = newRequest(r.id, REQUEST_SIZES[r.id]!);
  const name = (off: number, s: string) => {
    if (!writeCString(bytes, off, NAME, s)) throw new RangeError(`qdevice name longer than ${NAME - 1} bytes`);
  };
  switch (r.id) {
    case VqReq.GETINFO:
      dv.setInt32(16, r.nodeId | 0, true);
      break;
    case VqReq.SETEXPECTED:
      dv.setUint32(16, r.expectedVotes >>> 0, true);
      break;
    case VqReq.SETVOTES:
      dv.setUint32(16, r.votes >>> 0, true);
      dv.setInt32(20, r.nodeId | 0, true);
      break;
    case VqReq.TRACKSTART:
      dv.setBigUint64(16, BigInt.asUintN(64, r.context), true);
      dv.setUint32(24, r.flags >>> 0, true);
      break;
    case VqReq.TRACKSTOP:
      break;
    case VqReq.QDEVICE_REGISTER:
    case VqReq.QDEVICE_UNREGISTER:
      name(16, r.name);
      break;
    case VqReq.QDEVICE_UPDATE:
      name(16, r.oldName);
      name(16 + NAME, r.newName);
      break;
    case VqReq.QDEVICE_POLL:
      name(16, r.name);
      dv.setInt32(272, r.castVote ? 1 : 0, true);
      dv.setUint32(280, r.ringId.nodeId, true);
      dv.setBigUint64(288, BigInt.asUintN(64, r.ringId.seq), true);
      break;
    case VqReq.QDEVICE_MASTER_WINS:
      name(16, r.name);
      dv.setUint32(272, r.allow ? 1 : 0, true);
      break;
  }
  return bytes;
}

/**
 * Decode a request (server side). Undefined when it is shorter than its fixed layout (the
 * service answers INVALID_PARAM); names without NUL are cut at 254 bytes.
 */
export function decodeVqRequest(id: number, b: Uint8Array): VqRequest | undefined {
  const need = REQUEST_SIZES[id];
  if (need === undefined) return undefined;
  // QDEVICE name requests carry char[255] right after the header: 271 bytes used.
  const dv = viewOf(b, Math.min(need, id === 5 || id === 6 ? 271 : id === 7 ? 526 : need));
  if (dv === undefined) return undefined;
  switch (id) {
    case VqReq.GETINFO:
      return { id, nodeId: dv.getUint32(16, true) };
    case VqReq.SETEXPECTED:
      return { id, expectedVotes: dv.getUint32(16, true) };
    case VqReq.SETVOTES:
      return { id, votes: dv.getUint32(16, true), nodeId: dv.getUint32(20, true) };
    case VqReq.TRACKSTART:
      return { id, context: dv.getBigUint64(16, true), flags: dv.getUint32(24, true) };
    case VqReq.TRACKSTOP:
      return { id };
    case VqReq.QDEVICE_REGISTER:
    case VqReq.QDEVICE_UNREGISTER:
      return { id, name: readCString(b, 16, NAME) };
    case VqReq.QDEVICE_UPDATE:
      return { id, oldName: readCString(b, 16, NAME), newName: readCString(b, 16 + NAME, NAME) };
    case VqReq.QDEVICE_POLL:
      return { id, name: readCString(b, 16, NAME), castVote: dv.getInt32(272, true) !== 0, ringId: { nodeId: dv.getUint32(280, true), seq: dv.getBigUint64(288, true) } };
    case VqReq.QDEVICE_MASTER_WINS:
      return { id, name: readCString(b, 16, NAME), allow: dv.getUint32(272, true) !== 0 };
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------- responses and events

/** GETINFO response; with an error, the body is zero. */
export function encodeGetInfo(info: VqInfoWire | undefined, error: number): Uint8Array {
  const { bytes, dv } = newResponse(VqRes.GETINFO, VQ_GETINFO_BYTES, error);
  if (info === undefined) return bytes;
  const fields = [info.nodeId, info.state, info.votes, info.expectedVotes, info.highestExpected, info.totalVotes, info.quorum, info.flags, info.qdeviceVotes];
  fields.forEach((v, i) => dv.setUint32(24 + 4 * i, v >>> 0, true));
  writeCString(bytes, 60, NAME, info.qdeviceName);
  return bytes;
}

export function decodeGetInfo(b: Uint8Array): VqInfoWire | undefined {
  const dv = viewOf(b, 60);
  if (dv === undefined) return undefined;
  const u = (off: number) => dv.getUint32(off, true);
  return {
    nodeId: u(24),
    state: u(28),
    votes: u(32),
    expectedVotes: u(36),
    highestExpected: u(40),
    totalVotes: u(44),
    quorum: u(48),
    flags: u(52),
    qdeviceVotes: u(56),
    qdeviceName: readCString(b, 60, NAME),
  };
}

export function encodeVqQuorumNotification(quorate: boolean, context: bigint, nodes: ReadonlyArray<{ nodeId: number; state: number }>): Uint8Array {
  const { bytes, dv } = newResponse(VqRes.QUORUM_NOTIFICATION, 48 + 8 * nodes.length);
  dv.setUint32(24, quorate ? 1 : 0, true);
  dv.setBigUint64(32, BigInt.asUintN(64, context), true);
  dv.setUint32(40, nodes.length, true);
  nodes.forEach((n, i) => {
    dv.setUint32(48 + 8 * i, n.nodeId, true);
    dv.setUint32(52 + 8 * i, n.state, true);
  });
  return bytes;
}

export function encodeVqNodelistNotification(context: bigint, ringId: RingIdValue, members: readonly number[]): Uint8Array {
  const { bytes, dv } = newResponse(VqRes.NODELIST_NOTIFICATION, 56 + 4 * members.length);
  dv.setBigUint64(24, BigInt.asUintN(64, context), true);
  dv.setUint32(32, ringId.nodeId, true);
  dv.setBigUint64(40, BigInt.asUintN(64, ringId.seq), true);
  dv.setUint32(48, members.length, true);
  members.forEach((id, i) => dv.setUint32(56 + 4 * i, id, true));
  return bytes;
}

export function encodeVqExpectedVotesNotification(context: bigint, expectedVotes: number): Uint8Array {
  const { bytes, dv } = newResponse(VqRes.EXPECTEDVOTES_NOTIFICATION, 40);
  dv.setBigUint64(24, BigInt.asUintN(64, context), true);
  dv.setUint32(32, expectedVotes >>> 0, true);
  return bytes;
}

export type VqEvent =
  | { kind: "quorum"; quorate: boolean; context: bigint; nodes: Array<{ nodeId: number; state: number }> }
  | { kind: "nodelist"; context: bigint; ringId: RingIdValue; members: number[] }
  | { kind: "expectedVotes"; context: bigint; expectedVotes: number };

/** Decode a votequorum event (client side); undefined for anything else or malformed. */
export function decodeVqEvent(b: Uint8Array): VqEvent | undefined {
  const dv = viewOf(b, 24);
  if (dv === undefined) return undefined;
  switch (dv.getInt32(0, true)) {
    case VqRes.QUORUM_NOTIFICATION: {
      if (b.byteLength < 48) return undefined;
      const n = Math.min(dv.getUint32(40, true), NODE_LIST_MAX, Math.floor((b.byteLength - 48) / 8));
      const nodes = Array.from({ length: n }, (_, i) => ({ nodeId: dv.getUint32(48 + 8 * i, true), state: dv.getUint32(52 + 8 * i, true) }));
      return { kind: "quorum", quorate: dv.getUint32(24, true) !== 0, context: dv.getBigUint64(32, true), nodes };
    }
    case VqRes.NODELIST_NOTIFICATION: {
      if (b.byteLength < 56) return undefined;
      const n = Math.min(dv.getUint32(48, true), NODE_LIST_MAX);
      return { kind: "nodelist", context: dv.getBigUint64(24, true), ringId: { nodeId: dv.getUint32(32, true), seq: dv.getBigUint64(40, true) }, members: readU32List(dv, 56, n) };
    }
    case VqRes.EXPECTEDVOTES_NOTIFICATION:
      if (b.byteLength < 36) return undefined;
      return { kind: "expectedVotes", context: dv.getBigUint64(24, true), expectedVotes: dv.getUint32(32, true) };
    default:
      return undefined;
  }
}
