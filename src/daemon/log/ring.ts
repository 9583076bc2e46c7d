/**
 * A bounded ring of the most recent items: the blackbox keeps the last N log records so that
 * a broken invariant can dump what led to it (corosync's libqb blackbox, kept in memory).
 * Pushing past the capacity overwrites the oldest item and counts it in `overwritten`.
 */
export class BoundedRing<T> {
  private readonly items: Array<T | undefined>;
  private start = 0;
  private count = 0;
  /** Items pushed out since the ring was made or cleared. */
  overwritten = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count < this.capacity) {
      this.items[(this.start + this.count) % this.capacity] = item;
      this.count++;
      return;
    }
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
    this.overwritten++;
  }

  /** The items, oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.start + i) % this.capacity] as T);
    return out;
  }

  clear(): void {
    this.items.fill(undefined);
    this.start = 0;
    this.count = 0;
    this.overwritten = 0;
  }
}
