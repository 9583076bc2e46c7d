/**
 * TotemSrp instances wired by hand for unit tests (no simulator): see `HandRing`.
 */
import assert from "node:assert/strict";
import { TotemSrp } from "../../src/core/totem/srp.js";
import type { SrpConfig } from "../../src/core/totem/types.js";
import { encodeTotem, tryDecodeTotem } from "../../src/wire/totem/codec.js";
import { Encapsulation, MessageType, type OrfToken } from "../../src/wire/totem/types.js";

/** One operational token visit as seen from outside. */
export interface Visit {
  node: number;
  sent: number;
  tokenIn: { fcc: number; backlog: number };
  tokenOut: { fcc: number; backlog: number } | undefined;
  cbl: number;
}

/**
 * N processors on a lossless FIFO network: frames through the real codecs, delivered in the
 * order sent; virtual time advances to the next deadline only when nothing is in flight.
 */
export class HandRing {
  readonly srp = new Map<number, TotemSrp>();
  now = 0;
  private readonly inflight: Array<{ to: number; bytes: Uint8Array }> = [];
  private readonly needAck = new Set<number>();
  /** Crashed processors: frames to them are dropped and their timers never fire. */
  readonly down = new Set<number>();
  readonly delivered = new Map<number, string[]>();
  /** Deliveries and configuration changes, in order (`conf <type> <ring> [members]`). */
  readonly events = new Map<number, string[]>();
  /** Messages queued at each node and not yet seen multicast. */
  readonly unsent = new Map<number, number>();
  readonly visits: Visit[] = [];
  recording = false;

  constructor(
    readonly ids: readonly number[],
    cfg: SrpConfig,
  ) {
    for (const id of ids) {
      this.delivered.set(id, []);
      this.events.set(id, []);
      this.unsent.set(id, 0);
      const srp = new TotemSrp({
        nodeId: id,
        config: cfg,
        persistedRingSeq: 0n,
        upcalls: {
          deliver: (from, payload) => {
            const m = `${from}:${new TextDecoder().decode(payload)}`;
            this.delivered.get(id)!.push(m);
            this.events.get(id)!.push(m);
          },
          confchg: (c) => {
            this.events.get(id)!.push(`conf ${c.type} ${c.ringId.rep}.${c.ringId.seq} [${c.members.join(" ")}]`);
            if (c.type === "regular") this.needAck.add(id);
          },
          tokenReceived: () => {},
          waitingTransAck: () => {},
        },
      });
      this.srp.set(id, srp);
    }
  }

  start(): void {
    for (const [id, s] of this.srp) {
      s.start(this.now);
      this.flush(id);
    }
  }

  mcast(id: number, text: string): void {
    const s = this.srp.get(id)!;
    assert.ok(s.mcast(this.now, new TextEncoder().encode(text)));
    this.unsent.set(id, this.unsent.get(id)! + 1);
    s.holdCancel(this.now);
    this.flush(id);
  }

  /** Carry out a node's effects; returns the effects' new-message count and outgoing token. */
  private flush(id: number): { sent: number; token: OrfToken | undefined } {
    const s = this.srp.get(id)!;
    if (this.needAck.delete(id)) s.transAck();
    let sent = 0;
    let token: OrfToken | undefined;
    for (const e of s.takeEffects()) {
      if (e.kind === "unicast") {
        this.inflight.push({ to: e.to, bytes: encodeTotem(e.msg) });
        if (e.msg.type === MessageType.ORF_TOKEN) token = e.msg;
      } else if (e.kind === "multicast") {
        const bytes = encodeTotem(e.msg);
        for (const to of this.ids) this.inflight.push({ to, bytes });
        if (e.msg.type === MessageType.MCAST && e.msg.encapsulated === Encapsulation.NOT_ENCAPSULATED) sent++;
      }
    }
    return { sent, token };
  }

  /** Deliver one frame, or advance time to the next deadline. Returns false if nothing can happen. */
  step(): boolean {
    const f = this.inflight.shift();
    if (f === undefined) {
      let next: number | undefined;
      for (const [id, s] of this.srp) {
        if (this.down.has(id)) continue;
        const d = s.nextDeadline();
        if (d !== undefined && (next === undefined || d < next)) next = d;
      }
      if (next === undefined) return false;
      this.now = Math.max(this.now, next);
      for (const [id, s] of this.srp) {
        if (this.down.has(id)) continue;
        s.tick(this.now);
        this.flush(id);
      }
      return true;
    }
    if (this.down.has(f.to)) return true;
    const r = tryDecodeTotem(f.bytes);
    assert.ok(r.ok);
    const s = this.srp.get(f.to)!;
    const operational = s.stateName === "OPERATIONAL";
    s.receive(this.now, r.msg);
    const out = this.flush(f.to);
    if (this.recording && operational && r.msg.type === MessageType.ORF_TOKEN) {
      const cbl = this.unsent.get(f.to)!;
      this.unsent.set(f.to, cbl - out.sent);
      this.visits.push({
        node: f.to,
        sent: out.sent,
        cbl,
        tokenIn: { fcc: r.msg.fcc, backlog: r.msg.backlog },
        tokenOut: out.token === undefined ? undefined : { fcc: out.token.fcc, backlog: out.token.backlog },
      });
    }
    return true;
  }

  /** Nothing in flight. */
  get idle(): boolean {
    return this.inflight.length === 0;
  }

  /** kill -9: the processor stops at once. */
  crash(id: number): void {
    this.down.add(id);
  }

  /** The processors that are up. */
  get live(): TotemSrp[] {
    return this.ids.filter((id) => !this.down.has(id)).map((id) => this.srp.get(id)!);
  }

  /** Every live processor is operational in one ring of exactly the live processors. */
  converged(): boolean {
    const live = this.live;
    const first = live[0]!;
    for (const s of live) {
      if (s.stateName !== "OPERATIONAL" || s.waitingTransAck || s.members.length !== live.length) return false;
      if (s.ringId.seq !== first.ringId.seq || s.ringId.rep !== first.ringId.rep) return false;
    }
    return true;
  }

  runUntil(done: () => boolean, maxSteps = 200_000): void {
    for (let i = 0; i < maxSteps; i++) {
      if (done()) return;
      if (!this.step()) break;
    }
    assert.ok(done(), "the hand-driven ring did not reach the expected state");
  }
}
