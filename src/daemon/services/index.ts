/**
 * The executive's services: each module contributes a pure engine (registered with the
 * service host; exec messages and sync) and/or an IPC handler (libqb protocol, served under
 * corosync's socket name). Add a service by adding its factory to `SERVICE_FACTORIES`.
 */
import type { CmapStore } from "../../core/cmap/store.js";
import type { ServiceHost } from "../../core/services/host.js";
import type { ServiceEngine } from "../../core/services/types.js";
import type { TotemSrp } from "../../core/totem/srp.js";
import type { CorosyncConfig, Env } from "../../config/model.js";
import type { IpcConnection, IpcServerStats, IpcServiceHandler } from "../../runtime/ipc/server.js";
import type { Transport } from "../../runtime/transport/types.js";
import type { LogLevel } from "../../core/totem/types.js";
import { createCmapService } from "./cmap.js";
import { cfgModule } from "./cfg.js";
import { createCpgService } from "./cpg.js";
import { quorumModule, votequorumModule } from "./quorum.js";

/** Everything a service module may use. */
export interface ServiceContext {
  config: CorosyncConfig;
  configFile: string;
  env: Env;
  nodeId: number;
  cmap: CmapStore;
  host: ServiceHost;
  srp: TotemSrp;
  transport: Transport;
  log(subsys: string, level: LogLevel, text: string): void;
  /** Ask the executive to shut down (leave the ring, exit 0): cfg `-H`, kill node. */
  requestShutdown(reason: string): void;
  /** Re-read the configuration file and apply what may change at runtime (cfg `-R`). */
  reloadConfig(): Promise<{ ok: boolean; message: string }>;
  /** Reopen log files (cfg `-L`). */
  reopenLogs(): void;
  /** Live counters for cmap's stats map (`-m stats`); absent where there are none (tests). */
  runtimeStats?: {
    /** The IPC server, once it exists. */
    ipc(): { stats(): IpcServerStats; connections(): IpcConnection[] } | undefined;
    /** Frames the driver dropped, by reason. */
    droppedFrames(): Readonly<Record<string, number>>;
  };
}

/** What one service module contributes. */
export interface ServiceModule {
  engine?: ServiceEngine;
  /** IPC service name (`cpg`, `cmap`, ...) and its handler. */
  ipc?: { name: string; handler: IpcServiceHandler };
  /** Called when the executive stops (release timers, close resources). */
  stop?(): void;
  /**
   * A clean stop is about to leave the ring: send last exec messages (votequorum's LEAVING
   * with allow_downscale). Resolves once they were delivered; the executive bounds the wait.
   */
  beforeLeave?(): Promise<void>;
}

export type ServiceFactory = (ctx: ServiceContext) => ServiceModule;

/** The services the executive runs, in corosync's service-id order. */
export const SERVICE_FACTORIES: ServiceFactory[] = [
  createCmapService,
  cfgModule,
  createCpgService,
  quorumModule,
  votequorumModule,
];
