/**
 * The redundant-ring wrapper over real udpu sockets on loopback: ring 0 on 127.0.0.x,
 * ring 1 on 127.0.1.x. Active mode delivers a copy per ring, passive mode alternates;
 * probes never reach the driver. A ring made unusable by a wrong member address (so
 * datagrams go nowhere one way and are blocked as unlisted the other) is marked FAULTY on
 * both nodes while traffic continues on ring 0; `resetRings` re-enables it at once; once
 * the address is corrected, probes recover it automatically.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { RingStatus, TransportMember } from "../../src/runtime/transport/types.js";
import { RrpTransport } from "../../src/runtime/transport/rrp.js";
import type { RrpMode } from "../../src/runtime/transport/rrp-detector.js";
import { UdpuTransport } from "../../src/runtime/transport/udpu.js";

interface Node {
  t: RrpTransport;
  rx: Array<{ data: string; ring: number; address: string }>;
  ringEvents: RingStatus[];
  logs: string[];
}

const open: RrpTransport[] = [];
after(async () => {
  await Promise.all(open.map((t) => t.close()));
});

const enc = (s: string) => new Uint8Array(Buffer.from(s));
const members: TransportMember[] = [1, 2].map((i) => ({ nodeId: i, addrs: [`127.0.0.${i}`, `127.0.1.${i}`] }));

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

async function startPair(mode: RrpMode, view: (self: number) => TransportMember[] = () => members): Promise<Node[]> {
  for (let attempt = 0; ; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const nodes: Node[] = [];
    try {
      for (const id of [1, 2]) {
        const ms = view(id);
        const rings = [0, 1].map((r) => new UdpuTransport({ localNodeId: id, localAddress: `127.0.${r}.${id}`, port, members: ms, ring: r, bindRetries: 0 }));
        const t = new RrpTransport({ mode, localNodeId: id, rings, members: ms, timers: { autorecoveryCheckTimeoutMs: 200 } });
        open.push(t);
        const node: Node = { t, rx: [], ringEvents: [], logs: [] };
        await t.start({
          onDatagram: (b, from) => node.rx.push({ data: Buffer.from(b).toString(), ring: from.ring, address: from.address }),
          onLog: (level, text) => node.logs.push(`${level}: ${text}`),
          onRingStatus: (s) => node.ringEvents.push(s),
        });
        nodes.push(node);
      }
      return nodes;
    } catch (err) {
      await Promise.all(nodes.map((n) => n.t.close()));
      if (attempt >= 5 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
}

test("active: every datagram goes on both rings; the receiver gets one copy per ring", async () => {
  const [a, b] = await startPair("active");
  try {
    a!.t.sendToAll(enc("m"));
    a!.t.sendToNode(2, enc("tok"));
    await until(() => b!.rx.length === 4 && a!.rx.length === 2, 2000, "copies");
    assert.deepEqual(b!.rx.map((r) => `${r.data}@${r.ring}:${r.address}`).sort(), ["m@0:127.0.0.1", "m@1:127.0.1.1", "tok@0:127.0.0.1", "tok@1:127.0.1.1"]);
    assert.equal(a!.t.stats.tx_datagrams, 6, "2 members × 2 rings + a token per ring");
    assert.deepEqual(a!.t.rings().map((r) => r.faulty), [false, false]);
    assert.equal(a!.t.localAddress, "127.0.0.1");
  } finally {
    await Promise.all([a!.t.close(), b!.t.close()]);
  }
});

test("passive: sends alternate between the rings, tokens and multicasts each in turn", async () => {
  const [a, b] = await startPair("passive");
  try {
    for (let i = 0; i < 4; i++) a!.t.sendToAll(enc(`m${i}`));
    for (let i = 0; i < 4; i++) a!.t.sendToNode(2, enc(`t${i}`));
    await until(() => b!.rx.length === 8, 2000, "8 datagrams");
    const ringOf = (d: string) => b!.rx.find((r) => r.data === d)!.ring;
    assert.deepEqual(["m0", "m1", "m2", "m3"].map(ringOf), [0, 1, 0, 1]);
    assert.deepEqual(["t0", "t1", "t2", "t3"].map(ringOf), [0, 1, 0, 1]);
  } finally {
    await Promise.all([a!.t.close(), b!.t.close()]);
  }
});

test("a broken ring is marked FAULTY on both nodes, traffic continues, reset and automatic recovery", async () => {
  // Node 1 believes node 2's ring-1 address is 127.0.1.99: its ring-1 datagrams to node 2 go
  // nowhere, and node 2's ring-1 datagrams are unlisted at node 1.
  const wrong: TransportMember[] = [members[0]!, { nodeId: 2, addrs: ["127.0.0.2", "127.0.1.99"] }];
  const [a, b] = await startPair("active", (self) => (self === 1 ? wrong : members));
  const chatter = setInterval(() => {
    a!.t.sendToAll(enc("hb1"));
    b!.t.sendToAll(enc("hb2"));
    a!.t.sendToNode(2, enc("tok1"));
    b!.t.sendToNode(1, enc("tok2"));
  }, 10);
  try {
    await until(() => a!.t.rings()[1]!.faulty && b!.t.rings()[1]!.faulty, 3000, "ring 1 FAULTY on both nodes");
    for (const n of [a!, b!]) {
      const ev = n.ringEvents.find((s) => s.faulty)!;
      assert.equal(ev.ring, 1);
      assert.match(ev.reason!, /^Marking ringid 1 interface 127\.0\.1\.[12] FAULTY$/);
      assert.ok(n.logs.some((l) => /^error: Marking ringid 1 interface/.test(l)));
      assert.ok(n.logs.some((l) => /Incrementing problem counter for iface 127\.0\.1\.[12] to \[1 of 10\]/.test(l)));
      assert.deepEqual(n.t.rings()[1], { ring: 1, address: n.t.rings()[1]!.address, faulty: true, reason: ev.reason });
      assert.equal(n.t.rings()[0]!.faulty, false);
    }
    const before = b!.rx.filter((r) => r.data === "hb1").length;
    await sleep(100);
    const fresh = b!.rx.filter((r) => r.data === "hb1").slice(before);
    assert.ok(fresh.length >= 3, "node 1's heartbeats keep arriving");
    assert.ok(fresh.every((r) => r.ring === 0), "on ring 0 only");

    b!.t.resetRings();
    assert.equal(b!.t.rings()[1]!.faulty, false, "reset re-enables at once");
    assert.ok(b!.logs.includes("notice: Re-enabling ring 1 (administrative reset)"));
    assert.deepEqual(b!.ringEvents.at(-1), { ring: 1, address: "127.0.1.2", faulty: false });
    await until(() => b!.t.rings()[1]!.faulty, 3000, "FAULTY again while still broken");

    await sleep(500);
    assert.equal(a!.t.rings()[1]!.faulty, true, "no recovery while probes go unanswered");
    (a!.t as RrpTransport).setMembers(members);
    await until(() => !a!.t.rings()[1]!.faulty && !b!.t.rings()[1]!.faulty, 3000, "automatic recovery on both");
    for (const n of [a!, b!]) assert.ok(n.logs.includes("notice: Automatically recovered ring 1"));
    assert.ok(!b!.rx.some((r) => r.data.startsWith("RRPt")), "probes are never delivered");
    const mark = b!.rx.length;
    await until(() => b!.rx.slice(mark).some((r) => r.data === "hb1" && r.ring === 1), 2000, "ring 1 carries traffic again");
  } finally {
    clearInterval(chatter);
    await Promise.all([a!.t.close(), b!.t.close()]);
  }
});
