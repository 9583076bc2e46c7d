/**
 * The SRP core's timers as named deadlines (style.md: no clocks inside the core). The driver
 * (daemon or simulator) asks for `next()` and calls `tick(now)` when it is due; the core then
 * fires every expired timer, earliest first, ties broken by the fixed order below so that runs
 * are reproducible.
 */
export const TIMER_NAMES = [
  "tokenRetransmit",
  "tokenHoldRetransmit",
  "token",
  "tokenWarning",
  "join",
  "consensus",
  "mergeDetect",
  "heartbeat",
] as const;
export type TimerName = (typeof TIMER_NAMES)[number];

export class TimerSet {
  private readonly due = new Map<TimerName, number>();

  /** (Re)start `name` to expire `afterMs` after `now` (corosync's del + add). */
  start(name: TimerName, now: number, afterMs: number): void {
    this.due.set(name, now + Math.max(1, afterMs));
  }

  cancel(name: TimerName): void {
    this.due.delete(name);
  }

  isPending(name: TimerName): boolean {
    return this.due.has(name);
  }

  deadline(name: TimerName): number | undefined {
    return this.due.get(name);
  }

  /** Earliest deadline, or undefined when nothing is armed. */
  next(): number | undefined {
    let min: number | undefined;
    for (const d of this.due.values()) if (min === undefined || d < min) min = d;
    return min;
  }

  /** Remove and return the earliest expired timer (deadline <= now), or undefined. */
  popExpired(now: number): TimerName | undefined {
    let best: TimerName | undefined;
    let bestDue = Infinity;
    for (const name of TIMER_NAMES) {
      const d = this.due.get(name);
      if (d !== undefined && d <= now && d < bestDue) {
        best = name;
        bestDue = d;
      }
    }
    if (best !== undefined) this.due.delete(best);
    return best;
  }

  clear(): void {
    this.due.clear();
  }
}
