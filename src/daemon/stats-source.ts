/**
 * Where the daemon's stats map (`corosync-cmapctl -m stats`, `src/core/cmap/stats-map.ts`)
 * gets its numbers, under corosync 3.1.7's key names and types (`exec/stats.c`):
 *
 *   stats.pg.msg_queue_avail (u32)              room in the totem send queue
 *   stats.srp.<counter> (u64; u32/u8 where corosync has them)   the SRP core's counters
 *   stats.ipcs.global.active / .closed (u64)    IPC connections open / closed so far
 *   stats.ipcs.service<S>.<pid>.0x<id>.<name>   per IPC connection: queueing (i32), queued,
 *                                               sent, flow_control (u32), invalid_request,
 *                                               overload, requests, responses, dispatched,
 *                                               send_retries, recv_retries,
 *                                               flow_control_count (u64), procname (str)
 * Ours in addition (documented differences): `stats.srp.rx_msg_rejected` (hostile frames the
 * core refused), `stats.srp.rx_dropped.<reason>` (frames the driver dropped, by DecodeError
 * code), `stats.transport.<counter>` (the transport's datagram counters) and
 * `stats.transport.rx_dropped.<reason>` (frames the transport dropped). On knet,
 * `stats.knet.node<id>.link<n>.*` as corosync (`enabled`, `connected` u8, `mtu` u32, the
 * latency and up/down counts u32, the packet/byte counters u64); not `stats.knet.handle.*`.
 * Not present: `stats.schedmiss.*` (no pause detection), `stats.pg.msg_reserved`,
 * `stats.srp.time_since_token_last_received`, `avg_token_workload`, `avg_backlog_calc`
 * (the core does not measure them). `<id>` is our connection number, where corosync prints
 * a pointer.
 *
 * `stats.clear.totem` / `.ipc` / `.knet` (our transport and drop counters) / `.all` reset
 * counters by remembering a baseline that later readings subtract; gauges (`mtt_rx_token`,
 * `continuous_*`, `queued`, `flow_control`...) are never cleared.
 */
import { readFileSync } from "node:fs";
import { CmapType, type CmapEntry, type CmapValue } from "../core/cmap/types.js";
import type { StatsClearTarget, StatsSource } from "../core/cmap/stats-map.js";
import type { IpcConnection, IpcServerStats } from "../runtime/ipc/server.js";
import { SERVICE_IDS } from "../runtime/ipc/protocol.js";
import type { NodeStatus } from "../runtime/transport/types.js";

/** The parts of the daemon the stats map reads. All are optional: what is missing is left out. */
export interface StatsInputs {
  /** The SRP core's counters (`TotemSrp.stats`) and the room in its send queue. */
  srp?: { stats(): object; avail(): number };
  ipc?: () => { stats(): IpcServerStats; connections(): IpcConnection[] } | undefined;
  dropped?: () => Readonly<Record<string, number>>;
  /** The transport's counters (`Transport.stats`). */
  transport?: () => object;
  /** Frames the transport dropped, by reason (`Transport.dropped`). */
  transportDropped?: () => Readonly<Record<string, number>>;
  /** Per-node link status with counters (`Transport.links`, knet). */
  links?: () => readonly NodeStatus[] | undefined;
  /** Process name of a pid (`/proc/<pid>/comm` by default). */
  procName?: (pid: number) => string;
}

const SRP_U32 = new Set(["continuous_gather", "continuous_sendmsg_failures", "mtt_rx_token", "avg_token_workload", "avg_backlog_calc"]);
const SRP_U8 = new Set(["firewall_enabled_or_nic_failure"]);
const SRP_GAUGES = new Set([...SRP_U32, ...SRP_U8, "time_since_token_last_received"]);
/** knet link values corosync publishes as u32 (the counters are u64). */
const KNET_U32 = new Set(["latency_ave", "latency_min", "latency_max", "latency_samples", "up_count", "down_count"]);
const KNET_GAUGES = new Set(["latency_ave", "latency_min", "latency_max", "latency_samples"]);
const IPC_CONN_COUNTERS = ["invalid_request", "overload", "sent", "requests", "responses", "dispatched", "send_retries", "recv_retries", "flow_control_count"] as const;

function u64(n: number): CmapValue {
  return { type: CmapType.UINT64, value: BigInt(Math.max(0, Math.trunc(n))) };
}
function u32(n: number): CmapValue {
  return { type: CmapType.UINT32, value: Math.min(0xffffffff, Math.max(0, Math.trunc(n))) >>> 0 };
}

/** `/proc/<pid>/comm` without the newline, "" when unreadable (corosync: `proc_name`). */
export function procComm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

export class DaemonStatsSource implements StatsSource {
  /** Baselines taken at `stats.clear.*`, by key. */
  private readonly baseline = new Map<string, number>();
  private readonly names = new Map<number, string>();

  constructor(private readonly inputs: StatsInputs) {}

  entries(): CmapEntry[] {
    const out: CmapEntry[] = [];
    const add = (key: string, value: CmapValue): void => void out.push({ key, value });
    this.srpEntries(add);
    this.ipcEntries(add);
    this.transportEntries(add);
    return out;
  }

  clear(what: StatsClearTarget): void {
    const all = what === "all";
    const raw = this.rawCounters();
    for (const [key, n] of raw) {
      const group = key.startsWith("stats.srp.rx_dropped.") || key.startsWith("stats.transport.") || key.startsWith("stats.knet.") ? "knet" : key.startsWith("stats.ipcs.") ? "ipc" : "totem";
      if (all || group === what) this.baseline.set(key, n);
    }
  }

  /** Counter value minus its baseline (a baseline above the value means the counter restarted). */
  private counted(key: string, n: number): number {
    const b = this.baseline.get(key) ?? 0;
    return n >= b ? n - b : n;
  }

  private rawCounters(): Map<string, number> {
    const m = new Map<string, number>();
    for (const [name, n] of numbers(this.inputs.srp?.stats())) if (!SRP_GAUGES.has(name)) m.set(`stats.srp.${name}`, n);
    for (const [reason, n] of Object.entries(this.inputs.dropped?.() ?? {})) m.set(`stats.srp.rx_dropped.${reason.toLowerCase()}`, n);
    for (const [name, n] of numbers(this.inputs.transport?.())) m.set(`stats.transport.${name}`, n);
    for (const [reason, n] of Object.entries(this.inputs.transportDropped?.() ?? {})) m.set(`stats.transport.rx_dropped.${reason}`, n);
    for (const [key, n] of this.linkCounters()) if (!KNET_GAUGES.has(key.slice(key.lastIndexOf(".") + 1))) m.set(key, n);
    const ipc = this.inputs.ipc?.();
    if (ipc !== undefined) {
      m.set("stats.ipcs.global.closed", ipc.stats().closed);
      for (const c of ipc.connections()) {
        const counters = connCounters(c);
        for (const name of IPC_CONN_COUNTERS) m.set(`${connPrefix(c)}.${name}`, counters[name]);
      }
    }
    return m;
  }

  private srpEntries(add: (key: string, value: CmapValue) => void): void {
    const srp = this.inputs.srp;
    if (srp === undefined) return;
    add("stats.pg.msg_queue_avail", u32(srp.avail()));
    for (const [name, n] of numbers(srp.stats())) {
      const key = `stats.srp.${name}`;
      if (SRP_U8.has(name)) add(key, { type: CmapType.UINT8, value: Math.min(255, Math.max(0, Math.trunc(n))) });
      else if (SRP_U32.has(name)) add(key, u32(n));
      else add(key, u64(this.counted(key, n)));
    }
    for (const [reason, n] of Object.entries(this.inputs.dropped?.() ?? {})) {
      const key = `stats.srp.rx_dropped.${reason.toLowerCase()}`;
      add(key, u64(this.counted(key, n)));
    }
  }

  private ipcEntries(add: (key: string, value: CmapValue) => void): void {
    const ipc = this.inputs.ipc?.();
    if (ipc === undefined) return;
    const s = ipc.stats();
    add("stats.ipcs.global.active", u64(s.active));
    add("stats.ipcs.global.closed", u64(this.counted("stats.ipcs.global.closed", s.closed)));
    const live = new Set<number>();
    for (const c of ipc.connections()) {
      live.add(c.id);
      const p = connPrefix(c);
      const st = c.stats();
      const counters = connCounters(c);
      add(`${p}.queueing`, { type: CmapType.INT32, value: st.queued > 0 ? 1 : 0 });
      add(`${p}.queued`, u32(st.queued));
      add(`${p}.flow_control`, u32(st.flowControl ? 1 : 0));
      add(`${p}.procname`, { type: CmapType.STRING, value: this.procName(c) });
      for (const name of IPC_CONN_COUNTERS) {
        const key = `${p}.${name}`;
        const n = this.counted(key, counters[name]);
        add(key, name === "sent" ? u32(n) : u64(n));
      }
    }
    for (const id of this.names.keys()) if (!live.has(id)) this.names.delete(id);
  }

  private transportEntries(add: (key: string, value: CmapValue) => void): void {
    for (const [name, n] of numbers(this.inputs.transport?.())) {
      const key = `stats.transport.${name}`;
      add(key, u64(this.counted(key, n)));
    }
    for (const [reason, n] of Object.entries(this.inputs.transportDropped?.() ?? {})) {
      const key = `stats.transport.rx_dropped.${reason}`;
      add(key, u64(this.counted(key, n)));
    }
    for (const n of this.inputs.links?.() ?? []) {
      if (n.local) continue;
      for (const l of n.links) {
        const base = `stats.knet.node${n.nodeId}.link${l.link}`;
        add(`${base}.enabled`, { type: CmapType.UINT8, value: l.enabled ? 1 : 0 });
        add(`${base}.connected`, { type: CmapType.UINT8, value: l.connected ? 1 : 0 });
        add(`${base}.mtu`, u32(l.mtu));
      }
    }
    for (const [key, n] of this.linkCounters()) {
      const name = key.slice(key.lastIndexOf(".") + 1);
      if (KNET_GAUGES.has(name)) add(key, u32(n));
      else if (KNET_U32.has(name)) add(key, u32(this.counted(key, n)));
      else add(key, u64(this.counted(key, n)));
    }
  }

  /** knet's per-link counters of the other nodes, by key. */
  private linkCounters(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    for (const n of this.inputs.links?.() ?? []) {
      if (n.local) continue;
      for (const l of n.links) for (const [name, v] of Object.entries(l.stats ?? {})) out.push([`stats.knet.node${n.nodeId}.link${l.link}.${name}`, v]);
    }
    return out;
  }

  private procName(c: IpcConnection): string {
    let name = this.names.get(c.id);
    if (name === undefined) {
      name = (this.inputs.procName ?? procComm)(c.cred.pid);
      this.names.set(c.id, name);
    }
    return name;
  }
}

/** The numeric fields of a counters object. */
function numbers(o: object | undefined): Array<[string, number]> {
  return Object.entries(o ?? {}).filter((e): e is [string, number] => typeof e[1] === "number");
}

function connPrefix(c: IpcConnection): string {
  const serviceId = (SERVICE_IDS as Record<string, number>)[c.service] ?? 0;
  return `stats.ipcs.service${serviceId}.${c.cred.pid}.0x${c.id.toString(16)}`;
}

function connCounters(c: IpcConnection): Record<(typeof IPC_CONN_COUNTERS)[number], number> {
  const st = c.stats();
  return {
    invalid_request: st.invalidRequests,
    // Requests refused for overload: we never refuse one (flow control holds them instead).
    overload: 0,
    sent: st.events,
    requests: st.requests,
    responses: st.responses,
    dispatched: st.events,
    send_retries: st.sendRetries,
    recv_retries: st.recvRetries,
    flow_control_count: st.flowControlCount,
  };
}
