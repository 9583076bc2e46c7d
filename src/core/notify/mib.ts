/**
 * The COROSYNC-MIB numbers (enterprise 1.3.6.1.4.1.35488, corosync's private enterprise
 * number) and the notifications corosync-notifyd sends for each event, pure.
 *
 * Notifications and their objects are corosync 3.1.7's (`conf/COROSYNC-MIB.txt`,
 * `tools/corosync-notifyd.c`): `corosyncNotices` (.0) 1 node, 2 quorum, 3 application,
 * 4 link; `corosyncObjects` (.1) 1 node name, 2 node id, 3 node status, 4 node address,
 * 5 local node id, 21 quorum status, 40/41 application name/status, 60/61 link number and
 * status. Varbinds are in the C tool's order. The C tool sends no application trap (its SNMP
 * notifier has no connection callback); we send `corosyncNoticesAppStatus` as the MIB defines
 * it.
 *
 * `corosyncStatus` (.2) is ours: read-only objects the AgentX subagent serves (the
 * notification objects are `accessible-for-notify` and cannot be read). Our MIB file
 * (`conf/COROSYNC-MIB.txt`) defines both.
 */
import type { NotifyEvent } from "./events.js";

export const COROSYNC_ENTERPRISE_OID = "1.3.6.1.4.1.35488";
const NOTICES = `${COROSYNC_ENTERPRISE_OID}.0`;
const OBJECTS = `${COROSYNC_ENTERPRISE_OID}.1`;
const STATUS = `${COROSYNC_ENTERPRISE_OID}.2`;

/** Notification OIDs (`snmpTrapOID.0` values). */
export const TRAP_OID = {
  node: `${NOTICES}.1`,
  quorum: `${NOTICES}.2`,
  connection: `${NOTICES}.3`,
  link: `${NOTICES}.4`,
} as const;

/** Notification object OIDs (no `.0` instance: they appear in traps only). */
export const OBJECT_OID = {
  nodeName: `${OBJECTS}.1`,
  nodeId: `${OBJECTS}.2`,
  nodeStatus: `${OBJECTS}.3`,
  nodeAddress: `${OBJECTS}.4`,
  localNodeId: `${OBJECTS}.5`,
  ringSeq: `${OBJECTS}.20`,
  quorumStatus: `${OBJECTS}.21`,
  appName: `${OBJECTS}.40`,
  appStatus: `${OBJECTS}.41`,
  linkIfaceNo: `${OBJECTS}.60`,
  linkStatus: `${OBJECTS}.61`,
} as const;

/** Our readable status scalars (instance `.0`) and the node table, served over AgentX. */
export const STATUS_OID = {
  root: STATUS,
  localNodeId: `${STATUS}.1`,
  localNodeName: `${STATUS}.2`,
  quorumStatus: `${STATUS}.3`,
  memberCount: `${STATUS}.4`,
  expectedVotes: `${STATUS}.5`,
  totalVotes: `${STATUS}.6`,
  quorum: `${STATUS}.7`,
  /** `corosyncNodeEntry`: columns 1 id (index), 2 name, 3 address, 4 status. */
  nodeEntry: `${STATUS}.10.1`,
} as const;

/** SMI types used here (the I/O layer maps them to its library's constants). */
export type SnmpValueType = "OctetString" | "Gauge32" | "Integer";

export interface SnmpVarbind {
  oid: string;
  type: SnmpValueType;
  value: string | number;
}

export interface SnmpNotification {
  trapOid: string;
  varbinds: SnmpVarbind[];
}

const str = (oid: string, value: string): SnmpVarbind => ({ oid, type: "OctetString", value });
const u32 = (oid: string, value: number): SnmpVarbind => ({ oid, type: "Gauge32", value: value >>> 0 });

/** The notification for an event, varbinds in the C tool's order. */
export function notificationFor(e: NotifyEvent): SnmpNotification {
  switch (e.kind) {
    case "node":
      return { trapOid: TRAP_OID.node, varbinds: [str(OBJECT_OID.nodeName, e.name), u32(OBJECT_OID.nodeId, e.nodeId), str(OBJECT_OID.nodeAddress, e.ip), str(OBJECT_OID.nodeStatus, e.state)] };
    case "quorum":
      return { trapOid: TRAP_OID.quorum, varbinds: [str(OBJECT_OID.nodeName, e.name), u32(OBJECT_OID.nodeId, e.nodeId), str(OBJECT_OID.quorumStatus, e.state)] };
    case "connection":
      return { trapOid: TRAP_OID.connection, varbinds: [str(OBJECT_OID.nodeName, e.name), u32(OBJECT_OID.nodeId, e.nodeId), str(OBJECT_OID.appName, e.app), str(OBJECT_OID.appStatus, e.state)] };
    case "link":
      return {
        trapOid: TRAP_OID.link,
        varbinds: [
          str(OBJECT_OID.nodeName, e.name),
          u32(OBJECT_OID.localNodeId, e.localNodeId),
          u32(OBJECT_OID.nodeId, e.nodeId),
          { oid: OBJECT_OID.linkIfaceNo, type: "Integer", value: e.iface | 0 },
          str(OBJECT_OID.linkStatus, e.state),
        ],
      };
  }
}

/**
 * Parses the `-m` manager: `HOST`, `HOST:PORT`, `[V6ADDR]:PORT`, a bare IPv6 address, each
 * optionally prefixed `udp:` (net-snmp's transport syntax); the port defaults to 162.
 * Returns an error text for anything else.
 */
export function parseSnmpManager(text: string): { host: string; port: number } | { error: string } {
  let t = text.trim();
  if (t.toLowerCase().startsWith("udp:")) t = t.slice(4);
  else if (t.toLowerCase().startsWith("udp6:")) t = t.slice(5);
  if (t === "") return { error: `invalid SNMP manager '${text}': empty host` };
  let host = t;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(t);
  if (bracket !== null) {
    host = bracket[1]!;
    portText = bracket[2];
  } else if ((t.match(/:/g) ?? []).length === 1) {
    [host, portText] = t.split(":") as [string, string];
  }
  if (host === "" || /[\s/]/.test(host)) return { error: `invalid SNMP manager '${text}': bad host` };
  if (portText === undefined) return { host, port: 162 };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return { error: `invalid SNMP manager '${text}': port must be 1..65535` };
  return { host, port: Number(portText) };
}
