/**
 * Building transports from a configuration (src/runtime/transport/factory.ts) without
 * sockets: which node we are, which local address each ring binds, ring counts for
 * rrp_mode, the 1.x forms (no nodelist, `ringnumber`), errors, host-name resolution.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileConfig } from "../../src/config/compile.js";
import type { CorosyncConfig } from "../../src/config/model.js";
import type { LocalAddress } from "../../src/runtime/netif.js";
import { RrpTransport } from "../../src/runtime/transport/rrp.js";
import { UdpTransport } from "../../src/runtime/transport/udp.js";
import { UdpuTransport } from "../../src/runtime/transport/udpu.js";
import { KnetTransport } from "../../src/runtime/transport/knet.js";
import { createTransport, membersOf, planLocalNode, resolveRingAddresses, ringCount } from "../../src/runtime/transport/factory.js";

function config(text: string): CorosyncConfig {
  const r = compileConfig({ file: "t.conf", text });
  assert.ok(r.ok, r.ok ? "" : r.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join("\n"));
  return r.config;
}

const v4 = (ifname: string, address: string, netmask = "255.255.255.0"): LocalAddress => ({ ifname, address, netmask, family: "IPv4", internal: false });
const LOCALS = [v4("lo", "127.0.0.1", "255.0.0.0"), v4("eth0", "10.1.0.2"), v4("eth1", "10.2.0.2")];

const nodelist = (transport: string, rings: 1 | 2, extra = "") => `totem {
  version: 2
  cluster_name: c
  transport: ${transport}
  ${extra}
}
nodelist {
${[1, 2, 3]
  .map((i) => `  node {\n    ring0_addr: 10.1.0.${i}\n${rings === 2 ? `    ring1_addr: 10.2.0.${i}\n` : ""}    nodeid: ${i}\n    name: n${i}\n  }`)
  .join("\n")}
}
`;

test("udpu with a nodelist: local node by address, bound to its ring0_addr", () => {
  const c = config(nodelist("udpu", 1));
  const plan = planLocalNode(c, LOCALS, "elsewhere");
  assert.equal(plan.nodeId, 2);
  assert.deepEqual(plan.rings.map((r) => [r.address, r.ifname]), [["10.1.0.2", "eth0"]]);
  const t = createTransport(c, plan);
  assert.ok(t instanceof UdpuTransport);
  assert.equal(t.localAddress, "10.1.0.2");
  assert.deepEqual(membersOf(c), [1, 2, 3].map((i) => ({ nodeId: i, addrs: [`10.1.0.${i}`] })));
});

test("local node by host name when no address matches; its address must still be local (or in a local subnet)", () => {
  const c = config(nodelist("udpu", 1));
  const sameSubnetOnly = [v4("eth0", "10.1.0.77")];
  const plan = planLocalNode(c, sameSubnetOnly, "n3.example.org");
  assert.equal(plan.nodeId, 3);
  assert.equal(plan.rings[0]!.address, "10.1.0.77", "ring0_addr 10.1.0.3 → the local address in its subnet");
  assert.throws(() => planLocalNode(c, [v4("eth9", "192.168.0.1")], "n3"), /ring0_addr of the local node 3 10\.1\.0\.3/);
  assert.throws(() => planLocalNode(c, [v4("eth9", "192.168.0.1")], "n9"), /No valid name found for local host/);
});

test("rrp_mode with ring0_addr/ring1_addr: two rings under the RRP wrapper", () => {
  const c = config(nodelist("udpu", 2, "rrp_mode: passive"));
  assert.equal(ringCount(c), 2);
  const plan = planLocalNode(c, LOCALS, "x");
  assert.deepEqual(plan.rings.map((r) => r.address), ["10.1.0.2", "10.2.0.2"]);
  const t = createTransport(c, plan);
  assert.ok(t instanceof RrpTransport);
  assert.equal(t.mode, "passive");
  assert.equal(t.name, "udpu");
  assert.deepEqual(t.rings(), [
    { ring: 0, address: "10.1.0.2", faulty: false },
    { ring: 1, address: "10.2.0.2", faulty: false },
  ]);
  assert.throws(() => planLocalNode(c, [LOCALS[1]!], "x"), /No local interface address matches ring1_addr/);
});

test("rrp_mode none (or one ring): the base transport, no wrapper", () => {
  const c = config(nodelist("udp", 1, "rrp_mode: active"));
  assert.equal(ringCount(c), 1);
  const t = createTransport(c, planLocalNode(c, LOCALS, "x"));
  assert.ok(t instanceof UdpTransport);
  assert.equal(t.name, "udp");
});

const oneX = `totem {
  version: 2
  secauth: off
  rrp_mode: active
  interface {
    ringnumber: 0
    bindnetaddr: 10.1.0.0
    mcastaddr: 239.1.1.1
    mcastport: 5405
  }
  interface {
    ringnumber: 1
    bindnetaddr: 10.2.0.0
    mcastaddr: 239.1.1.2
    mcastport: 5407
  }
}
`;

test("1.x udp without a nodelist: bindnetaddr per ringnumber, node id from the ring 0 IPv4 address", () => {
  const c = config(oneX);
  assert.equal(ringCount(c), 2);
  const plan = planLocalNode(c, LOCALS, "x");
  assert.equal(plan.nodeId, (10 << 24) + (1 << 16) + 2);
  assert.deepEqual(plan.rings.map((r) => r.address), ["10.1.0.2", "10.2.0.2"]);
  assert.equal(plan.node, undefined);
  const t = createTransport(c, plan);
  assert.ok(t instanceof RrpTransport);
  assert.equal(t.mode, "active");
  const withId = config(oneX.replace("secauth: off", "secauth: off\n  nodeid: 42"));
  assert.equal(planLocalNode(withId, LOCALS, "x").nodeId, 42);
  assert.throws(() => planLocalNode(c, [LOCALS[1]!], "x"), /bindnetaddr of interface 1 10\.2\.0\.0/);
});

test("knet: every ringX_addr of the local node is a link; corosync's timers, ports, priorities and link_mode", () => {
  const c = config(
    nodelist("knet", 2, "token: 1000\n  link_mode: active\n  interface {\n    linknumber: 1\n    knet_link_priority: 7\n    mcastport: 6000\n  }"),
  );
  const plan = planLocalNode(c, LOCALS, "x");
  assert.equal(plan.nodeId, 2);
  assert.deepEqual(plan.links, [0, 1]);
  const t = createTransport(c, plan, { interfaceMtu: () => 9000 });
  assert.ok(t instanceof KnetTransport);
  assert.equal(t.name, "knet");
  assert.equal(t.linkMode, "active");
  // token 1000 + 650 for 3 nodes: ping timeout 1650 / 2, interval 1650 / 4.
  assert.deepEqual(
    t.localLinks.map((l) => [l.link, l.localAddress, l.port, l.priority, l.pingIntervalMs, l.pongTimeoutMs, l.pongCount]),
    [
      [0, "10.1.0.2", 5405, 1, 412, 825, 2],
      [1, "10.2.0.2", 6000, 7, 412, 825, 2],
    ],
  );
  assert.equal(t.dataMtu, 9000 - 28 - 26, "no knet_mtu: the interfaces' MTU");
  const fixed = config(nodelist("knet", 1, "knet_mtu: 1200\n  crypto_cipher: aes256\n  crypto_hash: sha256"));
  const k = createTransport(fixed, planLocalNode(fixed, LOCALS, "x"), { knetCrypto: { cipher: "aes256", hash: "sha256", key: new Uint8Array(128) } });
  assert.ok(k instanceof KnetTransport);
  assert.equal(k.dataMtu, 1093, "knet_mtu 1200 with aes256+sha256: ((1172 − 48) rounded down to blocks, − 1) + 48 − 26 − 48");
  assert.deepEqual(t.links?.().map((n) => [n.nodeId, n.local, n.reachable]), [[2, true, true], [1, false, false], [3, false, false]]);
});

test("knet: links need not be contiguous; a local node without addresses is refused", () => {
  const c = config(nodelist("knet", 1).replace(/ring0_addr: (10\.1\.0\.\d)/g, "ring0_addr: $1\n    ring3_addr: 10.2.0.$1").replace(/10\.2\.0\.10\.1\.0\./g, "10.2.0."));
  const plan = planLocalNode(c, LOCALS, "x");
  assert.deepEqual(plan.links, [0, 3]);
  assert.deepEqual(plan.rings.map((r) => r.address), ["10.1.0.2", "10.2.0.2"]);
  assert.throws(() => planLocalNode(c, [LOCALS[1]!], "x"), /ring3_addr of the local node 2/);
});

test("resolveRingAddresses: host names looked up in ip_version order, literals kept", async () => {
  const c = config(nodelist("udpu", 1).replace("ring0_addr: 10.1.0.3", "ring0_addr: host3"));
  const asked: string[] = [];
  const resolved = await resolveRingAddresses(c, async (name, family) => {
    asked.push(`${name}/${family}`);
    if (family === 6) throw new Error("no AAAA");
    return "10.1.0.3";
  });
  assert.deepEqual(asked, ["host3/6", "host3/4"], "udpu defaults to ipv6-4");
  assert.deepEqual(resolved.nodes.map((n) => n.ringAddrs[0]), ["10.1.0.1", "10.1.0.2", "10.1.0.3"]);
  assert.equal(c.nodes[2]!.ringAddrs[0], "host3", "the input is not modified");
  await assert.rejects(
    resolveRingAddresses(c, async () => {
      throw new Error("NXDOMAIN");
    }),
    /Cannot resolve ring address host3 \(IPv6: NXDOMAIN; IPv4: NXDOMAIN\)/,
  );
});
