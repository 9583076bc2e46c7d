/**
 * Test harness: a hand-wired cluster of real service hosts (ServiceHost + SyncProtocol) with
 * the real votequorum and quorum engines, joined by an in-memory bus that plays totem's part:
 * one agreed order for every message of a ring, EVS configuration changes (transitional then
 * regular) for the chosen member sets, the sync-time queue (messages sent outside a ring wait
 * until the node's first sync completes), and virtual time for the engines' timers.
 *
 * Every stop/start settles completely (the bus is drained) before the next step, as the
 * reference table of totem-spec §7.3 assumes.
 */
import { CmapStore } from "../../src/core/cmap/store.js";
import { CmapType } from "../../src/core/cmap/types.js";
import { ServiceHost } from "../../src/core/services/host.js";
import type { TimerHandle } from "../../src/core/services/types.js";
import { VoteQuorum, type EvTrackingStore } from "../../src/core/quorum/votequorum.js";
import { QuorumService } from "../../src/core/quorum/quorum-service.js";
import type { TotemPg } from "../../src/core/pg/totempg.js";
import type { RingId } from "../../src/wire/totem/types.js";
import { compileConfig } from "../../src/config/compile.js";

interface BusMessage {
  from: number;
  group: string;
  body: Uint8Array;
  ring: bigint;
}

interface Timer {
  due: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/** One node: its host, engines and configuration map. */
export class HandNode {
  host!: ServiceHost;
  vq!: VoteQuorum;
  qs!: QuorumService;
  cmap!: CmapStore;
  up = false;
  /** Members of the last regular configuration this node saw. */
  members: number[] = [];
  /** Seq of the ring the node is in. */
  ring = -1n;
  /** Messages sent before the node's first ring (totem's regular queue). */
  held: BusMessage[] = [];
  inRing = false;
  logs: string[] = [];
  /** Quorum callbacks received (members, quorate). */
  quorumEvents: Array<{ members: number[]; quorate: boolean }> = [];

  constructor(readonly id: number) {}

  /** `total/expected/quorum` and quorate, as the reference table writes them. */
  get view(): string {
    const info = this.vq.getInfo(0)!;
    return `${info.totalVotes}/${info.expectedVotes}/${info.quorum}${this.vq.quorate ? " Q" : " -"}`;
  }
}

export interface HandClusterOptions {
  nodes: number;
  /** Lines inside `quorum { }` (provider is added). */
  quorum: string[];
  /** Per-node quorum_votes (default 1). */
  votes?: (nodeId: number) => number;
  /** Replaces `quorum` for some nodes (mismatched configurations). */
  quorumFor?: (nodeId: number) => string[] | undefined;
  /** ev_tracking persistence per node (default: in memory, survives restarts). */
  evStore?: (nodeId: number) => EvTrackingStore;
}

export class HandCluster {
  now = 0;
  readonly nodes = new Map<number, HandNode>();
  private queue: BusMessage[] = [];
  private timers: Timer[] = [];
  private timerOrder = 0;
  private ringSeq = 0n;
  /** The in-memory ev_tracking files, by node id. */
  readonly evValues = new Map<number, number>();

  constructor(readonly opts: HandClusterOptions) {
    for (let id = 1; id <= opts.nodes; id++) this.nodes.set(id, new HandNode(id));
  }

  node(id: number): HandNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** The corosync.conf node `id` runs. */
  configText(id: number): string {
    const quorum = this.opts.quorumFor?.(id) ?? this.opts.quorum;
    const nodes = [...this.nodes.keys()]
      .map((id) => `  node {\n    ring0_addr: 10.1.1.${id}\n    nodeid: ${id}\n    name: n${id}\n    quorum_votes: ${this.opts.votes?.(id) ?? 1}\n  }`)
      .join("\n");
    return `totem {\n  version: 2\n  cluster_name: hand\n  transport: udpu\n}\nnodelist {\n${nodes}\n}\nquorum {\n  provider: corosync_votequorum\n${quorum.map((l) => `  ${l}`).join("\n")}\n}\n`;
  }

  private freshCmap(id: number): CmapStore {
    const compiled = compileConfig({ file: "corosync.conf", text: this.configText(id) });
    if (!compiled.ok) throw new Error(`config: ${compiled.diagnostics.map((d) => d.message).join("; ")}`);
    const cmap = new CmapStore();
    for (const e of compiled.cmapEntries) cmap.set(e.key, e.value, { force: true });
    const pos = compiled.config.nodes.findIndex((n) => n.nodeId === id);
    cmap.set("nodelist.local_node_pos", { type: CmapType.UINT32, value: pos }, { force: true });
    return cmap;
  }

  private evStore(id: number): EvTrackingStore {
    return (
      this.opts.evStore?.(id) ?? {
        load: () => this.evValues.get(id) ?? 0,
        save: (v) => void this.evValues.set(id, v),
      }
    );
  }

  /** Boot a node's engines (not yet in a ring). */
  private boot(n: HandNode): void {
    n.cmap = this.freshCmap(n.id);
    n.up = true;
    n.inRing = false;
    n.members = [];
    n.ring = -1n;
    n.held = [];
    n.quorumEvents = [];
    n.host = new ServiceHost(n.id, {
      now: () => this.now,
      schedule: (ms, fn) => this.schedule(n, ms, fn),
      log: (level, subsys, text) => n.logs.push(`${level} [${subsys}] ${text}`),
    });
    const pg = {
      mcastGroup: (_now: number, group: string, body: readonly Uint8Array[]) => this.send(n, group, body),
      sendOk: () => true,
      transAck: () => this.releaseHeld(n),
      // The fake delivers whole messages, so there is no fragment assembly to switch.
      waitingTransAck: () => {},
    };
    n.host.attach(pg as unknown as TotemPg);
    const api = n.host.api();
    n.qs = new QuorumService(api, true);
    n.vq = new VoteQuorum({
      api,
      cmap: n.cmap,
      evTracking: this.evStore(n.id),
      listener: {
        quorumChanged: (members, quorate, ringId: RingId) => {
          n.qs.setQuorum(members, quorate, ringId);
          n.quorumEvents.push({ members: [...members], quorate });
        },
      },
    });
    const error = n.vq.init();
    if (error !== undefined) throw new Error(`node ${n.id}: ${error}`);
    n.host.register(n.qs);
    n.host.register(n.vq);
  }

  private send(n: HandNode, group: string, body: readonly Uint8Array[]): boolean {
    if (!n.up) return false;
    const bytes = body.length === 1 ? body[0]! : concat(body);
    const msg: BusMessage = { from: n.id, group, body: new Uint8Array(bytes), ring: n.ring };
    if (!n.inRing) n.held.push(msg);
    else this.queue.push(msg);
    return true;
  }

  private releaseHeld(n: HandNode): void {
    for (const m of n.held.splice(0)) this.queue.push({ ...m, ring: n.ring });
  }

  private schedule(n: HandNode, ms: number, fn: () => void): TimerHandle {
    const t: Timer = { due: this.now + ms, order: this.timerOrder++, fn: () => n.up && fn(), cancelled: false };
    this.timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }

  /**
   * Install a new ring of `members` (all must be up; other nodes keep their ring, so calling
   * this for disjoint sets makes partitions): each gets its transitional and regular
   * configuration, then every message is delivered in one order until the bus is quiet.
   */
  configure(members: number[]): void {
    const sorted = [...members].sort((a, b) => a - b);
    this.ringSeq += 4n;
    const ringId: RingId = { rep: sorted[0]!, seq: this.ringSeq };
    for (const id of sorted) {
      const n = this.node(id);
      const prev = n.members;
      const trans = prev.filter((p) => sorted.includes(p));
      n.host.confchg({ type: "transitional", members: trans, left: prev.filter((p) => !sorted.includes(p)), joined: [], ringId });
      n.host.confchg({ type: "regular", members: sorted, left: [], joined: sorted.filter((p) => !prev.includes(p)), ringId });
      n.members = sorted;
      n.ring = this.ringSeq;
      n.inRing = true;
      n.host.afterInput(this.now);
    }
    this.drain();
  }

  /** Deliver queued messages to every member of the current ring until nothing is left. */
  drain(): void {
    for (let guard = 0; this.queue.length > 0; guard++) {
      if (guard > 100_000) throw new Error("bus does not settle");
      const m = this.queue.shift()!;
      for (const n of this.nodes.values()) {
        if (!n.up || n.ring !== m.ring) continue;
        n.host.deliver(m.from, m.group, m.body, false);
        n.host.afterInput(this.now);
      }
    }
  }

  /** Advance virtual time by `ms`, firing due timers in order (draining after each). */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.due <= end).sort((a, b) => a.due - b.due || a.order - b.order)[0];
      if (due === undefined) break;
      this.now = due.due;
      due.cancelled = true;
      due.fn();
      this.drain();
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
    this.now = end;
  }

  /** Put `body` on the bus as if `from` had multicast it in its ring (group "a"). */
  inject(from: number, body: Uint8Array): void {
    this.queue.push({ from, group: "a", body, ring: this.node(from).ring });
    this.drain();
  }

  /** Split the running nodes into rings of the given groups. */
  partition(...groups: number[][]): void {
    for (const g of groups) this.configure(g);
  }

  /** Members now running. */
  running(): number[] {
    return [...this.nodes.values()].filter((n) => n.up).map((n) => n.id);
  }

  /** Start `id` and form a ring with every running node. */
  start(id: number): void {
    const n = this.node(id);
    if (n.up) throw new Error(`node ${id} already up`);
    this.boot(n);
    this.configure(this.running());
  }

  /** Stop `id` (clean: its LEAVING NODEINFO goes out first when allow_downscale) and re-form. */
  stop(id: number, clean = true): void {
    const n = this.node(id);
    if (clean) {
      void n.vq.leave();
      this.drain();
    }
    n.vq.stop();
    n.up = false;
    n.inRing = false;
    n.members = [];
    n.ring = -1n;
    const rest = this.running();
    if (rest.length > 0) this.configure(rest);
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}
