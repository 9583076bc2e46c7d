/**
 * Golden tests against real corosync 3.1.7 + libknet 1.25 traffic (test/golden/knet-frames.ts):
 * every captured datagram of the encrypted captures authenticates and decrypts with the
 * capture's key, and re-encrypts to the very same bytes given its salt; every plaintext frame
 * decodes to the fields the capture tool decoded and re-encodes byte for byte; every
 * fragmented packet reassembles into one Totem message; unfragmented DATA carries one Totem
 * message whose target_nodeid matches. Runs on the in-repo subset always, on the full
 * captures when present.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { KnetCryptoInstance } from "../../src/crypto/knet.js";
import { readTotemTarget } from "../../src/core/knet/engine.js";
import { Reassembler } from "../../src/core/knet/assembly.js";
import { SeqWindow } from "../../src/core/knet/seq-window.js";
import { KnetType, decodeKnetFrame, encodeKnetFrame, knetTypeName, readTimespecMs, type KnetFrame } from "../../src/wire/knet/frame.js";
import { tryDecodeTotem } from "../../src/wire/totem/codec.js";
import { bytesToHex } from "../golden/frames.js";
import { KNET_CAPTURES, type KnetGolden, knetCaptureKey, loadKnetFixture, loadKnetFrames, sharedKnetCaptureDir } from "../golden/knet-frames.js";
import { TYPE_NAMES } from "../golden/frames.js";
import { join } from "node:path";

function at(g: KnetGolden): string {
  return `${g.capture}:${g.line} (${g.ktype} ${g.src}→${g.dst})`;
}

const cryptoCache = new Map<string, KnetCryptoInstance>();
function instanceFor(g: KnetGolden): KnetCryptoInstance {
  let c = cryptoCache.get(g.capture);
  if (c === undefined) {
    c = new KnetCryptoInstance({ cipher: "aes256", hash: "sha256", key: knetCaptureKey(g.capture)! });
    cryptoCache.set(g.capture, c);
  }
  return c;
}

/** The capture tool's decoded fields agree with ours. */
function checkFields(g: KnetGolden, f: KnetFrame): void {
  const where = at(g);
  assert.equal(knetTypeName(f.type), g.ktype, where);
  assert.equal(f.hostId, g.khost, where);
  assert.equal(bytesToHex(Uint8Array.of(f.maxVer, f.pad)), g.kpad, where);
  if (f.type === KnetType.DATA) {
    assert.deepEqual(
      [f.seq, f.compress, f.dataPad, f.bcast, f.fragNum, f.fragSeq, f.channel, f.payload.byteLength],
      [g.seq, g.compress, g.dpad, g.bcast, g.frag_num, g.frag_seq, g.channel, g.user_len],
      where,
    );
  } else if (f.type === KnetType.PING || f.type === KnetType.PONG) {
    assert.deepEqual([f.link, f.seq, f.timed], [g.link, g.ping_seq, g.timed], where);
    assert.equal(readTimespecMs(f.time, 0), g.time_sec! * 1000 + g.time_nsec! / 1e6, where);
  } else if (f.type === KnetType.PMTUD || f.type === KnetType.PMTUD_REPLY) {
    assert.deepEqual([f.link, f.size], [g.link, g.pmtud_size], where);
    if (f.type === KnetType.PMTUD) assert.equal(f.fill.byteLength, g.fill_len, where);
  }
}

/** Unfragmented DATA holds one whole Totem message, targeted as the capture says. */
function checkTotem(g: KnetGolden, f: KnetFrame): void {
  if (f.type !== KnetType.DATA || f.fragNum !== 1) return;
  const r = tryDecodeTotem(f.payload);
  assert.ok(r.ok, `${at(g)}: ${r.ok ? "" : r.error.message}`);
  assert.equal(TYPE_NAMES[r.msg.type], g.totem!.type, at(g));
  assert.equal(readTotemTarget(f.payload), g.totem!.target_nodeid, at(g));
  assert.equal(f.bcast, g.totem!.target_nodeid === 0 ? 1 : 0, `${at(g)}: bcast iff no target`);
}

interface Tally {
  frames: number;
  decrypted: number;
  reassembled: number;
}

/** Decrypt/re-encrypt, decode/re-encode, totem, and feed fragments to per-host reassemblers. */
function runGolden(frames: readonly KnetGolden[]): Tally {
  const tally: Tally = { frames: 0, decrypted: 0, reassembled: 0 };
  const assemblers = new Map<string, Reassembler>();
  const windows = new Map<string, SeqWindow>();
  for (const g of frames) {
    tally.frames++;
    if (g.crypto) {
      const c = instanceFor(g);
      const plain = c.decrypt(g.wire);
      assert.ok(plain !== undefined, `${at(g)}: does not authenticate`);
      assert.equal(bytesToHex(plain), bytesToHex(g.plain), at(g));
      assert.equal(bytesToHex(c.encryptWithSalt(g.plain, g.wire.subarray(0, 16))), bytesToHex(g.wire), `${at(g)}: re-encrypted`);
      assert.equal(c.sealedSize(g.plain.byteLength), g.wire.byteLength, at(g));
      tally.decrypted++;
    }
    const d = decodeKnetFrame(g.plain);
    assert.ok(d.ok, `${at(g)}: ${d.ok ? "" : d.error.message}`);
    checkFields(g, d.value);
    assert.equal(bytesToHex(encodeKnetFrame(d.value)), bytesToHex(g.plain), `${at(g)}: re-encoded`);
    checkTotem(g, d.value);
    const f = d.value;
    if (f.type === KnetType.PING && f.timed === 1 && f.seq === 0) {
      // A restarted sender: the receiver forgets what it saw from the previous incarnation.
      windows.get(`${g.capture} ${g.src} ${g.dst}`)?.wipe();
      assemblers.get(`${g.capture} ${g.src} ${g.dst}`)?.clear();
    }
    if (f.type === KnetType.DATA && f.fragNum > 1) {
      // One reassembler per sender and receiver: each receiver gets its own copy of the fragments.
      const key = `${g.capture} ${g.src} ${g.dst}`;
      let w = windows.get(key);
      if (w === undefined) windows.set(key, (w = new SeqWindow()));
      let a = assemblers.get(key);
      if (a === undefined) assemblers.set(key, (a = new Reassembler(w)));
      if (!w.lookup(f.seq, "delivered")) continue;
      const r = a.add(f.seq, f.fragNum, f.fragSeq, f.payload);
      assert.notEqual(r.kind, "dropped", `${at(g)}: ${JSON.stringify(r)}`);
      if (r.kind === "complete") {
        w.mark(f.seq, "delivered");
        const m = tryDecodeTotem(r.packet);
        assert.ok(m.ok, `${at(g)}: reassembled packet is not a Totem message`);
        tally.reassembled++;
      }
    }
  }
  return tally;
}

test("fixture: every frame decrypts, re-encrypts, decodes and re-encodes byte for byte; fragments reassemble", () => {
  // The fixture keeps one copy of identical bytes (a broadcast goes to two hosts with the same
  // ciphertext), so reassembly is per sender: group fragments by sender only.
  const frames = loadKnetFixture().map((g) => ({ ...g, dst: "*" }));
  const tally = runGolden(frames);
  assert.ok(tally.frames > 600, `${tally.frames} frames`);
  assert.ok(tally.decrypted > 300, `${tally.decrypted} decrypted`);
  assert.ok(tally.reassembled >= 10, `${tally.reassembled} packets reassembled`);
  for (const capture of KNET_CAPTURES) assert.ok(frames.some((g) => g.capture === capture), `fixture has ${capture}`);
  for (const type of ["data", "ping", "pong", "pmtud", "pmtud_reply"]) assert.ok(frames.some((g) => g.ktype === type), `fixture has ${type}`);
});

test("fixture: the 20,244-byte CPG message travels as 14 × 1446 (plain) and 14 × 1397 + 686 (crypto)", () => {
  const frames = loadKnetFixture();
  for (const [capture, sizes] of [
    ["plain.jsonl", [1446, 14]],
    ["crypto.jsonl", [1397, 15]],
  ] as const) {
    const big = frames.filter((g) => g.capture === capture && g.ktype === "data" && g.frag_num === sizes[1]);
    assert.equal(big.length, sizes[1], capture);
    const total = big.reduce((n, g) => n + g.user_len!, 0);
    assert.equal(total, 20_244, capture);
    assert.ok(big.filter((g) => g.frag_seq! < sizes[1]).every((g) => g.user_len === sizes[0]), capture);
  }
});

test("fixture: a wrong key or one flipped bit fails authentication", () => {
  const g = loadKnetFixture().find((x) => x.crypto)!;
  const wrong = new KnetCryptoInstance({ cipher: "aes256", hash: "sha256", key: new Uint8Array(256).fill(7) });
  assert.equal(wrong.decrypt(g.wire), undefined);
  const right = instanceFor(g);
  for (const i of [0, 20, g.wire.byteLength - 1]) {
    const bad = Uint8Array.from(g.wire);
    bad[i]! ^= 1;
    assert.equal(right.decrypt(bad), undefined, `bit flipped at ${i}`);
  }
});

const shared = sharedKnetCaptureDir();
test("full captures (../shared/testdata): every datagram", { skip: shared === undefined ? "shared captures not present" : false }, () => {
  for (const capture of KNET_CAPTURES) {
    const frames = loadKnetFrames(join(shared!, capture), capture);
    const tally = runGolden(frames);
    assert.equal(tally.frames, frames.length);
    if (capture !== "plain.jsonl") assert.equal(tally.decrypted, frames.length, `${capture}: all decrypted`);
    assert.ok(tally.reassembled > 0, `${capture}: reassembled ${tally.reassembled}`);
  }
});
