/**
 * The typed view of a validated configuration that the daemon runs on: transport, nodes,
 * links, crypto, quorum, logging, system settings and the effective Totem timers.
 *
 * `buildConfigModel` reads the flattened map the way corosync's `totemconfig.c`,
 * `votequorum.c` and `logconfig.c` read icmap, applying corosync 3's defaults. It assumes
 * `validateConfig` found no errors; on an invalid map it still returns a value, but one
 * that is not meaningful. Finding the local node is the daemon's job (it matches its
 * addresses against `nodes`); `nodeIdFromIPv4` is the helper for udp/udpu node ids.
 *
 * Pure: no node:* imports. The environment arrives as a parameter.
 */
import { CmapType, type CmapEntry } from "../core/cmap/types.js";
import {
  type FlatConfig,
  type Transport,
  configuredLinks,
  effectiveCrypto,
  effectiveNodeId,
  effectiveTransport,
  flatBigint,
  flatNumber,
  flatString,
  flatYesNo,
  interfaceMembers,
  readNodelist,
  totemInputFromFlat,
} from "./flat.js";
import { type AddressFamily, addressFamily, defaultMcastAddr } from "./ip.js";
import type { CryptoCipher, CryptoHash, LOG_PRIORITIES, SYSLOG_FACILITIES } from "./schema.js";
import { type TotemConfig, computeTotemConfig } from "./totem-defaults.js";

export { nodeIdFromIPv4, defaultMcastAddr } from "./ip.js";
export type { Transport } from "./flat.js";
export type { TotemConfig, TotemLinkConfig } from "./totem-defaults.js";

/** Environment variables the configuration honours (passed in, never read from process). */
export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_STATE_DIR = "/var/lib/corosync";
export const DEFAULT_KEYFILE = "/etc/corosync/authkey";
/** corosync's `DEFAULT_PORT`. */
export const DEFAULT_MCASTPORT = 5405;

/** A node of the nodelist (or a 1.x udpu member). */
export interface NodeConfig {
  /** Position in the nodelist (`nodelist.node.<index>`). */
  index: number;
  nodeId: number;
  /** True when the id was derived from the IPv4 ring0 address (udp/udpu). */
  nodeIdDerived: boolean;
  name?: string;
  /** `ringX_addr` by link number X; holes are links the node is not on. */
  ringAddrs: Array<string | undefined>;
  /** `quorum_votes`, default 1. */
  quorumVotes: number;
}

/** One link (1.x: ring) as configured, with corosync's defaults filled in. */
export interface InterfaceConfig {
  linkNumber: number;
  /** 1.x: the network to bind to; with a nodelist the daemon uses the local node's address. */
  bindnetaddr?: string;
  /** udp: the group (configured, 255.255.255.255 for broadcast, or derived from cluster_name). */
  mcastaddr?: string;
  /** Default 5405 + link (5405 + 2·link with broadcast). */
  mcastport: number;
  ttl: number;
  broadcast: boolean;
  /** 1.x udpu `member { memberaddr }` addresses (unused when a nodelist exists). */
  members: string[];
  knetTransport: "udp" | "sctp";
}

export type RrpMode = "none" | "passive" | "active";
export type LinkMode = "passive" | "active" | "rr";

export interface CryptoConfig {
  cipher: CryptoCipher;
  hash: CryptoHash;
  /** True when cipher or hash is not "none" (`secauth: on` gives aes256 + sha256). */
  enabled: boolean;
  /** `totem.keyfile`, default /etc/corosync/authkey (1.x used /etc/ais/authkey). */
  keyfile: string;
  /** `totem.key`: the key given inline in the file, if any. */
  key?: string;
}

export type AutoTieBreakerNode = "lowest" | "highest" | number[];

export interface QuorumConfig {
  provider?: "corosync_votequorum";
  expectedVotes?: number;
  votes?: number;
  twoNode: boolean;
  /** Explicit, else on when two_node is (votequorum's autoset). */
  waitForAll: boolean;
  lastManStanding: boolean;
  /** Default 10000 ms. */
  lastManStandingWindowMs: number;
  autoTieBreaker: boolean;
  autoTieBreakerNode: AutoTieBreakerNode;
  allowDownscale: boolean;
  /** On when configured or when allow_downscale is (votequorum). */
  expectedVotesTracking: boolean;
  leavingTimeoutMs?: number;
}

export type LogPriority = (typeof LOG_PRIORITIES)[number];
export type SyslogFacility = (typeof SYSLOG_FACILITIES)[number];
export type DebugLevel = "off" | "on" | "trace";

/** Per-subsystem overrides (`logger_subsys`); unset fields follow the global settings. */
export interface LogTargetConfig {
  toStderr?: boolean;
  toLogfile?: boolean;
  toSyslog?: boolean;
  logfile?: string;
  logfilePriority?: LogPriority;
  syslogFacility?: SyslogFacility;
  syslogPriority?: LogPriority;
  debug?: DebugLevel;
}

export interface LoggingConfig {
  toStderr: boolean;
  toLogfile: boolean;
  toSyslog: boolean;
  logfile?: string;
  logfilePriority: LogPriority;
  syslogFacility: SyslogFacility;
  syslogPriority: LogPriority;
  debug: DebugLevel;
  timestamp: "off" | "on" | "hires";
  fileline: boolean;
  functionName: boolean;
  blackbox: boolean;
  /** By subsystem name (`QUORUM`, `TOTEM`...). */
  subsystems: Record<string, LogTargetConfig>;
}

export interface SystemConfig {
  /** `system.state_dir`, else env COROSYNC_STATE_DIR, else /var/lib/corosync. */
  stateDir: string;
  qbIpcType?: "native" | "shm" | "socket";
  schedRr?: boolean;
  priority?: "max" | "min" | number;
}

/** IPC access list: uids/gids as configured (names or numbers), or numeric when resolved. */
export interface UidGidConfig {
  uids: string[];
  gids: string[];
}

/** The whole validated configuration. */
export interface CorosyncConfig {
  file: string;
  clusterName?: string;
  configVersion: bigint;
  transport: Transport;
  ipVersion: "ipv4" | "ipv6" | "ipv4-6" | "ipv6-4";
  nodes: NodeConfig[];
  /**
   * `totem.nodeid`, if set: the local node id of a 1.x file without a nodelist; with a
   * nodelist (ours) it selects the local node's entry.
   */
  nodeId?: number;
  clearNodeHighBit: boolean;
  interfaces: InterfaceConfig[];
  rrpMode: RrpMode;
  linkMode: LinkMode;
  crypto: CryptoConfig;
  /** Same as `crypto.enabled`: the 1.x name. */
  secauth: boolean;
  quorum: QuorumConfig;
  logging: LoggingConfig;
  system: SystemConfig;
  uidgid: UidGidConfig;
  totem: TotemConfig;
}

/** Build the typed configuration from a validated flattening. */
export function buildConfigModel(flat: FlatConfig, env: Env): CorosyncConfig {
  const transport = effectiveTransport(flat) ?? "knet";
  const s = (key: string) => flatString(flat, key);
  const crypto = cryptoConfig(flat);
  const model: CorosyncConfig = {
    file: flat.file,
    configVersion: flatBigint(flat, "totem.config_version") ?? 0n,
    transport,
    ipVersion: (s("totem.ip_version") as CorosyncConfig["ipVersion"] | undefined) ?? (transport === "udp" ? "ipv4" : "ipv6-4"),
    nodes: nodes(flat, transport),
    clearNodeHighBit: flatYesNo(flat, "totem.clear_node_high_bit", false),
    interfaces: interfaces(flat, transport),
    rrpMode: (s("totem.rrp_mode") as RrpMode | undefined) ?? "none",
    linkMode: (s("totem.link_mode") as LinkMode | undefined) ?? "passive",
    crypto,
    secauth: crypto.enabled,
    quorum: quorumConfig(flat),
    logging: loggingConfig(flat),
    system: systemConfig(flat, env),
    uidgid: uidgidConfig(flat),
    totem: computeTotemConfig(totemInputFromFlat(flat, transport)).totem,
  };
  const clusterName = s("totem.cluster_name");
  if (clusterName !== undefined) model.clusterName = clusterName;
  const nodeId = flatNumber(flat, "totem.nodeid");
  if (nodeId !== undefined) model.nodeId = nodeId;
  return model;
}

function nodes(flat: FlatConfig, transport: Transport): NodeConfig[] {
  const clear = flatYesNo(flat, "totem.clear_node_high_bit", false);
  const raw = readNodelist(flat);
  if (raw.length === 0) return memberNodes(flat, clear);
  return raw.flatMap((n) => {
    const nodeId = effectiveNodeId(n, transport, clear);
    if (nodeId === undefined) return [];
    const ringAddrs: Array<string | undefined> = [];
    for (const [link, addr] of n.addrs) ringAddrs[link] = addr;
    const node: NodeConfig = { index: n.index, nodeId, nodeIdDerived: !n.nodeid, ringAddrs, quorumVotes: n.quorumVotes ?? 1 };
    if (n.name !== undefined) node.name = n.name;
    return [node];
  });
}

/** 1.x udpu: members of interface 0 (and 1 for the redundant ring), ids from IPv4. */
function memberNodes(flat: FlatConfig, clear: boolean): NodeConfig[] {
  const ring0 = interfaceMembers(flat, 0);
  const ring1 = interfaceMembers(flat, 1);
  return ring0.flatMap((addr, index) => {
    const nodeId = effectiveNodeId({ index, addrs: new Map([[0, addr]]) }, "udpu", clear);
    if (nodeId === undefined) return [];
    const ringAddrs = ring1[index] === undefined ? [addr] : [addr, ring1[index]];
    return [{ index, nodeId, nodeIdDerived: true, ringAddrs, quorumVotes: 1 }];
  });
}

function interfaces(flat: FlatConfig, transport: Transport): InterfaceConfig[] {
  const broadcast = configuredLinks(flat).some((l) => flatString(flat, `totem.interface.${l}.broadcast`) === "yes");
  return configuredLinks(flat).map((linkNumber) => {
    const base = `totem.interface.${linkNumber}`;
    const iface: InterfaceConfig = {
      linkNumber,
      mcastport: flatNumber(flat, `${base}.mcastport`) ?? DEFAULT_MCASTPORT + (broadcast ? 2 : 1) * linkNumber,
      ttl: flatNumber(flat, `${base}.ttl`) ?? 1,
      broadcast,
      members: interfaceMembers(flat, linkNumber),
      knetTransport: flatString(flat, `${base}.knet_transport`) === "sctp" ? "sctp" : "udp",
    };
    const bind = flatString(flat, `${base}.bindnetaddr`);
    if (bind !== undefined) iface.bindnetaddr = bind;
    const mcast = udpMcastAddr(flat, transport, linkNumber, broadcast);
    if (mcast !== undefined) iface.mcastaddr = mcast;
    return iface;
  });
}

/** The configured group; for udp also the broadcast address or the cluster_name default. */
export function udpMcastAddr(flat: FlatConfig, transport: Transport, link: number, broadcast: boolean): string | undefined {
  const configured = flatString(flat, `totem.interface.${link}.mcastaddr`);
  if (transport !== "udp") return configured;
  if (broadcast) return "255.255.255.255";
  if (configured !== undefined) return configured;
  const clusterName = flatString(flat, "totem.cluster_name");
  return clusterName === undefined ? undefined : defaultMcastAddr(clusterName, link, linkFamily(flat, link));
}

/** The family of a link's addresses (nodelist or bindnetaddr), IPv4 when unknown. */
function linkFamily(flat: FlatConfig, link: number): AddressFamily {
  for (const n of readNodelist(flat)) {
    const f = addressFamily(n.addrs.get(link) ?? "");
    if (f !== undefined) return f;
  }
  return addressFamily(flatString(flat, `totem.interface.${link}.bindnetaddr`) ?? "") ?? "ipv4";
}

function cryptoConfig(flat: FlatConfig): CryptoConfig {
  const { cipher, hash } = effectiveCrypto(flat);
  const crypto: CryptoConfig = {
    cipher,
    hash,
    enabled: cipher !== "none" || hash !== "none",
    keyfile: flatString(flat, "totem.keyfile") ?? DEFAULT_KEYFILE,
  };
  const key = flatString(flat, "totem.key");
  if (key !== undefined) crypto.key = key;
  return crypto;
}

function quorumConfig(flat: FlatConfig): QuorumConfig {
  const n = (key: string) => flatNumber(flat, `quorum.${key}`);
  const flag = (key: string) => (n(key) ?? 0) !== 0;
  const atbNode = flatString(flat, "quorum.auto_tie_breaker_node") ?? "lowest";
  const q: QuorumConfig = {
    twoNode: flag("two_node"),
    waitForAll: n("wait_for_all") !== undefined ? flag("wait_for_all") : flag("two_node"),
    lastManStanding: flag("last_man_standing"),
    lastManStandingWindowMs: n("last_man_standing_window") ?? 10000,
    autoTieBreaker: flag("auto_tie_breaker"),
    autoTieBreakerNode: atbNode === "lowest" || atbNode === "highest" ? atbNode : atbNode.split(/[ \t]+/).map(Number),
    allowDownscale: flag("allow_downscale"),
    expectedVotesTracking: flag("expected_votes_tracking") || flag("allow_downscale"),
  };
  if (flatString(flat, "quorum.provider") === "corosync_votequorum") q.provider = "corosync_votequorum";
  const optional = [
    ["expected_votes", "expectedVotes"],
    ["votes", "votes"],
    ["leaving_timeout", "leavingTimeoutMs"],
  ] as const;
  for (const [key, field] of optional) {
    const v = n(key);
    if (v !== undefined) q[field] = v;
  }
  return q;
}

/** yes/on → true, no/off → false, else undefined. */
function onOff(v: string | undefined): boolean | undefined {
  return v === "yes" || v === "on" ? true : v === "no" || v === "off" ? false : undefined;
}

/** The log targets of one scope (`logging`, `logging.logger_subsys.X`). */
function logTargets(flat: FlatConfig, scope: string): LogTargetConfig {
  const s = (key: string) => flatString(flat, `${scope}.${key}`);
  const t: LogTargetConfig = {};
  const set = <K extends keyof LogTargetConfig>(field: K, v: LogTargetConfig[K] | undefined) => {
    if (v !== undefined) t[field] = v;
  };
  set("toStderr", onOff(s("to_stderr")));
  set("toLogfile", onOff(s("to_logfile")) ?? onOff(s("to_file")));
  set("toSyslog", onOff(s("to_syslog")));
  set("logfile", s("logfile"));
  set("logfilePriority", s("logfile_priority") as LogPriority | undefined);
  set("syslogFacility", s("syslog_facility") as SyslogFacility | undefined);
  set("syslogPriority", (s("syslog_priority") ?? s("syslog_level")) as LogPriority | undefined);
  set("debug", s("debug") as DebugLevel | undefined);
  return t;
}

function loggingConfig(flat: FlatConfig): LoggingConfig {
  const top = logTargets(flat, "logging");
  const s = (key: string) => flatString(flat, `logging.${key}`);
  const logging: LoggingConfig = {
    toStderr: top.toStderr ?? true,
    toLogfile: top.toLogfile ?? false,
    toSyslog: top.toSyslog ?? true,
    logfilePriority: top.logfilePriority ?? "info",
    syslogFacility: top.syslogFacility ?? "daemon",
    syslogPriority: top.syslogPriority ?? "info",
    debug: top.debug ?? "off",
    timestamp: (s("timestamp") as LoggingConfig["timestamp"] | undefined) ?? "hires",
    fileline: s("fileline") === "on",
    functionName: s("function_name") === "on",
    blackbox: s("blackbox") !== "off",
    subsystems: {},
  };
  if (top.logfile !== undefined) logging.logfile = top.logfile;
  for (const scope of flat.sections.keys()) {
    const m = /^logging\.logger_subsys\.(.+)$/.exec(scope);
    if (m !== null) logging.subsystems[m[1]!] = logTargets(flat, scope);
  }
  return logging;
}

function systemConfig(flat: FlatConfig, env: Env): SystemConfig {
  const s = (key: string) => flatString(flat, `system.${key}`);
  const sys: SystemConfig = { stateDir: s("state_dir") ?? (env.COROSYNC_STATE_DIR || DEFAULT_STATE_DIR) };
  const ipc = s("qb_ipc_type");
  if (ipc === "native" || ipc === "shm" || ipc === "socket") sys.qbIpcType = ipc;
  const rr = onOff(s("sched_rr"));
  if (rr !== undefined) sys.schedRr = rr;
  const prio = s("priority");
  if (prio === "max" || prio === "min") sys.priority = prio;
  else if (prio !== undefined && /^[+-]?[0-9]+$/.test(prio)) sys.priority = Number(prio);
  return sys;
}

function uidgidConfig(flat: FlatConfig): UidGidConfig {
  const out: UidGidConfig = { uids: [], gids: [] };
  for (const key of flat.entries.keys()) {
    const m = /^uidgid\.(?:config\.)?(uid|gid)\.(.+)$/.exec(key);
    if (m !== null) (m[1] === "uid" ? out.uids : out.gids).push(m[2]!);
  }
  return out;
}

/**
 * Keys corosync writes back into cmap after reading the configuration: generated node ids
 * (udp/udpu, "to make cfgtool work") and, for udp, each link's multicast address and port.
 */
export function writeBackEntries(flat: FlatConfig, config: CorosyncConfig): CmapEntry[] {
  const out: CmapEntry[] = [];
  for (const n of config.nodes) {
    if (n.nodeIdDerived && flat.entries.has(`nodelist.node.${n.index}.ring0_addr`)) {
      out.push({ key: `nodelist.node.${n.index}.nodeid`, value: { type: CmapType.UINT32, value: n.nodeId } });
    }
  }
  if (config.transport !== "udp") return out;
  for (const i of config.interfaces) {
    const base = `totem.interface.${i.linkNumber}`;
    if (i.mcastaddr !== undefined && !flat.entries.has(`${base}.mcastaddr`)) {
      out.push({ key: `${base}.mcastaddr`, value: { type: CmapType.STRING, value: i.mcastaddr } });
    }
    if (!flat.entries.has(`${base}.mcastport`)) {
      out.push({ key: `${base}.mcastport`, value: { type: CmapType.UINT16, value: i.mcastport } });
    }
  }
  return out;
}
