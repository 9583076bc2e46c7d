/**
 * Checkers that sit outside the nodes (style.md "seeded swarm"): they see only what each
 * node delivered upward and what each workload sent, and verify Totem's promises:
 * integrity (no creation, duplication or corruption), per-sender FIFO, one total order,
 * extended virtual synchrony (transitional before regular; the same messages delivered by
 * processes that make the same transition), agreement on ring members, self-delivery and
 * liveness after a heal.
 */
import type { ConfigurationChange } from "../src/core/totem/types.js";
import { formatRingId } from "../src/wire/totem/types.js";
import type { NodeListener, SimNode } from "./cluster.js";
import { parseMessage } from "./workload.js";

type LogEvent =
  | { kind: "msg"; key: string; sender: number; inc: number; seq: number }
  | { kind: "conf"; type: "transitional" | "regular"; ring: string; members: number[] };

interface Segment {
  type: "none" | "transitional" | "regular";
  ring: string;
  members: number[];
  msgs: string[];
  /** True if another configuration followed this one in the same node log. */
  closed: boolean;
}

export class Recorder implements NodeListener {
  readonly logs = new Map<string, LogEvent[]>();
  /** Messages handed to totempg: key → sender node key. */
  readonly sent = new Map<string, string>();
  readonly violations: string[] = [];
  delivered = 0;

  private log(node: SimNode): LogEvent[] {
    let l = this.logs.get(node.key);
    if (l === undefined) {
      l = [];
      this.logs.set(node.key, l);
    }
    return l;
  }

  recordSent(sender: SimNode, seq: number): void {
    this.sent.set(`${sender.id}#${sender.incarnation}#${seq}`, sender.key);
  }

  deliver(node: SimNode, sender: number, group: string, body: Uint8Array): void {
    if (group !== "a") return;
    const m = parseMessage(body);
    if (m === undefined || !m.ok) {
      this.violations.push(`corruption: node ${node.key} delivered a damaged message from ${sender}`);
      return;
    }
    const key = `${m.sender}#${m.incarnation}#${m.seq}`;
    if (m.sender !== sender) this.violations.push(`misattribution: node ${node.key} got ${key} attributed to ${sender}`);
    if (!this.sent.has(key)) this.violations.push(`creation: node ${node.key} delivered ${key}, never sent`);
    this.delivered++;
    this.log(node).push({ kind: "msg", key, sender: m.sender, inc: m.incarnation, seq: m.seq });
  }

  confchg(node: SimNode, change: ConfigurationChange): void {
    this.log(node).push({ kind: "conf", type: change.type, ring: formatRingId(change.ringId), members: [...change.members] });
  }

  /** Every delivered key, per node log, for liveness checks. */
  deliveredSet(nodeKey: string): Set<string> {
    const s = new Set<string>();
    for (const e of this.logs.get(nodeKey) ?? []) if (e.kind === "msg") s.add(e.key);
    return s;
  }
}

function segmentsOf(log: readonly LogEvent[]): Segment[] {
  const segs: Segment[] = [{ type: "none", ring: "", members: [], msgs: [], closed: false }];
  for (const e of log) {
    if (e.kind === "msg") segs[segs.length - 1]!.msgs.push(e.key);
    else {
      segs[segs.length - 1]!.closed = true;
      segs.push({ type: e.type, ring: e.ring, members: e.members, msgs: [], closed: false });
    }
  }
  return segs;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function describeDiff(a: readonly string[], b: readonly string[]): string {
  const at = a.findIndex((k, i) => k !== b[i]);
  const i = at < 0 ? Math.min(a.length, b.length) : at;
  return `first difference at ${i}: ${a[i] ?? "end"} vs ${b[i] ?? "end"}`;
}

function isPrefix(a: readonly string[], b: readonly string[]): boolean {
  const [s, l] = a.length <= b.length ? [a, b] : [b, a];
  return s.every((x, i) => x === l[i]);
}

/** Duplicates and per-sender FIFO within each node log. */
function checkIntegrity(rec: Recorder, out: string[]): void {
  for (const [node, log] of rec.logs) {
    const seen = new Set<string>();
    const lastSeq = new Map<string, number>();
    for (const e of log) {
      if (e.kind !== "msg") continue;
      if (seen.has(e.key)) out.push(`duplication: node ${node} delivered ${e.key} twice`);
      seen.add(e.key);
      const s = `${e.sender}#${e.inc}`;
      const prev = lastSeq.get(s);
      if (prev !== undefined && e.seq <= prev) out.push(`fifo: node ${node} delivered ${e.key} after seq ${prev}`);
      lastSeq.set(s, e.seq);
    }
  }
}

/** One total order: any two messages delivered by two nodes are delivered in the same order. */
function checkTotalOrder(rec: Recorder, out: string[]): void {
  const orders = [...rec.logs].map(([node, log]) => {
    const idx = new Map<string, number>();
    const seq: string[] = [];
    for (const e of log) if (e.kind === "msg") {
      idx.set(e.key, seq.length);
      seq.push(e.key);
    }
    return { node, idx, seq };
  });
  for (let i = 0; i < orders.length; i++) {
    for (let j = i + 1; j < orders.length; j++) {
      const a = orders[i]!;
      const b = orders[j]!;
      let last = -1;
      let lastKey = "";
      for (const k of a.seq) {
        const p = b.idx.get(k);
        if (p === undefined) continue;
        if (p < last) {
          out.push(`order: ${a.node} delivered ${lastKey} before ${k}, ${b.node} the other way round`);
          break;
        }
        last = p;
        lastKey = k;
      }
    }
  }
}

/** EVS configuration rules, ring agreement, and same-set delivery (totem-spec §4.8). */
function checkConfigurations(rec: Recorder, out: string[]): void {
  const regMembers = new Map<string, string>();
  const regByRing = new Map<string, Array<{ node: string; seg: Segment; next?: Segment }>>();
  for (const [node, log] of rec.logs) {
    const segs = segmentsOf(log);
    if (segs[0]!.msgs.length > 0) out.push(`evs: node ${node} delivered before any configuration`);
    for (let i = 1; i < segs.length; i++) {
      const s = segs[i]!;
      const prev = segs[i - 1]!;
      if (s.type === "regular" && (prev.type !== "transitional" || prev.ring !== s.ring)) {
        out.push(`evs: node ${node} installed regular ${s.ring} without its transitional configuration`);
      }
      if (s.type === "transitional" && prev.type === "transitional") out.push(`evs: node ${node} two transitional configurations in a row`);
      if (s.type === "regular") {
        const m = s.members.join(",");
        const known = regMembers.get(s.ring);
        if (known !== undefined && known !== m) out.push(`agreement: ring ${s.ring} has members [${known}] and [${m}]`);
        regMembers.set(s.ring, m);
        if (!s.members.includes(Number(node.split("#")[0]))) out.push(`evs: node ${node} installed ${s.ring} without itself`);
        const list = regByRing.get(s.ring) ?? [];
        list.push({ node, seg: s, next: segs[i + 1] });
        regByRing.set(s.ring, list);
      }
    }
  }
  for (const [ring, list] of regByRing) checkSameRing(ring, list, out);
}

function checkSameRing(ring: string, list: Array<{ node: string; seg: Segment; next?: Segment }>, out: string[]): void {
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const a = list[i]!;
      const b = list[j]!;
      if (!isPrefix(a.seg.msgs, b.seg.msgs)) {
        const at = a.seg.msgs.findIndex((k, x) => k !== b.seg.msgs[x]);
        out.push(
          `evs: ${a.node} and ${b.node} delivered diverging sequences in ring ${ring} at position ${at}: ${a.seg.msgs[at]} vs ${b.seg.msgs[at]}`,
        );
        continue;
      }
      const an = a.next;
      const bn = b.next;
      if (an === undefined || bn === undefined || !a.seg.closed || !b.seg.closed) continue;
      const together = an.ring === bn.ring && an.members.join(",") === bn.members.join(",");
      if (!together) continue;
      if (!sameList(a.seg.msgs, b.seg.msgs)) {
        out.push(
          `evs: ${a.node} and ${b.node} moved together from ${ring} to ${an.ring} but delivered different messages in ${ring} (${a.seg.msgs.length} vs ${b.seg.msgs.length}: ${describeDiff(a.seg.msgs, b.seg.msgs)})`,
        );
      }
      if (an.closed && bn.closed && !sameList(an.msgs, bn.msgs)) {
        out.push(
          `evs: ${a.node} and ${b.node} delivered different messages in transitional ${an.ring} (${describeDiff(an.msgs, bn.msgs)})`,
        );
      }
    }
  }
}

/** Every safety checker over a finished run. */
export function checkSafety(rec: Recorder): string[] {
  const out = [...rec.violations];
  checkIntegrity(rec, out);
  checkTotalOrder(rec, out);
  checkConfigurations(rec, out);
  return out;
}
