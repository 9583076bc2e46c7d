/**
 * The executive's view of membership above totempg: keeps `runtime.members.<nodeid>.*` in
 * cmap current, logs membership as corosync does, and releases the SRP's sync-time queue
 * once services are synchronised.
 *
 * Until the sync protocol and services exist (the IPC/CPG issue), synchronisation is
 * trivially complete at every regular configuration: the layer acknowledges it right after
 * the input that installed the ring (never from inside the core's upcall).
 */
import type { CmapStore } from "../core/cmap/store.js";
import { CmapType } from "../core/cmap/types.js";
import type { ConfigurationChange } from "../core/totem/types.js";
import type { PgUpcalls, TotemPg } from "../core/pg/totempg.js";
import type { UpperLayer } from "../runtime/driver.js";
import { formatRingId } from "../wire/totem/types.js";

export interface MembershipLog {
  (subsys: string, level: "notice" | "info" | "debug", text: string): void;
}

export interface MembershipEvents {
  /** A regular configuration was installed and synchronised. */
  onRegular?(change: ConfigurationChange): void;
}

export class MembershipView implements PgUpcalls, UpperLayer {
  members: number[] = [];
  ringId = "";
  private pendingAck = false;
  private lastChange: ConfigurationChange | undefined;
  /** Application messages delivered by totempg (no service consumes them yet). */
  delivered = 0;

  constructor(
    private readonly pg: () => TotemPg,
    private readonly cmap: CmapStore,
    /** Ring addresses per nodeid, for `runtime.members.<id>.ip`. */
    private readonly addressesOf: (nodeId: number) => string[],
    private readonly log: MembershipLog,
    private readonly events: MembershipEvents = {},
  ) {}

  deliver(_nodeId: number, _group: string, _body: Uint8Array): void {
    this.delivered++;
  }

  confchg(change: ConfigurationChange): void {
    if (change.type !== "regular") return;
    const previous = new Set(this.members);
    this.members = [...change.members];
    this.ringId = formatRingId(change.ringId);
    for (const n of change.members) if (!previous.has(n)) this.memberJoined(n);
    for (const n of previous) if (!change.members.includes(n)) this.memberLeft(n);
    this.cmap.set("runtime.totem.pg.mrp.srp.members", { type: CmapType.STRING, value: this.members.join(" ") }, { force: true });
    this.pendingAck = true;
    this.lastChange = change;
  }

  afterInput(_now: number): void {
    if (!this.pendingAck) return;
    this.pendingAck = false;
    this.log("QUORUM", "notice", `Members[${this.members.length}]: ${this.members.join(" ")}`);
    this.pg().transAck();
    this.log("MAIN", "notice", "Completed service synchronization, ready to provide service.");
    if (this.lastChange !== undefined) this.events.onRegular?.(this.lastChange);
  }

  private memberJoined(n: number): void {
    const base = `runtime.members.${n}`;
    const count = this.cmap.get(`${base}.join_count`);
    const joins = count !== undefined && count.type === CmapType.UINT32 ? count.value + 1 : 1;
    const ip = this.addressesOf(n)
      .map((a, ring) => `r(${ring}) ip(${a}) `)
      .join("");
    this.cmap.set(`${base}.ip`, { type: CmapType.STRING, value: ip }, { force: true });
    this.cmap.set(`${base}.join_count`, { type: CmapType.UINT32, value: joins }, { force: true });
    this.cmap.set(`${base}.status`, { type: CmapType.STRING, value: "joined" }, { force: true });
    this.cmap.set(`${base}.config_version`, { type: CmapType.UINT64, value: 0n }, { force: true });
  }

  private memberLeft(n: number): void {
    this.cmap.set(`runtime.members.${n}.status`, { type: CmapType.STRING, value: "left" }, { force: true });
  }
}
