/**
 * The few cmap reads our quorum and cfg tools make (GET and prefix iteration), over the cmap
 * IPC as corosync's libcmap does: SET_CURRENT_MAP(default), then GET with length 0 to learn
 * the size and again with it; ITER_INIT / ITER_NEXT / ITER_FINALIZE. Tool-internal: the full
 * cmap client library is a separate module.
 */
import type { CmapValue } from "../../core/cmap/types.js";
import { CorosyncError } from "../../client/errors.js";
import { IpcClientConnection } from "../../client/ipc/connection.js";
import { toCorosyncError } from "../../client/service-client.js";
import { responseHeader, viewOf } from "../../wire/ipc/common.js";
import {
  CmapReq,
  cmapValueFrom,
  decodeCmapGet,
  decodeCmapIterNext,
  encodeCmapGet,
  encodeCmapHandleRequest,
  encodeCmapIterInit,
  encodeCmapSetCurrentMap,
} from "../../wire/ipc/cmap-read.js";

const CS_OK = 1;
const CS_ERR_NO_SECTIONS = 27;

export class CmapReader {
  private constructor(private readonly conn: IpcClientConnection) {}

  static async connect(prefix?: string): Promise<CmapReader> {
    try {
      const conn = await IpcClientConnection.connect("cmap", prefix === undefined ? {} : { prefix });
      const r = new CmapReader(conn);
      await r.request(encodeCmapSetCurrentMap(0), "set_current_map");
      return r;
    } catch (e) {
      throw toCorosyncError(e, "cmap");
    }
  }

  private async request(req: Uint8Array, what: string, accept: number[] = []): Promise<{ res: Uint8Array; error: number }> {
    let res: Uint8Array;
    try {
      res = await this.conn.request(req);
    } catch (e) {
      throw toCorosyncError(e, `cmap ${what}`);
    }
    const h = responseHeader(res);
    if (h === undefined) throw new CorosyncError("LIBRARY", `cmap ${what}: short response`);
    if (h.error !== CS_OK && !accept.includes(h.error)) throw new CorosyncError(h.error, `cmap ${what}`);
    return { res, error: h.error };
  }

  /** The value of `key`, or undefined when it does not exist. */
  async get(key: string): Promise<CmapValue | undefined> {
    const probe = await this.request(encodeCmapGet(key, 0), "get", [12]);
    if (probe.error !== CS_OK) return undefined;
    const size = decodeCmapGet(probe.res);
    if (size === undefined) return undefined;
    const full = await this.request(encodeCmapGet(key, Math.max(1, size.valueLen)), "get", [12]);
    if (full.error !== CS_OK) return undefined;
    const got = decodeCmapGet(full.res);
    return got === undefined ? undefined : cmapValueFrom(got.type, got.value);
  }

  async getString(key: string): Promise<string | undefined> {
    const v = await this.get(key);
    return v !== undefined && typeof v.value === "string" ? v.value : undefined;
  }

  async getUint32(key: string): Promise<number | undefined> {
    const v = await this.get(key);
    return v !== undefined && v.type === 6 ? v.value : undefined;
  }

  /** Key names starting with `prefix`, in cmap's (sorted) order. */
  async keys(prefix: string): Promise<string[]> {
    const init = await this.request(encodeCmapIterInit(prefix), "iter_init");
    const handle = viewOf(init.res, 32)?.getBigUint64(24, true);
    if (handle === undefined) return [];
    const out: string[] = [];
    try {
      for (let i = 0; i < 100_000; i++) {
        const next = await this.request(encodeCmapHandleRequest(CmapReq.ITER_NEXT, handle), "iter_next", [CS_ERR_NO_SECTIONS]);
        if (next.error !== CS_OK) break;
        const e = decodeCmapIterNext(next.res);
        if (e === undefined) break;
        out.push(e.key);
      }
    } finally {
      await this.request(encodeCmapHandleRequest(CmapReq.ITER_FINALIZE, handle), "iter_finalize", [9]).catch(() => undefined);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}
