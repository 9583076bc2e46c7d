/**
 * Test doubles for totempg: a fake SRP below it that records the packets it is given, and a
 * node = TotemPg + fake + what it delivered. "Sending" hands packets, in order, to receivers.
 */
import { TotemPg, type PgLower } from "../../src/core/pg/totempg.js";
import type { ConfigurationChange } from "../../src/core/totem/types.js";

export const NET_MTU = 1410;

export class FakeLower implements PgLower {
  queue: Array<{ payload: Uint8Array; guarantee: 0 | 1; opts?: { queue?: "current" | "normal"; force?: boolean } }> = [];
  holdCancels = 0;
  transAcks = 0;
  constructor(public capacity = 4000) {}
  mcast(_now: number, payload: Uint8Array, guarantee: 0 | 1, opts?: { queue?: "current" | "normal"; force?: boolean }): boolean {
    if (opts?.force !== true && this.queue.length >= this.capacity) return false;
    this.queue.push({ payload, guarantee, ...(opts === undefined ? {} : { opts }) });
    return true;
  }
  avail(): number {
    return Math.max(0, this.capacity - this.queue.length);
  }
  holdCancel(): void {
    this.holdCancels++;
  }
  takeUnsent(): Array<{ payload: Uint8Array; guarantee: 0 | 1 }> {
    return this.queue.splice(0).map(({ payload, guarantee }) => ({ payload, guarantee }));
  }
  transAck(): void {
    this.transAcks++;
  }
  /** The SRP multicasts up to `n` queued packets, oldest first. */
  send(n = Infinity): Uint8Array[] {
    return this.queue.splice(0, n).map((q) => q.payload);
  }
}

export interface PgNode {
  id: number;
  pg: TotemPg;
  lower: FakeLower;
  got: Array<{ from: number; group: string; body: Uint8Array }>;
  confchgs: ConfigurationChange[];
}

export function pgNode(id: number, netMtu = NET_MTU, capacity = 4000): PgNode {
  const lower = new FakeLower(capacity);
  const n: PgNode = { id, lower, got: [], confchgs: [], pg: undefined as unknown as TotemPg };
  n.pg = new TotemPg({
    netMtu,
    nodeId: id,
    lower,
    upper: {
      deliver: (from, group, body) => n.got.push({ from, group, body: body.slice() }),
      confchg: (c) => n.confchgs.push(c),
    },
  });
  // A node of an operational ring whose sync has finished: its traffic is normal traffic, which
  // a configuration change must not lose (sync-time traffic is another matter; see totempg.test).
  n.pg.waitingTransAck(false);
  return n;
}

/** Hand `packets` from `sender` to every receiver, in order (the agreed order). */
export function deliverAll(sender: number, packets: readonly Uint8Array[], receivers: readonly PgNode[]): void {
  for (const p of packets) for (const r of receivers) r.pg.deliver(sender, p, false);
}

export function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export const ring = (id: number, seq: bigint) => ({ rep: id, seq });

/** Transitional then regular configuration at every node, as the SRP delivers them (§4.8). */
export function reconfigure(nodes: readonly PgNode[], members: number[], left: number[], joined: number[]): void {
  const ringId = ring(1, 8n);
  for (const n of nodes) {
    n.pg.confchg({ type: "transitional", members: members.filter((m) => !joined.includes(m)), left, joined: [], ringId });
    n.pg.waitingTransAck(true);
    n.pg.confchg({ type: "regular", members, left: [], joined, ringId });
  }
  // The new ring's sync finishes before anyone sends again (as the host's trans-ack does).
  for (const n of nodes) n.pg.waitingTransAck(false);
}
