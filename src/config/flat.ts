/**
 * The flattened configuration: cmap keys with typed values, each remembering where in
 * which file it was set. This is what corosync keeps in icmap after parsing; the
 * validator and the model read it the way corosync's `totemconfig.c` reads icmap, so the
 * same readers work on a reloaded configuration.
 *
 * Pure: no node:* imports.
 */
import { CmapType, type CmapEntry, type CmapValue } from "../core/cmap/types.js";
import { type SourcePos, filePos } from "./diagnostics.js";
import { nodeIdFromIPv4 } from "./ip.js";
import { CRYPTO_CIPHERS, CRYPTO_HASHES, type CryptoCipher, type CryptoHash } from "./schema.js";
import type { TotemDefaultsInput } from "./totem-defaults.js";

/** One cmap key, its typed value, and where it was set (the last setting wins). */
export interface FlatEntry {
  key: string;
  value: CmapValue;
  pos: SourcePos;
}

/** The flattened configuration of one file (plus any uidgid.d files merged in). */
export interface FlatConfig {
  file: string;
  /** Keys in order of first setting. */
  entries: Map<string, FlatEntry>;
  /**
   * Where each section was first opened, by cmap path: `totem`, `logging`,
   * `totem.interface.<link>`, `nodelist.node.<n>`, `logging.logger_subsys.<SUBSYS>`.
   */
  sections: Map<string, SourcePos>;
}

export type Transport = "udp" | "udpu" | "knet";

/** Most links (interfaces / ringX_addr) corosync supports (`INTERFACE_MAX`). */
export const INTERFACE_MAX = 8;

export function emptyFlatConfig(file: string): FlatConfig {
  return { file, entries: new Map(), sections: new Map() };
}

/** The entries as the cmap store takes them, in order of first setting. */
export function toCmapEntries(flat: FlatConfig): CmapEntry[] {
  return [...flat.entries.values()].map((e) => ({ key: e.key, value: e.value }));
}

/** A string key's value; undefined when absent or not a string. */
export function flatString(flat: FlatConfig, key: string): string | undefined {
  const v = flat.entries.get(key)?.value;
  return v?.type === CmapType.STRING ? v.value : undefined;
}

/** An integer key's value (types up to 32 bits); undefined when absent or of another type. */
export function flatNumber(flat: FlatConfig, key: string): number | undefined {
  const v = flat.entries.get(key)?.value;
  return v !== undefined && typeof v.value === "number" ? v.value : undefined;
}

/** A 64-bit key's value; undefined when absent or of another type. */
export function flatBigint(flat: FlatConfig, key: string): bigint | undefined {
  const v = flat.entries.get(key)?.value;
  return v !== undefined && typeof v.value === "bigint" ? v.value : undefined;
}

/**
 * Where to point a message: the first of `candidates` that is a set key or an opened
 * section (`"totem.token"`, then `"totem"`), else the file as a whole.
 */
export function posOf(flat: FlatConfig, ...candidates: string[]): SourcePos {
  for (const c of candidates) {
    const p = flat.entries.get(c)?.pos ?? flat.sections.get(c);
    if (p !== undefined) return p;
  }
  return filePos(flat.file);
}

/** Positions `n` of the `nodelist.node.<n>` entries, ascending. */
export function nodePositions(flat: FlatConfig): number[] {
  const seen = new Set<number>();
  for (const key of flat.entries.keys()) {
    const m = /^nodelist\.node\.(\d+)\./.exec(key);
    if (m !== null) seen.add(Number(m[1]));
  }
  for (const key of flat.sections.keys()) {
    const m = /^nodelist\.node\.(\d+)$/.exec(key);
    if (m !== null) seen.add(Number(m[1]));
  }
  return [...seen].sort((a, b) => a - b);
}

/** True when the file has a nodelist with at least one node (the corosync 2.x/3.x form). */
export function hasNodelist(flat: FlatConfig): boolean {
  return nodePositions(flat).length > 0;
}

/** Link numbers of the `totem.interface.<link>` sections, ascending. */
export function interfaceLinks(flat: FlatConfig): number[] {
  const seen = new Set<number>();
  for (const key of flat.sections.keys()) {
    const m = /^totem\.interface\.(\d+)$/.exec(key);
    if (m !== null) seen.add(Number(m[1]));
  }
  return [...seen].sort((a, b) => a - b);
}

/** Link numbers `X` of every `nodelist.node.<n>.ringX_addr`, ascending. */
export function nodelistLinks(flat: FlatConfig): number[] {
  const seen = new Set<number>();
  for (const key of flat.entries.keys()) {
    const m = /^nodelist\.node\.\d+\.ring(\d+)_addr$/.exec(key);
    if (m !== null) seen.add(Number(m[1]));
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * The transport in effect: `totem.transport` when it is valid; when absent, knet for a
 * file with a nodelist (corosync 3's default) and udp for one without (the corosync 1.x
 * multicast form of the installation guide). Undefined for an invalid value.
 */
export function effectiveTransport(flat: FlatConfig): Transport | undefined {
  const t = flatString(flat, "totem.transport");
  if (t === undefined) return hasNodelist(flat) ? "knet" : "udp";
  return t === "udp" || t === "udpu" || t === "knet" ? t : undefined;
}

/** A yes/no key as corosync reads it: "yes" → true, "no" → false, else `dflt`. */
export function flatYesNo(flat: FlatConfig, key: string, dflt: boolean): boolean {
  const v = flatString(flat, key);
  return v === "yes" ? true : v === "no" ? false : dflt;
}

/** One `nodelist.node.<index>` entry as configured. */
export interface RawNode {
  index: number;
  nodeid?: number;
  name?: string;
  quorumVotes?: number;
  /** `ringX_addr` values by link number X. */
  addrs: Map<number, string>;
}

/** The nodelist as configured, in file order. */
export function readNodelist(flat: FlatConfig): RawNode[] {
  // The ring addresses of every node in one pass over the entries (a pass per node was
  // quadratic: 0.5 s for a 400-node nodelist, found by the config fuzz target).
  const addrs = new Map<string, Map<number, string>>();
  for (const [key, e] of flat.entries) {
    const m = /^nodelist\.node\.(\d+)\.ring(\d+)_addr$/.exec(key);
    if (m === null || typeof e.value.value !== "string") continue;
    let node = addrs.get(m[1]!);
    if (node === undefined) addrs.set(m[1]!, (node = new Map()));
    node.set(Number(m[2]), e.value.value);
  }
  return nodePositions(flat).map((index) => {
    const base = `nodelist.node.${index}`;
    const node: RawNode = { index, addrs: addrs.get(String(index)) ?? new Map() };
    const nodeid = flatNumber(flat, `${base}.nodeid`);
    if (nodeid !== undefined) node.nodeid = nodeid;
    const name = flatString(flat, `${base}.name`);
    if (name !== undefined) node.name = name;
    const votes = flatNumber(flat, `${base}.quorum_votes`);
    if (votes !== undefined) node.quorumVotes = votes;
    return node;
  });
}

/**
 * The node id in effect for a node: the configured `nodeid` (0 counts as unset, as in
 * corosync), else on udp/udpu the id derived from an IPv4 `ring0_addr`; else undefined.
 */
export function effectiveNodeId(node: RawNode, transport: Transport | undefined, clearHighBit: boolean): number | undefined {
  if (node.nodeid) return node.nodeid;
  if (transport === "knet") return undefined;
  const ring0 = node.addrs.get(0);
  return ring0 === undefined ? undefined : nodeIdFromIPv4(ring0, clearHighBit);
}

/** The 1.x udpu member addresses of `totem.interface.<link>.member.<i>`, in order. */
export function interfaceMembers(flat: FlatConfig, link: number): string[] {
  const out: Array<[number, string]> = [];
  const re = new RegExp(`^totem\\.interface\\.${link}\\.member\\.(\\d+)$`);
  for (const [key, e] of flat.entries) {
    const m = re.exec(key);
    if (m !== null && typeof e.value.value === "string") out.push([Number(m[1]), e.value.value]);
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

/** The cipher and hash in effect, as corosync's `totem_get_crypto` derives them. */
export interface EffectiveCrypto {
  cipher: CryptoCipher;
  hash: CryptoHash;
}

/**
 * `secauth: on` means aes256 + sha256; `crypto_cipher` / `crypto_hash` override it when
 * valid; otherwise both are "none" (corosync 3's defaults, also used for 1.x files).
 */
export function effectiveCrypto(flat: FlatConfig): EffectiveCrypto {
  const out: EffectiveCrypto = { cipher: "none", hash: "none" };
  if (flatString(flat, "totem.secauth") === "on") {
    out.cipher = "aes256";
    out.hash = "sha256";
  }
  const cipher = flatString(flat, "totem.crypto_cipher");
  if ((CRYPTO_CIPHERS as readonly string[]).includes(cipher ?? "")) out.cipher = cipher as CryptoCipher;
  const hash = flatString(flat, "totem.crypto_hash");
  if ((CRYPTO_HASHES as readonly string[]).includes(hash ?? "")) out.hash = hash as CryptoHash;
  return out;
}

/** Every configured link: nodelist `ringX_addr` links and interface sections, below INTERFACE_MAX. */
export function configuredLinks(flat: FlatConfig): number[] {
  const all = new Set([...interfaceLinks(flat), ...nodelistLinks(flat)]);
  return [...all].filter((l) => l < INTERFACE_MAX).sort((a, b) => a - b);
}

/**
 * The input of `computeTotemConfig` for this file: corosync counts the nodes with a link-0
 * address (nodelist, or 1.x udpu members of interface 0 when there is no nodelist).
 */
export function totemInputFromFlat(flat: FlatConfig, transport: Transport): TotemDefaultsInput {
  const nodes = readNodelist(flat);
  const memberCount = nodes.length > 0 ? nodes.filter((n) => n.addrs.has(0)).length : interfaceMembers(flat, 0).length;
  return {
    lookup: (key) => flat.entries.get(key)?.value,
    memberCount,
    links: configuredLinks(flat),
    transport,
  };
}
