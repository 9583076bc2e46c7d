/**
 * knet fragmentation (sender) and reassembly (receiver), knet-spec §3.2 and §4.4.
 *
 * Sending: a packet of `len` bytes goes out in `ceil(len / dataMtu)` fragments of `dataMtu`
 * bytes each, the last one shorter (or equal); fragments are numbered 1…n, and a packet that
 * fits travels unfragmented (`fragNum` 1, `fragSeq` 0). At most 255 fragments.
 *
 * Receiving: per source host, up to 32 packets under reassembly, each keyed by its seq.
 * Every non-last fragment of a packet must have the same length (it is the sender's data MTU,
 * which places fragment k at `(k − 1) × size`); the last may arrive first and is placed once
 * that size is known. A packet completes when all `fragNum` distinct fragments arrived.
 * Reassemblies more than 32 sequence numbers behind the newest are discarded, and when all
 * 32 are busy the least recently touched one is reused. Unlike libknet 1.25 every fragment
 * is checked (number, size, total ≤ 65536) and a bad one discards its reassembly.
 *
 * The fragments are kept as views of the received frames until the packet completes (one
 * copy then, into the packet): callers hand over frames they will not reuse.
 *
 * Pure: no node:* imports.
 */
import { KNET_MAX_PACKET_SIZE } from "../../wire/knet/frame.js";
import type { SeqWindow } from "./seq-window.js";

/** `KNET_DEFRAG_BUFFERS`: packets under reassembly per source host. */
export const KNET_DEFRAG_BUFFERS = 32;
/** Most fragments one packet may have (the field is a byte). */
export const KNET_MAX_FRAGMENTS = 255;

/** How many fragments a packet of `len` bytes needs at `dataMtu` (0 when it cannot be sent). */
export function fragmentCount(len: number, dataMtu: number): number {
  if (len <= 0 || dataMtu <= 0) return 0;
  const n = Math.ceil(len / dataMtu);
  return n > KNET_MAX_FRAGMENTS ? 0 : n;
}

/** The byte range [start, end) of fragment `index` (0-based) of a `len`-byte packet. */
export function fragmentRange(len: number, dataMtu: number, index: number): [number, number] {
  const start = index * dataMtu;
  return [start, Math.min(len, start + dataMtu)];
}

/** What became of one fragment. */
export type AssemblyResult =
  | { kind: "complete"; packet: Uint8Array }
  | { kind: "pending" }
  /** Dropped; `reason` names the rule (a counter key). */
  | { kind: "dropped"; reason: "expired" | "frag_num_mismatch" | "frag_size_mismatch" | "too_big" };

interface Reassembly {
  seq: number;
  fragNum: number;
  /** Length of every non-last fragment; 0 until one arrived. */
  fragSize: number;
  lastSize: number;
  received: number;
  parts: Array<Uint8Array | undefined>;
  /** Monotonic touch counter (least recently touched is reused first). */
  touched: number;
}

const PENDING: AssemblyResult = { kind: "pending" };

/** Reassembly state of one source host. */
export class Reassembler {
  private readonly slots: Array<Reassembly | undefined> = new Array<Reassembly | undefined>(KNET_DEFRAG_BUFFERS);
  private clock = 0;

  constructor(private readonly window: SeqWindow) {}

  /** Reassemblies in progress (for tests and stats). */
  get inProgress(): number {
    let n = 0;
    for (const s of this.slots) if (s !== undefined) n++;
    return n;
  }

  /**
   * Add fragment `fragSeq` (1…`fragNum`, `fragNum` ≥ 2, checked by the decoder) of packet
   * `seq`. `payload` is kept by reference until the packet completes.
   */
  add(seq: number, fragNum: number, fragSeq: number, payload: Uint8Array): AssemblyResult {
    this.reclaimOld();
    let index = this.find(seq);
    if (index < 0) {
      if (!this.window.lookup(seq, "defrag")) return { kind: "dropped", reason: "expired" };
      this.window.mark(seq, "defrag");
      index = this.freeSlot();
      this.slots[index] = { seq, fragNum, fragSize: 0, lastSize: 0, received: 0, parts: new Array<Uint8Array | undefined>(fragNum + 1), touched: 0 };
    }
    const r = this.slots[index]!;
    r.touched = ++this.clock;
    if (r.fragNum !== fragNum) return this.discard(index, "frag_num_mismatch");
    if (r.parts[fragSeq] !== undefined) return PENDING;
    const bad = this.place(r, fragSeq, payload);
    if (bad !== undefined) return this.discard(index, bad);
    if (r.received < r.fragNum) return PENDING;
    this.slots[index] = undefined;
    return { kind: "complete", packet: join(r) };
  }

  /** Forget every reassembly (the peer restarted, or its last link went down). */
  clear(): void {
    this.slots.fill(undefined);
  }

  /** Record a fragment after the size rules; the reason when it breaks one. */
  private place(r: Reassembly, fragSeq: number, payload: Uint8Array): "frag_size_mismatch" | "too_big" | undefined {
    const len = payload.byteLength;
    if (fragSeq === r.fragNum) {
      if (r.fragSize !== 0 && len > r.fragSize) return "frag_size_mismatch";
      r.lastSize = len;
    } else {
      if (r.fragSize !== 0 && len !== r.fragSize) return "frag_size_mismatch";
      if (r.lastSize !== 0 && r.lastSize > len) return "frag_size_mismatch";
      r.fragSize = len;
      if ((r.fragNum - 1) * len + 1 > KNET_MAX_PACKET_SIZE) return "too_big";
    }
    if (r.fragSize !== 0 && r.lastSize !== 0 && (r.fragNum - 1) * r.fragSize + r.lastSize > KNET_MAX_PACKET_SIZE) return "too_big";
    r.parts[fragSeq] = payload;
    r.received++;
    return undefined;
  }

  private discard(index: number, reason: "frag_num_mismatch" | "frag_size_mismatch" | "too_big"): AssemblyResult {
    this.slots[index] = undefined;
    return { kind: "dropped", reason };
  }

  private find(seq: number): number {
    for (let i = 0; i < KNET_DEFRAG_BUFFERS; i++) if (this.slots[i]?.seq === seq) return i;
    return -1;
  }

  /** A free slot, or the least recently touched one (its reassembly is lost). */
  private freeSlot(): number {
    let oldest = 0;
    for (let i = 0; i < KNET_DEFRAG_BUFFERS; i++) {
      const s = this.slots[i];
      if (s === undefined) return i;
      if (s.touched < this.slots[oldest]!.touched) oldest = i;
    }
    return oldest;
  }

  /** Drop reassemblies outside [newest − 32, newest] (knet frees the ones 33+ behind). */
  private reclaimOld(): void {
    const newest = this.window.newest;
    for (let i = 0; i < KNET_DEFRAG_BUFFERS; i++) {
      const s = this.slots[i];
      if (s !== undefined && ((newest - s.seq) & 0xffff) > KNET_DEFRAG_BUFFERS) this.slots[i] = undefined;
    }
  }
}

function join(r: Reassembly): Uint8Array {
  const out = new Uint8Array((r.fragNum - 1) * r.fragSize + r.lastSize);
  for (let k = 1; k <= r.fragNum; k++) out.set(r.parts[k]!, (k - 1) * r.fragSize);
  return out;
}
