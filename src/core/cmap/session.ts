/**
 * One cmap IPC connection's state and request handling (corosync 3 `exec/cmap.c`
 * `message_handler_req_lib_cmap_*`), pure: bytes in, bytes out, events through a callback.
 *
 * Per connection: the current map (default or stats), open iterators and trackers, each
 * named by a 64-bit handle unique within the connection. Behaviour, call by call:
 * - SET / DELETE / ADJUST_INT: `ACCESS` on a read-only key before anything else; then the
 *   map's answer (`INVALID_PARAM` for a bad value or type, `NAME_TOO_LONG` for a bad new
 *   name, `NOT_EXIST`...). A refused write leaves the map unchanged.
 * - GET: with `value_len` 0 it reports the key's length and type; with a buffer too small for
 *   the value `INVALID_PARAM`; otherwise the value, in a response of `40 + value_len` bytes
 *   (corosync's size; a request for more than `GET_SPACE_MAX` gets just the value's length).
 * - ITER_INIT (empty prefix = every key) / ITER_NEXT (`NO_SECTIONS` at the end, key name,
 *   length and type otherwise) / ITER_FINALIZE; a handle that is not open is `BAD_HANDLE`.
 * - TRACK_ADD / TRACK_DELETE; notifications become NOTIFY_CALLBACK events carrying the
 *   client's `track_inst_handle`, the new value (ADD, MODIFY) and the old one (MODIFY, DELETE).
 * - SET_CURRENT_MAP: `BUSY` while iterators or trackers are open, `NOT_EXIST` for an unknown
 *   map; answered with response id 10.
 * Hostile input: a request that does not decode is answered `INVALID_PARAM` in the layout
 * of its id's response; iterators and trackers are bounded per connection
 * (`NO_RESOURCES` beyond); nothing a client sends throws out of `handle`.
 */
import { DecodeError } from "../../wire/errors.js";
import {
  CMAP_MAP_DEFAULT,
  CMAP_MAP_STATS,
  CmapReqId,
  decodeCmapRequest,
  encodeCmapErrorResponse,
  encodeGetResponse,
  encodeIterInitResponse,
  encodeIterNextResponse,
  encodeNotifyEvent,
  encodeTrackAddResponse,
  encodeTrackDeleteResponse,
  type CmapRequest,
} from "../../wire/cmap/ipc.js";
import { cmapValueLength, decodeCmapValue, encodeCmapValue } from "../../wire/cmap/value.js";
import { CmapError, CsError } from "./errors.js";
import type { CmapMap, CmapMapTracker } from "./map.js";
import type { CmapNotification } from "./store.js";
import type { CmapEntry, CmapValue } from "./types.js";

/** Largest GET buffer honoured as asked; larger asks get a response sized to the value. */
export const GET_SPACE_MAX = 65536;

export interface CmapSessionLimits {
  /** Open iterators per connection (default 1024). */
  iterators: number;
  /** Trackers per connection (default 1024). */
  trackers: number;
}

export interface CmapSessionOptions {
  maps: { default: CmapMap; stats: CmapMap };
  /** Sends one event (NOTIFY_CALLBACK) to the client. */
  sendEvent(event: Uint8Array): void;
  limits?: Partial<CmapSessionLimits>;
}

/** Counters for diagnostics and tests. */
export interface CmapSessionStats {
  requests: number;
  malformed: number;
  events: number;
}

interface OpenIterator {
  it: Iterator<CmapEntry>;
  done: boolean;
}

interface OpenTracker {
  tracker: CmapMapTracker;
  instHandle: bigint;
}

const OK = CsError.OK;

export class CmapSession {
  private map: CmapMap;
  private readonly iterators = new Map<bigint, OpenIterator>();
  private readonly trackers = new Map<bigint, OpenTracker>();
  private nextHandle = 1n;
  private closed = false;
  private readonly limits: CmapSessionLimits;
  readonly stats: CmapSessionStats = { requests: 0, malformed: 0, events: 0 };

  constructor(private readonly opts: CmapSessionOptions) {
    this.map = opts.maps.default;
    this.limits = { iterators: opts.limits?.iterators ?? 1024, trackers: opts.limits?.trackers ?? 1024 };
  }

  /** Open iterators and trackers (for tests and leak checks). */
  get openHandles(): { iterators: number; trackers: number } {
    return { iterators: this.iterators.size, trackers: this.trackers.size };
  }

  /** Answers one request message (header included). Never throws for bad input. */
  handle(msg: Uint8Array): Uint8Array {
    this.stats.requests++;
    let req: CmapRequest;
    try {
      req = decodeCmapRequest(msg);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.stats.malformed++;
      const id = msg.byteLength >= 4 ? new DataView(msg.buffer, msg.byteOffset, 4).getInt32(0, true) : 0;
      return encodeCmapErrorResponse(id, CsError.INVALID_PARAM);
    }
    try {
      return this.dispatch(req);
    } catch (e) {
      if (e instanceof CmapError) return encodeCmapErrorResponse(req.id, e.csError);
      throw e;
    }
  }

  /** Drops every iterator and tracker (connection gone). Idempotent. */
  close(): void {
    this.closed = true;
    for (const t of this.trackers.values()) t.tracker.cancel();
    this.trackers.clear();
    for (const i of this.iterators.values()) i.it.return?.();
    this.iterators.clear();
  }

  private dispatch(req: CmapRequest): Uint8Array {
    switch (req.id) {
      case CmapReqId.SET:
        return this.write(req.id, req.key.text, () => {
          const value = decodeCmapValue(req.key.text, req.type, req.value);
          this.map.set(req.key.text, value);
        });
      case CmapReqId.DELETE:
        return this.write(req.id, req.key.text, () => this.map.delete(req.key.text));
      case CmapReqId.ADJUST_INT:
        return this.write(req.id, req.key.text, () => this.map.adjustInt(req.key.text, req.step));
      case CmapReqId.GET:
        return this.get(req.key.text, req.valueLen);
      case CmapReqId.ITER_INIT:
        return this.iterInit(req.prefix.length > 0 ? req.prefix.text : "");
      case CmapReqId.ITER_NEXT:
        return this.iterNext(req.iterHandle);
      case CmapReqId.ITER_FINALIZE:
        return this.iterFinalize(req.iterHandle);
      case CmapReqId.TRACK_ADD:
        return this.trackAdd(req.key.length > 0 ? req.key.text : undefined, req.trackType, req.trackInstHandle);
      case CmapReqId.TRACK_DELETE:
        return this.trackDelete(req.trackHandle);
      case CmapReqId.SET_CURRENT_MAP:
        return this.setCurrentMap(req.map);
    }
  }

  private write(id: number, key: string, op: () => void): Uint8Array {
    if (this.map.isReadOnly(key)) return encodeCmapErrorResponse(id, CsError.ACCESS);
    op();
    return encodeCmapErrorResponse(id, OK);
  }

  private get(key: string, asked: bigint): Uint8Array {
    const value = this.map.get(key);
    const bytes = encodeCmapValue(value);
    if (asked === 0n) return encodeGetResponse(OK, bytes.byteLength, value.type, undefined, 0);
    if (asked < BigInt(bytes.byteLength)) return encodeCmapErrorResponse(CmapReqId.GET, CsError.INVALID_PARAM);
    const space = asked > BigInt(GET_SPACE_MAX) ? bytes.byteLength : Number(asked);
    return encodeGetResponse(OK, bytes.byteLength, value.type, bytes, space);
  }

  private newHandle(): bigint {
    const h = this.nextHandle;
    this.nextHandle = h + 1n;
    return h;
  }

  private iterInit(prefix: string): Uint8Array {
    if (this.iterators.size >= this.limits.iterators) return encodeIterInitResponse(CsError.NO_RESOURCES, 0n);
    const handle = this.newHandle();
    this.iterators.set(handle, { it: this.map.iter(prefix), done: false });
    return encodeIterInitResponse(OK, handle);
  }

  private iterNext(handle: bigint): Uint8Array {
    const open = this.iterators.get(handle);
    if (open === undefined) return encodeIterNextResponse(CsError.BAD_HANDLE, undefined, 0, 0);
    const next = open.done ? undefined : open.it.next();
    if (next === undefined || next.done) {
      open.done = true;
      return encodeIterNextResponse(CsError.NO_SECTIONS, undefined, 0, 0);
    }
    const { key, value } = next.value;
    return encodeIterNextResponse(OK, key, cmapValueLength(value), value.type);
  }

  private iterFinalize(handle: bigint): Uint8Array {
    const open = this.iterators.get(handle);
    if (open === undefined) return encodeCmapErrorResponse(CmapReqId.ITER_FINALIZE, CsError.BAD_HANDLE);
    open.it.return?.();
    this.iterators.delete(handle);
    return encodeCmapErrorResponse(CmapReqId.ITER_FINALIZE, OK);
  }

  private trackAdd(key: string | undefined, trackType: number, instHandle: bigint): Uint8Array {
    if (this.trackers.size >= this.limits.trackers) return encodeTrackAddResponse(CsError.NO_RESOURCES, 0n);
    const tracker = this.map.track(key, trackType, (n) => this.notify(instHandle, n));
    const handle = this.newHandle();
    this.trackers.set(handle, { tracker, instHandle });
    return encodeTrackAddResponse(OK, handle);
  }

  private trackDelete(handle: bigint): Uint8Array {
    const open = this.trackers.get(handle);
    if (open === undefined) return encodeTrackDeleteResponse(CsError.BAD_HANDLE, 0n);
    open.tracker.cancel();
    this.trackers.delete(handle);
    return encodeTrackDeleteResponse(OK, open.instHandle);
  }

  private setCurrentMap(map: number): Uint8Array {
    // Answered with response id 10 (`MESSAGE_RES_CMAP_SET_CURRENT_MAP`), see cmapResponseIdFor.
    const reply = (error: number): Uint8Array => encodeCmapErrorResponse(CmapReqId.SET_CURRENT_MAP, error);
    if (this.iterators.size > 0 || this.trackers.size > 0) return reply(CsError.BUSY);
    if (map === CMAP_MAP_DEFAULT) this.map = this.opts.maps.default;
    else if (map === CMAP_MAP_STATS) this.map = this.opts.maps.stats;
    else return reply(CsError.NOT_EXIST);
    return reply(OK);
  }

  private notify(instHandle: bigint, n: CmapNotification): void {
    if (this.closed) return;
    const side = (v: CmapValue | undefined) => (v === undefined ? { type: 0, bytes: new Uint8Array(0) } : { type: v.type, bytes: encodeCmapValue(v) });
    const nv = side(n.newValue);
    const ov = side(n.oldValue);
    this.stats.events++;
    this.opts.sendEvent(
      encodeNotifyEvent({ trackInstHandle: instHandle, key: n.key, event: n.event, newType: nv.type, oldType: ov.type, newValue: nv.bytes, oldValue: ov.bytes }),
    );
  }
}
