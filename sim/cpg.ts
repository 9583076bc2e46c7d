/**
 * CPG in the simulator: every simulated node runs the daemon's service host with the CPG
 * engine above its totempg (the same objects as the executive), and simulated CPG clients
 * join groups, multicast, leave and die. A recorder outside the nodes keeps each client's
 * callback log; `checkCpg` judges the logs against CPG's promises (virtual synchrony at
 * the process-group level):
 *
 * - integrity: every delivered message was sent, by the process it is attributed to, and is
 *   delivered at most once per client, intact;
 * - sender in view: a message is delivered only while its sender is in the receiver's view;
 * - views evolve as the callbacks say: members(after) = members(before) − left + joined,
 *   and a client's first callback is its own JOIN;
 * - one order: the callbacks (confchgs and messages) two clients of a group both saw occur
 *   in the same relative order;
 * - virtual synchrony: two clients that saw the same two consecutive confchgs delivered the
 *   same messages between them;
 * - liveness (after a heal): every live joined client of a group ends with the same view,
 *   equal to the set of live joined clients, and delivers every message sent after the heal.
 */
import { CpgEngine, CPG_FLAG_INITIAL_TOTEM_CONF, type CpgClientSink, type CpgConfchg, type CpgDelivery, type CpgPartialDelivery, type CpgStatus, type CpgTotemConfchg } from "../src/core/cpg/engine.js";
import { PartialType, type CpgGroupName } from "../src/core/cpg/messages.js";
import { ServiceHost } from "../src/core/services/host.js";
import type { SrpConfig } from "../src/core/totem/types.js";
import { formatRingId } from "../src/wire/totem/types.js";
import { SimCluster, type NodeListener, type SimNode, type TraceSink } from "./cluster.js";
import { Prng } from "./prng.js";

/** One callback as a client saw it. */
export type CpgLogEvent =
  | { kind: "confchg"; token: string; members: string[]; left: Array<{ who: string; reason: number }>; joined: Array<{ who: string; reason: number }> }
  | { kind: "msg"; key: string; sender: string; ok: boolean }
  | { kind: "totem"; ring: string; members: number[] }
  /** A PARTIAL piece arrived whose FIRST piece this client never saw (it joined since). */
  | { kind: "miss"; sender: string };

const NO_LISTENER: NodeListener = { deliver: () => {}, confchg: () => {} };

/** The payload of a simulated message: its key, then filler that depends on the key. */
export function makeCpgPayload(key: string, size: number): Uint8Array {
  const head = new TextEncoder().encode(`${key}|`);
  const b = new Uint8Array(Math.max(size, head.byteLength));
  b.set(head);
  let x = 0;
  for (let i = 0; i < key.length; i++) x = (x * 31 + key.charCodeAt(i)) >>> 0;
  for (let i = head.byteLength; i < b.byteLength; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** The key of a payload and whether its filler is intact. */
export function parseCpgPayload(b: Uint8Array): { key: string; ok: boolean } | undefined {
  const bar = b.indexOf(0x7c);
  if (bar < 0 || bar > 200) return undefined;
  const key = new TextDecoder().decode(b.subarray(0, bar));
  const expect = makeCpgPayload(key, b.byteLength);
  return { key, ok: expect.every((v, i) => v === b[i]) };
}

const who = (nodeId: number, pid: number): string => `${nodeId}/${pid}`;

/** A simulated libcpg client on one node incarnation. */
export class SimCpgClient implements CpgClientSink {
  readonly log: CpgLogEvent[] = [];
  /** Local bookkeeping: joined (the own JOIN confchg seen) and not left. */
  inGroup = false;
  alive = true;
  private seq = 0;
  private readonly assembly = new Map<string, Uint8Array[]>();

  constructor(
    private readonly sim: CpgSim,
    readonly node: SimNode,
    readonly incarnation: number,
    readonly engine: CpgEngine,
    readonly conn: number,
    readonly pid: number,
    readonly group: CpgGroupName,
  ) {}

  get key(): string {
    return who(this.node.id, this.pid);
  }

  /** Usable: alive and its node incarnation still running. */
  get live(): boolean {
    return this.alive && this.node.up && this.node.incarnation === this.incarnation;
  }

  private run(fn: () => CpgStatus): CpgStatus {
    if (!this.live) return "BAD_HANDLE";
    let r: CpgStatus = "LIBRARY";
    this.sim.cluster.step(this.node, () => (r = fn()));
    return r;
  }

  join(): CpgStatus {
    return this.run(() => this.engine.join(this.conn, this.group, this.pid, CPG_FLAG_INITIAL_TOTEM_CONF));
  }

  leave(): CpgStatus {
    return this.run(() => this.engine.leave(this.conn, this.group));
  }

  /** Multicast one message of `size` bytes; large ones go as PARTIAL pieces like libcpg. */
  mcast(size: number, pieceBytes = 0): { status: CpgStatus; key?: string } {
    const key = `${this.key}#${this.seq}`;
    const payload = makeCpgPayload(key, size);
    const status = pieceBytes > 0 && size > pieceBytes ? this.mcastPieces(payload, pieceBytes) : this.run(() => this.engine.mcast(this.conn, payload));
    if (status !== "OK") return { status };
    this.seq++;
    this.sim.sent.set(key, this.key);
    if (pieceBytes > 0 && size > pieceBytes) this.sim.partialKeys.add(key);
    return { status, key };
  }

  private mcastPieces(payload: Uint8Array, pieceBytes: number): CpgStatus {
    // All pieces in one step: they are queued together, as libcpg's loop would (it retries
    // TRY_AGAIN per piece; here a refusal of the first piece refuses the message).
    return this.run(() => {
      if (!this.engine.canSend(payload.byteLength + 200 * Math.ceil(payload.byteLength / pieceBytes))) return "TRY_AGAIN";
      for (let off = 0; off < payload.byteLength; off += pieceBytes) {
        const end = Math.min(payload.byteLength, off + pieceBytes);
        const type = off === 0 ? PartialType.FIRST : end === payload.byteLength ? PartialType.LAST : PartialType.CONTINUED;
        const r = this.engine.partialMcast(this.conn, payload.byteLength, type, payload.subarray(off, end));
        if (r !== "OK") return r;
      }
      return "OK";
    });
  }

  /** kill -9 of the client process: the daemon sees the connection close. */
  kill(): void {
    if (!this.live) return;
    this.alive = false;
    this.sim.cluster.step(this.node, () => this.engine.detach(this.conn));
    this.sim.trace(`client ${this.key} killed`);
  }

  // ------------------------------------------------------------------ callbacks

  deliver(m: CpgDelivery): void {
    this.record(m.nodeId, m.pid, m.data);
  }

  partialDeliver(m: CpgPartialDelivery): void {
    const k = who(m.nodeId, m.pid);
    if (m.type === PartialType.FIRST) this.assembly.set(k, []);
    const parts = this.assembly.get(k);
    if (parts === undefined) {
      // libcpg drops such pieces too: the message began before this client joined.
      if (m.type === PartialType.LAST) this.log.push({ kind: "miss", sender: k });
      return;
    }
    parts.push(m.data.slice());
    if (m.type !== PartialType.LAST) return;
    this.assembly.delete(k);
    const whole = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let off = 0;
    for (const p of parts) {
      whole.set(p, off);
      off += p.byteLength;
    }
    if (whole.byteLength !== m.msglen) this.sim.violations.push(`client ${this.key}: reassembled ${whole.byteLength} bytes, expected ${m.msglen}`);
    this.record(m.nodeId, m.pid, whole);
  }

  private record(nodeId: number, pid: number, data: Uint8Array): void {
    const p = parseCpgPayload(data);
    if (p === undefined) {
      this.sim.violations.push(`client ${this.key}: undecodable message from ${who(nodeId, pid)}`);
      return;
    }
    this.log.push({ kind: "msg", key: p.key, sender: who(nodeId, pid), ok: p.ok });
  }

  confchg(c: CpgConfchg): void {
    const fmt = (a: { nodeId: number; pid: number }): string => who(a.nodeId, a.pid);
    const ring = formatRingId(this.engine.totemMembers.ringId);
    const members = c.members.map(fmt);
    const left = c.left.map((a) => ({ who: fmt(a), reason: a.reason }));
    const joined = c.joined.map((a) => ({ who: fmt(a), reason: a.reason }));
    const token = `C|${ring}|${c.group}|m:${members.join(",")}|l:${left.map((l) => `${l.who}:${l.reason}`).join(",")}|j:${joined.map((j) => `${j.who}:${j.reason}`).join(",")}`;
    this.log.push({ kind: "confchg", token, members, left, joined });
    if (joined.some((j) => j.who === this.key)) this.inGroup = true;
    if (left.some((l) => l.who === this.key)) this.inGroup = false;
    for (const l of c.left) this.assembly.delete(fmt(l));
  }

  totemConfchg(t: CpgTotemConfchg): void {
    this.log.push({ kind: "totem", ring: formatRingId(t.ringId), members: [...t.members] });
  }
}

export interface CpgNodeStack {
  host: ServiceHost;
  cpg: CpgEngine;
}

/** A simulated cluster whose nodes run the service host with CPG. */
export class CpgSim {
  readonly cluster: SimCluster;
  readonly clients: SimCpgClient[] = [];
  /** Message key → sender client key. */
  readonly sent = new Map<string, string>();
  /** Keys of messages sent as PARTIAL pieces. */
  readonly partialKeys = new Set<string>();
  readonly violations: string[] = [];
  private readonly stacks = new Map<string, CpgNodeStack>();
  private nextPid = 1000;
  private nextConn = 1;

  constructor(
    nodeIds: readonly number[],
    srpConfig: SrpConfig,
    readonly rng: Prng,
    traceSink?: TraceSink,
  ) {
    this.cluster = new SimCluster(nodeIds, srpConfig, rng, NO_LISTENER, traceSink);
    this.cluster.upperFactory = (n) => this.buildStack(n).host;
  }

  private buildStack(n: SimNode): CpgNodeStack {
    const cluster = this.cluster;
    const incarnation = n.incarnation;
    const host = new ServiceHost(n.id, {
      now: () => cluster.now,
      schedule: (ms, fn) => {
        let cancelled = false;
        cluster.at(cluster.now + ms, () => {
          if (!cancelled && n.up && n.incarnation === incarnation) cluster.step(n, fn);
        });
        return { cancel: () => (cancelled = true) };
      },
      log: (level, subsys, text) => {
        if (level !== "debug") this.trace(`[${n.key}] ${subsys} ${level} ${text}`);
      },
    });
    const cpg = new CpgEngine({ api: host.api(), syncing: () => host.syncing });
    host.register(cpg);
    const stack = { host, cpg };
    this.stacks.set(n.key, stack);
    return stack;
  }

  trace(line: string): void {
    this.cluster.traceLine(line);
  }

  /** The CPG stack of a node's current incarnation. */
  stack(nodeId: number): CpgNodeStack {
    const n = this.cluster.node(nodeId);
    const s = this.stacks.get(n.key);
    if (s === undefined || !n.up) throw new Error(`node ${nodeId} is not running`);
    return s;
  }

  /** A new client process on `nodeId` (not joined yet). */
  client(nodeId: number, group: CpgGroupName): SimCpgClient {
    const n = this.cluster.node(nodeId);
    const { cpg } = this.stack(nodeId);
    const c = new SimCpgClient(this, n, n.incarnation, cpg, this.nextConn++, this.nextPid++, group);
    cpg.attach(c.conn, c);
    this.clients.push(c);
    return c;
  }

  /** True when the node's service host finished sync for its current ring. */
  synced(nodeId: number): boolean {
    const n = this.cluster.node(nodeId);
    return n.up && !this.stack(nodeId).host.syncing;
  }

  /** Converged totem ring and every live node synced. */
  settled(): boolean {
    const live = this.cluster.liveNodes();
    return live.length > 0 && this.cluster.converged() && live.every((n) => !this.stack(n.id).host.syncing);
  }

  /** Run until `pred` holds (checked every `stepMs`), or `maxMs` of virtual time passed. */
  runUntil(pred: () => boolean, maxMs: number, stepMs = 10): boolean {
    const end = this.cluster.now + maxMs;
    while (!pred()) {
      if (this.cluster.now >= end) return false;
      this.cluster.runUntil(Math.min(end, this.cluster.now + stepMs));
    }
    return true;
  }

  /** The process list a node holds for a group, as `node/pid` keys. */
  membersAt(nodeId: number, group: CpgGroupName): string[] {
    return this.stack(nodeId).cpg.membership(group).map((p) => who(p.nodeId, p.pid));
  }
}

/** A client's current view: the members of its last confchg. */
export function lastView(c: SimCpgClient): string[] | undefined {
  for (let i = c.log.length - 1; i >= 0; i--) {
    const e = c.log[i]!;
    if (e.kind === "confchg") return e.members;
  }
  return undefined;
}

function checkOwnLog(c: SimCpgClient, sent: Map<string, string>, out: string[]): void {
  let view: Set<string> | undefined;
  const seen = new Set<string>();
  for (const e of c.log) {
    if (e.kind === "totem" || e.kind === "miss") continue;
    if (e.kind === "msg") {
      if (!e.ok) out.push(`client ${c.key}: corrupted message ${e.key}`);
      if (seen.has(e.key)) out.push(`client ${c.key}: duplicate delivery of ${e.key}`);
      seen.add(e.key);
      const from = sent.get(e.key);
      if (from === undefined) out.push(`client ${c.key}: delivered ${e.key}, never sent`);
      else if (from !== e.sender) out.push(`client ${c.key}: ${e.key} attributed to ${e.sender}, sent by ${from}`);
      if (view === undefined || !view.has(e.sender)) out.push(`client ${c.key}: delivered ${e.key} from ${e.sender}, not in its view [${[...(view ?? [])].join(" ")}]`);
      continue;
    }
    if (view === undefined) {
      if (e.left.some((l) => l.who === c.key)) continue;
      if (!e.joined.some((j) => j.who === c.key && j.reason === 1)) out.push(`client ${c.key}: first confchg is not its own JOIN: ${e.token}`);
    } else {
      const expect = new Set(view);
      for (const l of e.left) expect.delete(l.who);
      for (const j of e.joined) expect.add(j.who);
      const got = new Set(e.members);
      if (expect.size !== got.size || [...got].some((m) => !expect.has(m))) {
        out.push(`client ${c.key}: view [${[...view].join(" ")}] with ${e.token} gives [${e.members.join(" ")}]`);
      }
    }
    // After its own departure a client has no view until it joins again.
    view = e.left.some((l) => l.who === c.key) ? undefined : new Set(e.members);
  }
}

/** Tokens of a client log (messages and confchgs), with their positions. */
function tokens(c: SimCpgClient): string[] {
  const out: string[] = [];
  for (const e of c.log) {
    if (e.kind === "msg") out.push(`M|${e.key}`);
    // Its own departure: a gap in the client's log (nothing until it joins again).
    else if (e.kind === "confchg" && e.left.some((l) => l.who === c.key)) out.push(`G|${out.length}`);
    else if (e.kind === "confchg") out.push(e.token);
    else if (e.kind === "miss") out.push(`X|${e.sender}`);
  }
  return out;
}

/** Messages (and missed PARTIAL senders) between each pair of consecutive confchgs. */
function segments(ts: readonly string[]): Map<string, { msgs: string[]; missed: Set<string> }> {
  const m = new Map<string, { msgs: string[]; missed: Set<string> }>();
  let prev: string | undefined;
  let cur = { msgs: [] as string[], missed: new Set<string>() };
  for (const t of ts) {
    if (t.startsWith("M|")) cur.msgs.push(t);
    else if (t.startsWith("X|")) cur.missed.add(t.slice(2));
    else {
      if (prev !== undefined && !t.startsWith("G|")) m.set(`${prev}\n${t}`, cur);
      prev = t.startsWith("G|") ? undefined : t;
      cur = { msgs: [], missed: new Set() };
    }
  }
  return m;
}

/**
 * Messages of `msgs` that the other client lacks without excuse. The excuse: a multi-piece
 * message from a sender whose pieces the other client saw without the FIRST one (it joined
 * while the message was being sent; libcpg, and so corosync, cannot deliver such a message).
 */
function unexcused(msgs: readonly string[], other: readonly string[], partial: ReadonlySet<string>, otherMissed: ReadonlySet<string>): string[] {
  const have = new Set(other);
  return msgs.filter((t) => !have.has(t) && !(partial.has(t.slice(2)) && otherMissed.has(t.slice(2, t.indexOf("#")))));
}

/** The ring of a confchg token (`C|<ring>|...`). */
const ringOfToken = (token: string): string | undefined => token.split("|")[1];

/** The ring of the client's last confchg or totem confchg. */
function lastRing(c: SimCpgClient): string | undefined {
  for (let i = c.log.length - 1; i >= 0; i--) {
    const e = c.log[i]!;
    if (e.kind === "totem") return e.ring;
    if (e.kind === "confchg") return ringOfToken(e.token);
  }
  return undefined;
}

/**
 * Messages a client may have delivered alone: its node crashed (not a client kill) in the
 * ring where the segment ends, and the message came from its own node. Extended virtual
 * synchrony lets a processor that fails deliver, in its last regular configuration, its own
 * messages that no one else received (agreed order needs only the lower ones); the survivors
 * deliver what follows in their transitional configuration without them. Found by the long
 * CPG swarm (seeds 1236 and 1489: the checker, not the protocol, was wrong).
 */
function crashExcuse(c: SimCpgClient, pair: string): (token: string) => boolean {
  const crashed = !c.node.up || c.node.incarnation !== c.incarnation;
  const end = pair.split("\n")[1] ?? "";
  if (!crashed || ringOfToken(end) !== lastRing(c)) return () => false;
  return (t) => t.startsWith(`M|${c.node.id}/`);
}

function checkPairOrder(a: SimCpgClient, b: SimCpgClient, partial: ReadonlySet<string>, out: string[]): void {
  // A confchg can repeat word for word (a process leaving and joining again while nothing
  // else changed): such tokens are ambiguous and left out of the comparison.
  const repeated = new Set<string>();
  for (const ts of [tokens(a), tokens(b)]) {
    const seen = new Set<string>();
    for (const t of ts) {
      if (seen.has(t)) repeated.add(t);
      seen.add(t);
    }
  }
  const ta = tokens(a).filter((t) => !repeated.has(t));
  const tb = tokens(b).filter((t) => !repeated.has(t));
  const posB = new Map(tb.map((t, i) => [t, i]));
  let last = -1;
  let lastTok = "";
  for (const t of ta) {
    if (t.startsWith("X|") || t.startsWith("G|")) continue;
    const p = posB.get(t);
    if (p === undefined) continue;
    if (p < last) {
      out.push(`order: clients ${a.key} and ${b.key} disagree: ${lastTok} / ${t}`);
      return;
    }
    last = p;
    lastTok = t;
  }
  // Virtual synchrony: same consecutive confchg pair → same messages between.
  const sa = segments(ta);
  const sb = segments(tb);
  for (const [pair, x] of sa) {
    const y = sb.get(pair);
    if (y === undefined) continue;
    const onlyX = unexcused(x.msgs, y.msgs, partial, y.missed).filter((t) => !crashExcuse(a, pair)(t));
    const onlyY = unexcused(y.msgs, x.msgs, partial, x.missed).filter((t) => !crashExcuse(b, pair)(t));
    if (onlyX.length > 0 || onlyY.length > 0) {
      out.push(`virtual synchrony: ${a.key} and ${b.key} delivered different messages between ${pair.replace("\n", " and ")}: only ${a.key}: [${onlyX.join(" ")}], only ${b.key}: [${onlyY.join(" ")}]`);
    }
  }
}

/** Safety checks over every client log (see the file comment). */
export function checkCpg(sim: CpgSim): string[] {
  const out = [...sim.violations];
  for (const c of sim.clients) checkOwnLog(c, sim.sent, out);
  const byGroup = new Map<CpgGroupName, SimCpgClient[]>();
  for (const c of sim.clients) byGroup.set(c.group, [...(byGroup.get(c.group) ?? []), c]);
  for (const list of byGroup.values()) {
    for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) checkPairOrder(list[i]!, list[j]!, sim.partialKeys, out);
  }
  return out;
}

/**
 * Liveness after a heal: every live joined client of a group has the same last view, equal
 * to the live joined clients of the group, and delivered each of `finalKeys`.
 */
export function checkCpgConverged(sim: CpgSim, finalKeys: ReadonlyMap<CpgGroupName, string[]>): string[] {
  const out: string[] = [];
  const groups = new Set(sim.clients.map((c) => c.group));
  for (const g of groups) {
    const live = sim.clients.filter((c) => c.group === g && c.live && c.inGroup);
    const want = live.map((c) => c.key).sort().join(" ");
    for (const c of live) {
      const v = (lastView(c) ?? []).slice().sort().join(" ");
      if (v !== want) out.push(`liveness: client ${c.key} of ${g} sees [${v}], live members are [${want}]`);
      const got = new Set(c.log.filter((e) => e.kind === "msg").map((e) => (e as { key: string }).key));
      for (const k of finalKeys.get(g) ?? []) if (!got.has(k)) out.push(`liveness: client ${c.key} did not deliver ${k}`);
    }
  }
  return out;
}
