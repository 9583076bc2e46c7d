/**
 * Validation of the network layout: the transport's needs, interface (link) sections,
 * redundant rings, the nodelist and node ids (totem-spec §6.1, §6.2, §9; corosync 3.1.7
 * `totemconfig.c`, with the 1.x rules of `totem_config_validate` for redundant rings).
 *
 * Where this product deliberately differs from corosync 3:
 * - udp without a nodelist is the 1.x multicast form (installation guide): bindnetaddr,
 *   mcastaddr and mcastport are then all required on every interface.
 * - udpu without a nodelist may list its members in 1.x `member { memberaddr }` sections.
 * - udp/udpu may have two rings (links 0 and 1) with `rrp_mode: passive|active`.
 * - nodeid 0 is rejected outright instead of meaning "unset".
 *
 * Pure: no node:* imports.
 */
import type { DiagnosticList } from "./diagnostics.js";
import {
  type FlatConfig,
  INTERFACE_MAX,
  type RawNode,
  type Transport,
  effectiveNodeId,
  flatNumber,
  flatString,
  flatYesNo,
  hasNodelist,
  interfaceLinks,
  interfaceMembers,
  nodelistLinks,
  posOf,
  readNodelist,
} from "./flat.js";
import { addressFamily, defaultMcastAddr, isHostName, isMulticastAddress } from "./ip.js";

/** Largest node id knet accepts (`KNET_MAX_HOST`, exclusive). */
export const KNET_MAX_HOST = 65536;

interface Ctx {
  flat: FlatConfig;
  out: DiagnosticList;
  transport: Transport | undefined;
  nodelist: boolean;
  nodes: RawNode[];
}

/**
 * Run every network check for a file whose transport is `transport`; with an invalid
 * transport (undefined) only the transport-independent nodelist checks run.
 */
export function checkNetwork(flat: FlatConfig, out: DiagnosticList, transport: Transport | undefined): void {
  const ctx: Ctx = { flat, out, transport, nodelist: hasNodelist(flat), nodes: readNodelist(flat) };
  if (transport === undefined) {
    checkNodes(ctx);
    return;
  }
  checkTransportNeeds(ctx);
  const links = checkLinkNumbers(ctx);
  for (const link of interfaceLinks(flat)) if (link < INTERFACE_MAX) checkInterface(ctx, link);
  if (transport === "udp") for (const link of links) checkUdpMcast(ctx, link);
  checkLinkCount(ctx, links);
  checkNodes(ctx);
  checkTotemNodeId(ctx);
}

/** A literal address or a host name the daemon can resolve. */
function validAddress(s: string): boolean {
  return addressFamily(s) !== undefined || isHostName(s);
}

function checkTransportNeeds(ctx: Ctx): void {
  const { flat, out, transport } = ctx;
  const at = posOf(flat, "totem.transport", "totem");
  if (ctx.nodelist) return;
  if (transport === "knet") out.error(at, "The knet transport needs a nodelist with a nodeid for every node", "nodelist");
  if (transport === "udpu" && interfaceLinks(flat).every((l) => interfaceMembers(flat, l).length === 0)) {
    out.error(at, "The udpu transport needs a nodelist (or corosync 1.x member sections in the interface)", "nodelist");
  }
  if (transport === "udp" && interfaceLinks(flat).length === 0) {
    out.error(posOf(flat, "totem"), "No interfaces defined: udp without a nodelist needs an interface section", "totem.interface");
  }
}

/** Link numbers must be below INTERFACE_MAX; returns every valid configured link. */
function checkLinkNumbers(ctx: Ctx): number[] {
  const { flat, out } = ctx;
  const tooBig = (l: number) => `interface ring number ${l} is bigger than allowed maximum ${INTERFACE_MAX - 1}`;
  for (const l of interfaceLinks(flat)) {
    if (l >= INTERFACE_MAX) out.error(posOf(flat, `totem.interface.${l}`), tooBig(l), `totem.interface.${l}`);
  }
  for (const n of ctx.nodes) {
    for (const l of n.addrs.keys()) {
      const key = `nodelist.node.${n.index}.ring${l}_addr`;
      if (l >= INTERFACE_MAX) out.error(posOf(flat, key), tooBig(l), key);
    }
  }
  const all = new Set([...interfaceLinks(flat), ...nodelistLinks(flat)]);
  return [...all].filter((l) => l < INTERFACE_MAX).sort((a, b) => a - b);
}

function checkInterface(ctx: Ctx, link: number): void {
  const { flat, out, transport } = ctx;
  const base = `totem.interface.${link}`;
  const at = (key: string) => posOf(flat, `${base}.${key}`, base);
  const bindnet = flatString(flat, `${base}.bindnetaddr`);
  if (bindnet !== undefined && !validAddress(bindnet)) {
    out.error(at("bindnetaddr"), `failed to parse bindnet address '${bindnet}'`, `${base}.bindnetaddr`);
  }
  if (bindnet !== undefined && ctx.nodelist) {
    out.warning(at("bindnetaddr"), "bindnetaddr is ignored when a nodelist exists (the local node's address is used)", `${base}.bindnetaddr`);
  }
  const mcast = flatString(flat, `${base}.mcastaddr`);
  if (mcast !== undefined && addressFamily(mcast) === undefined) {
    out.error(at("mcastaddr"), `failed to parse mcast address '${mcast}'`, `${base}.mcastaddr`);
  } else if (mcast !== undefined && transport !== "udp") {
    out.notice(at("mcastaddr"), `mcastaddr is only used by the udp transport (this file uses ${transport})`, `${base}.mcastaddr`);
  }
  checkInterfaceNumbers(ctx, link);
  checkMembers(ctx, link);
  if (transport === "udp" && !ctx.nodelist) {
    if (bindnet === undefined) out.error(at("bindnetaddr"), `No bind address (bindnetaddr) specified for interface ${link}`, `${base}.bindnetaddr`);
    if (flatNumber(flat, `${base}.mcastport`) === undefined) {
      out.error(at("mcastport"), `No multicast port specified for interface ${link}`, `${base}.mcastport`);
    }
  }
}

function checkInterfaceNumbers(ctx: Ctx, link: number): void {
  const { flat, out, transport } = ctx;
  const base = `totem.interface.${link}`;
  const at = (key: string) => posOf(flat, `${base}.${key}`, base);
  const port = flatNumber(flat, `${base}.mcastport`);
  if (port === 0) out.error(at("mcastport"), `mcastport must be between 1 and 65535 for interface ${link}`, `${base}.mcastport`);
  if (port === 1 && transport === "udp") {
    out.error(at("mcastport"), `mcastport must be at least 2 for udp (it also sends from mcastport - 1) for interface ${link}`, `${base}.mcastport`);
  }
  const ttl = flatNumber(flat, `${base}.ttl`);
  if (ttl !== undefined && ttl !== 1 && transport !== "udp") {
    out.error(at("ttl"), `Can only set ttl on multicast transport types for interface ${link}`, `${base}.ttl`);
  }
  const prio = flatNumber(flat, `${base}.knet_link_priority`);
  if (prio !== undefined && prio !== 1 && transport !== "knet") {
    out.error(at("knet_link_priority"), `Can only set link priority on knet transport type for interface ${link}`, `${base}.knet_link_priority`);
  }
  if (flatString(flat, `${base}.broadcast`) === "yes" && transport !== "udp") {
    out.warning(at("broadcast"), `broadcast is only used by the udp transport (this file uses ${transport})`, `${base}.broadcast`);
  }
}

function checkMembers(ctx: Ctx, link: number): void {
  const { flat, out, transport } = ctx;
  const members = interfaceMembers(flat, link);
  members.forEach((addr, i) => {
    const key = `totem.interface.${link}.member.${i}`;
    if (!validAddress(addr)) out.error(posOf(flat, key), `failed to parse node address '${addr}'`, key);
  });
  if (members.length === 0) return;
  const key = `totem.interface.${link}.member.0`;
  if (ctx.nodelist) out.warning(posOf(flat, key), "member sections are ignored when a nodelist exists", key);
  else if (transport !== "udpu") out.warning(posOf(flat, key), `member sections are only used by the udpu transport (this file uses ${transport})`, key);
  else out.notice(posOf(flat, key), "member sections are the corosync 1.x way to list udpu members; a nodelist is preferred", key);
}

/** The family of the addresses on `link`: bindnetaddr if literal, else the nodes'. */
function linkFamily(ctx: Ctx, link: number): "ipv4" | "ipv6" | undefined {
  const bind = flatString(ctx.flat, `totem.interface.${link}.bindnetaddr`);
  if (!ctx.nodelist && bind !== undefined) return addressFamily(bind);
  for (const n of ctx.nodes) {
    const f = addressFamily(n.addrs.get(link) ?? "");
    if (f !== undefined) return f;
  }
  return undefined;
}

/** The multicast address of a udp link (configured, broadcast, or derived). */
function checkUdpMcast(ctx: Ctx, link: number): void {
  const { flat, out } = ctx;
  const base = `totem.interface.${link}`;
  if (flatYesNo(flat, `${base}.broadcast`, false)) return;
  const mcast = flatString(flat, `${base}.mcastaddr`);
  const at = posOf(flat, `${base}.mcastaddr`, base, "totem");
  if (mcast === undefined) {
    if (!ctx.nodelist) out.error(at, `No multicast address specified for interface ${link}`, `${base}.mcastaddr`);
    else if (flatString(flat, "totem.cluster_name") === undefined) {
      out.error(at, `No multicast address specified for interface ${link} (set mcastaddr, or cluster_name to derive one)`, `${base}.mcastaddr`);
    }
    return;
  }
  const family = addressFamily(mcast);
  if (family === undefined) return;
  if (!isMulticastAddress(mcast)) {
    out.error(at, `mcastaddr is not a correct multicast address for interface ${link}`, `${base}.mcastaddr`);
  }
  const bindFamily = linkFamily(ctx, link);
  if (bindFamily !== undefined && bindFamily !== family) {
    out.error(at, `Multicast address family does not match bind address family for interface ${link}`, `${base}.mcastaddr`);
  }
  if (family === "ipv6" && !ctx.nodelist && !flatNumber(flat, "totem.nodeid")) {
    out.error(at, `An IPV6 network requires that a node ID be specified for interface ${link} (set totem.nodeid)`, "totem.nodeid");
  }
}

/** How many links the transport allows, and the udp rule that rings must differ. */
function checkLinkCount(ctx: Ctx, links: number[]): void {
  const { flat, out, transport } = ctx;
  const rrpMode = flatString(flat, "totem.rrp_mode") ?? "none";
  const at = posOf(flat, "totem.rrp_mode", "totem");
  if (transport === "knet") {
    if (flat.entries.has("totem.rrp_mode")) out.warning(at, "rrp_mode has no effect with the knet transport; use link_mode", "totem.rrp_mode");
    if (links.length > 1) checkMultiLinkNodes(ctx, links);
    return;
  }
  const redundant = rrpMode === "passive" || rrpMode === "active";
  if (links.length > (redundant ? 2 : 1)) {
    const why = redundant
      ? `${links.length} is too many configured interfaces for the rrp_mode setting ${rrpMode}.`
      : `${links.length} is too many configured interfaces for non-Knet transport (set rrp_mode: passive or active for a redundant ring)`;
    out.error(at, why, "totem.rrp_mode");
    return;
  }
  for (const l of links) {
    if (l > (redundant ? 1 : 0)) {
      const key = `totem.interface.${l}`;
      out.error(posOf(flat, key, "totem"), `Link ${l} is not available with the ${transport} transport (it uses link 0${redundant ? ", and link 1 as the redundant ring" : ""})`, key);
    }
  }
  if (transport === "udp" && links.length === 2) checkRingsDiffer(ctx);
}

/** 1.x: "Interfaces multicast address/port pair must differ" (ports within 1 clash). */
function checkRingsDiffer(ctx: Ctx): void {
  const { flat } = ctx;
  const eff = (l: number) => {
    const addr = flatString(flat, `totem.interface.${l}.mcastaddr`) ?? defaultMcastAddr(flatString(flat, "totem.cluster_name") ?? "", l, linkFamily(ctx, l) ?? "ipv4");
    return { addr, port: flatNumber(flat, `totem.interface.${l}.mcastport`) ?? 5405 + l };
  };
  const a = eff(0);
  const b = eff(1);
  if (a.addr === b.addr && Math.abs(a.port - b.port) <= 1) {
    ctx.out.error(posOf(flat, "totem.interface.1.mcastaddr", "totem.interface.1", "totem"), "Interfaces multicast address/port pair must differ", "totem.interface.1.mcastaddr");
  }
}

/** knet with several links: every node needs a name and the same number of links. */
function checkMultiLinkNodes(ctx: Ctx, links: number[]): void {
  for (const n of ctx.nodes) {
    const at = posOf(ctx.flat, "", `nodelist.node.${n.index}`);
    if (n.name === undefined) {
      ctx.out.error(at, "for a multi-link configuration, all nodes must have a 'name' attribute", `nodelist.node.${n.index}.name`);
    }
    if (links.some((l) => !n.addrs.has(l))) {
      ctx.out.error(at, "Not all nodes have the same number of links", `nodelist.node.${n.index}`);
    }
  }
}

function checkNodes(ctx: Ctx): void {
  const clearHighBit = flatYesNo(ctx.flat, "totem.clear_node_high_bit", false);
  const byId = new Map<number, RawNode>();
  const byAddr = new Map<string, RawNode>();
  const families = new Map<number, { family: string; addr: string }>();
  for (const n of ctx.nodes) {
    checkNodeAddresses(ctx, n, byAddr, families);
    const id = checkNodeId(ctx, n, clearHighBit);
    if (id === undefined) continue;
    const first = byId.get(id);
    if (first === undefined) byId.set(id, n);
    else {
      const auto = n.nodeid ? "" : ` (autogenerated from ${n.addrs.get(0)})`;
      const key = `nodelist.node.${n.index}.nodeid`;
      ctx.out.error(posOf(ctx.flat, key, `nodelist.node.${n.index}`), `Nodeid ${id}${auto} appears twice in corosync.conf (also node ${first.index})`, key);
    }
  }
}

function checkNodeAddresses(
  ctx: Ctx,
  n: RawNode,
  byAddr: Map<string, RawNode>,
  families: Map<number, { family: string; addr: string }>,
): void {
  const { flat, out } = ctx;
  if (!n.addrs.has(0)) {
    out.error(posOf(flat, `nodelist.node.${n.index}`), `Node ${n.index} of the nodelist has no ring0_addr`, `nodelist.node.${n.index}.ring0_addr`);
  }
  for (const [link, addr] of n.addrs) {
    const key = `nodelist.node.${n.index}.ring${link}_addr`;
    if (!validAddress(addr)) {
      out.error(posOf(flat, key), `failed to parse node address '${addr}'`, key);
      continue;
    }
    const other = byAddr.get(`${link} ${addr}`);
    if (other !== undefined) out.error(posOf(flat, key), `Address '${addr}' on link ${link} is given to more than one node (nodes ${other.index} and ${n.index})`, key);
    else byAddr.set(`${link} ${addr}`, n);
    const family = addressFamily(addr);
    const seen = families.get(link);
    if (family === undefined) continue;
    if (seen === undefined) families.set(link, { family, addr });
    else if (seen.family !== family) {
      out.error(posOf(flat, key), `Nodes for link ${link} have different IP families (compared ${addr} with ${seen.addr})`, key);
    }
  }
}

/** The node's effective id, or undefined after reporting why it has none. */
function checkNodeId(ctx: Ctx, n: RawNode, clearHighBit: boolean): number | undefined {
  const { flat, out, transport } = ctx;
  const key = `nodelist.node.${n.index}.nodeid`;
  const at = posOf(flat, key, `nodelist.node.${n.index}`);
  const ring0 = n.addrs.get(0) ?? "";
  if (n.nodeid === 0) {
    out.error(at, "nodeid 0 is reserved; node ids start at 1", key);
    return undefined;
  }
  if (transport === "knet") {
    if (n.nodeid === undefined) out.error(at, `Knet requires an explicit nodeid to be specified for address '${ring0}'.`, key);
    else if (n.nodeid >= KNET_MAX_HOST) out.error(at, `Knet requires nodeid to be less than ${KNET_MAX_HOST} for address '${ring0}'.`, key);
    return n.nodeid;
  }
  if (n.nodeid !== undefined || ring0 === "" || transport === undefined) return n.nodeid;
  const id = effectiveNodeId(n, transport, clearHighBit);
  if (id === 0) out.error(at, `nodeid derived from ring0_addr '${ring0}' is 0, which is reserved; set nodeid`, key);
  else if (id !== undefined) return id;
  else if (addressFamily(ring0) === "ipv6") out.error(at, `An IPV6 network requires that a node ID be specified for address '${ring0}'.`, key);
  else out.error(at, `Node ${n.index} has no nodeid and its ring0_addr '${ring0}' is a host name: set nodeid (ids are derived only from IPv4 addresses)`, key);
  return undefined;
}

function checkTotemNodeId(ctx: Ctx): void {
  const { flat, out } = ctx;
  if (!flat.entries.has("totem.nodeid")) return;
  const at = posOf(flat, "totem.nodeid");
  // Ours: with a nodelist, totem.nodeid names the local node's entry, so several nodes can
  // share one host (127.0.0.x) where every ring0_addr is local. corosync 3 ignores it.
  if (ctx.nodelist) {
    const id = flatNumber(flat, "totem.nodeid");
    const listed = [...flat.entries.keys()].some((k) => /^nodelist\.node\.\d+\.nodeid$/.test(k) && flatNumber(flat, k) === id);
    if (!listed) out.error(at, `totem.nodeid ${id} names no node of the nodelist (it selects the local node's entry)`, "totem.nodeid");
    else out.notice(at, "totem.nodeid selects the local node's nodelist entry (corosync 3 ignores it and matches local addresses)", "totem.nodeid");
  }
  else if (flatNumber(flat, "totem.nodeid") === 0) out.error(at, "nodeid 0 is reserved; node ids start at 1", "totem.nodeid");
}
