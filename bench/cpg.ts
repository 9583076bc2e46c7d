/**
 * CPG side by side with real corosync 3.1.7: `npm run bench -- cpg [options]`.
 *
 * For each implementation (real corosync, ours, ours with secauth) and each run it builds a
 * lab of N network namespaces on a bridge (test/helpers/netns.ts: the namespaces' own
 * addresses only, nothing in the host's namespace), starts one daemon per namespace (udpu,
 * the same config and timers for both; real corosync with a private /run, as in
 * test/helpers/mixed.ts), and runs the workload with one libcpg client per node
 * (test/c/cpgload.c, compiled here against Debian's libcpg, the same binary for both
 * daemons): per message size and sender pattern (node 1 sends / every node sends), at full
 * load and at a fixed low rate. It prints, as medians over the runs, delivered msgs/s and MB/s
 * per node, latency send -> delivery at the sender and at another node (p50/p99/p99.9), CPU %
 * and peak RSS per daemon, retransmits (stats.srp.mcast_retx), cold-start formation time and
 * the time from `kill -9` of one node to the new membership at the survivors; and the ratio
 * ours/corosync of each figure, and ours+secauth/ours.
 *
 * Options: --runs N (3) --seconds S per phase (5) --warmup-ms (1000) --sizes 64,1024,16384
 *   --nodes 3 --rate 100 (low-rate phase, msgs/s per sender) --token 1000
 *   --impls corosync,ours,secauth --loads full,low --patterns one,all
 *   --totem "key: value;..." (extra totem lines for both kinds of daemon)
 *   --profile DIR (our daemons run with --cpu-prof into DIR) --json FILE (raw results).
 *   --transport knet: both kinds run knet with crypto aes256 + sha256 (corosync 3's default
 *   knet setup) and an authkey generated for the run; impls default to corosync,ours there
 *   (secauth is the udpu crypto variant).
 * Needs root, iproute2, gcc, libcpg-dev and Debian's corosync. Prints figures; not a test.
 * Everything it creates (namespaces, processes by pid, temporary files) is removed at exit.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, chmodSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { COROSYNC_BIN, DaemonCluster } from "../test/helpers/daemons.js";
import { Lab } from "../test/helpers/netns.js";
import { LineProc } from "../test/helpers/cpg-proc.js";

type Impl = "corosync" | "ours" | "secauth";
type Pattern = "one" | "all";
type Load = "full" | "low";

const IMPL_NAME: Record<Impl, string> = { corosync: "corosync 3.1.7", ours: "ours", secauth: "ours+secauth" };
const REAL_COROSYNC = ["/usr/sbin/corosync", "/usr/bin/corosync"].find((p) => existsSync(p));
const CMAPCTL = ["/usr/sbin/corosync-cmapctl", "/usr/bin/corosync-cmapctl"].find((p) => existsSync(p));
const LOAD_SRC = fileURLToPath(new URL("../../test/c/cpgload.c", import.meta.url));

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    seconds: { type: "string", default: "5" },
    "warmup-ms": { type: "string", default: "1000" },
    sizes: { type: "string", default: "64,1024,16384" },
    nodes: { type: "string", default: "3" },
    rate: { type: "string", default: "100" },
    token: { type: "string", default: "1000" },
    impls: { type: "string" },
    loads: { type: "string", default: "full,low" },
    patterns: { type: "string", default: "one,all" },
    profile: { type: "string" },
    json: { type: "string" },
    totem: { type: "string", default: "" },
    transport: { type: "string", default: "udpu" },
  },
});
/** udpu (plain; secauth = ours with crypto), or knet with crypto aes256 + sha256 for every daemon. */
const TRANSPORT = args.transport as "udpu" | "knet";
if (TRANSPORT !== "udpu" && TRANSPORT !== "knet") throw new Error(`--transport: udpu or knet, not ${TRANSPORT}`);
const RUNS = Number(args.runs);
const SECONDS = Number(args.seconds);
const WARMUP_MS = Number(args["warmup-ms"]);
const SIZES = args.sizes!.split(",").map(Number);
const NODES = Number(args.nodes);
const RATE = Number(args.rate);
const TOKEN = Number(args.token);
/** The token timeout in force: token + 650 ms (token_coefficient) per node beyond two. */
const RUNTIME_TOKEN = TOKEN + Math.max(0, Number(args.nodes) - 2) * 650;
const IMPLS = (args.impls ?? (TRANSPORT === "knet" ? "corosync,ours" : "corosync,ours,secauth")).split(",") as Impl[];
if (TRANSPORT === "knet" && IMPLS.includes("secauth")) throw new Error("--transport knet: every daemon runs crypto already; no secauth impl");
const LOADS = args.loads!.split(",") as Load[];
const PATTERNS = args.patterns!.split(",") as Pattern[];
/** Extra `totem {}` lines for every daemon, both kinds: `--totem "window_size: 300;max_messages: 100"`. */
const TOTEM_EXTRA = args.totem!.split(";").map((l) => l.trim()).filter((l) => l !== "");

interface Lat {
  n: number;
  p50?: number;
  p99?: number;
  p999?: number;
  max?: number;
}
interface ClientOut {
  delivered: number;
  bytes: number;
  window_s: number;
  sent: number;
  tryagain: number;
  own: Lat;
  other: Lat;
}
interface PhaseOut {
  clients: ClientOut[];
  cpuPct: number[];
  hwmKiB: number[];
  retx: number;
  /** Token rotations per second (tokens node 1 received over the phase, drain included). */
  tokensPerS: number;
  /** Messages the clients sent per Totem MCAST frame the daemons queued (totempg packing). */
  msgsPerFrame: number;
}
interface RunOut {
  formationMs: number;
  failoverMs: number;
  idleRssKiB: number[];
  phases: Record<string, PhaseOut>;
}

const work = mkdtempSync(join(tmpdir(), "cpgbench-"));
let current: { lab: Lab; cluster: DaemonCluster } | undefined;
const clients = new Set<LineProc>();

function cleanupSync(): void {
  for (const c of clients) c.kill();
  if (current !== undefined) {
    for (const n of current.cluster.nodes) if (n.running) n.signal("SIGKILL");
    current.lab.cleanupSync();
  }
  rmSync(work, { recursive: true, force: true });
}
process.on("exit", cleanupSync);
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return "needs root (network namespaces)";
  if (REAL_COROSYNC === undefined && IMPLS.includes("corosync")) return "needs Debian's corosync";
  if (!existsSync("/usr/include/corosync/cpg.h")) return "needs libcpg-dev";
  if (spawnSync("cc", ["--version"]).error) return "needs a C compiler";
  return false;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const monoNs = (): bigint => process.hrtime.bigint(); // CLOCK_MONOTONIC, as the C client's

function configText(lab: Lab, port: number, stateDir: string, impl: Impl, keyfile: string): string {
  const nodes = lab.nodes
    .map((n) => `\tnode {\n\t\tring0_addr: ${n.rings[0]!.address}\n\t\tnodeid: ${n.index}\n\t\tname: n${n.index}\n\t}`)
    .join("\n");
  const crypto = impl === "secauth" || TRANSPORT === "knet" ? ["\tcrypto_cipher: aes256", "\tcrypto_hash: sha256", `\tkeyfile: ${keyfile}`] : ["\tcrypto_cipher: none", "\tcrypto_hash: none"];
  return [
    "totem {",
    "\tversion: 2",
    "\tcluster_name: bench",
    `\ttransport: ${TRANSPORT}`,
    ...crypto,
    `\ttoken: ${TOKEN}`,
    ...TOTEM_EXTRA.map((l) => `\t${l}`),
    `\tinterface {\n\t\tlinknumber: 0\n\t\tmcastport: ${port}\n\t}`,
    "}",
    `nodelist {\n${nodes}\n}`,
    "quorum {\n\tprovider: corosync_votequorum\n}",
    `system {\n\tstate_dir: ${stateDir}\n}`,
    "logging {\n\tto_stderr: yes\n\tto_syslog: no\n\ttimestamp: hires\n}",
    "",
  ].join("\n");
}

function startCluster(impl: Impl): { lab: Lab; cluster: DaemonCluster } {
  const lab = Lab.create(NODES, 1);
  const keyfile = join(work, "authkey");
  if (!existsSync(keyfile)) {
    writeFileSync(keyfile, randomBytes(256), { mode: 0o400 });
    chmodSync(keyfile, 0o400);
  }
  const prof = args.profile;
  const cluster = new DaemonCluster({
    nodes: NODES,
    netns: (id) => lab.nodes[id - 1]!.ns,
    config: (_id, port, dir) => configText(lab, port, join(dir, "state"), impl, keyfile),
    command: (id, configPath, dir) => {
      if (impl !== "corosync") {
        const profArgs = prof !== undefined ? ["--cpu-prof", `--cpu-prof-dir=${prof}`, `--cpu-prof-name=${impl}-n${id}-${Date.now()}.cpuprofile`] : [];
        return [process.execPath, ...profArgs, COROSYNC_BIN, "-f", "-c", configPath];
      }
      mkdirSync(join(dir, "run", "corosync"), { recursive: true });
      // `ip netns exec` gives the command a private mount namespace: the bind is its own.
      return ["sh", "-c", `mount --bind '${join(dir, "run")}' /run && exec ${REAL_COROSYNC} -f -c '${configPath}'`];
    },
  });
  current = { lab, cluster };
  return current;
}

async function stopCluster(c: { lab: Lab; cluster: DaemonCluster }): Promise<void> {
  if (args.profile !== undefined) {
    // --cpu-prof writes the profile at a clean exit: SIGTERM first.
    for (const n of c.cluster.nodes) if (n.running) n.signal("SIGTERM");
    await Promise.race([Promise.all(c.cluster.nodes.map((n) => n.exited)), sleep(5000)]);
  }
  await c.cluster.destroy();
  await c.lab.cleanup();
  current = undefined;
}

function procStat(pid: number): number {
  // utime + stime, in clock ticks (fields 14, 15; the command name may hold spaces).
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

function procStatus(pid: number, key: "VmHWM" | "VmRSS"): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** A stats.srp counter of one node (Debian's corosync-cmapctl, which reads both daemons). */
function srpStat(ns: string, name: string): number {
  const r = spawnSync("ip", ["netns", "exec", ns, CMAPCTL!, "-m", "stats", "-g", `stats.srp.${name}`], { encoding: "utf8", timeout: 10_000 });
  const m = /=\s*(\d+)/.exec(r.stdout ?? "");
  return m ? Number(m[1]) : NaN;
}

/** Retransmitted multicasts (sum over the nodes) and tokens node 1 received. */
function counters(lab: Lab): { retx: number; tokens: number; frames: number } {
  let retx = 0;
  let frames = 0;
  for (const n of lab.nodes) {
    retx += srpStat(n.ns, "mcast_retx");
    frames += srpStat(n.ns, "mcast_tx");
  }
  return { retx, tokens: srpStat(lab.nodes[0]!.ns, "orf_token_rx"), frames };
}

let groupSeq = 0;

async function phase(c: { lab: Lab; cluster: DaemonCluster }, bin: string, size: number, pattern: Pattern, load: Load): Promise<PhaseOut> {
  const group = `bench${process.pid}g${groupSeq++}`;
  const procs = c.lab.nodes.map((n) => {
    const sender = pattern === "all" || n.index === 1;
    const argv = ["ip", "netns", "exec", n.ns, bin, "-g", group, "-i", String(n.index), "-m", String(NODES), "-s", String(size), "-r", String(load === "low" ? RATE : 0), "-w", String(WARMUP_MS)];
    if (sender) argv.push("-S");
    const p = new LineProc(argv);
    clients.add(p);
    return p;
  });
  try {
    for (const p of procs) await p.waitFor("client READY", () => p.lines.includes("READY") || p.exitCode !== undefined, 60_000);
    const failed = procs.find((p) => p.exitCode !== undefined);
    if (failed) throw new Error(`client failed: ${failed.lines.join("\n")} ${failed.stderr.join("\n")}`);
    const before = counters(c.lab);
    const start = monoNs() + 300_000_000n;
    const end = start + BigInt(Math.round(SECONDS * 1e9));
    for (const p of procs) p.write(`GO ${start} ${end}\n`);
    const pids = c.cluster.nodes.map((n) => n.pid!);
    // CPU over the same window the throughput is counted in: [start + warm-up, end].
    const untilNs = (t: bigint): number => Math.max(0, Number(t - monoNs()) / 1e6);
    await sleep(untilNs(start + BigInt(WARMUP_MS * 1e6)));
    const t0 = monoNs();
    const cpu0 = pids.map(procStat);
    await sleep(untilNs(end));
    const cpu1 = pids.map(procStat);
    const dt = Number(monoNs() - t0) / 1e9;
    const cpuPct = cpu0.map((v, i) => (((cpu1[i]! - v) / CLK_TCK) / dt) * 100);
    await Promise.race([Promise.all(procs.map((p) => p.exited)), sleep(60_000)]);
    const outs = procs.map((p) => {
      const line = p.lines.find((l) => l.startsWith("{"));
      if (p.exitCode !== 0 || line === undefined) throw new Error(`client on ${p.pid} failed (${p.exitCode}): ${p.lines.slice(-5).join("\n")} ${p.stderr.join("\n")}`);
      return JSON.parse(line) as ClientOut;
    });
    const hwmKiB = pids.map((pid) => procStatus(pid, "VmHWM"));
    const after = counters(c.lab);
    const spanS = Number(end - start) / 1e9;
    return { clients: outs, cpuPct, hwmKiB, retx: after.retx - before.retx, tokensPerS: (after.tokens - before.tokens) / spanS,
      msgsPerFrame: outs.reduce((a, o) => a + o.sent, 0) / (after.frames - before.frames) };
  } finally {
    for (const p of procs) {
      p.kill();
      clients.delete(p);
    }
  }
}

async function oneRun(impl: Impl, bin: string, run: number): Promise<RunOut> {
  const c = startCluster(impl);
  const t0 = Date.now();
  c.cluster.start();
  try {
    const re = new RegExp(`Members\\[${NODES}\\]`);
    await c.cluster.waitFor(`${NODES}-node membership`, () => c.cluster.nodes.every((n) => n.firstAt(re, t0) !== undefined), 60_000);
    const formationMs = Math.max(...c.cluster.nodes.map((n) => n.firstAt(re, t0)! - t0));
    await c.cluster.waitFor("sync", () => c.cluster.nodes.every((n) => n.grep(/Completed service synchronization/).length > 0), 30_000);
    await sleep(1000);
    const idleRssKiB = c.cluster.nodes.map((n) => procStatus(n.pid!, "VmRSS"));
    const phases: Record<string, PhaseOut> = {};
    for (const size of SIZES) {
      for (const pattern of PATTERNS) {
        for (const load of LOADS) {
          if (impl === "secauth" && load === "low") continue;
          const key = `${size}/${pattern}/${load}`;
          phases[key] = await phase(c, bin, size, pattern, load);
          const p = phases[key];
          const rate = p.clients.reduce((a, o) => a + o.delivered / o.window_s, 0) / p.clients.length;
          process.stderr.write(`  run ${run + 1} ${IMPL_NAME[impl]} ${key}: ${rate.toFixed(0)} msgs/s/node, sender p99 ${p.clients[0]!.own.p99} us, cpu ${p.cpuPct.map((x) => x.toFixed(0)).join("/")}%, retx ${p.retx}, tokens/s ${p.tokensPerS.toFixed(0)}, msgs/frame ${p.msgsPerFrame.toFixed(1)}, sent ${p.clients.map((o) => o.sent).join("/")}, try-again ${p.clients.map((o) => o.tryagain).join("/")}\n`);
          await sleep(500);
        }
      }
    }
    // kill -9 of the last node; time to the new membership at every survivor.
    const victim = c.cluster.node(NODES);
    const reSurv = new RegExp(`Members\\[${NODES - 1}\\]`);
    const tk = Date.now();
    victim.signal("SIGKILL");
    const survivors = c.cluster.nodes.filter((n) => n !== victim);
    await c.cluster.waitFor("membership after kill -9", () => survivors.every((n) => n.firstAt(reSurv, tk) !== undefined), 30_000);
    const failoverMs = Math.max(...survivors.map((n) => n.firstAt(reSurv, tk)! - tk));
    process.stderr.write(`  run ${run + 1} ${IMPL_NAME[impl]}: formation ${formationMs} ms, failover ${failoverMs} ms, idle RSS ${idleRssKiB.map((k) => (k / 1024).toFixed(1)).join("/")} MiB\n`);
    return { formationMs, failoverMs, idleRssKiB, phases };
  } finally {
    await stopCluster(c);
  }
}

// ---- figures ----

const median = (xs: number[]): number => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

interface Figure {
  name: string;
  unit: string;
  /** Higher is better (for the ratio's reading). */
  higher: boolean;
  target?: string;
  get(r: RunOut): number;
}

function phaseFigures(size: number, pattern: Pattern): Figure[] {
  const full = `${size}/${pattern}/full`;
  const low = `${size}/${pattern}/low`;
  const ph = (r: RunOut, k: string): PhaseOut | undefined => r.phases[k];
  const rateOf = (o: ClientOut): number => o.delivered / o.window_s;
  // Latency at the sender: node 1's own messages; at another node: node 2 receiving node 1's.
  const lat = (k: string, who: "sender" | "other", q: "p50" | "p99" | "p999"): ((r: RunOut) => number) => (r) => {
    const p = ph(r, k);
    if (!p) return NaN;
    const l = who === "sender" ? p.clients[0]!.own : p.clients[1]?.other;
    return l?.[q] !== undefined ? l[q]! / 1000 : NaN;
  };
  const figs: Figure[] = [];
  if (LOADS.includes("full")) {
    figs.push(
      { name: "delivered msgs/s per node", unit: "msg/s", higher: true, target: "≥ 1.0", get: (r) => (ph(r, full) ? mean(ph(r, full)!.clients.map(rateOf)) : NaN) },
      { name: "delivered MB/s per node", unit: "MB/s", higher: true, get: (r) => (ph(r, full) ? mean(ph(r, full)!.clients.map((o) => o.bytes / o.window_s / 1e6)) : NaN) },
    );
    for (const who of ["sender", "other"] as const)
      for (const q of ["p50", "p99", "p999"] as const) figs.push({ name: `latency full load, ${who === "sender" ? "at sender" : "at node 2"} ${q}`, unit: "ms", higher: false, get: lat(full, who, q) });
    figs.push(
      { name: "CPU % per daemon (mean)", unit: "%", higher: false, get: (r) => (ph(r, full) ? mean(ph(r, full)!.cpuPct) : NaN) },
      { name: "peak RSS per daemon (max)", unit: "MiB", higher: false, get: (r) => (ph(r, full) ? Math.max(...ph(r, full)!.hwmKiB) / 1024 : NaN) },
      { name: "retransmits (sum of nodes)", unit: "", higher: false, get: (r) => ph(r, full)?.retx ?? NaN },
      { name: "token rotations", unit: "/s", higher: true, get: (r) => ph(r, full)?.tokensPerS ?? NaN },
      { name: "messages per frame", unit: "", higher: true, get: (r) => ph(r, full)?.msgsPerFrame ?? NaN },
    );
  }
  if (LOADS.includes("low"))
    for (const who of ["sender", "other"] as const)
      for (const q of ["p50", "p99", "p999"] as const)
        figs.push({ name: `latency ${RATE}/s, ${who === "sender" ? "at sender" : "at node 2"} ${q}`, unit: "ms", higher: false, target: q === "p99" ? "≤ 1.0" : undefined, get: lat(low, who, q) });
  return figs;
}

const fmt = (x: number): string => (!Number.isFinite(x) ? "–" : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));

function table(results: Record<Impl, RunOut[]>): string {
  const has = (i: Impl): boolean => results[i]?.length > 0;
  const med = (i: Impl, f: Figure): number => (has(i) ? median(results[i].map(f.get)) : NaN);
  const rows: string[] = [];
  const head = ["size", "senders", "figure", "corosync", "ours", "ours/corosync", "target", "ours+secauth", "secauth/ours"];
  rows.push(`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`);
  const line = (size: string, pat: string, f: Figure): void => {
    const cs = med("corosync", f);
    const ours = med("ours", f);
    const sec = med("secauth", f);
    const unit = f.unit ? ` (${f.unit})` : "";
    rows.push(`| ${size} | ${pat} | ${f.name}${unit} | ${fmt(cs)} | ${fmt(ours)} | ${fmt(ours / cs)} | ${f.target ?? ""} | ${fmt(sec)} | ${fmt(sec / ours)} |`);
  };
  for (const size of SIZES) for (const pattern of PATTERNS) for (const f of phaseFigures(size, pattern)) line(`${size} B`, pattern === "one" ? "one" : "all", f);
  line("–", "–", { name: "3-node formation, cold start", unit: "ms", higher: false, target: "≤ 1.0", get: (r) => r.formationMs });
  line("–", "–", { name: "failover after kill -9", unit: "ms", higher: false, target: `≤ ${Math.round(RUNTIME_TOKEN * 2.2 + 100)} ms`, get: (r) => r.failoverMs });
  line("–", "–", { name: "idle RSS per daemon (max)", unit: "MiB", higher: false, target: "≤ 64 MiB", get: (r) => Math.max(...r.idleRssKiB) / 1024 });
  return rows.join("\n");
}

async function main(): Promise<void> {
  const skip = skipReason();
  if (skip) {
    console.error(`cpg bench: ${skip}`);
    process.exit(1);
  }
  const bin = join(work, "cpgload");
  execFileSync("cc", ["-O2", "-Wall", "-o", bin, LOAD_SRC, "-lcpg"]);
  if (args.profile !== undefined) mkdirSync(args.profile, { recursive: true });
  const results = { corosync: [], ours: [], secauth: [] } as Record<Impl, RunOut[]>;
  const started = new Date();
  console.error(`cpg bench: ${RUNS} run(s), ${SECONDS} s per phase (${WARMUP_MS} ms warm-up), sizes ${SIZES.join(",")}, ${NODES} nodes, ${TRANSPORT}, token ${TOKEN}; load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  for (let run = 0; run < RUNS; run++) {
    // Alternate the order so drift in the machine's load does not favour one side.
    const order = run % 2 === 0 ? IMPLS : [...IMPLS].reverse();
    for (const impl of order) results[impl].push(await oneRun(impl, bin, run));
  }
  const la = loadavg().map((x) => x.toFixed(2)).join(" ");
  console.log(`\nCPG benchmark, ${started.toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}; ` +
    `${NODES} nodes ${TRANSPORT === "knet" ? "knet + aes256/sha256" : "udpu"} in network namespaces, token ${TOKEN}; medians of ${RUNS} run(s), ${SECONDS} s per phase; low rate ${RATE} msgs/s per sender; load average at end ${la}\n`);
  console.log(table(results));
  if (args.json !== undefined) writeFileSync(args.json, JSON.stringify({ date: started.toISOString(), args, results }, null, 1));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`cpg bench: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
