/**
 * Golden tests against real corosync 3.1.7 udpu traffic (test/golden/frames.ts): every
 * captured Totem frame decodes, re-encodes to the very same bytes (including the
 * uninitialised target_nodeid), and matches the capture's decoded header fields; every normal
 * MCAST carries a valid totempg packet whose whole pieces are group "a" or "sync" messages
 * holding one service/sync message each; fragmented messages join up. The big-endian
 * rendition of every frame decodes to the same structures.
 *
 * Runs on the in-repo fixture always, and on the full shared captures when present.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeTotem, encodeTotem, peekHeader, tryDecodeTotem } from "../../src/wire/totem/codec.js";
import { decodeGroupMessage, decodePgPacket, GROUP_A, GROUP_SYNC, groupMatches, isWholePiece } from "../../src/wire/pg/packet.js";
import { MessageType, type Mcast, type TotemMessage } from "../../src/wire/totem/types.js";
import { Assembler } from "../golden/assemble.js";
import { toBigEndian } from "../golden/byteswap.js";
import {
  bytesToHex,
  loadFixtureFrames,
  loadSharedCaptures,
  sharedCaptureDir,
  TYPE_NAMES,
  type GoldenFrame,
} from "../golden/frames.js";

interface Tally {
  frames: number[];
  pgPackets: number;
  wholePieces: number;
  groupA: number;
  groupSync: number;
  assembler: Assembler;
}

function newTally(): Tally {
  return { frames: [0, 0, 0, 0, 0, 0], pgPackets: 0, wholePieces: 0, groupA: 0, groupSync: 0, assembler: new Assembler() };
}

function where(f: GoldenFrame): string {
  return `${f.source}:${f.line} (${f.type} from ${f.src})`;
}

/**
 * The body of a group "a" or "sync" message starts with a qb_ipc_request_header whose
 * `size` (i32 at offset 8) is the body's length (totem-spec §1.2, §7).
 */
function checkServiceMessage(message: Uint8Array, littleEndian: boolean, tally: Tally, at: string): void {
  const gm = decodeGroupMessage(message, littleEndian);
  assert.equal(gm.groups.length, 1, `${at}: one group per message`);
  if (groupMatches(gm, GROUP_A)) tally.groupA++;
  else if (groupMatches(gm, GROUP_SYNC)) tally.groupSync++;
  else assert.fail(`${at}: unexpected group ${bytesToHex(gm.groups[0]!)}`);
  assert.ok(gm.body.byteLength >= 16, `${at}: body holds a qb header`);
  const size = new DataView(gm.body.buffer, gm.body.byteOffset).getInt32(8, littleEndian);
  assert.equal(size, gm.body.byteLength, `${at}: qb header size equals the body length`);
}

function checkMcastPayload(f: GoldenFrame, m: Mcast, tally: Tally): void {
  const packet = decodePgPacket(m.payload, m.bigEndian !== true);
  tally.pgPackets++;
  assert.equal(packet.version, 0, `${where(f)}: totempg version`);
  assert.equal(packet.type, 0, `${where(f)}: totempg type`);
  packet.pieces.forEach((piece, i) => {
    if (!isWholePiece(packet, i)) return;
    tally.wholePieces++;
    checkServiceMessage(piece, m.bigEndian !== true, tally, `${where(f)} piece ${i}`);
  });
  const key = `${f.source}/${m.nodeId}`;
  for (const whole of tally.assembler.push(key, m, packet)) checkServiceMessage(whole, true, tally, `${where(f)} joined`);
}

function checkFrame(f: GoldenFrame, tally: Tally): TotemMessage {
  const res = tryDecodeTotem(f.bytes);
  if (!res.ok) assert.fail(`${where(f)}: ${res.error.code} at ${res.error.field}: ${res.error.message}`);
  const msg = res.msg;
  assert.equal(bytesToHex(encodeTotem(msg)), bytesToHex(f.bytes), `${where(f)}: re-encode`);
  assert.equal(f.bytes.byteLength, f.len, `${where(f)}: len`);
  assert.equal(TYPE_NAMES[msg.type], f.type, `${where(f)}: type`);
  assert.equal(msg.nodeId, f.nodeid, `${where(f)}: nodeid`);
  assert.equal(msg.type === MessageType.MCAST ? msg.encapsulated : 0, f.encapsulated, `${where(f)}: encapsulated`);
  const h = peekHeader(f.bytes);
  assert.deepEqual([h.type, h.nodeId, h.targetNodeId, h.littleEndian], [msg.type, msg.nodeId, msg.targetNodeId, true]);
  tally.frames[msg.type]!++;
  if (msg.type === MessageType.MCAST && msg.encapsulated === 2) checkMcastPayload(f, msg, tally);
  return msg;
}

function report(label: string, tally: Tally): string {
  const perType = TYPE_NAMES.map((n, i) => `${n} ${tally.frames[i]}`).join(", ");
  const s = tally.assembler.stats;
  return (
    `${label}: ${perType}; ${tally.pgPackets} totempg packets, ${tally.wholePieces} whole pieces ` +
    `(a ${tally.groupA}, sync ${tally.groupSync} incl. joined), ${s.joined} fragmented messages joined`
  );
}

function checkAll(frames: GoldenFrame[], tally: Tally): void {
  const nonTotem = frames.filter((f) => f.type === undefined);
  assert.deepEqual(nonTotem, [], "every captured datagram is a Totem frame");
  for (const f of frames) checkFrame(f, tally);
  assert.equal(tally.assembler.stats.mismatches, 0, "no continuation mismatches");
}

test("golden fixture: every frame decodes, re-encodes byte for byte and matches the capture", (t) => {
  const tally = newTally();
  checkAll(loadFixtureFrames(), tally);
  t.diagnostic(report("fixture", tally));
  tally.frames.forEach((n, type) => assert.ok(n > 0, `the fixture has ${TYPE_NAMES[type]} frames`));
  assert.ok(tally.groupA > 0 && tally.groupSync > 0, "both groups seen");
  assert.ok(tally.assembler.stats.joined > 0, "fragmented messages seen");
});

test("golden shared captures (full): every frame decodes and re-encodes", (t) => {
  const dir = sharedCaptureDir();
  if (!dir) {
    t.skip("shared captures not found (../shared/testdata/corosync-3.1.7-udpu): only the in-repo fixture was checked");
    return;
  }
  for (const [name, frames] of loadSharedCaptures(dir)) {
    const tally = newTally();
    checkAll(frames, tally);
    t.diagnostic(report(name, tally));
    assert.equal(
      tally.frames.reduce((a, b) => a + b, 0),
      frames.length,
      `${name}: every frame checked`,
    );
    const present = new Set(frames.map((f) => f.type));
    tally.frames.forEach((n, type) => {
      if (present.has(TYPE_NAMES[type])) assert.ok(n > 0, `${name}: ${TYPE_NAMES[type]} frames checked`);
    });
  }
});

/** The structure of a message without the fields that differ by byte order by design. */
function comparable(msg: TotemMessage): object {
  if (msg.type !== MessageType.MCAST) return msg;
  const { payload: _payload, bigEndian: _bigEndian, ...rest } = msg;
  return rest;
}

test("big-endian renditions of the golden frames decode to the same structures", (t) => {
  const counts = [0, 0, 0, 0, 0, 0];
  let pieces = 0;
  for (const f of loadFixtureFrames()) {
    const le = decodeTotem(f.bytes);
    const be = toBigEndian(f.bytes);
    assert.notEqual(bytesToHex(be), bytesToHex(f.bytes));
    const msg = decodeTotem(be);
    assert.deepEqual(comparable(msg), comparable(le), `${where(f)}: big-endian decode`);
    assert.equal(peekHeader(be).littleEndian, false);
    counts[msg.type]!++;
    if (msg.type !== MessageType.MCAST) {
      assert.equal(bytesToHex(encodeTotem(msg)), bytesToHex(f.bytes), `${where(f)}: re-encoded little-endian`);
      continue;
    }
    assert.equal(msg.bigEndian, true);
    assert.equal(le.type === MessageType.MCAST && le.bigEndian, undefined);
    assert.equal(bytesToHex(encodeTotem(msg)), bytesToHex(be), `${where(f)}: a big-endian mcast stays big-endian`);
    const lePacket = decodePgPacket((le as Mcast).payload, true);
    const bePacket = decodePgPacket(msg.payload, false);
    assert.deepEqual([bePacket.fragmented, bePacket.continuation], [lePacket.fragmented, lePacket.continuation]);
    assert.equal(bePacket.pieces.length, lePacket.pieces.length);
    bePacket.pieces.forEach((piece, i) => {
      if (i === 0 && bePacket.continuation !== 0) {
        assert.deepEqual(piece, lePacket.pieces[0]);
        return;
      }
      pieces++;
      assert.deepEqual(decodeGroupMessage(piece, false), decodeGroupMessage(lePacket.pieces[i]!, true));
    });
  }
  t.diagnostic(`big-endian: ${TYPE_NAMES.map((n, i) => `${n} ${counts[i]}`).join(", ")}; ${pieces} group headers`);
  counts.forEach((n, type) => assert.ok(n > 0, `${TYPE_NAMES[type]} checked big-endian`));
});
