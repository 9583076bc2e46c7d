/**
 * The executive's network: which node we are (the nodelist entry whose ring0 address is one
 * of ours, or the 1.x bindnetaddr form) and the transport for the configured mode (udp,
 * udpu, redundant rings).
 */
import type { CorosyncConfig, Env } from "../config/model.js";
import { createTransportForThisHost } from "../runtime/transport/factory.js";
import type { Transport } from "../runtime/transport/types.js";

export interface Network {
  localNodeId: number;
  transport: Transport;
  /** Configured ring addresses of a node (for `runtime.members.<id>.ip`). */
  addressesOf(nodeId: number): string[];
}

export function setUpNetwork(config: CorosyncConfig, _env: Env): Network {
  const { transport, plan } = createTransportForThisHost(config);
  const byId = new Map(config.nodes.map((n) => [n.nodeId, n.ringAddrs.filter((a): a is string => a !== undefined)]));
  return {
    localNodeId: plan.nodeId,
    transport,
    addressesOf: (nodeId) => byId.get(nodeId) ?? (nodeId === plan.nodeId ? plan.rings.map((r) => r.address) : []),
  };
}
