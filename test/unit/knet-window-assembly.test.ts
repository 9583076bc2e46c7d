/**
 * knet's duplicate window (src/core/knet/seq-window.ts), fragmentation and reassembly
 * (src/core/knet/assembly.ts) and MTU arithmetic (src/core/knet/mtu.ts): rules with scripted
 * cases, and properties — any arrival order of a packet's fragments (with duplicates)
 * rebuilds it exactly; hostile fragment streams never throw and never deliver more than was
 * sent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { KNET_DEFRAG_BUFFERS, Reassembler, fragmentCount, fragmentRange } from "../../src/core/knet/assembly.js";
import { KNET_MIN_ONWIRE_MTU, NO_CRYPTO, dataMtuFor, maxDataOutlen } from "../../src/core/knet/mtu.js";
import { KNET_CBUFFER_SIZE, SeqWindow } from "../../src/core/knet/seq-window.js";

test("window: new, duplicate, behind, ahead, far away, wrap 65535 → 1", () => {
  const w = new SeqWindow();
  assert.equal(w.lookup(100, "delivered"), true, "first seq is the reference");
  w.mark(100, "delivered");
  assert.equal(w.lookup(100, "delivered"), false, "duplicate");
  assert.equal(w.lookup(99, "delivered"), true, "behind, never seen (reordered)");
  assert.equal(w.newest, 100, "looking behind does not move the window");
  assert.equal(w.lookup(101, "delivered"), true);
  w.mark(101, "delivered");
  assert.equal(w.lookup(100, "delivered"), false, "still a duplicate after moving on");
  // Far ahead (a restart without a seq-0 ping, or a long loss): the window resets.
  assert.equal(w.lookup(100 + KNET_CBUFFER_SIZE + 10, "delivered"), true);
  assert.equal(w.lookup(101, "delivered"), true, "the old flags are gone");
  // Wrap: 65535 then 1 (0 is never sent).
  const v = new SeqWindow();
  for (const s of [65534, 65535, 1, 2]) {
    assert.equal(v.lookup(s, "delivered"), true, `${s}`);
    v.mark(s, "delivered");
  }
  for (const s of [65534, 65535, 1, 2]) assert.equal(v.lookup(s, "delivered"), false, `${s} again`);
  assert.equal(v.newest, 2);
});

test("window: moving ahead clears the slots passed over (their flags belonged to seqs 4096 earlier)", () => {
  const w = new SeqWindow();
  w.lookup(10, "delivered");
  w.mark(10, "delivered");
  assert.equal(w.lookup(10 + KNET_CBUFFER_SIZE - 1, "delivered"), true, "4095 ahead: the window moves");
  assert.equal(w.lookup(10, "delivered"), false, "seq 10 is 4095 behind: still inside, still a duplicate");
  assert.equal(w.lookup(10 + KNET_CBUFFER_SIZE, "delivered"), true, "the seq sharing slot 10, 4096 later, is new");
  assert.equal(w.lookup(10, "delivered"), true, "seq 10 is now outside the window: the window resets to it");
  assert.equal(w.newest, 10);
});

test("window: the defrag ring is separate, wipe forgets both", () => {
  const w = new SeqWindow();
  w.lookup(7, "defrag");
  w.mark(7, "defrag");
  assert.equal(w.lookup(7, "defrag"), false);
  assert.equal(w.lookup(7, "delivered"), true);
  w.mark(7, "delivered");
  w.wipe();
  assert.equal(w.newest, 0);
  assert.equal(w.lookup(7, "defrag"), true);
  assert.equal(w.lookup(7, "delivered"), true);
});

function split(packet: Uint8Array, mtu: number): Array<{ seq: number; n: number; k: number; bytes: Uint8Array }> {
  const n = fragmentCount(packet.length, mtu);
  return Array.from({ length: n }, (_, i) => {
    const [a, b] = fragmentRange(packet.length, mtu, i);
    return { seq: 0, n, k: i + 1, bytes: packet.slice(a, b) };
  });
}

test("fragmentation: counts and ranges (20,244 bytes at 1446 → 14 full; at 1397 → 14 + 686; 255 at most)", () => {
  assert.equal(fragmentCount(20_244, 1446), 14);
  assert.deepEqual(fragmentRange(20_244, 1446, 13), [18_798, 20_244]);
  assert.equal(fragmentCount(20_244, 1397), 15);
  assert.deepEqual(fragmentRange(20_244, 1397, 14), [19_558, 20_244]);
  assert.equal(fragmentCount(1397, 1397), 1);
  assert.equal(fragmentCount(65_536, 421), 156);
  assert.equal(fragmentCount(65_536, 256), 0, "256 fragments do not fit in a byte");
  assert.equal(fragmentCount(0, 1000), 0);
});

test("reassembly: in order, last first, duplicates; a finished packet's fragments later are expired", () => {
  const w = new SeqWindow();
  const r = new Reassembler(w);
  const packet = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
  const parts = split(packet, 1200);
  w.lookup(5, "delivered");
  assert.equal(r.add(5, 3, 3, parts[2]!.bytes).kind, "pending", "last first");
  assert.equal(r.add(5, 3, 1, parts[0]!.bytes).kind, "pending");
  assert.equal(r.add(5, 3, 1, parts[0]!.bytes).kind, "pending", "duplicate fragment");
  const done = r.add(5, 3, 2, parts[1]!.bytes);
  assert.ok(done.kind === "complete");
  assert.deepEqual(done.packet, packet);
  assert.equal(r.inProgress, 0);
  assert.deepEqual(r.add(5, 3, 2, parts[1]!.bytes), { kind: "dropped", reason: "expired" }, "seq 5 was reassembled already");
});

test("reassembly: size rules (non-last fragments equal, last not longer, total ≤ 65536), frag_num consistency", () => {
  const w = new SeqWindow();
  const r = new Reassembler(w);
  w.lookup(1, "delivered");
  r.add(1, 3, 1, new Uint8Array(100));
  assert.deepEqual(r.add(1, 3, 2, new Uint8Array(99)), { kind: "dropped", reason: "frag_size_mismatch" });
  w.lookup(2, "delivered");
  r.add(2, 3, 3, new Uint8Array(120));
  assert.deepEqual(r.add(2, 3, 1, new Uint8Array(100)), { kind: "dropped", reason: "frag_size_mismatch" }, "last longer than the others");
  w.lookup(3, "delivered");
  r.add(3, 3, 1, new Uint8Array(100));
  assert.deepEqual(r.add(3, 4, 2, new Uint8Array(100)), { kind: "dropped", reason: "frag_num_mismatch" });
  w.lookup(4, "delivered");
  assert.deepEqual(r.add(4, 255, 1, new Uint8Array(300)), { kind: "dropped", reason: "too_big" }, "255 × 300 > 65536");
  assert.equal(r.inProgress, 0, "every bad reassembly is discarded");
});

test("reassembly: at most 32 in progress (least recently touched reused); 33+ behind the newest are dropped", () => {
  const w = new SeqWindow();
  const r = new Reassembler(w);
  for (let s = 1; s <= KNET_DEFRAG_BUFFERS + 5; s++) {
    w.lookup(s, "delivered");
    r.add(s, 2, 1, new Uint8Array(10));
  }
  assert.equal(r.inProgress, KNET_DEFRAG_BUFFERS);
  w.lookup(100, "delivered");
  r.add(100, 2, 1, new Uint8Array(10));
  assert.equal(r.inProgress, 1, "everything 33+ behind seq 100 is gone");
  r.clear();
  assert.equal(r.inProgress, 0);
});

test("property: any order of fragments, with duplicates, rebuilds the packet exactly once", () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 9000 }), fc.integer({ min: 64, max: 1500 }), fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), (len, mtu, picks) => {
      const packet = Uint8Array.from({ length: len }, (_, i) => (i * 7) & 0xff);
      const parts = split(packet, mtu);
      fc.pre(parts.length >= 2);
      const order = [...picks.map((p) => p % parts.length), ...parts.map((_, i) => i)];
      const w = new SeqWindow();
      const r = new Reassembler(w);
      let completes = 0;
      for (const i of order) {
        if (!w.lookup(9, "delivered")) continue;
        const a = r.add(9, parts.length, i + 1, parts[i]!.bytes);
        assert.notEqual(a.kind, "dropped");
        if (a.kind === "complete") {
          completes++;
          assert.deepEqual(a.packet, packet);
          w.mark(9, "delivered");
        }
      }
      assert.equal(completes, 1);
    }),
    { numRuns: 300 },
  );
});

test("property: hostile fragment streams never throw and every completed packet is ≤ 65536 bytes", () => {
  const frag = fc.record({ seq: fc.integer({ min: 1, max: 60 }), n: fc.integer({ min: 2, max: 255 }), k: fc.nat(), len: fc.integer({ min: 1, max: 2000 }) });
  fc.assert(
    fc.property(fc.array(frag, { maxLength: 200 }), (frags) => {
      const w = new SeqWindow();
      const r = new Reassembler(w);
      for (const f of frags) {
        const k = 1 + (f.k % f.n);
        if (!w.lookup(f.seq, "delivered")) continue;
        const a = r.add(f.seq, f.n, k, new Uint8Array(f.len));
        if (a.kind === "complete") {
          assert.ok(a.packet.length <= 65_536);
          w.mark(f.seq, "delivered");
        }
      }
      assert.ok(r.inProgress <= KNET_DEFRAG_BUFFERS);
    }),
    { numRuns: 300 },
  );
});

test("MTU arithmetic: 1500 → 1446 / 1397 (aes256+sha256), IPv6, hash only, the 576 minimum", () => {
  const aes = { saltBytes: 16, hashBytes: 32, blockBytes: 16 };
  assert.equal(dataMtuFor(1500, "IPv4", NO_CRYPTO), 1446);
  assert.equal(dataMtuFor(1500, "IPv4", aes), 1397);
  assert.equal(dataMtuFor(1500, "IPv6", NO_CRYPTO), 1426);
  assert.equal(dataMtuFor(1500, "IPv4", { saltBytes: 0, hashBytes: 20, blockBytes: 0 }), 1426);
  assert.equal(maxDataOutlen(KNET_MIN_ONWIRE_MTU - 28, aes), 469, "the transient 469 real nodes log before PMTUd");
  assert.equal(dataMtuFor(65_535, "IPv4", NO_CRYPTO), 65_481);
});
