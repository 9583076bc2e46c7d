/**
 * ShmRing over plain memory (the same code runs over mapped files): round trips across the
 * wrap, the semaphore count, flow-control and reference words, and hostile shared state —
 * corrupt positions, magic, sizes and random scribbles only ever produce RingFault.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { nativeAddon } from "../../src/runtime/ipc/native.js";
import { HDR, MAGIC } from "../../src/runtime/ipc/ring-index.js";
import { RingFault, ShmRing } from "../../src/runtime/ipc/ringbuffer.js";

function makeRing(words: number, maxMsgSize = words * 4 - 13): { ring: ShmRing; header: ArrayBuffer; data: ArrayBuffer } {
  const header = new ArrayBuffer(HDR.sizeWithUserData);
  const data = new ArrayBuffer(words * 4);
  new DataView(header).setUint32(HDR.wordSize, words, true);
  nativeAddon().semInit(header, HDR.sem, 1, 0);
  return { ring: new ShmRing({ header, data }, maxMsgSize, "test"), header, data };
}

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

test("write/read round trip, FIFO order and semaphore count, across many wraps", () => {
  const { ring } = makeRing(64);
  let seed = 0;
  for (let round = 0; round < 200; round++) {
    const sizes = [1, 5, 17, 40, 3].map((s) => (s + round) % 60);
    const sent: Uint8Array[] = [];
    for (const s of sizes) {
      const msg = bytes(s, seed++);
      if (!ring.write(msg)) break;
      sent.push(msg);
    }
    assert.equal(ring.queued(), sent.length);
    for (const m of sent) assert.deepEqual(ring.read(), m);
    assert.equal(ring.read(), null);
    assert.equal(ring.queued(), 0);
  }
});

test("write of several parts concatenates them; a full ring refuses without writing", () => {
  const { ring } = makeRing(32);
  assert.equal(ring.write([bytes(3, 1), bytes(5, 2)]), true);
  const got = ring.read()!;
  assert.deepEqual(got, new Uint8Array([...bytes(3, 1), ...bytes(5, 2)]));
  let n = 0;
  while (ring.write(bytes(20, n))) n++;
  assert.ok(n > 0);
  const w = ring.writePt;
  assert.equal(ring.write(bytes(20, 99)), false);
  assert.equal(ring.writePt, w);
  assert.throws(() => ring.write(bytes(200, 0)), RangeError);
});

test("consumed chunks are marked dead and zeroed, as libqb does", () => {
  const { ring, data } = makeRing(32);
  ring.write(bytes(8, 1));
  const words = new Uint32Array(data);
  assert.equal(words[1], MAGIC.committed);
  assert.equal(words[0], 8);
  ring.read();
  assert.equal(words[1], MAGIC.dead);
  assert.equal(words[0], 0);
});

test("flow-control word and reference count live at their libqb offsets", () => {
  const { ring, header } = makeRing(32);
  const dv = new DataView(header);
  ring.flowControl = 1;
  assert.equal(dv.getInt32(HDR.userData, true), 1);
  ring.refCount = 1;
  ring.incrementRefCount();
  assert.equal(dv.getInt32(HDR.refCount, true), 2);
});

test("hostile: each corruption yields its RingFault code", () => {
  const cases: Array<[string, (h: DataView, d: Uint32Array) => void]> = [
    ["pointer_out_of_range", (h) => h.setUint32(HDR.readPt, 1 << 30, true)],
    ["pointer_out_of_range", (h) => h.setUint32(HDR.writePt, 0xffffffff, true)],
    ["bad_magic", (_h, d) => (d[1] = 0x12345678)],
    ["size_too_large", (_h, d) => (d[0] = 0xfffffff0)],
    ["chunk_beyond_write_pointer", (_h, d) => (d[0] = 64)],
  ];
  for (const [code, corrupt] of cases) {
    const { ring, header, data } = makeRing(64);
    ring.write(bytes(8, 1));
    corrupt(new DataView(header), new Uint32Array(data));
    assert.throws(
      () => ring.read(),
      (e: unknown) => e instanceof RingFault && e.code === code,
      code,
    );
  }
});

test("hostile: the header's word_size is never trusted", () => {
  const { ring, header } = makeRing(64);
  ring.write(bytes(8, 1));
  new DataView(header).setUint32(HDR.wordSize, 0xffffffff, true);
  assert.deepEqual(ring.read(), bytes(8, 1));
  new DataView(header).setUint32(HDR.wordSize, 0, true);
  assert.equal(ring.write(bytes(8, 2)), true);
});

test("property: random scribbles on header and data only ever give data ≤ max, null or RingFault", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat({ max: HDR.sizeWithUserData + 64 * 4 - 1 }), fc.nat({ max: 255 })), { maxLength: 64 }),
      fc.array(fc.tuple(fc.nat({ max: 63 }), fc.nat({ max: 0xffffffff })), { maxLength: 8 }),
      (byteWrites, wordWrites) => {
        const { ring, header, data } = makeRing(64);
        ring.write(bytes(10, 1));
        ring.write(bytes(30, 2));
        const hb = new Uint8Array(header);
        const db = new Uint8Array(data);
        for (const [off, v] of byteWrites) {
          if (off < hb.byteLength) hb[off] = v;
          else db[off - hb.byteLength] = v;
        }
        const dw = new Uint32Array(data);
        for (const [i, v] of wordWrites) dw[i] = v;
        for (let i = 0; i < 4; i++) {
          try {
            const m = ring.read();
            if (m !== null && m.byteLength > ring.maxMsgSize) return false;
          } catch (e) {
            if (!(e instanceof RingFault)) return false;
            break;
          }
          try {
            ring.write(bytes(7, i));
          } catch (e) {
            if (!(e instanceof RingFault)) return false;
            break;
          }
        }
        return true;
      },
    ),
    { numRuns: 2000 },
  );
});

test("semaphore ops survive a scribbled sem_t (no hang, no abort)", () => {
  const native = nativeAddon();
  const header = new ArrayBuffer(HDR.sizeWithUserData);
  const u8 = new Uint8Array(header, HDR.sem, 32);
  for (let t = 0; t < 200; t++) {
    for (let i = 0; i < 32; i++) u8[i] = (t * 97 + i * 13) & 0xff;
    native.semPost(header, HDR.sem);
    native.semTryWait(header, HDR.sem);
    native.semGetValue(header, HDR.sem);
  }
  u8.fill(0xff);
  assert.equal(native.semPost(header, HDR.sem), false); // value at the maximum: refused
  assert.throws(() => native.semPost(header, 8241), /aligned|range/);
  assert.throws(() => native.semPost(header, HDR.sizeWithUserData - 8), /range/);
});
