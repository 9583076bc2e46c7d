/**
 * Semantic validation: each rule, with the key named and the position given.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ConfigDiagnostic } from "../../src/config/diagnostics.js";
import { parseConfig } from "../../src/config/parse.js";
import { flattenConfig } from "../../src/config/to-cmap.js";
import { validateConfig } from "../../src/config/validate.js";
import { editDistance, suggest } from "../../src/config/suggest.js";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "..");

function validate(text: string): ConfigDiagnostic[] {
  const r = parseConfig(text, "t.conf");
  assert.ok(r.ok, r.ok ? "" : r.error.message);
  const f = flattenConfig(r.tree);
  assert.deepEqual(f.diagnostics.filter((d) => d.severity === "error"), []);
  return validateConfig(r.tree, f.flat);
}

const errors = (text: string) => validate(text).filter((d) => d.severity === "error");

/** Exactly one error, with this message fragment; returns it for position checks. */
function oneError(text: string, fragment: string | RegExp): ConfigDiagnostic {
  const es = errors(text);
  assert.equal(es.length, 1, `expected one error, got: ${es.map((e) => e.message).join(" | ") || "none"}`);
  const e = es[0]!;
  if (typeof fragment === "string") assert.ok(e.message.includes(fragment), `"${e.message}" lacks "${fragment}"`);
  else assert.match(e.message, fragment);
  return e;
}

function noErrors(text: string): ConfigDiagnostic[] {
  const ds = validate(text);
  assert.deepEqual(ds.filter((d) => d.severity === "error").map((d) => `${d.line}:${d.column} ${d.message}`), []);
  return ds;
}

/** A valid two-node udpu file; `totem`, `node1`, `extra` are spliced in. */
function udpu2(p: { totem?: string; node1?: string; node2?: string; extra?: string } = {}): string {
  return `totem {
	version: 2
	cluster_name: c
	transport: udpu
${p.totem ?? ""}}
nodelist {
	node {
		ring0_addr: 10.0.0.1
${p.node1 ?? "\t\tnodeid: 1\n"}	}
	node {
		ring0_addr: 10.0.0.2
${p.node2 ?? "\t\tnodeid: 2\n"}	}
}
${p.extra ?? ""}`;
}

/** The 1.x multicast form: udp, no nodelist. */
function udp1x(iface: string, totem = ""): string {
  return `totem {\n\tversion: 2\n${totem}\tinterface {\n${iface}\t}\n}\n`;
}

test("the example configurations have no errors", () => {
  for (const name of ["single-node.conf", "three-node-udpu.conf", "corosync-1x-multicast.conf"]) {
    noErrors(readFileSync(join(root, "examples", name), "utf8"));
  }
  const oneX = validate(readFileSync(join(root, "examples", "corosync-1x-multicast.conf"), "utf8"));
  assert.deepEqual(oneX.map((d) => d.severity), ["notice", "notice", "notice", "notice"]);
});

test("the installation guide's to_file: a warning suggesting to_logfile", () => {
  const ds = noErrors(readFileSync(join(root, "test", "fixtures", "config", "seed-1x.conf"), "utf8"));
  const w = ds.find((d) => d.key === "logging.to_file");
  assert.ok(w !== undefined);
  assert.equal(w.severity, "warning");
  assert.deepEqual([w.line, w.column], [18, 2]);
  assert.match(w.message, /did you mean 'to_logfile'\?/);
});

test("totem.version must be present and 2; a totem section is required", () => {
  const missing = oneError("totem {\n\tcluster_name: x\n\tinterface {\n\t\tbindnetaddr: 10.0.0.0\n\t\tmcastaddr: 239.1.1.1\n\t\tmcastport: 5405\n\t}\n}\n", "totem.version is missing");
  assert.deepEqual([missing.line, missing.column, missing.key], [1, 1, "totem.version"]);
  const three = oneError(udpu2().replace("version: 2", "version: 3"), "This totem parser can only parse version 2 configurations.");
  assert.deepEqual([three.line, three.column, three.key], [2, 2, "totem.version"]);
  const none = validate("logging {\n}\n").filter((d) => d.key === "totem.version");
  assert.equal(none.length, 1);
  assert.equal(none[0]!.line, 0);
});

test("transport must be udpu, udp or knet", () => {
  const e = oneError(udpu2().replace("transport: udpu", "transport: tcp"), "Invalid transport type. Should be udpu, udp or knet");
  assert.deepEqual([e.line, e.column, e.key], [4, 13, "totem.transport"]);
});

test("transport defaults: knet with a nodelist (nodeids then required), udp without one", () => {
  const knet = errors(udpu2({ node1: "" }).replace("\ttransport: udpu\n", ""));
  assert.deepEqual(knet.map((e) => [e.key, e.message]), [["nodelist.node.0.nodeid", "Knet requires an explicit nodeid to be specified for address '10.0.0.1'."]]);
  noErrors(udp1x("\t\tbindnetaddr: 192.168.1.0\n\t\tmcastaddr: 226.94.1.1\n\t\tmcastport: 5405\n"));
});

test("udp without a nodelist: bindnetaddr, mcastaddr and mcastport are all required", () => {
  const es = errors(udp1x("\t\tringnumber: 0\n"));
  assert.deepEqual(es.map((e) => [e.line, e.key, e.message]), [
    [3, "totem.interface.0.bindnetaddr", "No bind address (bindnetaddr) specified for interface 0"],
    [3, "totem.interface.0.mcastport", "No multicast port specified for interface 0"],
    [3, "totem.interface.0.mcastaddr", "No multicast address specified for interface 0"],
  ]);
  oneError("totem {\n\tversion: 2\n}\n", "No interfaces defined");
});

test("udp mcastaddr: must be multicast, of the bind address's family; IPv6 needs a nodeid", () => {
  const notMcast = oneError(udp1x("\t\tbindnetaddr: 10.0.0.0\n\t\tmcastaddr: 10.1.1.1\n\t\tmcastport: 5405\n"), "mcastaddr is not a correct multicast address for interface 0");
  assert.deepEqual([notMcast.line, notMcast.column, notMcast.key], [5, 3, "totem.interface.0.mcastaddr"]);
  oneError(udp1x("\t\tbindnetaddr: 10.0.0.0\n\t\tmcastaddr: ff15::1\n\t\tmcastport: 5405\n", "\tnodeid: 5\n"), "Multicast address family does not match bind address family for interface 0");
  oneError(udp1x("\t\tbindnetaddr: fd00::\n\t\tmcastaddr: ff15::1\n\t\tmcastport: 5405\n"), "An IPV6 network requires that a node ID be specified for interface 0");
  noErrors(udp1x("\t\tbindnetaddr: fd00::\n\t\tmcastaddr: ff15::1\n\t\tmcastport: 5405\n", "\tnodeid: 5\n"));
  oneError(udp1x("\t\tbindnetaddr: 10.0.0.0\n\t\tmcastaddr: 239.300.1.1\n\t\tmcastport: 5405\n"), "failed to parse mcast address '239.300.1.1'");
  noErrors(udp1x("\t\tbindnetaddr: 10.0.0.0\n\t\tbroadcast: yes\n\t\tmcastport: 5405\n"));
});

test("udp with a nodelist: mcastaddr may be derived, which needs cluster_name", () => {
  noErrors(udpu2().replace("transport: udpu", "transport: udp"));
  const e = oneError(udpu2().replace("transport: udpu", "transport: udp").replace("\tcluster_name: c\n", ""), "set mcastaddr, or cluster_name");
  assert.equal(e.key, "totem.interface.0.mcastaddr");
});

test("ports and interface options by transport", () => {
  const iface = (body: string) => `\tinterface {\n\t\tlinknumber: 0\n${body}\t}\n`;
  const port0 = oneError(udpu2({ totem: iface("\t\tmcastport: 0\n") }), "mcastport must be between 1 and 65535 for interface 0");
  assert.equal(port0.key, "totem.interface.0.mcastport");
  const ttl = oneError(udpu2({ totem: iface("\t\tttl: 2\n") }), "Can only set ttl on multicast transport types for interface 0");
  assert.deepEqual([ttl.line, ttl.key], [7, "totem.interface.0.ttl"]);
  noErrors(udpu2({ totem: iface("\t\tttl: 1\n") }));
  oneError(udpu2({ totem: iface("\t\tknet_link_priority: 5\n") }), "Can only set link priority on knet transport type for interface 0");
  oneError(udp1x("\t\tbindnetaddr: 10.0.0.0\n\t\tmcastaddr: 239.1.1.1\n\t\tmcastport: 1\n"), "mcastport must be at least 2 for udp");
});

test("link numbers above 7 are rejected (interface sections and ringX_addr)", () => {
  const e = oneError(udpu2({ node1: "\t\tnodeid: 1\n\t\tring8_addr: 10.8.0.1\n" }).replace("transport: udpu", "transport: knet"), "interface ring number 8 is bigger than allowed maximum 7");
  assert.equal(e.key, "nodelist.node.0.ring8_addr");
});

test("nodelist: ring0_addr required, addresses parsed, one family per link, no shared addresses", () => {
  oneError(udpu2({ node2: "\t\tnodeid: 2\n" }).replace("\t\tring0_addr: 10.0.0.2\n", ""), "Node 1 of the nodelist has no ring0_addr");
  oneError(udpu2().replace("10.0.0.2", "not_a_host!"), "failed to parse node address 'not_a_host!'");
  noErrors(udpu2().replace("10.0.0.2", "node2.example.com"));
  oneError(udpu2().replace("10.0.0.2", "fd00::2"), "Nodes for link 0 have different IP families (compared fd00::2 with 10.0.0.1)");
  const dup = oneError(udpu2().replace("10.0.0.2", "10.0.0.1"), "Address '10.0.0.1' on link 0 is given to more than one node (nodes 0 and 1)");
  assert.equal(dup.key, "nodelist.node.1.ring0_addr");
});

test("node ids: unique, not 0, derived from IPv4 on udp/udpu, explicit for IPv6, host names and knet", () => {
  const twice = oneError(udpu2({ node2: "\t\tnodeid: 1\n" }), "Nodeid 1 appears twice in corosync.conf");
  assert.deepEqual([twice.line, twice.column, twice.key], [13, 3, "nodelist.node.1.nodeid"]);
  noErrors(udpu2({ node1: "", node2: "" }));
  // 10.0.0.1 derives 167772161; the second node claims that id explicitly.
  oneError(udpu2({ node1: "", node2: "\t\tnodeid: 167772161\n" }), "Nodeid 167772161 appears twice");
  const zero = oneError(udpu2({ node1: "\t\tnodeid: 0\n" }), "nodeid 0 is reserved");
  assert.equal(zero.key, "nodelist.node.0.nodeid");
  const v6 = udpu2({ node1: "", node2: "\t\tnodeid: 2\n" }).replace("10.0.0.1", "fd00::1").replace("10.0.0.2", "fd00::2");
  oneError(v6, "An IPV6 network requires that a node ID be specified for address 'fd00::1'.");
  oneError(udpu2({ node1: "" }).replace("10.0.0.1", "node1"), "has no nodeid and its ring0_addr 'node1' is a host name");
  const knet = udpu2({ node2: "\t\tnodeid: 70000\n" }).replace("transport: udpu", "transport: knet");
  oneError(knet, "Knet requires nodeid to be less than 65536 for address '10.0.0.2'.");
});

test("totem.nodeid: with a nodelist it selects the local entry (notice) and must name a listed node; a 1.x local nodeid of 0 is rejected", () => {
  const ds = noErrors(udpu2({ totem: "\tnodeid: 2\n" }));
  assert.ok(ds.some((d) => d.severity === "notice" && d.key === "totem.nodeid" && /selects the local node/.test(d.message)));
  oneError(udpu2({ totem: "\tnodeid: 7\n" }), "totem.nodeid 7 names no node of the nodelist");
  oneError(udp1x("\t\tbindnetaddr: 10.0.0.0\n\t\tmcastaddr: 239.1.1.1\n\t\tmcastport: 5405\n", "\tnodeid: 0\n"), "nodeid 0 is reserved");
});

test("timers: corosync's minimums, on effective values, naming the key", () => {
  const cases: Array<[string, string, string]> = [
    ["\ttoken: 20\n", "totem.token", "The token timeout parameter (20 ms) may not be less than (30 ms)."],
    ["\ttoken: 100\n", "totem.token_retransmit", "Not appropriate token or token_retransmits_before_loss_const value set"],
    ["\ttoken_retransmit: 20\n", "totem.token_retransmit", "The token retransmit timeout parameter (20 ms) may not be less than (30 ms)."],
    ["\thold: 10\n", "totem.hold", "The token hold timeout parameter (10 ms) may not be less than (14 ms)."],
    ["\tjoin: 20\n", "totem.join", "The join timeout parameter (20 ms) may not be less than (30 ms)."],
    ["\tconsensus: 40\n", "totem.consensus", "The consensus timeout parameter (40 ms) may not be less than join timeout (50 ms)."],
    ["\tmerge: 29\n", "totem.merge", "The merge timeout parameter (29 ms) may not be less than (30 ms)."],
    ["\tdowncheck: 1\n", "totem.downcheck", "The downcheck timeout parameter (1 ms) may not be less than (30 ms)."],
    ["\tmax_network_delay: 5\n", "totem.max_network_delay", "The max_network_delay parameter (5 ms) may not be less than (30 ms)."],
    ["\ttoken_warning: 101\n", "totem.token_warning", "The token warning parameter (101%) must be between 0 (disabled) and 100."],
    ["\twindow_size: 0\n", "totem.window_size", "window_size must be at least 1"],
    ["\tmax_messages: 0\n", "totem.max_messages", "max_messages must be at least 1"],
    ["\twindow_size: 10\n", "totem.window_size", "window_size (10) may not be less than max_messages (17)"],
    ["\tnetmtu: 100\n", "totem.netmtu", "netmtu (100) is too small"],
    ["\tnetmtu: 70000\n", "totem.netmtu", "netmtu (70000) is larger than one UDP datagram can carry (65507)"],
    ["\ttoken: 3000000000\n", "totem.token", "The token timeout parameter (3000000000 ms) is longer than the longest timer Node.js can arm"],
  ];
  for (const [totem, key, message] of cases) {
    const es = errors(udpu2({ totem })).filter((e) => e.key === key);
    assert.ok(es.some((e) => e.message.startsWith(message)), `${totem.trim()}: ${es.map((e) => e.message).join(" | ") || "no error for " + key}`);
    assert.equal(es[0]!.line, 5, `${totem.trim()} is on line 5`);
  }
  noErrors(udpu2({ totem: "\ttoken: 0\n\tjoin: 0\n\tconsensus: 0\n\tnetmtu: 9000\n" }));
  noErrors(udpu2({ totem: "\ttoken: 30\n\ttoken_retransmit: 30\n\thold: 14\n\tconsensus: 50\n" }));
  // token 30 alone derives consensus 36 < join 50: corosync refuses that too.
  oneError(udpu2({ totem: "\ttoken: 30\n\ttoken_retransmit: 30\n" }), "The consensus timeout parameter (36 ms) may not be less than join timeout (50 ms).");
  // 3 nodes: a configured token of 20 becomes 670 and is fine, as in corosync.
  const three = udpu2({ totem: "\ttoken: 20\n", extra: "" }).replace("nodelist {", "nodelist {\n\tnode {\n\t\tring0_addr: 10.0.0.3\n\t\tnodeid: 3\n\t}");
  noErrors(three);
});

test("crypto: value sets, a cipher needs a hash, secauth on udp/udpu allowed with a notice", () => {
  const bad = oneError(udpu2({ totem: "\tcrypto_cipher: des\n" }), "Invalid cipher type. Should be none, aes256, aes192, aes128 or chacha20");
  assert.deepEqual([bad.line, bad.column, bad.key], [5, 17, "totem.crypto_cipher"]);
  oneError(udpu2({ totem: "\tcrypto_hash: crc\n" }), "Invalid hash type. Should be none, md5, sha1, sha256, sha384 or sha512");
  const nohash = oneError(udpu2({ totem: "\tcrypto_cipher: aes256\n" }), "crypto_cipher requires crypto_hash with value other than none");
  assert.equal(nohash.key, "totem.crypto_hash");
  oneError(udpu2({ totem: "\tsecauth: on\n\tcrypto_hash: none\n" }), "crypto_cipher requires crypto_hash");
  oneError(udpu2({ totem: "\tsecauth: yes\n" }), 'Invalid value for totem.secauth: "yes" was given; expected on, off');
  const on = noErrors(udpu2({ totem: "\tsecauth: on\n" }));
  assert.ok(on.some((d) => d.severity === "notice" && /own authenticated-encryption envelope/.test(d.message)));
  noErrors(udpu2({ totem: "\tcrypto_cipher: chacha20\n\tcrypto_hash: sha256\n" }));
  const knet = (totem: string) => udpu2({ totem, node1: "\t\tnodeid: 1\n", node2: "\t\tnodeid: 2\n" }).replace("transport: udpu", "transport: knet");
  oneError(knet("\tcrypto_cipher: chacha20\n\tcrypto_hash: sha256\n"), "crypto_cipher chacha20 is not available with the knet transport");
  oneError(knet("\tknet_compression_model: zlib\n"), "knet_compression_model zlib is not supported by this implementation");
  noErrors(knet("\tknet_compression_model: none\n"));
  const knetOn = noErrors(knet("\tsecauth: on\n"));
  assert.ok(!knetOn.some((d) => /envelope/.test(d.message)), "knet crypto is knet's own: no envelope notice");
});

test("unknown keys and sections: warnings with a suggestion; 1.x leftovers: notices", () => {
  const ds = validate(udpu2({ totem: "\ttokne: 1000\n", extra: "totme {\n}\nlogging {\n\tto_stdder: yes\n}\nwhatever: 1\nservice {\n\tname: pacemaker\n}\ncompatibility: whitetank\n" }));
  const find = (key: string) => ds.find((d) => d.key === key);
  assert.deepEqual([find("totem.tokne")?.severity, find("totem.tokne")?.line], ["warning", 5]);
  assert.match(find("totem.tokne")!.message, /Unknown key 'tokne' in section 'totem' \(did you mean 'token'\?\)/);
  assert.match(find("totme")!.message, /Unknown section 'totme' \(did you mean 'totem'\?\)/);
  assert.match(find("logging.to_stdder")!.message, /did you mean 'to_stderr'\?/);
  assert.match(find("whatever")!.message, /Unknown key 'whatever' at top level/);
  assert.deepEqual([find("service")?.severity, find("compatibility")?.severity], ["notice", "notice"]);
  assert.match(find("service")!.message, /has no effect here/);
  const node = validate(udpu2({ node1: "\t\tnodeid: 1\n\t\tring0_adr: x\n" })).find((d) => d.key === "nodelist.node.0.ring0_adr");
  assert.match(node!.message, /did you mean 'ring0_addr'\?/);
});

test("edit-distance suggestions", () => {
  assert.equal(editDistance("to_file", "to_logfile"), 3);
  assert.equal(editDistance("tokne", "token"), 1);
  assert.equal(suggest("to_file", ["to_logfile", "to_stderr", "logfile"]), "logfile");
  assert.equal(suggest("xyzzy", ["token", "join"]), undefined);
  assert.equal(suggest("Token", ["token"]), "token");
  assert.equal(suggest("token", ["token"]), undefined);
});

test("redundant rings on udp/udpu need rrp_mode; rings must differ; links 0 and 1 only", () => {
  const rings = (rrp: string, port1 = "5407", link1 = "1") =>
    `totem {\n\tversion: 2\n${rrp}\tinterface {\n\t\tringnumber: 0\n\t\tbindnetaddr: 10.0.0.0\n\t\tmcastaddr: 239.1.1.1\n\t\tmcastport: 5405\n\t}\n\tinterface {\n\t\tringnumber: ${link1}\n\t\tbindnetaddr: 10.1.0.0\n\t\tmcastaddr: 239.1.1.1\n\t\tmcastport: ${port1}\n\t}\n}\n`;
  const none = oneError(rings(""), "2 is too many configured interfaces for non-Knet transport");
  assert.equal(none.key, "totem.rrp_mode");
  noErrors(rings("\trrp_mode: passive\n"));
  oneError(rings("\trrp_mode: active\n", "5406"), "Interfaces multicast address/port pair must differ");
  oneError(rings("\trrp_mode: passive\n", "5407", "3"), "Link 3 is not available with the udp transport");
  const invalid = errors(rings("\trrp_mode: sometimes\n")).map((e) => e.message);
  assert.ok(invalid.includes('Invalid value for totem.rrp_mode: "sometimes" was given; expected none, active, passive'));
});

test("knet with several links: every node needs a name and every link", () => {
  const text = udpu2({ node1: "\t\tnodeid: 1\n\t\tring1_addr: 10.1.0.1\n\t\tname: a\n", node2: "\t\tnodeid: 2\n" }).replace("transport: udpu", "transport: knet");
  const es = errors(text);
  assert.deepEqual(es.map((e) => e.message), ["for a multi-link configuration, all nodes must have a 'name' attribute", "Not all nodes have the same number of links"]);
});

test("quorum: provider, expected_votes without nodelist, tie-breaker rules, device conflicts", () => {
  const p = oneError(udpu2({ extra: "quorum {\n\tprovider: corosync_quorum\n}\n" }), "Invalid quorum provider. Should be corosync_votequorum");
  assert.deepEqual([p.line, p.key], [17, "quorum.provider"]);
  const noEv = oneError(
    udp1x("\t\tbindnetaddr: 10.0.0.0\n\t\tmcastaddr: 239.1.1.1\n\t\tmcastport: 5405\n") + "quorum {\n\tprovider: corosync_votequorum\n}\n",
    "configuration error: nodelist or quorum.expected_votes must be configured!",
  );
  assert.equal(noEv.key, "quorum.expected_votes");
  noErrors(udp1x("\t\tbindnetaddr: 10.0.0.0\n\t\tmcastaddr: 239.1.1.1\n\t\tmcastport: 5405\n") + "quorum {\n\tprovider: corosync_votequorum\n\texpected_votes: 2\n}\n");
  const w = validate(udpu2({ extra: "quorum {\n\ttwo_node: 1\n}\n" })).find((d) => d.key === "quorum.two_node");
  assert.equal(w?.severity, "warning");
  const q = (body: string) => udpu2({ extra: `quorum {\n\tprovider: corosync_votequorum\n${body}}\n` });
  oneError(q("\tauto_tie_breaker: 1\n\tauto_tie_breaker_node: first\n"), "auto_tie_breaker_node must be lowest, highest or a list of node ids");
  noErrors(q("\tauto_tie_breaker: 1\n\tauto_tie_breaker_node: 2 1\n"));
  oneError(q("\tauto_tie_breaker: 1\n\tlast_man_standing: 1\n\texpected_votes: 3\n"), "auto_tie_breaker & last_man_standing not available in odd sized cluster");
  oneError(q("\ttwo_node: 1\n\tdevice {\n\t\tmodel: net\n\t}\n"), "two_node and quorum device cannot be configured at the same time!");
});

test("logging: values, and a logfile wherever to_logfile is on", () => {
  const lf = oneError(udpu2({ extra: "logging {\n\tto_logfile: yes\n}\n" }), "logfile is required when to_logfile is set");
  assert.deepEqual([lf.line, lf.column, lf.key], [17, 2, "logging.logfile"]);
  noErrors(udpu2({ extra: "logging {\n\tlogfile: /tmp/x\n\tlogger_subsys {\n\t\tsubsys: QUORUM\n\t\tto_logfile: on\n\t}\n}\n" }));
  oneError(udpu2({ extra: "logging {\n\tlogger_subsys {\n\t\tsubsys: QUORUM\n\t\tto_logfile: on\n\t}\n}\n" }), "logfile is required");
  oneError(udpu2({ extra: "logging {\n\tsyslog_facility: local9\n}\n" }), "unknown syslog facility specified");
  oneError(udpu2({ extra: "logging {\n\tsyslog_priority: loud\n}\n" }), "unknown syslog priority specified");
  oneError(udpu2({ extra: "logging {\n\ttimestamp: yes\n}\n" }), "unknown value for timestamp");
  oneError(udpu2({ extra: "logging {\n\tto_stderr: maybe\n}\n" }), 'Invalid value for logging.to_stderr: "maybe" was given; expected yes, no, on, off');
  const sub = oneError(udpu2({ extra: "logging {\n\tlogger_subsys {\n\t\tsubsys: TOTEM\n\t\tdebug: loud\n\t}\n}\n" }), "unknown value for debug");
  assert.equal(sub.key, "logging.logger_subsys.TOTEM.debug");
  noErrors(udpu2({ extra: "logging {\n\ttimestamp: hires\n\tdebug: trace\n\tsyslog_facility: local3\n}\n" }));
});

test("system: priority and an absolute state_dir", () => {
  oneError(udpu2({ extra: "system {\n\tpriority: 40\n}\n" }), "system.priority must be max, min or a nice value from -20 to 19");
  noErrors(udpu2({ extra: "system {\n\tpriority: -5\n\tstate_dir: /srv/corosync\n\tsched_rr: no\n}\n" }));
  oneError(udpu2({ extra: "system {\n\tstate_dir: var/lib\n}\n" }), "system.state_dir must be an absolute path");
  oneError(udpu2({ extra: "system {\n\tqb_ipc_type: pipe\n}\n" }), "Invalid system.qb_ipc_type");
});

test("udpu/knet need a nodelist; 1.x udpu members are accepted instead", () => {
  oneError("totem {\n\tversion: 2\n\ttransport: udpu\n}\n", "The udpu transport needs a nodelist");
  oneError("totem {\n\tversion: 2\n\ttransport: knet\n}\n", "The knet transport needs a nodelist");
  const members = "totem {\n\tversion: 2\n\ttransport: udpu\n\tinterface {\n\t\tmember {\n\t\t\tmemberaddr: 10.0.0.1\n\t\t}\n\t\tmember {\n\t\t\tmemberaddr: 10.0.0.2\n\t\t}\n\t\tbindnetaddr: 10.0.0.0\n\t}\n}\n";
  const ds = noErrors(members);
  assert.ok(ds.some((d) => d.severity === "notice" && d.key === "totem.interface.0.member.0"));
});

test("diagnostics come back in file order", () => {
  const ds = validate(udpu2({ totem: "\ttokne: 1\n\ttoken: 10\n", extra: "bogus {\n}\n" }));
  const lines = ds.map((d) => d.line);
  assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
});
