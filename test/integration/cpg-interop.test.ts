/**
 * CPG interop, each daemon alone in its own network namespace with corosync's plain IPC
 * names (abstract sockets are per namespace):
 * - OUR daemon: a libcpg C program of our own (test/c/cpgclient.c, built here against
 *   libcpg-dev) and our TS client in one group exchange messages in one order; Debian's
 *   corosync-cpgtool (when the daemon serves cfg, which that tool needs) and ours list it.
 * - A REAL corosync 3.1.7 (private tmpfs on /run and /var/lib/corosync): our client library
 *   joins, multicasts (1 MiB too) and iterates; our corosync-cpgtool prints exactly what
 *   Debian's prints.
 * - Authorization: a client as uid 65534 is refused (ACCESS) until a uidgid.d file names it.
 * Namespaces, daemons and clients are removed by pid/name afterwards.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DaemonCluster } from "../helpers/daemons.js";
import { cpgChild, LineProc } from "../helpers/cpg-proc.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const SRC = join(here, "..", "..", "..", "test", "c", "cpgclient.c");
const CPGTOOL = join(here, "..", "..", "src", "cli", "corosync-cpgtool.js");
const corosyncBin = ["/usr/sbin/corosync", "/usr/bin/corosync"].find((p) => existsSync(p));
const skip =
  process.getuid?.() !== 0
    ? "needs root (network namespaces)"
    : !existsSync("/usr/include/corosync/cpg.h")
      ? "libcpg-dev not installed"
      : spawnSync("cc", ["--version"]).error
        ? "no C compiler (gcc)"
        : !corosyncBin
          ? "corosync not installed"
          : false;

const dir = mkdtempSync(join(tmpdir(), "cpg-interop-"));
const namespaces: string[] = [];
const procs: LineProc[] = [];
let realDaemon: ChildProcess | undefined;
const clusters: DaemonCluster[] = [];
after(async () => {
  for (const p of procs) p.kill();
  await Promise.all(procs.map((p) => p.exited));
  if (realDaemon?.pid !== undefined) {
    const pid = realDaemon.pid;
    const exited = new Promise((r) => (realDaemon!.exitCode !== null || realDaemon!.signalCode !== null ? r(undefined) : realDaemon!.once("exit", r)));
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
    await exited;
    // Killed, it leaves its libqb blackbox behind: remove this process's own.
    for (const f of ["data", "header"]) rmSync(`/dev/shm/qb-corosync-${pid}-blackbox-${f}`, { force: true });
  }
  for (const c of clusters) await c.destroy();
  for (const ns of namespaces) spawnSync("ip", ["netns", "del", ns]);
  rmSync(dir, { recursive: true, force: true });
});

function netns(tag: string): string {
  const ns = `cpg${tag}${process.pid}`;
  spawnSync("ip", ["netns", "del", ns]);
  execFileSync("ip", ["netns", "add", ns]);
  namespaces.push(ns);
  execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
  return ns;
}

const CONF = (extra = ""): string => `totem {\n version: 2\n cluster_name: cpginterop\n transport: udpu\n token: 1000\n crypto_cipher: none\n crypto_hash: none\n}\nnodelist {\n node {\n  ring0_addr: 127.0.0.1\n  nodeid: 1\n  name: n1\n }\n}\nlogging {\n to_stderr: yes\n to_syslog: no\n}\n${extra}`;

async function ourDaemon(ns: string): Promise<DaemonCluster> {
  const c = new DaemonCluster({ nodes: 1, netns: () => ns, config: () => CONF() });
  clusters.push(c);
  c.start();
  await c.waitFor("sync completed", () => c.node(1).grep(/Completed service synchronization/).length > 0);
  return c;
}

function compileClient(): string {
  const bin = join(dir, "cpgclient");
  if (!existsSync(bin)) execFileSync("cc", ["-Wall", "-o", bin, SRC, "-lcpg"]);
  return bin;
}

function run(argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const texts = (p: LineProc): string[] => p.events.filter((e) => e.ev === "msg").map((e) => String(e.text));

let ourNs: string | undefined;
let ourToolOutput = "";

test("our daemon: a libcpg C client and our TS client exchange messages in one order; our cpgtool lists the group", { skip, timeout: 60_000 }, async () => {
  const ns = netns("o");
  const cluster = await ourDaemon(ns);
  const wrap = ["ip", "netns", "exec", ns];
  const ts = cpgChild({ group: "interop" }, wrap);
  procs.push(ts);
  await ts.waitEvent("ts ready", (e) => e.ev === "ready");
  const c = new LineProc([...wrap, compileClient(), "interop", "C", "20", "2", "40"]);
  procs.push(c);
  await ts.waitEvent("C joined", (e) => e.ev === "confchg" && (e.members as string[]).length === 2);
  ts.send({ op: "mcastMany", prefix: "T", count: 20 });
  await c.exited;
  assert.equal(c.exitCode, 0, `${c.lines.join("\n")}\n${c.stderr.join("\n")}\n${cluster.describe()}`);
  await ts.waitFor("40 messages", () => texts(ts).length >= 40);
  const cOrder = c.lines.filter((l) => l.startsWith("DELIVER")).map((l) => l.split(" ")[3]);
  assert.equal(cOrder.length, 40);
  assert.deepEqual(texts(ts).slice(0, 40), cOrder, "one order at both clients");
  assert.ok(c.lines.includes(`ITER interop 1 ${ts.events.find((e) => e.ev === "ready")!.pid}`), c.lines.join("\n"));
  assert.ok(c.lines.includes("LOCAL 1"));

  // The C client has exited; its PROCLEAVE (PROCDOWN) goes round the ring before the group
  // shrinks: wait for that rather than race it.
  let ours = run([...wrap, process.execPath, CPGTOOL]);
  for (const t0 = Date.now(); ours.stdout.split("\n").filter((l) => l.startsWith("\t\t")).length !== 1 && Date.now() - t0 < 15_000; ) {
    await new Promise((r) => setTimeout(r, 100));
    ours = run([...wrap, process.execPath, CPGTOOL]);
  }
  assert.equal(ours.status, 0, ours.stderr);
  assert.match(ours.stdout, new RegExp(`^Group Name\\t       PID\\t   Node ID\\ninterop\\n\\t\\t\\s*${ts.pid}\\t         1 \\(.*\\)\\n$`));
  const names = run([...wrap, process.execPath, CPGTOOL, "-n"]);
  assert.equal(names.stdout, "interop\n");
  const delim = run([...wrap, process.execPath, CPGTOOL, "-d", ","]);
  assert.equal(delim.stdout, `GRP_NAME,PID,NODEID\ninterop,${ts.pid},1\n`);

  ourNs = ns;
  ourToolOutput = ours.stdout;
});

test("Debian's corosync-cpgtool against our daemon", { skip, timeout: 30_000 }, () => {
  assert.ok(ourNs !== undefined, "the previous test set up the daemon");
  const wrap = ["ip", "netns", "exec", ourNs];
  // corosync-cpgtool connects to cfg as well as cpg (for node addresses).
  assert.match(run([...wrap, "cat", "/proc/net/unix"]).stdout, /@cfg@/, "our daemon serves cfg");
  const debian = run([...wrap, "corosync-cpgtool"]);
  assert.equal(debian.status, 0, debian.stderr);
  assert.equal(debian.stdout.replace(/\(.*\)/g, "()"), ourToolOutput.replace(/\(.*\)/g, "()"));
});

test("a real corosync 3.1.7: our client library and our corosync-cpgtool", { skip, timeout: 60_000 }, async () => {
  const ns = netns("r");
  const conf = join(dir, "real.conf");
  writeFileSync(conf, CONF());
  const script = `mount -t tmpfs tmpfs /run && mkdir -p /run/corosync && mount -t tmpfs tmpfs /var/lib/corosync && exec ${corosyncBin} -f -c ${conf}`;
  realDaemon = spawn("ip", ["netns", "exec", ns, "unshare", "-m", "sh", "-c", script], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  realDaemon.stdout!.on("data", (d) => (log += d));
  realDaemon.stderr!.on("data", (d) => (log += d));
  const deadline = Date.now() + 15_000;
  while (!/ready to provide service/.test(log)) {
    if (Date.now() > deadline || realDaemon.exitCode !== null) throw new Error(`corosync did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const wrap = ["ip", "netns", "exec", ns];
  const a = cpgChild({ group: "realgrp", initialTotemConf: true }, wrap);
  const b = cpgChild({ group: "realgrp" }, wrap);
  procs.push(a, b);
  await a.waitEvent("a ready", (e) => e.ev === "ready");
  await b.waitEvent("b ready", (e) => e.ev === "ready");
  await a.waitEvent("2 members", (e) => e.ev === "confchg" && (e.members as string[]).length === 2);
  a.send({ op: "mcastMany", prefix: "A", count: 10 });
  b.send({ op: "mcastMany", prefix: "B", count: 10 });
  a.send({ op: "mcastSize", size: 1024 * 1024 });
  await b.waitFor("21 messages", () => texts(b).length >= 21);
  await a.waitFor("21 messages", () => texts(a).length >= 21);
  assert.deepEqual(texts(a).slice(0, 21), texts(b).slice(0, 21));
  assert.ok(b.events.some((e) => e.ev === "msg" && e.len === 1024 * 1024), "the 1 MiB message arrived whole");
  const debian = run([...wrap, "corosync-cpgtool"]);
  const ours = run([...wrap, process.execPath, CPGTOOL]);
  assert.equal(debian.status, 0, debian.stderr);
  assert.equal(ours.stdout, debian.stdout, "our corosync-cpgtool prints what Debian's prints");
  assert.equal(run([...wrap, process.execPath, CPGTOOL, "-n"]).stdout, run([...wrap, "corosync-cpgtool", "-n"]).stdout);
  assert.equal(run([...wrap, process.execPath, CPGTOOL, "-d", ";"]).stdout, run([...wrap, "corosync-cpgtool", "-d", ";"]).stdout);
});

test("authorization: uid 65534 is refused (ACCESS) until a uidgid.d file names it", { skip, timeout: 60_000 }, async () => {
  const ns = netns("a");
  const cluster = await ourDaemon(ns);
  const wrap = ["ip", "netns", "exec", ns, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
  const refused = cpgChild({ group: "auth" }, wrap);
  procs.push(refused);
  await refused.exited;
  assert.equal(refused.exitCode, 3);
  assert.equal(refused.events.find((e) => e.ev === "error")?.code, "ACCESS");
  const confDir = join(cluster.node(1).dir);
  mkdirSync(join(confDir, "uidgid.d"), { recursive: true });
  writeFileSync(join(confDir, "uidgid.d", "nobody"), "uidgid {\n uid: 65534\n}\n");
  // This branch has no cfg service to carry a reload request: restart reads uidgid.d anew.
  cluster.node(1).signal("SIGTERM");
  await cluster.node(1).exited;
  cluster.node(1).start();
  await cluster.waitFor("sync completed again", () => cluster.node(1).grep(/Completed service synchronization/).length > 1);
  const admitted = cpgChild({ group: "auth" }, wrap);
  procs.push(admitted);
  await admitted.waitEvent("admitted", (e) => e.ev === "ready");
});
