/**
 * The typed model and the pure pipeline (compile.ts): defaults, derived addresses and ids,
 * the cmap entries handed to the daemon.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CMAP_TYPE_NAMES } from "../../src/core/cmap/types.js";
import { type CompileOptions, compileConfig } from "../../src/config/compile.js";
import { clusterIdFromName, isMulticastAddress, parseIPv6 } from "../../src/config/ip.js";
import { type CorosyncConfig, defaultMcastAddr, nodeIdFromIPv4 } from "../../src/config/model.js";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "..");
const example = (name: string) => readFileSync(join(root, "examples", name), "utf8");

function compileOk(text: string, options: CompileOptions = {}) {
  const r = compileConfig({ file: "t.conf", text }, options);
  assert.ok(r.ok, r.ok ? "" : r.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join("\n"));
  return r;
}
const model = (text: string, options?: CompileOptions): CorosyncConfig => compileOk(text, options).config;

const udpuNoIds = "totem {\n\tversion: 2\n\tcluster_name: demo\n\ttransport: udpu\n}\nnodelist {\n\tnode {\n\t\tring0_addr: 10.0.0.1\n\t}\n\tnode {\n\t\tring0_addr: 10.0.0.2\n\t}\n}\n";

test("three-node example: transport, nodes, quorum, logging, uidgid and timers", () => {
  const c = model(example("three-node-udpu.conf"));
  assert.equal(c.transport, "udpu");
  assert.equal(c.clusterName, "demo");
  assert.deepEqual(
    c.nodes.map((n) => [n.nodeId, n.name, n.ringAddrs, n.nodeIdDerived, n.quorumVotes]),
    [
      [1, "n1", ["10.0.0.1"], false, 1],
      [2, "n2", ["10.0.0.2"], false, 1],
      [3, "n3", ["10.0.0.3"], false, 1],
    ],
  );
  assert.equal(c.quorum.provider, "corosync_votequorum");
  assert.deepEqual([c.logging.toLogfile, c.logging.logfile, c.logging.toSyslog, c.logging.toStderr, c.logging.timestamp], [true, "/var/log/corosync/corosync.log", true, true, "on"]);
  assert.deepEqual(c.logging.subsystems, { QUORUM: { debug: "off" } });
  assert.deepEqual(c.uidgid, { uids: ["hacluster"], gids: ["haclient"] });
  assert.deepEqual([c.totem.tokenMs, c.totem.consensusMs, c.totem.tokenRetransmitMs, c.totem.holdMs], [1650, 1980, 392, 303]);
  assert.deepEqual([c.crypto.enabled, c.secauth, c.crypto.keyfile], [false, false, "/etc/corosync/authkey"]);
  assert.deepEqual(c.interfaces.map((i) => [i.linkNumber, i.mcastport, i.ttl, i.mcastaddr]), [[0, 5405, 1, undefined]]);
});

test("1.x multicast example: udp, one interface as configured, no nodelist", () => {
  const c = model(example("corosync-1x-multicast.conf"));
  assert.equal(c.transport, "udp");
  assert.equal(c.ipVersion, "ipv4");
  assert.deepEqual(c.nodes, []);
  assert.deepEqual(c.interfaces, [
    { linkNumber: 0, mcastport: 5405, ttl: 1, broadcast: false, members: [], knetTransport: "udp", bindnetaddr: "192.168.1.0", mcastaddr: "226.94.1.1" },
  ]);
  assert.deepEqual([c.totem.tokenMs, c.totem.netMtu], [3000, 1500]);
  assert.equal(c.nodeId, undefined);
});

test("state_dir: configured, else COROSYNC_STATE_DIR, else /var/lib/corosync", () => {
  const base = example("single-node.conf");
  assert.equal(model(base).system.stateDir, "/var/lib/corosync");
  assert.equal(model(base, { env: { COROSYNC_STATE_DIR: "/tmp/s" } }).system.stateDir, "/tmp/s");
  const configured = `${base}system {\n\tstate_dir: /srv/c\n}\n`;
  assert.equal(model(configured, { env: { COROSYNC_STATE_DIR: "/tmp/s" } }).system.stateDir, "/srv/c");
});

test("nodeIdFromIPv4: the big-endian u32 of the address, high bit optionally cleared", () => {
  assert.equal(nodeIdFromIPv4("10.0.0.1"), 167772161);
  assert.equal(nodeIdFromIPv4("192.168.1.1"), 3232235777);
  assert.equal(nodeIdFromIPv4("192.168.1.1", true), 1084752129);
  assert.equal(nodeIdFromIPv4("fd00::1"), undefined);
  assert.equal(nodeIdFromIPv4("1.2.3"), undefined);
  assert.equal(nodeIdFromIPv4("01.2.3.4"), undefined);
  assert.equal(nodeIdFromIPv4("node1"), undefined);
});

test("udp/udpu without nodeids: derived ids, written back to cmap as corosync does", () => {
  const r = compileOk(udpuNoIds);
  assert.deepEqual(r.config.nodes.map((n) => [n.nodeId, n.nodeIdDerived]), [
    [167772161, true],
    [167772162, true],
  ]);
  const written = r.cmapEntries.filter((e) => /^nodelist\.node\.\d+\.nodeid$/.test(e.key));
  assert.deepEqual(written.map((e) => [e.key, CMAP_TYPE_NAMES[e.value.type], e.value.value]), [
    ["nodelist.node.0.nodeid", "u32", 167772161],
    ["nodelist.node.1.nodeid", "u32", 167772162],
  ]);
});

test("udp default multicast address from cluster_name (fold, +link, modulo 255), written back with the port", () => {
  assert.equal(clusterIdFromName("demo"), 1533);
  assert.equal(defaultMcastAddr("demo", 0, "ipv4"), "239.192.5.3");
  assert.equal(defaultMcastAddr("demo", 1, "ipv4"), "239.192.5.4");
  assert.equal(defaultMcastAddr("demo", 0, "ipv6"), "ff15::5fd");
  assert.equal(clusterIdFromName("é"), 65327); // bytes are signed chars, as on x86
  assert.equal(defaultMcastAddr("é", 0, "ipv4"), "239.192.255.47");
  const r = compileOk(udpuNoIds.replace("transport: udpu", "transport: udp"));
  assert.equal(r.config.interfaces[0]!.mcastaddr, "239.192.5.3");
  const back = r.cmapEntries.filter((e) => e.key.startsWith("totem.interface.0."));
  assert.deepEqual(back.map((e) => [e.key, CMAP_TYPE_NAMES[e.value.type], e.value.value]), [
    ["totem.interface.0.mcastaddr", "str", "239.192.5.3"],
    ["totem.interface.0.mcastport", "u16", 5405],
  ]);
});

test("broadcast: 255.255.255.255 and port 5405 + 2·link", () => {
  const text = "totem {\n\tversion: 2\n\tinterface {\n\t\tbindnetaddr: 10.0.0.0\n\t\tbroadcast: yes\n\t}\n\tinterface {\n\t\tringnumber: 1\n\t\tbindnetaddr: 10.1.0.0\n\t\tmcastaddr: 239.9.9.9\n\t}\n\trrp_mode: passive\n}\n";
  const r = compileConfig({ file: "t.conf", text });
  // bindnetaddr/mcastport are required without a nodelist: check the model on a valid variant.
  assert.ok(!r.ok);
  const c = model(text.replace("broadcast: yes\n", "broadcast: yes\n\t\tmcastport: 5405\n").replace("mcastaddr: 239.9.9.9\n", "mcastaddr: 239.9.9.9\n\t\tmcastport: 5409\n"));
  assert.deepEqual(c.interfaces.map((i) => [i.linkNumber, i.mcastaddr, i.mcastport, i.broadcast]), [
    [0, "255.255.255.255", 5405, true],
    [1, "255.255.255.255", 5409, true],
  ]);
  assert.equal(c.rrpMode, "passive");
});

test("crypto: secauth on → aes256 + sha256; explicit keys override; keyfile", () => {
  const base = example("single-node.conf").replace("\tcrypto_cipher: none\n\tcrypto_hash: none\n", "");
  const on = model(base.replace("transport: udpu", "transport: udpu\n\tsecauth: on\n\tkeyfile: /etc/ais/authkey"));
  assert.deepEqual(on.crypto, { cipher: "aes256", hash: "sha256", enabled: true, keyfile: "/etc/ais/authkey" });
  assert.equal(on.secauth, true);
  const cha = model(base.replace("transport: udpu", "transport: udpu\n\tcrypto_cipher: chacha20\n\tcrypto_hash: sha512"));
  assert.deepEqual([cha.crypto.cipher, cha.crypto.hash, cha.crypto.keyfile], ["chacha20", "sha512", "/etc/corosync/authkey"]);
});

test("the key file is checked only when crypto is enabled", () => {
  const base = example("single-node.conf");
  const seen: string[] = [];
  const checkKeyFile = (p: string) => {
    seen.push(p);
    return "No such file or directory";
  };
  assert.ok(compileConfig({ file: "t.conf", text: base }, { checkKeyFile }).ok);
  const r = compileConfig({ file: "t.conf", text: base.replace("crypto_cipher: none", "crypto_cipher: aes256").replace("crypto_hash: none", "crypto_hash: sha256") }, { checkKeyFile });
  assert.ok(!r.ok);
  assert.deepEqual(seen, ["/etc/corosync/authkey"]);
  const e = r.diagnostics.find((d) => d.severity === "error")!;
  assert.deepEqual([e.line, e.key, e.message], [8, "totem.keyfile", "Could not open /etc/corosync/authkey: No such file or directory"]);
});

test("quorum model: two_node sets wait_for_all unless configured; tie-breaker node list", () => {
  const base = example("three-node-udpu.conf");
  const q = (body: string) => model(base.replace("provider: corosync_votequorum", `provider: corosync_votequorum\n${body}`)).quorum;
  assert.deepEqual([q("\ttwo_node: 1").twoNode, q("\ttwo_node: 1").waitForAll], [true, true]);
  assert.equal(q("\ttwo_node: 1\n\twait_for_all: 0").waitForAll, false);
  assert.deepEqual(q("\tauto_tie_breaker: 1\n\tauto_tie_breaker_node: 3 1\n\twait_for_all: 1").autoTieBreakerNode, [3, 1]);
  assert.equal(q("\tallow_downscale: 1").expectedVotesTracking, true);
  assert.equal(q("\tlast_man_standing: 1").lastManStandingWindowMs, 10000);
});

test("logging model: corosync 3 defaults, and 1.x to_file honoured as to_logfile", () => {
  const c = model(example("single-node.conf").replace(/logging \{[^}]*\}\n/, ""));
  assert.deepEqual(
    [c.logging.toStderr, c.logging.toSyslog, c.logging.toLogfile, c.logging.timestamp, c.logging.blackbox, c.logging.debug, c.logging.syslogFacility],
    [true, true, false, "hires", true, "off", "daemon"],
  );
  const seed = model(readFileSync(join(root, "test", "fixtures", "config", "seed-1x.conf"), "utf8"));
  assert.equal(seed.logging.toLogfile, true);
});

test("1.x udpu members become nodes with ids from their IPv4 addresses", () => {
  const text = "totem {\n\tversion: 2\n\ttransport: udpu\n\tinterface {\n\t\tbindnetaddr: 10.0.0.0\n\t\tmember {\n\t\t\tmemberaddr: 10.0.0.1\n\t\t}\n\t\tmember {\n\t\t\tmemberaddr: 10.0.0.2\n\t\t}\n\t}\n}\n";
  const c = model(text);
  assert.deepEqual(c.nodes.map((n) => [n.nodeId, n.ringAddrs]), [
    [167772161, ["10.0.0.1"]],
    [167772162, ["10.0.0.2"]],
  ]);
});

test("1.x totem.nodeid is the local node id when there is no nodelist", () => {
  const c = model("totem {\n\tversion: 2\n\tnodeid: 42\n\tinterface {\n\t\tbindnetaddr: fd00::\n\t\tmcastaddr: ff15::1\n\t\tmcastport: 5405\n\t}\n}\n");
  assert.equal(c.nodeId, 42);
});

test("cmap entries: the file's keys, then write-backs, then runtime.config.totem.*", () => {
  const r = compileOk(example("single-node.conf"));
  const keys = r.cmapEntries.map((e) => e.key);
  assert.equal(keys[0], "totem.version");
  const firstRuntime = keys.findIndex((k) => k.startsWith("runtime."));
  assert.ok(firstRuntime > keys.indexOf("logging.timestamp"));
  assert.ok(keys.slice(firstRuntime).every((k) => k.startsWith("runtime.config.totem.")));
  assert.equal(r.cmapEntries.find((e) => e.key === "runtime.config.totem.token")?.value.value, 3000);
});

test("no cascades: a bad nodeid number is reported once, not also as a missing nodeid", () => {
  const r = compileConfig({ file: "t.conf", text: example("single-node.conf").replace("transport: udpu", "transport: knet").replace("nodeid: 1", "nodeid: one") });
  assert.ok(!r.ok);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.message), [
    'Value of key "nodelist.node.0.nodeid" is expected to be integer in range (0..4294967295), but "one" was given',
  ]);
});

test("uidgid.d files are merged; their errors name their own file", () => {
  const r = compileOk(example("single-node.conf"), { uidgidFiles: [{ file: "uidgid.d/ops", text: "uidgid {\n\tuid: ops\n\tgid: wheel\n}\n" }] });
  assert.deepEqual(r.config.uidgid, { uids: ["ops"], gids: ["wheel"] });
  assert.ok(r.cmapEntries.some((e) => e.key === "uidgid.uid.ops"));
  const bad = compileConfig({ file: "t.conf", text: example("single-node.conf") }, { uidgidFiles: [{ file: "uidgid.d/bad", text: "uidgid {\n\tuser: x\n}\n" }] });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.diagnostics.map((d) => [d.file, d.line, d.message]), [["uidgid.d/bad", 2, "uidgid: Only uid and gid are allowed items"]]);
});

test("address helpers", () => {
  assert.deepEqual([...parseIPv6("::ffff:10.0.0.1")!], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1]);
  assert.equal(parseIPv6("fe80::1%eth0")?.[0], 0xfe);
  assert.equal(parseIPv6("1::2::3"), undefined);
  assert.equal(parseIPv6("1:2:3:4:5:6:7:8:9"), undefined);
  assert.equal(parseIPv6("1.2.3.4::"), undefined);
  assert.deepEqual([isMulticastAddress("239.255.0.1"), isMulticastAddress("240.0.0.1"), isMulticastAddress("ff02::1"), isMulticastAddress("fe80::1")], [true, false, true, false]);
});
