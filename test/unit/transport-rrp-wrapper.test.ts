/**
 * The RRP wrapper's own logic (src/runtime/transport/rrp.ts) over in-memory rings: probes
 * are answered only when consistent and never delivered, learned addresses identify peers
 * without overriding the nodelist, start failures release the started rings, stats add up.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { RingTransport } from "../../src/runtime/transport/common.js";
import { PROBE_BYTES, RrpTransport, decodeProbe, encodeProbe } from "../../src/runtime/transport/rrp.js";
import type { DatagramSource, RingStatus, TransportHandlers, TransportMember, TransportStats } from "../../src/runtime/transport/types.js";

class FakeRing implements RingTransport {
  readonly name = "udp" as const;
  readonly stats: TransportStats = { tx_datagrams: 0, rx_datagrams: 0, tx_bytes: 0, rx_bytes: 0, rx_blocked_unlisted: 0, rx_too_big: 0, tx_errors: 0 };
  handlers: TransportHandlers | undefined;
  sent: Array<{ to: number | "all"; bytes: Uint8Array }> = [];
  learned: Array<[number, string]> = [];
  closed = false;
  constructor(
    readonly ring: number,
    readonly localAddress: string,
    private readonly failStart = false,
  ) {}
  async start(h: TransportHandlers): Promise<void> {
    if (this.failStart) throw new Error(`ring ${this.ring}: cannot bind`);
    this.handlers = h;
  }
  sendToNode(nodeId: number, bytes: Uint8Array): void {
    this.sent.push({ to: nodeId, bytes });
    this.stats.tx_datagrams++;
  }
  sendToAll(bytes: Uint8Array): void {
    this.sent.push({ to: "all", bytes });
    this.stats.tx_datagrams++;
  }
  learnNodeAddress(nodeId: number, from: DatagramSource): void {
    this.learned.push([nodeId, from.address]);
  }
  setMembers(_m: readonly TransportMember[]): void {}
  rings(): RingStatus[] {
    return [{ ring: this.ring, address: this.localAddress, faulty: false }];
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  /** Deliver a datagram as if it came from `address` on this ring. */
  inject(bytes: Uint8Array, address: string): void {
    this.handlers!.onDatagram(bytes, { address, port: 5405, family: "IPv4", ring: this.ring });
  }
}

const members: TransportMember[] = [
  { nodeId: 1, addrs: ["10.0.0.1", "10.1.0.1"] },
  { nodeId: 2, addrs: ["10.0.0.2", "10.1.0.2"] },
];

async function setup(ms = members) {
  const rings = [new FakeRing(0, "10.0.0.1"), new FakeRing(1, "10.1.0.1")];
  const t = new RrpTransport({ mode: "active", localNodeId: 1, rings, members: ms });
  const delivered: Array<[string, number]> = [];
  await t.start({ onDatagram: (b, from) => delivered.push([Buffer.from(b).toString("latin1"), from.ring]) });
  return { t, rings, delivered };
}

const replies = (r: FakeRing) => r.sent.filter((s) => decodeProbe(s.bytes)?.kind === "reply");

test("a consistent probe from a member is answered on its ring and not delivered", async () => {
  const { t, rings, delivered } = await setup();
  rings[1]!.inject(encodeProbe({ kind: "probe", ring: 1, nodeId: 2, round: 9 }), "10.1.0.2");
  assert.deepEqual(delivered, []);
  assert.equal(replies(rings[1]!).length, 1);
  assert.deepEqual(decodeProbe(replies(rings[1]!)[0]!.bytes), { kind: "reply", ring: 1, nodeId: 1, round: 9 });
  assert.equal(replies(rings[1]!)[0]!.to, 2);
  assert.equal(rings[0]!.sent.length, 0);
  await t.close();
});

test("inconsistent or foreign probes are dropped silently", async () => {
  const { t, rings, delivered } = await setup();
  rings[1]!.inject(encodeProbe({ kind: "probe", ring: 1, nodeId: 3, round: 1 }), "10.1.0.2"); // claims another node
  rings[1]!.inject(encodeProbe({ kind: "probe", ring: 0, nodeId: 2, round: 1 }), "10.1.0.2"); // wrong ring
  rings[1]!.inject(encodeProbe({ kind: "probe", ring: 1, nodeId: 9, round: 1 }), "10.1.0.9"); // unknown source
  rings[1]!.inject(encodeProbe({ kind: "probe", ring: 1, nodeId: 1, round: 1 }), "10.1.0.1"); // our own
  rings[1]!.inject(encodeProbe({ kind: "reply", ring: 1, nodeId: 2, round: 1 }), "10.1.0.2"); // unsolicited reply
  assert.deepEqual(delivered, []);
  assert.equal(rings[1]!.sent.length, 0);
  const almost = encodeProbe({ kind: "probe", ring: 1, nodeId: 2, round: 1 });
  rings[1]!.inject(almost.subarray(0, PROBE_BYTES - 1), "10.1.0.2");
  rings[0]!.inject(new Uint8Array([0xc0, 0x70, 3, 1]), "10.0.0.2");
  assert.equal(delivered.length, 2, "anything that is not exactly a probe goes to the driver");
  await t.close();
});

test("learned addresses identify peers on their ring; the nodelist is never overridden", async () => {
  const { t, rings } = await setup([{ nodeId: 1, addrs: ["10.0.0.1", "10.1.0.1"] }]);
  const probe = encodeProbe({ kind: "probe", ring: 1, nodeId: 5, round: 1 });
  rings[1]!.inject(probe, "10.1.0.5");
  assert.equal(rings[1]!.sent.length, 0, "unknown source: no answer");
  t.learnNodeAddress(5, { address: "10.1.0.5", port: 5404, family: "IPv4", ring: 1 });
  assert.deepEqual(rings[1]!.learned, [[5, "10.1.0.5"]], "passed to the ring's transport");
  rings[1]!.inject(probe, "10.1.0.5");
  assert.equal(replies(rings[1]!).length, 1);
  t.learnNodeAddress(6, { address: "10.1.0.1", port: 5404, family: "IPv4", ring: 1 });
  rings[1]!.inject(encodeProbe({ kind: "probe", ring: 1, nodeId: 6, round: 1 }), "10.1.0.1");
  assert.equal(replies(rings[1]!).length, 1, "10.1.0.1 stays node 1 (configured)");
  t.learnNodeAddress(5, { address: "10.0.0.5", port: 5404, family: "IPv4", ring: 7 });
  await t.close();
});

test("active sends go on every ring; stats are the sum of the rings", async () => {
  const { t, rings } = await setup();
  t.sendToAll(new Uint8Array([1]));
  t.sendToNode(2, new Uint8Array([2]));
  assert.deepEqual(rings.map((r) => r.sent.map((s) => s.to)), [
    ["all", 2],
    ["all", 2],
  ]);
  assert.equal(t.stats.tx_datagrams, 4);
  await t.close();
  assert.ok(rings.every((r) => r.closed));
});

test("a ring that cannot start releases the rings already started", async () => {
  const rings = [new FakeRing(0, "10.0.0.1"), new FakeRing(1, "10.1.0.1", true)];
  const t = new RrpTransport({ mode: "passive", localNodeId: 1, rings, members });
  await assert.rejects(t.start({ onDatagram: () => {} }), /ring 1: cannot bind/);
  assert.equal(rings[0]!.closed, true);
  assert.throws(() => new RrpTransport({ mode: "active", localNodeId: 1, rings: [rings[0]!], members }), /at least 2 rings/);
  assert.throws(() => new RrpTransport({ mode: "active", localNodeId: 1, rings: [rings[1]!, rings[0]!], members }), /index 0 serves ring 1/);
});
