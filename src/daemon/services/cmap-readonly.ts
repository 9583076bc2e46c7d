/**
 * A read-only `cmap` IPC for executives built without the full cmap service: GET,
 * ITER_INIT/NEXT/FINALIZE and SET_CURRENT_MAP (default map) over the executive's
 * configuration map — what `corosync-quorumtool`, `corosync-cfgtool` and our own tools read.
 * Writes, tracking and the stats map answer NOT_SUPPORTED.
 *
 * It registers last in `SERVICE_FACTORIES` and the executive lets the first module that
 * serves an IPC name win, so a full cmap service module (service 0) replaces it as soon as
 * it is registered. Iterators are bounded per connection.
 */
import type { CmapEntry } from "../../core/cmap/types.js";
import type { IpcConnection, IpcRequest, IpcServiceHandler } from "../../runtime/ipc/server.js";
import { statusResponse } from "../../wire/ipc/common.js";
import {
  CmapReq,
  CmapRes,
  decodeCmapGetRequest,
  decodeCmapHandle,
  decodeCmapKeyRequest,
  encodeCmapGetResponse,
  encodeCmapIterInitResponse,
  encodeCmapIterNextResponse,
} from "../../wire/ipc/cmap-read.js";
import type { ServiceContext, ServiceModule } from "./index.js";

const CS = { OK: 1, INVALID_PARAM: 7, NO_RESOURCES: 18, NOT_SUPPORTED: 19, BAD_HANDLE: 9 } as const;
/** Open iterators per connection. */
const ITERATORS_MAX = 64;
const RESPONSE_IDS: Record<number, number> = { 0: 0, 1: 1, 3: 3, 7: 7, 8: 8 };

class CmapReadOnlyIpc implements IpcServiceHandler {
  readonly requestIds = 10;
  private readonly iterators = new Map<IpcConnection, Map<bigint, Generator<CmapEntry, void, undefined>>>();
  private nextHandle = 1n;

  constructor(private readonly ctx: ServiceContext) {}

  onDisconnect(conn: IpcConnection): void {
    this.iterators.delete(conn);
  }

  onRequest(conn: IpcConnection, req: IpcRequest): Uint8Array {
    const cmap = this.ctx.cmap;
    switch (req.id) {
      case CmapReq.GET: {
        const r = decodeCmapGetRequest(req.payload);
        if (r === undefined || r.valueLen < 0 || r.valueLen > 1 << 20) return statusResponse(CmapRes.GET, CS.INVALID_PARAM);
        return encodeCmapGetResponse(cmap.get(r.key), r.valueLen);
      }
      case CmapReq.ITER_INIT: {
        const prefix = decodeCmapKeyRequest(req.payload);
        if (prefix === undefined) return encodeCmapIterInitResponse(0n, CS.INVALID_PARAM);
        const mine = this.iterators.get(conn) ?? new Map();
        this.iterators.set(conn, mine);
        if (mine.size >= ITERATORS_MAX) return encodeCmapIterInitResponse(0n, CS.NO_RESOURCES);
        const handle = this.nextHandle++;
        mine.set(handle, cmap.iter(prefix));
        return encodeCmapIterInitResponse(handle);
      }
      case CmapReq.ITER_NEXT: {
        const it = this.iterator(conn, req.payload);
        if (it === undefined) return encodeCmapIterNextResponse(undefined, CS.BAD_HANDLE);
        const next = it.next();
        return encodeCmapIterNextResponse(next.done === true ? undefined : next.value);
      }
      case CmapReq.ITER_FINALIZE: {
        const handle = decodeCmapHandle(req.payload);
        const ok = handle !== undefined && this.iterators.get(conn)?.delete(handle) === true;
        return statusResponse(CmapRes.ITER_FINALIZE, ok ? CS.OK : CS.BAD_HANDLE);
      }
      case CmapReq.SET_CURRENT_MAP: {
        const map = req.payload.byteLength >= 20 ? new DataView(req.payload.buffer, req.payload.byteOffset, 20).getInt32(16, true) : -1;
        return statusResponse(CmapRes.SET_CURRENT_MAP, map === 0 ? CS.OK : CS.NOT_SUPPORTED);
      }
      default:
        return statusResponse(RESPONSE_IDS[req.id] ?? 0, CS.NOT_SUPPORTED);
    }
  }

  private iterator(conn: IpcConnection, payload: Uint8Array): Generator<CmapEntry, void, undefined> | undefined {
    const handle = decodeCmapHandle(payload);
    return handle === undefined ? undefined : this.iterators.get(conn)?.get(handle);
  }
}

/** The fallback `cmap` IPC (no engine: service 0's sync belongs to the full cmap service). */
export function cmapReadOnlyModule(ctx: ServiceContext): ServiceModule {
  return { ipc: { name: "cmap", handler: new CmapReadOnlyIpc(ctx) } };
}
