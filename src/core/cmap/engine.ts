/**
 * The cmap service engine (service 0, `corosync_cmap`; corosync 3 `exec/cmap.c`, exec and
 * sync part; totem-spec §7.4), pure above the service host.
 *
 * What it does:
 * - In every sync round (`process`) it multicasts one CMAP message, reason SYNC, with the
 *   item `totem.config_version` (its value and type, or type 0 when the key is unset); when
 *   the local `totem.config_version` is added, changed or deleted it multicasts the same
 *   item with reason NEW_CONFIG_VERSION.
 * - On every CMAP message (either reason) from node N it stores N's version as
 *   `runtime.members.N.config_version` (u64; 0 unless the item is a u64) and remembers the
 *   highest version announced by another node in this round.
 * - In `activate`, only on the node's first sync whose transitional membership is not empty
 *   (a node's own singleton ring does not count) and only if its own version is not 0: if
 *   another member announced a greater version, it logs corosync's error and asks the
 *   executive to shut down (a node started with an outdated corosync.conf leaves). Lower
 *   versions are ignored; later syncs never check again.
 * Hostile input: a CMAP message that does not decode is dropped and counted (`stats`),
 * logged at debug level; nothing from the network throws out of `exec`.
 */
import { decodeCmapMcast, encodeCmapMcast, CmapMcastReason, CMAP_VALUETYPE_NOT_EXIST, type CmapMcast } from "../../wire/cmap/exec.js";
import { encodeCmapValue } from "../../wire/cmap/value.js";
import { DecodeError } from "../../wire/errors.js";
import type { RingId } from "../../wire/totem/types.js";
import { ServiceId, type ExecSource, type ServiceApi, type ServiceEngine, type SyncHooks } from "../services/types.js";
import { CMAP_TRACK_ADD, CMAP_TRACK_DELETE, CMAP_TRACK_MODIFY, type CmapStore, type CmapTrackHandle } from "./store.js";
import { CmapType } from "./types.js";

/** The key whose value nodes compare (`totem.config_version`). */
export const CONFIG_VERSION_KEY = "totem.config_version";
/** The engine name corosync publishes in `internal_configuration.service.0.name`. */
export const CMAP_ENGINE_NAME = "corosync_cmap";
/** Number of exec handlers (`exec_engine_count`): only MCAST. */
export const CMAP_EXEC_COUNT = 1;

export interface CmapEngineOptions {
  api: ServiceApi;
  store: CmapStore;
  /** Leave the cluster (corosync's `api->shutdown_request`). */
  requestShutdown(reason: string): void;
}

export interface CmapEngineStats {
  /** CMAP messages handled. */
  rx: number;
  /** Messages dropped because they did not decode, by DecodeError code. */
  rxBad: Record<string, number>;
  /** Sends the totem queue refused (NEW_CONFIG_VERSION is then lost, as in corosync). */
  txRefused: number;
}

/** `runtime.members.<nodeid>.config_version`. */
export function memberConfigVersionKey(nodeId: number): string {
  return `runtime.members.${nodeId >>> 0}.config_version`;
}

export class CmapEngine implements ServiceEngine {
  readonly id = ServiceId.CMAP;
  readonly name = CMAP_ENGINE_NAME;
  readonly stats: CmapEngineStats = { rx: 0, rxBad: {}, txRefused: 0 };
  readonly sync: SyncHooks;
  private transEntries = 0;
  private myVersion = 0n;
  private highestReceived = 0n;
  private firstSync = true;
  private readonly versionTrack: CmapTrackHandle;

  constructor(private readonly opts: CmapEngineOptions) {
    this.sync = {
      init: (trans, members, ringId) => this.syncInit(trans, members, ringId),
      process: () => this.send(CmapMcastReason.SYNC),
      activate: () => this.syncActivate(),
      abort: () => {},
    };
    this.versionTrack = opts.store.track(CONFIG_VERSION_KEY, CMAP_TRACK_ADD | CMAP_TRACK_DELETE | CMAP_TRACK_MODIFY, () => this.versionChanged());
  }

  /** Stops tracking `totem.config_version` (executive shutdown). */
  stop(): void {
    this.versionTrack.cancel();
  }

  /** Our `totem.config_version` as a u64, 0 when unset or of another type (`icmap_get_uint64`). */
  localConfigVersion(): bigint {
    const v = this.opts.store.get(CONFIG_VERSION_KEY);
    return v !== undefined && v.type === CmapType.UINT64 ? v.value : 0n;
  }

  /** The message this node sends: one item, `totem.config_version` as stored (or absent). */
  buildMessage(reason: number): CmapMcast {
    const v = this.opts.store.get(CONFIG_VERSION_KEY);
    const item =
      v === undefined
        ? { key: CONFIG_VERSION_KEY, type: CMAP_VALUETYPE_NOT_EXIST, value: new Uint8Array(0) }
        : { key: CONFIG_VERSION_KEY, type: v.type, value: encodeCmapValue(v) };
    return { reason, items: [item] };
  }

  exec(fn: number, message: Uint8Array, from: ExecSource): void {
    if (fn !== 0) return this.dropped("BAD_TYPE");
    let m: CmapMcast;
    try {
      m = decodeCmapMcast(message, !from.bigEndian);
    } catch (e) {
      if (e instanceof DecodeError) return this.dropped(e.code);
      throw e;
    }
    this.stats.rx++;
    if (m.reason !== CmapMcastReason.SYNC && m.reason !== CmapMcastReason.NEW_CONFIG_VERSION) return;
    this.received(from.nodeId, announcedVersion(m, !from.bigEndian));
  }

  private received(nodeId: number, version: bigint): void {
    if (nodeId !== this.opts.api.nodeId && version > this.highestReceived) this.highestReceived = version;
    this.opts.store.set(memberConfigVersionKey(nodeId), { type: CmapType.UINT64, value: version }, { force: true });
  }

  private dropped(code: string): void {
    this.stats.rxBad[code] = (this.stats.rxBad[code] ?? 0) + 1;
    this.opts.api.log("debug", "CMAP", `Dropped a malformed CMAP message (${code})`);
  }

  private syncInit(trans: readonly number[], _members: readonly number[], _ringId: RingId): void {
    this.transEntries = trans.length;
    this.myVersion = this.localConfigVersion();
    this.highestReceived = this.myVersion;
  }

  private send(reason: number): boolean {
    const ok = this.opts.api.mcast(encodeCmapMcast(this.buildMessage(reason)));
    if (!ok) this.stats.txRefused++;
    return ok;
  }

  private versionChanged(): void {
    this.myVersion = this.localConfigVersion();
    if (!this.send(CmapMcastReason.NEW_CONFIG_VERSION)) {
      this.opts.api.log("error", "CMAP", "Can't inform other nodes about new config version");
    }
  }

  private syncActivate(): void {
    const log = this.opts.api.log;
    if (this.transEntries === 0) return log("debug", "CMAP", "Single node sync -> no action");
    if (!this.firstSync) return log("debug", "CMAP", "Not first sync -> no action");
    this.firstSync = false;
    if (this.myVersion === 0n) return log("debug", "CMAP", "My config version is 0 -> no action");
    if (this.highestReceived === this.myVersion) return;
    const text = `Received config version (${this.highestReceived}) is different than my config version (${this.myVersion})! Exiting`;
    log("error", "CMAP", text);
    this.opts.requestShutdown(text);
  }
}

/** The version an incoming message announces: its `totem.config_version` item if a u64, else 0. */
function announcedVersion(m: CmapMcast, littleEndian: boolean): bigint {
  const item = m.items.find((it) => it.key === CONFIG_VERSION_KEY);
  if (item === undefined || item.type !== CmapType.UINT64 || item.value.byteLength !== 8) return 0n;
  return new DataView(item.value.buffer, item.value.byteOffset, 8).getBigUint64(0, littleEndian);
}
