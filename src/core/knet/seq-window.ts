/**
 * The per-source-host duplicate filter of knet (knet-spec §4.4): a 4096-slot ring of flags
 * indexed by `seq % 4096`, and the newest sequence number seen. Two rings share the newest
 * value: `delivered` (a packet with this seq reached the application: a later copy is a
 * duplicate, which is how `link_mode: active` removes the extra copies) and `defrag` (a
 * reassembly for this seq was started: if its buffer is gone, the packet expired).
 *
 * Rules (the same observable behaviour as libknet 1.x `_seq_num_lookup`, own code):
 * - The first seq looked up becomes the newest (0 means "none yet": DATA never carries 0).
 * - A seq at most 4095 behind the newest is inside the window: new iff its flag is clear.
 * - A seq ahead by up to 4096 moves the window: the slots passed over are cleared.
 * - Anything further away (a restart, a long silence) resets the window to that seq.
 * - `wipe()` forgets everything: a peer pinging with seq 0 restarted (knet-spec §4.4).
 *
 * Pure: no node:* imports. Sequence numbers are u16; callers pass 0…65535.
 */

/** `KNET_CBUFFER_SIZE`. */
export const KNET_CBUFFER_SIZE = 4096;
const MASK = KNET_CBUFFER_SIZE - 1;

/** Which flag ring a lookup consults. */
export type SeqRing = "delivered" | "defrag";

export class SeqWindow {
  private readonly delivered = new Uint8Array(KNET_CBUFFER_SIZE);
  private readonly defrag = new Uint8Array(KNET_CBUFFER_SIZE);
  /** Newest seq the window has moved to; 0 = nothing seen since the last wipe. */
  newest = 0;

  /**
   * Move the window for `seq` (see the rules above) and say whether `seq` is new in `ring`.
   * Looking up never sets a flag; `mark` does, once the packet is handled.
   */
  lookup(seq: number, ring: SeqRing): boolean {
    const flags = ring === "delivered" ? this.delivered : this.defrag;
    if (this.newest === 0) this.newest = seq;
    const behind = (this.newest - seq) & 0xffff;
    if (behind < KNET_CBUFFER_SIZE) return flags[seq & MASK] === 0;
    const ahead = (seq - this.newest) & 0xffff;
    if (ahead < KNET_CBUFFER_SIZE) this.clearSlots(this.newest + 1, ahead);
    else this.clearAll();
    this.newest = seq;
    return true;
  }

  /** Record that `seq` was handled in `ring` (delivered, or reassembly started). */
  mark(seq: number, ring: SeqRing): void {
    (ring === "delivered" ? this.delivered : this.defrag)[seq & MASK] = 1;
  }

  /** Forget every flag; the next lookup sets the reference again. */
  wipe(): void {
    this.clearAll();
    this.newest = 0;
  }

  private clearAll(): void {
    this.delivered.fill(0);
    this.defrag.fill(0);
  }

  /** Clear `count` slots starting at sequence `from` (wrapping around the ring). */
  private clearSlots(from: number, count: number): void {
    const start = from & MASK;
    const end = start + count;
    if (end <= KNET_CBUFFER_SIZE) {
      this.delivered.fill(0, start, end);
      this.defrag.fill(0, start, end);
    } else {
      this.delivered.fill(0, start);
      this.defrag.fill(0, start);
      this.delivered.fill(0, 0, end - KNET_CBUFFER_SIZE);
      this.defrag.fill(0, 0, end - KNET_CBUFFER_SIZE);
    }
  }
}
