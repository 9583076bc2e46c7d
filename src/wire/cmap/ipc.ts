/**
 * cmap's IPC messages (corosync 3.1.7 `include/corosync/ipc_cmap.h`; libqb-ipc-spec.md §2.2):
 * the ten requests libcmap sends, their responses and the NOTIFY_CALLBACK event, with both
 * ends' codecs (the daemon decodes requests and encodes responses/events; the client library
 * does the opposite). Every struct member is `aligned(8)`, so fields sit on 8-byte
 * boundaries; padding is written as zeros.
 *
 *   request header (16): id i32 @0, size i32 @8
 *   response header (24): id i32 @0, size i32 @8, error i32 @16
 *   mar_name_t (264): length u16 @0, value char[256] @8
 *
 * Contracts: decoders never throw anything but `DecodeError` (hostile bytes from a local
 * client); encoders zero all padding; `encode(decode(b))` of a canonical message gives `b`.
 * A key name is the C string in `value` (up to its first NUL, at most 256 bytes), as the
 * daemon reads it; `length` is kept separately because ITER_INIT and TRACK_ADD use
 * `length == 0` to mean "no prefix / no key".
 */
import { DecodeError } from "../errors.js";
import { Reader } from "../reader.js";

/** Request ids (`enum req_cmap_types`). */
export const CmapReqId = {
  SET: 0,
  DELETE: 1,
  GET: 2,
  ADJUST_INT: 3,
  ITER_INIT: 4,
  ITER_NEXT: 5,
  ITER_FINALIZE: 6,
  TRACK_ADD: 7,
  TRACK_DELETE: 8,
  SET_CURRENT_MAP: 9,
} as const;
export type CmapReqId = (typeof CmapReqId)[keyof typeof CmapReqId];

/** Response ids (`enum res_cmap_types`): the request's id, except SET_CURRENT_MAP → 10. */
export const CmapResId = {
  SET: 0,
  DELETE: 1,
  GET: 2,
  ADJUST_INT: 3,
  ITER_INIT: 4,
  ITER_NEXT: 5,
  ITER_FINALIZE: 6,
  TRACK_ADD: 7,
  TRACK_DELETE: 8,
  NOTIFY_CALLBACK: 9,
  SET_CURRENT_MAP: 10,
} as const;

/** Number of request ids the service knows (ids ≥ this are answered INVALID_PARAM by the IPC server). */
export const CMAP_REQUEST_ID_COUNT = 10;

/** `cmap_map_t` / `CMAP_SETMAP_*`. */
export const CMAP_MAP_DEFAULT = 0;
export const CMAP_MAP_STATS = 1;

/** Size of `mar_name_t` and of its value field. */
export const MAR_NAME_SIZE = 264;
export const MAR_NAME_VALUE_SIZE = 256;
const REQ_HEADER = 16;
const RES_HEADER = 24;

/** Fixed sizes of the messages (bytes), as gcc lays them out. */
export const CMAP_SIZES = {
  setHeader: 296,
  delete: 280,
  get: 288,
  adjustInt: 288,
  iterInit: 280,
  iterNext: 24,
  iterFinalize: 24,
  trackAdd: 296,
  trackDelete: 24,
  setCurrentMap: 24,
  resHeader: 24,
  resGet: 40,
  resIterInit: 32,
  resIterNext: 304,
  resTrackAdd: 32,
  resTrackDelete: 32,
  notify: 336,
} as const;

/** A key name as it travels: the `length` field and the C string read from `value`. */
export interface MarName {
  length: number;
  text: string;
}

export type CmapRequest =
  | { id: typeof CmapReqId.SET; key: MarName; valueLen: bigint; type: number; value: Uint8Array }
  | { id: typeof CmapReqId.DELETE; key: MarName }
  | { id: typeof CmapReqId.GET; key: MarName; valueLen: bigint }
  | { id: typeof CmapReqId.ADJUST_INT; key: MarName; step: number }
  | { id: typeof CmapReqId.ITER_INIT; prefix: MarName }
  | { id: typeof CmapReqId.ITER_NEXT; iterHandle: bigint }
  | { id: typeof CmapReqId.ITER_FINALIZE; iterHandle: bigint }
  | { id: typeof CmapReqId.TRACK_ADD; key: MarName; trackType: number; trackInstHandle: bigint }
  | { id: typeof CmapReqId.TRACK_DELETE; trackHandle: bigint }
  | { id: typeof CmapReqId.SET_CURRENT_MAP; map: number };

/** The NOTIFY_CALLBACK event. Values are raw bytes (icmap's layout, see value.ts). */
export interface CmapNotifyEvent {
  trackInstHandle: bigint;
  key: string;
  /** `CMAP_TRACK_ADD` 4, `_MODIFY` 2, `_DELETE` 1. */
  event: number;
  newType: number;
  oldType: number;
  newValue: Uint8Array;
  oldValue: Uint8Array;
}

const utf8 = new TextEncoder();
// Key bytes that are not UTF-8 become U+FFFD and so fail the key-name check later.
const lenient = new TextDecoder("utf-8");

/** The response id answering request `id` (−1 for an unknown id). */
export function cmapResponseIdFor(id: number): number {
  if (id === CmapReqId.SET_CURRENT_MAP) return CmapResId.SET_CURRENT_MAP;
  return id >= 0 && id < CMAP_REQUEST_ID_COUNT ? id : -1;
}

/** The size of the response to request `id` when it carries an error (corosync's sizes). */
export function cmapErrorResponseSize(id: number): number {
  switch (id) {
    case CmapReqId.GET:
      return CMAP_SIZES.resGet;
    case CmapReqId.ITER_INIT:
      return CMAP_SIZES.resIterInit;
    case CmapReqId.ITER_NEXT:
      return CMAP_SIZES.resIterNext;
    case CmapReqId.TRACK_ADD:
      return CMAP_SIZES.resTrackAdd;
    case CmapReqId.TRACK_DELETE:
      return CMAP_SIZES.resTrackDelete;
    default:
      return CMAP_SIZES.resHeader;
  }
}

// ------------------------------------------------------------------ requests

/**
 * Decodes one request (header included). Throws `DecodeError`: `TRUNCATED` when the message
 * is shorter than its layout, `BAD_VALUE` for an unknown id, `BAD_LENGTHS` when SET's
 * `value_len` does not fit the message. Bytes after the layout are tolerated (the header's
 * size governs what the server read).
 */
export function decodeCmapRequest(msg: Uint8Array): CmapRequest {
  const r = new Reader(msg);
  const id = r.i32("cmap.header.id");
  r.skip(4, "cmap.header.pad");
  r.i32("cmap.header.size");
  r.skip(4, "cmap.header.pad2");
  switch (id) {
    case CmapReqId.SET:
      return decodeSet(r);
    case CmapReqId.DELETE:
      return { id, key: readName(r, "cmap.delete.key_name") };
    case CmapReqId.GET: {
      const key = readName(r, "cmap.get.key_name");
      return { id, key, valueLen: r.u64("cmap.get.value_len") };
    }
    case CmapReqId.ADJUST_INT: {
      const key = readName(r, "cmap.adjust_int.key_name");
      return { id, key, step: r.i32("cmap.adjust_int.step") };
    }
    case CmapReqId.ITER_INIT:
      return { id, prefix: readName(r, "cmap.iter_init.prefix") };
    case CmapReqId.ITER_NEXT:
      return { id, iterHandle: r.u64("cmap.iter_next.iter_handle") };
    case CmapReqId.ITER_FINALIZE:
      return { id, iterHandle: r.u64("cmap.iter_finalize.iter_handle") };
    case CmapReqId.TRACK_ADD:
      return decodeTrackAdd(r);
    case CmapReqId.TRACK_DELETE:
      return { id, trackHandle: r.u64("cmap.track_delete.track_handle") };
    case CmapReqId.SET_CURRENT_MAP:
      return { id, map: r.i32("cmap.set_current_map.map") };
    default:
      throw new DecodeError("BAD_VALUE", "cmap.header.id", `unknown cmap request id ${id}`);
  }
}

function decodeSet(r: Reader): CmapRequest {
  const key = readName(r, "cmap.set.key_name");
  const valueLen = r.u64("cmap.set.value_len");
  const type = r.u8("cmap.set.type");
  r.skip(7, "cmap.set.pad");
  if (valueLen > BigInt(r.remaining)) throw new DecodeError("BAD_LENGTHS", "cmap.set.value_len", `value_len ${valueLen} exceeds the ${r.remaining} bytes left`);
  const value = r.bytesView(Number(valueLen), "cmap.set.value");
  return { id: CmapReqId.SET, key, valueLen, type, value };
}

function decodeTrackAdd(r: Reader): CmapRequest {
  const key = readName(r, "cmap.track_add.key_name");
  const trackType = r.i32("cmap.track_add.track_type");
  r.skip(4, "cmap.track_add.pad");
  return { id: CmapReqId.TRACK_ADD, key, trackType, trackInstHandle: r.u64("cmap.track_add.track_inst_handle") };
}

/** Reads a `mar_name_t`: the C string in its 256-byte value (the daemon's view of the key). */
export function readName(r: Reader, field: string): MarName {
  const length = r.u16(`${field}.length`);
  r.skip(6, `${field}.pad`);
  const raw = r.bytesView(MAR_NAME_VALUE_SIZE, `${field}.value`);
  const nul = raw.indexOf(0);
  return { length, text: lenient.decode(nul < 0 ? raw : raw.subarray(0, nul)) };
}

/** Writes a `mar_name_t` for `text` (which must fit: at most 255 UTF-8 bytes). */
function writeName(out: Uint8Array, offset: number, text: string): void {
  const b = utf8.encode(text);
  if (b.byteLength >= MAR_NAME_VALUE_SIZE) throw new RangeError(`key name of ${b.byteLength} bytes does not fit mar_name_t`);
  new DataView(out.buffer, out.byteOffset).setUint16(offset, b.byteLength, true);
  out.set(b, offset + 8);
}

/** Bytes a key name takes in UTF-8 (libcmap refuses 256 and more with NAME_TOO_LONG). */
export function keyNameBytes(text: string): number {
  return utf8.encode(text).byteLength;
}

function message(size: number, id: number): { buf: Uint8Array; dv: DataView } {
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  dv.setInt32(0, id, true);
  dv.setInt32(8, size, true);
  return { buf, dv };
}

/** Encodes a request as libcmap does (client side). Throws RangeError for a key that does not fit. */
export function encodeCmapRequest(req: CmapRequest): Uint8Array {
  switch (req.id) {
    case CmapReqId.SET: {
      const { buf, dv } = message(CMAP_SIZES.setHeader + req.value.byteLength, req.id);
      writeName(buf, 16, req.key.text);
      dv.setBigUint64(280, BigInt(req.value.byteLength), true);
      dv.setUint8(288, req.type);
      buf.set(req.value, 296);
      return buf;
    }
    case CmapReqId.DELETE:
      return nameOnly(CMAP_SIZES.delete, req.id, req.key.text);
    case CmapReqId.GET: {
      const { buf, dv } = message(CMAP_SIZES.get, req.id);
      writeName(buf, 16, req.key.text);
      dv.setBigUint64(280, req.valueLen, true);
      return buf;
    }
    case CmapReqId.ADJUST_INT: {
      const { buf, dv } = message(CMAP_SIZES.adjustInt, req.id);
      writeName(buf, 16, req.key.text);
      dv.setInt32(280, req.step, true);
      return buf;
    }
    case CmapReqId.ITER_INIT:
      return nameOnly(CMAP_SIZES.iterInit, req.id, req.prefix.text);
    case CmapReqId.ITER_NEXT:
    case CmapReqId.ITER_FINALIZE:
      return handleOnly(req.id, req.iterHandle);
    case CmapReqId.TRACK_ADD: {
      const { buf, dv } = message(CMAP_SIZES.trackAdd, req.id);
      writeName(buf, 16, req.key.text);
      dv.setInt32(280, req.trackType, true);
      dv.setBigUint64(288, req.trackInstHandle, true);
      return buf;
    }
    case CmapReqId.TRACK_DELETE:
      return handleOnly(req.id, req.trackHandle);
    case CmapReqId.SET_CURRENT_MAP: {
      const { buf, dv } = message(CMAP_SIZES.setCurrentMap, req.id);
      dv.setInt32(16, req.map, true);
      return buf;
    }
  }
}

function nameOnly(size: number, id: number, text: string): Uint8Array {
  const { buf } = message(size, id);
  writeName(buf, 16, text);
  return buf;
}

function handleOnly(id: number, handle: bigint): Uint8Array {
  const { buf, dv } = message(REQ_HEADER + 8, id);
  dv.setBigUint64(16, handle, true);
  return buf;
}

// ------------------------------------------------------------------ responses

function response(size: number, id: number, error: number): { buf: Uint8Array; dv: DataView } {
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  dv.setInt32(0, id, true);
  dv.setInt32(8, size, true);
  dv.setInt32(16, error, true);
  return { buf, dv };
}

/** A response of the error-size layout for request `id` (all fields zero but the header). */
export function encodeCmapErrorResponse(id: number, error: number): Uint8Array {
  const resId = cmapResponseIdFor(id);
  return response(cmapErrorResponseSize(id), resId < 0 ? 0 : resId, error).buf;
}

/**
 * GET's response: `value_len` and `type` of the key, then `space` bytes of which the first
 * hold the value (corosync makes the message `40 + requested value_len` long).
 */
export function encodeGetResponse(error: number, valueLen: number, type: number, value: Uint8Array | undefined, space: number): Uint8Array {
  const { buf, dv } = response(CMAP_SIZES.resGet + space, CmapResId.GET, error);
  dv.setBigUint64(24, BigInt(valueLen), true);
  dv.setUint8(32, type);
  if (value !== undefined) buf.set(value.subarray(0, space), 40);
  return buf;
}

export function encodeIterInitResponse(error: number, iterHandle: bigint): Uint8Array {
  const { buf, dv } = response(CMAP_SIZES.resIterInit, CmapResId.ITER_INIT, error);
  dv.setBigUint64(24, iterHandle, true);
  return buf;
}

export function encodeIterNextResponse(error: number, key: string | undefined, valueLen: number, type: number): Uint8Array {
  const { buf, dv } = response(CMAP_SIZES.resIterNext, CmapResId.ITER_NEXT, error);
  if (key !== undefined) {
    writeName(buf, 24, key);
    dv.setBigUint64(288, BigInt(valueLen), true);
    dv.setUint8(296, type);
  }
  return buf;
}

export function encodeTrackAddResponse(error: number, trackHandle: bigint): Uint8Array {
  const { buf, dv } = response(CMAP_SIZES.resTrackAdd, CmapResId.TRACK_ADD, error);
  dv.setBigUint64(24, trackHandle, true);
  return buf;
}

export function encodeTrackDeleteResponse(error: number, trackInstHandle: bigint): Uint8Array {
  const { buf, dv } = response(CMAP_SIZES.resTrackDelete, CmapResId.TRACK_DELETE, error);
  dv.setBigUint64(24, trackInstHandle, true);
  return buf;
}

/** The NOTIFY_CALLBACK event: 336 bytes, then the new value, then the old value. */
export function encodeNotifyEvent(e: CmapNotifyEvent): Uint8Array {
  const size = CMAP_SIZES.notify + e.newValue.byteLength + e.oldValue.byteLength;
  const { buf, dv } = response(size, CmapResId.NOTIFY_CALLBACK, 1);
  dv.setBigUint64(24, e.trackInstHandle, true);
  writeName(buf, 32, e.key);
  dv.setInt32(296, e.event, true);
  dv.setUint8(304, e.newType);
  dv.setUint8(312, e.oldType);
  dv.setBigUint64(320, BigInt(e.newValue.byteLength), true);
  dv.setBigUint64(328, BigInt(e.oldValue.byteLength), true);
  buf.set(e.newValue, 336);
  buf.set(e.oldValue, 336 + e.newValue.byteLength);
  return buf;
}

// ------------------------------------------------------------------ client-side decoders

/** A response header (any cmap response). */
export interface CmapResponseHeader {
  id: number;
  size: number;
  error: number;
}

export function decodeCmapResponseHeader(msg: Uint8Array): CmapResponseHeader {
  const r = new Reader(msg);
  const id = r.i32("cmap.res.id");
  r.skip(4, "cmap.res.pad");
  const size = r.i32("cmap.res.size");
  r.skip(4, "cmap.res.pad2");
  const error = r.i32("cmap.res.error");
  return { id, size, error };
}

/** GET's response: the actual `valueLen`, `type` and (when asked for) the value bytes. */
export function decodeGetResponse(msg: Uint8Array): CmapResponseHeader & { valueLen: number; type: number; value: Uint8Array } {
  const h = decodeCmapResponseHeader(msg);
  const r = new Reader(msg);
  r.skip(RES_HEADER, "cmap.res_get.header");
  const valueLen = r.u64("cmap.res_get.value_len");
  const type = r.u8("cmap.res_get.type");
  if (h.error !== 1) return { ...h, valueLen: 0, type, value: new Uint8Array(0) };
  r.skip(7, "cmap.res_get.pad");
  const have = BigInt(r.remaining);
  const n = valueLen < have ? Number(valueLen) : Number(have);
  return { ...h, valueLen: Number(valueLen > 0xffffffffn ? 0xffffffffn : valueLen), type, value: new Uint8Array(r.bytesView(n, "cmap.res_get.value")) };
}

export function decodeHandleResponse(msg: Uint8Array): CmapResponseHeader & { handle: bigint } {
  const h = decodeCmapResponseHeader(msg);
  const r = new Reader(msg);
  r.skip(RES_HEADER, "cmap.res.header");
  return { ...h, handle: r.u64("cmap.res.handle") };
}

export function decodeIterNextResponse(msg: Uint8Array): CmapResponseHeader & { key: string; valueLen: number; type: number } {
  const h = decodeCmapResponseHeader(msg);
  const r = new Reader(msg);
  r.skip(RES_HEADER, "cmap.res_iter_next.header");
  const key = readName(r, "cmap.res_iter_next.key_name");
  const valueLen = r.u64("cmap.res_iter_next.value_len");
  const type = r.u8("cmap.res_iter_next.type");
  return { ...h, key: key.text, valueLen: Number(valueLen > 0xffffffffn ? 0xffffffffn : valueLen), type };
}

/** Decodes a NOTIFY_CALLBACK event; `DecodeError` when it is not one or lengths do not add up. */
export function decodeNotifyEvent(msg: Uint8Array): CmapNotifyEvent {
  const h = decodeCmapResponseHeader(msg);
  if (h.id !== CmapResId.NOTIFY_CALLBACK) throw new DecodeError("BAD_VALUE", "cmap.notify.id", `event id ${h.id}`);
  const r = new Reader(msg);
  r.skip(RES_HEADER, "cmap.notify.header");
  const trackInstHandle = r.u64("cmap.notify.track_inst_handle");
  const key = readName(r, "cmap.notify.key_name");
  const event = r.i32("cmap.notify.event");
  r.skip(4, "cmap.notify.pad");
  const newType = r.u8("cmap.notify.new_value_type");
  r.skip(7, "cmap.notify.pad2");
  const oldType = r.u8("cmap.notify.old_value_type");
  r.skip(7, "cmap.notify.pad3");
  const newLen = r.u64("cmap.notify.new_value_len");
  const oldLen = r.u64("cmap.notify.old_value_len");
  if (newLen + oldLen > BigInt(r.remaining)) throw new DecodeError("BAD_LENGTHS", "cmap.notify.value_len");
  const newValue = new Uint8Array(r.bytesView(Number(newLen), "cmap.notify.new_value"));
  const oldValue = new Uint8Array(r.bytesView(Number(oldLen), "cmap.notify.old_value"));
  return { trackInstHandle, key: key.text, event, newType, oldType, newValue, oldValue };
}
