/**
 * Build the transport a configuration asks for: knet (corosync 3's default, up to 8 links),
 * udp or udpu, one ring, or two rings under the RRP wrapper (`rrp_mode: active | passive`).
 *
 * Two steps, so the decision can be tested without sockets:
 * 1. `planLocalNode(config, locals, hostName)` (pure): which node we are and which local
 *    interface address serves each ring — with a nodelist (or 1.x udpu `member`s) the
 *    local node is found as netif.ts `findLocalNode` does, and each ring binds the local
 *    address equal to (else in the subnet of) the node's `ringX_addr`; in the 1.x form
 *    without a nodelist each ring binds the address found from its `bindnetaddr`, and the
 *    node id is `totem.nodeid` or the IPv4 ring-0 address (`clear_node_high_bit` applied).
 * 2. `createTransport(config, plan, options)`: the transport objects (not yet started).
 *
 * Ring addresses must be literals here; `resolveRingAddresses` turns host names into
 * addresses first (DNS, family from `ip_version`).
 */
import { lookup } from "node:dns/promises";
import { nodeIdFromIPv4, type CorosyncConfig, type InterfaceConfig, type NodeConfig } from "../../config/model.js";
import { type LocalAddress, NetifError, familyOf, findLocalNode, interfaceMtu, listLocalAddresses, localHostName, requireBindAddress } from "../netif.js";
import { type RingTransport, DEFAULT_PORT } from "./common.js";
import type { KnetCryptoConfig } from "../../crypto/knet.js";
import { KNET_MAX_LINK } from "../../wire/knet/frame.js";
import { KnetTransport, type KnetLocalLink } from "./knet.js";
import type { RrpTimers } from "./rrp-detector.js";
import { RrpTransport } from "./rrp.js";
import type { Transport, TransportMember } from "./types.js";
import { UdpTransport } from "./udp.js";
import { type SocketTuning, UdpuTransport } from "./udpu.js";

/** Who we are and where each ring binds. */
export interface LocalNodePlan {
  nodeId: number;
  /** The nodelist entry, when there is a nodelist (or 1.x member list). */
  node?: NodeConfig;
  /** Per ring (index = ring number): the local interface address to bind. */
  rings: LocalAddress[];
  /**
   * knet only: the link number of each entry of `rings` (links need not be contiguous:
   * ring0_addr and ring2_addr give links [0, 2]).
   */
  links?: number[];
}

export interface CreateTransportOptions extends SocketTuning {
  /** `totem.rrp_*` values (the config model does not carry them); 1.x defaults otherwise. */
  rrp?: Partial<RrpTimers>;
  /** Monotonic clock for the RRP timers and the knet heartbeat (tests). */
  now?: () => number;
  /** knet crypto (cipher, hash and the authkey bytes); none when undefined. */
  knetCrypto?: KnetCryptoConfig;
  /**
   * The MTU of a local interface (knet's data MTU derives from it when `knet_mtu` is 0);
   * undefined when unknown (1500 is assumed).
   */
  interfaceMtu?: (ifname: string) => number | undefined;
  /** knet heartbeat period (default 200 ms). */
  knetHeartbeatMs?: number;
}

/** How many rings the configuration uses: 2 with `rrp_mode` active/passive and a link 1. */
export function ringCount(config: CorosyncConfig): number {
  if (config.rrpMode === "none") return 1;
  const links = new Set(config.interfaces.map((i) => i.linkNumber));
  for (const n of config.nodes) n.ringAddrs.forEach((a, l) => a !== undefined && links.add(l));
  return links.has(1) ? 2 : 1;
}

/**
 * Find the local node and the address each ring binds to (pure: the local addresses and
 * host name are parameters).
 * @throws NetifError when the local node or a ring's local address cannot be found, or Error
 *   for a configuration this transport layer cannot run (knet, missing node id).
 */
export function planLocalNode(config: CorosyncConfig, locals: readonly LocalAddress[], hostName: string): LocalNodePlan {
  if (config.transport === "knet") return planKnetNode(config, locals, hostName);
  const rings = ringCount(config);
  if (config.nodes.length > 0) {
    const chosen = config.nodeId === undefined ? undefined : config.nodes.find((n) => n.nodeId === config.nodeId);
    if (config.nodeId !== undefined && chosen === undefined) {
      throw new NetifError("NO_LOCAL_NODE", `totem.nodeid ${config.nodeId} names no node of the nodelist`);
    }
    const node = chosen ?? findLocalNode(config.nodes, locals, hostName, 0).node;
    const bound: LocalAddress[] = [];
    for (let r = 0; r < rings; r++) {
      const addr = node.ringAddrs[r];
      if (addr === undefined) throw new NetifError("NO_BIND_ADDRESS", `The local node ${node.nodeId} has no ring${r}_addr, but ring ${r} is configured`);
      bound.push(requireBindAddress(addr, locals, `ring${r}_addr of the local node ${node.nodeId}`));
    }
    return { nodeId: node.nodeId, node, rings: bound };
  }
  if (config.transport === "udpu") throw new Error("udpu needs a nodelist (or 1.x interface member sections)");
  const bound: LocalAddress[] = [];
  for (let r = 0; r < rings; r++) {
    const bindnet = interfaceOf(config, r).bindnetaddr;
    if (bindnet === undefined) throw new NetifError("NO_BIND_ADDRESS", `No bindnetaddr for interface ${r} and no nodelist: cannot tell which address to bind`);
    bound.push(requireBindAddress(bindnet, locals, `bindnetaddr of interface ${r}`));
  }
  const nodeId = config.nodeId ?? nodeIdFromIPv4(bound[0]!.address, config.clearNodeHighBit);
  if (nodeId === undefined || nodeId === 0) throw new Error("An IPV6 network requires that a node ID be specified (totem.nodeid)");
  return { nodeId, rings: bound };
}

/** knet: the local node of the nodelist and the local address of each of its links. */
function planKnetNode(config: CorosyncConfig, locals: readonly LocalAddress[], hostName: string): LocalNodePlan {
  if (config.nodes.length === 0) throw new Error("The knet transport needs a nodelist with a nodeid for every node");
  const chosen = config.nodeId === undefined ? undefined : config.nodes.find((n) => n.nodeId === config.nodeId);
  if (config.nodeId !== undefined && chosen === undefined) throw new NetifError("NO_LOCAL_NODE", `totem.nodeid ${config.nodeId} names no node of the nodelist`);
  const node = chosen ?? findLocalNode(config.nodes, locals, hostName, firstLink(config.nodes[0]!)).node;
  const links: number[] = [];
  const rings: LocalAddress[] = [];
  for (let l = 0; l < KNET_MAX_LINK; l++) {
    const addr = node.ringAddrs[l];
    if (addr === undefined) continue;
    links.push(l);
    rings.push(requireBindAddress(addr, locals, `ring${l}_addr of the local node ${node.nodeId}`));
  }
  if (links.length === 0) throw new NetifError("NO_BIND_ADDRESS", `The local node ${node.nodeId} has no ringX_addr`);
  return { nodeId: node.nodeId, node, rings, links };
}

function firstLink(node: NodeConfig): number {
  const l = node.ringAddrs.findIndex((a) => a !== undefined);
  return l < 0 ? 0 : l;
}

/** The members as the transports see them (the nodelist, self included). */
export function membersOf(config: CorosyncConfig): TransportMember[] {
  return config.nodes.map((n) => ({ nodeId: n.nodeId, addrs: Array.from({ length: n.ringAddrs.length }, (_, r) => n.ringAddrs[r] ?? "") }));
}

/**
 * The transport for `config` (not started). One ring: a `UdpuTransport` / `UdpTransport`;
 * two rings with `rrp_mode` active/passive: an `RrpTransport` over one of those per ring.
 */
export function createTransport(config: CorosyncConfig, plan: LocalNodePlan, options: CreateTransportOptions = {}): Transport {
  if (config.transport === "knet") return knetTransport(config, plan, options);
  const members = membersOf(config);
  const bases = plan.rings.map((local, ring) => ringTransport(config, plan, local, ring, members, options));
  if (bases.length === 1) return bases[0]!;
  const rrp: ConstructorParameters<typeof RrpTransport>[0] = { mode: config.rrpMode === "active" ? "active" : "passive", localNodeId: plan.nodeId, rings: bases, members };
  if (options.rrp !== undefined) rrp.timers = options.rrp;
  if (options.now !== undefined) rrp.now = options.now;
  return new RrpTransport(rrp);
}

/** `createTransport` with the local node found from this machine's interfaces and host name. */
export function createTransportForThisHost(config: CorosyncConfig, options: CreateTransportOptions = {}): { transport: Transport; plan: LocalNodePlan } {
  const plan = planLocalNode(config, listLocalAddresses(), localHostName());
  return { transport: createTransport(config, plan, { interfaceMtu, ...options }), plan };
}

function ringTransport(config: CorosyncConfig, plan: LocalNodePlan, local: LocalAddress, ring: number, members: TransportMember[], options: SocketTuning): RingTransport {
  const iface = interfaceOf(config, ring);
  const tuning = socketTuning(options);
  const common = { ...tuning, localNodeId: plan.nodeId, localAddress: local.address, ifname: local.ifname, port: iface.mcastport, ring };
  if (config.transport === "udpu") {
    return new UdpuTransport({ ...common, members, blockUnlistedIps: config.totem.blockUnlistedIps });
  }
  if (iface.mcastaddr === undefined) throw new Error(`No multicast address specified for interface ${ring}`);
  return new UdpTransport({ ...common, mcastAddr: iface.mcastaddr, ttl: iface.ttl, broadcast: iface.broadcast, members });
}

/**
 * knet: one link per local ring address, with corosync's per-link timers
 * (`calc_knet_ping_timers`), priorities and ports; the data MTU from `knet_mtu`, else the
 * smallest MTU of the links' interfaces.
 */
function knetTransport(config: CorosyncConfig, plan: LocalNodePlan, options: CreateTransportOptions): KnetTransport {
  const linkIds = plan.links ?? plan.rings.map((_, i) => i);
  const links: KnetLocalLink[] = plan.rings.map((local, i) => {
    const link = linkIds[i]!;
    const timers = config.totem.links.find((l) => l.linkNumber === link);
    const pongTimeoutMs = timers?.knetPingTimeoutMs ?? Math.trunc(config.totem.tokenMs / 2);
    const out: KnetLocalLink = {
      link,
      localAddress: local.address,
      port: interfaceOf(config, link).mcastport,
      priority: timers?.knetLinkPriority ?? 1,
      pingIntervalMs: timers?.knetPingIntervalMs ?? Math.trunc(pongTimeoutMs / 2),
      pongTimeoutMs,
      pongCount: timers?.knetPongCount ?? 2,
      precision: timers?.knetPingPrecision ?? 2048,
    };
    if (local.ifname !== "") out.ifname = local.ifname;
    return out;
  });
  const opts: ConstructorParameters<typeof KnetTransport>[0] = {
    ...socketTuning(options),
    localNodeId: plan.nodeId,
    links,
    members: membersOf(config),
    linkMode: config.linkMode,
    onwireMtu: knetOnwireMtu(config, plan, options),
    blockUnlistedIps: config.totem.blockUnlistedIps,
  };
  if (options.knetCrypto !== undefined) opts.crypto = options.knetCrypto;
  if (options.now !== undefined) opts.now = options.now;
  if (options.knetHeartbeatMs !== undefined) opts.heartbeatMs = options.knetHeartbeatMs;
  return new KnetTransport(opts);
}

/** `knet_mtu` when set, else the smallest known interface MTU of our links, else 1500. */
export function knetOnwireMtu(config: CorosyncConfig, plan: LocalNodePlan, options: Pick<CreateTransportOptions, "interfaceMtu">): number {
  if (config.totem.knetMtu > 0) return config.totem.knetMtu;
  const mtus = plan.rings.map((r) => options.interfaceMtu?.(r.ifname)).filter((m): m is number => m !== undefined && m >= 576);
  return mtus.length > 0 ? Math.min(...mtus) : 1500;
}

function socketTuning(o: SocketTuning): SocketTuning {
  const out: SocketTuning = {};
  for (const k of ["bindRetries", "bindRetryIntervalMs", "recvBufferBytes", "sendBufferBytes", "maxDatagramBytes"] as const) {
    if (o[k] !== undefined) out[k] = o[k];
  }
  return out;
}

/** The interface section of a link, or corosync's defaults when the file has none. */
function interfaceOf(config: CorosyncConfig, link: number): InterfaceConfig {
  return (
    config.interfaces.find((i) => i.linkNumber === link) ?? {
      linkNumber: link,
      mcastport: DEFAULT_PORT + link,
      ttl: 1,
      broadcast: false,
      members: [],
      knetTransport: "udp",
    }
  );
}

/**
 * A copy of `config` whose nodelist ring addresses are all literals: host names are looked
 * up (IPv4 first for `ip_version` ipv4 / ipv4-6, IPv6 first otherwise, as corosync's
 * `totemip_parse` does with the configured version). Rejects naming the host that failed.
 */
export async function resolveRingAddresses(config: CorosyncConfig, resolve: (name: string, family: 4 | 6) => Promise<string> = defaultResolve): Promise<CorosyncConfig> {
  const order: Array<4 | 6> = config.ipVersion === "ipv4" ? [4] : config.ipVersion === "ipv6" ? [6] : config.ipVersion === "ipv4-6" ? [4, 6] : [6, 4];
  const nodes = await Promise.all(
    config.nodes.map(async (n) => {
      const ringAddrs = await Promise.all(n.ringAddrs.map((a) => (a === undefined || familyOf(a) !== undefined ? a : resolveName(a, order, resolve))));
      return { ...n, ringAddrs };
    }),
  );
  return { ...config, nodes };
}

async function resolveName(name: string, order: Array<4 | 6>, resolve: (name: string, family: 4 | 6) => Promise<string>): Promise<string> {
  const errors: string[] = [];
  for (const family of order) {
    try {
      return await resolve(name, family);
    } catch (err) {
      errors.push(`IPv${family}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`Cannot resolve ring address ${name} (${errors.join("; ")})`);
}

async function defaultResolve(name: string, family: 4 | 6): Promise<string> {
  return (await lookup(name, { family })).address;
}
