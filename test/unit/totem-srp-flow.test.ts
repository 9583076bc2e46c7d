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
import { DEFAULT_SRP_CONFIG, type SrpConfig } from "../../src/core/totem/types.js";
import { HandRing } from "./totem-hand-ring.js";

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
