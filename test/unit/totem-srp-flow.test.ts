/**
 * Flow control (totem-spec §4.9, corosync fcc_calculate / fcc_token_update) observed from
 * outside the SRP core: a few TotemSrp instances wired by hand (frames through the real
 * codecs, in FIFO order, virtual time advanced only when nothing is in flight). At every
 * operational token visit the number of new messages the holder multicasts and the fcc and
 * backlog it writes into the token are compared with a reference model written from the
 * spec, fed only with what is visible outside: the token fields on the wire and how many
 * messages the test queued at that node and saw it send.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { TotemSrp } from "../../src/core/totem/srp.js";
import { DEFAULT_SRP_CONFIG, type SrpConfig } from "../../src/core/totem/types.js";
import { encodeTotem, tryDecodeTotem } from "../../src/wire/totem/codec.js";
import { Encapsulation, MessageType, type OrfToken } from "../../src/wire/totem/types.js";

interface Visit {
  node: number;
  sent: number;
  tokenIn: { fcc: number; backlog: number };
  tokenOut: { fcc: number; backlog: number } | undefined;
  cbl: number;
}

/** N processors on a lossless FIFO network. */
class HandRing {
  readonly srp = new Map<number, TotemSrp>();
  now = 0;
  private readonly inflight: Array<{ to: number; bytes: Uint8Array }> = [];
  private readonly needAck = new Set<number>();
  readonly delivered = new Map<number, string[]>();
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
      this.unsent.set(id, 0);
      const srp = new TotemSrp({
        nodeId: id,
        config: cfg,
        persistedRingSeq: 0n,
        upcalls: {
          deliver: (from, payload) => this.delivered.get(id)!.push(`${from}:${new TextDecoder().decode(payload)}`),
          confchg: (c) => {
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
      for (const s of this.srp.values()) {
        const d = s.nextDeadline();
        if (d !== undefined && (next === undefined || d < next)) next = d;
      }
      if (next === undefined) return false;
      this.now = Math.max(this.now, next);
      for (const [id, s] of this.srp) {
        s.tick(this.now);
        this.flush(id);
      }
      return true;
    }
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

  converged(): boolean {
    const first = this.srp.get(this.ids[0]!)!;
    for (const s of this.srp.values()) {
      if (s.stateName !== "OPERATIONAL" || s.waitingTransAck || s.members.length !== this.ids.length) return false;
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

/**
 * The reference model (totem-spec §4.9): what a holder may send on a visit and how it
 * rewrites the token, given its previous contribution (trc, pbl).
 */
function fccModel(cfg: SrpConfig, tok: { fcc: number; backlog: number }, cbl: number, prev: { trc: number; pbl: number }) {
  let allowed = Math.min(cfg.maxMessages, (cfg.windowSize - tok.fcc) >>> 0);
  const denom = (tok.backlog + cbl - prev.pbl) >>> 0;
  if (denom !== 0) {
    const calc = Math.floor((cfg.windowSize * prev.pbl) / denom);
    if (calc > 0 && allowed > calc) allowed = calc;
  }
  const sent = Math.min(allowed, cbl);
  return {
    sent,
    fcc: (tok.fcc + sent - prev.trc) >>> 0,
    backlog: (tok.backlog + cbl - prev.pbl) >>> 0,
  };
}

function checkVisitsAgainstModel(ring: HandRing, cfg: SrpConfig): void {
  const prev = new Map<number, { trc: number; pbl: number }>();
  const lastSent = new Map<number, number>();
  for (const [i, v] of ring.visits.entries()) {
    const p = prev.get(v.node) ?? { trc: 0, pbl: 0 };
    const want = fccModel(cfg, v.tokenIn, v.cbl, p);
    const where = `visit ${i} at node ${v.node} (token fcc ${v.tokenIn.fcc} backlog ${v.tokenIn.backlog}, cbl ${v.cbl}, prev ${JSON.stringify(p)})`;
    assert.equal(v.sent, want.sent, `${where}: messages sent`);
    assert.ok(v.sent <= cfg.maxMessages, `${where}: more than max_messages`);
    assert.ok(v.tokenOut !== undefined, `${where}: token not forwarded`);
    assert.equal(v.tokenOut.fcc, want.fcc, `${where}: token fcc`);
    assert.equal(v.tokenOut.backlog, want.backlog, `${where}: token backlog`);
    prev.set(v.node, { trc: v.sent, pbl: v.cbl });
    lastSent.set(v.node, v.sent);
    // The window: what the latest visit of every member sent adds up to at most window_size.
    let inRotation = 0;
    for (const n of lastSent.values()) inRotation += n;
    assert.ok(inRotation <= cfg.windowSize, `${where}: ${inRotation} messages in one rotation`);
  }
}

function formRing(ids: number[], cfg: SrpConfig): HandRing {
  const ring = new HandRing(ids, cfg);
  ring.start();
  ring.runUntil(() => ring.converged());
  ring.recording = true;
  return ring;
}

test("a single processor with window 20 and max_messages 17 sends 17, 3, 17, 3, ... per visit", () => {
  const cfg: SrpConfig = { ...DEFAULT_SRP_CONFIG, windowSize: 20, maxMessages: 17 };
  const ring = formRing([1], cfg);
  for (let i = 0; i < 100; i++) ring.mcast(1, `m${i}`);
  ring.runUntil(() => ring.delivered.get(1)!.length === 100);
  const sends = ring.visits.map((v) => v.sent).filter((n) => n > 0);
  assert.deepEqual(sends, [17, 3, 17, 3, 17, 3, 17, 3, 17, 3]);
  checkVisitsAgainstModel(ring, cfg);
  assert.deepEqual(ring.delivered.get(1), Array.from({ length: 100 }, (_, i) => `1:m${i}`));
});

test("with the default window of 50 max_messages (17) is the limit of one holder", () => {
  const cfg: SrpConfig = { ...DEFAULT_SRP_CONFIG };
  const ring = formRing([1], cfg);
  for (let i = 0; i < 60; i++) ring.mcast(1, `m${i}`);
  ring.runUntil(() => ring.delivered.get(1)!.length === 60);
  assert.deepEqual(ring.visits.map((v) => v.sent).filter((n) => n > 0), [17, 17, 17, 9]);
  checkVisitsAgainstModel(ring, cfg);
});

test("three processors with backlogs share the window as the spec's arithmetic says, and agree on the order", () => {
  const cfg: SrpConfig = { ...DEFAULT_SRP_CONFIG, windowSize: 30, maxMessages: 17 };
  const ring = formRing([1, 2, 3], cfg);
  for (let i = 0; i < 120; i++) ring.mcast(1, `a${i}`);
  for (let i = 0; i < 40; i++) ring.mcast(2, `b${i}`);
  for (let i = 0; i < 7; i++) ring.mcast(3, `c${i}`);
  ring.runUntil(() => [1, 2, 3].every((id) => ring.delivered.get(id)!.length === 167));
  checkVisitsAgainstModel(ring, cfg);
  assert.ok(ring.visits.some((v) => v.sent > 0 && v.sent < Math.min(v.cbl, cfg.maxMessages)), "the window or the backlog share limited some visit");
  const order = ring.delivered.get(1)!;
  assert.deepEqual(ring.delivered.get(2), order);
  assert.deepEqual(ring.delivered.get(3), order);
  for (const p of ["1:a", "2:b", "3:c"]) {
    const mine = order.filter((m) => m.startsWith(p)).map((m) => Number(m.slice(3)));
    assert.deepEqual(mine, mine.map((_, i) => i), `FIFO for ${p}`);
  }
});

test("property: any backlog pattern and window obeys the fcc model at every visit", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 60 }),
      fc.integer({ min: 1, max: 20 }),
      fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 2, maxLength: 4 }),
      (windowSize, maxMessages, backlogs) => {
        const cfg: SrpConfig = { ...DEFAULT_SRP_CONFIG, windowSize, maxMessages };
        const ids = backlogs.map((_, i) => i + 1);
        const ring = formRing(ids, cfg);
        backlogs.forEach((n, i) => {
          for (let k = 0; k < n; k++) ring.mcast(i + 1, `${i + 1}.${k}`);
        });
        const total = backlogs.reduce((a, b) => a + b, 0);
        ring.runUntil(() => ids.every((id) => ring.delivered.get(id)!.length === total));
        checkVisitsAgainstModel(ring, cfg);
        const order = ring.delivered.get(1)!;
        return ids.every((id) => ring.delivered.get(id)!.join() === order.join());
      },
    ),
    { numRuns: 25 },
  );
});
