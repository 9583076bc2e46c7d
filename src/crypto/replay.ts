/**
 * Replay protection for the secauth envelope: per sender, a sliding window over the
 * envelope counter of its current epoch, and the epochs it has left behind.
 *
 * Totem never resends a datagram byte for byte: a retransmission is a new seal with a new
 * counter. So any counter a sender has already used under an epoch can be refused, and so
 * can any epoch the sender has moved away from (restart or counter exhaustion). The window
 * admits reordering of up to `REPLAY_WINDOW_SIZE` datagrams, far more than a LAN reorders.
 *
 * Memory is bounded: at most `maxSenders` senders (least recently heard evicted first),
 * each with a 128-byte window and at most `RETIRED_EPOCHS_MAX` remembered old epochs.
 * Only authenticated datagrams create or change state (`accept`), so a forger without the
 * key can neither fill the table nor evict a member's entry. The limits of this protection
 * (an evicted or forgotten epoch, a receiver restart) are in docs/secauth.md "Replays".
 *
 * Pure: no node:* imports, no clock.
 */

/** Counters tracked below the highest one seen, per sender. */
export const REPLAY_WINDOW_SIZE = 1024;
/** Old epochs remembered per sender. */
export const RETIRED_EPOCHS_MAX = 16;
/** Senders tracked: PROCESSOR_COUNT_MAX (384) members plus room for departed nodes. */
export const DEFAULT_MAX_SENDERS = 512;

/** Where a counter stands against a window. */
export type WindowVerdict = "fresh" | "duplicate" | "too_old";

/** A sliding bitmap over the last `REPLAY_WINDOW_SIZE` counters (RFC 6479 style). */
export class ReplayWindow {
  private highest = -1;
  private readonly bits = new Uint32Array(REPLAY_WINDOW_SIZE / 32);

  /** The highest counter accepted, or −1 before the first. */
  get highestSeen(): number {
    return this.highest;
  }

  /** How `counter` (a u32) stands; changes nothing. */
  check(counter: number): WindowVerdict {
    if (counter > this.highest) return "fresh";
    if (this.highest - counter >= REPLAY_WINDOW_SIZE) return "too_old";
    return this.isSet(counter) ? "duplicate" : "fresh";
  }

  /** Records `counter` as seen. Precondition: `check(counter)` is "fresh". */
  accept(counter: number): void {
    if (counter > this.highest) {
      const advance = counter - this.highest;
      if (advance >= REPLAY_WINDOW_SIZE) this.bits.fill(0);
      else for (let c = this.highest + 1; c < counter; c++) this.clear(c);
      this.highest = counter;
    }
    this.set(counter);
  }

  private isSet(c: number): boolean {
    const slot = c % REPLAY_WINDOW_SIZE;
    return ((this.bits[slot >>> 5]! >>> (slot & 31)) & 1) === 1;
  }

  private set(c: number): void {
    const slot = c % REPLAY_WINDOW_SIZE;
    this.bits[slot >>> 5]! |= 1 << (slot & 31);
  }

  private clear(c: number): void {
    const slot = c % REPLAY_WINDOW_SIZE;
    this.bits[slot >>> 5]! &= ~(1 << (slot & 31));
  }
}

/**
 * How a datagram stands against the table, before it is authenticated:
 * - "unknown_sender": no state for this node id (first datagram, or evicted);
 * - "new_epoch": a known sender under an epoch never seen from it (it restarted or rotated);
 * - "fresh": the current epoch and a counter the window admits;
 * - "duplicate" / "too_old": the current epoch and a counter already seen / below the window;
 * - "retired_epoch": an epoch the sender has left.
 */
export type ReplayCheck = "unknown_sender" | "new_epoch" | "fresh" | "duplicate" | "too_old" | "retired_epoch";

interface SenderEntry<K> {
  key: K;
  epochHi: number;
  epochLo: number;
  window: ReplayWindow;
  /** Left epochs as flat (hi, lo) pairs, oldest first. */
  retired: number[];
}

/** Per-sender replay state, plus a value the caller keeps with it (the sender's key). */
export class SenderTable<K> {
  private readonly entries = new Map<number, SenderEntry<K>>();
  private mostRecent = -1;
  /** Senders dropped to stay within `maxSenders`. */
  evictions = 0;

  constructor(readonly maxSenders = DEFAULT_MAX_SENDERS) {
    if (!Number.isInteger(maxSenders) || maxSenders < 1) throw new RangeError(`maxSenders must be a positive integer, got ${maxSenders}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value stored with an authenticated sender. */
  keyOf(nodeId: number): K | undefined {
    return this.entries.get(nodeId)?.key;
  }

  /** Classifies a datagram's (node id, epoch, counter); changes nothing. */
  check(nodeId: number, epochHi: number, epochLo: number, counter: number): ReplayCheck {
    const e = this.entries.get(nodeId);
    if (e === undefined) return "unknown_sender";
    if (e.epochHi === epochHi && e.epochLo === epochLo) return e.window.check(counter);
    return isRetired(e.retired, epochHi, epochLo) ? "retired_epoch" : "new_epoch";
  }

  /**
   * Records an authenticated datagram. Precondition: `check` gave "unknown_sender",
   * "new_epoch" or "fresh" for the same arguments. A new epoch retires the current one.
   */
  accept(nodeId: number, epochHi: number, epochLo: number, counter: number, key: K): void {
    let e = this.entries.get(nodeId);
    if (e === undefined) {
      e = { key, epochHi, epochLo, window: new ReplayWindow(), retired: [] };
      this.entries.set(nodeId, e);
      this.evictBeyondLimit();
    } else if (e.epochHi !== epochHi || e.epochLo !== epochLo) {
      retire(e.retired, e.epochHi, e.epochLo);
      e.epochHi = epochHi;
      e.epochLo = epochLo;
      e.window = new ReplayWindow();
    }
    e.key = key;
    e.window.accept(counter);
    this.touch(nodeId, e);
  }

  /** Least recently heard last in Map order: re-insert unless already the most recent. */
  private touch(nodeId: number, e: SenderEntry<K>): void {
    if (this.mostRecent === nodeId) return;
    this.entries.delete(nodeId);
    this.entries.set(nodeId, e);
    this.mostRecent = nodeId;
  }

  private evictBeyondLimit(): void {
    while (this.entries.size > this.maxSenders) {
      const oldest = this.entries.keys().next().value as number;
      this.entries.delete(oldest);
      this.evictions++;
    }
  }
}

function isRetired(retired: number[], hi: number, lo: number): boolean {
  for (let i = 0; i < retired.length; i += 2) if (retired[i] === hi && retired[i + 1] === lo) return true;
  return false;
}

function retire(retired: number[], hi: number, lo: number): void {
  retired.push(hi, lo);
  if (retired.length > 2 * RETIRED_EPOCHS_MAX) retired.splice(0, 2);
}
