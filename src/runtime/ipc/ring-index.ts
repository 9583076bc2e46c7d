/**
 * libqb 2.0.6 shared ring buffer: layout constants and the pure index arithmetic
 * (libqb-ipc-spec.md §1.5). No I/O here, so every rule can be unit- and property-tested.
 *
 * A ring is two files. The header file holds the write and read positions, the data size in
 * 32-bit words, both paths, a reference count, a process-shared glibc `sem_t` counting the
 * committed chunks not yet consumed, and (servers create it) a 4-byte user-data word that on
 * the request ring is the flow-control flag. The data file holds chunks: a size word (bytes),
 * a magic word, then the payload padded to a whole word. Positions are word indices in
 * [0, wordSize); the word after the last is word 0 (libqb clients map the data file twice
 * back to back to read across the end linearly; we map it once and split copies).
 */

/** Byte offsets in the header file (`struct qb_ringbuffer_shared_s`, aligned(8), x86-64). */
export const HDR = {
  writePt: 0,
  readPt: 4,
  wordSize: 8,
  hdrPath: 12,
  dataPath: 4108,
  pathMax: 4096,
  refCount: 8204,
  sem: 8208,
  userData: 8240,
  /** sizeof(struct qb_ringbuffer_shared_s) with no user data (the client's mapping size). */
  size: 8248,
  /** What libqb servers create: the struct plus 4 bytes of user data. */
  sizeWithUserData: 8252,
} as const;

/** Chunk magic words (the second word of a chunk). */
export const MAGIC = {
  /** Committed: the chunk may be read. */
  committed: 0xa1a1a1a1,
  /** Allocated: being written. */
  alloc: 0xa110ced0,
  /** Consumed: the reader is done with it. */
  dead: 0xd0d0d0d0,
} as const;

/** Words before the payload: size, magic. */
export const CHUNK_HEADER_WORDS = 2;
/** Bytes a write needs beyond its payload: the two header words plus one word of padding. */
export const CHUNK_MARGIN = 12;

/** The request ring's flow-control values (user data): 0 lets the client send. */
export const FLOW_CONTROL_OFF = 0;
export const FLOW_CONTROL_ON = 1;

/**
 * Size of a data file for a ring that must carry one message of `maxMsgSize` bytes:
 * round_up(maxMsgSize + margin + 1, page). 1 MiB gives 1052672 bytes.
 */
export function dataFileSize(maxMsgSize: number, pageSize = 4096): number {
  const need = maxMsgSize + CHUNK_MARGIN + 1;
  return Math.ceil(need / pageSize) * pageSize;
}

/** Payload words of a chunk of `size` bytes (the last word may be partly used). */
export function payloadWords(size: number): number {
  return Math.ceil(size / 4);
}

/** Total words a chunk of `size` bytes occupies, header included. */
export function chunkWords(size: number): number {
  return CHUNK_HEADER_WORDS + payloadWords(size);
}

/**
 * The index of the chunk after the one at `p` with a payload of `size` bytes: libqb's
 * `qb_rb_chunk_step`: p + 2 + ceil(size/4), reduced modulo `wordSize` once it passes the last
 * word. Both ends compute it, so this rule must be exact.
 */
export function chunkStep(p: number, size: number, wordSize: number): number {
  let next = p + chunkWords(size);
  if (next > wordSize - 1) next = next % wordSize;
  return next;
}

/**
 * Free bytes in the ring, libqb's `qb_rb_space_free`: with write position `w`, read
 * position `r` and `queued` = the semaphore's value (committed chunks not yet consumed):
 * w > r: (r - w + wordSize - 1) words; w < r: (r - w - 1) words; w == r: 0 when chunks are
 * queued, else the whole ring.
 */
export function spaceFree(w: number, r: number, wordSize: number, queued: number): number {
  let words: number;
  if (w > r) words = r - w + wordSize - 1;
  else if (w < r) words = r - w - 1;
  else words = queued > 0 ? 0 : wordSize;
  return words * 4;
}

/** True when a chunk with a `size`-byte payload fits: free space ≥ size + margin. */
export function fits(size: number, freeBytes: number): boolean {
  return freeBytes >= size + CHUNK_MARGIN;
}

/** Words from `r` forward to `w` (0 when equal): what the writer has published ahead. */
export function wordsAhead(r: number, w: number, wordSize: number): number {
  return (w - r + wordSize) % wordSize;
}

/** Word index `i` reduced into [0, wordSize) — data words live at (p + k) mod wordSize. */
export function wrapIndex(i: number, wordSize: number): number {
  return i % wordSize;
}

/**
 * The byte spans a payload occupies in a singly-mapped data area of `wordSize` words,
 * starting at word `startWord`: one span, or two when it runs past the end. Each span is
 * [byteOffset, length).
 */
export function payloadSpans(startWord: number, size: number, wordSize: number): Array<[number, number]> {
  const total = wordSize * 4;
  const off = (startWord % wordSize) * 4;
  if (off + size <= total) return [[off, size]];
  return [
    [off, total - off],
    [0, size - (total - off)],
  ];
}

/** Why a chunk the peer published cannot be read. */
export type ChunkFault =
  | "pointer_out_of_range"
  | "bad_magic"
  | "size_too_large"
  | "chunk_beyond_write_pointer";

/**
 * Checks, before any byte is copied, that the chunk the peer claims to have published at the
 * read position is well formed: both positions inside the ring, the committed magic, a size
 * no larger than `maxMsgSize`, and the whole chunk inside what the writer has published
 * (between `r` and `w`). Returns null when readable, else the fault. `w == r` means nothing
 * was published (a libqb writer never fills the ring completely), so any claim then is a fault.
 */
export function checkChunk(
  r: number,
  w: number,
  wordSize: number,
  magic: number,
  size: number,
  maxMsgSize: number,
): ChunkFault | null {
  if (!(r >= 0 && r < wordSize && w >= 0 && w < wordSize)) return "pointer_out_of_range";
  if (magic >>> 0 !== MAGIC.committed) return "bad_magic";
  if (size >>> 0 > maxMsgSize) return "size_too_large";
  if (chunkWords(size >>> 0) > wordsAhead(r, w, wordSize)) return "chunk_beyond_write_pointer";
  return null;
}
