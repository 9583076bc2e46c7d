/**
 * corosync-notifyd's pure pieces: key parsing, event derivation (dedupe, baseline after a
 * reconnection, quorum edges, ring states), the C tool's log lines, SNMP notifications and
 * manager syntax, D-Bus signal shapes and addresses, command-line parsing, and the
 * Prometheus exposition.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import snmp from "net-snmp";
import {
  addressFromMemberIp,
  EventDeriver,
  formatEventLine,
  parseInterfaceKey,
  parseIpcKey,
  parseMemberKey,
  type NotifySnapshot,
} from "../../src/core/notify/events.js";
import { COROSYNC_ENTERPRISE_OID, notificationFor, OBJECT_OID, parseSnmpManager, STATUS_OID, TRAP_OID } from "../../src/core/notify/mib.js";
import { escapeLabelValue, renderMetrics, type ClusterMetricsSnapshot } from "../../src/core/notify/metrics.js";
import { dbusSignalFor, parseDbusAddress } from "../../src/notifyd/dbus.js";
import { parseNotifydArgs, USAGE } from "../../src/cli/corosync-notifyd.js";
import { parseListenAddress } from "../../src/notifyd/metrics-server.js";

test("cmap key parsing: members, IPC connections, ring interfaces", () => {
  assert.deepEqual(parseMemberKey("runtime.members.3.status"), { nodeId: 3, field: "status" });
  assert.deepEqual(parseMemberKey("runtime.members.4294967295.ip"), { nodeId: 4294967295, field: "ip" });
  assert.equal(parseMemberKey("runtime.members.4294967296.ip"), undefined);
  assert.equal(parseMemberKey("runtime.members.x.status"), undefined);
  assert.equal(parseMemberKey("runtime.members.3"), undefined);
  assert.deepEqual(parseIpcKey("stats.ipcs.service8.1234.0x1f.procname"), { service: 8, pid: 1234, conn: "0x1f", field: "procname" });
  assert.equal(parseIpcKey("stats.ipcs.global.active"), undefined);
  assert.deepEqual(parseInterfaceKey("runtime.totem.interface.1.status"), { ring: 1, field: "status" });
  assert.equal(parseInterfaceKey("runtime.totem.interface.1.mtu"), undefined);
});

test("member address: the text inside the last parentheses, as the C tool's strrchr", () => {
  assert.equal(addressFromMemberIp("r(0) ip(10.0.0.1) "), "10.0.0.1");
  assert.equal(addressFromMemberIp("r(0) ip(10.0.0.1) r(1) ip(10.1.0.1) "), "10.1.0.1");
  assert.equal(addressFromMemberIp("r(0) ip(fe80::1) "), "fe80::1");
  assert.equal(addressFromMemberIp("garbage"), undefined);
  assert.equal(addressFromMemberIp("ip(10.0.0.1"), undefined);
  fc.assert(fc.property(fc.string(), (s) => {
    const r = addressFromMemberIp(s);
    return r === undefined || (r.length > 0 && !r.includes(")"));
  }));
});

test("deriver: node events on status changes only, with the resolved name", () => {
  const d = new EventDeriver({ name: "me", nodeId: 1 }, (ip) => `host-${ip}`);
  assert.deepEqual(d.memberStatus(2, "joined", "10.0.0.2"), { kind: "node", name: "host-10.0.0.2", nodeId: 2, ip: "10.0.0.2", state: "joined" });
  assert.equal(d.memberStatus(2, "joined", "10.0.0.2"), undefined, "an unchanged status is no event");
  assert.equal(d.memberStatus(2, "left", "10.0.0.2")?.state, "left");
});

test("deriver: quorum events on edges, starting from not quorate as the C tool", () => {
  const d = new EventDeriver({ name: "me", nodeId: 7 });
  assert.equal(d.quorum(false), undefined);
  assert.deepEqual(d.quorum(true), { kind: "quorum", name: "me", nodeId: 7, state: "quorate" });
  assert.equal(d.quorum(true), undefined);
  assert.deepEqual(d.quorum(false), { kind: "quorum", name: "me", nodeId: 7, state: "not quorate" });
  d.setLocal({ name: "other", nodeId: 9 });
  assert.equal(d.quorum(true)?.name, "other");
});

test("deriver: connections and rings", () => {
  const d = new EventDeriver({ name: "me", nodeId: 1 });
  assert.equal(d.connection("0x5.99.cpgtest", true)?.state, "connected");
  assert.equal(d.connection("0x5.99.cpgtest", true), undefined);
  assert.equal(d.connection("0x5.99.cpgtest", false)?.state, "disconnected");
  assert.equal(d.connection("0x5.99.cpgtest", false), undefined);
  assert.equal(d.ringStatus(0, "active"), undefined, "a ring that starts working is not news");
  assert.deepEqual(d.ringStatus(0, "FAULTY"), { kind: "link", name: "me", localNodeId: 1, nodeId: 1, iface: 0, state: "disconnected" });
  assert.equal(d.ringStatus(0, "FAULTY"), undefined);
  assert.equal(d.ringStatus(0, "active")?.state, "operational");
  assert.equal(d.ringStatus(1, "FAULTY")?.state, "disconnected", "a ring first seen faulty is reported");
});

test("deriver: the first baseline is silent, a later one reports what changed meanwhile", () => {
  const d = new EventDeriver({ name: "me", nodeId: 1 });
  const snap = (members: Array<[number, string]>, conns: string[], rings: Array<[number, string]>): NotifySnapshot => ({
    memberStatus: new Map(members.map(([id, status]) => [id, { status, ip: `10.0.0.${id}` }])),
    connections: new Set(conns),
    ringStatus: new Map(rings),
  });
  assert.deepEqual(d.baseline(snap([[1, "joined"], [2, "joined"]], ["0x1.5.a"], [[0, "FAULTY"]])), []);
  assert.equal(d.memberStatus(2, "joined", "10.0.0.2"), undefined, "the baseline was remembered");
  const later = d.baseline(snap([[1, "joined"], [2, "left"], [3, "joined"]], ["0x9.6.b"], [[0, "active"]]));
  assert.deepEqual(
    later.map((e) => formatEventLine(e)),
    ["10.0.0.2[2] ip:10.0.0.2 left", "10.0.0.3[3] ip:10.0.0.3 joined", "me[1] 0x1.5.a is now disconnected from corosync", "me[1] 0x9.6.b is now connected to corosync", "me[1] link 0 to node 1 is now operational"],
  );
  // The executive restarted and has not seen node 3 (nor the long-gone node 2) since:
  // node 3 is reported left with its last address, node 2 not again.
  const restarted = d.baseline(snap([[1, "joined"]], [], []));
  assert.deepEqual(
    restarted.map((e) => formatEventLine(e)),
    ["10.0.0.3[3] ip:10.0.0.3 left", "me[1] 0x9.6.b is now disconnected from corosync"],
  );
  assert.deepEqual(d.baseline(snap([[1, "joined"]], [], [])), [], "nothing new the next time");
});

test("log lines are the C tool's", () => {
  assert.equal(formatEventLine({ kind: "node", name: "r2", nodeId: 1550100672, ip: "192.168.100.92", state: "joined" }), "r2[1550100672] ip:192.168.100.92 joined");
  assert.equal(formatEventLine({ kind: "quorum", name: "troll", nodeId: 5, state: "quorate" }), "troll[5] is now quorate");
  assert.equal(formatEventLine({ kind: "quorum", name: "troll", nodeId: 5, state: "not quorate" }), "troll[5] has lost quorum");
  assert.equal(formatEventLine({ kind: "connection", name: "t", nodeId: 5, app: "0x3.12.x", state: "disconnected" }), "t[5] 0x3.12.x is now disconnected from corosync");
  assert.equal(formatEventLine({ kind: "link", name: "t", localNodeId: 5, nodeId: 6, iface: 1, state: "operational" }), "t[5] link 1 to node 6 is now operational");
});

test("SNMP notifications: COROSYNC-MIB OIDs, varbinds in the C tool's order and types", () => {
  const node = notificationFor({ kind: "node", name: "n", nodeId: 0xffffffff, ip: "10.0.0.1", state: "left" });
  assert.equal(node.trapOid, "1.3.6.1.4.1.35488.0.1");
  assert.deepEqual(node.varbinds, [
    { oid: "1.3.6.1.4.1.35488.1.1", type: "OctetString", value: "n" },
    { oid: "1.3.6.1.4.1.35488.1.2", type: "Gauge32", value: 4294967295 },
    { oid: "1.3.6.1.4.1.35488.1.4", type: "OctetString", value: "10.0.0.1" },
    { oid: "1.3.6.1.4.1.35488.1.3", type: "OctetString", value: "left" },
  ]);
  const q = notificationFor({ kind: "quorum", name: "n", nodeId: 1, state: "quorate" });
  assert.deepEqual([q.trapOid, q.varbinds.map((v) => v.oid)], [TRAP_OID.quorum, ["1.3.6.1.4.1.35488.1.1", "1.3.6.1.4.1.35488.1.2", "1.3.6.1.4.1.35488.1.21"]]);
  const a = notificationFor({ kind: "connection", name: "n", nodeId: 1, app: "x", state: "connected" });
  assert.deepEqual([a.trapOid, a.varbinds.map((v) => v.oid.split(".").pop())], ["1.3.6.1.4.1.35488.0.3", ["1", "2", "40", "41"]]);
  const l = notificationFor({ kind: "link", name: "n", localNodeId: 1, nodeId: 2, iface: 3, state: "disconnected" });
  assert.deepEqual([l.trapOid, l.varbinds.map((v) => `${v.oid.split(".").pop()}:${v.type}`)], ["1.3.6.1.4.1.35488.0.4", ["1:OctetString", "5:Gauge32", "2:Gauge32", "60:Integer", "61:OctetString"]]);
});

test("SNMP manager syntax", () => {
  assert.deepEqual(parseSnmpManager("localhost"), { host: "localhost", port: 162 });
  assert.deepEqual(parseSnmpManager("127.0.0.1:16200"), { host: "127.0.0.1", port: 16200 });
  assert.deepEqual(parseSnmpManager("udp:10.0.0.1:1162"), { host: "10.0.0.1", port: 1162 });
  assert.deepEqual(parseSnmpManager("[::1]:1162"), { host: "::1", port: 1162 });
  assert.deepEqual(parseSnmpManager("fe80::1"), { host: "fe80::1", port: 162 });
  for (const bad of ["", "host:0", "host:70000", "host:12x", "a b"]) assert.ok("error" in parseSnmpManager(bad), bad);
});

test("D-Bus: signal shapes and bus addresses", () => {
  assert.deepEqual(dbusSignalFor({ kind: "node", name: "n", nodeId: 2, ip: "10.0.0.2", state: "joined" }), { member: "NodeStateChange", signature: "suss", args: ["n", 2, "10.0.0.2", "joined"] });
  assert.deepEqual(dbusSignalFor({ kind: "quorum", name: "n", nodeId: 2, state: "not quorate" }), { member: "QuorumStateChange", signature: "sus", args: ["n", 2, "not quorate"] });
  assert.deepEqual(dbusSignalFor({ kind: "connection", name: "n", nodeId: 2, app: "a", state: "connected" }).signature, "suss");
  assert.deepEqual(dbusSignalFor({ kind: "link", name: "n", localNodeId: 1, nodeId: 2, iface: 0, state: "operational" }), { member: "LinkStateChange", signature: "suuus", args: ["n", 1, 2, 0, "operational"] });
  assert.deepEqual(parseDbusAddress("unix:path=/run/dbus/system_bus_socket"), { path: "/run/dbus/system_bus_socket" });
  assert.deepEqual(parseDbusAddress("unix:abstract=/tmp/dbus-x,guid=abc"), { path: "\0/tmp/dbus-x" });
  assert.deepEqual(parseDbusAddress("unix:path=/tmp/a%20b"), { path: "/tmp/a b" });
  assert.deepEqual(parseDbusAddress("launchd:env=X;tcp:host=127.0.0.1,port=5555"), { host: "127.0.0.1", port: 5555 });
  assert.throws(() => parseDbusAddress("unix:guid=1"), /unusable D-Bus address/);
  assert.throws(() => parseDbusAddress(""), /unusable D-Bus address/);
});

test("command line: corosync's flags, messages and exit codes; our long options", () => {
  const ok = (argv: string[]) => {
    const r = parseNotifydArgs(argv);
    assert.ok("config" in r, JSON.stringify(r));
    return r;
  };
  assert.deepEqual(parseNotifydArgs([]), { exit: 1, stderr: "no event type enabled, see corosync-notifyd -h, exiting.\n" });
  assert.deepEqual(parseNotifydArgs(["-o"]), { exit: 1, stderr: "configured to print to stdout and run in the background, exiting\n" });
  assert.deepEqual(parseNotifydArgs(["-h"]), { exit: 1, stderr: USAGE });
  assert.match((parseNotifydArgs(["-x"]) as { stderr: string }).stderr, /invalid option -- 'x'/);
  assert.match((parseNotifydArgs(["-f", "-l", "--bogus"]) as { stderr: string }).stderr, /unrecognized option '--bogus'/);
  assert.match((parseNotifydArgs(["-f", "-m", "host:99999"]) as { stderr: string }).stderr, /port must be 1..65535/);
  const fo = ok(["-fo"]).config;
  assert.deepEqual([fo.foreground, fo.log, fo.stdout], [true, true, true]);
  const m = ok(["-f", "-m", "127.0.0.1:16200", "-c", "secret", "-n"]).config;
  assert.deepEqual([m.snmp, m.manager, m.community, m.noDns], [true, { host: "127.0.0.1", port: 16200 }, "secret", true]);
  const both = ok(["-s", "-d"]);
  assert.deepEqual(both.warnings, ["configured to send snmp traps and dbus signals - are you sure?."]);
  const metrics = ok(["--metrics", "9405"]).config;
  assert.deepEqual(metrics.metrics, { host: "127.0.0.1", port: 9405 });
  assert.deepEqual(ok(["--metrics=0.0.0.0:9405", "--agentx", "705"]).config.agentx, { host: "127.0.0.1", port: 705 });
  assert.match((parseNotifydArgs(["--agentx", "0"]) as { stderr: string }).stderr, /port must be 1..65535/);
  assert.match((parseNotifydArgs(["--metrics"]) as { stderr: string }).stderr, /requires an argument/);
  assert.equal(ok(["-l", "--syslog-socket", "/tmp/log.sock"]).config.syslogSocket, "/tmp/log.sock");
  assert.deepEqual(parseListenAddress("[::1]:80"), { host: "::1", port: 80 });
  assert.ok("error" in parseListenAddress("host:"));
});

test("metrics: every family announced, samples only where known, labels escaped", () => {
  const empty: ClusterMetricsSnapshot = { up: false, members: [], rings: [], srp: {}, droppedByReason: {}, eventsByKind: {}, notifiersUp: {} };
  const text = renderMetrics(empty);
  assert.match(text, /^corosync_up 0$/m);
  assert.doesNotMatch(text, /^corosync_quorate /m);
  assert.match(text, /^# TYPE corosync_quorate gauge$/m);
  const full = renderMetrics({
    up: true,
    localNodeId: 1,
    ringMembers: [1, 2],
    members: [
      { nodeId: 2, address: "10.0.0.2", status: "left" },
      { nodeId: 1, address: "10.0.0.1", status: "joined" },
    ],
    quorate: true,
    votes: { expected: 3, total: 2, quorum: 2, node: 1 },
    rings: [{ ring: 0, address: "10.0.0.1", faulty: false }],
    srp: { mcast_tx: 10, mcast_rx: 12, mcast_retx: 1, mtt_rx_token: 250, orf_token_rx: 99 },
    droppedByReason: { bad_magic: 2 },
    ipc: { active: 3, closed: 7 },
    cpgGroups: [{ group: 'we"ird\\', members: 2 }],
    eventsByKind: { node: 1 },
    notifiersUp: { dbus: true, snmp: false },
  });
  for (const line of [
    "corosync_up 1",
    "corosync_members 2",
    'corosync_node_joined{nodeid="1",address="10.0.0.1",status="joined"} 1',
    'corosync_node_joined{nodeid="2",address="10.0.0.2",status="left"} 0',
    "corosync_quorate 1",
    "corosync_quorum_expected_votes 3",
    "corosync_quorum_total_votes 2",
    'corosync_ring_faulty{ring="0",address="10.0.0.1"} 0',
    "corosync_token_rotation_seconds 0.25",
    "corosync_retransmits_total 1",
    "corosync_messages_sent_total 10",
    'corosync_dropped_frames_total{reason="bad_magic"} 2',
    "corosync_ipc_connections 3",
    "corosync_cpg_groups 1",
    'corosync_cpg_group_members{group="we\\"ird\\\\"} 2',
    'corosync_notifyd_notifier_up{notifier="snmp"} 0',
  ]) {
    assert.ok(full.split("\n").includes(line), `missing: ${line}\n${full}`);
  }
  // Every sample line belongs to a family announced before it.
  const announced = new Set<string>();
  for (const line of full.trimEnd().split("\n")) {
    const t = /^# TYPE (\S+) (gauge|counter)$/.exec(line);
    if (t) announced.add(t[1]!);
    else if (!line.startsWith("#")) assert.ok(announced.has(line.split(/[{ ]/)[0]!), line);
  }
  assert.equal(escapeLabelValue("a\nb"), "a\\nb");
});

test("the shipped COROSYNC-MIB defines exactly the numbers notifyd sends and serves", () => {
  const mibPath = fileURLToPath(new URL("../../../conf/COROSYNC-MIB.txt", import.meta.url));
  const text = readFileSync(mibPath, "utf8").replace(/--[^\n]*/g, "");
  const oids = new Map<string, string>([["enterprises", "1.3.6.1.4.1"]]);
  for (const m of text.matchAll(/^(\w+)[ \t]+(?:MODULE-IDENTITY|OBJECT IDENTIFIER|OBJECT-TYPE|NOTIFICATION-TYPE|OBJECT-GROUP|NOTIFICATION-GROUP|MODULE-COMPLIANCE)\b[\s\S]*?::=\s*\{\s*(\w+)\s+(\d+)\s*\}/gm)) {
    const parent = oids.get(m[2]!);
    assert.ok(parent !== undefined, `${m[1]} refers to ${m[2]} before it is defined`);
    oids.set(m[1]!, `${parent}.${m[3]}`);
  }
  assert.equal(oids.get("corosync"), COROSYNC_ENTERPRISE_OID);
  const want: Record<string, string> = {
    corosyncNoticesNodeStatus: TRAP_OID.node,
    corosyncNoticesQuorumStatus: TRAP_OID.quorum,
    corosyncNoticesAppStatus: TRAP_OID.connection,
    corosyncNoticesLinkStatus: TRAP_OID.link,
    corosyncObjectsNodeName: OBJECT_OID.nodeName,
    corosyncObjectsNodeID: OBJECT_OID.nodeId,
    corosyncObjectsNodeStatus: OBJECT_OID.nodeStatus,
    corosyncObjectsNodeAddress: OBJECT_OID.nodeAddress,
    corosyncObjectsLocalNodeID: OBJECT_OID.localNodeId,
    corosyncObjectsRingSeq: OBJECT_OID.ringSeq,
    corosyncObjectsQuorumStatus: OBJECT_OID.quorumStatus,
    corosyncObjectsAppName: OBJECT_OID.appName,
    corosyncObjectsAppStatus: OBJECT_OID.appStatus,
    corosyncObjectsIfaceNo: OBJECT_OID.linkIfaceNo,
    corosyncObjectsLinkStatus: OBJECT_OID.linkStatus,
    corosyncLocalNodeId: STATUS_OID.localNodeId,
    corosyncLocalNodeName: STATUS_OID.localNodeName,
    corosyncQuorumState: STATUS_OID.quorumStatus,
    corosyncMemberCount: STATUS_OID.memberCount,
    corosyncExpectedVotes: STATUS_OID.expectedVotes,
    corosyncTotalVotes: STATUS_OID.totalVotes,
    corosyncQuorumVotes: STATUS_OID.quorum,
    corosyncNodeEntry: STATUS_OID.nodeEntry,
  };
  for (const [name, oid] of Object.entries(want)) assert.equal(oids.get(name), oid, name);
  // A real SMIv2 parser (net-snmp's, with its SNMPv2-SMI/CONF) reads the file to the same numbers.
  const store = snmp.createModuleStore();
  store.loadFromFile(mibPath);
  const parsed = store.getModule("COROSYNC-MIB");
  assert.ok(parsed !== undefined, "net-snmp parses COROSYNC-MIB");
  for (const [name, oid] of Object.entries(want)) assert.equal(parsed[name]?.OID, oid, `net-snmp: ${name}`);
  // Every notification lists its objects in the order the traps carry them.
  const objectsOf = (notice: string): string[] => {
    const m = new RegExp(`${notice}\\s+NOTIFICATION-TYPE\\s+OBJECTS\\s*\\{([^}]*)\\}`).exec(text);
    return m![1]!.split(",").map((s) => oids.get(s.trim())!);
  };
  assert.deepEqual(objectsOf("corosyncNoticesNodeStatus"), notificationFor({ kind: "node", name: "", nodeId: 0, ip: "", state: "" }).varbinds.map((v) => v.oid));
  assert.deepEqual(objectsOf("corosyncNoticesQuorumStatus"), notificationFor({ kind: "quorum", name: "", nodeId: 0, state: "quorate" }).varbinds.map((v) => v.oid));
  assert.deepEqual(objectsOf("corosyncNoticesAppStatus"), notificationFor({ kind: "connection", name: "", nodeId: 0, app: "", state: "connected" }).varbinds.map((v) => v.oid));
  assert.deepEqual(objectsOf("corosyncNoticesLinkStatus"), notificationFor({ kind: "link", name: "", localNodeId: 0, nodeId: 0, iface: 0, state: "operational" }).varbinds.map((v) => v.oid));
});
