/**
 * cmap through the tools, our daemon beside a real corosync 3.1.7 (Debian package
 * `corosync`) with the same single-node configuration, each alone in a network namespace
 * and a mount namespace of its own (plain IPC names, default paths on private tmpfs):
 *
 * - Debian's unmodified `corosync-cmapctl` dumps the same keys and values from both, but for
 *   the differences this file lists (and checks stay the only ones);
 * - the same `-g` / `-s` / `-d` / `-D` / `-q` / `-b` / prefix commands, and `-t` / `-T`
 *   tracking, print the same through Debian's tool against both daemons;
 * - our `corosync-cmapctl` prints what Debian's prints, against both daemons;
 * - bad input (unknown type, wrong width, NaN, read-only key, bad name, random requests)
 *   gets a clear error and leaves the map unchanged;
 * - `uidgid.gid.<gid>` set at runtime (Pacemaker's call) admits that group at once;
 * - the stats map has corosync's keys and types, with our listed extras;
 * - blackbox: Debian's `corosync-blackbox` script and `qb-blackbox` read our daemon's
 *   flight data; our `corosync-blackbox` reads both daemons';
 * - `corosync-objctl` (1.x habits) over our daemon.
 * Requires root, iproute2, util-linux (nsenter, unshare, setpriv), coreutils (stdbuf),
 * corosync, libqb-tools.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CMAPCTL_C, makeNamespace, NsDaemon, REAL_COROSYNC, singleNodeConfig, type ToolResult } from "../helpers/ns-daemon.js";

const QB_BLACKBOX = ["/usr/sbin/qb-blackbox", "/usr/bin/qb-blackbox"].find((p) => existsSync(p));
const skip =
  process.getuid?.() !== 0
    ? "needs root (network and mount namespaces)"
    : !REAL_COROSYNC || !CMAPCTL_C
      ? "install the Debian package corosync (corosync, corosync-cmapctl)"
      : !QB_BLACKBOX
        ? "install the Debian package libqb-tools (qb-blackbox)"
        : !existsSync("/usr/bin/nsenter") || !existsSync("/usr/bin/setpriv")
          ? "install util-linux (nsenter, setpriv)"
          : false;

const RAW = fileURLToPath(new URL("../helpers/cmap-raw.js", import.meta.url));
const tag = `${process.pid % 100000}`;
let real: NsDaemon | undefined;
let ours: NsDaemon | undefined;
const removers: Array<() => void> = [];

before(async () => {
  if (skip) return;
  for (const ns of [`cmr${tag}`, `cmo${tag}`]) removers.push(makeNamespace(ns));
  const config = singleNodeConfig();
  [real, ours] = await Promise.all([NsDaemon.start("real", `cmr${tag}`, config), NsDaemon.start("ours", `cmo${tag}`, config)]);
});

after(async () => {
  await Promise.all([real?.stop(), ours?.stop()]);
  for (const r of removers) r();
});

const R = (): NsDaemon => real!;
const O = (): NsDaemon => ours!;

type Dump = Map<string, { type: string; value: string }>;

function parseDump(text: string): Dump {
  const m: Dump = new Map();
  for (const line of text.split("\n")) {
    const x = /^(\S+) \((\w+)\)(?: = (.*))?$/.exec(line);
    if (x) m.set(x[1]!, { type: x[2]!, value: x[3] ?? "" });
  }
  return m;
}

function cmapctl(d: NsDaemon, args: string[], input?: string): ToolResult {
  // By name, as an admin types it: getopt messages start with argv[0].
  return d.c("corosync-cmapctl", args, { input });
}

/** Keys a dump of ours may lack: services we do not run (yet) and corosync's mon/wd resources. */
function allowedMissing(key: string, oursDump: Dump): boolean {
  if (key.startsWith("resources.")) return true;
  const ic = /^internal_configuration\.service\.(\d+)\./.exec(key);
  if (ic) return !oursDump.has(`internal_configuration.service.${ic[1]}.name`);
  const rs = /^runtime\.services\.(\w+)\./.exec(key);
  if (rs) return !oursDump.has(`runtime.services.${rs[1]}.service_id`);
  if (key.startsWith("runtime.votequorum.")) return ![...oursDump.values()].some((v) => v.value === "corosync_votequorum" && v.type === "str") || !oursDump.has("runtime.services.votequorum.service_id");
  return false;
}

/** Keys only ours has: the ring and SRP state under runtime.totem. (corosync 3.1.7 keeps none there). */
function ourExtra(key: string): boolean {
  return key.startsWith("runtime.totem.");
}

/** Values that legitimately differ between two daemons: message counters, pids, votequorum internals. */
function volatileValue(key: string): boolean {
  return /^runtime\.services\.\w+\.\d+\.(rx|tx)$/.test(key) || key.startsWith("runtime.votequorum.") && key !== "runtime.votequorum.this_node_id";
}

test("Debian corosync-cmapctl dump: ours has real corosync 3.1.7's keys and values, but for the listed differences", { skip }, () => {
  const r = cmapctl(R(), []);
  const o = cmapctl(O(), []);
  assert.equal(o.status, 0, o.stderr);
  assert.equal(r.status, 0, r.stderr);
  const rd = parseDump(r.stdout);
  const od = parseDump(o.stdout);
  const missing = [...rd.keys()].filter((k) => !od.has(k) && !allowedMissing(k, od));
  const extra = [...od.keys()].filter((k) => !rd.has(k) && !ourExtra(k));
  assert.deepEqual(missing, [], "keys real corosync has and ours lacks");
  assert.deepEqual(extra, [], "keys only ours has");
  const differ = [...od.keys()].filter((k) => rd.has(k) && !volatileValue(k) && JSON.stringify(rd.get(k)) !== JSON.stringify(od.get(k)));
  assert.deepEqual(differ.map((k) => `${k}: real ${JSON.stringify(rd.get(k))} ours ${JSON.stringify(od.get(k))}`), []);
  assert.deepEqual([...od.keys()], [...od.keys()].sort(), "sorted");
  for (const k of ["totem.interface.0.bindnetaddr", "runtime.members.1.config_version", "runtime.blackbox.dump_flight_data", "runtime.force_gather", "runtime.services.cmap.0.rx", "internal_configuration.service.0.ver"]) {
    assert.ok(od.has(k), `ours has ${k}`);
  }
});

/** A command script whose output must be identical from both daemons. */
const SCRIPT: string[][] = [
  ["-g", "totem.cluster_name"],
  ["-g", "runtime.config.totem.token"],
  ["-g", "no.such.key"],
  ["totem"],
  ["nodelist.", "quorum."],
  ["no.such.prefix"],
  ["-s", "test.u8", "u8", "200"],
  ["-s", "test.i16", "i16", "-300"],
  ["-s", "test.u32", "u32", "4294967295"],
  ["-s", "test.i64", "i64", "-9223372036854775808"],
  ["-s", "test.u64", "u64", "18446744073709551615"],
  ["-s", "test.flt", "flt", "1.25"],
  ["-s", "test.dbl", "dbl", "-0.5"],
  ["-s", "test.str", "str", "hello world"],
  ["-s", "test.bin", "bin", "/etc/hostname"],
  ["test."],
  ["-b", "test."],
  ["-q", "-g", "test.str"],
  ["-q", "-g", "test.u64"],
  ["-b", "-q", "-g", "test.bin"],
  ["-s", "test.u8", "str", "changed type"],
  ["-g", "test.u8"],
  ["-s", "test.x", "u8", "256"],
  ["-s", "test.x", "i8", "abc"],
  ["-s", "test.x", "quux", "1"],
  ["-s", "totem.version", "u32", "3"],
  ["-s", "nodelist.node.0.name", "str", "x"],
  ["-s", "runtime.config.totem.token", "u32", "1"],
  ["-s", "ab", "u8", "1"],
  ["-s", "test.x"],
  ["-d", "totem.cluster_name"],
  ["-d", "test.u8"],
  ["-d", "test.u8"],
  ["-D", "test."],
  ["test."],
  ["-g"],
  ["-m", "nonsense"],
  ["-C", "nonsense"],
  ["-m", "stats", "-s", "stats.srp.orf_token_rx", "u64", "1"],
  ["-m", "stats", "-g", "stats.no.such"],
  ["-m", "stats", "-d", "stats.srp.mcast_rx"],
];

test("the same commands through Debian corosync-cmapctl print the same against ours and against real corosync", { skip }, () => {
  const diffs: string[] = [];
  for (const args of SCRIPT) {
    const r = cmapctl(R(), args);
    const o = cmapctl(O(), args);
    const show = (x: ToolResult) => JSON.stringify({ status: x.status, stdout: x.stdout, stderr: x.stderr });
    if (show(r) !== show(o)) diffs.push(`corosync-cmapctl ${args.join(" ")}\n  real: ${show(r)}\n  ours: ${show(o)}`);
  }
  assert.deepEqual(diffs, []);
});

test("documented difference: NaN / infinite flt and dbl values are refused by ours (INVALID_PARAM), stored by corosync", { skip }, () => {
  for (const [type, text] of [["flt", "nan"], ["dbl", "1e400"]] as const) {
    const r = cmapctl(R(), ["-s", "test.nan", type, text]);
    const o = cmapctl(O(), ["-s", "test.nan", type, text]);
    assert.equal(r.status, 0);
    assert.deepEqual([o.status, o.stderr], [1, "Failed to set key test.nan. Error CS_ERR_INVALID_PARAM\n"]);
    cmapctl(R(), ["-d", "test.nan"]);
  }
  assert.equal(cmapctl(O(), ["-g", "test.nan"]).status, 1, "nothing stored");
});

test("tracking (-t key, -T prefix) prints the same changes from both daemons", { skip }, async () => {
  const changes = [
    ["-s", "trk.a", "u32", "5"],
    ["-s", "trk.a", "u32", "6"],
    ["-s", "trk.a", "str", "x"],
    ["-s", "trk.b", "bin", "/etc/hostname"],
    ["-s", "other.key", "u8", "1"],
    ["-d", "trk.a"],
    ["-d", "trk.b"],
    ["-d", "other.key"],
  ];
  const outputs: string[] = [];
  for (const d of [R(), O()]) {
    // stdbuf: the C tool's stdout is block-buffered on a pipe; line-buffer it so we can wait for lines.
    const prefix = d.spawnTool(["stdbuf", "-oL", CMAPCTL_C!, "-T", "trk."]);
    const exact = d.spawnTool(["stdbuf", "-oL", CMAPCTL_C!, "-b", "-t", "trk.b"]);
    const deadline = Date.now() + 10_000;
    while (!(prefix.output().includes("finish") && exact.output().includes("finish")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of changes) assert.equal(cmapctl(d, c).status, 0, c.join(" "));
    const want = (s: () => string, n: number) => s().split("\n").length - 2 >= n;
    while (!(want(prefix.output, 6) && want(exact.output, 2)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const p = await prefix.finish();
    const e = await exact.finish();
    assert.equal(p.status, 0);
    outputs.push(p.stdout + "--\n" + e.stdout);
  }
  assert.equal(outputs[1], outputs[0], "ours vs real");
  const host = new TextDecoder().decode(O().readFile("/etc/hostname")).replace(/\n/g, "\\x0A");
  assert.equal(
    outputs[1],
    [
      'Type "q" to finish',
      "create> trk.a (u32) = 5",
      "modify> trk.a (u32) = 6",
      "modify> trk.a (str) = x",
      "create> trk.b (bin)",
      "delete> trk.a (str) = x",
      "delete> trk.b (bin)",
      "--",
      'Type "q" to finish',
      `create> trk.b (bin) = ${host}`,
      `delete> trk.b (bin) = ${host}`,
      "",
    ].join("\n"),
  );
});

test("our corosync-cmapctl prints what Debian's prints, against both daemons", { skip }, () => {
  for (const d of [R(), O()]) {
    cmapctl(d, ["-s", "cmp.bin", "bin", "/etc/hostname"]);
    cmapctl(d, ["-s", "cmp.flt", "flt", "2.5"]);
    const all = [[], ["-b", "cmp."], ["-g", "totem.version", "totem.cluster_name"], ["-q", "-g", "cmp.flt"], ["-g", "no.such"], ["-m", "stats", "-g", "stats.srp.memb_join_tx"], ["-s", "cmp.x", "u8", "999"], ["-x"]];
    // Every case against ours; against real corosync the ones that read from it.
    const cases = d.kind === "ours" ? all : all.slice(0, 3);
    for (const args of cases) {
      const c = cmapctl(d, args);
      const t = d.ours("corosync-cmapctl", args);
      assert.deepEqual({ status: t.status, stdout: t.stdout, stderr: t.stderr }, { status: c.status, stdout: c.stdout, stderr: c.stderr }, `${d.kind}: ${args.join(" ")}`);
    }
    for (const args of [["-s", "--", "cmp.ours", "i32", "-7"], ["-d", "cmp.bin"]]) assert.equal(d.ours("corosync-cmapctl", args).status, 0, args.join(" "));
    assert.equal(cmapctl(d, ["-g", "cmp.ours"]).stdout, "cmp.ours (i32) = -7\n");
    cmapctl(d, ["-D", "cmp."]);
  }
});

test("bad input over IPC: unknown type, wrong width, NaN, read-only, bad name → clear error, map unchanged", { skip }, () => {
  const before = cmapctl(O(), []).stdout;
  const raw = (...groups: string[][]) => {
    const r = O().run([process.execPath, RAW, ...groups.flatMap((g) => ["set", ...g])]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    return (JSON.parse(r.stdout) as { results: number[] }).results;
  };
  assert.deepEqual(
    raw(
      ["bad.type", "99", "01"],
      ["bad.type", "0", ""],
      ["bad.width", "6", "0102"],
      ["bad.nan", "10", "000000000000f87f"],
      ["bad.str", "11", "61620000"],
      ["totem.cluster_name", "11", "7800"],
      ["totem.cluster_name", "99", ""],
      ["a b", "2", "01"],
    ),
    [7, 7, 7, 7, 7, 11, 11, 13],
  );
  const garbage = O().run([process.execPath, RAW, "garbage", "500"]);
  assert.deepEqual(JSON.parse(garbage.stdout), { garbage: 500, answered: 500 });
  assert.equal(cmapctl(O(), []).stdout, before, "the map is unchanged");
  assert.ok(O().running, "the daemon lives");
});

test("uidgid.gid.<gid> set at runtime admits that group at once (Pacemaker's call); deleting it shuts it out", { skip }, () => {
  const asNobody = (d: NsDaemon) => d.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", CMAPCTL_C!, "-g", "totem.version"]);
  for (const d of [R(), O()]) {
    const denied = asNobody(d);
    assert.notEqual(denied.status, 0, `${d.kind}: refused before`);
    assert.equal(cmapctl(d, ["-s", "uidgid.gid.65534", "u8", "1"]).status, 0);
    const ok = asNobody(d);
    assert.deepEqual([ok.status, ok.stdout], [0, "totem.version (u32) = 2\n"], `${d.kind}: admitted: ${ok.stderr}`);
    assert.equal(cmapctl(d, ["-d", "uidgid.gid.65534"]).status, 0);
    assert.notEqual(asNobody(d).status, 0, `${d.kind}: refused again`);
  }
  assert.equal(asNobody(O()).stderr, asNobody(R()).stderr, "the same refusal message");
});

function normaliseStatsKey(k: string): string {
  return k.replace(/^stats\.ipcs\.service(\d+)\.\d+\.0x[0-9a-f]+\./, "stats.ipcs.service$1.PID.CONN.");
}

test("stats map (-m stats): corosync's keys and types, and our listed extras", { skip }, () => {
  const r = parseDump(cmapctl(R(), ["-m", "stats"]).stdout);
  const o = parseDump(cmapctl(O(), ["-m", "stats"]).stdout);
  const rk = new Map([...r].map(([k, v]) => [normaliseStatsKey(k), v.type]));
  const ok = new Map([...o].map(([k, v]) => [normaliseStatsKey(k), v.type]));
  const notMeasured = ["stats.pg.msg_reserved", "stats.srp.time_since_token_last_received", "stats.srp.avg_token_workload", "stats.srp.avg_backlog_calc"];
  assert.deepEqual([...rk.keys()].filter((k) => !ok.has(k)).sort(), notMeasured.sort(), "real-only stats keys");
  assert.deepEqual(
    [...ok.keys()].filter((k) => !rk.has(k) && !/^stats\.(transport\.|srp\.rx_dropped\.)/.test(k)),
    ["stats.srp.rx_msg_rejected"],
    "ours-only stats keys besides stats.transport.* and stats.srp.rx_dropped.*",
  );
  for (const [k, t] of ok) if (rk.has(k)) assert.equal(t, rk.get(k), `type of ${k}`);
  assert.equal(o.get("stats.ipcs.global.active")?.value, "1", "the tool's own connection");
  assert.ok([...o.entries()].some(([k, v]) => k.endsWith(".procname") && v.value === "corosync-cmapct"));
});

test("blackbox: Debian's corosync-blackbox and qb-blackbox read our flight data; ours reads both daemons'", { skip }, () => {
  const deb = O().run(["corosync-blackbox"]);
  assert.equal(deb.status, 0, deb.stderr);
  assert.match(deb.stdout, /Dumping the contents of \/var\/lib\/corosync\/fdata/);
  assert.match(deb.stdout, /notice {2}\w{3} \d\d \d\d:\d\d:\d\d\.\d{3} MAIN\(0\):1: Completed service synchronization, ready to provide service\./);
  assert.match(deb.stdout, /debug {3}.* TOTEM\(0\):2: entering OPERATIONAL state\./, "protocol events are in it");
  for (const d of [O(), R()]) {
    const mine = d.ours("corosync-blackbox", []);
    assert.equal(mine.status, 0, `${d.kind}: ${mine.stderr}`);
    assert.match(mine.stdout, /^Dumping the contents of \/var\/lib\/corosync\/fdata\n/);
    const theirs = d.c(QB_BLACKBOX!, ["/var/lib/corosync/fdata"]).stdout;
    const recordLines = (s: string) => s.split("\n").filter((l) => /^(emerg|alert|crit|error|warning|notice|info|debug|trace)\s/.test(l) && !l.includes("%"));
    const mineLines = recordLines(mine.stdout);
    assert.ok(mineLines.length > 5, `${d.kind}: records`);
    assert.deepEqual(mineLines, recordLines(theirs), `${d.kind}: our reader prints what qb-blackbox prints`);
  }
  assert.equal(O().ours("corosync-blackbox", ["-f", "/etc/hostname"]).status, 1, "not a blackbox file");
});

test("corosync-objctl: 1.x paths over our cmap: -a, read, -w, -n, -d, -t", { skip }, async () => {
  const all = O().ours("corosync-objctl", ["-a"]);
  assert.equal(all.status, 0, all.stderr);
  for (const line of ["totem.interface.bindnetaddr=127.0.0.1", "nodelist.node.ring0_addr=127.0.0.1", "nodelist.node.nodeid=1", "totem.cluster_name=cmapcmp", "runtime.members.1.status=joined"]) {
    assert.ok(all.stdout.split("\n").includes(line), `-a has ${line}`);
  }
  assert.equal(O().ours("corosync-objctl", ["totem.interface"]).stdout, "totem.interface.bindnetaddr=127.0.0.1\n");
  assert.equal(O().ours("corosync-objctl", ["totem.version"]).stdout, "totem.version=2\n");
  const track = O().spawnTool([process.execPath, `${new URL("../../src/cli/", import.meta.url).pathname}corosync-objctl.js`, "-t", "logging"]);
  const deadline = Date.now() + 10_000;
  while (!track.output().includes("finish") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(O().ours("corosync-objctl", ["-w", "logging.to_stderr=yes"]).status, 0);
  assert.equal(O().ours("corosync-objctl", ["-n", "logging.logger_subsys.subsys=TEST"]).status, 0);
  assert.equal(cmapctl(O(), ["-g", "logging.logger_subsys.TEST.subsys"]).stdout, "logging.logger_subsys.TEST.subsys (str) = TEST\n");
  assert.equal(O().ours("corosync-objctl", ["-d", "logging.logger_subsys"]).status, 0);
  assert.equal(cmapctl(O(), ["logging.logger_subsys."]).status, 1, "deleted");
  const w = O().ours("corosync-objctl", ["-w", "totem.version=3"]);
  assert.equal(w.stderr, "Failed to replace the key version=3. Error 11\n", "read-only: ACCESS");
  assert.equal(O().ours("corosync-objctl", ["-w", "no.such.object.key=1"]).status, 1);
  assert.equal(O().ours("corosync-objctl", ["-c", "some.object"]).status, 1);
  while (track.output().split("\n").length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const t = await track.finish();
  assert.deepEqual(t.stdout.split("\n"), [
    'Type "q" to finish',
    "object_created>logger_subsys",
    "key_changed> logger_subsys.subsys=TEST",
    "key_changed> logger_subsys.subsys=TEST",
    "object_deleted>logger_subsys",
    "",
  ]);
});
