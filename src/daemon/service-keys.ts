/**
 * The per-service keys corosync 3 keeps in the default map (`exec/service.c`, `main.c`;
 * cmap_keys(7) `runtime.services.*`, `internal_configuration.*`):
 *
 *   internal_configuration.service.<id>.ver (u32) = 0      next to `.name` (set by the executive)
 *   runtime.services.<svc>.service_id (u16)                <svc> = engine name without `corosync_`
 *   runtime.services.<svc>.<fn>.rx / .tx (u64)             exec messages delivered / multicast,
 *                                                          for each of the service's exec handlers
 *
 * The counters are kept in memory by a host listener and published into cmap by `publish()`,
 * which the cmap module calls right after start-up and then once a second (corosync bumps
 * them in cmap on every message; we batch to keep cmap writes off the message path, so a
 * reader may see values up to a second old).
 */
import type { CmapStore } from "../core/cmap/store.js";
import { CmapType } from "../core/cmap/types.js";
import type { HostListener } from "../core/services/host.js";
import type { ServiceEngine } from "../core/services/types.js";

/** corosync 3.1.7's exec handler count per service id (`exec_engine_count`). */
export const EXEC_HANDLER_COUNTS: Readonly<Record<number, number>> = { 0: 1, 1: 5, 2: 7, 3: 0, 4: 2, 5: 4, 6: 0, 7: 0 };

/** `corosync_cpg` → `cpg` (corosync's `name_sufix`). */
export function serviceShortName(engineName: string): string {
  return engineName.startsWith("corosync_") ? engineName.slice("corosync_".length) : engineName;
}

export class ServiceTraffic implements HostListener {
  private readonly rx = new Map<number, number>();
  private readonly tx = new Map<number, number>();

  execDelivered(serviceId: number, fn: number): void {
    bump(this.rx, serviceId, fn);
  }

  execSent(serviceId: number, fn: number): void {
    bump(this.tx, serviceId, fn);
  }

  /** Messages counted for (service, fn) in `dir`. */
  count(dir: "rx" | "tx", serviceId: number, fn: number): number {
    return (dir === "rx" ? this.rx : this.tx).get(slot(serviceId, fn)) ?? 0;
  }

  /** Writes the keys of every engine into `cmap` (see the file comment). */
  publish(cmap: CmapStore, engines: Iterable<ServiceEngine>): void {
    for (const e of engines) {
      const ver = `internal_configuration.service.${e.id}.ver`;
      if (!cmap.has(ver)) cmap.set(ver, { type: CmapType.UINT32, value: 0 }, { force: true });
      const base = `runtime.services.${serviceShortName(e.name)}`;
      cmap.set(`${base}.service_id`, { type: CmapType.UINT16, value: e.id }, { force: true });
      const handlers = EXEC_HANDLER_COUNTS[e.id] ?? 0;
      for (let fn = 0; fn < handlers; fn++) {
        cmap.set(`${base}.${fn}.rx`, { type: CmapType.UINT64, value: BigInt(this.count("rx", e.id, fn)) }, { force: true });
        cmap.set(`${base}.${fn}.tx`, { type: CmapType.UINT64, value: BigInt(this.count("tx", e.id, fn)) }, { force: true });
      }
    }
  }
}

function slot(serviceId: number, fn: number): number {
  return serviceId * 0x10000 + fn;
}

function bump(m: Map<number, number>, serviceId: number, fn: number): void {
  const k = slot(serviceId, fn);
  m.set(k, (m.get(k) ?? 0) + 1);
}
