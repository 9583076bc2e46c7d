/**
 * The knet transport over real sockets on loopback (127.a.b.1/2/3; Linux routes all of 127/8
 * to lo): links come up, broadcast/unicast/loopback deliveries, a 60,000-byte message in
 * fragments, crypto on the wire, a node with another key never reachable and reported as
 * "invalid digest" at most once per source per 10 s, unlisted and garbage datagrams counted.
 * Short heartbeat timers keep it fast. Every socket is closed in `after`.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { setTimeout as sleep } from "node:timers/promises";
import { KnetTransport, type KnetTransportOptions } from "../../src/runtime/transport/knet.js";
import type { DatagramSource, TransportMember } from "../../src/runtime/transport/types.js";

const open: KnetTransport[] = [];
const sockets: Socket[] = [];
after(async () => {
  await Promise.all(open.map((t) => t.close()));
  for (const s of sockets) s.close();
});

interface Node {
  id: number;
  t: KnetTransport;
  rx: Array<{ bytes: Uint8Array; from: DatagramSource }>;
  logs: string[];
}

const KEY = randomBytes(256);
const net = () => `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}`;

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Nodes 1..n on `<prefix>.<id>`, one random port, fast timers, crypto unless `key` is null. */
async function cluster(n: number, opts: { key?: Uint8Array | null; keyOf?: (id: number) => Uint8Array; extra?: Partial<KnetTransportOptions> } = {}): Promise<{ nodes: Node[]; port: number; prefix: string }> {
  for (let attempt = 0; ; attempt++) {
    const prefix = net();
    const port = 20000 + Math.floor(Math.random() * 12000);
    const members: TransportMember[] = Array.from({ length: n }, (_, i) => ({ nodeId: i + 1, addrs: [`${prefix}.${i + 1}`] }));
    const nodes: Node[] = [];
    try {
      for (const m of members) {
        const key = opts.keyOf?.(m.nodeId) ?? (opts.key === null ? undefined : (opts.key ?? KEY));
        const t = new KnetTransport({
          localNodeId: m.nodeId,
          links: [{ link: 0, localAddress: m.addrs[0]!, port, priority: 1, pingIntervalMs: 100, pongTimeoutMs: 300, pongCount: 2, precision: 2048 }],
          members,
          heartbeatMs: 50,
          bindRetries: 0,
          ...(key === undefined ? {} : { crypto: { cipher: "aes256", hash: "sha256", key } }),
          ...opts.extra,
        });
        open.push(t);
        const node: Node = { id: m.nodeId, t, rx: [], logs: [] };
        await t.start({ onDatagram: (bytes, from) => node.rx.push({ bytes, from }), onLog: (level, text) => node.logs.push(`${level}: ${text}`) });
        nodes.push(node);
      }
      return { nodes, port, prefix };
    } catch (err) {
      await Promise.all(nodes.map((x) => x.t.close()));
      if (attempt >= 5 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
}

function totem(len: number, tag: number): Uint8Array {
  const p = new Uint8Array(len);
  p.set([0x70, 0xc0, 3, 1, 0, 1, 0, 0, 0]);
  for (let i = 13; i < len; i++) p[i] = (i * tag) & 0xff;
  return p;
}

const reachableAll = (nodes: Node[]) => nodes.every((x) => x.t.links().filter((s) => !s.local).every((s) => s.reachable));

test("three nodes with crypto: links up, broadcast to all (self by loopback), unicast to one, 60,000 bytes in fragments", async () => {
  const { nodes, port } = await cluster(3);
  await until(() => reachableAll(nodes), 5000, "every link up");
  const [a, b, c] = nodes as [Node, Node, Node];
  a.t.sendToAll(totem(100, 3));
  await until(() => b.rx.length === 1 && c.rx.length === 1 && a.rx.length === 1, 2000, "broadcast everywhere");
  assert.deepEqual(Uint8Array.from(b.rx[0]!.bytes.subarray(13)), totem(100, 3).subarray(13));
  assert.deepEqual([b.rx[0]!.from.port, b.rx[0]!.from.ring], [port, 0]);
  assert.equal(b.rx[0]!.from.address, a.t.localAddress);
  a.t.sendToNode(3, totem(57, 5));
  await until(() => c.rx.length === 2, 2000, "unicast to 3");
  await sleep(50);
  assert.equal(b.rx.length, 1, "unicast not to 2");
  assert.equal(c.rx[1]!.bytes[9], 3, "target_nodeid written");
  const big = totem(60_000, 7);
  b.t.sendToAll(big);
  await until(() => a.rx.length === 2 && c.rx.length === 3, 3000, "the big message");
  assert.deepEqual(Uint8Array.from(a.rx[1]!.bytes.subarray(13)), big.subarray(13));
  assert.ok(b.t.stats.tx_datagrams >= 2 * 43, `60,000 / 1397 → 43 fragments per peer (${b.t.stats.tx_datagrams} datagrams sent)`);
  const status = a.t.links();
  assert.deepEqual(status.map((s) => [s.nodeId, s.local, s.reachable]), [[1, true, true], [2, false, true], [3, false, true]]);
  const l = status[1]!.links[0]!;
  assert.equal(l.mtu, 1397);
  assert.equal(l.transport, "udp");
  assert.ok(l.connected && l.latencyUs !== undefined && l.latencyUs < 100_000);
  assert.deepEqual(a.t.rings(), [{ ring: 0, address: a.t.localAddress, faulty: false }]);
  assert.equal(a.t.stats.rx_invalid_digest, 0);
});

test("a node with another key is never reachable, and its datagrams are invalid digest, logged once per 10 s", async () => {
  const other = randomBytes(256);
  const { nodes } = await cluster(3, { keyOf: (id) => (id === 3 ? other : KEY) });
  const [a, b, c] = nodes as [Node, Node, Node];
  await until(() => a.t.links()[1]!.reachable && b.t.links()[1]!.reachable, 5000, "1 and 2 reach each other");
  await sleep(1000);
  for (const n of [a, b]) {
    assert.equal(n.t.links().find((s) => s.nodeId === 3)!.reachable, false);
    assert.ok(n.t.stats.rx_invalid_digest >= 5, `${n.t.stats.rx_invalid_digest} invalid digests`);
    const lines = n.logs.filter((l) => l.includes("invalid digest"));
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0]!, /^error: Received message has invalid digest\.\.\. ignoring\. \(from 127\.[0-9.]+:\d+: /);
  }
  assert.equal(c.t.links().filter((s) => !s.local).some((s) => s.reachable), false);
  a.t.sendToAll(totem(40, 1));
  await until(() => b.rx.length === 1, 2000, "2 gets it");
  await sleep(100);
  assert.equal(c.rx.length, 0);
});

test("without crypto: unlisted sources are dropped before decoding, garbage from a member's address is counted", async () => {
  const { nodes, port, prefix } = await cluster(2, { key: null });
  const [a] = nodes as [Node, Node];
  await until(() => reachableAll(nodes), 5000, "links up");
  const stranger = createSocket("udp4");
  sockets.push(stranger);
  await new Promise<void>((r) => stranger.bind(0, `${prefix}.9`, () => r()));
  const spoof = createSocket("udp4");
  sockets.push(spoof);
  await new Promise<void>((r) => spoof.bind(0, `${prefix}.2`, () => r()));
  const send = (s: Socket, b: Uint8Array) => new Promise<void>((r) => s.send(b, port, `${prefix}.1`, () => r()));
  await send(stranger, Uint8Array.of(1, 0x81, 0, 2, 0, 0, 0));
  await send(spoof, Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9));
  await send(spoof, Uint8Array.of(1, 0x00, 0, 2, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0x41)); // seq 1, unfragmented, one byte
  await send(spoof, Uint8Array.of(1, 0x00, 0, 2, 0, 0, 0, 2, 0, 0, 1, 3, 0, 0, 0x41)); // fragment 0 of 3: bad
  await sleep(200);
  assert.equal(a.t.stats.rx_blocked_unlisted, 1);
  assert.deepEqual({ ...a.t.dropped }, { decode_bad_version: 1, decode_bad_value: 1 });
  await until(() => a.rx.length === 1, 2000, "the well-formed DATA from a member's address (any port) is delivered");
});
