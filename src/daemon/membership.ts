/**
 * The executive's view of membership above the service host: keeps
 * `runtime.members.<nodeid>.*` in cmap current (ip, join_count, status; `config_version`
 * comes from the cmap engine's sync message) and logs membership as corosync does once a
 * configuration is synchronised.
 */
import type { CmapStore } from "../core/cmap/store.js";
import { CmapType } from "../core/cmap/types.js";
import type { ConfigurationChange } from "../core/totem/types.js";
import type { HostListener } from "../core/services/host.js";
import { formatRingId } from "../wire/totem/types.js";

export interface MembershipLog {
  (subsys: string, level: "notice" | "info" | "debug", text: string): void;
}

export class MembershipView implements HostListener {
  members: number[] = [];
  ringId = "";

  constructor(
    private readonly cmap: CmapStore,
    /** Ring addresses per nodeid, for `runtime.members.<id>.ip`. */
    private readonly addressesOf: (nodeId: number) => string[],
    private readonly log: MembershipLog,
  ) {}

  confchg(change: ConfigurationChange): void {
    if (change.type !== "regular") return;
    const previous = new Set(this.members);
    this.members = [...change.members];
    this.ringId = formatRingId(change.ringId);
    for (const n of change.members) if (!previous.has(n)) this.memberJoined(n);
    for (const n of previous) if (!change.members.includes(n)) this.memberLeft(n);
    this.cmap.set("runtime.totem.pg.mrp.srp.members", { type: CmapType.STRING, value: this.members.join(" ") }, { force: true });
  }

  synced(change: ConfigurationChange): void {
    this.log("QUORUM", "notice", `Members[${change.members.length}]: ${change.members.join(" ")}`);
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
  }

  private memberLeft(n: number): void {
    this.cmap.set(`runtime.members.${n}.status`, { type: CmapType.STRING, value: "left" }, { force: true });
  }
}
