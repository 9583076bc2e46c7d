/**
 * One libqb shared ring (libqb-ipc-spec.md §1.5) over two mapped files, in either role:
 * producer (`write`: chunk + commit magic + semaphore post) or consumer (`read`: semaphore
 * trywait + chunk + consumed magic). The server produces on the response and event rings and
 * consumes the request ring; a client does the opposite.
 *
 * Hostile-input contract (server side): every word read from shared memory is checked before
 * use — positions against our own copy of the ring size (never the header's), the magic, the
 * size against the negotiated maximum and against what the writer published — and a
 * violation throws `RingFault` without having touched anything out of bounds. No loop here
 * depends on a value from shared memory.
 */
import { nativeAddon, type NativeAddon } from "./native.js";
import {
  HDR,
  MAGIC,
  checkChunk,
  chunkStep,
  fits,
  payloadSpans,
  spaceFree,
  wrapIndex,
  type ChunkFault,
} from "./ring-index.js";

/** Why a ring can no longer be used; the connection owning it must be closed. */
export type RingFaultCode = ChunkFault | "semaphore_overflow" | "unmapped" | "truncated";

/** A ring whose shared state is inconsistent (a peer scribbled on it, or it was closed). */
export class RingFault extends Error {
  override readonly name = "RingFault";
  constructor(
    readonly code: RingFaultCode,
    message: string,
  ) {
    super(message);
  }
}

/** The two mappings of a ring and its geometry. */
export interface RingMapping {
  /** The header file mapping (at least `HDR.size` bytes). */
  header: ArrayBuffer;
  /** The data file mapping: exactly `wordSize * 4` bytes. */
  data: ArrayBuffer;
}

/**
 * A mapped ring. `wordSize` and `maxMsgSize` are fixed at construction from trusted values
 * (ours when we created it; the handshake's when we opened it), not re-read from the header.
 */
export class ShmRing {
  readonly wordSize: number;
  private readonly hdr: Int32Array;
  private readonly words: Uint32Array;
  private readonly bytes: Uint8Array;
  private readonly native: NativeAddon;
  private closed = false;

  constructor(
    private readonly map: RingMapping,
    readonly maxMsgSize: number,
    /** A label for errors and logs (e.g. the header path). */
    readonly label: string,
  ) {
    if (map.header.byteLength < HDR.size) throw new RangeError(`${label}: header mapping too small (${map.header.byteLength})`);
    if (map.data.byteLength % 4 !== 0 || map.data.byteLength === 0) throw new RangeError(`${label}: data mapping size ${map.data.byteLength} not a whole number of words`);
    this.native = nativeAddon();
    this.hdr = new Int32Array(map.header, 0, Math.floor(map.header.byteLength / 4));
    this.words = new Uint32Array(map.data);
    this.bytes = new Uint8Array(map.data);
    this.wordSize = map.data.byteLength / 4;
  }

  /** Write position (word index) as stored in shared memory (unchecked). */
  get writePt(): number {
    return Atomics.load(this.hdr, HDR.writePt / 4) >>> 0;
  }
  /** Read position (word index) as stored in shared memory (unchecked). */
  get readPt(): number {
    return Atomics.load(this.hdr, HDR.readPt / 4) >>> 0;
  }
  /** The reference count word: the server stores 1, a client that opened the ring adds 1. */
  get refCount(): number {
    return Atomics.load(this.hdr, HDR.refCount / 4);
  }
  set refCount(v: number) {
    Atomics.store(this.hdr, HDR.refCount / 4, v);
  }
  /** Atomically adds one to the reference count (what a libqb client does on open). */
  incrementRefCount(): void {
    Atomics.add(this.hdr, HDR.refCount / 4, 1);
  }
  /** The user-data word (the flow-control flag on a request ring); needs an 8252-byte header. */
  get flowControl(): number {
    if (this.map.header.byteLength < HDR.sizeWithUserData) return 0;
    return Atomics.load(this.hdr, HDR.userData / 4);
  }
  set flowControl(v: number) {
    if (this.map.header.byteLength >= HDR.sizeWithUserData) Atomics.store(this.hdr, HDR.userData / 4, v);
  }
  /** Committed chunks not yet consumed (the semaphore's value). */
  queued(): number {
    this.assertOpen();
    return this.native.semGetValue(this.map.header, HDR.sem);
  }
  /** The header mapping, for `semWaitAsync` by a client. */
  get headerBuffer(): ArrayBuffer {
    return this.map.header;
  }

  /**
   * Free bytes as libqb computes them. Throws `RingFault` when either position is outside
   * the ring.
   */
  spaceFree(): number {
    const w = this.writePt;
    const r = this.readPt;
    this.checkPositions(w, r);
    return spaceFree(w, r, this.wordSize, this.queued());
  }

  /**
   * Producer: appends one chunk holding the concatenation of `parts`, commits it and posts
   * the semaphore. Returns false (and writes nothing) when the ring lacks `size + 12` free
   * bytes. Throws RangeError when the message exceeds `maxMsgSize`, RingFault when the shared
   * positions are corrupt or the semaphore cannot be posted.
   */
  write(parts: Uint8Array | readonly Uint8Array[]): boolean {
    this.assertOpen();
    const list = parts instanceof Uint8Array ? [parts] : parts;
    let size = 0;
    for (const p of list) size += p.byteLength;
    if (size > this.maxMsgSize) throw new RangeError(`${this.label}: message of ${size} bytes exceeds ${this.maxMsgSize}`);
    const w = this.writePt;
    const r = this.readPt;
    this.checkPositions(w, r);
    if (!fits(size, spaceFree(w, r, this.wordSize, this.queued()))) return false;

    const ws = this.wordSize;
    this.words[w] = 0;
    this.storeMagic(wrapIndex(w + 1, ws), MAGIC.alloc);
    this.copyIn(list, wrapIndex(w + 2, ws), size);
    this.words[w] = size;
    Atomics.store(this.hdr, HDR.writePt / 4, chunkStep(w, size, ws));
    this.storeMagic(wrapIndex(w + 1, ws), MAGIC.committed);
    this.checkIntact();
    if (!this.native.semPost(this.map.header, HDR.sem)) {
      throw new RingFault("semaphore_overflow", `${this.label}: semaphore cannot be posted (value at maximum)`);
    }
    return true;
  }

  /**
   * Consumer: takes one count from the semaphore without blocking. True means a committed
   * chunk is owed to us; read it with `readTaken()`.
   */
  tryTake(): boolean {
    this.assertOpen();
    const taken = this.native.semTryWait(this.map.header, HDR.sem);
    this.checkIntact();
    return taken;
  }

  /**
   * Consumer: reads and consumes the chunk at the read position, for which a semaphore count
   * was already taken (`tryTake()` or a completed `semWaitAsync`). Checks the chunk before
   * copying; throws `RingFault` naming the fault when it is not readable.
   */
  readTaken(): Uint8Array {
    this.assertOpen();
    const ws = this.wordSize;
    const r = this.readPt;
    const w = this.writePt;
    if (!(r < ws && w < ws)) {
      throw new RingFault("pointer_out_of_range", `${this.label}: read ${r} / write ${w} outside ${ws} words`);
    }
    const magic = Atomics.load(this.words, wrapIndex(r + 1, ws));
    const size = this.words[r]!;
    const fault = checkChunk(r, w, ws, magic, size, this.maxMsgSize);
    if (fault) {
      throw new RingFault(
        fault,
        `${this.label}: unreadable chunk (${fault}) at ${r} (write ${w}, magic 0x${magic.toString(16)}, size ${size})`,
      );
    }
    const out = new Uint8Array(size);
    let at = 0;
    for (const [off, len] of payloadSpans(r + 2, size, ws)) {
      out.set(this.bytes.subarray(off, off + len), at);
      at += len;
    }
    this.words[r] = 0;
    this.storeMagic(wrapIndex(r + 1, ws), MAGIC.dead);
    Atomics.store(this.hdr, HDR.readPt / 4, chunkStep(r, size, ws));
    this.checkIntact();
    return out;
  }

  /** Consumer: `tryTake()` then `readTaken()`; null when nothing is queued. */
  read(): Uint8Array | null {
    return this.tryTake() ? this.readTaken() : null;
  }

  /** Unmaps both files (idempotent). Later calls throw RingFault("unmapped"). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.unmap(this.map.header);
    this.native.unmap(this.map.data);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private storeMagic(index: number, magic: number): void {
    Atomics.store(this.words, index, magic);
  }

  private copyIn(list: readonly Uint8Array[], startWord: number, size: number): void {
    const spans = payloadSpans(startWord, size, this.wordSize);
    let span = 0;
    let spanOff = spans[0]![0];
    let spanLeft = spans[0]![1];
    for (const part of list) {
      let pos = 0;
      while (pos < part.byteLength) {
        if (spanLeft === 0) {
          span++;
          spanOff = spans[span]![0];
          spanLeft = spans[span]![1];
        }
        const n = Math.min(spanLeft, part.byteLength - pos);
        this.bytes.set(part.subarray(pos, pos + n), spanOff);
        pos += n;
        spanOff += n;
        spanLeft -= n;
      }
    }
  }

  private checkPositions(w: number, r: number): void {
    if (!(w < this.wordSize && r < this.wordSize)) {
      throw new RingFault("pointer_out_of_range", `${this.label}: write ${w} / read ${r} outside ${this.wordSize} words`);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new RingFault("unmapped", `${this.label}: ring is closed`);
  }

  /**
   * Throws RingFault("truncated") if a file of this ring was truncated under us (a SIGBUS was
   * absorbed by the addon's guard during an earlier access). Called after each operation.
   */
  checkIntact(): void {
    if (this.native.poisoned(this.map.header) || this.native.poisoned(this.map.data)) {
      throw new RingFault("truncated", `${this.label}: ring file truncated by the peer`);
    }
  }
}
