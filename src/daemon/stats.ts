/**
 * Publishes the executive's counters into cmap under corosync's names: `stats.srp.*`
 * (cmap_keys(7)), our per-reason drop counters under `stats.srp.rx_dropped.<reason>`, and
 * the transport's under `stats.transport.*`. Called periodically and at membership changes.
 */
import type { CmapStore } from "../core/cmap/store.js";
import { CmapType } from "../core/cmap/types.js";
import type { TotemSrp } from "../core/totem/srp.js";
import type { DropCounters } from "../runtime/driver.js";
import type { Transport } from "../runtime/transport/types.js";

/** Counters corosync publishes as u32 rather than u64. */
const U32_KEYS = new Set(["mtt_rx_token", "continuous_gather", "continuous_sendmsg_failures", "firewall_enabled_or_nic_failure"]);

function setIfChanged(cmap: CmapStore, key: string, value: { type: typeof CmapType.UINT64; value: bigint } | { type: typeof CmapType.UINT32; value: number }): void {
  cmap.set(key, value, { force: true });
}

export function publishStats(cmap: CmapStore, srp: TotemSrp, dropped: DropCounters, transport: Transport): void {
  for (const [name, v] of Object.entries(srp.stats)) {
    const key = `stats.srp.${name}`;
    if (U32_KEYS.has(name)) setIfChanged(cmap, key, { type: CmapType.UINT32, value: Math.min(0xffffffff, Math.max(0, Math.round(v))) });
    else setIfChanged(cmap, key, { type: CmapType.UINT64, value: BigInt(Math.max(0, Math.round(v))) });
  }
  for (const [reason, n] of Object.entries(dropped)) {
    setIfChanged(cmap, `stats.srp.rx_dropped.${reason.toLowerCase()}`, { type: CmapType.UINT64, value: BigInt(n) });
  }
  for (const [name, v] of Object.entries(transport.stats)) {
    setIfChanged(cmap, `stats.transport.${name}`, { type: CmapType.UINT64, value: BigInt(v) });
  }
  const rings = transport.rings();
  for (const r of rings) {
    cmap.set(`runtime.totem.interface.${r.ring}.address`, { type: CmapType.STRING, value: r.address }, { force: true });
    cmap.set(`runtime.totem.interface.${r.ring}.status`, { type: CmapType.STRING, value: r.faulty ? "FAULTY" : "active" }, { force: true });
  }
  cmap.set("runtime.totem.pg.mrp.srp.state", { type: CmapType.STRING, value: srp.stateName }, { force: true });
}
