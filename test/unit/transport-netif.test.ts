/**
 * Local interface discovery (src/runtime/netif.ts): subnet matching, the bind address for a
 * bindnetaddr, and finding the local node in a nodelist — all on address lists given as data.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { NodeConfig } from "../../src/config/model.js";
import {
  type LocalAddress,
  NetifError,
  findBindAddress,
  findLocalNode,
  hostNameCandidates,
  listLocalAddresses,
  requireBindAddress,
  sameAddress,
  sameSubnet,
} from "../../src/runtime/netif.js";

const v4 = (ifname: string, address: string, netmask: string): LocalAddress => ({ ifname, address, netmask, family: "IPv4", internal: ifname === "lo" });
const v6 = (ifname: string, address: string, prefix: number): LocalAddress => ({ ifname, address, netmask: mask6(prefix), family: "IPv6", internal: ifname === "lo" });

function mask6(prefix: number): string {
  const groups: string[] = [];
  for (let g = 0; g < 8; g++) {
    const bits = Math.max(0, Math.min(16, prefix - 16 * g));
    groups.push(((0xffff << (16 - bits)) & 0xffff).toString(16));
  }
  return groups.join(":");
}

const LOCALS: LocalAddress[] = [
  v4("lo", "127.0.0.1", "255.0.0.0"),
  v4("eth0", "192.168.1.10", "255.255.255.0"),
  v4("eth1", "10.1.2.3", "255.255.0.0"),
  v4("eth1", "10.1.9.9", "255.255.0.0"),
  v6("lo", "::1", 128),
  v6("eth0", "fd00:1::10", 64),
  v6("eth0", "fe80::1", 64),
];

function node(nodeId: number, ringAddrs: Array<string | undefined>, name?: string): NodeConfig {
  const n: NodeConfig = { index: nodeId - 1, nodeId, nodeIdDerived: false, ringAddrs, quorumVotes: 1 };
  if (name !== undefined) n.name = name;
  return n;
}

test("sameAddress compares bytes, not spelling, and never across families", () => {
  assert.equal(sameAddress("::1", "0:0:0:0:0:0:0:1"), true);
  assert.equal(sameAddress("FD00:1::10", "fd00:1:0::10"), true);
  assert.equal(sameAddress("fe80::1%eth0", "fe80::1"), true);
  assert.equal(sameAddress("10.0.0.1", "10.0.0.2"), false);
  assert.equal(sameAddress("::ffff:10.0.0.1", "10.0.0.1"), false);
  assert.equal(sameAddress("node1", "node1"), false);
});

test("sameSubnet: address & netmask, IPv4 and IPv6", () => {
  assert.equal(sameSubnet("192.168.1.10", "192.168.1.0", "255.255.255.0"), true);
  assert.equal(sameSubnet("192.168.1.10", "192.168.2.0", "255.255.255.0"), false);
  assert.equal(sameSubnet("10.1.2.3", "10.1.200.0", "255.255.0.0"), true);
  assert.equal(sameSubnet("10.1.2.3", "10.1.200.0", "255.255.255.0"), false);
  assert.equal(sameSubnet("fd00:1::10", "fd00:1::", mask6(64)), true);
  assert.equal(sameSubnet("fd00:1::10", "fd00:2::", mask6(64)), false);
  assert.equal(sameSubnet("fd00:1::10", "192.168.1.0", "255.255.255.0"), false, "families differ");
  assert.equal(sameSubnet("10.0.0.1", "10.0.0.0", "garbage"), false);
});

test("findBindAddress: an exact match wins over an earlier address in the same subnet", () => {
  assert.equal(findBindAddress("10.1.9.9", LOCALS)?.address, "10.1.9.9");
  assert.equal(findBindAddress("10.1.0.0", LOCALS)?.address, "10.1.2.3", "first in the subnet");
  assert.equal(findBindAddress("192.168.1.0", LOCALS)?.ifname, "eth0");
  assert.equal(findBindAddress("192.168.1.77", LOCALS)?.address, "192.168.1.10", "a peer's address finds our address in its subnet");
  assert.equal(findBindAddress("172.16.0.0", LOCALS), undefined);
  assert.equal(findBindAddress("fd00:1::", LOCALS)?.address, "fd00:1::10");
  assert.equal(findBindAddress("::1", LOCALS)?.ifname, "lo");
  assert.equal(findBindAddress("fe80::1%eth0", LOCALS)?.address, "fe80::1");
  assert.equal(findBindAddress("node1.example", LOCALS), undefined);
});

test("requireBindAddress names what it looked for and what exists", () => {
  assert.throws(() => requireBindAddress("172.16.0.0", LOCALS), (e: unknown) => {
    assert.ok(e instanceof NetifError);
    assert.equal(e.code, "NO_BIND_ADDRESS");
    assert.match(e.message, /bindnetaddr 172\.16\.0\.0/);
    assert.match(e.message, /192\.168\.1\.10 \(eth0\)/);
    return true;
  });
  assert.throws(() => requireBindAddress("node1", LOCALS, "ring0_addr"), /ring0_addr node1 is not an IPv4 or IPv6 address/);
});

test("findLocalNode: the first node whose ring address is local", () => {
  const nodes = [node(1, ["192.168.1.9"], "a"), node(2, ["192.168.1.10"], "b"), node(3, ["10.1.2.3"], "c")];
  const r = findLocalNode(nodes, LOCALS, "unrelated");
  assert.equal(r.node.nodeId, 2);
  assert.equal(r.matchedBy, "address");
  assert.equal(r.local?.ifname, "eth0");
  assert.equal(findLocalNode([node(7, ["fd00:1:0:0::10"])], LOCALS, "x").node.nodeId, 7);
  assert.equal(findLocalNode([node(8, ["10.9.9.9", "10.1.9.9"])], LOCALS, "x", 1).node.nodeId, 8, "link 1");
});

test("findLocalNode: by host name (full, then short) when no address matches", () => {
  const nodes = [node(1, ["10.9.0.1"], "alpha"), node(2, ["10.9.0.2"], "beta.example.com"), node(3, ["gamma"])];
  assert.equal(findLocalNode(nodes, LOCALS, "beta.example.com").node.nodeId, 2);
  assert.equal(findLocalNode(nodes, LOCALS, "ALPHA.example.com").node.nodeId, 1, "short name, case-insensitive");
  const byRing = findLocalNode(nodes, LOCALS, "gamma");
  assert.equal(byRing.node.nodeId, 3);
  assert.equal(byRing.matchedBy, "name");
  assert.deepEqual(hostNameCandidates("Host.Example.COM."), ["host.example.com", "host"]);
  assert.deepEqual(hostNameCandidates("host"), ["host"]);
});

test("findLocalNode: nothing matches → 'No valid name found for local host' listing what was tried", () => {
  const nodes = [node(1, ["10.9.0.1"], "alpha"), node(2, ["10.9.0.2"], "beta")];
  assert.throws(() => findLocalNode(nodes, LOCALS, "delta.example.com"), (e: unknown) => {
    assert.ok(e instanceof NetifError);
    assert.equal(e.code, "NO_LOCAL_NODE");
    assert.match(e.message, /^No valid name found for local host/);
    assert.match(e.message, /127\.0\.0\.1 \(lo\)/);
    assert.match(e.message, /"delta\.example\.com" or "delta"/);
    return true;
  });
});

test("listLocalAddresses reads this machine's interfaces (loopback is there)", () => {
  const all = listLocalAddresses();
  assert.ok(all.some((a) => a.address === "127.0.0.1" && a.family === "IPv4" && a.netmask === "255.0.0.0"));
  assert.ok(all.every((a) => a.ifname.length > 0));
});
