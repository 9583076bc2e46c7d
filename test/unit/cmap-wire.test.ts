/**
 * cmap's byte layouts: typed values (src/wire/cmap/value.ts), the IPC messages
 * (src/wire/cmap/ipc.ts, libqb-ipc-spec.md §2.2) and the CMAP exec message
 * (src/wire/cmap/exec.ts, totem-spec §7.4) — golden bytes from real corosync 3.1.7 traffic,
 * round trips, offsets, and hostile input (only DecodeError / CmapError ever comes out).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CmapType, type CmapValue } from "../../src/core/cmap/types.js";
import { isCmapError } from "../../src/core/cmap/errors.js";
import { DecodeError } from "../../src/wire/errors.js";
import { cmapValueLength, decodeCmapValue, encodeCmapValue } from "../../src/wire/cmap/value.js";
import {
  CmapReqId,
  decodeCmapRequest,
  decodeGetResponse,
  decodeHandleResponse,
  decodeIterNextResponse,
  decodeNotifyEvent,
  encodeCmapErrorResponse,
  encodeCmapRequest,
  encodeGetResponse,
  encodeIterNextResponse,
  encodeNotifyEvent,
  encodeTrackAddResponse,
  type CmapRequest,
} from "../../src/wire/cmap/ipc.js";
import { CMAP_MCAST_ITEMS_MAX, decodeCmapMcast, encodeCmapMcast } from "../../src/wire/cmap/exec.js";
import { decodeTotem } from "../../src/wire/totem/codec.js";
import { decodeGroupMessage, decodePgPacket, GROUP_A, groupMatches, isWholePiece } from "../../src/wire/pg/packet.js";
import { MessageType } from "../../src/wire/totem/types.js";
import { bytesToHex, loadFixtureFrames, loadSharedCaptures, sharedCaptureDir, type GoldenFrame } from "../golden/frames.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

test("values: each type's bytes as icmap stores them, and back", () => {
  const cases: Array<[CmapValue, string]> = [
    [{ type: CmapType.INT8, value: -2 }, "fe"],
    [{ type: CmapType.UINT8, value: 200 }, "c8"],
    [{ type: CmapType.INT16, value: -2 }, "feff"],
    [{ type: CmapType.UINT16, value: 5405 }, "1d15"],
    [{ type: CmapType.INT32, value: -1 }, "ffffffff"],
    [{ type: CmapType.UINT32, value: 3650 }, "420e0000"],
    [{ type: CmapType.INT64, value: -2n }, "feffffffffffffff"],
    [{ type: CmapType.UINT64, value: 7n }, "0700000000000000"],
    [{ type: CmapType.FLOAT, value: 1.5 }, "0000c03f"],
    [{ type: CmapType.DOUBLE, value: 0.5 }, "000000000000e03f"],
    [{ type: CmapType.STRING, value: "udpu" }, "7564707500"],
    [{ type: CmapType.BINARY, value: new Uint8Array([0, 1, 0xff]) }, "0001ff"],
  ];
  for (const [v, h] of cases) {
    assert.equal(hex(encodeCmapValue(v)), h, `encode ${v.type}`);
    assert.equal(cmapValueLength(v), h.length / 2);
    assert.deepEqual(decodeCmapValue("k", v.type, Buffer.from(h, "hex")), v);
  }
});

test("values: icmap's length rules; bad types, widths, NaN and non-UTF-8 are INVALID_PARAM", () => {
  const bytes = (s: string) => new Uint8Array(Buffer.from(s, "hex"));
  // A string may be shorter than its text (cut there), never longer than text + NUL.
  assert.deepEqual(decodeCmapValue("k", CmapType.STRING, new TextEncoder().encode("hel")), { type: CmapType.STRING, value: "hel" });
  assert.deepEqual(decodeCmapValue("k", CmapType.STRING, new Uint8Array(0)), { type: CmapType.STRING, value: "" });
  const refused: Array<[number, Uint8Array]> = [
    [CmapType.STRING, bytes("61620000")], // "ab" + NUL + extra byte
    [CmapType.UINT32, bytes("0100")], // wrong width
    [CmapType.UINT8, bytes("")],
    [0, bytes("")], // type 0 is "absent", not a value
    [13, bytes("00")],
    [99, bytes("")],
    [CmapType.DOUBLE, bytes("000000000000f87f")], // NaN
    [CmapType.FLOAT, bytes("0000807f")], // +inf
    [CmapType.STRING, bytes("ff00")], // not UTF-8
    [CmapType.BINARY, new Uint8Array(16 * 1024 + 1)],
  ];
  for (const [type, b] of refused) {
    assert.throws(() => decodeCmapValue("k", type, b), (e) => isCmapError(e, "INVALID_PARAM"), `type ${type} ${hex(b)}`);
  }
});

test("IPC requests: layouts at corosync's offsets and sizes, round trip", () => {
  const key = { length: 12, text: "totem.token" };
  const reqs: CmapRequest[] = [
    { id: CmapReqId.SET, key, valueLen: 4n, type: CmapType.UINT32, value: new Uint8Array([1, 2, 3, 4]) },
    { id: CmapReqId.DELETE, key },
    { id: CmapReqId.GET, key, valueLen: 0n },
    { id: CmapReqId.ADJUST_INT, key, step: -1 },
    { id: CmapReqId.ITER_INIT, prefix: { length: 5, text: "totem" } },
    { id: CmapReqId.ITER_NEXT, iterHandle: 0x1122334455667788n },
    { id: CmapReqId.ITER_FINALIZE, iterHandle: 3n },
    { id: CmapReqId.TRACK_ADD, key, trackType: 14, trackInstHandle: 0xdeadbeefn },
    { id: CmapReqId.TRACK_DELETE, trackHandle: 9n },
    { id: CmapReqId.SET_CURRENT_MAP, map: 1 },
  ];
  const sizes = [300, 280, 288, 288, 280, 24, 24, 296, 24, 24];
  reqs.forEach((r, i) => {
    const b = encodeCmapRequest(r);
    assert.equal(b.byteLength, sizes[i], `request ${r.id} size`);
    const dv = new DataView(b.buffer);
    assert.equal(dv.getInt32(0, true), r.id);
    assert.equal(dv.getInt32(8, true), b.byteLength);
    const back = decodeCmapRequest(b);
    if ("key" in back) back.key.length = "key" in r ? r.key.length : 0;
    if ("prefix" in back) back.prefix.length = 5;
    assert.deepEqual(back, r);
    assert.equal(hex(encodeCmapRequest(back)), hex(b));
  });
  const set = encodeCmapRequest(reqs[0]!);
  const dv = new DataView(set.buffer);
  assert.equal(dv.getUint16(16, true), 11, "key length @16");
  assert.equal(new TextDecoder().decode(set.subarray(24, 35)), "totem.token", "key text @24");
  assert.equal(dv.getBigUint64(280, true), 4n, "value_len @280");
  assert.equal(set[288], CmapType.UINT32, "type @288");
  assert.equal(hex(set.subarray(296)), "01020304", "value @296");
});

test("IPC responses and the NOTIFY event: sizes and offsets libcmap reads", () => {
  const get = encodeGetResponse(1, 4, CmapType.UINT32, new Uint8Array([0x42, 0x0e, 0, 0]), 4);
  assert.equal(get.byteLength, 44);
  assert.deepEqual(decodeGetResponse(get), { id: 2, size: 44, error: 1, valueLen: 4, type: 6, value: new Uint8Array([0x42, 0x0e, 0, 0]) });
  assert.equal(encodeCmapErrorResponse(CmapReqId.GET, 12).byteLength, 40, "GET error: 40 bytes");
  assert.equal(encodeCmapErrorResponse(CmapReqId.ITER_NEXT, 27).byteLength, 304);
  assert.equal(new DataView(encodeCmapErrorResponse(CmapReqId.SET_CURRENT_MAP, 1).buffer).getInt32(0, true), 10, "SET_CURRENT_MAP answers id 10");
  const next = encodeIterNextResponse(1, "totem.version", 4, CmapType.UINT32);
  assert.equal(next.byteLength, 304);
  assert.deepEqual(decodeIterNextResponse(next), { id: 5, size: 304, error: 1, key: "totem.version", valueLen: 4, type: 6 });
  assert.deepEqual(decodeHandleResponse(encodeTrackAddResponse(1, 77n)), { id: 7, size: 32, error: 1, handle: 77n });
  const ev = { trackInstHandle: 5n, key: "a.b.c", event: 2, newType: 6, oldType: 11, newValue: new Uint8Array([1, 0, 0, 0]), oldValue: new Uint8Array([0x78, 0]) };
  const b = encodeNotifyEvent(ev);
  assert.equal(b.byteLength, 336 + 4 + 2);
  const dv = new DataView(b.buffer);
  assert.equal(dv.getInt32(0, true), 9);
  assert.equal(dv.getBigUint64(24, true), 5n, "track_inst_handle @24");
  assert.equal(dv.getInt32(296, true), 2, "event @296");
  assert.equal([b[304], b[312]].join(), "6,11", "types @304/@312");
  assert.equal(dv.getBigUint64(320, true), 4n);
  assert.equal(dv.getBigUint64(328, true), 2n);
  assert.deepEqual(decodeNotifyEvent(b), ev);
});

test("IPC requests from a hostile client: only DecodeError, never a crash", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: -2, max: 12 }), (bytes, id) => {
      const m = new Uint8Array(Math.max(16, bytes.byteLength));
      m.set(bytes);
      new DataView(m.buffer).setInt32(0, id, true);
      try {
        decodeCmapRequest(m);
      } catch (e) {
        assert.ok(e instanceof DecodeError, String(e));
      }
    }),
    { numRuns: 3000 },
  );
  const set = encodeCmapRequest({ id: CmapReqId.SET, key: { length: 3, text: "a.b" }, valueLen: 2n, type: 11, value: new Uint8Array([0x61, 0]) });
  new DataView(set.buffer).setBigUint64(280, 1n << 62n, true);
  assert.throws(() => decodeCmapRequest(set), (e) => e instanceof DecodeError && e.code === "BAD_LENGTHS");
});

/** The CMAP exec messages inside the captured frames (group "a", service 0). */
function cmapMessages(frames: GoldenFrame[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of frames) {
    if (f.type !== "mcast") continue;
    const m = decodeTotem(f.bytes);
    if (m.type !== MessageType.MCAST || m.encapsulated !== 2) continue;
    const packet = decodePgPacket(m.payload, m.bigEndian !== true);
    packet.pieces.forEach((piece, i) => {
      if (!isWholePiece(packet, i)) return;
      const gm = decodeGroupMessage(piece, true);
      if (!groupMatches(gm, GROUP_A) || gm.body.byteLength < 16) return;
      if (new DataView(gm.body.buffer, gm.body.byteOffset).getInt32(0, true) >>> 16 === 0) out.push(gm.body);
    });
  }
  return out;
}

test("golden: real corosync 3.1.7 CMAP sync messages decode and re-encode byte for byte", (t) => {
  let frames = loadFixtureFrames();
  const dir = sharedCaptureDir();
  if (dir) for (const fs of loadSharedCaptures(dir).values()) frames = frames.concat(fs);
  const msgs = cmapMessages(frames);
  assert.ok(msgs.length > 0, "the captures hold CMAP messages");
  for (const b of msgs) {
    const m = decodeCmapMcast(b);
    assert.equal(m.reason, 0, "reason SYNC");
    assert.deepEqual(m.items.map((i) => [i.key, i.type, i.value.byteLength]), [["totem.config_version", 0, 0]], "config_version unset on those nodes");
    assert.equal(bytesToHex(encodeCmapMcast(m)), bytesToHex(b));
  }
  t.diagnostic(`${msgs.length} CMAP messages checked`);
});

test("CMAP exec message: u64 item layout, big-endian senders, bounds", () => {
  const value = new Uint8Array(8);
  new DataView(value.buffer).setBigUint64(0, 42n, true);
  const b = encodeCmapMcast({ reason: 1, items: [{ key: "totem.config_version", type: CmapType.UINT64, value }] });
  assert.equal(b.byteLength, 48 + 288);
  assert.equal(new DataView(b.buffer).getInt32(8, true), 336, "header size");
  assert.equal(b[16], 1, "reason @16");
  assert.equal(b[24], 1, "no_items @24");
  assert.equal(new DataView(b.buffer).getUint16(48, true), 20, "key length");
  assert.equal(b[48 + 264], CmapType.UINT64, "value_type @264");
  assert.equal(new DataView(b.buffer).getBigUint64(48 + 272, true), 8n, "value_len @272");
  assert.equal(new DataView(b.buffer).getBigUint64(48 + 280, true), 42n, "value @280");
  // The same message from a big-endian sender.
  const be = b.slice();
  const dv = new DataView(be.buffer);
  dv.setInt32(8, 336, false);
  dv.setUint16(48, 20, false);
  dv.setBigUint64(48 + 272, 8n, false);
  dv.setBigUint64(48 + 280, 42n, false);
  const m = decodeCmapMcast(be, false);
  assert.equal(new DataView(m.items[0]!.value.buffer, m.items[0]!.value.byteOffset).getBigUint64(0, false), 42n);
  const tooMany = b.slice();
  tooMany[24] = CMAP_MCAST_ITEMS_MAX + 1;
  assert.throws(() => decodeCmapMcast(tooMany), (e) => e instanceof DecodeError && e.code === "COUNT_LIMIT");
  assert.throws(() => decodeCmapMcast(b.subarray(0, 100)), (e) => e instanceof DecodeError);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 700 }), fc.boolean(), (bytes, le) => {
      try {
        decodeCmapMcast(bytes, le);
      } catch (e) {
        assert.ok(e instanceof DecodeError, String(e));
      }
    }),
    { numRuns: 3000 },
  );
});
