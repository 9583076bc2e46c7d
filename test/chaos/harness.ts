/**
 * Chaos with real daemons (failure-modes-and-testing.md §4.3 F1–F4 at layer L4): N executives,
 * each in its own network namespace on a bridge (`Lab`), a CPG client per node
 * (`chaos-client`) multicasting sequence-numbered, digested messages and reporting every
 * delivery and confchg, and a nemesis driven by one seed:
 *
 * - link faults (`FaultNet`): loss, delay, duplication, reordering on random directed links;
 *   partitions by dropping packets — symmetric, one-way, non-transitive;
 * - kill -9 of a daemon and its restart (its client restarts too);
 * - SIGSTOP of a daemon for 0.5–10 × the token timeout, then SIGCONT.
 *
 * After each heal it measures the time until one ring of all nodes is formed (and stays;
 * bound: token + consensus + 1 s), waits until every client sees every other in its CPG view
 * and until messages flow from every client to every client, and samples each daemon's
 * VmRSS. At the end the workload stops, the last messages drain, and the histories are judged
 * by `history.ts`. Everything is cleaned up — processes by pid, namespaces, files — also on
 * failure.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, type WriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Prng } from "../../sim/prng.js";
import { DaemonCluster, type DaemonNode } from "../helpers/daemons.js";
import { FaultNet, partitionFaults, type FaultCounters, type LinkFault } from "../helpers/faultnet.js";
import { Lab } from "../helpers/netns.js";
import { checkHistories, ClientHistory, type Violation } from "./history.js";

const CLIENT = fileURLToPath(new URL("../helpers/chaos-client.js", import.meta.url));

export interface ChaosOptions {
  nodes: number;
  seed: number;
  /** How long the nemesis runs (the setup and final drain come on top). */
  durationMs: number;
  /** totem.token (token_coefficient 0, so this is the token timeout). */
  tokenMs?: number;
  /** Mean gap between one client's messages. */
  intervalMs?: number;
  /** VmRSS bound per daemon, KiB. */
  rssBoundKiB?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Keep the work directory (daemon logs, client histories) when the run fails. */
  keepOnFailure?: boolean;
}

export interface ChaosReport {
  seed: number;
  rounds: number;
  /** Faults injected, by kind. */
  faults: Record<string, number>;
  /** Packets each kind of link fault hit, and packets the delayers held. */
  packets: FaultCounters & { delayed: number };
  /** Time from each heal to the last membership change of the ring that then held, ms. */
  ringMs: number[];
  boundMs: number;
  /** Messages (distinct) and deliveries checked. */
  messages: number;
  deliveries: number;
  clients: number;
  /** Peak VmRSS per node, KiB. */
  rssMaxKiB: number[];
  violations: Violation[];
  /** Where the logs were kept (failure with keepOnFailure). */
  keptDir?: string;
  elapsedMs: number;
}

/** One chaos-client process and its history. */
class ChaosClient {
  readonly history: ClientHistory;
  readonly exited: Promise<void>;
  exitCode: number | null | undefined;
  private readonly proc: ChildProcess;
  private readonly file: WriteStream;
  readonly stderr: string[] = [];

  constructor(ns: string, label: string, spec: object, dir: string) {
    this.history = new ClientHistory(label);
    this.file = createWriteStream(join(dir, `${label}.log`));
    this.proc = spawn("ip", ["netns", "exec", ns, process.execPath, CLIENT, JSON.stringify(spec)], { stdio: ["pipe", "pipe", "pipe"] });
    createInterface({ input: this.proc.stdout! }).on("line", (l) => {
      this.history.feed(l);
      this.file.write(`${l}\n`);
    });
    createInterface({ input: this.proc.stderr! }).on("line", (l) => this.stderr.push(l));
    this.proc.stdin!.on("error", () => {});
    this.exited = new Promise((r) =>
      this.proc.on("exit", (code, sig) => {
        this.exitCode = code ?? (sig ? 128 : null);
        this.file.end();
        r();
      }),
    );
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  send(cmd: string): void {
    if (this.running) this.proc.stdin!.write(`${cmd}\n`);
  }

  kill(): void {
    if (this.running && this.proc.pid !== undefined) {
      try {
        process.kill(this.proc.pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `pred` every 50 ms; false when `ms` passed first. */
async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) return false;
    await sleep(50);
  }
  return true;
}

/** VmRSS of a process in KiB (0 when gone). */
export function vmRssKiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The nemesis and the checks of one run. */
export class ChaosRun {
  private readonly rng: Prng;
  private readonly tokenMs: number;
  private readonly consensusMs: number;
  private readonly dir: string;
  private lab: Lab | undefined;
  private net: FaultNet | undefined;
  private cluster: DaemonCluster | undefined;
  private readonly clients = new Map<number, ChaosClient>();
  private readonly allClients: ChaosClient[] = [];
  private readonly faults: Record<string, number> = {};
  private readonly ringMs: number[] = [];
  private readonly violations: Violation[] = [];
  private readonly rssMax: number[];
  private rounds = 0;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: ChaosOptions) {
    this.rng = new Prng(opts.seed);
    this.tokenMs = opts.tokenMs ?? 1000;
    this.consensusMs = Math.round(1.2 * this.tokenMs);
    this.dir = mkdtempSync(join(tmpdir(), `corosync-chaos-${opts.seed}-`));
    this.rssMax = new Array<number>(opts.nodes).fill(0);
    this.log = opts.log ?? (() => {});
  }

  get boundMs(): number {
    return this.tokenMs + this.consensusMs + 1000;
  }

  /** Run: set up, nemesis rounds for `durationMs`, drain, check, clean up. */
  async run(): Promise<ChaosReport> {
    const started = Date.now();
    let report: ChaosReport | undefined;
    try {
      await this.setUp();
      const end = Date.now() + this.opts.durationMs;
      while (Date.now() < end && this.violations.length === 0) await this.round();
      await this.drain();
      report = await this.report(started);
      return report;
    } catch (e) {
      this.violations.push({ oracle: "harness", client: "-", detail: (e as Error).stack ?? String(e) });
      report = await this.report(started).catch(() => undefined);
      if (report === undefined) throw e;
      return report;
    } finally {
      const failed = report === undefined || report.violations.length > 0;
      await this.cleanUp(failed && this.opts.keepOnFailure === true);
      if (failed && this.opts.keepOnFailure === true && report !== undefined) report.keptDir = this.dir;
    }
  }

  private nodeIds(): number[] {
    return Array.from({ length: this.opts.nodes }, (_, i) => i + 1);
  }

  private config(port: number): string {
    const lab = this.lab!;
    const nodes = lab.nodes.map((n) => `\tnode {\n\t\tring0_addr: ${n.rings[0]!.address}\n\t\tnodeid: ${n.index}\n\t}`).join("\n");
    return [
      "totem {",
      "\tversion: 2",
      "\tcluster_name: chaos",
      "\ttransport: udpu",
      `\ttoken: ${this.tokenMs}`,
      "\ttoken_coefficient: 0",
      `\tinterface {\n\t\tlinknumber: 0\n\t\tmcastport: ${port}\n\t}`,
      "}",
      `nodelist {\n${nodes}\n}`,
      "logging {\n\tto_stderr: yes\n\tto_syslog: no\n\ttimestamp: hires\n}",
      "",
    ].join("\n");
  }

  private async setUp(): Promise<void> {
    this.lab = Lab.create(this.opts.nodes, 1);
    this.net = await FaultNet.create(this.lab, this.opts.seed);
    this.cluster = new DaemonCluster({ nodes: this.opts.nodes, netns: (id) => this.lab!.nodes[id - 1]!.ns, config: (_id, port) => this.config(port) });
    this.cluster.start();
    await this.cluster.waitForMembers(this.nodeIds(), this.nodeIds(), 90_000);
    this.log(`ring of ${this.opts.nodes} formed; starting clients`);
    for (const id of this.nodeIds()) this.startClient(id);
    await this.awaitCpgViews(90_000, "initial CPG views");
    for (const c of this.clients.values()) c.send("go");
  }

  private startClient(id: number): ChaosClient {
    const label = `n${id}c${this.allClients.filter((c) => c.history.label.startsWith(`n${id}c`)).length + 1}`;
    const spec = { group: "chaos", intervalMs: this.opts.intervalMs ?? 100, seed: this.rng.u32(), connectTimeoutMs: 60_000 };
    const c = new ChaosClient(this.lab!.nodes[id - 1]!.ns, label, spec, this.dir);
    this.clients.set(id, c);
    this.allClients.push(c);
    return c;
  }

  private node(id: number): DaemonNode {
    return this.cluster!.node(id);
  }

  // ------------------------------------------------------------------ nemesis

  private count(kind: string): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
  }

  /** Random directed links (a → b, a ≠ b). */
  private randomLinks(count: number): Array<[number, number]> {
    const all: Array<[number, number]> = [];
    for (const a of this.nodeIds()) for (const b of this.nodeIds()) if (a !== b) all.push([a, b]);
    return this.rng.shuffle(all).slice(0, count);
  }

  /** Soft link faults: loss, delay, duplication, reordering on some links. */
  private softFaults(): LinkFault[] {
    const out: LinkFault[] = [];
    const n = this.opts.nodes;
    for (const kind of this.rng.shuffle(["loss", "delay", "dup", "reorder"]).slice(0, this.rng.int(1, 2))) {
      this.count(kind);
      for (const [from, to] of this.randomLinks(this.rng.int(1, n * (n - 1)))) {
        if (kind === "loss") out.push({ kind: "loss", from, to, p: 0.05 + 0.25 * this.rng.float() });
        else if (kind === "dup") out.push({ kind: "dup", from, to, p: 0.05 + 0.45 * this.rng.float() });
        else if (kind === "delay") out.push({ kind: "delay", from, to, delayMs: this.rng.int(10, 150), jitterMs: this.rng.int(0, 30) });
        else out.push({ kind: "delay", from, to, delayMs: 1, jitterMs: this.rng.int(20, 120) });
      }
    }
    return out;
  }

  /** Partition faults of one shape. */
  private partition(kind: string): LinkFault[] {
    const ids = this.rng.shuffle(this.nodeIds());
    if (kind === "partition") {
      const cut = this.rng.int(1, ids.length - 1);
      return partitionFaults([ids.slice(0, cut), ids.slice(cut)]);
    }
    if (kind === "oneway") {
      const [a, ...rest] = ids;
      return rest.slice(0, this.rng.int(1, rest.length)).map((b) => ({ kind: "cut" as const, from: a!, to: b }));
    }
    // non-transitive: a and c cannot talk, both talk to everyone else.
    return partitionFaults([[ids[0]!], [ids[1]!]]);
  }

  /** One round: faults, hold, heal, checks. */
  private async round(): Promise<void> {
    this.rounds++;
    const hard = this.rng.chance(0.7) ? this.rng.pick(["partition", "oneway", "nontransitive", "kill", "pause"]) : undefined;
    const soft = hard === undefined || this.rng.chance(0.4) ? this.softFaults() : [];
    const holdMs = this.rng.int(this.tokenMs, 6 * this.tokenMs);
    const links = [...soft];
    if (hard === "partition" || hard === "oneway" || hard === "nontransitive") {
      this.count(hard);
      links.push(...this.partition(hard));
    }
    this.log(`round ${this.rounds}: ${[hard, ...new Set(soft.map((f) => f.kind))].filter(Boolean).join("+")} for ${holdMs} ms`);
    await this.net!.add(links);
    let healAt: number;
    if (hard === "kill") healAt = await this.killAndRestart(holdMs);
    else if (hard === "pause") healAt = await this.pause();
    else {
      await sleep(holdMs);
      await this.net!.heal();
      healAt = Date.now();
    }
    if (!this.net!.healthy) throw new Error("a delayer died: delays would no longer be injected");
    await this.afterHeal(healAt);
  }

  /** kill -9 one daemon; its client must see the connection close; restart both. */
  private async killAndRestart(holdMs: number): Promise<number> {
    this.count("kill");
    const id = this.rng.int(1, this.opts.nodes);
    const node = this.node(id);
    this.log(`  kill -9 node ${id}`);
    node.signal("SIGKILL");
    await node.exited;
    const client = this.clients.get(id)!;
    if (!(await until(() => !client.running, 20_000))) {
      this.violations.push({ oracle: "client told of daemon death", client: client.history.label, detail: `client still running 20 s after kill -9 of node ${id}` });
      client.kill();
    }
    await sleep(Math.min(holdMs, 3000));
    await this.net!.heal();
    node.start();
    const started = Date.now();
    if (!(await until(() => node.firstAt(/is now up/, started) !== undefined, 60_000))) throw new Error(`node ${id} did not come up after restart\n${this.cluster!.describe()}`);
    this.startClient(id).send("go");
    return node.firstAt(/is now up/, started)!;
  }

  /** SIGSTOP one daemon for 0.5–10 × token, then SIGCONT. */
  private async pause(): Promise<number> {
    this.count("pause");
    const id = this.rng.int(1, this.opts.nodes);
    const factor = this.rng.pick([0.5, 1.5, 3, 10, 0.5 + 9.5 * this.rng.float()]);
    const node = this.node(id);
    this.log(`  SIGSTOP node ${id} for ${factor.toFixed(2)} x token`);
    node.signal("SIGSTOP");
    await sleep(Math.round(factor * this.tokenMs));
    await this.net!.heal();
    node.signal("SIGCONT");
    return Date.now();
  }

  // ------------------------------------------------------------------ checks after a heal

  private liveIds(): string {
    return this.nodeIds().join(",");
  }

  /** Every node: one ring of all nodes, stable for token + consensus; returns ms since heal. */
  private async awaitRing(healAt: number): Promise<void> {
    const want = this.liveIds();
    const stableMs = this.tokenMs + this.consensusMs;
    const deadline = Date.now() + 120_000;
    let since: number | undefined;
    for (;;) {
      const nodes = this.cluster!.nodes;
      const ok = nodes.every((n) => n.running && [...n.members].sort((a, b) => a - b).join(",") === want && n.ringId === nodes[0]!.ringId);
      if (!ok) since = undefined;
      else if (since === undefined) since = Date.now();
      if (since !== undefined && Date.now() - since >= stableMs) break;
      if (Date.now() > deadline) {
        this.violations.push({ oracle: "one ring after heal", client: "-", detail: `no stable ring of [${want}] within 120 s of the heal\n${this.cluster!.describe()}` });
        throw new Error("no ring");
      }
      await sleep(50);
    }
    const formedAt = Math.max(...this.cluster!.nodes.map((n) => n.lines.findLast((l) => /A new membership/.test(l.text))?.at ?? 0));
    const ms = Math.max(0, formedAt - healAt);
    this.ringMs.push(ms);
    if (ms > this.boundMs) {
      this.violations.push({ oracle: "ring within token + consensus + 1 s", client: "-", detail: `ring ${this.cluster!.nodes[0]!.ringId} formed ${ms} ms after the heal (bound ${this.boundMs} ms) in round ${this.rounds}` });
    }
  }

  /** Every live client's current view holds exactly the live clients. */
  private async awaitCpgViews(ms: number, what: string): Promise<void> {
    const ok = await until(() => {
      const live = [...this.clients.values()];
      if (live.some((c) => !c.running || c.history.id === "")) return false;
      const want = live.map((c) => c.history.id).sort().join(",");
      return live.every((c) => c.history.views.at(-1)?.members.join(",") === want);
    }, ms);
    if (!ok) {
      const state = [...this.clients.values()].map((c) => `${c.history.label} ${c.history.id} running=${c.running} view=[${c.history.views.at(-1)?.members.join(",")}] ${c.stderr.slice(-3).join(" ")}`);
      this.violations.push({ oracle: "CPG views after heal", client: "-", detail: `${what}: views not complete within ${ms} ms:\n${state.join("\n")}` });
      throw new Error(what);
    }
  }

  /** Messages flow again: every live client delivers, from every live client, a seq ≥ what it had sent. */
  private async awaitFlow(ms: number): Promise<void> {
    const live = [...this.clients.values()];
    const target = new Map(live.map((c) => [c.history.id, c.history.sent + 1]));
    const ok = await until(() => live.every((r) => live.every((c) => (r.history.lastSeq.get(c.history.id) ?? 0) >= target.get(c.history.id)!)), ms);
    if (!ok) {
      const lag = live.flatMap((r) => live.filter((c) => (r.history.lastSeq.get(c.history.id) ?? 0) < target.get(c.history.id)!).map((c) => `${r.history.label} has ${c.history.label} up to ${r.history.lastSeq.get(c.history.id) ?? 0} < ${target.get(c.history.id)}`));
      this.violations.push({ oracle: "delivery after heal", client: "-", detail: `round ${this.rounds}: ${lag.join("; ")}` });
    }
  }

  private sampleRss(): void {
    for (const n of this.cluster!.nodes) {
      const kib = vmRssKiB(n.running ? n.pid : undefined);
      this.rssMax[n.id - 1] = Math.max(this.rssMax[n.id - 1]!, kib);
      const bound = this.opts.rssBoundKiB ?? 400 * 1024;
      if (kib > bound) this.violations.push({ oracle: "RSS bound", client: `node ${n.id}`, detail: `VmRSS ${kib} KiB > ${bound} KiB` });
    }
  }

  private async afterHeal(healAt: number): Promise<void> {
    await this.awaitRing(healAt);
    await this.awaitCpgViews(60_000, `round ${this.rounds}`);
    await this.awaitFlow(60_000);
    this.sampleRss();
    this.log(`round ${this.rounds}: ring after ${this.ringMs.at(-1)} ms; ${this.allClients.reduce((s, c) => s + c.history.deliveries, 0)} deliveries so far`);
  }

  // ------------------------------------------------------------------ end

  /** Stop sending, wait until every live client delivered every live client's last message. */
  private async drain(): Promise<void> {
    const live = [...this.clients.values()];
    for (const c of live) c.send("stop");
    if (!(await until(() => live.every((c) => c.history.stopped), 60_000))) {
      this.violations.push({ oracle: "drain", client: "-", detail: "a client's last mcast did not return within 60 s" });
    }
    const ok = await until(() => live.every((r) => live.every((c) => (r.history.lastSeq.get(c.history.id) ?? 0) >= c.history.sent)), 60_000);
    if (!ok) this.violations.push({ oracle: "drain", client: "-", detail: "the last messages were not delivered everywhere within 60 s" });
  }

  private async report(started: number): Promise<ChaosReport> {
    const live = [...this.clients.values()].filter((c) => c.running).map((c) => c.history);
    const all = this.allClients.map((c) => c.history);
    const violations = [...this.violations, ...checkHistories(all, live)];
    const messages = new Set(all.flatMap((h) => h.all())).size;
    const counters = this.net?.counters() ?? { cut: 0, loss: 0, dup: 0, delay: 0 };
    const delayed = (await this.net?.delayedPackets()) ?? 0;
    const missing = (["loss", "dup"] as const).filter((k) => (this.faults[k] ?? 0) > 0 && counters[k] === 0);
    if ((this.faults.delay ?? 0) + (this.faults.reorder ?? 0) > 0 && delayed === 0) missing.push("delay" as never);
    if (missing.length > 0) violations.push({ oracle: "fault injection", client: "-", detail: `faults of kind ${missing.join(",")} were injected but hit no packet` });
    return {
      seed: this.opts.seed,
      rounds: this.rounds,
      faults: { ...this.faults },
      packets: { ...counters, delayed },
      ringMs: [...this.ringMs],
      boundMs: this.boundMs,
      messages,
      deliveries: all.reduce((s, h) => s + h.deliveries, 0),
      clients: all.length,
      rssMaxKiB: [...this.rssMax],
      violations,
      elapsedMs: Date.now() - started,
    };
  }

  private async cleanUp(keep: boolean): Promise<void> {
    for (const c of this.allClients) c.kill();
    await Promise.all(this.allClients.map((c) => c.exited));
    if (keep && this.cluster !== undefined) {
      for (const n of this.cluster.nodes) {
        const f = createWriteStream(join(this.dir, `daemon-${n.id}.log`));
        f.end(n.lines.map((l) => `${new Date(l.at).toISOString()} ${l.text}`).join("\n"));
      }
    }
    await this.cluster?.destroy();
    this.net?.close();
    await this.lab?.cleanup();
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One line per figure, for the CLI and the test's log. */
export function formatReport(r: ChaosReport): string {
  const sorted = [...r.ringMs].sort((a, b) => a - b);
  const pct = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return [
    `seed ${r.seed}: ${r.rounds} rounds in ${(r.elapsedMs / 1000).toFixed(0)} s`,
    `faults injected: ${Object.entries(r.faults).map(([k, v]) => `${k}=${v}`).join(" ")}`,
    `packets hit: cut=${r.packets.cut} loss=${r.packets.loss} dup=${r.packets.dup} delayed=${r.packets.delayed}`,
    `ring after heal: median ${pct(0.5)} ms, p90 ${pct(0.9)} ms, max ${sorted.at(-1) ?? 0} ms (bound ${r.boundMs} ms)`,
    `checked: ${r.messages} messages, ${r.deliveries} deliveries, ${r.clients} client processes`,
    `peak VmRSS per daemon (KiB): ${r.rssMaxKiB.join(" ")}`,
    `violations: ${r.violations.length}`,
    ...r.violations.slice(0, 20).map((v) => `  ${v.oracle} [${v.client}]: ${v.detail}`),
    ...(r.keptDir ? [`logs kept in ${r.keptDir}`] : []),
  ].join("\n");
}
