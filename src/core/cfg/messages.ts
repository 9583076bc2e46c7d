/**
 * cfg exec messages (service 1) as corosync 3.1.7 sends them (`exec/cfg.c`), every struct
 * member aligned(8) behind the 16-byte exec header:
 *
 *   fn 0 RINGREENABLE     32 B  source {nodeid u32 @16, conn u64 @24}
 *   fn 1 KILLNODE        288 B  nodeid u32 @16 · reason mar_name_t {length u16 @24, value[256] @32}
 *   fn 2 SHUTDOWN         16 B  header only
 *   fn 3 RELOAD_CONFIG    32 B  source {nodeid u32 @16, conn u64 @24}
 *   fn 4 CRYPTO_RECONFIG  24 B  phase u32 @16
 *
 * `source.conn` is the originator's local handle for the IPC connection that asked (an opaque
 * pointer in corosync, our connection id here); only the originator reads it. Decoders check
 * the length and never throw. Pure.
 */
import { ServiceId, writeExecHeader } from "../services/types.js";

export const CFG_EXEC = { RINGREENABLE: 0, KILLNODE: 1, SHUTDOWN: 2, RELOAD_CONFIG: 3, CRYPTO_RECONFIG: 4 } as const;

export const CFG_SOURCE_BYTES = 32;
export const CFG_KILLNODE_BYTES = 288;
export const CFG_SHUTDOWN_BYTES = 16;
export const CFG_CRYPTO_RECONFIG_BYTES = 24;
/** `CS_MAX_NAME_LENGTH`. */
export const CS_MAX_NAME_LENGTH = 256;

/** `mar_message_source_t`: who asked, and on which of its local connections. */
export interface MessageSource {
  nodeId: number;
  conn: bigint;
}

function message(fn: number, size: number): { bytes: Uint8Array; dv: DataView } {
  const bytes = new Uint8Array(size);
  writeExecHeader(bytes, ServiceId.CFG, fn, size);
  return { bytes, dv: new DataView(bytes.buffer) };
}

/** RINGREENABLE or RELOAD_CONFIG: the header and the source. */
export function encodeSourceMessage(fn: typeof CFG_EXEC.RINGREENABLE | typeof CFG_EXEC.RELOAD_CONFIG, source: MessageSource): Uint8Array {
  const { bytes, dv } = message(fn, CFG_SOURCE_BYTES);
  dv.setUint32(16, source.nodeId >>> 0, true);
  dv.setBigUint64(24, BigInt.asUintN(64, source.conn), true);
  return bytes;
}

export function decodeSourceMessage(b: Uint8Array, bigEndian: boolean): MessageSource | undefined {
  if (b.byteLength < CFG_SOURCE_BYTES) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, CFG_SOURCE_BYTES);
  return { nodeId: dv.getUint32(16, !bigEndian), conn: dv.getBigUint64(24, !bigEndian) };
}

export interface KillNodeMsg {
  nodeId: number;
  reason: string;
}

/** KILLNODE; the reason is cut to 255 bytes (it travels NUL-terminated). */
export function encodeKillNode(m: KillNodeMsg): Uint8Array {
  const { bytes, dv } = message(CFG_EXEC.KILLNODE, CFG_KILLNODE_BYTES);
  const reason = new TextEncoder().encode(m.reason).subarray(0, CS_MAX_NAME_LENGTH - 1);
  dv.setUint32(16, m.nodeId >>> 0, true);
  dv.setUint16(24, reason.byteLength, true);
  bytes.set(reason, 32);
  return bytes;
}

/** KILLNODE; a reason with a bad length or no NUL is shown safely, as corosync's `getcs_name_t`. */
export function decodeKillNode(b: Uint8Array, bigEndian: boolean): KillNodeMsg | undefined {
  if (b.byteLength < CFG_KILLNODE_BYTES) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, CFG_KILLNODE_BYTES);
  const length = Math.min(dv.getUint16(24, !bigEndian), CS_MAX_NAME_LENGTH - 1);
  const value = b.subarray(32, 32 + length);
  const nul = value.indexOf(0);
  return { nodeId: dv.getUint32(16, !bigEndian), reason: new TextDecoder().decode(nul < 0 ? value : value.subarray(0, nul)) };
}

export function encodeShutdown(): Uint8Array {
  return message(CFG_EXEC.SHUTDOWN, CFG_SHUTDOWN_BYTES).bytes;
}

export function encodeCryptoReconfig(phase: number): Uint8Array {
  const { bytes, dv } = message(CFG_EXEC.CRYPTO_RECONFIG, CFG_CRYPTO_RECONFIG_BYTES);
  dv.setUint32(16, phase >>> 0, true);
  return bytes;
}

export function decodeCryptoReconfig(b: Uint8Array, bigEndian: boolean): number | undefined {
  if (b.byteLength < 20) return undefined;
  return new DataView(b.buffer, b.byteOffset, 20).getUint32(16, !bigEndian);
}
