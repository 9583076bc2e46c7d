/**
 * corosync-notifyd's link to the local executive: cmap (default and stats maps), quorum and
 * cfg connections through our client library, their change trackers fed into the pure
 * `EventDeriver`, and reconnection with backoff when the executive goes away or is not there
 * yet. corosync 3.1.7's tool exits when its connection breaks; ours keeps trying, reports the
 * loss once, and on reconnection reports what changed meanwhile (EventDeriver.baseline).
 *
 * Events are delivered in the order the daemon reported the changes: every tracker callback
 * is queued on one promise chain, because finishing a node event needs one more cmap read
 * (the node's address) and, unless `-n`, a reverse lookup.
 */
import { hostname } from "node:os";
import { CmapClient, type CmapChange, type CmapTracker, type CmapValue } from "../client/cmap.js";
import { CfgClient } from "../client/cfg.js";
import { Cpg } from "../client/cpg.js";
import { CorosyncError } from "../client/errors.js";
import { QuorumClient, TRACK } from "../client/quorum.js";
import { VotequorumClient } from "../client/votequorum.js";
import {
  addressFromMemberIp,
  connectionAppName,
  EventDeriver,
  parseInterfaceKey,
  parseIpcKey,
  parseMemberKey,
  type NotifyEvent,
  type NotifySnapshot,
} from "../core/notify/events.js";
import type { ClusterMetricsSnapshot, MemberMetric, RingMetric } from "../core/notify/metrics.js";

export type NotifydLogLevel = "error" | "warning" | "notice" | "info" | "debug";
export type NotifydLog = (level: NotifydLogLevel, text: string) => void;

export interface WatcherOptions {
  /** IPC socket-name prefix (default `$COROSYNC_IPC_PREFIX`). */
  prefix?: string;
  /** Host name of a node address (`-n` makes it the address itself). */
  resolveName: (ip: string) => Promise<string>;
  onEvent: (e: NotifyEvent) => void;
  log: NotifydLog;
  /** Also keep votequorum and cpg connections for `metrics()`. */
  metrics?: boolean;
  /** First and largest pause between connection attempts (default 250 ms and 5 s). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Give up a call to the executive after this long (default 10 s). */
  requestTimeoutMs?: number;
}

/** The connections of one session with the executive. */
interface Session {
  cmap: CmapClient;
  stats: CmapClient;
  quorum: QuorumClient;
  trackers: CmapTracker[];
  votequorum?: VotequorumClient;
  cpg?: Cpg;
  lost: Promise<string>;
}

const asString = (v: CmapValue | undefined): string | undefined => (v !== undefined && typeof v.value === "string" ? v.value : undefined);
const asNumber = (v: CmapValue | undefined): number | undefined => (v === undefined ? undefined : typeof v.value === "number" ? v.value : typeof v.value === "bigint" ? Number(v.value) : undefined);

export class ClusterWatcher {
  private readonly deriver: EventDeriver;
  private session: Session | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private chain: Promise<void> = Promise.resolve();
  private localNodeId = 0;
  private readonly localName = hostname();
  readonly eventsByKind: Record<string, number> = { node: 0, quorum: 0, connection: 0, link: 0 };

  constructor(private readonly opts: WatcherOptions) {
    this.deriver = new EventDeriver({ name: this.localName, nodeId: 0 });
  }

  get connected(): boolean {
    return this.session !== undefined;
  }

  /** Starts connecting (and reconnecting) in the background. */
  start(): void {
    if (this.running === undefined) this.running = this.loop();
  }

  /** Closes every connection and stops reconnecting. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    const s = this.session;
    this.session = undefined;
    if (s !== undefined) await closeSession(s);
    await this.running;
  }

  private async loop(): Promise<void> {
    const min = this.opts.backoffMinMs ?? 250;
    const max = this.opts.backoffMaxMs ?? 5000;
    let delay = min;
    let reportedDown = false;
    while (!this.stopped) {
      let s: Session;
      try {
        s = await this.connect();
      } catch (e) {
        if (!reportedDown) {
          this.opts.log("error", `cannot connect to corosync: ${(e as Error).message}; retrying`);
          reportedDown = true;
        }
        await this.pause(delay);
        delay = Math.min(max, delay * 2);
        continue;
      }
      if (this.stopped) {
        await closeSession(s);
        break;
      }
      this.session = s;
      delay = min;
      reportedDown = false;
      this.opts.log("notice", `connected to corosync (local node id ${this.localNodeId})`);
      const why = await s.lost;
      if (this.session === s) this.session = undefined;
      await closeSession(s);
      if (this.stopped) break;
      this.opts.log("error", `connection to corosync lost (${why}); reconnecting`);
      reportedDown = true;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  /** One session: connect everything, track, take the baseline, then follow. */
  private async connect(): Promise<Session> {
    const ipc = { ...(this.opts.prefix !== undefined ? { prefix: this.opts.prefix } : {}), connectTimeoutMs: 5000 };
    const requestTimeoutMs = this.opts.requestTimeoutMs ?? 10_000;
    const opened: Array<{ close(): Promise<void> }> = [];
    let release: (() => void) | undefined;
    try {
      const cfg = await CfgClient.connect({ ...ipc, requestTimeoutMs });
      opened.push(cfg);
      this.localNodeId = await cfg.localNodeId().catch(() => 0);
      this.deriver.setLocal({ name: this.localNodeId === 0 ? "localhost" : this.localName, nodeId: this.localNodeId });
      await cfg.close();
      opened.pop();

      const cmap = await CmapClient.connect({ ...ipc, requestTimeoutMs });
      opened.push(cmap);
      const stats = await CmapClient.connect({ ...ipc, requestTimeoutMs, map: "stats" });
      opened.push(stats);
      const quorum = await QuorumClient.connect({ ...ipc, requestTimeoutMs });
      opened.push(quorum);

      // Track first, then read the snapshot: a change in between is seen twice at worst,
      // and the deriver drops the repeat. Changes wait on the chain until the baseline.
      const baselineDone = new Promise<void>((r) => (release = r));
      this.chain = this.chain.then(() => baselineDone);
      const trackers: CmapTracker[] = [];
      const onChange = (handler: (c: CmapChange) => Promise<void>) => (c: CmapChange) => this.enqueue(() => handler(c));
      const members = await cmap.track("runtime.members.", { prefix: true, events: ["add", "modify"] });
      trackers.push(members);
      members.on("change", onChange((c) => this.memberChanged(cmap, c)));
      const rings = await cmap.track("runtime.totem.interface.", { prefix: true, events: ["add", "modify"] });
      trackers.push(rings);
      rings.on("change", onChange(async (c) => this.ringChanged(c)));
      const ipcs = await stats.track("stats.ipcs.", { prefix: true, events: ["add", "delete"] });
      trackers.push(ipcs);
      ipcs.on("change", onChange(async (c) => this.ipcChanged(c)));

      const snapshot = await this.readSnapshot(cmap, stats);
      for (const e of this.deriver.baseline(snapshot)) this.enqueue(() => this.deliver(e));
      release?.();

      const session: Session = { cmap, stats, quorum, trackers, lost: Promise.resolve("") };
      session.lost = new Promise<string>((resolve) => {
        for (const t of trackers) t.once("end", (err?: CorosyncError) => resolve(err?.message ?? "tracker ended"));
        void (async () => {
          try {
            for await (const ev of quorum.events()) {
              if (ev.type === "quorum") this.enqueue(async () => this.quorumChanged(ev.event.quorate));
            }
            resolve("quorum connection closed");
          } catch (e) {
            resolve((e as Error).message);
          }
        })();
      });
      await quorum.trackStart(TRACK.CHANGES);

      if (this.opts.metrics === true) {
        session.votequorum = await VotequorumClient.connect({ ...ipc, requestTimeoutMs }).catch(() => undefined);
        session.cpg = await Cpg.connect({ ...ipc }).catch(() => undefined);
      }
      return session;
    } catch (e) {
      release?.();
      await Promise.all(opened.map((c) => c.close().catch(() => {})));
      throw e;
    }
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((e: unknown) => this.opts.log("warning", `event processing failed: ${(e as Error).message}`));
  }

  private async deliver(e: NotifyEvent): Promise<void> {
    if (e.kind === "node") e = { ...e, name: await this.opts.resolveName(e.ip) };
    this.eventsByKind[e.kind] = (this.eventsByKind[e.kind] ?? 0) + 1;
    this.opts.onEvent(e);
  }

  private async memberChanged(cmap: CmapClient, c: CmapChange): Promise<void> {
    const k = parseMemberKey(c.key);
    if (k === undefined || k.field !== "status") return;
    const status = asString(c.newValue);
    if (status === undefined) return;
    const ipText = asString(await cmap.get(`runtime.members.${k.nodeId}.ip`).catch(() => undefined));
    const ip = ipText === undefined ? undefined : addressFromMemberIp(ipText);
    if (ip === undefined) return; // the C tool drops the event too
    const e = this.deriver.memberStatus(k.nodeId, status, ip);
    if (e !== undefined) await this.deliver(e);
  }

  private async ringChanged(c: CmapChange): Promise<void> {
    const k = parseInterfaceKey(c.key);
    const status = asString(c.newValue);
    if (k === undefined || k.field !== "status" || status === undefined) return;
    const e = this.deriver.ringStatus(k.ring, status);
    if (e !== undefined) await this.deliver(e);
  }

  private async ipcChanged(c: CmapChange): Promise<void> {
    const k = parseIpcKey(c.key);
    if (k === undefined || k.field !== "procname") return;
    const procname = asString(c.kind === "delete" ? c.oldValue : c.newValue) ?? "";
    const e = this.deriver.connection(connectionAppName(k.conn, k.pid, procname), c.kind !== "delete");
    if (e !== undefined) await this.deliver(e);
  }

  private async quorumChanged(quorate: boolean): Promise<void> {
    const e = this.deriver.quorum(quorate);
    if (e !== undefined) await this.deliver(e);
  }

  private async readSnapshot(cmap: CmapClient, stats: CmapClient): Promise<NotifySnapshot> {
    const values = new Map<string, CmapValue>();
    for await (const { key, value } of cmap.iterate("runtime.members.")) values.set(key, value);
    const memberStatus = new Map<number, { status: string; ip: string }>();
    for (const [key, value] of values) {
      const k = parseMemberKey(key);
      const status = asString(value);
      if (k === undefined || k.field !== "status" || status === undefined) continue;
      const ip = addressFromMemberIp(asString(values.get(`runtime.members.${k.nodeId}.ip`)) ?? "");
      if (ip !== undefined) memberStatus.set(k.nodeId, { status, ip });
    }
    const ringStatus = new Map<number, string>();
    for await (const { key, value } of cmap.iterate("runtime.totem.interface.")) {
      const k = parseInterfaceKey(key);
      const status = asString(value);
      if (k !== undefined && k.field === "status" && status !== undefined) ringStatus.set(k.ring, status);
    }
    const connections = new Set<string>();
    for await (const { key, value } of stats.iterate("stats.ipcs.service")) {
      const k = parseIpcKey(key);
      if (k !== undefined && k.field === "procname") connections.add(connectionAppName(k.conn, k.pid, asString(value) ?? ""));
    }
    return { memberStatus, connections, ringStatus };
  }

  /**
   * The executive's state for `/metrics`; `up: false` with nothing else while disconnected.
   * Parts that fail (no votequorum, cpg unreachable) are left out.
   */
  async metrics(notifiersUp: Readonly<Record<string, boolean>>): Promise<ClusterMetricsSnapshot> {
    const s = this.session;
    const base: ClusterMetricsSnapshot = { up: false, members: [], rings: [], srp: {}, droppedByReason: {}, eventsByKind: { ...this.eventsByKind }, notifiersUp };
    if (s === undefined) return base;
    try {
      const cmapValues = new Map<string, CmapValue>();
      for await (const { key, value } of s.cmap.iterate("runtime.")) {
        if (key.startsWith("runtime.members.") || key.startsWith("runtime.totem.") || key === "runtime.votequorum.this_node_id") cmapValues.set(key, value);
      }
      const members: MemberMetric[] = [];
      const rings: RingMetric[] = [];
      for (const [key, value] of cmapValues) {
        const m = parseMemberKey(key);
        if (m !== undefined && m.field === "status") {
          members.push({ nodeId: m.nodeId, status: asString(value) ?? "", address: addressFromMemberIp(asString(cmapValues.get(`runtime.members.${m.nodeId}.ip`)) ?? "") ?? "" });
        }
        const r = parseInterfaceKey(key);
        if (r !== undefined && r.field === "status") {
          rings.push({ ring: r.ring, faulty: (asString(value) ?? "").toUpperCase().startsWith("FAULTY"), address: asString(cmapValues.get(`runtime.totem.interface.${r.ring}.address`)) ?? "" });
        }
      }
      const ringMembersText = asString(cmapValues.get("runtime.totem.pg.mrp.srp.members"));
      const srp: Record<string, number> = {};
      const droppedByReason: Record<string, number> = {};
      let ipc: ClusterMetricsSnapshot["ipc"];
      const ipcGlobal: Record<string, number> = {};
      for await (const { key, value } of s.stats.iterate("stats.srp.")) {
        const n = asNumber(value);
        if (n === undefined) continue;
        if (key.startsWith("stats.srp.rx_dropped.")) droppedByReason[key.slice("stats.srp.rx_dropped.".length)] = n;
        else srp[key.slice("stats.srp.".length)] = n;
      }
      for await (const { key, value } of s.stats.iterate("stats.ipcs.global.")) {
        const n = asNumber(value);
        if (n !== undefined) ipcGlobal[key.slice("stats.ipcs.global.".length)] = n;
      }
      if (ipcGlobal.active !== undefined) ipc = { active: ipcGlobal.active, closed: ipcGlobal.closed ?? 0 };
      const out: ClusterMetricsSnapshot = { ...base, up: true, localNodeId: this.localNodeId, members, rings, srp, droppedByReason, quorate: this.deriver.isQuorate };
      if (ringMembersText !== undefined) out.ringMembers = ringMembersText.trim() === "" ? [] : ringMembersText.trim().split(/\s+/).map(Number);
      if (ipc !== undefined) out.ipc = ipc;
      out.quorate = await s.quorum.getQuorate().catch(() => this.deriver.isQuorate);
      if (s.votequorum !== undefined && !s.votequorum.closed) {
        const info = await s.votequorum.getInfo(0).catch(() => undefined);
        if (info !== undefined) out.votes = { expected: info.expectedVotes, total: info.totalVotes, quorum: info.quorum, node: info.votes };
      }
      if (s.cpg !== undefined && !s.cpg.isClosed) {
        const groups = await s.cpg.groups().catch(() => undefined);
        if (groups !== undefined) out.cpgGroups = groups.map((g) => ({ group: g.group, members: g.members.length }));
      }
      return out;
    } catch {
      return base;
    }
  }
}

async function closeSession(s: Session): Promise<void> {
  await Promise.all([
    ...s.trackers.map((t) => t.close().catch(() => {})),
    s.cmap.close().catch(() => {}),
    s.stats.close().catch(() => {}),
    s.quorum.close().catch(() => {}),
    s.votequorum?.close().catch(() => {}),
    s.cpg?.close().catch(() => {}),
  ]);
}
