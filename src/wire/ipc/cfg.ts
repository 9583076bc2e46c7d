/**
 * libcfg IPC (`\0cfg`, service 1) as corosync 3.1.7 speaks it (libqb-ipc-spec.md §2.5,
 * include/corosync/ipc_cfg.h and cfg.h; offsets checked with gcc):
 *
 *   req 0 RINGSTATUSGET (16)      → res 0 (10272): count @24, names char[16][128] @32,
 *                                    status char[16][512] @2080
 *   req 1 RINGREENABLE (16)       → res 1 (24)
 *   req 2 KILLNODE nodeid @16, reason cs_name_t {u16 length @24, value[256] @26} (288) → res 8 (24)
 *   req 3 TRYSHUTDOWN flags @16 (24)       → res 9 (24), possibly much later
 *   req 4 REPLYTOSHUTDOWN response @16 (24) → res 13 (24)
 *   req 5 GET_NODE_ADDRS nodeid @16 (24)   → res 11: family @24, num @28, 16-byte slots @32
 *   req 6 LOCAL_GET (16)          → res 12: nodeid @24 (32)
 *   req 7 RELOAD_CONFIG (16)      → res 14 (24), after the reload ran everywhere
 *   req 8 REOPEN_LOG_FILES (16)   → res 15 (24)
 *   req 9 NODESTATUSGET nodeid @16, version @24 (32) → res 16: v1 (4200) or version only (32)
 *   req 10 TRACKSTART flags u8 @16 (24) → res 2 (24);  req 11 TRACKSTOP (16) → res 3 (24)
 *   event 10 TESTSHUTDOWN: flags u32 @24 (32)
 *
 * Node status v1 (at @24): version @0, nodeid @4, reachable/remote/external/onwire_min/
 * onwire_max/onwire_ver u8 @8..13, 8 link records of 520 bytes from @16 {enabled,
 * connected, dynconnected u8, mtu u32 @4, src char[256] @8, dst char[256] @264}. Pure.
 */
import { newRequest, newResponse, readCString, viewOf, writeCString } from "./common.js";

export const CfgReq = {
  RINGSTATUSGET: 0,
  RINGREENABLE: 1,
  KILLNODE: 2,
  TRYSHUTDOWN: 3,
  REPLYTOSHUTDOWN: 4,
  GET_NODE_ADDRS: 5,
  LOCAL_GET: 6,
  RELOAD_CONFIG: 7,
  REOPEN_LOG_FILES: 8,
  NODESTATUSGET: 9,
  TRACKSTART: 10,
  TRACKSTOP: 11,
} as const;

export const CfgRes = {
  RINGSTATUSGET: 0,
  RINGREENABLE: 1,
  STATETRACKSTART: 2,
  STATETRACKSTOP: 3,
  KILLNODE: 8,
  TRYSHUTDOWN: 9,
  TESTSHUTDOWN: 10,
  GET_NODE_ADDRS: 11,
  LOCAL_GET: 12,
  REPLYTOSHUTDOWN: 13,
  RELOAD_CONFIG: 14,
  REOPEN_LOG_FILES: 15,
  NODESTATUSGET: 16,
} as const;

export const CFG_MAX_INTERFACES = 16;
export const CFG_INTERFACE_NAME_MAX_LEN = 128;
export const CFG_INTERFACE_STATUS_MAX_LEN = 512;
export const CFG_MAX_LINKS = 8;
export const CFG_MAX_HOST_LEN = 256;
export const CFG_NODE_STATUS_V1 = 1;
export const RINGSTATUS_BYTES = 10272;
export const NODESTATUS_V1_BYTES = 4200;
const LINK_BYTES = 520;
const ADDR_SLOT = 16;
export const AF_INET = 2;
export const AF_INET6 = 10;

// ---------------------------------------------------------------- requests

/** A request with at most one u32 argument at @16 (u8 for TRACKSTART). */
export function encodeCfgRequest(id: number, arg?: number): Uint8Array {
  const sized: Record<number, number> = { 3: 24, 4: 24, 5: 24, 10: 24 };
  const { bytes, dv } = newRequest(id, sized[id] ?? 16);
  if (sized[id] !== undefined) {
    if (id === CfgReq.TRACKSTART) dv.setUint8(16, (arg ?? 0) & 0xff);
    else dv.setUint32(16, (arg ?? 0) >>> 0, true);
  }
  return bytes;
}

export function encodeNodeStatusGet(nodeId: number, version = CFG_NODE_STATUS_V1): Uint8Array {
  const { bytes, dv } = newRequest(CfgReq.NODESTATUSGET, 32);
  dv.setUint32(16, nodeId >>> 0, true);
  dv.setUint32(24, version >>> 0, true);
  return bytes;
}

export function encodeKillNodeRequest(nodeId: number, reason: string): Uint8Array {
  const { bytes, dv } = newRequest(CfgReq.KILLNODE, 288);
  const r = new TextEncoder().encode(reason).subarray(0, 255);
  dv.setUint32(16, nodeId >>> 0, true);
  dv.setUint16(24, r.byteLength, true);
  bytes.set(r, 26);
  return bytes;
}

/** The u32 at @16 (server side), undefined when short. */
export function decodeCfgArg(b: Uint8Array): number | undefined {
  return viewOf(b, 20)?.getUint32(16, true);
}

export function decodeNodeStatusGet(b: Uint8Array): { nodeId: number; version: number } | undefined {
  const dv = viewOf(b, 28);
  return dv === undefined ? undefined : { nodeId: dv.getUint32(16, true), version: dv.getUint32(24, true) };
}

/** KILLNODE request: node id and the reason (`cs_name_t`, sanitised like `getcs_name_t`). */
export function decodeKillNodeRequest(b: Uint8Array): { nodeId: number; reason: string } | undefined {
  const dv = viewOf(b, 26);
  if (dv === undefined) return undefined;
  const length = Math.min(dv.getUint16(24, true), 255, Math.max(0, b.byteLength - 26));
  const value = b.subarray(26, 26 + length);
  const nul = value.indexOf(0);
  return { nodeId: dv.getUint32(16, true), reason: new TextDecoder().decode(nul < 0 ? value : value.subarray(0, nul)) };
}

// ---------------------------------------------------------------- responses and events

export interface RingStatusEntry {
  /** `"<link> <address>"`. */
  name: string;
  status: string;
}

export function encodeRingStatus(entries: readonly RingStatusEntry[], error = 1): Uint8Array {
  const { bytes, dv } = newResponse(CfgRes.RINGSTATUSGET, RINGSTATUS_BYTES, error);
  const list = entries.slice(0, CFG_MAX_INTERFACES);
  dv.setUint32(24, list.length, true);
  list.forEach((e, i) => {
    writeCString(bytes, 32 + i * CFG_INTERFACE_NAME_MAX_LEN, CFG_INTERFACE_NAME_MAX_LEN, e.name);
    writeCString(bytes, 2080 + i * CFG_INTERFACE_STATUS_MAX_LEN, CFG_INTERFACE_STATUS_MAX_LEN, e.status);
  });
  return bytes;
}

export function decodeRingStatus(b: Uint8Array): RingStatusEntry[] | undefined {
  const dv = viewOf(b, RINGSTATUS_BYTES);
  if (dv === undefined) return undefined;
  const n = Math.min(dv.getUint32(24, true), CFG_MAX_INTERFACES);
  return Array.from({ length: n }, (_, i) => ({
    name: readCString(b, 32 + i * CFG_INTERFACE_NAME_MAX_LEN, CFG_INTERFACE_NAME_MAX_LEN),
    status: readCString(b, 2080 + i * CFG_INTERFACE_STATUS_MAX_LEN, CFG_INTERFACE_STATUS_MAX_LEN),
  }));
}

export function encodeLocalGet(nodeId: number): Uint8Array {
  const { bytes, dv } = newResponse(CfgRes.LOCAL_GET, 32);
  dv.setUint32(24, nodeId >>> 0, true);
  return bytes;
}

export function encodeTestShutdown(flags: number, status = 1): Uint8Array {
  const { bytes, dv } = newResponse(CfgRes.TESTSHUTDOWN, 32, status);
  dv.setUint32(24, flags >>> 0, true);
  return bytes;
}

export interface NodeAddress {
  family: "IPv4" | "IPv6";
  address: string;
}

/** IPv4/IPv6 text → 16 address bytes (IPv4 in the first 4), network order. */
export function addressBytes(address: string, family: "IPv4" | "IPv6"): Uint8Array {
  const out = new Uint8Array(ADDR_SLOT);
  if (family === "IPv4") {
    address.split(".").forEach((p, i) => (out[i] = Number(p) & 0xff));
    return out;
  }
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const h = head === "" ? [] : head!.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16) || 0;
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

function addressText(b: Uint8Array, family: number): string {
  if (family === AF_INET) return Array.from(b.subarray(0, 4)).join(".");
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  // RFC 5952: the longest run (≥ 2) of zero groups becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** GET_NODE_ADDRS response: family of the first address, then 16-byte slots. */
export function encodeNodeAddrs(addrs: readonly NodeAddress[], error = 1): Uint8Array {
  const { bytes, dv } = newResponse(CfgRes.GET_NODE_ADDRS, 32 + ADDR_SLOT * addrs.length, error);
  if (addrs.length > 0) dv.setUint32(24, addrs[0]!.family === "IPv6" ? AF_INET6 : AF_INET, true);
  dv.setUint32(28, addrs.length, true);
  addrs.forEach((a, i) => bytes.set(addressBytes(a.address, a.family), 32 + ADDR_SLOT * i));
  return bytes;
}

export function decodeNodeAddrs(b: Uint8Array): NodeAddress[] | undefined {
  const dv = viewOf(b, 32);
  if (dv === undefined) return undefined;
  const family = dv.getUint32(24, true);
  const n = Math.min(dv.getUint32(28, true), Math.floor((b.byteLength - 32) / ADDR_SLOT), 64);
  const out: NodeAddress[] = [];
  for (let i = 0; i < n; i++) {
    const slot = b.subarray(32 + ADDR_SLOT * i, 32 + ADDR_SLOT * (i + 1));
    if (slot.every((x) => x === 0)) continue;
    out.push({ family: family === AF_INET6 ? "IPv6" : "IPv4", address: addressText(slot, family) });
  }
  return out;
}

export interface LinkStatus {
  enabled: boolean;
  connected: boolean;
  dynconnected: boolean;
  mtu: number;
  src: string;
  dst: string;
}

/** `struct corosync_cfg_node_status_v1`. */
export interface NodeStatus {
  nodeId: number;
  reachable: boolean;
  remote: boolean;
  external: boolean;
  onwireMin: number;
  onwireMax: number;
  onwireVer: number;
  links: LinkStatus[];
}

export function encodeNodeStatus(s: NodeStatus | undefined, error: number, version = CFG_NODE_STATUS_V1): Uint8Array {
  if (s === undefined || version !== CFG_NODE_STATUS_V1) {
    const { bytes, dv } = newResponse(CfgRes.NODESTATUSGET, 32, error);
    dv.setUint32(24, version >>> 0, true);
    return bytes;
  }
  const { bytes, dv } = newResponse(CfgRes.NODESTATUSGET, NODESTATUS_V1_BYTES, error);
  const base = 24;
  dv.setUint32(base, CFG_NODE_STATUS_V1, true);
  dv.setUint32(base + 4, s.nodeId >>> 0, true);
  [s.reachable, s.remote, s.external].forEach((v, i) => dv.setUint8(base + 8 + i, v ? 1 : 0));
  dv.setUint8(base + 11, s.onwireMin);
  dv.setUint8(base + 12, s.onwireMax);
  dv.setUint8(base + 13, s.onwireVer);
  s.links.slice(0, CFG_MAX_LINKS).forEach((l, i) => {
    const off = base + 16 + i * LINK_BYTES;
    dv.setUint8(off, l.enabled ? 1 : 0);
    dv.setUint8(off + 1, l.connected ? 1 : 0);
    dv.setUint8(off + 2, l.dynconnected ? 1 : 0);
    dv.setUint32(off + 4, l.mtu >>> 0, true);
    writeCString(bytes, off + 8, CFG_MAX_HOST_LEN, l.src);
    writeCString(bytes, off + 264, CFG_MAX_HOST_LEN, l.dst);
  });
  return bytes;
}

export function decodeNodeStatus(b: Uint8Array): NodeStatus | undefined {
  const dv = viewOf(b, NODESTATUS_V1_BYTES);
  if (dv === undefined) return undefined;
  const base = 24;
  const links: LinkStatus[] = [];
  for (let i = 0; i < CFG_MAX_LINKS; i++) {
    const off = base + 16 + i * LINK_BYTES;
    links.push({
      enabled: dv.getUint8(off) !== 0,
      connected: dv.getUint8(off + 1) !== 0,
      dynconnected: dv.getUint8(off + 2) !== 0,
      mtu: dv.getUint32(off + 4, true),
      src: readCString(b, off + 8, CFG_MAX_HOST_LEN),
      dst: readCString(b, off + 264, CFG_MAX_HOST_LEN),
    });
  }
  return {
    nodeId: dv.getUint32(base + 4, true),
    reachable: dv.getUint8(base + 8) !== 0,
    remote: dv.getUint8(base + 9) !== 0,
    external: dv.getUint8(base + 10) !== 0,
    onwireMin: dv.getUint8(base + 11),
    onwireMax: dv.getUint8(base + 12),
    onwireVer: dv.getUint8(base + 13),
    links,
  };
}
