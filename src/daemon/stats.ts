/**
 * Publishes the executive's runtime state into the default cmap map: the ring interfaces
 * (`runtime.totem.interface.<ring>.address` / `.status`) and the SRP state
 * (`runtime.totem.pg.mrp.srp.state`) — ours, in corosync's read-only `runtime.totem.` prefix
 * (corosync 3.1.7 keeps no keys there). Counters are not copied into the default map: as in
 * corosync 3 they live in the stats map (`corosync-cmapctl -m stats`, stats-source.ts).
 * Called periodically and at membership / ring status changes.
 */
import type { CmapStore } from "../core/cmap/store.js";
import { CmapType } from "../core/cmap/types.js";
import type { TotemSrp } from "../core/totem/srp.js";
import type { DropCounters } from "../runtime/driver.js";
import type { Transport } from "../runtime/transport/types.js";

export function publishStats(cmap: CmapStore, srp: TotemSrp, _dropped: DropCounters, transport: Transport): void {
  const rings = transport.rings();
  for (const r of rings) {
    cmap.set(`runtime.totem.interface.${r.ring}.address`, { type: CmapType.STRING, value: r.address }, { force: true });
    cmap.set(`runtime.totem.interface.${r.ring}.status`, { type: CmapType.STRING, value: r.faulty ? "FAULTY" : "active" }, { force: true });
  }
  cmap.set("runtime.totem.pg.mrp.srp.state", { type: CmapType.STRING, value: srp.stateName }, { force: true });
}
