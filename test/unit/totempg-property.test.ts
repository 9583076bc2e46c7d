/**
 * Property tests of totempg (src/core/pg/totempg.ts): whatever the message sizes, iovec
 * splits, token timing and netmtu, packing then delivering gives back exactly the messages
 * sent, in order; a receiver meeting the stream late delivers exactly the messages that begin
 * after it; and configuration changes cutting messages at any point lose and duplicate nothing.
 */
import { test } from "node:test";
import fc from "fast-check";
import { decodePgPacket } from "../../src/wire/pg/packet.js";
import { bytes, deliverAll, pgNode, reconfigure, type PgNode } from "./totempg-fakes.js";

interface Msg {
  group: "a" | "sync";
  body: Uint8Array;
  /** The body cut into iovecs at these offsets. */
  iov: Uint8Array[];
}

const sizeArb = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 4000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 30000 }) },
);

const msgArb = fc
  .record({ size: sizeArb, cuts: fc.array(fc.nat(), { maxLength: 4 }), sync: fc.boolean(), seed: fc.nat() })
  .map(({ size, cuts, sync, seed }): Msg => {
    const body = bytes(size, seed);
    const at = [...new Set(cuts.map((c) => (size === 0 ? 0 : c % size)))].sort((x, y) => x - y);
    const iov: Uint8Array[] = [];
    let prev = 0;
    for (const c of [...at, size]) {
      iov.push(body.subarray(prev, c));
      prev = c;
    }
    return { group: sync ? "sync" : "a", body, iov };
  });

type Op = { kind: "msg"; msg: Msg; from: number } | { kind: "token"; from: number; send: number } | { kind: "confchg" };

const opArb = (senders: number, withConfchg: boolean): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 4, arbitrary: msgArb.chain((msg) => fc.integer({ min: 1, max: senders }).map((from) => ({ kind: "msg" as const, msg, from }))) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("token" as const), from: fc.integer({ min: 1, max: senders }), send: fc.integer({ min: 0, max: 25 }) }) },
    { weight: withConfchg ? 1 : 0, arbitrary: fc.constant({ kind: "confchg" as const }) },
  );

const mtuArb = fc.oneof(fc.constant(1410), fc.integer({ min: 64, max: 9000 }));

function key(from: number, group: string, body: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < body.byteLength; i++) h = Math.imul(h ^ body[i]!, 0x01000193) >>> 0;
  return `${from}/${group}/${body.byteLength}/${h.toString(16)}`;
}

/** Send through the fake SRP and check every packet on the way. */
function sendPackets(n: PgNode, count: number, netMtu: number): Uint8Array[] {
  const packets = n.lower.send(count);
  for (const p of packets) {
    if (p.byteLength > netMtu) throw new Error(`a packet of ${p.byteLength} bytes exceeds netmtu ${netMtu}`);
    decodePgPacket(p);
  }
  return packets;
}

test("property: pack, fragment and deliver give back exactly the messages, in order, at every receiver", () => {
  fc.assert(
    fc.property(mtuArb, fc.array(opArb(1, false), { maxLength: 40 }), (netMtu, ops) => {
      const a = pgNode(1, netMtu, 1_000_000);
      const b = pgNode(2, netMtu, 1_000_000);
      const sent: string[] = [];
      for (const op of ops) {
        if (op.kind === "msg") {
          if (!a.pg.mcastGroup(0, op.msg.group, op.msg.iov)) return false;
          sent.push(key(1, op.msg.group, op.msg.body));
        } else if (op.kind === "token") {
          a.pg.tokenReceived();
          deliverAll(1, sendPackets(a, op.send, netMtu), [a, b]);
        }
      }
      a.pg.tokenReceived();
      deliverAll(1, sendPackets(a, Infinity, netMtu), [a, b]);
      const got = (n: PgNode): string[] => n.got.map((g) => key(g.from, g.group, g.body));
      return got(a).join() === sent.join() && got(b).join() === sent.join() && b.pg.stats.rx_thrown_away === 0;
    }),
    { numRuns: 150 },
  );
});

test("property: a receiver that starts mid-stream delivers exactly the messages that begin after it started", () => {
  // What a node sees of a sender it meets late: a suffix of the packet stream, maybe starting
  // with the continuation of a message begun earlier, which it must discard. (Packets are not
  // lost inside the stream: the SRP delivers a sender's packets without gaps.)
  fc.assert(
    fc.property(mtuArb, fc.array(opArb(1, false), { maxLength: 30 }), fc.nat(), (netMtu, ops, startAt) => {
      const a = pgNode(1, netMtu, 1_000_000);
      const sent: string[] = [];
      const stream: Uint8Array[] = [];
      for (const op of ops) {
        if (op.kind === "msg") {
          a.pg.mcastGroup(0, op.msg.group, op.msg.iov);
          sent.push(key(1, op.msg.group, op.msg.body));
        } else if (op.kind === "token") {
          a.pg.tokenReceived();
          stream.push(...sendPackets(a, op.send, netMtu));
        }
      }
      a.pg.tokenReceived();
      stream.push(...sendPackets(a, Infinity, netMtu));
      const s = stream.length === 0 ? 0 : startAt % stream.length;
      // Messages that begin in the packets before s: every piece but a continuing first one.
      let begunBefore = 0;
      for (const p of stream.slice(0, s)) {
        const d = decodePgPacket(p);
        begunBefore += d.pieces.length - (d.continuation !== 0 ? 1 : 0);
      }
      const c = pgNode(3, netMtu);
      for (const p of stream.slice(s)) c.pg.deliver(1, p, false);
      const got = c.got.map((g) => key(g.from, g.group, g.body));
      return got.join() === sent.slice(begunBefore).join();
    }),
    { numRuns: 200 },
  );
});

test("property: configuration changes at any point lose, duplicate and reorder nothing (two senders)", () => {
  fc.assert(
    fc.property(mtuArb, fc.array(opArb(2, true), { maxLength: 50 }), (netMtu, ops) => {
      const nodes = [pgNode(1, netMtu, 1_000_000), pgNode(2, netMtu, 1_000_000)];
      const sent: string[][] = [[], []];
      for (const op of ops) {
        if (op.kind === "msg") {
          const n = nodes[op.from - 1]!;
          n.pg.mcastGroup(0, op.msg.group, op.msg.iov);
          sent[op.from - 1]!.push(key(op.from, op.msg.group, op.msg.body));
        } else if (op.kind === "token") {
          const n = nodes[op.from - 1]!;
          n.pg.tokenReceived();
          deliverAll(op.from, sendPackets(n, op.send, netMtu), nodes);
        } else {
          reconfigure(nodes, [1, 2], [], []);
        }
      }
      for (const n of nodes) {
        n.pg.tokenReceived();
        deliverAll(n.id, sendPackets(n, Infinity, netMtu), nodes);
      }
      const got = nodes.map((n) => n.got.map((g) => key(g.from, g.group, g.body)));
      if (got[0]!.join() !== got[1]!.join()) return false;
      for (const s of [1, 2]) {
        const mine = got[0]!.filter((k) => k.startsWith(`${s}/`));
        if (mine.join() !== sent[s - 1]!.join()) return false;
      }
      return true;
    }),
    { numRuns: 150 },
  );
});
