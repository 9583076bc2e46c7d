/**
 * libqb ring arithmetic (libqb-ipc-spec.md §1.5): chunk step and wrap, free space, the fit
 * rule, data spans across the end, and the reader's chunk checks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CHUNK_MARGIN,
  HDR,
  MAGIC,
  checkChunk,
  chunkStep,
  chunkWords,
  dataFileSize,
  fits,
  payloadSpans,
  spaceFree,
  wordsAhead,
} from "../../src/runtime/ipc/ring-index.js";

test("layout constants match the gcc-measured header of libqb 2.0.6", () => {
  assert.equal(HDR.sem, 8208);
  assert.equal(HDR.refCount, 8204);
  assert.equal(HDR.userData, 8240);
  assert.equal(HDR.size, 8248);
  assert.equal(HDR.sizeWithUserData, 8252);
  assert.equal(CHUNK_MARGIN, 12);
  assert.deepEqual([MAGIC.committed, MAGIC.alloc, MAGIC.dead], [0xa1a1a1a1, 0xa110ced0, 0xd0d0d0d0]);
});

test("data file size: round_up(max + 13, 4096); 1 MiB gives 1052672 (strace)", () => {
  assert.equal(dataFileSize(1048576), 1052672);
  assert.equal(dataFileSize(65536), 69632);
  assert.equal(dataFileSize(4096 - 13), 4096);
  assert.equal(dataFileSize(4096 - 12), 8192);
});

test("chunk step: 2 header words + payload rounded up to words, wrapped past the last word", () => {
  assert.equal(chunkStep(0, 0, 100), 2);
  assert.equal(chunkStep(0, 1, 100), 3);
  assert.equal(chunkStep(0, 4, 100), 3);
  assert.equal(chunkStep(0, 5, 100), 4);
  assert.equal(chunkStep(90, 32, 100), 0); // 90 + 2 + 8 = 100 -> 0
  assert.equal(chunkStep(90, 36, 100), 1);
  assert.equal(chunkStep(97, 0, 100), 99);
  assert.equal(chunkStep(98, 0, 100), 0);
});

test("free space: the three cases of qb_rb_space_free", () => {
  assert.equal(spaceFree(0, 0, 100, 0), 400); // empty
  assert.equal(spaceFree(5, 5, 100, 1), 0); // w == r with a chunk queued: full
  assert.equal(spaceFree(10, 4, 100, 1), (4 - 10 + 100 - 1) * 4);
  assert.equal(spaceFree(4, 10, 100, 1), (10 - 4 - 1) * 4);
  assert.equal(fits(100, 112), true);
  assert.equal(fits(101, 112), false);
});

test("payload spans split at the end of a singly mapped ring", () => {
  assert.deepEqual(payloadSpans(2, 8, 100), [[8, 8]]);
  assert.deepEqual(payloadSpans(98, 8, 100), [[392, 8]]);
  assert.deepEqual(payloadSpans(99, 8, 100), [[396, 4], [0, 4]]);
  assert.deepEqual(payloadSpans(101, 8, 100), [[4, 8]]); // start index past the end wraps
  assert.deepEqual(payloadSpans(98, 10, 100), [[392, 8], [0, 2]]);
});

test("checkChunk names each fault and accepts a chunk exactly up to the write position", () => {
  assert.equal(checkChunk(0, 5, 100, MAGIC.committed, 12, 1000), null);
  assert.equal(checkChunk(0, 5, 100, MAGIC.committed, 13, 1000), "chunk_beyond_write_pointer");
  assert.equal(checkChunk(0, 0, 100, MAGIC.committed, 0, 1000), "chunk_beyond_write_pointer");
  assert.equal(checkChunk(100, 5, 100, MAGIC.committed, 4, 1000), "pointer_out_of_range");
  assert.equal(checkChunk(0, 100, 100, MAGIC.committed, 4, 1000), "pointer_out_of_range");
  assert.equal(checkChunk(0, 5, 100, MAGIC.dead, 4, 1000), "bad_magic");
  assert.equal(checkChunk(0, 5, 100, MAGIC.alloc, 4, 1000), "bad_magic");
  assert.equal(checkChunk(0, 50, 100, MAGIC.committed, 0xffffffff, 1000), "size_too_large");
  assert.equal(checkChunk(95, 3, 100, MAGIC.committed, 20, 1000), null); // wraps: 8 words ahead, 7 needed
});

/**
 * Model: a writer that only writes when `fits` says so, and a reader that consumes in order.
 * Whatever the sizes, the writer never overwrites an unread word, and the reader's
 * checkChunk accepts every chunk the writer made.
 */
test("property: writer and reader driven by these rules never overlap and always agree", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 8, max: 200 }),
      fc.array(fc.oneof(fc.integer({ min: 0, max: 900 }), fc.constant(-1)), { minLength: 1, maxLength: 300 }),
      (wordSize, ops) => {
        const max = wordSize * 4 - 13;
        let w = 0;
        let r = 0;
        const owned = new Int32Array(wordSize).fill(-1); // chunk id owning each word
        const queue: Array<{ id: number; at: number; size: number }> = [];
        let nextId = 0;
        for (const op of ops) {
          if (op >= 0) {
            const size = op % (max + 1);
            const free = spaceFree(w, r, wordSize, queue.length);
            if (!fits(size, free)) continue;
            const id = nextId++;
            for (let k = 0; k < chunkWords(size); k++) {
              const i = (w + k) % wordSize;
              if (owned[i] !== -1) return false; // overwrote unread data
              owned[i] = id;
            }
            queue.push({ id, at: w, size });
            w = chunkStep(w, size, wordSize);
            if (w === r) return false; // a libqb writer never fills the ring completely
          } else if (queue.length > 0) {
            const c = queue.shift()!;
            if (c.at !== r) return false;
            if (checkChunk(r, w, wordSize, MAGIC.committed, c.size, max) !== null) return false;
            for (let k = 0; k < chunkWords(c.size); k++) owned[(r + k) % wordSize] = -1;
            r = chunkStep(r, c.size, wordSize);
          }
          if (queue.length === 0 && w !== r) return false;
          if (queue.length > 0 && wordsAhead(r, w, wordSize) === 0) return false;
        }
        return true;
      },
    ),
    { numRuns: 500 },
  );
});

test("property: a message of the negotiated maximum always fits an empty ring", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 * 1048576 }), (max) => {
      const words = dataFileSize(max) / 4;
      return fits(max, spaceFree(0, 0, words, 0)) && fits(max, spaceFree(words - 1, words - 1, words, 0));
    }),
  );
});
