/**
 * The cmap service module (service 0, IPC name `cmap`): the pure engine (`CmapEngine`, the
 * CMAP sync message and the config_version rule), one `CmapSession` per IPC connection over
 * the default map (the executive's store) or the stats map, and the periodic work corosync
 * does on a timer: polling the stats map's trackers and publishing `runtime.services.*`.
 *
 * Who may write: every client the IPC server admitted (uid/gid 0 or a `uidgid.*` entry, see
 * ipc-auth.ts), as in corosync; read-only keys refuse everyone with CS_ERR_ACCESS. A write of
 * `uidgid.uid.<n>` / `uidgid.gid.<n>` (Pacemaker's `uidgid.gid.<gid>` = 1) takes effect for
 * the next connection at once, because authorization reads cmap on every connect.
 */
import { CmapEngine } from "../../core/cmap/engine.js";
import { storeMap } from "../../core/cmap/map.js";
import { CmapSession } from "../../core/cmap/session.js";
import { StatsMap } from "../../core/cmap/stats-map.js";
import { CMAP_REQUEST_ID_COUNT } from "../../wire/cmap/ipc.js";
import type { IpcConnection } from "../../runtime/ipc/server.js";
import { ServiceTraffic } from "../service-keys.js";
import { DaemonStatsSource } from "../stats-source.js";
import type { ServiceContext, ServiceModule } from "./index.js";

/** How often stats trackers are polled and service counters published (corosync: 1 s). */
export const CMAP_STATS_PERIOD_MS = 1000;

export function createCmapService(ctx: ServiceContext): ServiceModule {
  const api = ctx.host.api();
  const engine = new CmapEngine({ api, store: ctx.cmap, requestShutdown: (reason) => ctx.requestShutdown(reason) });
  const stats = new StatsMap(
    new DaemonStatsSource({
      srp: { stats: () => ctx.srp.stats, avail: () => ctx.srp.avail() },
      transport: () => ctx.transport.stats,
      transportDropped: () => ctx.transport.dropped ?? {},
      links: () => ctx.transport.links?.(),
      ipc: () => ctx.runtimeStats?.ipc(),
      dropped: () => ctx.runtimeStats?.droppedFrames() ?? {},
    }),
  );
  const maps = { default: storeMap(ctx.cmap), stats };
  const traffic = new ServiceTraffic();
  ctx.host.addListener(traffic);
  const tick = (): void => {
    try {
      stats.poll();
      traffic.publish(ctx.cmap, ctx.host.engines.values());
    } catch (e) {
      ctx.log("CMAP", "error", `stats update failed: ${(e as Error).message}`);
    }
  };
  // Engines are registered right after the factories run: publish once they are.
  const first = setImmediate(tick);
  const timer = setInterval(tick, CMAP_STATS_PERIOD_MS);
  timer.unref();
  const session = (conn: IpcConnection): CmapSession => conn.context as CmapSession;
  return {
    engine,
    ipc: {
      name: "cmap",
      handler: {
        requestIds: CMAP_REQUEST_ID_COUNT,
        onConnect(conn) {
          conn.context = new CmapSession({ maps, sendEvent: (event) => void conn.sendEvent(event) });
        },
        onRequest: (conn, req) => session(conn).handle(req.payload),
        onDisconnect(conn) {
          session(conn)?.close();
        },
      },
    },
    stop() {
      clearImmediate(first);
      clearInterval(timer);
      engine.stop();
    },
  };
}
