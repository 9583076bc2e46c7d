/**
 * The service host (corosync `main.c` + `service.c`): runs the service engines above
 * totempg. Exec messages (group "a") go to the engine named by the header id's high 16 bits;
 * sync messages (group "sync") to the sync protocol; configuration changes to every engine,
 * then to sync. When sync completes, application traffic is released (`totempg_trans_ack`).
 *
 * Pure: time, timers and logs come from `HostEnv` (the daemon's driver or the simulator).
 */
import type { PgUpcalls, TotemPg } from "../pg/totempg.js";
import type { ConfigurationChange } from "../totem/types.js";
import type { RingId } from "../../wire/totem/types.js";
import { SyncProtocol } from "../sync/sync.js";
import { EXEC_HEADER_BYTES, type ServiceApi, type ServiceEngine, type TimerHandle } from "./types.js";

export interface HostEnv {
  now(): number;
  /** Run `fn` after `ms`; the environment carries out the effects afterwards. */
  schedule(ms: number, fn: () => void): TimerHandle;
  log(level: "error" | "warning" | "notice" | "info" | "debug", subsys: string, text: string): void;
}

/** Observers of the host (membership view, notifications, tests). */
export interface HostListener {
  confchg?(change: ConfigurationChange): void;
  /** Sync finished for this regular configuration: services are consistent. */
  synced?(change: ConfigurationChange): void;
  /** An exec message no engine took (unknown service). */
  unknownService?(serviceId: number, nodeId: number): void;
  /** An exec message went to an engine (corosync counts `runtime.services.<svc>.<fn>.rx`). */
  execDelivered?(serviceId: number, fn: number): void;
  /** An engine multicast an exec message, queued or not (counted as `...<fn>.tx`). */
  execSent?(serviceId: number, fn: number): void;
}

export interface HostStats {
  exec_delivered: number;
  exec_unknown_service: number;
  exec_too_short: number;
  sync_rounds_completed: number;
}

export class ServiceHost implements PgUpcalls {
  readonly engines = new Map<number, ServiceEngine>();
  readonly sync: SyncProtocol;
  readonly stats: HostStats = { exec_delivered: 0, exec_unknown_service: 0, exec_too_short: 0, sync_rounds_completed: 0 };
  private readonly listeners: HostListener[] = [];
  private pg: TotemPg | undefined;
  private lastRegular: ConfigurationChange | undefined;
  private pendingAck = false;
  /** True between a configuration change and the end of its sync round. */
  syncing = true;

  constructor(
    readonly nodeId: number,
    readonly env: HostEnv,
  ) {
    this.sync = new SyncProtocol(
      () => [...this.engines.values()].filter((e) => e.sync !== undefined).map((e) => ({ id: e.id, hooks: e.sync! })),
      {
        mcast: (m) => this.pg !== undefined && this.pg.mcastGroup(this.env.now(), "sync", [m]),
        completed: (ringId) => this.syncCompleted(ringId),
        log: (level, text) => this.env.log(level, "SYNC", text),
      },
    );
  }

  attach(pg: TotemPg): void {
    this.pg = pg;
  }

  addListener(l: HostListener): void {
    this.listeners.push(l);
  }

  register(engine: ServiceEngine): void {
    if (this.engines.has(engine.id)) throw new Error(`service ${engine.id} registered twice`);
    this.engines.set(engine.id, engine);
  }

  /** The API an engine uses to send, schedule and log. */
  api(): ServiceApi {
    return {
      nodeId: this.nodeId,
      now: () => this.env.now(),
      mcast: (message, guarantee = 0) => {
        this.noteSent(message);
        return this.pg !== undefined && this.pg.mcastGroup(this.env.now(), "a", [message], guarantee);
      },
      sendOk: (bytes) => this.pg !== undefined && this.pg.sendOk(bytes + 5),
      schedule: (ms, fn) => this.env.schedule(ms, fn),
      log: (level, subsys, text) => this.env.log(level, subsys, text),
    };
  }

  // ------------------------------------------------------------------ from totempg

  deliver(nodeId: number, group: string, body: Uint8Array, bigEndian: boolean): void {
    if (group === "sync") {
      this.sync.deliver(nodeId, body, bigEndian);
      return;
    }
    if (group !== "a") return;
    if (body.byteLength < EXEC_HEADER_BYTES) {
      this.stats.exec_too_short++;
      return;
    }
    const id = new DataView(body.buffer, body.byteOffset, 4).getInt32(0, !bigEndian);
    const service = id >>> 16;
    const engine = this.engines.get(service);
    if (engine === undefined) {
      this.stats.exec_unknown_service++;
      for (const l of this.listeners) l.unknownService?.(service, nodeId);
      return;
    }
    this.stats.exec_delivered++;
    for (const l of this.listeners) l.execDelivered?.(service, id & 0xffff);
    engine.exec(id & 0xffff, body, { nodeId, bigEndian });
  }

  confchg(change: ConfigurationChange): void {
    for (const e of this.engines.values()) e.confchg?.(change);
    for (const l of this.listeners) l.confchg?.(change);
    // A round that completed earlier in this same input (its last barrier delivered among the
    // old ring's messages at the transition) is overtaken: releasing application traffic at
    // the end of the input would open the new round's sync to it (CPG seed 2063: a client's
    // messages reached a node before its JOINLIST did). The new round's completion releases it.
    this.pendingAck = false;
    this.syncing = true;
    if (change.type === "transitional") {
      this.sync.transitional(change.members);
    } else {
      this.lastRegular = change;
      this.sync.regular(change.members, change.ringId);
    }
  }

  waitingTransAck(): void {}

  private noteSent(message: Uint8Array): void {
    if (message.byteLength < 4) return;
    const id = new DataView(message.buffer, message.byteOffset, 4).getInt32(0, true);
    for (const l of this.listeners) l.execSent?.(id >>> 16, id & 0xffff);
  }

  private syncCompleted(ringId: RingId): void {
    const c = this.lastRegular;
    if (c === undefined || c.ringId.seq !== ringId.seq || c.ringId.rep !== ringId.rep) return;
    this.stats.sync_rounds_completed++;
    this.pendingAck = true;
    // totempg reassembles sync-time traffic apart from normal traffic and switches back when
    // trans-ack ends the sync phase. That switch must sit at the same point of the total order
    // on every node — right after the last barrier, as in corosync, where the barrier's
    // delivery itself calls totempg_trans_ack — not at the end of whichever input happened to
    // deliver it: else a message fragmented across the switch is assembled on some nodes and
    // thrown away on others. The queue switch itself still waits for `afterInput`.
    this.pg?.waitingTransAck(false);
  }

  /**
   * After every input: sync work (sends waiting for room, service `process` calls) and, once a
   * round completed, release application traffic. Never called from inside the core.
   */
  afterInput(_now?: number): void {
    this.sync.pump();
    if (this.pendingAck) {
      this.pendingAck = false;
      this.syncing = false;
      this.pg?.transAck();
      const c = this.lastRegular!;
      for (const l of this.listeners) l.synced?.(c);
      this.env.log("notice", "MAIN", "Completed service synchronization, ready to provide service.");
    }
    for (const e of this.engines.values()) e.pump?.();
  }

}
