/**
 * The chaos run's oracle: the delivery histories of the CPG clients (`chaos-client` lines),
 * checked the virtual-synchrony way (failure-modes-and-testing.md §4.2):
 *
 * - integrity: every delivery's magic, node id, pid, size and SHA-1 match (CTS `msg_t`);
 * - no unknown sender: the sender is in the receiver's current view;
 * - no duplicate, per-sender FIFO, and no gap while the sender stayed in the receiver's view;
 * - total order: any two clients deliver the messages they have in common in one order;
 * - virtual synchrony: two clients that go from view V to the same next view delivered the
 *   same messages, in the same order, in V;
 * - self-delivery: a client alive at the end delivered every message it sent;
 * - final agreement: after the drain, the live clients share one last view and its deliveries.
 *
 * A view starts at each CPG confchg or totem confchg. The confchgs that a sync produces come
 * just before its totem confchg (cpg engine `syncActivate`), so the empty views they open are
 * folded into the view that the totem confchg starts; a view's key is its ring id, members and
 * the member lists of the confchgs folded into it.
 */

/** One view as one client saw it. */
export interface View {
  ring: string | undefined;
  members: string[];
  /** Deliveries as `node/pid:seq`. */
  msgs: string[];
  /** Opened by a totem confchg (else by a CPG confchg). */
  byTotem: boolean;
  /** Member lists of the CPG confchgs folded into this view (the sync's), `;`-separated. */
  via?: string;
}

/** A violation: what, where, and the detail needed to find it in the logs. */
export interface Violation {
  oracle: string;
  client: string;
  detail: string;
}

/** One client process (an incarnation: a restarted client is a new one). */
export class ClientHistory {
  id = "";
  nodeId = 0;
  pid = 0;
  readonly views: View[] = [];
  /** Last sequence number the daemon accepted from this client. */
  sent = 0;
  closed = false;
  /** Answered `stop` (no send in flight any more). */
  stopped = false;
  readonly violations: Violation[] = [];
  readonly errors: string[] = [];
  /** Last seq delivered per sender. */
  readonly lastSeq = new Map<string, number>();
  /** Senders that left this client's view since their last delivery. */
  private readonly absent = new Set<string>();
  private ring: string | undefined;
  deliveries = 0;

  constructor(readonly label: string) {}

  /** Feed one line of the client's output. */
  feed(line: string): void {
    const [tag, a, b, c] = line.split(" ");
    if (tag === "R") {
      this.nodeId = Number(a);
      this.pid = Number(b);
      this.id = `${a}/${b}`;
    } else if (tag === "C") this.confchg(a === undefined || a === "" ? [] : a.split(","));
    else if (tag === "T") this.totem(a!);
    else if (tag === "M") this.message(a!, Number(b), c!);
    else if (tag === "S") this.sent = Number(a);
    else if (tag === "X") this.closed = true;
    else if (tag === "P") this.stopped = true;
    else if (tag === "E") this.errors.push(line);
  }

  private get current(): View | undefined {
    return this.views[this.views.length - 1];
  }

  private confchg(members: string[]): void {
    const sorted = [...members].sort();
    this.views.push({ ring: this.ring, members: sorted, msgs: [], byTotem: false });
    for (const s of this.lastSeq.keys()) if (!sorted.includes(s)) this.absent.add(s);
  }

  private totem(ring: string): void {
    if (this.ring === undefined) {
      // The initial totem confchg after our join names the ring we joined in: no new view.
      for (const v of this.views) v.ring ??= ring;
      this.ring = ring;
      return;
    }
    this.ring = ring;
    const cur = this.current;
    if (cur === undefined) return;
    // Fold the empty views the sync's confchgs opened into the view this ring starts.
    // The folded confchgs stay in the key: clients whose syncs reported different changes
    // (say, different down lists) did not move together.
    const members = cur.members;
    const folded: string[] = [];
    while (this.views.length > 0 && this.current!.msgs.length === 0 && !this.current!.byTotem) folded.unshift(this.views.pop()!.members.join(","));
    this.views.push({ ring, members, msgs: [], byTotem: true, via: folded.join(";") });
  }

  private violation(oracle: string, detail: string): void {
    this.violations.push({ oracle, client: `${this.label} ${this.id}`, detail });
  }

  private message(sender: string, seq: number, status: string): void {
    this.deliveries++;
    const view = this.current;
    if (status !== "ok") this.violation("integrity", `${sender}:${seq} ${status}`);
    if (view === undefined || !view.members.includes(sender)) this.violation("unknown sender", `${sender}:${seq} not in view [${view?.members.join(",") ?? ""}] ring ${view?.ring}`);
    const last = this.lastSeq.get(sender);
    if (last !== undefined && seq <= last) this.violation("fifo/duplicate", `${sender}:${seq} after ${last}`);
    else if (last !== undefined && !this.absent.has(sender) && seq !== last + 1) this.violation("gap", `${sender}:${seq} after ${last} while the sender stayed in view`);
    this.absent.delete(sender);
    this.lastSeq.set(sender, seq);
    view?.msgs.push(`${sender}:${seq}`);
  }

  /** All deliveries in order. */
  all(): string[] {
    return this.views.flatMap((v) => v.msgs);
  }

  /** Own messages this client delivered (as seqs). */
  selfDelivered(): Set<number> {
    const own = new Set<number>();
    for (const m of this.all()) if (m.startsWith(`${this.id}:`)) own.add(Number(m.slice(this.id.length + 1)));
    return own;
  }
}

const viewKey = (v: View): string => `${v.ring}|${v.members.join(",")}${v.via ? ` via ${v.via}` : ""}`;

/** Total order: the common messages of every pair appear in one order. */
export function checkTotalOrder(clients: ClientHistory[]): Violation[] {
  const out: Violation[] = [];
  const orders = clients.map((c) => ({ c, seq: c.all() }));
  for (let i = 0; i < orders.length; i++) {
    const pos = new Map(orders[i]!.seq.map((m, k) => [m, k]));
    for (let j = i + 1; j < orders.length; j++) {
      let prev = -1;
      let prevMsg = "";
      for (const m of orders[j]!.seq) {
        const p = pos.get(m);
        if (p === undefined) continue;
        if (p < prev) {
          out.push({ oracle: "total order", client: `${orders[i]!.c.label} vs ${orders[j]!.c.label}`, detail: `${prevMsg} before ${m} at ${orders[j]!.c.label}, after it at ${orders[i]!.c.label}` });
          break;
        }
        prev = p;
        prevMsg = m;
      }
    }
  }
  return out;
}

/** Virtual synchrony: same view and same next view → same deliveries in the view. */
export function checkVirtualSynchrony(clients: ClientHistory[]): Violation[] {
  const groups = new Map<string, Array<{ c: ClientHistory; msgs: string[] }>>();
  for (const c of clients) {
    for (let k = 0; k + 1 < c.views.length; k++) {
      const v = c.views[k]!;
      if (v.ring === undefined) continue;
      const key = `${viewKey(v)} -> ${viewKey(c.views[k + 1]!)}`;
      const list = groups.get(key) ?? [];
      list.push({ c, msgs: v.msgs });
      groups.set(key, list);
    }
  }
  const out: Violation[] = [];
  for (const [key, list] of groups) {
    const first = list[0]!;
    for (const other of list.slice(1)) {
      if (other.msgs.join(" ") !== first.msgs.join(" ")) {
        const inA = new Set(first.msgs);
        const inB = new Set(other.msgs);
        const onlyA = first.msgs.filter((m) => !inB.has(m)).slice(0, 5);
        const onlyB = other.msgs.filter((m) => !inA.has(m)).slice(0, 5);
        out.push({ oracle: "virtual synchrony", client: `${first.c.label} vs ${other.c.label}`, detail: `view ${key}: ${first.msgs.length} vs ${other.msgs.length} deliveries; only first: ${onlyA.join(" ")}; only second: ${onlyB.join(" ")}` });
      }
    }
  }
  return out;
}

/** Self-delivery of every accepted message, for clients that are still alive. */
export function checkSelfDelivery(live: ClientHistory[]): Violation[] {
  const out: Violation[] = [];
  for (const c of live) {
    const own = c.selfDelivered();
    const missing: number[] = [];
    for (let s = 1; s <= c.sent; s++) if (!own.has(s)) missing.push(s);
    if (missing.length > 0) out.push({ oracle: "self-delivery", client: `${c.label} ${c.id}`, detail: `${missing.length} of ${c.sent} own messages never delivered: ${missing.slice(0, 10).join(",")}` });
  }
  return out;
}

/**
 * Two clients' last views are the same configuration: same ring and members. The confchgs
 * its sync folded in are not compared here: clients that came from different sides of a
 * merge, or joined during the sync, saw different changes on the way into the same view
 * (the virtual-synchrony oracle keys views by them; this one asks only that everyone ends
 * in one configuration with the same deliveries).
 */
function sameLastView(va: View, vb: View): boolean {
  return va.ring === vb.ring && va.members.join(",") === vb.members.join(",");
}

/** After the drain: one last view at every live client, with the same deliveries. */
export function checkFinalAgreement(live: ClientHistory[]): Violation[] {
  if (live.length === 0) return [];
  const out: Violation[] = [];
  const ref = live[0]!;
  const refView = ref.views[ref.views.length - 1];
  for (const c of live.slice(1)) {
    const v = c.views[c.views.length - 1];
    if (refView === undefined || v === undefined || !sameLastView(refView, v)) {
      out.push({ oracle: "final agreement", client: `${ref.label} vs ${c.label}`, detail: `last views differ: ${refView && viewKey(refView)} / ${v && viewKey(v)}` });
    } else if (v.msgs.join(" ") !== refView.msgs.join(" ")) {
      out.push({ oracle: "final agreement", client: `${ref.label} vs ${c.label}`, detail: `last view ${viewKey(v)}: ${refView.msgs.length} vs ${v.msgs.length} deliveries` });
    }
  }
  return out;
}

/** Every oracle over a finished run: `all` clients ever started, `live` ones at the end. */
export function checkHistories(all: ClientHistory[], live: ClientHistory[]): Violation[] {
  return [...all.flatMap((c) => c.violations), ...checkTotalOrder(all), ...checkVirtualSynchrony(all), ...checkSelfDelivery(live), ...checkFinalAgreement(live)];
}
