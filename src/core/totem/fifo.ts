/**
 * A bounded FIFO (corosync's `cs_queue`): the new-message queues and the recovery retransmit
 * queue of totemsrp. Array with a moving head, compacted when half empty, so push and shift
 * are O(1) amortised.
 */
export class Fifo<T> {
  private buf: T[] = [];
  private head = 0;

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.buf.length - this.head;
  }

  isEmpty(): boolean {
    return this.length === 0;
  }

  isFull(): boolean {
    return this.length >= this.capacity;
  }

  /** Free slots (`cs_queue_avail`). */
  avail(): number {
    return Math.max(0, this.capacity - this.length);
  }

  push(item: T): boolean {
    if (this.isFull()) return false;
    this.buf.push(item);
    return true;
  }

  /** Append even when full (re-queuing items that were admitted once). */
  pushUnbounded(item: T): void {
    this.buf.push(item);
  }

  peek(): T | undefined {
    return this.buf[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.buf.length) return undefined;
    const item = this.buf[this.head];
    this.buf[this.head] = undefined as T;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.buf.length) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.buf = [];
    this.head = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.buf.length; i++) yield this.buf[i]!;
  }
}
