/**
 * corosync-notifyd against real servers, all started by this test: a 3-node cluster of our
 * executives on 127.x (votequorum, 3 expected votes), a private system-bus `dbus-daemon`
 * (with the shipped policy) watched by `dbus-monitor`, `snmptrapd` on a high loopback port,
 * `snmpd` as AgentX master, and `rsyslogd` on a private socket. notifyd runs as installed
 * (`corosync-notifyd -f -l -d -s -m ... --agentx ... --metrics ...`) attached to node 1.
 *
 * Stopping and starting a node, a CPG client connecting and leaving, and losing and regaining
 * quorum each must give the right D-Bus signal with the right arguments, the right trap with
 * COROSYNC-MIB OIDs, the syslog line, and `/metrics` and `snmpget` (through snmpd) values
 * that follow. Then the outages: dbus-daemon, snmptrapd, snmpd and the executive itself are
 * killed and started again, and notifications must go on.
 *
 * Debian packages: dbus-daemon, dbus-bin, snmptrapd, snmpd, snmp, rsyslog (`.ci/run`).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { DaemonCluster } from "../helpers/daemons.js";
import { cpgChild } from "../helpers/cpg-proc.js";
import {
  DbusBus,
  DbusMonitor,
  NotifydProc,
  randomPort,
  requireProgram,
  sample,
  SnmpdMaster,
  SyslogReceiver,
  TrapReceiver,
  waitUntil,
  waitUntilAsync,
} from "../helpers/notify-servers.js";
import { OBJECT_OID, STATUS_OID, TRAP_OID } from "../../src/core/notify/mib.js";

const HOST = hostname();
const dir = mkdtempSync(join(tmpdir(), "notifyd-test-"));
const cluster = new DaemonCluster({
  nodes: 3,
  token: 1000,
  totemExtra: ["token_coefficient: 0"],
  extraSections: "quorum {\n\tprovider: corosync_votequorum\n\texpected_votes: 3\n}\n",
});
const ip = (id: number): string => cluster.node(id).address;

const bus = new DbusBus(dir);
const trapd = new TrapReceiver(dir, randomPort());
const snmpd = new SnmpdMaster(dir, randomPort(), randomPort());
const syslog = new SyslogReceiver(dir);
let monitor: DbusMonitor;
let notifyd: NotifydProc;
let metricsUrl: string;

before(async () => {
  for (const [p, pkg] of [["dbus-daemon", "dbus-daemon"], ["dbus-monitor", "dbus-bin"], ["dbus-send", "dbus-bin"], ["snmptrapd", "snmptrapd"], ["snmpd", "snmpd"], ["snmpget", "snmp"], ["rsyslogd", "rsyslog"], ["logger", "bsdutils"]] as const) requireProgram(p, pkg);
  await bus.start();
  monitor = new DbusMonitor(bus.address);
  await monitor.ready();
  await Promise.all([trapd.start(), snmpd.start(), syslog.start()]);
  cluster.start();
  await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
  notifyd = new NotifydProc(
    ["-l", "-d", "-s", "-m", `127.0.0.1:${trapd.port}`, "-n", "--agentx", `127.0.0.1:${snmpd.agentxPort}`, "--metrics", "127.0.0.1:0", "--syslog-socket", syslog.socketPath],
    { COROSYNC_IPC_PREFIX: cluster.node(1).ipcPrefix!, DBUS_SYSTEM_BUS_ADDRESS: bus.address },
  );
  metricsUrl = await notifyd.metricsUrl();
});

after(async () => {
  await notifyd?.stop();
  await cluster.destroy();
  await Promise.all([monitor?.stop(), bus.stop(), trapd.stop(), snmpd.stop(), syslog.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

async function scrape(): Promise<string> {
  const r = await fetch(metricsUrl);
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return r.text();
}

/** Scrapes until every series has its value; returns the last body. */
async function metricsShow(want: Record<string, number>, ms = 30_000): Promise<string> {
  let body = "";
  const ok = (): boolean => Object.entries(want).every(([series, v]) => sample(body, series) === v);
  const end = Date.now() + ms;
  for (;;) {
    body = await scrape();
    if (ok()) return body;
    if (Date.now() > end) {
      const got = Object.fromEntries(Object.keys(want).map((s) => [s, sample(body, s)]));
      throw new Error(`timed out waiting for metrics ${JSON.stringify(want)}; got ${JSON.stringify(got)}\n${notifyd.tail()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** snmpget through snmpd until every OID shows its value (AgentX values refresh every 2 s). */
async function agentxShows(want: Record<string, string>, ms = 30_000): Promise<void> {
  let got = new Map<string, string>();
  const end = Date.now() + ms;
  for (;;) {
    got = await snmpd.get(...Object.keys(want));
    if (Object.entries(want).every(([oid, v]) => got.get(oid) === v)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for snmpget ${JSON.stringify(want)}; got ${JSON.stringify(Object.fromEntries(got))}\n${notifyd.tail()}\n${snmpd.proc?.tail()}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const str = (s: string): string => `STRING: "${s}"`;
const gauge = (n: number): string => `Gauge32: ${n}`;
const joinedSeries = (id: number, status: string): string => `corosync_node_joined{nodeid="${id}",address="${ip(id)}",status="${status}"}`;

/** The node trap, signal and syslog line for node `id` becoming `state`. */
async function nodeReported(id: number, state: "joined" | "left", since: number, channels: { dbus?: boolean; snmp?: boolean; syslog?: boolean } = {}): Promise<void> {
  const waits: Array<Promise<unknown>> = [];
  if (channels.dbus !== false) waits.push(monitor.waitFor("NodeStateChange", [ip(id), id, ip(id), state], since));
  if (channels.snmp !== false) {
    waits.push(
      trapd.waitFor(TRAP_OID.node, { [OBJECT_OID.nodeName]: str(ip(id)), [OBJECT_OID.nodeId]: gauge(id), [OBJECT_OID.nodeAddress]: str(ip(id)), [OBJECT_OID.nodeStatus]: str(state) }, since),
    );
  }
  if (channels.syslog !== false) waits.push(syslog.waitFor(`node ${id} ${state}`, new RegExp(`^daemon\\.notice notifyd\\[\\d+\\]: ${ip(id).replace(/\./g, "\\.")}\\[${id}\\] ip:${ip(id).replace(/\./g, "\\.")} ${state}$`)));
  await Promise.all(waits);
}

async function quorumReported(state: "quorate" | "not quorate", since: number): Promise<void> {
  await Promise.all([
    monitor.waitFor("QuorumStateChange", [HOST, 1, state], since),
    trapd.waitFor(TRAP_OID.quorum, { [OBJECT_OID.nodeName]: str(HOST), [OBJECT_OID.nodeId]: gauge(1), [OBJECT_OID.quorumStatus]: str(state) }, since),
    syslog.waitFor(state, new RegExp(`notifyd\\[\\d+\\]: ${HOST}\\[1\\] ${state === "quorate" ? "is now quorate" : "has lost quorum"}$`)),
  ]);
}

test("start: notifyd owns org.corosync under the shipped policy, reports the quorate cluster, serves metrics and AgentX", { timeout: 120_000 }, async () => {
  // The C tool starts from "not quorate": a quorate cluster is reported once at start.
  await quorumReported("quorate", 0);
  assert.match((await bus.nameOwner("org.corosync")) ?? "", /^:1\.\d+$/, "notifyd owns org.corosync (root, shipped policy)");
  const sig = monitor.of("QuorumStateChange")[0]!;
  assert.equal(sig.sender, await bus.nameOwner("org.corosync"), "the signals come from the owner of org.corosync");
  await metricsShow({
    corosync_up: 1,
    corosync_local_node_id: 1,
    corosync_members: 3,
    corosync_quorate: 1,
    corosync_quorum_expected_votes: 3,
    corosync_quorum_total_votes: 3,
    corosync_quorum_votes_needed: 2,
    [joinedSeries(1, "joined")]: 1,
    [joinedSeries(2, "joined")]: 1,
    [joinedSeries(3, "joined")]: 1,
    'corosync_notifyd_notifier_up{notifier="dbus"}': 1,
    'corosync_notifyd_notifier_up{notifier="agentx"}': 1,
  });
  await agentxShows({
    [`${STATUS_OID.localNodeId}.0`]: gauge(1),
    [`${STATUS_OID.localNodeName}.0`]: str(HOST),
    [`${STATUS_OID.quorumStatus}.0`]: str("quorate"),
    [`${STATUS_OID.memberCount}.0`]: gauge(3),
    [`${STATUS_OID.expectedVotes}.0`]: gauge(3),
    [`${STATUS_OID.totalVotes}.0`]: gauge(3),
    [`${STATUS_OID.quorum}.0`]: gauge(2),
    [`${STATUS_OID.nodeEntry}.3.3`]: str(ip(3)),
    [`${STATUS_OID.nodeEntry}.4.3`]: str("joined"),
  });
  assert.ok(notifyd.running);
});

test("a node stopped and started again: NodeStateChange left/joined, node traps, syslog lines, metrics and snmpget follow", { timeout: 120_000 }, async (t) => {
  let since = Date.now();
  cluster.node(3).signal("SIGTERM");
  await cluster.node(3).exited;
  await cluster.waitForMembers([1, 2], [1, 2]);
  await nodeReported(3, "left", since);
  t.diagnostic(`SIGTERM to node 3 -> NodeStateChange left: ${monitor.of("NodeStateChange").find((s) => s.at >= since)!.at - since} ms`);
  await metricsShow({ corosync_members: 2, corosync_quorate: 1, corosync_quorum_total_votes: 2, [joinedSeries(3, "left")]: 0, [joinedSeries(2, "joined")]: 1 });
  await agentxShows({ [`${STATUS_OID.memberCount}.0`]: gauge(2), [`${STATUS_OID.nodeEntry}.4.3`]: str("left"), [`${STATUS_OID.totalVotes}.0`]: gauge(2) });

  since = Date.now();
  cluster.node(3).start();
  const formed = await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
  await nodeReported(3, "joined", since);
  t.diagnostic(`node 3 started -> NodeStateChange joined: ${monitor.of("NodeStateChange").find((s) => s.at >= since)!.at - since} ms (membership seen in the logs after ${formed - since} ms)`);
  await metricsShow({ corosync_members: 3, corosync_quorum_total_votes: 3, [joinedSeries(3, "joined")]: 1 });
  await agentxShows({ [`${STATUS_OID.memberCount}.0`]: gauge(3), [`${STATUS_OID.nodeEntry}.4.3`]: str("joined") });
  // Quorum never changed: no quorum signal after the first.
  assert.equal(monitor.of("QuorumStateChange").length, 1, JSON.stringify(monitor.of("QuorumStateChange")));
});

test("a CPG client connecting and leaving: ConnectionStateChange connected/disconnected, application traps, CPG metrics", { timeout: 120_000 }, async () => {
  const since = Date.now();
  const client = cpgChild({ prefix: cluster.node(1).ipcPrefix!, group: "notifyd-test" });
  try {
    await client.waitEvent("joined", (e) => e.ev === "ready");
    const appOf = (s: { args: Array<string | number> }): string => String(s.args[2]);
    const mine = (state: string) => (s: { at: number; args: Array<string | number> }) =>
      s.at >= since && s.args[0] === HOST && s.args[1] === 1 && new RegExp(`^\\S+\\.${client.pid}\\.\\S+$`).test(appOf(s)) && s.args[3] === state;
    await waitUntil("ConnectionStateChange connected", () => monitor.of("ConnectionStateChange").some(mine("connected")), 30_000, () => JSON.stringify(monitor.of("ConnectionStateChange").map((s) => s.args)));
    const app = appOf(monitor.of("ConnectionStateChange").find(mine("connected"))!);
    assert.match(app, new RegExp(`^0x[0-9a-f]+\\.${client.pid}\\.node$`), "the C tool's <conn>.<pid>.<procname>");
    await trapd.waitFor(TRAP_OID.connection, { [OBJECT_OID.nodeName]: str(HOST), [OBJECT_OID.nodeId]: gauge(1), [OBJECT_OID.appName]: str(app), [OBJECT_OID.appStatus]: str("connected") }, since);
    await syslog.waitFor("connected", new RegExp(`notifyd\\[\\d+\\]: ${HOST}\\[1\\] ${app.replace(/\./g, "\\.")} is now connected to corosync$`));
    await metricsShow({ 'corosync_cpg_group_members{group="notifyd-test"}': 1 });

    client.kill("SIGKILL");
    await client.exited;
    await monitor.waitFor("ConnectionStateChange", [HOST, 1, app, "disconnected"], since);
    await trapd.waitFor(TRAP_OID.connection, { [OBJECT_OID.appName]: str(app), [OBJECT_OID.appStatus]: str("disconnected") }, since);
    await syslog.waitFor("disconnected", new RegExp(`${app.replace(/\./g, "\\.")} is now disconnected from corosync$`));
    await waitUntilAsync("the CPG group gone from /metrics", async () => sample(await scrape(), 'corosync_cpg_group_members{group="notifyd-test"}') === undefined, 30_000, () => notifyd.tail());
  } finally {
    client.kill("SIGKILL");
    await client.exited;
  }
});


test("quorum lost and regained: QuorumStateChange not quorate/quorate, quorum traps, metrics", { timeout: 120_000 }, async () => {
  let since = Date.now();
  cluster.node(2).signal("SIGTERM");
  cluster.node(3).signal("SIGTERM");
  await Promise.all([cluster.node(2).exited, cluster.node(3).exited]);
  await cluster.waitForMembers([1], [1]);
  await Promise.all([quorumReported("not quorate", since), nodeReported(2, "left", since), nodeReported(3, "left", since)]);
  await metricsShow({ corosync_members: 1, corosync_quorate: 0, corosync_quorum_total_votes: 1, [joinedSeries(2, "left")]: 0, [joinedSeries(3, "left")]: 0 });
  await agentxShows({ [`${STATUS_OID.quorumStatus}.0`]: str("not quorate"), [`${STATUS_OID.memberCount}.0`]: gauge(1) });

  since = Date.now();
  cluster.node(2).start();
  await cluster.waitForMembers([1, 2], [1, 2]);
  await Promise.all([quorumReported("quorate", since), nodeReported(2, "joined", since)]);
  await metricsShow({ corosync_members: 2, corosync_quorate: 1, [joinedSeries(2, "joined")]: 1 });
  await agentxShows({ [`${STATUS_OID.quorumStatus}.0`]: str("quorate") });

  cluster.node(3).start();
  await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
  await nodeReported(3, "joined", since);
});

test("dbus-daemon killed and started again: events meanwhile still reach SNMP and syslog, signals resume", { timeout: 120_000 }, async (t) => {
  await monitor.stop();
  await bus.kill();
  let since = Date.now();
  cluster.node(3).signal("SIGTERM");
  await cluster.node(3).exited;
  await cluster.waitForMembers([1, 2], [1, 2]);
  await nodeReported(3, "left", since, { dbus: false });
  await metricsShow({ 'corosync_notifyd_notifier_up{notifier="dbus"}': 0 });
  assert.ok(notifyd.running);

  const restarted = Date.now();
  await bus.start();
  monitor = new DbusMonitor(bus.address);
  await monitor.ready();
  await waitUntilAsync("notifyd back on the new bus", async () => (await bus.nameOwner("org.corosync")) !== undefined, 30_000, () => notifyd.tail());
  t.diagnostic(`dbus-daemon started again -> notifyd owns org.corosync: ${Date.now() - restarted} ms`);
  await metricsShow({ 'corosync_notifyd_notifier_up{notifier="dbus"}': 1 });
  since = Date.now();
  cluster.node(3).start();
  await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
  await nodeReported(3, "joined", since);
  assert.ok(notifyd.lines.some((l) => /DBus connection lost/.test(l)), "the loss was logged");
  assert.ok(notifyd.lines.some((l) => /DBus connection established/.test(l)), "the reconnection was logged");
});

test("snmptrapd and snmpd killed and started again: traps resume, AgentX registers again", { timeout: 120_000 }, async (t) => {
  await Promise.all([trapd.kill(), snmpd.kill()]);
  let since = Date.now();
  cluster.node(3).signal("SIGTERM");
  await cluster.node(3).exited;
  await cluster.waitForMembers([1, 2], [1, 2]);
  // D-Bus and syslog go on while the SNMP side is away.
  await nodeReported(3, "left", since, { snmp: false });
  await metricsShow({ 'corosync_notifyd_notifier_up{notifier="agentx"}': 0 });

  const restarted = Date.now();
  await Promise.all([trapd.start(), snmpd.start()]);
  await agentxShows({ [`${STATUS_OID.memberCount}.0`]: gauge(2), [`${STATUS_OID.nodeEntry}.4.3`]: str("left") });
  t.diagnostic(`snmpd started again -> snmpget answered through AgentX: ${Date.now() - restarted} ms`);
  since = Date.now();
  cluster.node(3).start();
  await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
  await nodeReported(3, "joined", since);
  await agentxShows({ [`${STATUS_OID.memberCount}.0`]: gauge(3) });
  assert.ok(notifyd.running);
});

test("the executive killed and started again: notifyd reconnects, reports what changed meanwhile, goes on", { timeout: 120_000 }, async (t) => {
  const n1 = cluster.node(1);
  n1.signal("SIGKILL");
  await n1.exited;
  await metricsShow({ corosync_up: 0 });
  await cluster.waitForMembers([2, 3], [2, 3]);
  // Node 3 leaves while node 1 is down; node 1 comes back with only node 2.
  cluster.node(3).signal("SIGTERM");
  await cluster.node(3).exited;
  let since = Date.now();
  n1.start();
  await cluster.waitForMembers([1, 2], [1, 2]);
  await metricsShow({ corosync_up: 1, corosync_members: 2 });
  t.diagnostic(`executive started again -> /metrics corosync_up 1: ${Date.now() - since} ms`);
  assert.ok(notifyd.lines.some((l) => /connection to corosync lost/.test(l)), "the loss was logged");
  await nodeReported(3, "left", since);

  since = Date.now();
  cluster.node(3).start();
  await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
  await nodeReported(3, "joined", since);
  await metricsShow({ corosync_members: 3, [joinedSeries(3, "joined")]: 1 });
  assert.ok(notifyd.running);
});
