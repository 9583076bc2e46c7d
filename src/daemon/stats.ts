/**
 * Publishes the executive's counters into cmap under corosync's names: `stats.srp.*`
 * (cmap_keys(7)), our per-reason drop counters under `stats.srp.rx_dropped.<reason>`, the
 * transport's under `stats.transport.*` (drops by reason under `stats.transport.rx_dropped.*`),
 * and knet's per-link counters under corosync's `stats.knet.node<id>.link<n>.*`. Called
 * periodically and at membership changes.
 */
import type { CmapStore } from "../core/cmap/store.js";
import { CmapType } from "../core/cmap/types.js";
import type { TotemSrp } from "../core/totem/srp.js";
import type { DropCounters } from "../runtime/driver.js";
import type { NodeStatus, Transport } from "../runtime/transport/types.js";

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
  if (transport.links !== undefined) publishLinkStats(cmap, transport.links());
  for (const [reason, n] of Object.entries(transport.dropped ?? {})) {
    setIfChanged(cmap, `stats.transport.rx_dropped.${reason}`, { type: CmapType.UINT64, value: BigInt(n) });
  }
}

/** knet link counters whose corosync type is u32 (the others are u64). */
const KNET_U32_KEYS = new Set(["latency_ave", "latency_min", "latency_max", "latency_samples", "up_count", "down_count"]);

/** `stats.knet.node<id>.link<n>.*` as corosync publishes them (stats.c `cs_knet_stats`). */
function publishLinkStats(cmap: CmapStore, nodes: readonly NodeStatus[]): void {
  for (const n of nodes) {
    if (n.local) continue;
    for (const l of n.links) {
      const base = `stats.knet.node${n.nodeId}.link${l.link}`;
      cmap.set(`${base}.enabled`, { type: CmapType.UINT8, value: l.enabled ? 1 : 0 }, { force: true });
      cmap.set(`${base}.connected`, { type: CmapType.UINT8, value: l.connected ? 1 : 0 }, { force: true });
      cmap.set(`${base}.mtu`, { type: CmapType.UINT32, value: l.mtu }, { force: true });
      for (const [name, v] of Object.entries(l.stats ?? {})) {
        if (KNET_U32_KEYS.has(name)) setIfChanged(cmap, `${base}.${name}`, { type: CmapType.UINT32, value: Math.min(0xffffffff, v) });
        else setIfChanged(cmap, `${base}.${name}`, { type: CmapType.UINT64, value: BigInt(v) });
      }
    }
  }
}
