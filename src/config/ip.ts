/**
 * Address helpers for the configuration: literal IPv4/IPv6 parsing, multicast tests, the
 * node id corosync derives from an IPv4 address, and the multicast address it derives
 * from `cluster_name` (totem-spec §6.2, §9).
 *
 * Pure: no node:* imports (so no DNS: a name that is not a literal is the daemon's to
 * resolve).
 */

export type AddressFamily = "ipv4" | "ipv6";

/** The 32-bit value of a dotted-quad IPv4 literal (as `inet_pton`: 4 parts, no leading zeros). */
export function parseIPv4(s: string): number | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}

/**
 * The 16 bytes of an IPv6 literal (`::` compression, an embedded IPv4 tail, and a
 * `%zone` suffix are accepted; the zone is dropped).
 */
export function parseIPv6(s: string): Uint8Array | undefined {
  const zone = s.indexOf("%");
  if (zone >= 0) {
    if (zone === s.length - 1) return undefined;
    s = s.slice(0, zone);
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1]!, true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** Hex groups of one side of `::`; the address's last side may end in a dotted quad. */
function parseGroups(side: string, last: boolean): number[] | undefined {
  if (side === "") return [];
  const parts = side.split(":");
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (last && i === parts.length - 1 && p.includes(".")) {
      const v4 = parseIPv4(p);
      if (v4 === undefined) return undefined;
      out.push(Math.floor(v4 / 65536), v4 % 65536);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
      out.push(parseInt(p, 16));
    } else {
      return undefined;
    }
  }
  return out;
}

/** The family of an address literal, or undefined for anything else (e.g. a host name). */
export function addressFamily(s: string): AddressFamily | undefined {
  if (parseIPv4(s) !== undefined) return "ipv4";
  if (parseIPv6(s) !== undefined) return "ipv6";
  return undefined;
}

/** True for a syntactically valid DNS host name (RFC 1123 labels). */
export function isHostName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  return s
    .replace(/\.$/, "")
    .split(".")
    .every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
}

/** True when `s` is an IPv4 literal in 224.0.0.0/4 or an IPv6 literal in ff00::/8. */
export function isMulticastAddress(s: string): boolean {
  const v4 = parseIPv4(s);
  if (v4 !== undefined) return v4 >= 0xe0000000 && v4 <= 0xefffffff;
  const v6 = parseIPv6(s);
  return v6 !== undefined && v6[0] === 0xff;
}

/**
 * The node id corosync derives for a node without `nodeid` on udp/udpu: the IPv4 address
 * as a big-endian u32, with the high bit cleared when `clear_node_high_bit: yes`
 * (totem-spec §9). Undefined for anything but an IPv4 literal (IPv6 needs an explicit id).
 */
export function nodeIdFromIPv4(addr: string, clearHighBit = false): number | undefined {
  const v = parseIPv4(addr);
  if (v === undefined) return undefined;
  return clearHighBit ? v & 0x7fffffff : v;
}

/**
 * corosync's `generate_cluster_id`: fold the bytes of `cluster_name` as `v = (v << 1) + c`
 * in a C `int`, with `char` signed as on x86, then keep 16 bits.
 */
export function clusterIdFromName(clusterName: string): number {
  let v = 0;
  for (const byte of new TextEncoder().encode(clusterName)) {
    const c = byte >= 0x80 ? byte - 0x100 : byte;
    v = ((v << 1) + c) | 0;
  }
  return v & 0xffff;
}

/**
 * The multicast address corosync uses for link `linkNumber` when `mcastaddr` is unset
 * (udp only): cluster id + link number (16-bit); IPv4 `239.192.<id >> 8>.<id % 255>`
 * (modulo 255, as corosync), IPv6 `ff15::<hex id>`.
 */
export function defaultMcastAddr(clusterName: string, linkNumber: number, family: AddressFamily): string {
  const id = (clusterIdFromName(clusterName) + linkNumber) & 0xffff;
  return family === "ipv4" ? `239.192.${id >> 8}.${id % 255}` : `ff15::${id.toString(16)}`;
}
