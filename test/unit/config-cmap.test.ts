/**
 * Flattening into corosync's cmap keys and types (totem-spec §9, coroparse.c).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CMAP_TYPE_NAMES, type CmapEntry } from "../../src/core/cmap/types.js";
import { parseConfig } from "../../src/config/parse.js";
import { type FlattenOptions, flattenConfig, flattenUidGidFile, parseInteger } from "../../src/config/to-cmap.js";

function flatten(text: string, options?: FlattenOptions) {
  const r = parseConfig(text, "t.conf");
  assert.ok(r.ok);
  return flattenConfig(r.tree, options);
}

/** Entries as `key (type) = value`, the corosync-cmapctl shape. */
function show(entries: readonly CmapEntry[]): string[] {
  return entries.map((e) => `${e.key} (${CMAP_TYPE_NAMES[e.value.type]}) = ${String(e.value.value)}`);
}

test("plain sections become dotted keys; typed totem keys", () => {
  const r = flatten(
    "totem {\n version: 2\n cluster_name: demo\n token: 1000\n config_version: 18446744073709551615\n knet_compression_level: -1\n transport: udpu\n foo: bar\n}\n",
  );
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(show(r.entries), [
    "totem.version (u32) = 2",
    "totem.cluster_name (str) = demo",
    "totem.token (u32) = 1000",
    "totem.config_version (u64) = 18446744073709551615",
    "totem.knet_compression_level (i32) = -1",
    "totem.transport (str) = udpu",
    "totem.foo (str) = bar",
  ]);
});

test("nodelist: nodelist.node.<n>.<key>, nodeid and quorum_votes u32, numbering continues across nodelist sections", () => {
  const r = flatten(
    "nodelist {\n node {\n  ring0_addr: 10.0.0.1\n  nodeid: 1\n  name: n1\n  quorum_votes: 2\n }\n}\nnodelist {\n node {\n  ring0_addr: 10.0.0.2\n  ring1_addr: 10.1.0.2\n  nodeid: 2\n }\n}\n",
  );
  assert.deepEqual(show(r.entries), [
    "nodelist.node.0.ring0_addr (str) = 10.0.0.1",
    "nodelist.node.0.nodeid (u32) = 1",
    "nodelist.node.0.name (str) = n1",
    "nodelist.node.0.quorum_votes (u32) = 2",
    "nodelist.node.1.ring0_addr (str) = 10.0.0.2",
    "nodelist.node.1.ring1_addr (str) = 10.1.0.2",
    "nodelist.node.1.nodeid (u32) = 2",
  ]);
  assert.deepEqual(r.flat.sections.get("nodelist.node.1"), { file: "t.conf", line: 10, column: 2 });
});

test("interface: linknumber selects the link; keys are typed and stored at section end", () => {
  const r = flatten(
    "totem {\n interface {\n  bindnetaddr: 10.0.0.0\n  mcastport: 5405\n  ttl: 1\n  linknumber: 1\n  knet_link_priority: 3\n  knet_ping_interval: 200\n  knet_transport: sctp\n  broadcast: no\n  mcastaddr: 239.1.1.1\n }\n}\n",
  );
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(show(r.entries), [
    "totem.interface.1.bindnetaddr (str) = 10.0.0.0",
    "totem.interface.1.mcastport (u16) = 5405",
    "totem.interface.1.ttl (u8) = 1",
    "totem.interface.1.knet_link_priority (u8) = 3",
    "totem.interface.1.knet_ping_interval (u32) = 200",
    "totem.interface.1.knet_transport (str) = sctp",
    "totem.interface.1.broadcast (str) = no",
    "totem.interface.1.mcastaddr (str) = 239.1.1.1",
  ]);
});

test("interface: 1.x ringnumber selects the link (our redundant-ring support); linknumber wins over it", () => {
  const two = flatten("totem {\n interface {\n  ringnumber: 0\n  bindnetaddr: a\n }\n interface {\n  ringnumber: 1\n  bindnetaddr: b\n }\n}\n");
  assert.deepEqual(show(two.entries), ["totem.interface.0.bindnetaddr (str) = a", "totem.interface.1.bindnetaddr (str) = b"]);
  const both = flatten("totem {\n interface {\n  ringnumber: 1\n  linknumber: 2\n  bindnetaddr: a\n }\n}\n");
  assert.deepEqual(show(both.entries), ["totem.interface.2.bindnetaddr (str) = a"]);
  const none = flatten("totem {\n interface {\n  bindnetaddr: a\n }\n}\n");
  assert.deepEqual(show(none.entries), ["totem.interface.0.bindnetaddr (str) = a"]);
});

test("interface: unknown keys are stored verbatim as totem.interface.<key> (as corosync)", () => {
  const r = flatten("totem {\n interface {\n  linknumber: 0\n  bogus: 1\n }\n}\n");
  assert.deepEqual(show(r.entries), ["totem.interface.bogus (str) = 1"]);
});

test("interface members: totem.interface.<link>.member.<i> in file order; only memberaddr allowed", () => {
  const r = flatten("totem {\n interface {\n  member {\n   memberaddr: 10.0.0.1\n  }\n  member {\n   memberaddr: 10.0.0.2\n  }\n }\n}\n");
  assert.deepEqual(show(r.entries), ["totem.interface.0.member.0 (str) = 10.0.0.1", "totem.interface.0.member.1 (str) = 10.0.0.2"]);
  const bad = flatten("totem {\n interface {\n  member {\n   address: 10.0.0.1\n  }\n }\n}\n");
  assert.deepEqual(bad.diagnostics.map((d) => [d.severity, d.line, d.column, d.message]), [["error", 4, 4, "Only memberaddr is allowed in member section"]]);
});

test("logger_subsys: logging.logger_subsys.<SUBSYS>.<key>; a missing subsys is an error", () => {
  const r = flatten("logging {\n to_syslog: yes\n logger_subsys {\n  debug: on\n  subsys: QUORUM\n }\n}\n");
  assert.deepEqual(show(r.entries), [
    "logging.to_syslog (str) = yes",
    "logging.logger_subsys.QUORUM.debug (str) = on",
    "logging.logger_subsys.QUORUM.subsys (str) = QUORUM",
  ]);
  const bad = flatten("logging {\n logger_subsys {\n  debug: on\n }\n}\n");
  assert.deepEqual(bad.diagnostics.map((d) => [d.line, d.column, d.message]), [[2, 2, "No subsys key in logger_subsys directive"]]);
});

test("logging_daemon: mapped as corosync maps it; name is required", () => {
  const r = flatten(
    "logging {\n logging_daemon {\n  name: corosync\n  debug: on\n }\n logging_daemon {\n  name: qdevice\n  subsys: NET\n  debug: off\n }\n}\n",
  );
  assert.deepEqual(show(r.entries), [
    "logging.debug (str) = on",
    "logging.logging_daemon.qdevice.NET.debug (str) = off",
    "logging.logging_daemon.qdevice.NET.subsys (str) = NET",
    "logging.logging_daemon.qdevice.NET.name (str) = qdevice",
  ]);
  const bad = flatten("logging {\n logging_daemon {\n  debug: on\n }\n}\n");
  assert.equal(bad.diagnostics[0]!.message, "No name key in logging_daemon directive");
});

test("quorum, quorum.device, resources and pload typed keys", () => {
  const r = flatten(
    "quorum {\n provider: corosync_votequorum\n expected_votes: 3\n two_node: 1\n auto_tie_breaker_node: lowest\n device {\n  timeout: 10000\n  master_wins: 1\n  model: net\n }\n}\nresources {\n watchdog_timeout: 6\n system {\n  memory_used {\n   poll_period: 3000\n  }\n }\n}\npload {\n count: 5\n}\n",
  );
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(show(r.entries), [
    "quorum.provider (str) = corosync_votequorum",
    "quorum.expected_votes (u32) = 3",
    "quorum.two_node (u8) = 1",
    "quorum.auto_tie_breaker_node (str) = lowest",
    "quorum.device.timeout (u32) = 10000",
    "quorum.device.master_wins (u8) = 1",
    "quorum.device.model (str) = net",
    "resources.watchdog_timeout (u32) = 6",
    "resources.system.memory_used.poll_period (u64) = 3000",
    "pload.count (u32) = 5",
  ]);
});

test("bad integers: corosync's message, at the value's position, naming the key", () => {
  const cases: Array<[string, string]> = [
    ["totem {\n token: 12ms\n}\n", 'Value of key "totem.token" is expected to be integer in range (0..4294967295), but "12ms" was given'],
    ["totem {\n token: -1\n}\n", 'Value of key "totem.token" is expected to be integer in range (0..4294967295), but "-1" was given'],
    ["totem {\n interface {\n  mcastport: 70000\n }\n}\n", 'Value of key "totem.interface.0.mcastport" is expected to be integer in range (0..65535), but "70000" was given'],
    ["totem {\n interface {\n  ttl: 256\n }\n}\n", 'Value of key "totem.interface.0.ttl" is expected to be integer in range (0..255), but "256" was given'],
    ["quorum {\n two_node: yes\n}\n", 'Value of key "quorum.two_node" is expected to be integer in range (0..255), but "yes" was given'],
    ["totem {\n knet_compression_level: 2147483648\n}\n", 'Value of key "totem.knet_compression_level" is expected to be integer in range (-2147483648..2147483647), but "2147483648" was given'],
    ["totem {\n config_version: 18446744073709551616\n}\n", 'Value of key "totem.config_version" is expected to be integer in range (0..18446744073709551615), but "18446744073709551616" was given'],
    ["nodelist {\n node {\n  nodeid: one\n }\n}\n", 'Value of key "nodelist.node.0.nodeid" is expected to be integer in range (0..4294967295), but "one" was given'],
  ];
  for (const [text, message] of cases) {
    const r = flatten(text);
    assert.equal(r.diagnostics.length, 1, text);
    const d = r.diagnostics[0]!;
    assert.equal(d.message, message);
    assert.equal(d.severity, "error");
    assert.ok(d.key !== undefined && message.includes(`"${d.key}"`));
  }
  const pos = flatten("totem {\n\ttoken:  12ms\n}\n").diagnostics[0]!;
  assert.deepEqual([pos.line, pos.column], [2, 10]);
});

test("parseInteger accepts what strtoll accepts (sign, digits) and checks the range", () => {
  assert.equal(parseInteger("+5", "u8"), 5n);
  assert.equal(parseInteger("-0", "u8"), 0n);
  assert.equal(parseInteger("0x10", "u32"), undefined);
  assert.equal(parseInteger("", "u32"), undefined);
  assert.equal(parseInteger("1 2", "u32"), undefined);
  assert.equal(parseInteger("-2147483648", "i32"), -2147483648n);
});

test("duplicate keys: the last wins, with a warning naming both lines", () => {
  const r = flatten("totem {\n token: 1000\n}\ntotem {\n token: 2000\n}\n");
  assert.deepEqual(show(r.entries), ["totem.token (u32) = 2000"]);
  assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.line, d.key, d.message]), [
    ["warning", 5, "totem.token", "Duplicate key 'totem.token': this value replaces the one at line 2 (the last one wins)"],
  ]);
  assert.deepEqual(r.flat.entries.get("totem.token")!.pos, { file: "t.conf", line: 5, column: 2 });
});

test("uidgid without resolvers: uidgid.uid.<name> / uidgid.gid.<name> = u8 1", () => {
  const r = flatten("uidgid {\n uid: hacluster\n gid: haclient\n}\nuidgid {\n uid: 1001\n}\n");
  assert.deepEqual(show(r.entries), ["uidgid.uid.hacluster (u8) = 1", "uidgid.gid.haclient (u8) = 1", "uidgid.uid.1001 (u8) = 1"]);
});

test("uidgid with resolvers: uidgid.config.uid.<n> as corosync; numbers are taken as ids; unknown names are errors", () => {
  const users: Record<string, number> = { hacluster: 189 };
  const options: FlattenOptions = { resolveUid: (n) => users[n], resolveGid: () => undefined };
  const r = flatten("uidgid {\n uid: hacluster\n uid: 1001\n gid: 7\n gid: nogroup\n}\n", options);
  assert.deepEqual(show(r.entries), ["uidgid.config.uid.189 (u8) = 1", "uidgid.config.uid.1001 (u8) = 1", "uidgid.config.gid.7 (u8) = 1"]);
  assert.deepEqual(r.diagnostics.map((d) => [d.line, d.column, d.message]), [
    [5, 7, "The 'nogroup' group is not found in /etc/group, please read the documentation."],
  ]);
});

test("uidgid allows only uid and gid", () => {
  const r = flatten("uidgid {\n user: x\n sub {\n }\n}\n");
  assert.deepEqual(r.diagnostics.map((d) => d.message), ["uidgid: Only uid and gid are allowed items", "uidgid: Can't add subsection different than uidgid"]);
});

test("uidgid.d files: only top-level uidgid sections with uid/gid", () => {
  const good = parseConfig("uidgid {\n uid: alice\n}\n", "d/alice");
  assert.ok(good.ok);
  assert.deepEqual(show(flattenUidGidFile(good.tree).entries), ["uidgid.uid.alice (u8) = 1"]);
  const bad = parseConfig("totem {\n}\nuid: x\nuidgid {\n uid: a\n}\n", "d/bad");
  assert.ok(bad.ok);
  const r = flattenUidGidFile(bad.tree);
  assert.deepEqual(r.diagnostics.map((d) => [d.file, d.line, d.message]), [
    ["d/bad", 1, "uidgid: Can't add subsection different than uidgid"],
    ["d/bad", 3, "uidgid: Only uid and gid are allowed items"],
  ]);
  assert.deepEqual(show(r.entries), ["uidgid.uid.a (u8) = 1"]);
});
