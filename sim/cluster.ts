/**
 * The simulated cluster: N nodes running the very same core objects as the daemon
 * (TotemSrp + TotemPg), in virtual time, on a seeded network that loses, duplicates, delays,
 * reorders and partitions datagrams. Frames are encoded and decoded with the real codecs on
 * every hop, so the simulator exercises the wire layer too.
 */
import { TotemSrp } from "../src/core/totem/srp.js";
import { TotemPg, type PgUpcalls } from "../src/core/pg/totempg.js";
import type { ConfigurationChange, SrpConfig, SrpEffect } from "../src/core/totem/types.js";
import { encodeTotem, tryDecodeTotem } from "../src/wire/totem/codec.js";
import { formatRingId, type RingId } from "../src/wire/totem/types.js";
import { EventHeap } from "./heap.js";
import { Prng } from "./prng.js";

/** Network fault settings (all derived from the seed by the swarm). */
export interface NetworkFaults {
  /** Probability that a datagram between two different nodes is lost. */
  lossRate: number;
  /** Probability that a datagram is delivered twice. */
  dupRate: number;
  /** One-way delay: base + uniform jitter (jitter reorders). */
  baseDelayMs: number;
  jitterMs: number;
}

export const NO_FAULTS: NetworkFaults = { lossRate: 0, dupRate: 0, baseDelayMs: 0.1, jitterMs: 0.05 };

/** What a node's application sees; the recorder for the checkers. */
export interface NodeListener {
  deliver(node: SimNode, sender: number, group: string, body: Uint8Array): void;
  confchg(node: SimNode, change: ConfigurationChange): void;
}

/**
 * A layer above totempg on a simulated node (e.g. the service host with CPG): it receives
 * the node's deliveries and configuration changes instead of the `NodeListener`, releases
 * application traffic itself (`transAck`), and runs after every input like the daemon's.
 */
export interface SimUpperLayer extends PgUpcalls {
  afterInput(now: number): void;
  /** Receives the node's totempg once it exists (the service host sends through it). */
  attach?(pg: TotemPg): void;
}

export interface TraceSink {
  (line: string): void;
}

type SimEvent =
  | { at: number; order: number; kind: "datagram"; to: number; from: number; bytes: Uint8Array }
  | { at: number; order: number; kind: "timer"; node: number; incarnation: number; due: number }
  | { at: number; order: number; kind: "action"; run: () => void };

/** One simulated processor: its core objects and its fate (up, paused, slow). */
export class SimNode {
  incarnation = 0;
  up = false;
  pausedUntil = 0;
  /** Extra ms of CPU per received datagram (a slow node). */
  costPerInputMs = 0;
  busyUntil = 0;
  /** The only state that survives a crash: the persisted ring seq. */
  persistedRingSeq = 0n;
  srp!: TotemSrp;
  pg!: TotemPg;
  timerDue: number | undefined;
  needTransAck = false;
  /** Datagrams that arrived while paused (the socket buffer), bounded. */
  pending: Array<{ from: number; bytes: Uint8Array }> = [];
  /** The layer above totempg of this incarnation, when the cluster has an `upperFactory`. */
  upper: SimUpperLayer | undefined;

  constructor(readonly id: number) {}

  get key(): string {
    return `${this.id}#${this.incarnation}`;
  }
}

export interface ClusterStats {
  datagramsSent: number;
  datagramsDelivered: number;
  datagramsLost: number;
  datagramsDuplicated: number;
  datagramsBlocked: number;
  decodeErrors: number;
  eventsProcessed: number;
}

const SOCKET_BUFFER_DATAGRAMS = 2000;

export class SimCluster {
  now = 0;
  readonly nodes = new Map<number, SimNode>();
  readonly stats: ClusterStats = {
    datagramsSent: 0,
    datagramsDelivered: 0,
    datagramsLost: 0,
    datagramsDuplicated: 0,
    datagramsBlocked: 0,
    decodeErrors: 0,
    eventsProcessed: 0,
  };
  faults: NetworkFaults = { ...NO_FAULTS };
  /** Run the core's invariant checks after every step (off only in benchmarks). */
  checkInvariants = true;
  /** A run that processes more events than this is stuck in a storm: it fails loudly. */
  eventBudget = 5_000_000;
  /** Directed links that drop everything: "from>to". */
  readonly blocked = new Set<string>();
  /**
   * Optional: builds the layer above totempg for each node incarnation (called at every
   * start). Without it, deliveries and configuration changes go to `listener`.
   */
  upperFactory: ((node: SimNode) => SimUpperLayer) | undefined;
  private readonly heap = new EventHeap<SimEvent>();
  private order = 0;
  private readonly netRng: Prng;

  constructor(
    readonly nodeIds: readonly number[],
    readonly srpConfig: SrpConfig,
    readonly rng: Prng,
    readonly listener: NodeListener,
    readonly trace?: TraceSink,
  ) {
    this.netRng = rng.fork();
    for (const id of nodeIds) this.nodes.set(id, new SimNode(id));
  }

  node(id: number): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  // ------------------------------------------------------------------ node lifecycle

  /** Start (or restart after a crash) a node: fresh core objects, persisted ring seq only. */
  start(id: number): void {
    const n = this.node(id);
    if (n.up) return;
    n.incarnation++;
    n.up = true;
    n.pausedUntil = 0;
    n.busyUntil = 0;
    n.pending = [];
    n.timerDue = undefined;
    const listener = this.listener;
    n.upper = this.upperFactory?.(n);
    n.pg = new TotemPg({
      netMtu: this.srpConfig.netMtu,
      nodeId: id,
      upper: n.upper ?? {
        deliver: (sender, group, body) => listener.deliver(n, sender, group, body),
        confchg: (change) => {
          if (change.type === "regular") n.needTransAck = true;
          listener.confchg(n, change);
        },
      },
    });
    n.srp = new TotemSrp({ nodeId: id, config: this.srpConfig, persistedRingSeq: n.persistedRingSeq, upcalls: n.pg });
    n.pg.attach(n.srp);
    n.upper?.attach?.(n.pg);
    this.traceLine(`start node ${n.key}`);
    this.step(n, () => n.srp.start(this.now));
  }

  /** kill -9: the node stops at once; only its persisted ring seq survives. */
  crash(id: number): void {
    const n = this.node(id);
    if (!n.up) return;
    n.up = false;
    n.pending = [];
    n.timerDue = undefined;
    this.traceLine(`crash node ${n.key}`);
  }

  /** Clean stop: LEAVE, then down. */
  stop(id: number): void {
    const n = this.node(id);
    if (!n.up) return;
    this.step(n, () => n.srp.leave(this.now));
    this.crash(id);
  }

  /** SIGSTOP for `ms`: nothing runs; datagrams queue in the socket buffer. */
  pause(id: number, ms: number): void {
    const n = this.node(id);
    if (!n.up) return;
    n.pausedUntil = Math.max(n.pausedUntil, this.now + ms);
    this.traceLine(`pause node ${n.key} for ${ms}ms`);
    const inc = n.incarnation;
    this.at(n.pausedUntil, () => this.resume(id, inc));
  }

  /** End every pause now (the heal). */
  resumeAll(): void {
    for (const n of this.nodes.values()) {
      if (n.up && this.isPaused(n)) {
        n.pausedUntil = this.now;
        this.resume(n.id, n.incarnation);
      }
    }
  }

  private resume(id: number, incarnation: number): void {
    const n = this.node(id);
    if (!n.up || n.incarnation !== incarnation || n.pausedUntil > this.now) return;
    this.traceLine(`resume node ${n.key}`);
    this.step(n, () => n.srp.tick(this.now));
    const queued = n.pending;
    n.pending = [];
    for (const d of queued) this.deliverDatagram(n, d.from, d.bytes);
  }

  isPaused(n: SimNode): boolean {
    return n.pausedUntil > this.now;
  }

  // ------------------------------------------------------------------ partitions

  /** Cut the cluster into groups; nodes in different groups cannot talk (both ways). */
  partition(groups: readonly (readonly number[])[]): void {
    this.blocked.clear();
    for (const a of this.nodeIds) {
      for (const b of this.nodeIds) {
        const ga = groups.findIndex((g) => g.includes(a));
        const gb = groups.findIndex((g) => g.includes(b));
        if (a !== b && ga !== gb) this.blocked.add(`${a}>${b}`);
      }
    }
    this.traceLine(`partition ${groups.map((g) => g.join(",")).join(" | ")}`);
  }

  /** Drop everything from `from` to `to` (one way). */
  blockOneWay(from: number, to: number): void {
    this.blocked.add(`${from}>${to}`);
    this.traceLine(`block ${from} -> ${to}`);
  }

  heal(): void {
    this.blocked.clear();
    this.traceLine("heal");
  }

  // ------------------------------------------------------------------ running

  /** Run `fn` at virtual time `t`. */
  at(t: number, fn: () => void): void {
    this.heap.push({ at: Math.max(t, this.now), order: this.order++, kind: "action", run: fn });
  }

  /** Process events until virtual time `until` (inclusive). */
  runUntil(until: number): void {
    for (;;) {
      const ev = this.heap.peek();
      if (ev === undefined || ev.at > until) break;
      this.heap.pop();
      this.now = ev.at;
      this.stats.eventsProcessed++;
      if (this.stats.eventsProcessed > this.eventBudget) {
        throw new Error(`event budget of ${this.eventBudget} exceeded at ${this.now.toFixed(1)}ms: ${this.describe()}`);
      }
      this.dispatch(ev);
    }
    this.now = Math.max(this.now, until);
  }

  private dispatch(ev: SimEvent): void {
    switch (ev.kind) {
      case "action":
        ev.run();
        break;
      case "timer": {
        const n = this.nodes.get(ev.node)!;
        if (!n.up || n.incarnation !== ev.incarnation || n.timerDue !== ev.due) return;
        if (this.isPaused(n)) {
          n.timerDue = undefined; // resume() ticks and re-arms
          return;
        }
        n.timerDue = undefined;
        this.step(n, () => n.srp.tick(this.now));
        break;
      }
      case "datagram": {
        const n = this.nodes.get(ev.to)!;
        if (!n.up) return;
        if (this.isPaused(n)) {
          if (n.pending.length < SOCKET_BUFFER_DATAGRAMS) n.pending.push({ from: ev.from, bytes: ev.bytes });
          return;
        }
        if (n.busyUntil > this.now) {
          this.heap.push({ ...ev, at: n.busyUntil, order: this.order++ });
          return;
        }
        this.deliverDatagram(n, ev.from, ev.bytes);
        if (n.costPerInputMs > 0) n.busyUntil = this.now + n.costPerInputMs;
        break;
      }
    }
  }

  private deliverDatagram(n: SimNode, from: number, bytes: Uint8Array): void {
    const r = tryDecodeTotem(bytes);
    if (!r.ok) {
      this.stats.decodeErrors++;
      return;
    }
    this.stats.datagramsDelivered++;
    const bigEndian = bytes[0] === 0xc0;
    this.step(n, () => n.srp.receive(this.now, r.msg, bigEndian));
    void from;
  }

  /** Run one input on a node, then carry out its effects and re-arm its timer. */
  step(n: SimNode, input: () => void): void {
    n.pg.setNow(this.now);
    input();
    n.upper?.afterInput(this.now);
    if (n.needTransAck) {
      n.needTransAck = false;
      n.pg.transAck();
    }
    if (this.checkInvariants) n.srp.invariants();
    this.applyEffects(n, n.srp.takeEffects());
    this.armTimer(n);
  }

  private armTimer(n: SimNode): void {
    const due = n.srp.nextDeadline();
    if (due === undefined || due === n.timerDue) return;
    n.timerDue = due;
    this.heap.push({ at: Math.max(due, this.now), order: this.order++, kind: "timer", node: n.id, incarnation: n.incarnation, due });
  }

  private applyEffects(n: SimNode, fx: SrpEffect[]): void {
    for (const e of fx) {
      switch (e.kind) {
        case "persistRingId":
          n.persistedRingSeq = e.ringId.seq;
          break;
        case "unicast":
          this.send(n.id, e.to, encodeTotem(e.msg));
          break;
        case "multicast": {
          const bytes = encodeTotem(e.msg);
          for (const to of this.nodeIds) this.send(n.id, to, bytes);
          break;
        }
        case "log":
          if (this.trace !== undefined && e.level !== "trace") this.traceLine(`[${n.key}] ${e.level} ${e.text}`);
          break;
      }
    }
  }

  private send(from: number, to: number, bytes: Uint8Array): void {
    this.stats.datagramsSent++;
    if (!this.nodes.has(to)) return;
    const f = this.faults;
    if (from !== to) {
      if (this.blocked.has(`${from}>${to}`)) {
        this.stats.datagramsBlocked++;
        return;
      }
      if (this.netRng.chance(f.lossRate)) {
        this.stats.datagramsLost++;
        return;
      }
    }
    const copies = from !== to && this.netRng.chance(f.dupRate) ? 2 : 1;
    if (copies === 2) this.stats.datagramsDuplicated++;
    for (let c = 0; c < copies; c++) {
      const delay = f.baseDelayMs + this.netRng.float() * f.jitterMs;
      this.heap.push({ at: this.now + delay, order: this.order++, kind: "datagram", to, from, bytes });
    }
  }

  // ------------------------------------------------------------------ observation

  /** Live, unpaused nodes. */
  liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  /** True if every live node is OPERATIONAL in one ring whose members are exactly the live nodes. */
  converged(): boolean {
    const live = this.liveNodes();
    if (live.length === 0) return true;
    const ids = live.map((n) => n.id).sort((a, b) => a - b);
    const ring = live[0]!.srp.ringId;
    for (const n of live) {
      if (n.srp.stateName !== "OPERATIONAL" || n.srp.waitingTransAck) return false;
      const r = n.srp.ringId;
      if (r.rep !== ring.rep || r.seq !== ring.seq) return false;
      const members = [...n.srp.members].sort((a, b) => a - b);
      if (members.length !== ids.length || members.some((m, i) => m !== ids[i])) return false;
    }
    return true;
  }

  describe(): string {
    return [...this.nodes.values()]
      .map((n) => {
        if (!n.up) return `${n.id}:down`;
        const r: RingId = n.srp.ringId;
        return `${n.id}:${n.srp.stateName}(${formatRingId(r)})[${n.srp.members.join(",")}]${this.isPaused(n) ? "paused" : ""}`;
      })
      .join(" ");
  }

  traceLine(line: string): void {
    this.trace?.(`${this.now.toFixed(3).padStart(10)} ${line}`);
  }
}
