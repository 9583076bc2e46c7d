/**
 * "At most once per interval per source" for log lines that hostile or broken peers could
 * otherwise repeat without end (style.md: rate-limited logs). Time is a parameter.
 *
 * Keys may come from the network (a sender's address or node id), so the table is bounded:
 * past `maxKeys` the least recently allowed key is forgotten (it may then log once early).
 */
export const DEFAULT_RATE_LIMIT_KEYS = 1024;

interface Slot {
  lastAllowedMs: number;
  suppressed: number;
  suppressedBefore: number;
}

export class RateLimiter {
  private readonly slots = new Map<string, Slot>();

  constructor(readonly maxKeys = DEFAULT_RATE_LIMIT_KEYS) {}

  /**
   * True if an event for `key` at `nowMs` may be logged: the first one, and then one per
   * `intervalMs`. A refused event is counted; `suppressedBefore(key)` tells, after an
   * allowed event, how many were refused since the previous allowed one.
   */
  allow(key: string, intervalMs: number, nowMs: number): boolean {
    const slot = this.slots.get(key);
    if (slot !== undefined && nowMs - slot.lastAllowedMs < intervalMs) {
      slot.suppressed++;
      return false;
    }
    const suppressedBefore = slot?.suppressed ?? 0;
    this.slots.delete(key); // re-insert: Map order is then least recently allowed first
    this.slots.set(key, { lastAllowedMs: nowMs, suppressed: 0, suppressedBefore });
    if (this.slots.size > this.maxKeys) this.slots.delete(this.slots.keys().next().value as string);
    return true;
  }

  /** Events refused for `key` between its last two allowed ones. */
  suppressedBefore(key: string): number {
    return this.slots.get(key)?.suppressedBefore ?? 0;
  }

  /** Events refused for `key` since its last allowed one. */
  suppressedSince(key: string): number {
    return this.slots.get(key)?.suppressed ?? 0;
  }

  get size(): number {
    return this.slots.size;
  }
}
