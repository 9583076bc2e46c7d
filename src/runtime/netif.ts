/**
 * Local interface discovery: which local address a `bindnetaddr` (or a node's `ringX_addr`)
 * means, and which nodelist entry is the local node.
 *
 * corosync's rules (totem-spec §6.1, §9; `totemip_iface_check`, `find_local_node`):
 * - **bind address**: with a nodelist, `bindnetaddr` is the local node's `ringX_addr`; the
 *   interface address that equals it exactly is taken, else the first interface address in
 *   the same subnet (`address & netmask == bindnetaddr & netmask`), IPv4 or IPv6 by the
 *   family of `bindnetaddr`. 1.x files give a network (`bindnetaddr: 192.168.1.0`) and rely
 *   on the subnet rule.
 * - **local node**: the first node (file order) whose ring address on the given link is one
 *   of the local addresses; failing that, the uname host name (full, then the part before
 *   the first dot) compared with each node's `name`, then with ring addresses written as
 *   host names. corosync also reverse-resolves interface addresses; we do not (no DNS here).
 *   Nothing found → "No valid name found for local host", listing what was tried.
 *
 * The pure helpers take the address list as a parameter; only `listLocalAddresses` and
 * `localHostName` touch the operating system.
 */
import { readFileSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import { parseIPv4, parseIPv6 } from "../config/ip.js";
import type { NodeConfig } from "../config/model.js";

/** One address of a local interface (an `os.networkInterfaces()` entry, flattened). */
export interface LocalAddress {
  /** Interface name (`eth0`, `lo`). */
  ifname: string;
  address: string;
  netmask: string;
  family: "IPv4" | "IPv6";
  /** IPv6 scope id (interface index) for link-local addresses. */
  scopeid?: number;
  internal: boolean;
}

/** Why local discovery failed; `code` is stable, `message` says what was tried. */
export class NetifError extends Error {
  readonly code: "NO_LOCAL_NODE" | "NO_BIND_ADDRESS" | "BAD_ADDRESS";
  constructor(code: NetifError["code"], message: string) {
    super(message);
    this.name = "NetifError";
    this.code = code;
  }
}

/** The bytes of an address literal (4 for IPv4, 16 for IPv6; an IPv6 `%zone` is ignored). */
export function addressBytes(addr: string): Uint8Array | undefined {
  const v4 = parseIPv4(addr);
  if (v4 !== undefined) return Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff);
  return parseIPv6(addr);
}

/** The family of an address literal in node's spelling, or undefined for a host name. */
export function familyOf(addr: string): "IPv4" | "IPv6" | undefined {
  if (parseIPv4(addr) !== undefined) return "IPv4";
  if (parseIPv6(addr) !== undefined) return "IPv6";
  return undefined;
}

/**
 * True when two literals name the same address (`::1` = `0:0::1`; zones ignored). Distinct
 * families never match: an IPv4-mapped IPv6 address is not its IPv4 address here, because
 * corosync's `totemip_equal` compares families first.
 */
export function sameAddress(a: string, b: string): boolean {
  const x = addressBytes(a);
  const y = addressBytes(b);
  return x !== undefined && y !== undefined && x.length === y.length && x.every((v, i) => v === y[i]);
}

/** True when `a` and `b` are in the same subnet under `netmask` (all three one family). */
export function sameSubnet(a: string, b: string, netmask: string): boolean {
  const x = addressBytes(a);
  const y = addressBytes(b);
  const m = addressBytes(netmask);
  if (x === undefined || y === undefined || m === undefined) return false;
  if (x.length !== y.length || x.length !== m.length) return false;
  return x.every((v, i) => (v & m[i]!) === (y[i]! & m[i]!));
}

/**
 * The local address to bind for `bindnetaddr`: the exact match if one exists, else the first
 * address (in list order) in the same subnet as `bindnetaddr` under that address's netmask.
 * Undefined when nothing matches, or when `bindnetaddr` is not an address literal.
 */
export function findBindAddress(bindnetaddr: string, locals: readonly LocalAddress[]): LocalAddress | undefined {
  const family = familyOf(bindnetaddr);
  if (family === undefined) return undefined;
  const candidates = locals.filter((l) => l.family === family);
  const exact = candidates.find((l) => sameAddress(l.address, bindnetaddr));
  if (exact !== undefined) return exact;
  // Every address of a loopback interface's subnet (127.0.0.0/8 on lo) is local and can be
  // bound as itself: several nodes on one host use 127.0.0.1, 127.0.0.2, ...
  const loop = candidates.find((l) => l.internal && sameSubnet(l.address, bindnetaddr, l.netmask));
  if (loop !== undefined) return { ...loop, address: bindnetaddr };
  return candidates.find((l) => sameSubnet(l.address, bindnetaddr, l.netmask));
}

/** Like `findBindAddress`, but a clear error naming what was searched when nothing matches. */
export function requireBindAddress(bindnetaddr: string, locals: readonly LocalAddress[], what = "bindnetaddr"): LocalAddress {
  if (familyOf(bindnetaddr) === undefined) {
    throw new NetifError("BAD_ADDRESS", `${what} ${bindnetaddr} is not an IPv4 or IPv6 address (resolve host names first)`);
  }
  const found = findBindAddress(bindnetaddr, locals);
  if (found !== undefined) return found;
  throw new NetifError(
    "NO_BIND_ADDRESS",
    `No local interface address matches ${what} ${bindnetaddr} (exactly or in its subnet); local addresses: ${describeLocals(locals)}`,
  );
}

/** How the local node was recognised. */
export type LocalNodeMatch = "address" | "name";

export interface LocalNodeResult {
  node: NodeConfig;
  matchedBy: LocalNodeMatch;
  /** The local address equal to the node's ring address on `link`, when matched by address. */
  local?: LocalAddress;
}

/**
 * The local node of a nodelist (see the file comment for the order of the rules).
 * @param link the ring whose addresses are compared (0, as corosync).
 * @throws NetifError `NO_LOCAL_NODE` "No valid name found for local host" with the list of
 *   local addresses and names tried.
 */
export function findLocalNode(nodes: readonly NodeConfig[], locals: readonly LocalAddress[], hostName: string, link = 0): LocalNodeResult {
  for (const node of nodes) {
    const ring = node.ringAddrs[link];
    if (ring === undefined) continue;
    const local = locals.find((l) => sameAddress(l.address, ring));
    if (local !== undefined) return { node, matchedBy: "address", local };
  }
  const names = hostNameCandidates(hostName);
  for (const name of names) {
    const byName = nodes.find((n) => n.name !== undefined && n.name.toLowerCase() === name);
    if (byName !== undefined) return { node: byName, matchedBy: "name" };
    const byRing = nodes.find((n) => {
      const ring = n.ringAddrs[link];
      return ring !== undefined && familyOf(ring) === undefined && ring.toLowerCase().replace(/\.$/, "") === name;
    });
    if (byRing !== undefined) return { node: byRing, matchedBy: "name" };
  }
  throw new NetifError(
    "NO_LOCAL_NODE",
    `No valid name found for local host: no nodelist ring${link}_addr is a local address ` +
      `(local addresses: ${describeLocals(locals)}) and no node name or ring${link}_addr equals ` +
      `the host name ${names.map((n) => `"${n}"`).join(" or ")}`,
  );
}

/** The names `find_local_node` tries: the full uname node name, then its first label. */
export function hostNameCandidates(hostName: string): string[] {
  const full = hostName.toLowerCase().replace(/\.$/, "");
  const short = full.split(".")[0]!;
  return short !== full && short !== "" ? [full, short] : [full];
}

function describeLocals(locals: readonly LocalAddress[]): string {
  return locals.length === 0 ? "none" : locals.map((l) => `${l.address} (${l.ifname})`).join(", ");
}

/** The addresses of the interfaces that are up, as `os.networkInterfaces()` lists them. */
export function listLocalAddresses(): LocalAddress[] {
  const out: LocalAddress[] = [];
  for (const [ifname, entries] of Object.entries(networkInterfaces())) {
    for (const e of entries ?? []) {
      const family = e.family === "IPv6" ? "IPv6" : "IPv4";
      const addr: LocalAddress = { ifname, address: e.address, netmask: e.netmask, family, internal: e.internal };
      if (e.family === "IPv6" && e.scopeid !== undefined) addr.scopeid = e.scopeid;
      out.push(addr);
    }
  }
  return out;
}

/** The uname node name (`os.hostname()`). */
export function localHostName(): string {
  return hostname();
}

/** An interface's MTU from /sys/class/net/<ifname>/mtu; undefined when it cannot be read. */
export function interfaceMtu(ifname: string): number | undefined {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(ifname)) return undefined;
  try {
    const n = Number(readFileSync(`/sys/class/net/${ifname}/mtu`, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
