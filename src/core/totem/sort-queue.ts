import { SORT_QUEUE_SIZE } from "./constants.js";

/**
 * corosync's sort queue (`include/corosync/sq.h`, totem-spec §4.1): a window of
 * `SORT_QUEUE_SIZE` slots keyed by message seq, starting at `headSeq`. Each slot holds an
 * item and a miss counter (how many token visits found the seq missing, §4.10).
 *
 * Differences from the C: a seq outside the window is never stored or looked up through the
 * modulo (the C's `sq_item_inuse` trusts its caller); every accessor checks `inRange` first, so
 * no seq read off the network can alias another slot.
 */
export class SortQueue<T> {
  private items: Array<T | undefined>;
  private missCounts: Int32Array;
  /** Slot index of `headSeq`. */
  private head = 0;
  /** Lowest seq the window holds (`head_seqid`). */
  headSeq = 0;

  constructor(
    readonly size = SORT_QUEUE_SIZE,
    headSeq = 0,
  ) {
    this.items = new Array<T | undefined>(size);
    this.missCounts = new Int32Array(size);
    this.headSeq = headSeq >>> 0;
  }

  /** `sq_reinit`: empty the window and start it at `headSeq`. */
  reinit(headSeq: number): void {
    this.items.fill(undefined);
    this.missCounts.fill(0);
    this.head = 0;
    this.headSeq = headSeq >>> 0;
  }

  /** `sq_in_range`: is `seq` inside [headSeq, headSeq + size) under corosync's wrap rule? */
  inRange(seq: number): boolean {
    const off = (seq - this.headSeq) >>> 0;
    return off < this.size;
  }

  private slot(seq: number): number {
    return (this.head + ((seq - this.headSeq) >>> 0)) % this.size;
  }

  /** `sq_item_add`: store at seq (caller checked range and absence). */
  add(seq: number, item: T): void {
    if (!this.inRange(seq)) return;
    const s = this.slot(seq);
    this.items[s] = item;
    this.missCounts[s] = 0;
  }

  /** `sq_item_inuse`. */
  has(seq: number): boolean {
    return this.inRange(seq) && this.items[this.slot(seq)] !== undefined;
  }

  /** `sq_item_get`: the item at seq, or undefined. */
  get(seq: number): T | undefined {
    if (!this.inRange(seq)) return undefined;
    return this.items[this.slot(seq)];
  }

  /** `sq_item_miss_count`: bump and return the miss counter of seq. */
  bumpMissCount(seq: number): number {
    if (!this.inRange(seq)) return 0;
    const s = this.slot(seq);
    return ++this.missCounts[s]!;
  }

  /**
   * `sq_items_release`: drop everything up to and including `seq`; the window then starts at
   * seq + 1. A seq at or beyond the end of the window empties it.
   */
  releaseTo(seq: number): void {
    const count = (((seq - this.headSeq) >>> 0) + 1) >>> 0;
    // count 0: seq is headSeq − 1 (nothing to do); above the size: a seq behind the window
    // (wrapped) or absurdly far ahead — callers bound their ranges, so ignore it.
    if (count === 0 || count > this.size) return;
    if (count === this.size) {
      this.items.fill(undefined);
      this.missCounts.fill(0);
      this.head = 0;
    } else {
      for (let i = 0; i < count; i++) {
        const s = (this.head + i) % this.size;
        this.items[s] = undefined;
        this.missCounts[s] = 0;
      }
      this.head = (this.head + count) % this.size;
    }
    this.headSeq = (seq + 1) >>> 0;
  }

  /** `sq_copy`: make this queue an exact copy of `other` (same size). */
  copyFrom(other: SortQueue<T>): void {
    this.items = other.items.slice();
    this.missCounts = other.missCounts.slice();
    this.head = other.head;
    this.headSeq = other.headSeq;
  }

  /** Number of items held (for invariants and bounded-queue checks; O(size)). */
  countItems(): number {
    let n = 0;
    for (const it of this.items) if (it !== undefined) n++;
    return n;
  }
}
