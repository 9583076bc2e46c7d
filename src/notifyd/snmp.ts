/**
 * `-s` / `-m MANAGER`: SNMP v2c traps with the COROSYNC-MIB numbers (core/notify/mib.ts) sent
 * to the manager over UDP; and `--agentx [HOST:]PORT`: an AgentX subagent that registers
 * our read-only `corosyncStatus` objects with an snmpd master (so `snmpget` through snmpd
 * answers) and sends the same notifications through the master.
 *
 * Both ride on net-snmp. Traps are fire-and-forget datagrams: a manager that is away loses
 * them (as with the C tool); a send error is logged (at most once per 10 s) and the session
 * is made anew. The subagent's TCP connection to the master is watched: when it closes, the
 * notifier logs it, reconnects with backoff, opens a new session and registers again.
 */
import snmp from "net-snmp";
import type { Session, Subagent, Varbind } from "net-snmp";
import { notificationFor, STATUS_OID, type SnmpNotification, type SnmpValueType } from "../core/notify/mib.js";
import type { NotifyEvent } from "../core/notify/events.js";
import type { Notifier } from "./notifier.js";
import type { NotifydLog } from "./watcher.js";

const TYPE: Readonly<Record<SnmpValueType, number>> = {
  OctetString: snmp.ObjectType.OctetString,
  Gauge32: snmp.ObjectType.Gauge32,
  Integer: snmp.ObjectType.Integer,
};

function varbinds(n: SnmpNotification): Varbind[] {
  return n.varbinds.map((v) => ({ oid: v.oid, type: TYPE[v.type], value: v.value }));
}

/** sysUpTime.0 in hundredths of a second since notifyd started. */
function upTime(): number {
  return Math.floor(process.uptime() * 100);
}

export interface SnmpTrapOptions {
  host: string;
  port: number;
  community: string;
  log: NotifydLog;
}

export class SnmpTrapNotifier implements Notifier {
  readonly name = "snmp";
  private session: Session | undefined;
  private lastErrorLogMs = Number.NEGATIVE_INFINITY;
  private ok = true;
  sent = 0;
  failed = 0;

  constructor(private readonly opts: SnmpTrapOptions) {}

  get up(): boolean {
    return this.ok;
  }

  private open(): Session {
    if (this.session !== undefined) return this.session;
    const session = snmp.createSession(this.opts.host, this.opts.community, { version: snmp.Version2c, trapPort: this.opts.port, transport: this.opts.host.includes(":") ? "udp6" : "udp4" });
    // net-snmp emits socket errors with the error itself as the event name; listen generally.
    session.on("error", (e: Error) => this.failedSend(e));
    session.on("close", () => {
      if (this.session === session) this.session = undefined;
    });
    this.session = session;
    return session;
  }

  notify(e: NotifyEvent): void {
    const n = notificationFor(e);
    try {
      this.open().trap(n.trapOid, varbinds(n), { upTime: upTime() }, (err) => {
        if (err !== null && err !== undefined) this.failedSend(err);
        else {
          this.sent++;
          this.ok = true;
        }
      });
    } catch (err) {
      this.failedSend(err as Error);
    }
  }

  private failedSend(err: Error): void {
    this.failed++;
    this.ok = false;
    const now = Date.now();
    if (now - this.lastErrorLogMs >= 10_000) {
      this.lastErrorLogMs = now;
      this.opts.log("error", `Could not send SNMP trap to ${this.opts.host}:${this.opts.port}: ${err.message}`);
    }
    const s = this.session;
    this.session = undefined;
    try {
      s?.close();
    } catch {
      // already closed
    }
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    try {
      s?.close();
    } catch {
      // already closed
    }
  }
}

/** AgentX header: 20 bytes, payload length at offset 16 in the byte order flag 0x10 says. */
const AGENTX_HEADER = 20;
const AGENTX_PAYLOAD_MAX = 1 << 20;

/**
 * net-snmp's subagent decodes each socket read as exactly one PDU, so responses that TCP
 * delivers together (several registrations answered at once) are lost and a PDU split over
 * two reads fails to decode. This replaces its reader with one that frames the stream by the
 * header's payload length and hands over whole PDUs one by one; a malformed or oversized
 * PDU ends the session (`fail`).
 */
export function reframeAgentxStream(agent: Subagent, fail: (why: string) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  agent.socket.removeAllListeners("data");
  agent.socket.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= AGENTX_HEADER) {
      const bigEndian = (pending[2]! & 0x10) !== 0;
      const length = bigEndian ? pending.readUInt32BE(16) : pending.readUInt32LE(16);
      if (length > AGENTX_PAYLOAD_MAX || length % 4 !== 0) {
        fail(`malformed AgentX PDU (payload length ${length})`);
        return;
      }
      if (pending.length < AGENTX_HEADER + length) return;
      const pdu = pending.subarray(0, AGENTX_HEADER + length);
      pending = pending.subarray(AGENTX_HEADER + length);
      try {
        agent.onMsg(pdu);
      } catch (e) {
        fail(`undecodable AgentX PDU: ${(e as Error).message}`);
        return;
      }
    }
  });
}

/** What the subagent serves; refreshed by notifyd (see `AgentxNotifier.update`). */
export interface AgentxStatus {
  localNodeId: number;
  localNodeName: string;
  quorate: boolean | undefined;
  memberCount: number | undefined;
  expectedVotes: number | undefined;
  totalVotes: number | undefined;
  quorum: number | undefined;
  nodes: Array<{ nodeId: number; name: string; address: string; status: string }>;
}

const SCALARS: ReadonlyArray<{ name: string; oid: string; type: number }> = [
  { name: "corosyncLocalNodeId", oid: STATUS_OID.localNodeId, type: snmp.ObjectType.Gauge32 },
  { name: "corosyncLocalNodeName", oid: STATUS_OID.localNodeName, type: snmp.ObjectType.OctetString },
  { name: "corosyncQuorumState", oid: STATUS_OID.quorumStatus, type: snmp.ObjectType.OctetString },
  { name: "corosyncMemberCount", oid: STATUS_OID.memberCount, type: snmp.ObjectType.Gauge32 },
  { name: "corosyncExpectedVotes", oid: STATUS_OID.expectedVotes, type: snmp.ObjectType.Gauge32 },
  { name: "corosyncTotalVotes", oid: STATUS_OID.totalVotes, type: snmp.ObjectType.Gauge32 },
  { name: "corosyncQuorumVotes", oid: STATUS_OID.quorum, type: snmp.ObjectType.Gauge32 },
];
const NODE_TABLE = "corosyncNodeEntry";

export interface AgentxOptions {
  host: string;
  port: number;
  log: NotifydLog;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Give up opening a session (open + registrations) after this long. */
  openTimeoutMs?: number;
}

export class AgentxNotifier implements Notifier {
  readonly name = "agentx";
  private agent: Subagent | undefined;
  private ready = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private delay: number;
  private reportedDown = false;
  private everUp = false;
  private status: AgentxStatus | undefined;
  private rows = new Map<number, string>();

  constructor(private readonly opts: AgentxOptions) {
    this.delay = opts.backoffMinMs ?? 250;
    this.connect();
  }

  get up(): boolean {
    return this.ready;
  }

  notify(e: NotifyEvent): void {
    if (!this.ready || this.agent === undefined) return;
    const n = notificationFor(e);
    try {
      this.agent.notify(n.trapOid, varbinds(n), (err) => {
        if (err !== null && err !== undefined) this.opts.log("warning", `AgentX: notification refused by the master: ${err.message}`);
      });
    } catch (err) {
      this.opts.log("warning", `AgentX: cannot send a notification: ${(err as Error).message}`);
    }
  }

  /** New values for the served objects (kept and applied again after a reconnection). */
  update(status: AgentxStatus): void {
    this.status = status;
    if (this.ready && this.agent !== undefined) this.apply(this.agent, status);
  }

  private apply(agent: Subagent, s: AgentxStatus): void {
    const mib = agent.getMib();
    const set = (name: string, v: number | string | undefined): void => {
      if (v !== undefined) mib.setScalarValue(name, v);
    };
    set("corosyncLocalNodeId", s.localNodeId >>> 0);
    set("corosyncLocalNodeName", s.localNodeName);
    set("corosyncQuorumState", s.quorate === undefined ? undefined : s.quorate ? "quorate" : "not quorate");
    set("corosyncMemberCount", s.memberCount);
    set("corosyncExpectedVotes", s.expectedVotes);
    set("corosyncTotalVotes", s.totalVotes);
    set("corosyncQuorumVotes", s.quorum);
    const want = new Map(s.nodes.map((n) => [n.nodeId >>> 0, JSON.stringify([n.name, n.address, n.status])]));
    for (const [id, row] of this.rows) {
      if (want.get(id) !== row) {
        mib.deleteTableRow(NODE_TABLE, [id]);
        this.rows.delete(id);
      }
    }
    for (const n of s.nodes) {
      const id = n.nodeId >>> 0;
      if (this.rows.has(id)) continue;
      mib.addTableRow(NODE_TABLE, [id, n.name, n.address, n.status]);
      this.rows.set(id, want.get(id)!);
    }
  }

  private connect(): void {
    if (this.closed) return;
    let agent: Subagent;
    try {
      agent = snmp.createSubagent({ master: this.opts.host, masterPort: this.opts.port, description: "corosync-notifyd" });
    } catch (e) {
      this.lost((e as Error).message);
      return;
    }
    this.agent = agent;
    this.rows = new Map();
    let failed = false;
    reframeAgentxStream(agent, (why) => fail(why));
    const fail = (why: string): void => {
      if (failed || this.agent !== agent) return;
      failed = true;
      clearTimeout(deadline);
      this.ready = false;
      this.agent = undefined;
      try {
        agent.socket.destroy();
      } catch {
        // gone already
      }
      this.lost(why);
    };
    const deadline = setTimeout(() => fail("the master did not answer"), this.opts.openTimeoutMs ?? 5000);
    agent.on("error", (e: Error) => fail(e.message));
    agent.on("close", () => fail("the master closed the connection"));
    agent.open((err) => {
      if (err !== null && err !== undefined) return fail(`open refused: ${err.message}`);
      let pending = SCALARS.length + 1;
      const registered = (e: Error | null): void => {
        if (e !== null && e !== undefined) return fail(`registration refused: ${e.message}`);
        if (--pending > 0 || failed) return;
        clearTimeout(deadline);
        this.ready = true;
        this.delay = this.opts.backoffMinMs ?? 250;
        this.opts.log("notice", `AgentX: registered with the master at ${this.opts.host}:${this.opts.port}`);
        this.everUp = true;
        this.reportedDown = false;
        if (this.status !== undefined) this.apply(agent, this.status);
      };
      for (const s of SCALARS) agent.registerProvider({ name: s.name, type: snmp.MibProviderType.Scalar, oid: s.oid, scalarType: s.type, maxAccess: snmp.MaxAccess["read-only"]! }, registered);
      agent.registerProvider(
        {
          name: NODE_TABLE,
          type: snmp.MibProviderType.Table,
          oid: STATUS_OID.nodeEntry,
          maxAccess: snmp.MaxAccess["not-accessible"]!,
          tableColumns: [
            { number: 1, name: "corosyncNodeId", type: snmp.ObjectType.Gauge32, maxAccess: snmp.MaxAccess["read-only"]! },
            { number: 2, name: "corosyncNodeName", type: snmp.ObjectType.OctetString, maxAccess: snmp.MaxAccess["read-only"]! },
            { number: 3, name: "corosyncNodeAddress", type: snmp.ObjectType.OctetString, maxAccess: snmp.MaxAccess["read-only"]! },
            { number: 4, name: "corosyncNodeStatus", type: snmp.ObjectType.OctetString, maxAccess: snmp.MaxAccess["read-only"]! },
          ],
          tableIndex: [{ columnName: "corosyncNodeId" }],
        },
        registered,
      );
    });
  }

  private lost(why: string): void {
    this.ready = false;
    if (this.closed) return;
    if (!this.reportedDown) this.opts.log("error", `AgentX: connection to the master ${this.opts.host}:${this.opts.port} lost (${why}); reconnecting`);
    this.reportedDown = true;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), this.delay);
    this.delay = Math.min(this.opts.backoffMaxMs ?? 5000, this.delay * 2);
  }

  /** Whether it was ever registered (for diagnostics). */
  get wasUp(): boolean {
    return this.everUp;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const agent = this.agent;
    this.agent = undefined;
    this.ready = false;
    if (agent === undefined) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      try {
        agent.close(() => {
          clearTimeout(t);
          resolve();
        });
      } catch {
        clearTimeout(t);
        resolve();
      }
    });
    try {
      agent.socket.destroy();
    } catch {
      // gone already
    }
  }
}
