/**
 * Real executives in network namespaces joined by bridges (CI runs as root):
 * - udp multicast in the installation guide's 1.x form (bindnetaddr, mcastaddr, mcastport;
 *   no nodelist, node ids derived from the addresses);
 * - redundant rings (rrp_mode passive, udpu, ring0_addr/ring1_addr): ring 0 dropped at one
 *   node → ring 0 marked FAULTY, the membership stays whole on ring 1, and ring 0 recovers.
 * The lab removes every namespace it made; processes are ended by pid.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DaemonCluster } from "../helpers/daemons.js";
import { Lab, netnsSkipReason, rrpUdpuConfig } from "../helpers/netns.js";

const skip = netnsSkipReason();

/** corosync's IPv4-derived node id: the address as a big-endian u32. */
function derivedId(addr: string): number {
  return addr.split(".").reduce((v, o) => (v * 256 + Number(o)) >>> 0, 0);
}

test("udp multicast, 1.x configuration form: three namespaces form one ring", { skip }, async () => {
  const lab = Lab.create(3, 1);
  const group = `239.192.${lab.subnet}.${1 + Math.floor(Math.random() * 250)}`;
  const cluster = new DaemonCluster({
    nodes: 3,
    netns: (id) => lab.nodes[id - 1]!.ns,
    config: (_id, port) =>
      [
        "# the installation guide's form",
        "totem {",
        "\tversion: 2",
        "\tsecauth: off",
        "\ttoken: 1000",
        "\tinterface {",
        "\t\tringnumber: 0",
        `\t\tbindnetaddr: ${lab.nodes[0]!.rings[0]!.network}`,
        `\t\tmcastaddr: ${group}`,
        `\t\tmcastport: ${port}`,
        "\t}",
        "}",
        "logging {\n\tto_stderr: yes\n\tto_syslog: no\n\ttimestamp: hires\n}",
        "",
      ].join("\n"),
  });
  try {
    cluster.start();
    const ids = lab.nodes.map((n) => derivedId(n.rings[0]!.address));
    await cluster.waitForMembers([1, 2, 3], ids);
    assert.equal(new Set(cluster.nodes.map((n) => n.ringId)).size, 1, "one ring id everywhere");
  } finally {
    await cluster.destroy();
    await lab.cleanup();
  }
  assert.deepEqual(lab.leftovers(), []);
});

test("redundant rings: ring 0 dropped at one node → FAULTY, membership kept on ring 1, then recovered", { skip }, async () => {
  const lab = Lab.create(3, 2);
  const cluster = new DaemonCluster({
    nodes: 3,
    netns: (id) => lab.nodes[id - 1]!.ns,
    config: (_id, port) => rrpUdpuConfig(lab, port),
  });
  let undo: (() => void) | undefined;
  try {
    cluster.start();
    await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
    const ringBefore = cluster.node(1).ringId;
    undo = lab.blackhole(1, 0);
    await cluster.waitFor("ring 0 FAULTY at node 1", () => cluster.node(1).grep(/Marking ringid 0 interface .* FAULTY/).length > 0, 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    for (const n of cluster.nodes) {
      assert.deepEqual([...n.members].sort(), [1, 2, 3], `node ${n.id} still has everyone`);
      assert.equal(n.ringId, ringBefore, `node ${n.id} did not re-form while ring 0 was down`);
    }
    undo();
    undo = undefined;
    await cluster.waitFor("ring 0 recovered at node 1", () => cluster.node(1).grep(/recovered ring 0|Re-enabling ring 0/).length > 0, 30_000);
  } finally {
    undo?.();
    await cluster.destroy();
    await lab.cleanup();
  }
  assert.deepEqual(lab.leftovers(), []);
});
