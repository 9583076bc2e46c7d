/**
 * Shared pieces of corosync's IPC message layouts (libqb-ipc-spec.md §2.1): the 16-byte
 * request header (id @0, size @8) and the 24-byte response/event header (id @0, size @8,
 * error @16), every field little-endian (IPC never leaves the host), padding zeroed.
 * Pure; used by the daemon's services and by the client libraries alike.
 */

export const REQ_HEADER_BYTES = 16;
export const RES_HEADER_BYTES = 24;
/** `cs_error_t` CS_OK. */
export const CS_OK = 1;

/** A zeroed request of `size` bytes with its header written. */
export function newRequest(id: number, size: number): { bytes: Uint8Array; dv: DataView } {
  const bytes = new Uint8Array(size);
  const dv = new DataView(bytes.buffer);
  dv.setInt32(0, id, true);
  dv.setInt32(8, size, true);
  return { bytes, dv };
}

/** A zeroed response or event of `size` bytes with its header written. */
export function newResponse(id: number, size: number, error: number = CS_OK): { bytes: Uint8Array; dv: DataView } {
  const bytes = new Uint8Array(size);
  const dv = new DataView(bytes.buffer);
  dv.setInt32(0, id, true);
  dv.setInt32(8, size, true);
  dv.setInt32(16, error, true);
  return { bytes, dv };
}

/** A header-only response. */
export function statusResponse(id: number, error: number): Uint8Array {
  return newResponse(id, RES_HEADER_BYTES, error).bytes;
}

/** A view over a message, or undefined when it is shorter than `need` bytes. */
export function viewOf(b: Uint8Array, need: number): DataView | undefined {
  if (b.byteLength < need) return undefined;
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** The header of a response or event: id, size, error (undefined when too short). */
export function responseHeader(b: Uint8Array): { id: number; size: number; error: number } | undefined {
  const dv = viewOf(b, RES_HEADER_BYTES);
  if (dv === undefined) return undefined;
  return { id: dv.getInt32(0, true), size: dv.getInt32(8, true), error: dv.getInt32(16, true) };
}

/** A NUL-terminated char[max] field; a field without NUL is cut at `max - 1` bytes. */
export function readCString(b: Uint8Array, off: number, max: number): string {
  const field = b.subarray(off, Math.min(b.byteLength, off + max));
  const end = field.indexOf(0);
  return new TextDecoder().decode(end < 0 ? field.subarray(0, Math.max(0, max - 1)) : field.subarray(0, end));
}

/** Writes `s` as a C string into char[max] at `off`; false (nothing written) when too long. */
export function writeCString(b: Uint8Array, off: number, max: number, s: string): boolean {
  const enc = new TextEncoder().encode(s);
  if (enc.byteLength >= max) return false;
  b.set(enc, off);
  return true;
}

/** A u32 list at `off` (bounded by the buffer). */
export function readU32List(dv: DataView, off: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count && off + 4 * i + 4 <= dv.byteLength; i++) out.push(dv.getUint32(off + 4 * i, true));
  return out;
}
