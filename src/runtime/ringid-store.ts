/**
 * The persisted ring sequence (totem-spec §4.2): `<state_dir>/ringid_<nodeid>` holds the ring
 * seq as an 8-byte native (little-endian here) u64, as corosync writes it. Read once at start
 * (absent → 0, and the file is created); written every time a new ring id is adopted, before
 * any frame of that ring is sent.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";

export function ringIdPath(stateDir: string, nodeId: number): string {
  return join(stateDir, `ringid_${nodeId}`);
}

/** Load the ring seq; a missing file is 0 and is created. Throws an Error naming the path. */
export function loadRingSeq(stateDir: string, nodeId: number): bigint {
  const path = ringIdPath(stateDir, nodeId);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`Couldn't read ring id file ${path}: ${(e as Error).message}`);
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    storeRingSeq(stateDir, nodeId, 0n);
    return 0n;
  }
  if (bytes.byteLength !== 8) throw new Error(`Ring id file ${path} has ${bytes.byteLength} bytes, expected 8`);
  return bytes.readBigUInt64LE(0);
}

/**
 * Store the ring seq synchronously (8 bytes; write to a temporary name and rename, so a
 * crash never leaves a torn file). The cost is a few tens of µs; it happens once per
 * membership change.
 */
export function storeRingSeq(stateDir: string, nodeId: number, seq: bigint): void {
  const path = ringIdPath(stateDir, nodeId);
  const tmp = `${path}.tmp`;
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(BigInt.asUintN(64, seq));
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, buf);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
