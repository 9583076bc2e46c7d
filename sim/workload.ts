/**
 * Workload messages: each carries (sender, incarnation, per-sender seq, length) and a digest
 * over all of it and its padding, so the checkers can detect creation, duplication,
 * corruption and reordering without trusting the nodes.
 */
export const WORKLOAD_HEADER = 20;

/** FNV-1a over the header fields and the padding bytes. */
export function digestOf(sender: number, incarnation: number, seq: number, body: Uint8Array): number {
  let h = 0x811c9dc5;
  const mix = (b: number): void => {
    h ^= b & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  for (const v of [sender, incarnation, seq, body.byteLength]) {
    mix(v);
    mix(v >>> 8);
    mix(v >>> 16);
    mix(v >>> 24);
  }
  for (let i = WORKLOAD_HEADER; i < body.byteLength; i++) mix(body[i]!);
  return h >>> 0;
}

/** Build a workload message of `size` bytes (≥ 20). */
export function makeMessage(sender: number, incarnation: number, seq: number, size: number): Uint8Array {
  const body = new Uint8Array(Math.max(WORKLOAD_HEADER, size));
  const dv = new DataView(body.buffer);
  dv.setUint32(0, sender, true);
  dv.setUint32(4, incarnation, true);
  dv.setUint32(8, seq, true);
  for (let i = WORKLOAD_HEADER; i < body.byteLength; i++) body[i] = (seq * 31 + i * 7 + sender) & 0xff;
  dv.setUint32(16, digestOf(sender, incarnation, seq, body), true);
  dv.setUint32(12, body.byteLength, true);
  return body;
}

export interface ParsedMessage {
  sender: number;
  incarnation: number;
  seq: number;
  ok: boolean;
}

/** Parse and verify a delivered workload message. */
export function parseMessage(body: Uint8Array): ParsedMessage | undefined {
  if (body.byteLength < WORKLOAD_HEADER) return undefined;
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const sender = dv.getUint32(0, true);
  const incarnation = dv.getUint32(4, true);
  const seq = dv.getUint32(8, true);
  const len = dv.getUint32(12, true);
  const digest = dv.getUint32(16, true);
  const ok = len === body.byteLength && digestOf(sender, incarnation, seq, body) === digest;
  return { sender, incarnation, seq, ok };
}
