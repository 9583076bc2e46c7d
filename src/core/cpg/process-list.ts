/**
 * The cluster-wide CPG process list (corosync `process_info_list_head`): one entry per
 * (node id, pid, group) that joined, kept in corosync's order — sorted by node id, then pid,
 * a new entry going after every entry that does not sort after it. Every node applies the
 * same joins and leaves in the same total order, so every node holds the same list in the
 * same order; member lists in callbacks, JOINLIST and membership replies follow it.
 *
 * Pure.
 */
import type { CpgGroupName } from "./messages.js";

/** One process in one group. */
export interface ProcessInfo {
  nodeId: number;
  pid: number;
  group: CpgGroupName;
}

/** What `cpg_iteration_initialize` asks for (`cpg_iteration_type_t`). */
export const CpgIterationType = { NAME_ONLY: 1, ONE_GROUP: 2, ALL: 3 } as const;
export type CpgIterationType = (typeof CpgIterationType)[keyof typeof CpgIterationType];

export class ProcessList {
  private readonly items: ProcessInfo[] = [];

  get size(): number {
    return this.items.length;
  }

  /** All entries, in list order (a copy). */
  all(): ProcessInfo[] {
    return [...this.items];
  }

  find(group: CpgGroupName, pid: number, nodeId: number): ProcessInfo | undefined {
    return this.items.find((p) => p.pid === pid && p.nodeId === nodeId && p.group === group);
  }

  /** Is any process of `nodeId` in `group`? (the MCAST "known node" rule) */
  nodeInGroup(nodeId: number, group: CpgGroupName): boolean {
    return this.items.some((p) => p.nodeId === nodeId && p.group === group);
  }

  /** Adds an entry at corosync's position; false if it is already there. */
  add(p: ProcessInfo): boolean {
    if (this.find(p.group, p.pid, p.nodeId) !== undefined) return false;
    let at = 0;
    for (let i = 0; i < this.items.length; i++) {
      const e = this.items[i]!;
      if (e.nodeId > p.nodeId || (e.nodeId === p.nodeId && e.pid > p.pid)) break;
      at = i + 1;
    }
    this.items.splice(at, 0, { ...p });
    return true;
  }

  /** Removes the entry; false if absent. */
  remove(group: CpgGroupName, pid: number, nodeId: number): boolean {
    const i = this.items.findIndex((p) => p.pid === pid && p.nodeId === nodeId && p.group === group);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }

  /** Removes and returns every entry matching `pred`, in list order. */
  removeWhere(pred: (p: ProcessInfo) => boolean): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    for (let i = 0; i < this.items.length; ) {
      if (pred(this.items[i]!)) out.push(...this.items.splice(i, 1));
      else i++;
    }
    return out;
  }

  /** The processes of `group`, in list order. */
  membersOf(group: CpgGroupName): ProcessInfo[] {
    return this.items.filter((p) => p.group === group);
  }

  /** The entries of `nodeId`, in list order (what its JOINLIST carries). */
  ofNode(nodeId: number): ProcessInfo[] {
    return this.items.filter((p) => p.nodeId === nodeId);
  }

  /**
   * The snapshot `cpg_iteration_initialize` returns, in corosync's peculiar order: walking the
   * list, an entry whose group is not yet in the snapshot goes to the front; otherwise it goes
   * right after the first snapshot entry of its group. NAME_ONLY keeps one entry per group
   * with pid and node id 0; ONE_GROUP keeps only `group`.
   */
  iterationSnapshot(type: CpgIterationType, group?: CpgGroupName): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    for (const p of this.items) {
      const first = out.findIndex((q) => q.group === p.group);
      if (type === CpgIterationType.NAME_ONLY && first >= 0) continue;
      if (type === CpgIterationType.ONE_GROUP && p.group !== group) continue;
      const copy = type === CpgIterationType.NAME_ONLY ? { nodeId: 0, pid: 0, group: p.group } : { ...p };
      if (first < 0) out.unshift(copy);
      else out.splice(first + 1, 0, copy);
    }
    return out;
  }
}
