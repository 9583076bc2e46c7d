/**
 * Redundant ring fault detection (corosync 1.x/2.x `totemrrp.c`, in spirit), as a pure
 * state machine: time arrives as a parameter (`now`, ms, monotonic), inputs are datagram
 * arrivals per ring per peer, outputs are effects (`RrpEffect`) for the caller to carry out
 * (log, mark the ring, send a probe). No sockets, timers or clocks here.
 *
 * The transport below Totem sees opaque bytes, so unlike corosync (which looked at token
 * sequence numbers) detection works on datagram arrivals from each peer:
 *
 * **Active mode** (every datagram is sent on every non-faulty ring): for each peer, the
 * k-th datagram first seen on one ring is expected on every other non-faulty ring the peer
 * is on within `tokenExpiredTimeoutMs` (`rrp_token_expired_timeout`, 47 ms). When it has
 * not arrived in time, that ring gets one *problem* and the outstanding expectations of that
 * ring for that peer are forgiven (one problem per peer and ring per expiry, as corosync
 * counted one per token expiry).
 *
 * **Passive mode** (each send goes on the next non-faulty ring, round robin): a healthy
 * peer's datagrams arrive on all its rings in turn, so per peer the arrival counts of its
 * rings stay within `passiveLagSlack` (2: tokens and multicasts alternate independently)
 * of each other. Each arrival that makes a ring lag further behind counts one problem on
 * the lagging ring (corosync 1.x compared per-ring receive counts against
 * `rrp_problem_count_threshold`; this is that comparison per peer, with a decay).
 *
 * **Problem counter** (both modes, as corosync's active mode): per ring; reaching
 * `problemCountThreshold` (10) marks the ring FAULTY. Every `problemCountTimeoutMs`
 * (2000 ms) each non-faulty ring's counter decreases by one; reaching 0 is "ring N active
 * with no faults". So a ring turns faulty after 10 problems faster than one per 2 s.
 *
 * **Faulty ring**: nothing is sent on it (the caller asks `sendRings`); arrivals on it are
 * not counted. Problems come from comparing rings, so the last working ring can never be
 * marked faulty (corosync 1.x could fault every ring and then sent on ring 0; here that
 * fallback remains only for a token whose target is on faulty rings alone).
 *
 * **Recovery**: every `autorecoveryCheckTimeoutMs` (1000 ms) after a ring turned faulty,
 * a probe round: the caller sends a probe on that ring to every peer (effect `probe`), and
 * peers answer on the same ring. The ring is recovered ("Automatically recovered ring N")
 * as soon as, within one round, every peer that is *alive* (heard on any ring in the last
 * two check intervals, and on that ring in the configuration) has answered, and at least
 * one has. A reply proves the ring works both ways between us and that peer. A probe
 * received on a ring that is faulty here starts a round at once (see `probeReceived`), so
 * the nodes of a healed ring recover it together. corosync
 * instead passed a test message around the ring along the token path; probes need no
 * knowledge of the ring order.
 *
 * **Reset** (`corosync-cfgtool -r`): every faulty ring is re-enabled at once and every
 * problem counter cleared.
 */

export type RrpMode = "active" | "passive";

/** The redundant-ring settings (corosync.conf `totem.rrp_*`), with their 1.x defaults. */
export interface RrpTimers {
  /** `rrp_token_expired_timeout`: how late a copy may arrive on another ring (active). */
  tokenExpiredTimeoutMs: number;
  /** `rrp_problem_count_threshold`: problems that make a ring faulty. */
  problemCountThreshold: number;
  /** `rrp_problem_count_timeout`: each counter decays by one per this period. */
  problemCountTimeoutMs: number;
  /** `rrp_autorecovery_check_timeout`: period of the recovery probe on a faulty ring. */
  autorecoveryCheckTimeoutMs: number;
  /** Passive mode: how many datagrams of one peer a ring may lag before problems count. */
  passiveLagSlack: number;
}

export const RRP_DEFAULTS: Readonly<RrpTimers> = {
  tokenExpiredTimeoutMs: 47,
  problemCountThreshold: 10,
  problemCountTimeoutMs: 2000,
  autorecoveryCheckTimeoutMs: 1000,
  passiveLagSlack: 2,
};

/** What the caller must do (log, update ring status, send), in order. */
export type RrpEffect =
  /** A ring's problem counter went up (corosync: "Incrementing problem counter ..."). */
  | { kind: "problem"; ring: number; peer: number; count: number }
  /** The decay lowered a counter (0: "ring N active with no faults"). */
  | { kind: "decrement"; ring: number; count: number }
  /** The ring is now faulty: stop sending on it ("Marking ringid N interface A FAULTY"). */
  | { kind: "faulty"; ring: number }
  /** Send probe `round` on `ring` to every peer. */
  | { kind: "probe"; ring: number; round: number }
  /** The ring is usable again, found by probes (`auto`) or by `reset()`. */
  | { kind: "recovered"; ring: number; cause: "auto" | "reset" };

/** Which rings a peer is on (from the nodelist); an unknown peer counts as on every ring. */
export interface RrpPeer {
  nodeId: number;
  rings: readonly number[];
}

interface PeerState {
  rings: ReadonlySet<number> | undefined;
  /** Datagrams counted per ring (active: index of the last one seen there). */
  n: number[];
  /** Active: index of the newest datagram seen on any ring. */
  high: number;
  /** Active: `times[i]` is when datagram `base + 1 + i` was first seen. */
  base: number;
  times: number[];
  lastHeard: number;
}

interface RingState {
  faulty: boolean;
  problems: number;
  nextCheck: number | undefined;
  round: number;
  probeSentAt: number | undefined;
  replied: Set<number>;
}

export class RrpFaultDetector {
  readonly mode: RrpMode;
  readonly ringCount: number;
  private readonly t: RrpTimers;
  private readonly self: number;
  private readonly peers = new Map<number, PeerState>();
  private readonly ringState: RingState[];
  private decrementAt: number | undefined;
  private readonly lastSent = { token: -1, mcast: -1 };

  constructor(mode: RrpMode, ringCount: number, localNodeId: number, timers: Partial<RrpTimers> = {}) {
    if (!Number.isInteger(ringCount) || ringCount < 1) throw new RangeError(`rrp: ring count ${ringCount} must be a positive integer`);
    this.mode = mode;
    this.ringCount = ringCount;
    this.self = localNodeId;
    this.t = { ...RRP_DEFAULTS, ...timers };
    if (this.t.problemCountThreshold < 1) throw new RangeError("rrp: problemCountThreshold must be at least 1");
    this.ringState = Array.from({ length: ringCount }, () => ({ faulty: false, problems: 0, nextCheck: undefined, round: 0, probeSentAt: undefined, replied: new Set<number>() }));
  }

  /** The settings in effect. */
  get timers(): Readonly<RrpTimers> {
    return this.t;
  }

  /** Replace the peer list (nodelist reload). Peers not listed are forgotten. */
  setPeers(peers: readonly RrpPeer[]): void {
    const keep = new Set<number>();
    for (const p of peers) {
      if (p.nodeId === this.self) continue;
      keep.add(p.nodeId);
      this.peer(p.nodeId).rings = new Set(p.rings.filter((r) => r >= 0 && r < this.ringCount));
    }
    for (const id of [...this.peers.keys()]) if (!keep.has(id)) this.peers.delete(id);
  }

  isFaulty(ring: number): boolean {
    return this.ringState[ring]?.faulty ?? false;
  }

  /** The problem counter of a ring. */
  problems(ring: number): number {
    return this.ringState[ring]?.problems ?? 0;
  }

  /** A (non-probe) datagram from `peer` arrived on `ring`. */
  received(now: number, ring: number, peer: number): RrpEffect[] {
    const out: RrpEffect[] = [];
    if (peer === this.self || !this.validRing(ring)) return out;
    const p = this.peer(peer);
    p.lastHeard = now;
    if (!this.expects(p, ring)) return out;
    p.n[ring]!++;
    if (this.mode === "active") {
      if (p.n[ring]! > p.high) {
        p.high = p.n[ring]!;
        p.times.push(now);
      }
      this.trim(p);
    } else {
      this.passiveCheck(now, p, peer, ring, out);
    }
    return out;
  }

  /**
   * A probe from `peer` arrived on `ring` (the caller answers it). The peer is alive; and
   * when the ring is faulty here too, a probe round starts at once (at most one per quarter
   * check period) instead of at the next check, so that nodes recover a healed ring at
   * about the same time — a node still treating the ring as faulty sends nothing on it, and
   * in passive mode that alone would make a recovered neighbour count problems again.
   */
  probeReceived(now: number, ring: number, peer: number): RrpEffect[] {
    const out: RrpEffect[] = [];
    if (peer === this.self || !this.validRing(ring)) return out;
    this.peer(peer).lastHeard = now;
    const rs = this.ringState[ring]!;
    if (rs.faulty && (rs.probeSentAt === undefined || now - rs.probeSentAt >= this.t.autorecoveryCheckTimeoutMs / 4)) this.probeRound(now, ring, out);
    return out;
  }

  /** A reply to our probe `round` on `ring` arrived from `peer`. */
  probeReply(now: number, ring: number, peer: number, round: number): RrpEffect[] {
    const out: RrpEffect[] = [];
    if (peer === this.self || !this.validRing(ring)) return out;
    this.peer(peer).lastHeard = now;
    const rs = this.ringState[ring]!;
    if (!rs.faulty || rs.probeSentAt === undefined || round !== rs.round) return out;
    rs.replied.add(peer);
    if (this.recoverable(ring, now)) this.recover(ring, "auto", out);
    return out;
  }

  /** Run what is due at `now`: expiries (active), the decay, recovery rounds. */
  tick(now: number): RrpEffect[] {
    const out: RrpEffect[] = [];
    if (this.mode === "active") this.expire(now, out);
    if (this.decrementAt !== undefined && now >= this.decrementAt) this.decrement(now, out);
    for (let r = 0; r < this.ringCount; r++) {
      const rs = this.ringState[r]!;
      if (!rs.faulty || rs.nextCheck === undefined || now < rs.nextCheck) continue;
      if (rs.probeSentAt !== undefined && this.recoverable(r, now)) {
        this.recover(r, "auto", out);
        continue;
      }
      this.probeRound(now, r, out);
    }
    return out;
  }

  /** Start a probe round on a faulty ring; the next check is one period later. */
  private probeRound(now: number, ring: number, out: RrpEffect[]): void {
    const rs = this.ringState[ring]!;
    rs.round++;
    rs.probeSentAt = now;
    rs.replied.clear();
    rs.nextCheck = now + this.t.autorecoveryCheckTimeoutMs;
    out.push({ kind: "probe", ring, round: rs.round });
  }

  /** When `tick` next has something to do; undefined when nothing is pending. */
  nextDeadline(): number | undefined {
    let next = this.decrementAt;
    const consider = (t: number) => {
      if (next === undefined || t < next) next = t;
    };
    for (const rs of this.ringState) if (rs.faulty && rs.nextCheck !== undefined) consider(rs.nextCheck);
    if (this.mode === "active") {
      for (const p of this.peers.values()) {
        for (let r = 0; r < this.ringCount; r++) {
          if (this.expects(p, r) && p.n[r]! < p.high) consider(p.times[p.n[r]! - p.base]! + this.t.tokenExpiredTimeoutMs);
        }
      }
    }
    return next;
  }

  /** Re-enable every faulty ring and clear every problem counter (`corosync-cfgtool -r`). */
  reset(): RrpEffect[] {
    const out: RrpEffect[] = [];
    for (let r = 0; r < this.ringCount; r++) {
      if (this.ringState[r]!.faulty) this.recover(r, "reset", out);
      this.ringState[r]!.problems = 0;
    }
    this.decrementAt = undefined;
    return out;
  }

  /**
   * The rings to send the next datagram on. Active: every non-faulty ring (the target is
   * on). Passive: the next such ring in turn, tokens and multicasts each with their own
   * turn (corosync's `token_xmit_iface` / `msg_xmit_iface`). No usable ring: ring 0, or the
   * target's first ring.
   * @param target the destination of a token; undefined for a multicast.
   */
  sendRings(kind: "token" | "mcast", target?: number): number[] {
    const p = target === undefined ? undefined : this.peers.get(target);
    const usable = (r: number) => !this.ringState[r]!.faulty && (p?.rings === undefined || p.rings.has(r));
    if (this.mode === "active") {
      const rings: number[] = [];
      for (let r = 0; r < this.ringCount; r++) if (usable(r)) rings.push(r);
      return rings.length > 0 ? rings : [this.fallbackRing(p)];
    }
    let r = this.lastSent[kind];
    for (let step = 0; step < this.ringCount; step++) {
      r = (r + 1) % this.ringCount;
      if (usable(r)) {
        this.lastSent[kind] = r;
        return [r];
      }
    }
    return [this.fallbackRing(p)];
  }

  private fallbackRing(p: PeerState | undefined): number {
    if (p?.rings === undefined) return 0;
    for (let r = 0; r < this.ringCount; r++) if (p.rings.has(r)) return r;
    return 0;
  }

  private validRing(ring: number): boolean {
    return Number.isInteger(ring) && ring >= 0 && ring < this.ringCount;
  }

  private peer(nodeId: number): PeerState {
    let p = this.peers.get(nodeId);
    if (p === undefined) {
      p = { rings: undefined, n: new Array<number>(this.ringCount).fill(0), high: 0, base: 0, times: [], lastHeard: -Infinity };
      this.peers.set(nodeId, p);
    }
    return p;
  }

  /** True when datagrams of `p` are expected (and counted) on `ring`. */
  private expects(p: PeerState, ring: number): boolean {
    return !this.ringState[ring]!.faulty && (p.rings === undefined || p.rings.has(ring));
  }

  /** The highest count among the peer's expected rings, `except` one. */
  private maxCount(p: PeerState, except = -1): number {
    let max = 0;
    for (let r = 0; r < this.ringCount; r++) if (r !== except && this.expects(p, r)) max = Math.max(max, p.n[r]!);
    return max;
  }

  private passiveCheck(now: number, p: PeerState, peer: number, ring: number, out: RrpEffect[]): void {
    const max = this.maxCount(p);
    let min = max;
    for (let r = 0; r < this.ringCount; r++) {
      if (!this.expects(p, r)) continue;
      if (r !== ring && max - p.n[r]! > this.t.passiveLagSlack) {
        p.n[r] = max - this.t.passiveLagSlack;
        this.problem(now, r, peer, out);
      }
      if (this.expects(p, r)) min = Math.min(min, p.n[r]!);
    }
    if (min > 0) for (let r = 0; r < this.ringCount; r++) if (this.expects(p, r)) p.n[r]! -= min;
  }

  /** Active: drop the arrival times every expected ring has seen. */
  private trim(p: PeerState): void {
    let min = p.high;
    for (let r = 0; r < this.ringCount; r++) if (this.expects(p, r)) min = Math.min(min, p.n[r]!);
    const drop = min - p.base;
    if (drop > 0) {
      p.times.splice(0, drop);
      p.base = min;
    }
  }

  /** Active: rings whose copy of a peer's datagram is overdue get a problem. */
  private expire(now: number, out: RrpEffect[]): void {
    for (const [id, p] of this.peers) {
      for (let r = 0; r < this.ringCount; r++) {
        if (!this.expects(p, r) || p.n[r]! >= p.high) continue;
        const firstSeen = p.times[p.n[r]! - p.base]!;
        if (now < firstSeen + this.t.tokenExpiredTimeoutMs) continue;
        p.n[r] = p.high;
        this.problem(now, r, id, out);
      }
      this.trim(p);
    }
  }

  private problem(now: number, ring: number, peer: number, out: RrpEffect[]): void {
    const rs = this.ringState[ring]!;
    if (rs.faulty) return;
    rs.problems++;
    out.push({ kind: "problem", ring, peer, count: rs.problems });
    if (this.decrementAt === undefined) this.decrementAt = now + this.t.problemCountTimeoutMs;
    if (rs.problems >= this.t.problemCountThreshold) this.markFaulty(now, ring, out);
  }

  private decrement(now: number, out: RrpEffect[]): void {
    let pending = false;
    for (let r = 0; r < this.ringCount; r++) {
      const rs = this.ringState[r]!;
      if (rs.faulty || rs.problems === 0) continue;
      rs.problems--;
      out.push({ kind: "decrement", ring: r, count: rs.problems });
      if (rs.problems > 0) pending = true;
    }
    this.decrementAt = pending ? now + this.t.problemCountTimeoutMs : undefined;
  }

  private markFaulty(now: number, ring: number, out: RrpEffect[]): void {
    const rs = this.ringState[ring]!;
    rs.faulty = true;
    rs.nextCheck = now + this.t.autorecoveryCheckTimeoutMs;
    rs.probeSentAt = undefined;
    rs.replied.clear();
    out.push({ kind: "faulty", ring });
    if (this.mode === "active") for (const p of this.peers.values()) this.trim(p);
  }

  /** Every alive peer on `ring` answered this round's probe, and at least one did. */
  private recoverable(ring: number, now: number): boolean {
    const rs = this.ringState[ring]!;
    if (rs.replied.size === 0) return false;
    const aliveSince = now - 2 * this.t.autorecoveryCheckTimeoutMs;
    for (const [id, p] of this.peers) {
      const onRing = p.rings === undefined || p.rings.has(ring);
      if (onRing && p.lastHeard >= aliveSince && !rs.replied.has(id)) return false;
    }
    return true;
  }

  private recover(ring: number, cause: "auto" | "reset", out: RrpEffect[]): void {
    const rs = this.ringState[ring]!;
    rs.faulty = false;
    rs.problems = 0;
    rs.nextCheck = undefined;
    rs.probeSentAt = undefined;
    rs.replied.clear();
    for (const p of this.peers.values()) {
      if (p.rings !== undefined && !p.rings.has(ring)) continue;
      p.n[ring] = this.mode === "active" ? p.high : this.maxCount(p, ring);
    }
    out.push({ kind: "recovered", ring, cause });
  }
}
