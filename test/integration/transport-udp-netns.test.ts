/**
 * udp multicast between three network namespaces joined by a bridge (test/helpers/netns.ts):
 * group traffic and tokens, the local copy with multicast loopback off, a socket on another
 * group seeing nothing (and the transport not seeing the other group), the 1.x form without
 * a nodelist learning token targets, IPv6 (ff15:: group) and broadcast; udpu over IPv6
 * between namespaces too. Each node is a child process started with
 * `ip netns exec NS node transport-child.js`, built from a corosync.conf text.
 *
 * Requires root and iproute2; skipped (with that message) only when not root.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { sameAddress } from "../../src/runtime/netif.js";
import { type ChildEvent, Lab, type NsChild, netnsSkipReason } from "../helpers/netns.js";

const skip = netnsSkipReason();
let lab: Lab;
const port = 20000 + 2 * Math.floor(Math.random() * 5000);

before(() => {
  if (!skip) lab = Lab.create(3, 1);
});
after(async () => {
  if (lab === undefined) return;
  await lab.cleanup();
  assert.deepEqual(lab.leftovers(), [], "every namespace removed");
});

const rx = (c: NsChild, data: string) => c.events.filter((e) => e.ev === "rx" && e.data === data);
const fromOf = (e: ChildEvent) => e.from as { address: string; port: number; family: string; ring: number };

function udpConf(opts: { group: string; ipv6?: boolean; nodelist?: boolean; broadcast?: boolean }): string {
  const nodelist = opts.nodelist !== false;
  const iface = [
    "  interface {",
    "    ringnumber: 0",
    nodelist ? "" : `    bindnetaddr: ${lab.nodes[0]!.rings[0]!.network}`,
    opts.broadcast ? "    broadcast: yes" : `    mcastaddr: ${opts.group}`,
    `    mcastport: ${port}`,
    "  }",
  ];
  const nodes = nodelist
    ? ["nodelist {", ...lab.nodes.map((n) => `  node {\n    ring0_addr: ${opts.ipv6 ? n.rings[0]!.address6 : n.rings[0]!.address}\n    nodeid: ${n.index}\n  }`), "}"]
    : [];
  return ["totem {", "  version: 2", "  cluster_name: nslab", "  transport: udp", opts.ipv6 ? "  ip_version: ipv6" : "", ...iface, "}", ...nodes].filter((l) => l !== "").join("\n");
}

async function startAll(conf: string): Promise<NsChild[]> {
  return Promise.all(lab.nodes.map((n) => lab.startChild(n.index, { conf })));
}

/** Each node multicasts `m<i>` and sends token `t<i>` to its successor; all must arrive. */
async function exchange(children: NsChild[], ids: number[], tokenPort: number | undefined): Promise<void> {
  children.forEach((c, i) => c.send({ op: "sendAll", data: `${ids[i]}|m${i + 1}` }));
  await sleep(50);
  children.forEach((c, i) => c.send({ op: "sendTo", node: ids[(i + 1) % ids.length], data: `t${i + 1}` }));
  for (const [i, c] of children.entries()) {
    for (let j = 0; j < children.length; j++) await c.waitFor((e) => e.ev === "rx" && e.data === `${ids[j]}|m${j + 1}`, 3000, `node ${i + 1} gets m${j + 1}`);
    const pred = (i + children.length - 1) % children.length;
    const token = await c.waitFor((e) => e.ev === "rx" && e.data === `t${pred + 1}`, 3000, `node ${i + 1} gets the token of node ${pred + 1}`);
    if (tokenPort !== undefined) assert.equal(fromOf(token).port, tokenPort, "tokens are sent from the mcastport − 1 socket");
  }
  await sleep(100);
  for (const [i, c] of children.entries()) {
    for (let j = 0; j < children.length; j++) assert.equal(rx(c, `${ids[j]}|m${j + 1}`).length, 1, `node ${i + 1}: exactly one copy of m${j + 1} (loopback off, local copy in-process)`);
  }
}

test("udp: three namespaces exchange multicasts and tokens over a group; another group stays separate", { skip }, async () => {
  const group = `239.192.${lab.subnet}.10`;
  const other = `239.192.${lab.subnet}.11`;
  const children = await startAll(udpConf({ group }));
  try {
    const [n1, , n3] = children;
    n3!.send({ op: "spy", id: "other", group: other, port, iface: lab.nodes[2]!.rings[0]!.address });
    await n3!.waitFor((e) => e.ev === "spyReady", 2000, "spy ready");
    await exchange(children, [1, 2, 3], port - 1);
    const own = rx(n1!, "1|m1")[0]!;
    assert.deepEqual([fromOf(own).address, fromOf(own).port], [lab.nodes[0]!.rings[0]!.address, port - 1], "the local copy looks like the network copy");
    const remote = rx(n1!, "2|m2")[0]!;
    assert.deepEqual([fromOf(remote).address, fromOf(remote).port, fromOf(remote).family], [lab.nodes[1]!.rings[0]!.address, port - 1, "IPv4"]);
    // Traffic to another group on the same port: the spy (bound to that group) sees it, the transports do not.
    n1!.send({ op: "rawSend", group: other, port, iface: lab.nodes[0]!.rings[0]!.address, data: "other-group" });
    await n3!.waitFor((e) => e.ev === "spy" && e.data === "other-group", 3000, "spy gets the other group");
    await sleep(150);
    const s = await n3!.status();
    assert.equal((s.spies as Record<string, number>).other, 1, "the other group's socket saw none of our group's traffic");
    for (const c of children) assert.equal(rx(c, "other-group").length, 0, "a transport bound to its group does not see another group");
    const stats = s.stats as Record<string, number>;
    assert.equal(stats.tx_errors, 0);
    assert.ok(stats.rx_datagrams >= 4, "3 multicasts + 1 token");
  } finally {
    await lab.stopChildren();
  }
});

test("udp, 1.x form without a nodelist: bindnetaddr network, node ids from addresses, token targets learned", { skip }, async () => {
  const group = `239.192.${lab.subnet}.20`;
  const children = await startAll(udpConf({ group, nodelist: false }));
  try {
    const ids = children.map((c) => c.events.find((e) => e.ev === "ready")!.nodeId as number);
    const expected = lab.nodes.map((n) => n.rings[0]!.address.split(".").reduce((v, o) => v * 256 + Number(o), 0));
    assert.deepEqual(ids, expected, "node id = the IPv4 address found from bindnetaddr");
    await exchange(children, ids, port - 1);
  } finally {
    await lab.stopChildren();
  }
});

test("udp over IPv6: ff15:: group joined on the interface, tokens between fd5c:: addresses", { skip }, async () => {
  const group = `ff15::${lab.subnet.toString(16)}:30`;
  const children = await startAll(udpConf({ group, ipv6: true }));
  try {
    await exchange(children, [1, 2, 3], port - 1);
    const m2 = rx(children[0]!, "2|m2")[0]!;
    assert.ok(sameAddress(fromOf(m2).address, lab.nodes[1]!.rings[0]!.address6), `source ${fromOf(m2).address}`);
    assert.equal(fromOf(m2).family, "IPv6");
  } finally {
    await lab.stopChildren();
  }
});

test("udp broadcast: 255.255.255.255 with SO_BROADCAST, no group; the kernel's local copy is the only one", { skip }, async () => {
  const children = await startAll(udpConf({ group: "", broadcast: true }));
  try {
    await exchange(children, [1, 2, 3], port - 1);
    const own = rx(children[0]!, "1|m1")[0]!;
    assert.deepEqual([fromOf(own).address, fromOf(own).port], [lab.nodes[0]!.rings[0]!.address, port - 1]);
  } finally {
    await lab.stopChildren();
  }
});

test("udpu over IPv6 between namespaces", { skip }, async () => {
  const conf = [
    "totem {",
    "  version: 2",
    "  transport: udpu",
    "  ip_version: ipv6",
    "  interface {",
    `    mcastport: ${port}`,
    "  }",
    "}",
    "nodelist {",
    ...lab.nodes.map((n) => `  node {\n    ring0_addr: ${n.rings[0]!.address6}\n    nodeid: ${n.index}\n  }`),
    "}",
  ].join("\n");
  const children = await startAll(conf);
  try {
    await exchange(children, [1, 2, 3], port);
  } finally {
    await lab.stopChildren();
  }
});
