/**
 * udpu over real sockets on loopback: three nodes on 127.0.0.1/2/3 (Linux routes all of
 * 127/8 to lo, so binding 127.0.0.2 needs no setup), one on ::1. Covers multicast-by-
 * unicast (self included), tokens from the receive socket, block_unlisted_ips, the size
 * limit, bind errors and retries, runtime member changes, and building from a config.
 * Every socket is closed in `finally`/`after`; nothing leaves the loopback interface.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { compileConfig } from "../../src/config/compile.js";
import type { DatagramSource, Transport, TransportMember } from "../../src/runtime/transport/types.js";
import { UdpuTransport, type UdpuOptions } from "../../src/runtime/transport/udpu.js";
import { createTransport, planLocalNode } from "../../src/runtime/transport/factory.js";
import { listLocalAddresses } from "../../src/runtime/netif.js";

interface Rx {
  text: string;
  from: DatagramSource;
}

interface Node {
  t: Transport;
  rx: Rx[];
  logs: string[];
}

const open: Transport[] = [];
const sockets: Socket[] = [];
after(async () => {
  await Promise.all(open.map((t) => t.close()));
  for (const s of sockets) {
    try {
      s.close();
    } catch {
      // already closed
    }
  }
});

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
const bytes = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));
const randomPort = () => 20000 + Math.floor(Math.random() * 12000);

/** Wait until `cond` holds (checked every 5 ms), or fail after `ms`. */
async function until(cond: () => boolean, ms = 2000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

async function startNode(t: Transport): Promise<Node> {
  const node: Node = { t, rx: [], logs: [] };
  open.push(t);
  await t.start({ onDatagram: (b, from) => node.rx.push({ text: text(b), from }), onLog: (l, m) => node.logs.push(`${l}: ${m}`) });
  return node;
}

/**
 * Start udpu nodes 1..n on 127.0.0.<id>, all on one random port (retried with another
 * port when something else holds it).
 */
async function startCluster(n: number, extra: Partial<UdpuOptions> = {}): Promise<{ nodes: Node[]; port: number; members: TransportMember[] }> {
  const members = Array.from({ length: n }, (_, i) => ({ nodeId: i + 1, addrs: [`127.0.0.${i + 1}`] }));
  for (let attempt = 0; ; attempt++) {
    const port = randomPort();
    const nodes: Node[] = [];
    try {
      for (const m of members) {
        const t = new UdpuTransport({ localNodeId: m.nodeId, localAddress: m.addrs[0]!, port, members, bindRetries: 0, ...extra });
        nodes.push(await startNode(t));
      }
      return { nodes, port, members };
    } catch (err) {
      await Promise.all(nodes.map((x) => x.t.close()));
      if (attempt >= 5 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
}

async function rawSocket(address: string, type: "udp4" | "udp6" = "udp4"): Promise<Socket> {
  const s = createSocket(type);
  sockets.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.bind(0, address, () => resolve());
  });
  return s;
}

function sendRaw(s: Socket, data: Uint8Array, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => s.send(data, port, address, (err) => (err ? reject(err) : resolve())));
}

test("three udpu nodes: sendToAll reaches every member (self included), sendToNode only its target", async () => {
  const { nodes, port } = await startCluster(3);
  try {
    nodes[0]!.t.sendToAll(bytes("m1"));
    nodes[1]!.t.sendToNode(3, bytes("t2->3"));
    nodes[2]!.t.sendToNode(3, bytes("t3->3"));
    await until(() => nodes.every((n) => n.rx.some((r) => r.text === "m1")) && nodes[2]!.rx.length === 3, 2000, "delivery");
    await sleep(30);
    for (const n of nodes) {
      const m = n.rx.filter((r) => r.text === "m1");
      assert.equal(m.length, 1, "exactly one copy per member");
      assert.equal(m[0]!.from.address, "127.0.0.1");
      assert.notEqual(m[0]!.from.port, port, "multicast copies come from the ephemeral send socket");
      assert.equal(m[0]!.from.family, "IPv4");
      assert.equal(m[0]!.from.ring, 0);
    }
    const token = nodes[2]!.rx.find((r) => r.text === "t2->3")!;
    assert.deepEqual([token.from.address, token.from.port], ["127.0.0.2", port], "tokens come from the receive socket");
    assert.ok(nodes[2]!.rx.some((r) => r.text === "t3->3" && r.from.address === "127.0.0.3"), "a token to oneself arrives too");
    assert.equal(nodes[0]!.rx.length, 1);
    assert.equal(nodes[1]!.rx.length, 1);
    assert.deepEqual(
      nodes.map((n) => [n.t.stats.tx_datagrams, n.t.stats.rx_datagrams, n.t.stats.tx_errors]),
      [
        [3, 1, 0],
        [1, 1, 0],
        [1, 3, 0],
      ],
    );
    assert.equal(nodes[0]!.t.stats.tx_bytes, 6);
    assert.deepEqual(nodes[0]!.t.rings(), [{ ring: 0, address: "127.0.0.1", faulty: false }]);
    assert.equal(nodes[0]!.t.localAddress, "127.0.0.1");
  } finally {
    await Promise.all(nodes.map((n) => n.t.close()));
  }
});

test("block_unlisted_ips: a source outside the member list is dropped and counted; the port is ignored", async () => {
  const { nodes, port } = await startCluster(2);
  const open2 = await startCluster(1, { blockUnlistedIps: false });
  try {
    const stranger = await rawSocket("127.0.0.9");
    const member = await rawSocket("127.0.0.2");
    await sendRaw(stranger, bytes("evil"), port, "127.0.0.1");
    await sendRaw(member, bytes("from-any-port"), port, "127.0.0.1");
    await until(() => nodes[0]!.rx.length === 1 && nodes[0]!.t.stats.rx_blocked_unlisted === 1, 2000, "filter");
    assert.equal(nodes[0]!.rx[0]!.text, "from-any-port");
    assert.equal(nodes[0]!.t.stats.rx_datagrams, 1);
    assert.ok(nodes[0]!.logs.some((l) => /unlisted address 127\.0\.0\.9/.test(l)), "the drop is logged (debug)");
    await sendRaw(stranger, bytes("welcome"), open2.port, "127.0.0.1");
    await until(() => open2.nodes[0]!.rx.length === 1, 2000, "unfiltered delivery");
    assert.equal(open2.nodes[0]!.t.stats.rx_blocked_unlisted, 0);
  } finally {
    await Promise.all([...nodes, ...open2.nodes].map((n) => n.t.close()));
  }
});

test("datagrams over the receive limit are dropped and counted; hostile bytes are just bytes", async () => {
  const { nodes, port } = await startCluster(2, { maxDatagramBytes: 1000 });
  try {
    const member = await rawSocket("127.0.0.2");
    await sendRaw(member, new Uint8Array(1001), port, "127.0.0.1");
    await sendRaw(member, new Uint8Array(1000).fill(0xff), port, "127.0.0.1");
    await sendRaw(member, new Uint8Array(0), port, "127.0.0.1");
    await until(() => nodes[0]!.t.stats.rx_too_big === 1 && nodes[0]!.rx.length === 2, 2000, "size filter");
    assert.deepEqual(nodes[0]!.rx.map((r) => Buffer.from(r.text, "utf8").length > 0), [true, false]);
    assert.equal(nodes[0]!.t.stats.rx_bytes, 1000);
  } finally {
    await Promise.all(nodes.map((n) => n.t.close()));
  }
});

test("bind failure names the address and port after the retries; a retry can succeed", async () => {
  const blocker = await rawSocket("127.0.0.1");
  const port = blocker.address().port;
  const members = [{ nodeId: 1, addrs: ["127.0.0.1"] }];
  const t = new UdpuTransport({ localNodeId: 1, localAddress: "127.0.0.1", port, members, bindRetries: 2, bindRetryIntervalMs: 5 });
  const logs: string[] = [];
  const started = Date.now();
  await assert.rejects(
    t.start({ onDatagram: () => {}, onLog: (_l, m) => logs.push(m) }),
    (e: Error) => {
      assert.match(e.message, new RegExp(`udpu ring 0 receive socket: cannot bind 127\\.0\\.0\\.1:${port} \\(3 attempts\\): EADDRINUSE`));
      return true;
    },
  );
  assert.ok(Date.now() - started >= 15, "waited 5 + 10 ms between attempts");
  assert.equal(logs.filter((l) => /retrying in/.test(l)).length, 2);
  await t.close();

  const t2 = new UdpuTransport({ localNodeId: 1, localAddress: "127.0.0.1", port, members, bindRetries: 10, bindRetryIntervalMs: 20 });
  open.push(t2);
  const starting = t2.start({ onDatagram: () => {} });
  await sleep(30);
  blocker.close();
  await starting;
  assert.equal(t2.rings()[0]!.address, "127.0.0.1");
  await t2.close();
});

test("members can be added and removed at runtime (setMembers)", async () => {
  const { nodes, members } = await startCluster(3);
  try {
    const n1 = nodes[0]!.t as UdpuTransport;
    n1.setMembers(members.slice(0, 2));
    n1.sendToAll(bytes("two"));
    nodes[2]!.t.sendToNode(1, bytes("from3"));
    await until(() => nodes[1]!.rx.length === 1 && n1.stats.rx_blocked_unlisted === 1 && nodes[0]!.rx.length === 1, 2000, "after removal");
    await sleep(30);
    assert.equal(nodes[2]!.rx.length, 0, "node 3 is no longer sent to");
    n1.sendToNode(3, bytes("gone"));
    assert.equal(n1.stats.tx_errors, 1, "unknown node: dropped and counted");
    n1.setMembers(members);
    n1.sendToAll(bytes("three"));
    await until(() => nodes[2]!.rx.some((r) => r.text === "three"), 2000, "after re-adding");
  } finally {
    await Promise.all(nodes.map((n) => n.t.close()));
  }
});

test("close() is idempotent and later sends are counted, not thrown", async () => {
  const { nodes } = await startCluster(1);
  const t = nodes[0]!.t;
  await t.close();
  await t.close();
  t.sendToAll(bytes("x"));
  t.sendToNode(1, bytes("y"));
  assert.equal(t.stats.tx_errors, 2);
  await assert.rejects(t.start({ onDatagram: () => {} }), /after close/);
});

const ipv6Disabled = (() => {
  try {
    return readFileSync("/proc/sys/net/ipv6/conf/lo/disable_ipv6", "utf8").trim() === "1";
  } catch {
    return true;
  }
})();

test("udpu on IPv6 ::1", { skip: ipv6Disabled ? "IPv6 is disabled on lo (/proc/sys/net/ipv6/conf/lo/disable_ipv6 = 1, or no IPv6 in the kernel)" : false }, async () => {
  for (let attempt = 0; ; attempt++) {
    const port = randomPort();
    // Only ::1 exists on lo, so the "cluster" is this one node (any other member address
    // would send off this machine).
    const members = [{ nodeId: 1, addrs: ["0:0::1"] }];
    const t = new UdpuTransport({ localNodeId: 1, localAddress: "::1", port, members, bindRetries: 0 });
    let node: Node;
    try {
      node = await startNode(t);
    } catch (err) {
      await t.close();
      if (attempt < 5 && /EADDRINUSE/.test(String(err))) continue;
      throw err;
    }
    try {
      t.sendToAll(bytes("six"));
      t.sendToNode(1, bytes("tok6"));
      await until(() => node.rx.length === 2, 2000, "IPv6 self delivery");
      assert.deepEqual(node.rx.map((r) => [r.text, r.from.family, r.from.address]).sort(), [
        ["six", "IPv6", "::1"],
        ["tok6", "IPv6", "::1"],
      ]);
      assert.equal(node.rx.find((r) => r.text === "tok6")!.from.port, port);
      assert.deepEqual([t.stats.tx_datagrams, t.stats.tx_errors], [2, 0]);
      const raw = await rawSocket("::1", "udp6");
      await sendRaw(raw, bytes("listed"), port, "::1");
      await until(() => node.rx.length === 3, 2000, "raw IPv6 delivery");
    } finally {
      await t.close();
    }
    return;
  }
});

test("createTransport builds udpu from a corosync.conf nodelist on loopback", async () => {
  const port = randomPort();
  const conf = (n: number) =>
    [
      "totem {",
      "  version: 2",
      "  cluster_name: lo",
      "  transport: udpu",
      "  interface {",
      `    mcastport: ${port}`,
      "  }",
      "}",
      "nodelist {",
      ...[1, 2].map((i) => `  node {\n    ring0_addr: 127.0.0.${i}\n    nodeid: ${i}\n    name: node${i}\n  }`),
      "}",
      `# for node ${n}`,
    ].join("\n");
  const r = compileConfig({ file: "lo.conf", text: conf(1) });
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.diagnostics));
  const locals = listLocalAddresses().filter((a) => a.address === "127.0.0.1");
  const loLocal = { ...locals[0]!, netmask: "255.255.255.255" };
  const plan1 = planLocalNode(r.config, [loLocal], "none");
  assert.equal(plan1.nodeId, 1);
  const plan2 = planLocalNode(r.config, [{ ...loLocal, address: "127.0.0.2" }], "none");
  assert.equal(plan2.nodeId, 2);
  const a = await startNode(createTransport(r.config, plan1, { bindRetries: 0 }));
  const b = await startNode(createTransport(r.config, plan2, { bindRetries: 0 }));
  try {
    assert.equal(a.t.name, "udpu");
    a.t.sendToAll(bytes("hi"));
    await until(() => a.rx.length === 1 && b.rx.length === 1, 2000, "config-built delivery");
  } finally {
    await Promise.all([a.t.close(), b.t.close()]);
  }
});
