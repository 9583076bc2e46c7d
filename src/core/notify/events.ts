/**
 * corosync-notifyd's event derivation, pure: cmap key changes, quorum notifications and ring
 * status values in, the notifications corosync 3.1.7's `tools/corosync-notifyd.c` sends out.
 *
 * Sources of each event (as the C tool; our daemon publishes the same keys):
 * - node joined/left: a change of `runtime.members.<nodeid>.status` (default map), with the
 *   address taken from `runtime.members.<nodeid>.ip` (`"r(0) ip(10.0.0.1) "`; the C tool
 *   takes the text inside the last `(...)`);
 * - application connected/disconnected: ADD/DELETE of
 *   `stats.ipcs.service<S>.<pid>.<conn>.procname` (stats map); the application is named
 *   `<conn>.<pid>.<procname>`;
 * - quorum gained/lost: quorum service notifications, reported only when the quorate flag
 *   changes (the C tool starts from "not quorate", so a quorate cluster is reported at start);
 * - link faulty/restored: corosync 3 watches `stats.knet.node<N>.link<L>.connected`; our
 *   udp/udpu transports have rings instead, published as
 *   `runtime.totem.interface.<ring>.status` (`FAULTY` / `active`), so a ring is reported as a
 *   link of the local node with the C tool's states `disconnected` / `operational`.
 *
 * `EventDeriver` remembers what it last reported, so a value written again unchanged is not a
 * new event, and after a reconnection (`baseline`) the differences to the new snapshot are
 * reported once instead of being lost.
 */

/** A node joined or left the membership. */
export interface NodeEvent {
  kind: "node";
  /** Host name of the node (reverse lookup of `ip`, or `ip` itself). */
  name: string;
  nodeId: number;
  ip: string;
  /** `joined` or `left` (whatever the daemon wrote to the status key). */
  state: string;
}

/** The local node gained or lost quorum. */
export interface QuorumEvent {
  kind: "quorum";
  name: string;
  nodeId: number;
  state: "quorate" | "not quorate";
}

/** A client of the local executive connected or disconnected. */
export interface ConnectionEvent {
  kind: "connection";
  name: string;
  nodeId: number;
  /** `<conn>.<pid>.<procname>`, as the C tool names it. */
  app: string;
  state: "connected" | "disconnected";
}

/** A ring (link) of the local node became faulty or operational again. */
export interface LinkEvent {
  kind: "link";
  name: string;
  localNodeId: number;
  /** The node the link leads to; for our rings the local node itself. */
  nodeId: number;
  iface: number;
  state: "operational" | "disconnected";
}

export type NotifyEvent = NodeEvent | QuorumEvent | ConnectionEvent | LinkEvent;
export type NotifyEventKind = NotifyEvent["kind"];

/** Name and node id of the local node, attached to quorum, connection and link events. */
export interface LocalNode {
  name: string;
  nodeId: number;
}

const MEMBER_KEY = /^runtime\.members\.(\d{1,10})\.([^.]+(?:\..+)?)$/;
const IPC_KEY = /^stats\.ipcs\.service(-?\d{1,10})\.(-?\d{1,10})\.([^.]+)\.(.+)$/;
const INTERFACE_KEY = /^runtime\.totem\.interface\.(\d{1,3})\.(address|status)$/;

/** `runtime.members.<nodeid>.<field>` split, or undefined for any other key. */
export function parseMemberKey(key: string): { nodeId: number; field: string } | undefined {
  const m = MEMBER_KEY.exec(key);
  if (m === null) return undefined;
  const nodeId = Number(m[1]);
  if (nodeId > 0xffffffff) return undefined;
  return { nodeId, field: m[2]! };
}

/** `stats.ipcs.service<S>.<pid>.<conn>.<field>` split, or undefined. */
export function parseIpcKey(key: string): { service: number; pid: number; conn: string; field: string } | undefined {
  const m = IPC_KEY.exec(key);
  if (m === null) return undefined;
  return { service: Number(m[1]), pid: Number(m[2]), conn: m[3]!, field: m[4]! };
}

/** `runtime.totem.interface.<ring>.<address|status>` split, or undefined. */
export function parseInterfaceKey(key: string): { ring: number; field: "address" | "status" } | undefined {
  const m = INTERFACE_KEY.exec(key);
  if (m === null) return undefined;
  return { ring: Number(m[1]), field: m[2] as "address" | "status" };
}

/**
 * The address inside the last `(...)` of a `runtime.members.<id>.ip` value
 * (`"r(0) ip(10.0.0.1) r(1) ip(10.1.0.1) "` gives `10.1.0.1`, as the C tool's `strrchr`);
 * undefined when there is none.
 */
export function addressFromMemberIp(value: string): string | undefined {
  const open = value.lastIndexOf("(");
  if (open < 0) return undefined;
  const close = value.indexOf(")", open + 1);
  if (close < 0) return undefined;
  const ip = value.slice(open + 1, close).trim();
  return ip === "" ? undefined : ip;
}

/** The application name of a connection: `<conn>.<pid>.<procname>`. */
export function connectionAppName(conn: string, pid: number, procname: string): string {
  return `${conn}.${pid}.${procname}`;
}

/** A ring status value as a link state: `FAULTY` is disconnected, anything else operational. */
export function linkStateOfRingStatus(status: string): LinkEvent["state"] {
  return status.toUpperCase().startsWith("FAULTY") ? "disconnected" : "operational";
}

/**
 * The line the C tool logs for an event (its syslog texts, `%u` node ids).
 */
export function formatEventLine(e: NotifyEvent): string {
  switch (e.kind) {
    case "node":
      return `${e.name}[${e.nodeId}] ip:${e.ip} ${e.state}`;
    case "quorum":
      return e.state === "quorate" ? `${e.name}[${e.nodeId}] is now quorate` : `${e.name}[${e.nodeId}] has lost quorum`;
    case "connection":
      return e.state === "connected" ? `${e.name}[${e.nodeId}] ${e.app} is now connected to corosync` : `${e.name}[${e.nodeId}] ${e.app} is now disconnected from corosync`;
    case "link":
      return `${e.name}[${e.localNodeId}] link ${e.iface} to node ${e.nodeId} is now ${e.state}`;
  }
}

/** What the daemon showed right after a (re)connection. */
export interface NotifySnapshot {
  /** `runtime.members.<id>.status` values. */
  memberStatus: ReadonlyMap<number, { status: string; ip: string }>;
  /** Live connections by app name (`<conn>.<pid>.<procname>`). */
  connections: ReadonlySet<string>;
  /** `runtime.totem.interface.<ring>.status` values. */
  ringStatus: ReadonlyMap<number, string>;
}

/** The state behind the events; see the file comment. */
export class EventDeriver {
  /** Last reported status (and address) of each member. */
  private readonly members = new Map<number, { status: string; ip: string }>();
  private readonly connections = new Set<string>();
  private readonly rings = new Map<number, LinkEvent["state"]>();
  /** The C tool's `_cs_is_quorate`, starting at 0. */
  private quorate = false;
  private baselined = false;

  constructor(
    private local: LocalNode,
    /** Host name of a node address (reverse lookup, or the address itself). */
    private readonly nameOf: (ip: string) => string = (ip) => ip,
  ) {}

  /** The local node's name and id (known once cfg answered). */
  setLocal(local: LocalNode): void {
    this.local = local;
  }

  get isQuorate(): boolean {
    return this.quorate;
  }

  /**
   * Takes the state seen right after connecting. The first time it is remembered silently
   * (the C tool reports only changes); after a reconnection every difference to what was last
   * reported becomes an event, so a node that left while the daemon was unreachable is
   * still reported. A node last reported as joined that the new snapshot does not list at
   * all (the executive itself restarted and has not seen it since) is reported as left.
   */
  baseline(s: NotifySnapshot): NotifyEvent[] {
    const out: NotifyEvent[] = [];
    const report = this.baselined;
    for (const [nodeId, { status, ip }] of s.memberStatus) {
      const e = this.memberStatus(nodeId, status, ip);
      if (report && e !== undefined) out.push(e);
    }
    for (const [nodeId, { status, ip }] of this.members) {
      if (s.memberStatus.has(nodeId) || status === "left") continue;
      const e = this.memberStatus(nodeId, "left", ip);
      if (report && e !== undefined) out.push(e);
    }
    for (const app of this.connections) if (!s.connections.has(app)) {
      const e = this.connection(app, false);
      if (report && e !== undefined) out.push(e);
    }
    for (const app of s.connections) {
      const e = this.connection(app, true);
      if (report && e !== undefined) out.push(e);
    }
    for (const [ring, status] of s.ringStatus) {
      const e = this.ringStatus(ring, status);
      if (report && e !== undefined) out.push(e);
    }
    this.baselined = true;
    return out;
  }

  /** A member's status key changed (ADD or MODIFY); undefined when nothing changed. */
  memberStatus(nodeId: number, status: string, ip: string): NodeEvent | undefined {
    if (this.members.get(nodeId)?.status === status) return undefined;
    this.members.set(nodeId, { status, ip });
    return { kind: "node", name: this.nameOf(ip), nodeId, ip, state: status };
  }

  /** A connection appeared (`up`) or went away; undefined when already known so. */
  connection(app: string, up: boolean): ConnectionEvent | undefined {
    if (this.connections.has(app) === up) return undefined;
    if (up) this.connections.add(app);
    else this.connections.delete(app);
    return { kind: "connection", name: this.local.name, nodeId: this.local.nodeId, app, state: up ? "connected" : "disconnected" };
  }

  /** A quorum notification; an event only when the quorate flag changed. */
  quorum(quorate: boolean): QuorumEvent | undefined {
    if (quorate === this.quorate) return undefined;
    this.quorate = quorate;
    return { kind: "quorum", name: this.local.name, nodeId: this.local.nodeId, state: quorate ? "quorate" : "not quorate" };
  }

  /**
   * A ring's status value. The first value seen for a ring is an event only when faulty (a
   * ring that starts out working is not news).
   */
  ringStatus(ring: number, status: string): LinkEvent | undefined {
    const state = linkStateOfRingStatus(status);
    const before = this.rings.get(ring);
    this.rings.set(ring, state);
    if (before === state || (before === undefined && state === "operational")) return undefined;
    return { kind: "link", name: this.local.name, localNodeId: this.local.nodeId, nodeId: this.local.nodeId, iface: ring, state };
  }
}
