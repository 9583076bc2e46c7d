/**
 * libquorum IPC (`\0quorum`, service 3) as corosync 3.1.7 speaks it (libqb-ipc-spec.md §2.3,
 * include/corosync/ipc_quorum.h; offsets checked with gcc):
 *
 *   req 0 GETQUORATE (16)          → res 0: quorate u32 @24 (32)
 *   req 1 TRACKSTART flags u32 @16 → res 1 (24), then events
 *   req 2 TRACKSTOP (16)           → res 2 (24)
 *   req 3 GETTYPE (16)             → res 4: quorum_type u32 @24 (32)
 *   req 4 MODEL_GETTYPE model @16  → res 5: quorum_type @24 (32)
 *   event 3 (model v0) NOTIFICATION: quorate i32 @24, ring_seq u64 @32, entries @40, u32[] @44;
 *         size 48 + 4n
 *   event 6 (v1) QUORUM_NOTIFICATION: quorate @24, ring_id {nodeid @32, seq @40}, entries @48,
 *         u32[] @52; size 56 + 4n
 *   event 7 (v1) NODELIST_NOTIFICATION: ring_id {@24, @32}, member/joined/left counts @40/@48/@56,
 *         the three lists from @60; size 64 + 4·(m+j+l)
 * Pure.
 */
import { newRequest, newResponse, readU32List, viewOf } from "./common.js";

export const QuorumReq = { GETQUORATE: 0, TRACKSTART: 1, TRACKSTOP: 2, GETTYPE: 3, MODEL_GETTYPE: 4 } as const;
export const QuorumRes = { GETQUORATE: 0, TRACKSTART: 1, TRACKSTOP: 2, NOTIFICATION: 3, GETTYPE: 4, MODEL_GETTYPE: 5, V1_QUORUM_NOTIFICATION: 6, V1_NODELIST_NOTIFICATION: 7 } as const;
/** `CS_TRACK_*` flags. */
export const TrackFlag = { CURRENT: 1, CHANGES: 2, CHANGES_ONLY: 4 } as const;
export const QuorumModel = { V0: 0, V1: 1 } as const;
/** Quorum types: a provider decides (SET) or the node is always quorate (FREE). */
export const QuorumType = { FREE: 0, SET: 1 } as const;
/** Bound on node lists read from a message (`PROCESSOR_COUNT_MAX`). */
export const NODE_LIST_MAX = 384;

export interface RingIdValue {
  nodeId: number;
  seq: bigint;
}

// ---------------------------------------------------------------- requests (client side)

export function encodeQuorumRequest(id: number, arg?: number): Uint8Array {
  const withArg = id === QuorumReq.TRACKSTART || id === QuorumReq.MODEL_GETTYPE;
  const { bytes, dv } = newRequest(id, withArg ? 24 : 16);
  if (withArg) dv.setUint32(16, (arg ?? 0) >>> 0, true);
  return bytes;
}

/** The u32 argument of TRACKSTART / MODEL_GETTYPE (server side); undefined when short. */
export function decodeQuorumArg(b: Uint8Array): number | undefined {
  return viewOf(b, 20)?.getUint32(16, true);
}

// ---------------------------------------------------------------- responses and events

/** A response carrying one u32 at @24 (GETQUORATE, GETTYPE, MODEL_GETTYPE). */
export function encodeU32Response(id: number, value: number, error = 1): Uint8Array {
  const { bytes, dv } = newResponse(id, 32, error);
  dv.setUint32(24, value >>> 0, true);
  return bytes;
}

export function decodeU32Response(b: Uint8Array): number | undefined {
  return viewOf(b, 28)?.getUint32(24, true);
}

export interface QuorumNotification {
  quorate: boolean;
  ringId: RingIdValue;
  viewList: number[];
}

/** Model v0 NOTIFICATION (only the ring seq travels). */
export function encodeQuorumNotificationV0(n: QuorumNotification): Uint8Array {
  const { bytes, dv } = newResponse(QuorumRes.NOTIFICATION, 48 + 4 * n.viewList.length);
  dv.setInt32(24, n.quorate ? 1 : 0, true);
  dv.setBigUint64(32, BigInt.asUintN(64, n.ringId.seq), true);
  dv.setUint32(40, n.viewList.length, true);
  n.viewList.forEach((id, i) => dv.setUint32(44 + 4 * i, id, true));
  return bytes;
}

/** Model v1 QUORUM_NOTIFICATION. */
export function encodeQuorumNotificationV1(n: QuorumNotification): Uint8Array {
  const { bytes, dv } = newResponse(QuorumRes.V1_QUORUM_NOTIFICATION, 56 + 4 * n.viewList.length);
  dv.setInt32(24, n.quorate ? 1 : 0, true);
  dv.setUint32(32, n.ringId.nodeId, true);
  dv.setBigUint64(40, BigInt.asUintN(64, n.ringId.seq), true);
  dv.setUint32(48, n.viewList.length, true);
  n.viewList.forEach((id, i) => dv.setUint32(52 + 4 * i, id, true));
  return bytes;
}

export interface NodelistNotification {
  ringId: RingIdValue;
  members: number[];
  joined: number[];
  left: number[];
}

/** Model v1 NODELIST_NOTIFICATION. */
export function encodeNodelistNotification(n: NodelistNotification): Uint8Array {
  const all = [...n.members, ...n.joined, ...n.left];
  const { bytes, dv } = newResponse(QuorumRes.V1_NODELIST_NOTIFICATION, 64 + 4 * all.length);
  dv.setUint32(24, n.ringId.nodeId, true);
  dv.setBigUint64(32, BigInt.asUintN(64, n.ringId.seq), true);
  dv.setUint32(40, n.members.length, true);
  dv.setUint32(48, n.joined.length, true);
  dv.setUint32(56, n.left.length, true);
  all.forEach((id, i) => dv.setUint32(60 + 4 * i, id, true));
  return bytes;
}

/** Decode any quorum event (client side); undefined for what is not one or is malformed. */
export function decodeQuorumEvent(
  b: Uint8Array,
): ({ kind: "quorum"; model: 0 | 1 } & QuorumNotification) | ({ kind: "nodelist" } & NodelistNotification) | undefined {
  const dv = viewOf(b, 24);
  if (dv === undefined) return undefined;
  const id = dv.getInt32(0, true);
  if (id === QuorumRes.NOTIFICATION && b.byteLength >= 44) {
    const n = Math.min(dv.getUint32(40, true), NODE_LIST_MAX);
    return { kind: "quorum", model: 0, quorate: dv.getInt32(24, true) !== 0, ringId: { nodeId: 0, seq: dv.getBigUint64(32, true) }, viewList: readU32List(dv, 44, n) };
  }
  if (id === QuorumRes.V1_QUORUM_NOTIFICATION && b.byteLength >= 52) {
    const n = Math.min(dv.getUint32(48, true), NODE_LIST_MAX);
    return { kind: "quorum", model: 1, quorate: dv.getInt32(24, true) !== 0, ringId: { nodeId: dv.getUint32(32, true), seq: dv.getBigUint64(40, true) }, viewList: readU32List(dv, 52, n) };
  }
  if (id === QuorumRes.V1_NODELIST_NOTIFICATION && b.byteLength >= 60) {
    const m = Math.min(dv.getUint32(40, true), NODE_LIST_MAX);
    const j = Math.min(dv.getUint32(48, true), NODE_LIST_MAX);
    const l = Math.min(dv.getUint32(56, true), NODE_LIST_MAX);
    const all = readU32List(dv, 60, m + j + l);
    return { kind: "nodelist", ringId: { nodeId: dv.getUint32(24, true), seq: dv.getBigUint64(32, true) }, members: all.slice(0, m), joined: all.slice(m, m + j), left: all.slice(m + j, m + j + l) };
  }
  return undefined;
}
