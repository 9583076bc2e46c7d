/**
 * Scenario scripts (style.md "Tests, in the models' shape"; etcd-io/raft's and cockroach's
 * datadriven tests): a readable list of commands run on a `SimCluster`, each followed by the
 * transcript it must produce. A script file is a sequence of blocks
 *
 * ```
 * # comments and blank lines between blocks are kept as they are
 * command arg key=value "quoted text"
 * ----
 * expected output, one line per line (never blank)
 * <blank line>
 * ```
 *
 * `runScript` runs the commands in order and returns the actual transcript and the file
 * rewritten with it (the rewrite mode), so a test can compare and a human can accept a change
 * after reading it. Everything is seeded by the `cluster` command: a script replays bit for
 * bit. Transcripts name no clock readings except coarse buckets (`stabilize`).
 *
 * Commands (ids are nodeids 1..N):
 * - `cluster nodes=N [token=MS] [seed=S] [loss=P] [dup=P] [delay=MS] [jitter=MS]` — first
 *   command: N nodes with corosync's effective timers for N nodes and `token` (§4.12), a
 *   seeded network (default: no loss, 0.1 ms + up to 0.05 ms delay).
 * - `start A B ...` / `restart A` (a crashed or stopped node; only its persisted ring seq
 *   survives) / `stop A` (clean: LEAVE, then down) / `crash A` (kill -9).
 * - `pause A MS` (SIGSTOP for MS: nothing runs, datagrams queue) / `resume` (end all pauses).
 * - `partition 1,2|3,4,5` / `block A>B [C>D ...]` (one way) / `heal` (links only).
 * - `net [loss=P] [dup=P] [delay=MS] [jitter=MS]` — change the network faults from now on.
 * - `run MS` — advance virtual time.
 * - `stabilize [max=MS]` — run until every group of mutually reachable, running nodes is one
 *   operational ring of exactly that group, and stays so for a settle period; prints the
 *   elapsed time only as a bucket of the token and consensus timeouts.
 * - `mcast A "text" ["text" ...]` / `mcast A size=BYTES [count=K]` — workload messages through
 *   `TotemPg.mcastGroup` on group "a" (checked end to end by the Recorder).
 * - `status` — per node: state, ring id (`rep.seq` in hex, as corosync logs it), members.
 * - `deliveries [A ...]` — what each node delivered since the last call (configuration
 *   changes and messages); nodes with identical output are printed together.
 * - `log A [level=notice] [match=REGEXP]` — the node's log records at or above `level` (and
 *   matching REGEXP) since the last call.
 * - `pgstats [A ...]` — the non-zero totempg counters of each node (packets, re-sends, drops).
 * - `check` — the outside safety checkers (`checkSafety`): `ok` or the violations.
 * - `seqbase 0xHEX` — test-only: rebase a quiescent ring's message seqs to HEX (see
 *   `ScenarioRunner.seqbase`), to run a ring across the u32 wrap.
 */
import type { TotemSrp } from "../src/core/totem/srp.js";
import { DEFAULT_SRP_CONFIG, type ConfigurationChange, type SrpConfig } from "../src/core/totem/types.js";
import { MessageType, formatRingId } from "../src/wire/totem/types.js";
import { checkSafety, Recorder } from "./checkers.js";
import { SimCluster, type NodeListener, type SimNode } from "./cluster.js";
import { Prng } from "./prng.js";
import { simTimers } from "./swarm.js";
import { digestOf, makeMessage, parseMessage, WORKLOAD_HEADER } from "./workload.js";

// ------------------------------------------------------------------ script files

/** One command and the output expected under it. */
export interface ScenarioBlock {
  /** 1-based line of the command in the file. */
  line: number;
  command: string;
  expected: string[];
}

/** A parsed script: text kept verbatim (comments, blank lines) interleaved with blocks. */
export type ScriptPart = { kind: "text"; lines: string[] } | { kind: "block"; block: ScenarioBlock };

export const SEPARATOR = "----";

/** A script the parser or the runner refuses: a mistake in the script, not in the cluster. */
export class ScriptError extends Error {
  override name = "ScriptError";
}

/**
 * Parse a script file. A line that is neither blank nor a `#` comment starts a block: the
 * command, then a `----` line, then the expected output up to the next blank line (or EOF).
 */
export function parseScript(text: string): ScriptPart[] {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const parts: ScriptPart[] = [];
  let textLines: string[] = [];
  const flushText = (): void => {
    if (textLines.length > 0) parts.push({ kind: "text", lines: textLines });
    textLines = [];
  };
  for (let i = 0; i < lines.length; ) {
    const line = lines[i]!;
    if (line.trim() === "" || line.trimStart().startsWith("#")) {
      textLines.push(line);
      i++;
      continue;
    }
    flushText();
    if (lines[i + 1] !== SEPARATOR) throw new ScriptError(`line ${i + 1}: expected "${SEPARATOR}" after the command "${line}"`);
    const block: ScenarioBlock = { line: i + 1, command: line.trim(), expected: [] };
    i += 2;
    while (i < lines.length && lines[i]!.trim() !== "") block.expected.push(lines[i++]!);
    if (i < lines.length) i++; // the blank line that ends the block
    parts.push({ kind: "block", block });
  }
  flushText();
  return parts;
}

/** Print a script with the given outputs under its commands (in block order). */
export function formatScript(parts: readonly ScriptPart[], outputs: readonly (readonly string[])[]): string {
  const out: string[] = [];
  let b = 0;
  for (const p of parts) {
    if (p.kind === "text") out.push(...p.lines);
    else out.push(p.block.command, SEPARATOR, ...(outputs[b++] ?? []), "");
  }
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out.join("\n") + "\n";
}

/** Split a command line into words; double quotes group words (`\"` and `\\` escape). */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === " " || line[i] === "\t") {
      i++;
      continue;
    }
    if (line[i] === '"') {
      let w = "";
      i++;
      for (; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === "\\" && i + 1 < line.length) i++;
        w += line[i];
      }
      if (i >= line.length) throw new ScriptError(`unterminated quote in: ${line}`);
      i++;
      words.push(`"${w}`); // a leading quote marks a quoted word
      continue;
    }
    let w = "";
    for (; i < line.length && line[i] !== " " && line[i] !== "\t"; i++) w += line[i];
    words.push(w);
  }
  return words;
}

// ------------------------------------------------------------------ the runner

const LOG_LEVELS = ["trace", "debug", "info", "notice", "warning", "error"] as const;

/** A workload message whose padding is a text (the digest covers it like any padding). */
export function makeTextMessage(sender: number, incarnation: number, seq: number, text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  const body = new Uint8Array(WORKLOAD_HEADER + bytes.byteLength);
  body.set(bytes, WORKLOAD_HEADER);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, sender, true);
  dv.setUint32(4, incarnation, true);
  dv.setUint32(8, seq, true);
  dv.setUint32(16, digestOf(sender, incarnation, seq, body), true);
  dv.setUint32(12, body.byteLength, true);
  return body;
}

function list(ids: readonly number[]): string {
  return `[${ids.join(" ")}]`;
}

/**
 * Runs scenario commands on one simulated cluster and renders their transcript. Failures that
 * must fail a test whatever the expected text says (a `check` with violations, a `stabilize`
 * that does not converge, an exception from inside the cluster such as a broken invariant)
 * are collected in `failures` as well as printed.
 */
export class ScenarioRunner {
  cluster: SimCluster | undefined;
  readonly recorder = new Recorder();
  readonly failures: string[] = [];
  private cfg: SrpConfig = DEFAULT_SRP_CONFIG;
  /** Per node id: deliveries and configuration changes not yet printed. */
  private readonly pendingDeliveries = new Map<number, string[]>();
  /** Per node id: log records not yet printed. */
  private readonly pendingLogs = new Map<number, Array<{ level: number; text: string }>>();
  /** Incarnation of the last log record seen per node id (to mark restarts in `log`). */
  private readonly logIncarnation = new Map<number, number>();
  /** Next workload seq per node incarnation ("id#inc"). */
  private readonly nextSeq = new Map<string, number>();
  /** Messages sent as text (their key), to print them as text when delivered. */
  private readonly textKeys = new Set<string>();
  /** Nodes ever started (restart needs one). */
  private readonly everStarted = new Set<number>();

  /** Run one command line; returns its output lines. */
  run(line: string): string[] {
    const words = tokenize(line);
    const cmd = words[0];
    const args = words.slice(1);
    if (cmd === undefined) throw new ScriptError("empty command");
    if (cmd !== "cluster" && this.cluster === undefined) throw new ScriptError(`"${cmd}" before "cluster"`);
    try {
      return this.dispatch(cmd, args);
    } catch (e) {
      if (e instanceof ScriptError) throw e;
      const msg = `panic: ${e instanceof Error ? e.message : String(e)}`;
      this.failures.push(`${line}: ${msg}`);
      return [msg];
    }
  }

  private dispatch(cmd: string, args: string[]): string[] {
    switch (cmd) {
      case "cluster":
        return this.cmdCluster(args);
      case "start":
        return this.cmdStart(args);
      case "restart":
        return this.cmdRestart(args);
      case "stop":
        for (const id of this.ids(args, 1)) this.c.stop(this.up(id).id);
        return [];
      case "crash":
        for (const id of this.ids(args, 1)) this.c.crash(this.up(id).id);
        return [];
      case "pause":
        return this.cmdPause(args);
      case "resume":
        this.noArgs(cmd, args);
        this.c.resumeAll();
        return [];
      case "partition":
        return this.cmdPartition(args);
      case "block":
        return this.cmdBlock(args);
      case "heal":
        this.noArgs(cmd, args);
        this.c.heal();
        return [];
      case "run":
        return this.cmdRun(args);
      case "net":
        return this.cmdNet(args);
      case "stabilize":
        return this.cmdStabilize(args);
      case "mcast":
        return this.cmdMcast(args);
      case "status":
        this.noArgs(cmd, args);
        return this.status();
      case "deliveries":
        return this.cmdDeliveries(args);
      case "log":
        return this.cmdLog(args);
      case "check":
        this.noArgs(cmd, args);
        return this.check();
      case "pgstats":
        return this.cmdPgStats(args);
      case "seqbase":
        return this.cmdSeqbase(args);
      default:
        throw new ScriptError(`unknown command "${cmd}"`);
    }
  }

  private get c(): SimCluster {
    return this.cluster!;
  }

  // ---------------------------------------------------------------- argument helpers

  private noArgs(cmd: string, args: string[]): void {
    if (args.length > 0) throw new ScriptError(`"${cmd}" takes no arguments`);
  }

  private nodeId(word: string): number {
    const id = Number(word);
    if (!Number.isInteger(id) || !this.c.nodes.has(id)) throw new ScriptError(`no node "${word}"`);
    return id;
  }

  private ids(args: string[], min: number): number[] {
    if (args.length < min) throw new ScriptError(`expected at least ${min} node id(s)`);
    return args.map((a) => this.nodeId(a));
  }

  private up(id: number): SimNode {
    const n = this.c.node(id);
    if (!n.up) throw new ScriptError(`node ${id} is down`);
    return n;
  }

  private static keyValues(args: readonly string[], allowed: readonly string[]): Map<string, string> {
    const kv = new Map<string, string>();
    for (const a of args) {
      const eq = a.indexOf("=");
      if (eq <= 0) throw new ScriptError(`expected key=value, got "${a}"`);
      const k = a.slice(0, eq);
      if (!allowed.includes(k)) throw new ScriptError(`unknown key "${k}" (known: ${allowed.join(", ")})`);
      kv.set(k, a.slice(eq + 1));
    }
    return kv;
  }

  private static num(word: string | undefined, what: string, min = 0): number {
    const v = Number(word);
    if (word === undefined || word === "" || !Number.isFinite(v) || v < min) throw new ScriptError(`bad ${what}: "${word}"`);
    return v;
  }

  // ---------------------------------------------------------------- lifecycle commands

  private cmdCluster(args: string[]): string[] {
    if (this.cluster !== undefined) throw new ScriptError("cluster already created");
    const kv = ScenarioRunner.keyValues(args, ["nodes", "token", "seed", "loss", "dup", "delay", "jitter"]);
    const nodes = ScenarioRunner.num(kv.get("nodes"), "nodes", 1);
    const token = ScenarioRunner.num(kv.get("token") ?? "1000", "token", 30);
    const seed = ScenarioRunner.num(kv.get("seed") ?? "1", "seed");
    this.cfg = simTimers(nodes, token);
    const ids = Array.from({ length: nodes }, (_, i) => i + 1);
    const listener: NodeListener = {
      deliver: (node, sender, group, body) => {
        this.recorder.deliver(node, sender, group, body);
        this.noteDelivery(node, sender, group, body);
      },
      confchg: (node, change) => {
        this.recorder.confchg(node, change);
        this.pending(node.id).push(describeChange(change));
      },
    };
    this.cluster = new SimCluster(ids, this.cfg, new Prng(seed), listener, (line) => this.noteTrace(line));
    this.c.faults = {
      lossRate: ScenarioRunner.num(kv.get("loss") ?? "0", "loss"),
      dupRate: ScenarioRunner.num(kv.get("dup") ?? "0", "dup"),
      baseDelayMs: ScenarioRunner.num(kv.get("delay") ?? "0.1", "delay"),
      jitterMs: ScenarioRunner.num(kv.get("jitter") ?? "0.05", "jitter"),
    };
    const t = this.cfg;
    return [
      `nodes ${list(ids)} token ${t.tokenMs}ms token_retransmit ${t.tokenRetransmitMs}ms hold ${t.holdMs}ms consensus ${t.consensusMs}ms join ${t.joinMs}ms merge ${t.mergeMs}ms`,
    ];
  }

  private cmdStart(args: string[]): string[] {
    const ids = this.ids(args, 1);
    for (const id of ids) if (this.c.node(id).up) throw new ScriptError(`node ${id} is already up`);
    for (const id of ids) {
      if (this.everStarted.has(id)) throw new ScriptError(`node ${id} ran before: use "restart ${id}"`);
      this.everStarted.add(id);
      this.c.start(id);
    }
    return [];
  }

  private cmdRestart(args: string[]): string[] {
    const out: string[] = [];
    for (const id of this.ids(args, 1)) {
      const n = this.c.node(id);
      if (n.up) throw new ScriptError(`node ${id} is up`);
      if (!this.everStarted.has(id)) throw new ScriptError(`node ${id} never ran: use "start ${id}"`);
      const persisted = n.persistedRingSeq;
      this.c.start(id);
      this.pending(id).push(`restarted (incarnation ${n.incarnation})`);
      out.push(`node ${id} restarts (incarnation ${n.incarnation}) from persisted ring seq ${persisted.toString(16)}, ring ${formatRingId(n.srp.ringId)}`);
    }
    return out;
  }

  private cmdPause(args: string[]): string[] {
    if (args.length !== 2) throw new ScriptError("usage: pause NODE MS");
    const n = this.up(this.nodeId(args[0]!));
    this.c.pause(n.id, ScenarioRunner.num(args[1], "pause ms", 1));
    return [];
  }

  private cmdPartition(args: string[]): string[] {
    if (args.length !== 1) throw new ScriptError("usage: partition 1,2|3,4");
    const groups = args[0]!.split("|").map((g) => g.split(",").filter((w) => w !== "").map((w) => this.nodeId(w)));
    const all = groups.flat();
    if (new Set(all).size !== all.length) throw new ScriptError("a node is in two groups");
    if (all.length !== this.c.nodeIds.length) throw new ScriptError("partition must name every node");
    this.c.partition(groups);
    return [];
  }

  private cmdBlock(args: string[]): string[] {
    if (args.length === 0) throw new ScriptError("usage: block A>B [C>D ...]");
    for (const a of args) {
      const m = /^(\d+)>(\d+)$/.exec(a);
      if (m === null) throw new ScriptError(`bad link "${a}" (want A>B)`);
      this.c.blockOneWay(this.nodeId(m[1]!), this.nodeId(m[2]!));
    }
    return [];
  }

  /** Change the network fault settings from now on (unnamed settings are kept). */
  private cmdNet(args: string[]): string[] {
    if (args.length === 0) throw new ScriptError("usage: net [loss=P] [dup=P] [delay=MS] [jitter=MS]");
    const kv = ScenarioRunner.keyValues(args, ["loss", "dup", "delay", "jitter"]);
    const f = this.c.faults;
    this.c.faults = {
      lossRate: ScenarioRunner.num(kv.get("loss") ?? String(f.lossRate), "loss"),
      dupRate: ScenarioRunner.num(kv.get("dup") ?? String(f.dupRate), "dup"),
      baseDelayMs: ScenarioRunner.num(kv.get("delay") ?? String(f.baseDelayMs), "delay"),
      jitterMs: ScenarioRunner.num(kv.get("jitter") ?? String(f.jitterMs), "jitter"),
    };
    return [];
  }

  private cmdRun(args: string[]): string[] {
    if (args.length !== 1) throw new ScriptError("usage: run MS");
    this.c.runUntil(this.c.now + ScenarioRunner.num(args[0], "run ms", 0));
    return [];
  }

  // ---------------------------------------------------------------- stabilize

  /**
   * Groups of running nodes (up, not paused) that can talk both ways, directly or through
   * each other: the rings we expect to see.
   */
  private components(): number[][] {
    const running = this.c.liveNodes().filter((n) => !this.c.isPaused(n)).map((n) => n.id).sort((a, b) => a - b);
    const linked = (a: number, b: number): boolean => !this.c.blocked.has(`${a}>${b}`) && !this.c.blocked.has(`${b}>${a}`);
    const seen = new Set<number>();
    const comps: number[][] = [];
    for (const start of running) {
      if (seen.has(start)) continue;
      const comp: number[] = [];
      const todo = [start];
      seen.add(start);
      while (todo.length > 0) {
        const x = todo.pop()!;
        comp.push(x);
        for (const y of running) if (!seen.has(y) && linked(x, y)) (seen.add(y), todo.push(y));
      }
      comps.push(comp.sort((a, b) => a - b));
    }
    return comps;
  }

  /** Ring ids of each group if every group is one operational ring of exactly its nodes. */
  private settledRings(): string | undefined {
    const rings: string[] = [];
    for (const comp of this.components()) {
      const first = this.c.node(comp[0]!).srp;
      const ring = formatRingId(first.ringId);
      for (const id of comp) {
        const s = this.c.node(id).srp;
        if (s.stateName !== "OPERATIONAL" || s.waitingTransAck || formatRingId(s.ringId) !== ring) return undefined;
        const members = [...s.members].sort((a, b) => a - b);
        if (members.join(",") !== comp.join(",")) return undefined;
      }
      rings.push(ring);
    }
    return rings.join(" ");
  }

  private cmdStabilize(args: string[]): string[] {
    const kv = ScenarioRunner.keyValues(args, ["max"]);
    const t = this.cfg;
    const bound = ScenarioRunner.num(kv.get("max") ?? String(3 * (t.tokenMs + t.consensusMs) + 3000), "max", 1);
    const settle = t.tokenMs;
    const begin = this.c.now;
    const stepMs = 5;
    while (this.c.now - begin <= bound) {
      const rings = this.settledRings();
      if (rings !== undefined) {
        const at = this.c.now - begin;
        this.c.runUntil(this.c.now + settle);
        if (this.settledRings() === rings) return [`converged ${ScenarioRunner.bucket(at, t)}`];
        continue;
      }
      this.c.runUntil(this.c.now + stepMs);
    }
    const msg = `not converged within ${bound}ms: ${this.c.describe()}`;
    this.failures.push(`stabilize: ${msg}`);
    return [msg];
  }

  /**
   * Elapsed time as a bucket of the timers, so transcripts do not pin exact timings. The
   * buckets above the token timeout have 10% slack: a crash right after a token visit costs
   * a full token timeout, then consensus, then a few ms to form the ring.
   */
  private static bucket(ms: number, t: SrpConfig): string {
    const tc = t.tokenMs + t.consensusMs;
    if (ms < t.tokenMs) return "within the token timeout";
    if (ms < 1.1 * tc) return "after about token + consensus timeouts";
    if (ms < 2.2 * tc) return "after about 2 x (token + consensus)";
    return "after more than 2 x (token + consensus)";
  }

  // ---------------------------------------------------------------- traffic

  private cmdMcast(args: string[]): string[] {
    if (args.length < 2) throw new ScriptError('usage: mcast NODE "text"... | mcast NODE size=BYTES [count=K]');
    const n = this.up(this.nodeId(args[0]!));
    if (this.c.isPaused(n)) throw new ScriptError(`node ${n.id} is paused`);
    const rest = args.slice(1);
    const bodies: Array<{ text?: string; size?: number }> = [];
    if (rest.every((w) => w.startsWith('"'))) {
      for (const w of rest) bodies.push({ text: w.slice(1) });
    } else {
      const kv = ScenarioRunner.keyValues(rest, ["size", "count"]);
      const size = ScenarioRunner.num(kv.get("size"), "size", WORKLOAD_HEADER);
      const count = ScenarioRunner.num(kv.get("count") ?? "1", "count", 1);
      for (let i = 0; i < count; i++) bodies.push({ size });
    }
    let accepted = 0;
    for (const b of bodies) {
      const seq = this.nextSeq.get(n.key) ?? 0;
      const body = b.text !== undefined ? makeTextMessage(n.id, n.incarnation, seq, b.text) : makeMessage(n.id, n.incarnation, seq, b.size!);
      let ok = false;
      this.c.step(n, () => {
        ok = n.pg.mcastGroup(this.c.now, "a", [body]);
      });
      if (!ok) return [`refused after ${accepted} of ${bodies.length} (queue full)`];
      this.recorder.recordSent(n, seq);
      if (b.text !== undefined) this.textKeys.add(`${n.key}#${seq}`);
      this.nextSeq.set(n.key, seq + 1);
      accepted++;
    }
    return [];
  }

  private pending(id: number): string[] {
    let p = this.pendingDeliveries.get(id);
    if (p === undefined) {
      p = [];
      this.pendingDeliveries.set(id, p);
    }
    return p;
  }

  private noteDelivery(node: SimNode, sender: number, group: string, body: Uint8Array): void {
    const m = parseMessage(body);
    if (m === undefined) {
      this.pending(node.id).push(`from ${sender} group ${group}: ${body.byteLength} bytes, not a workload message`);
      return;
    }
    const from = m.incarnation === 1 ? `${m.sender}` : `${m.sender}/${m.incarnation}`;
    const what = this.textKeys.has(`${m.sender}#${m.incarnation}#${m.seq}`)
      ? JSON.stringify(new TextDecoder().decode(body.subarray(WORKLOAD_HEADER)))
      : `${body.byteLength} bytes`;
    this.pending(node.id).push(`from ${from} seq ${m.seq}: ${what}${m.ok ? "" : " (DAMAGED)"}`);
  }

  // ---------------------------------------------------------------- observation

  private status(): string[] {
    return [...this.c.nodes.values()].map((n) => {
      if (!n.up) return `${n.id}: down`;
      const s = n.srp;
      return `${n.id}: ${s.stateName} ring ${formatRingId(s.ringId)} members ${list(s.members)}${this.c.isPaused(n) ? " (paused)" : ""}`;
    });
  }

  private cmdDeliveries(args: string[]): string[] {
    const ids = args.length > 0 ? this.ids(args, 1) : [...this.c.nodeIds];
    // Nodes with identical output are printed together: the EVS promise made visible.
    const groups: Array<{ ids: number[]; lines: string[] }> = [];
    for (const id of ids) {
      const lines = compactRuns(this.pendingDeliveries.get(id) ?? []);
      this.pendingDeliveries.set(id, []);
      if (lines.length === 0 && args.length === 0) continue;
      const same = groups.find((g) => g.lines.length === lines.length && g.lines.every((l, i) => l === lines[i]));
      if (same !== undefined) same.ids.push(id);
      else groups.push({ ids: [id], lines });
    }
    if (groups.length === 0) return ["(nothing)"];
    const out: string[] = [];
    for (const g of groups) {
      out.push(`${g.ids.join(" ")}:${g.lines.length === 0 ? " (nothing)" : ""}`);
      for (const l of g.lines) out.push(`  ${l}`);
    }
    return out;
  }

  private noteTrace(line: string): void {
    const m = /^\s*[\d.]+ \[(\d+)#(\d+)\] (\w+) (.*)$/.exec(line);
    if (m === null) return;
    const id = Number(m[1]);
    const inc = Number(m[2]);
    let p = this.pendingLogs.get(id);
    if (p === undefined) {
      p = [];
      this.pendingLogs.set(id, p);
    }
    if (p.length >= 100_000) p.shift();
    if (inc !== (this.logIncarnation.get(id) ?? 1)) {
      this.logIncarnation.set(id, inc);
      p.push({ level: LOG_LEVELS.length - 1, text: `-- incarnation ${inc} --` });
    }
    p.push({ level: LOG_LEVELS.indexOf(m[3] as (typeof LOG_LEVELS)[number]), text: m[4]! });
  }

  private cmdLog(args: string[]): string[] {
    if (args.length < 1) throw new ScriptError("usage: log NODE [level=notice] [match=REGEXP]");
    const id = this.nodeId(args[0]!);
    const kv = ScenarioRunner.keyValues(args.slice(1), ["level", "match"]);
    const match = new RegExp(kv.get("match") ?? "");
    const level = LOG_LEVELS.indexOf((kv.get("level") ?? "notice") as (typeof LOG_LEVELS)[number]);
    if (level < 0) throw new ScriptError(`unknown level "${kv.get("level")}"`);
    const recs = this.pendingLogs.get(id) ?? [];
    this.pendingLogs.set(id, []);
    // Fractional virtual milliseconds in a record ("Token has not been received in 2212.4 ms")
    // are truncated to whole milliseconds, as corosync prints them.
    const out = recs
      .filter((r) => r.level >= level && match.test(r.text))
      .map((r) => `${LOG_LEVELS[r.level]}: ${r.text.trimEnd().replace(/\b(\d+)\.\d+ ms\b/g, (_, ms: string) => `${ms} ms`)}`);
    return out.length > 0 ? out : ["(nothing)"];
  }

  /** totempg counters of running nodes (non-zero ones), since their last start. */
  private cmdPgStats(args: string[]): string[] {
    const ids = args.length > 0 ? this.ids(args, 1) : [...this.c.nodeIds];
    const out: string[] = [];
    for (const id of ids) {
      const n = this.c.node(id);
      if (!n.up) {
        out.push(`${id}: down`);
        continue;
      }
      const counters = Object.entries(n.pg.stats).filter(([, v]) => v !== 0);
      out.push(`${id}: ${counters.length === 0 ? "(all zero)" : counters.map(([k, v]) => `${k}=${v}`).join(" ")}`);
    }
    return out;
  }

  private check(): string[] {
    const v = checkSafety(this.recorder);
    if (v.length === 0) return ["ok"];
    for (const x of v) this.failures.push(`check: ${x}`);
    return v;
  }

  // ---------------------------------------------------------------- seqbase

  /** Test-only: rebase the ring of the running nodes (see `rebaseQuiescentRing`). */
  private cmdSeqbase(args: string[]): string[] {
    if (args.length !== 1 || !/^(0x[0-9a-f]+|\d+)$/i.test(args[0]!)) throw new ScriptError("usage: seqbase 0xHEX");
    const base = Number(args[0]) >>> 0;
    const running = this.c.liveNodes().filter((n) => !this.c.isPaused(n));
    if (running.length === 0) throw new ScriptError("seqbase: no running node");
    const members = running.map((n) => n.srp);
    const ring = formatRingId(members[0]!.ringId);
    const holdBound = this.c.now + 20 * this.cfg.tokenMs;
    while (running.some((n) => n.pg.packedCount > 0) || !ringQuiescent(members)) {
      if (this.c.now > holdBound) throw new ScriptError(`seqbase: the ring did not become quiescent: ${this.c.describe()}`);
      this.c.runUntil(this.c.now + 1);
    }
    const from = rebaseQuiescentRing(members, base);
    return [`ring ${ring} rebased from seq ${from.toString(16)} to ${base.toString(16)} (token held by ${members[0]!.ringId.rep})`];
  }
}

/**
 * Is this set of processors one idle ring whose token the representative holds (§4.11, so
 * no ORF token is in flight), with nothing queued and everything received, delivered and
 * released up to the token's seq at every member? (Precondition of `rebaseQuiescentRing`.)
 */
export function ringQuiescent(members: readonly TotemSrp[]): boolean {
  const first = members[0];
  if (first === undefined) return false;
  const r = members.find((s) => s.myId === first.ringId.rep);
  if (r === undefined || !r.myTokenHeld || !r.timers.isPending("tokenHoldRetransmit")) return false;
  const copy = r.retransmitCopy;
  if (copy === undefined || copy.type !== MessageType.ORF_TOKEN || copy.aru !== copy.seq) return false;
  for (const s of members) {
    if (s.stateName !== "OPERATIONAL" || s.waitingTransAck || formatRingId(s.ringId) !== formatRingId(r.ringId)) return false;
    if (s.members.length !== members.length) return false;
    if (!s.newMessageQueue.isEmpty() || !s.newMessageQueueTrans.isEmpty()) return false;
    const seq = copy.seq;
    if (s.myAru !== seq || s.myHighSeqReceived !== seq || s.myHighDelivered !== seq || s.lastReleased !== seq) return false;
  }
  return true;
}

/**
 * Test-only: make a quiescent ring (`ringQuiescent`) look as if it had already carried
 * messages up to `base`, so that a test can run the ring across the u32 wrap of message
 * seqs. corosync starts every ring at seq 0 and wraps only after 2^32 messages, which no
 * simulation sends. At every member this sets what the same ring would hold after `base`
 * messages: aru, high seq received, high delivered, last released, last aru, last seq and
 * the safe point to `base`, an empty sort-queue window starting at `base + 1`, and the stored
 * token copy to seq = aru = `base` (aru_addr 0). The core's `invariants()` are checked at once
 * (and by the simulator after every later step). Returns the seq the ring had reached.
 */
export function rebaseQuiescentRing(members: readonly TotemSrp[], base: number): number {
  if (!ringQuiescent(members)) throw new Error("rebaseQuiescentRing: the ring is not quiescent");
  const from = members[0]!.myAru;
  const b = base >>> 0;
  for (const s of members) {
    s.myAru = s.myHighSeqReceived = s.myHighDelivered = s.lastReleased = b;
    s.myLastAru = s.myLastSeq = s.mySafeSeq = b;
    s.regularSortQueue.reinit((b + 1) >>> 0);
    const copy = s.retransmitCopy;
    if (copy !== undefined && copy.type === MessageType.ORF_TOKEN) {
      copy.seq = b;
      copy.aru = b;
      copy.aruAddr = 0;
      copy.rtrList = [];
    }
    s.invariants();
  }
  return from;
}

/**
 * Fold runs of messages from one sender with consecutive seqs and the same description
 * ("from 3 seq 4: 100 bytes", "from 3 seq 5: 100 bytes"...) into one line.
 */
function compactRuns(lines: readonly string[]): string[] {
  const out: string[] = [];
  const re = /^from (\S+) seq (\d+): (.*)$/;
  for (let i = 0; i < lines.length; ) {
    const m = re.exec(lines[i]!);
    let j = i + 1;
    if (m !== null) {
      for (; j < lines.length; j++) {
        const n = re.exec(lines[j]!);
        if (n === null || n[1] !== m[1] || n[3] !== m[3] || Number(n[2]) !== Number(m[2]) + (j - i)) break;
      }
    }
    if (m === null || j - i < 3) {
      out.push(...lines.slice(i, m === null ? i + 1 : j));
      i = m === null ? i + 1 : j;
      continue;
    }
    out.push(`from ${m[1]} seq ${m[2]}..${Number(m[2]) + (j - i - 1)}: ${m[3]} each (${j - i} messages)`);
    i = j;
  }
  return out;
}

function describeChange(c: ConfigurationChange): string {
  const ring = formatRingId(c.ringId);
  return c.type === "transitional"
    ? `transitional ring ${ring} members ${list(c.members)} left ${list(c.left)}`
    : `regular ring ${ring} members ${list(c.members)} joined ${list(c.joined)}`;
}

// ------------------------------------------------------------------ whole scripts

export interface ScriptResult {
  /** The script as written. */
  expected: string;
  /** The script with the actual outputs (what the rewrite mode writes). */
  actual: string;
  /** Problems that fail the scenario whatever the expected text says. */
  failures: string[];
}

/** Parse and run a script; the caller compares `expected` with `actual`. */
export function runScript(text: string): ScriptResult {
  const parts = parseScript(text);
  const runner = new ScenarioRunner();
  const outputs: string[][] = [];
  for (const p of parts) {
    if (p.kind !== "block") continue;
    let out: string[];
    try {
      out = runner.run(p.block.command);
    } catch (e) {
      if (e instanceof ScriptError) throw new ScriptError(`line ${p.block.line}: ${e.message}`);
      throw e;
    }
    if (out.some((l) => l.trim() === "")) throw new Error(`line ${p.block.line}: the runner printed a blank line`);
    outputs.push(out);
  }
  return { expected: formatScript(parts, parts.flatMap((p) => (p.kind === "block" ? [p.block.expected] : []))), actual: formatScript(parts, outputs), failures: runner.failures };
}

/** A line diff (LCS) of two texts in unified style, for mismatch reports. */
export function diffLines(expected: string, actual: string, context = 3): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const ops: Array<{ op: " " | "-" | "+"; line: string; at: number }> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ op: " ", line: a[i++]!, at: j++ });
    else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ op: "-", line: a[i++]!, at: j });
    else ops.push({ op: "+", line: b[j]!, at: j++ });
  }
  const keep = ops.map((o, k) => o.op !== " " || ops.slice(Math.max(0, k - context), k + context + 1).some((x) => x.op !== " "));
  const out: string[] = [];
  let skipped = false;
  ops.forEach((o, k) => {
    if (!keep[k]) {
      skipped = true;
      return;
    }
    if (skipped || out.length === 0) out.push(`@@ line ${o.at + 1} @@`);
    skipped = false;
    out.push(`${o.op}${o.line}`);
  });
  return out.join("\n");
}
