/**
 * One cmap IPC connection's behaviour (src/core/cmap/session.ts) against a real store and a
 * stats map, request bytes in and response bytes out, as libcmap sees it: the two-step GET,
 * typed SET, read-only keys, bad types and values (map unchanged), iteration, tracking with
 * old/new values, SET_CURRENT_MAP, handles, limits, and hostile bytes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CmapStore } from "../../src/core/cmap/store.js";
import { applyCorosyncReadOnlyKeys } from "../../src/core/cmap/readonly.js";
import { storeMap } from "../../src/core/cmap/map.js";
import { CmapSession } from "../../src/core/cmap/session.js";
import { StatsMap } from "../../src/core/cmap/stats-map.js";
import { CmapType, type CmapEntry, type CmapValue } from "../../src/core/cmap/types.js";
import { CsError } from "../../src/core/cmap/errors.js";
import { encodeCmapValue } from "../../src/wire/cmap/value.js";
import {
  CmapReqId,
  decodeCmapResponseHeader,
  decodeGetResponse,
  decodeHandleResponse,
  decodeIterNextResponse,
  decodeNotifyEvent,
  encodeCmapRequest,
  type CmapNotifyEvent,
} from "../../src/wire/cmap/ipc.js";

const name = (text: string) => ({ length: new TextEncoder().encode(text).byteLength, text });

function setup() {
  const store = new CmapStore();
  store.set("totem.version", { type: CmapType.UINT32, value: 2 }, { force: true });
  store.set("totem.cluster_name", { type: CmapType.STRING, value: "demo" }, { force: true });
  store.set("nodelist.node.0.ring0_addr", { type: CmapType.STRING, value: "10.0.0.1" }, { force: true });
  applyCorosyncReadOnlyKeys(store);
  let statsEntries: CmapEntry[] = [{ key: "stats.srp.mcast_rx", value: { type: CmapType.UINT64, value: 1n } }];
  const cleared: string[] = [];
  const stats = new StatsMap({ entries: () => statsEntries, clear: (w) => void cleared.push(w) });
  const events: CmapNotifyEvent[] = [];
  const session = new CmapSession({ maps: { default: storeMap(store), stats }, sendEvent: (b) => void events.push(decodeNotifyEvent(b)) });
  const call = (req: Parameters<typeof encodeCmapRequest>[0]) => session.handle(encodeCmapRequest(req));
  const err = (res: Uint8Array) => decodeCmapResponseHeader(res).error;
  const set = (key: string, v: CmapValue) =>
    err(call({ id: CmapReqId.SET, key: name(key), valueLen: 0n, type: v.type, value: encodeCmapValue(v) }));
  const setRaw = (key: string, type: number, value: Uint8Array) => err(call({ id: CmapReqId.SET, key: name(key), valueLen: 0n, type, value }));
  const get = (key: string, len: bigint) => decodeGetResponse(call({ id: CmapReqId.GET, key: name(key), valueLen: len }));
  return { store, stats, session, events, call, err, set, setRaw, get, cleared, setStats: (e: CmapEntry[]) => (statsEntries = e) };
}

test("GET as corosync-cmapctl does it: length and type first, then the value in 40 + len bytes", () => {
  const s = setup();
  const first = s.get("totem.cluster_name", 0n);
  assert.deepEqual([first.error, first.size, first.valueLen, first.type], [1, 40, 5, CmapType.STRING]);
  const second = s.get("totem.cluster_name", 5n);
  assert.deepEqual([second.error, second.size, new TextDecoder().decode(second.value)], [1, 45, "demo\0"]);
  const roomy = s.get("totem.version", 100n);
  assert.deepEqual([roomy.size, roomy.valueLen], [140, 4], "response is 40 + asked, value_len the actual length");
  assert.equal(s.get("totem.cluster_name", 3n).error, CsError.INVALID_PARAM, "buffer too small");
  const missing = s.get("no.such.key", 0n);
  assert.deepEqual([missing.error, missing.size], [CsError.NOT_EXIST, 40]);
  assert.equal(s.get("totem.version", 1n << 40n).size, 44, "a huge ask is answered with the value's size");
});

test("SET of every type; read-only keys ACCESS; bad type / width / value INVALID_PARAM; map unchanged on refusal", () => {
  const s = setup();
  const values: CmapValue[] = [
    { type: CmapType.INT8, value: -5 },
    { type: CmapType.UINT16, value: 65535 },
    { type: CmapType.INT64, value: -(1n << 63n) },
    { type: CmapType.UINT64, value: (1n << 64n) - 1n },
    { type: CmapType.DOUBLE, value: 2.25 },
    { type: CmapType.STRING, value: "héllo" },
    { type: CmapType.BINARY, value: new Uint8Array([0, 92, 255]) },
  ];
  for (const v of values) {
    assert.equal(s.set("test.key", v), CsError.OK);
    assert.deepEqual(s.store.get("test.key"), v);
  }
  const before = s.store.getMany();
  assert.equal(s.set("totem.version", { type: CmapType.UINT32, value: 3 }), CsError.ACCESS, "read-only exact key");
  assert.equal(s.set("nodelist.node.0.ring0_addr", { type: CmapType.STRING, value: "x" }), CsError.ACCESS, "read-only prefix");
  assert.equal(s.setRaw("totem.version", 99, new Uint8Array(0)), CsError.ACCESS, "ACCESS is checked before the value");
  assert.equal(s.setRaw("test.key", 99, new Uint8Array(0)), CsError.INVALID_PARAM, "unknown type");
  assert.equal(s.setRaw("test.key", 0, new Uint8Array(0)), CsError.INVALID_PARAM, "type 0");
  assert.equal(s.setRaw("test.key", CmapType.UINT32, new Uint8Array(3)), CsError.INVALID_PARAM, "wrong width");
  assert.equal(s.setRaw("test.key", CmapType.DOUBLE, encodeCmapValue({ type: CmapType.DOUBLE, value: 0 }).map((_, i) => (i === 7 ? 0x7f : i === 6 ? 0xf8 : 0))), CsError.INVALID_PARAM, "NaN");
  assert.equal(s.set("ab", { type: CmapType.UINT8, value: 1 }), CsError.NAME_TOO_LONG, "name shorter than 3");
  assert.equal(s.set("bad key", { type: CmapType.UINT8, value: 1 }), CsError.NAME_TOO_LONG, "name with a space");
  assert.deepEqual(s.store.getMany(), before, "nothing changed");
  assert.equal(s.err(s.call({ id: CmapReqId.DELETE, key: name("totem.version") })), CsError.ACCESS);
  assert.equal(s.err(s.call({ id: CmapReqId.DELETE, key: name("no.such.key") })), CsError.NOT_EXIST);
  assert.equal(s.err(s.call({ id: CmapReqId.DELETE, key: name("test.key") })), CsError.OK);
  assert.equal(s.store.has("test.key"), false);
});

test("ADJUST_INT wraps like C; refuses strings and read-only keys", () => {
  const s = setup();
  s.set("test.u8", { type: CmapType.UINT8, value: 255 });
  assert.equal(s.err(s.call({ id: CmapReqId.ADJUST_INT, key: name("test.u8"), step: 1 })), CsError.OK);
  assert.deepEqual(s.store.get("test.u8"), { type: CmapType.UINT8, value: 0 });
  s.set("test.str", { type: CmapType.STRING, value: "x" });
  assert.equal(s.err(s.call({ id: CmapReqId.ADJUST_INT, key: name("test.str"), step: 1 })), CsError.INVALID_PARAM);
  assert.equal(s.err(s.call({ id: CmapReqId.ADJUST_INT, key: name("totem.cluster_name"), step: 1 })), CsError.ACCESS);
  assert.equal(s.err(s.call({ id: CmapReqId.ADJUST_INT, key: name("totem.version"), step: 1 })), CsError.ACCESS);
  assert.equal(s.err(s.call({ id: CmapReqId.ADJUST_INT, key: name("no.such"), step: 1 })), CsError.NOT_EXIST);
});

test("iteration: prefix, NO_SECTIONS at the end (and after), BAD_HANDLE, finalize", () => {
  const s = setup();
  const init = decodeHandleResponse(s.call({ id: CmapReqId.ITER_INIT, prefix: name("totem.") }));
  assert.equal(init.error, CsError.OK);
  const keys: string[] = [];
  for (;;) {
    const n = decodeIterNextResponse(s.call({ id: CmapReqId.ITER_NEXT, iterHandle: init.handle }));
    if (n.error === CsError.NO_SECTIONS) break;
    keys.push(`${n.key}/${n.type}/${n.valueLen}`);
  }
  assert.deepEqual(keys, ["totem.cluster_name/11/5", "totem.version/6/4"]);
  assert.equal(decodeIterNextResponse(s.call({ id: CmapReqId.ITER_NEXT, iterHandle: init.handle })).error, CsError.NO_SECTIONS);
  assert.equal(s.err(s.call({ id: CmapReqId.ITER_FINALIZE, iterHandle: init.handle })), CsError.OK);
  assert.equal(s.err(s.call({ id: CmapReqId.ITER_FINALIZE, iterHandle: init.handle })), CsError.BAD_HANDLE);
  assert.equal(decodeIterNextResponse(s.call({ id: CmapReqId.ITER_NEXT, iterHandle: 999n })).error, CsError.BAD_HANDLE);
  const all = decodeHandleResponse(s.call({ id: CmapReqId.ITER_INIT, prefix: { length: 0, text: "" } }));
  let count = 0;
  while (decodeIterNextResponse(s.call({ id: CmapReqId.ITER_NEXT, iterHandle: all.handle })).error === CsError.OK) count++;
  assert.equal(count, s.store.size, "an empty prefix iterates everything");
});

test("tracking: ADD / MODIFY / DELETE events with new and old values; TRACK_DELETE returns the inst handle", () => {
  const s = setup();
  const add = decodeHandleResponse(s.call({ id: CmapReqId.TRACK_ADD, key: name("test."), trackType: 4 | 2 | 1 | 8, trackInstHandle: 0xabcn }));
  assert.equal(add.error, CsError.OK);
  s.set("test.a", { type: CmapType.UINT32, value: 5 });
  s.set("test.a", { type: CmapType.UINT32, value: 5 }); // unchanged: no event
  s.set("test.a", { type: CmapType.STRING, value: "x" });
  s.err(s.call({ id: CmapReqId.DELETE, key: name("test.a") }));
  s.set("other.key", { type: CmapType.UINT8, value: 1 });
  assert.deepEqual(
    s.events.map((e) => [e.trackInstHandle, e.event, e.key, e.newType, Buffer.from(e.newValue).toString("hex"), e.oldType, Buffer.from(e.oldValue).toString("hex")]),
    [
      [0xabcn, 4, "test.a", 6, "05000000", 0, ""],
      [0xabcn, 2, "test.a", 11, "7800", 6, "05000000"],
      [0xabcn, 1, "test.a", 0, "", 11, "7800"],
    ],
  );
  const del = decodeHandleResponse(s.call({ id: CmapReqId.TRACK_DELETE, trackHandle: add.handle }));
  assert.deepEqual([del.error, del.handle], [CsError.OK, 0xabcn]);
  s.set("test.b", { type: CmapType.UINT8, value: 1 });
  assert.equal(s.events.length, 3, "no events after TRACK_DELETE");
  assert.equal(decodeHandleResponse(s.call({ id: CmapReqId.TRACK_DELETE, trackHandle: add.handle })).error, CsError.BAD_HANDLE);
  assert.equal(decodeHandleResponse(s.call({ id: CmapReqId.TRACK_ADD, key: name("x.y"), trackType: 64, trackInstHandle: 1n })).error, CsError.INVALID_PARAM);
  // An exact-key tracker sees only its key; close() drops every tracker.
  s.call({ id: CmapReqId.TRACK_ADD, key: name("test.b"), trackType: 2, trackInstHandle: 7n });
  s.set("test.bb", { type: CmapType.UINT8, value: 2 });
  s.set("test.b", { type: CmapType.UINT8, value: 3 });
  assert.deepEqual(s.events.slice(3).map((e) => [e.key, e.event]), [["test.b", 2]]);
  s.session.close();
  assert.equal(s.store.trackerCount, 0, "no tracker left in the store");
});

test("SET_CURRENT_MAP: stats map read-only but for stats.clear.*; BUSY with open handles; NOT_EXIST for map 2", () => {
  const s = setup();
  const it = decodeHandleResponse(s.call({ id: CmapReqId.ITER_INIT, prefix: name("") }));
  const busy = decodeCmapResponseHeader(s.call({ id: CmapReqId.SET_CURRENT_MAP, map: 1 }));
  assert.deepEqual([busy.id, busy.error], [10, CsError.BUSY]);
  s.call({ id: CmapReqId.ITER_FINALIZE, iterHandle: it.handle });
  assert.equal(s.err(s.call({ id: CmapReqId.SET_CURRENT_MAP, map: 2 })), CsError.NOT_EXIST);
  assert.equal(s.err(s.call({ id: CmapReqId.SET_CURRENT_MAP, map: 1 })), CsError.OK);
  assert.equal(s.get("stats.srp.mcast_rx", 8n).error, CsError.OK);
  assert.equal(s.get("totem.version", 0n).error, CsError.NOT_EXIST, "the default map is not visible");
  assert.equal(s.set("stats.srp.mcast_rx", { type: CmapType.UINT64, value: 0n }), CsError.ACCESS);
  assert.equal(s.set("stats.clear.totem", { type: CmapType.UINT32, value: 1 }), CsError.OK);
  assert.equal(s.set("stats.clear.bogus", { type: CmapType.UINT32, value: 1 }), CsError.NOT_SUPPORTED);
  assert.equal(s.err(s.call({ id: CmapReqId.DELETE, key: name("stats.srp.mcast_rx") })), CsError.ACCESS);
  assert.deepEqual(s.cleared, ["totem"]);
  assert.equal(decodeHandleResponse(s.call({ id: CmapReqId.TRACK_ADD, key: name("stats."), trackType: 8 | 4, trackInstHandle: 1n })).error, CsError.NOT_SUPPORTED);
  assert.equal(s.err(s.call({ id: CmapReqId.SET_CURRENT_MAP, map: 0 })), CsError.OK);
  assert.equal(s.get("totem.version", 0n).error, CsError.OK);
});

test("limits: iterators and trackers per connection are bounded (NO_RESOURCES)", () => {
  const store = new CmapStore();
  const session = new CmapSession({
    maps: { default: storeMap(store), stats: storeMap(store) },
    sendEvent: () => {},
    limits: { iterators: 3, trackers: 2 },
  });
  const errs = Array.from({ length: 4 }, () => decodeHandleResponse(session.handle(encodeCmapRequest({ id: CmapReqId.ITER_INIT, prefix: name("") }))).error);
  assert.deepEqual(errs, [1, 1, 1, CsError.NO_RESOURCES]);
  const terrs = Array.from({ length: 3 }, () =>
    decodeHandleResponse(session.handle(encodeCmapRequest({ id: CmapReqId.TRACK_ADD, key: name("a.b"), trackType: 4, trackInstHandle: 1n }))).error,
  );
  assert.deepEqual(terrs, [1, 1, CsError.NO_RESOURCES]);
  assert.deepEqual(session.openHandles, { iterators: 3, trackers: 2 });
});

test("hostile requests: every message gets a well-formed response, nothing throws, the store holds only valid keys", () => {
  const s = setup();
  fc.assert(
    fc.property(fc.integer({ min: -3, max: 12 }), fc.uint8Array({ minLength: 0, maxLength: 400 }), (id, body) => {
      const m = new Uint8Array(16 + body.byteLength);
      m.set(body, 16);
      const dv = new DataView(m.buffer);
      dv.setInt32(0, id, true);
      dv.setInt32(8, m.byteLength, true);
      const res = s.session.handle(m);
      const h = decodeCmapResponseHeader(res);
      assert.equal(h.size, res.byteLength);
      assert.ok(h.error >= 1 && h.error <= 100);
    }),
    { numRuns: 4000 },
  );
  for (const { key } of s.store.iter()) assert.match(key, /^[A-Za-z0-9_./:-]{3,255}$/);
  assert.ok(s.session.stats.malformed > 0);
});
