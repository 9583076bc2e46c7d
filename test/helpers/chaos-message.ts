/**
 * The chaos workload's message (CTS's `msg_t` in spirit): magic "CHS1", u32 node id, u32 pid,
 * u32 per-sender sequence number, u32 body length, SHA-1 of the body, then the body; all
 * little-endian. The receiver checks every field against what CPG says about the sender.
 */
import { createHash } from "node:crypto";

const MAGIC = 0x31534843; // "CHS1" little-endian
const HEADER = 40;

/** A message: header (magic, node, pid, seq, body length, sha1) and body. */
export function encodeChaosMessage(nodeId: number, pid: number, seq: number, body: Uint8Array): Uint8Array {
  const msg = new Uint8Array(HEADER + body.byteLength);
  const v = new DataView(msg.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, nodeId, true);
  v.setUint32(8, pid, true);
  v.setUint32(12, seq, true);
  v.setUint32(16, body.byteLength, true);
  msg.set(createHash("sha1").update(body).digest(), 20);
  msg.set(body, HEADER);
  return msg;
}

/** Checks a delivery against the sender CPG reported; returns its seq and "ok" or the error. */
export function checkChaosMessage(data: Uint8Array, nodeId: number, pid: number): { seq: number; status: string } {
  if (data.byteLength < HEADER) return { seq: 0, status: "size" };
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const seq = v.getUint32(12, true);
  if (v.getUint32(0, true) !== MAGIC) return { seq, status: "magic" };
  if (v.getUint32(4, true) !== nodeId) return { seq, status: "nodeid" };
  if (v.getUint32(8, true) !== pid) return { seq, status: "pid" };
  if (v.getUint32(16, true) !== data.byteLength - HEADER) return { seq, status: "size" };
  const digest = createHash("sha1").update(data.subarray(HEADER)).digest();
  return { seq, status: digest.equals(data.subarray(20, 40)) ? "ok" : "sha1" };
}
