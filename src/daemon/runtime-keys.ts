/**
 * Keys corosync 3's totem configuration derives from the nodelist at start-up
 * (`exec/totemconfig.c`, `config_convert_nodelist_to_interface`): with a nodelist, each link X
 * the local node is on gets `totem.interface.X.bindnetaddr` = the local node's `ringX_addr`
 * (replacing a configured bindnetaddr, as corosync does when both are set).
 */
import type { CmapStore } from "../core/cmap/store.js";
import { CmapType } from "../core/cmap/types.js";
import type { CorosyncConfig } from "../config/model.js";

export function applyNodelistInterfaceKeys(cmap: CmapStore, config: CorosyncConfig, nodeId: number): void {
  const local = config.nodes.find((n) => n.nodeId === nodeId);
  if (local === undefined) return;
  local.ringAddrs.forEach((addr, link) => {
    if (addr === undefined) return;
    cmap.set(`totem.interface.${link}.bindnetaddr`, { type: CmapType.STRING, value: addr }, { force: true });
  });
}
