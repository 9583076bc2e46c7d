/**
 * corosync-notifyd's link events with real executives on redundant rings (rrp_mode passive,
 * udpu) in network namespaces: ring 0 of node 1 black-holed → node 1 marks it FAULTY →
 * notifyd (in node 1's namespace, plain IPC names) sends `LinkStateChange(name, 1, 1, 0,
 * "disconnected")` on a private dbus-daemon and prints the C tool's line with `-o`; the ring
 * recovered → `operational`. The bus socket is a path in the test's directory, reachable from
 * the namespace. The lab removes every namespace it made; processes are ended by pid.
 * Debian packages: iproute2, dbus-daemon, dbus-bin.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { DaemonCluster } from "../helpers/daemons.js";
import { Lab, netnsSkipReason, rrpUdpuConfig } from "../helpers/netns.js";
import { DbusBus, DbusMonitor, NotifydProc, requireProgram, waitUntilAsync } from "../helpers/notify-servers.js";

const skip = netnsSkipReason();

test("a ring made faulty and recovered: LinkStateChange disconnected/operational and -o lines", { skip, timeout: 180_000 }, async (t) => {
  for (const [p, pkg] of [["dbus-daemon", "dbus-daemon"], ["dbus-monitor", "dbus-bin"]] as const) requireProgram(p, pkg);
  const dir = mkdtempSync(join(tmpdir(), "notifyd-links-"));
  const lab = Lab.create(2, 2);
  const cluster = new DaemonCluster({
    nodes: 2,
    netns: (id) => lab.nodes[id - 1]!.ns,
    config: (_id, port) => rrpUdpuConfig(lab, port),
  });
  const bus = new DbusBus(dir);
  let monitor: DbusMonitor | undefined;
  let notifyd: NotifydProc | undefined;
  let undo: (() => void) | undefined;
  const host = hostname();
  try {
    await bus.start();
    monitor = new DbusMonitor(bus.address);
    await monitor.ready();
    cluster.start();
    await cluster.waitForMembers([1, 2], [1, 2]);
    notifyd = new NotifydProc(["-o", "-d", "-n"], { DBUS_SYSTEM_BUS_ADDRESS: bus.address }, ["ip", "netns", "exec", lab.nodes[0]!.ns]);
    await notifyd.waitLine("connected", /connected to corosync \(local node id 1\)/, 30_000);
    await waitUntilAsync("notifyd on the bus", async () => (await bus.nameOwner("org.corosync")) !== undefined, 30_000, () => notifyd!.tail());

    const broke = Date.now();
    undo = lab.blackhole(1, 0);
    await cluster.waitFor("ring 0 FAULTY at node 1", () => cluster.node(1).grep(/Marking ringid 0 interface .* FAULTY/).length > 0, 60_000);
    const down = await monitor.waitFor("LinkStateChange", [host, 1, 1, 0, "disconnected"], broke, 60_000);
    t.diagnostic(`ring 0 black-holed -> LinkStateChange disconnected: ${down.at - broke} ms`);
    await notifyd.waitLine("the -o line", new RegExp(`^corosync-notifyd\\[\\d+\\]: ${host}\\[1\\] link 0 to node 1 is now disconnected$`));
    assert.deepEqual([...cluster.node(1).members].sort(), [1, 2], "the membership stayed whole on ring 1");

    const healed = Date.now();
    undo();
    undo = undefined;
    const up = await monitor.waitFor("LinkStateChange", [host, 1, 1, 0, "operational"], healed, 60_000);
    t.diagnostic(`ring 0 restored -> LinkStateChange operational: ${up.at - healed} ms`);
    await notifyd.waitLine("the -o line", new RegExp(`^corosync-notifyd\\[\\d+\\]: ${host}\\[1\\] link 0 to node 1 is now operational$`));
    assert.deepEqual(monitor.of("NodeStateChange").filter((s) => s.at >= broke), [], "no node event while only a ring failed");
  } finally {
    undo?.();
    await notifyd?.stop();
    await cluster.destroy();
    await lab.cleanup();
    await monitor?.stop();
    await bus.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(lab.leftovers(), []);
});
