import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CmapType, type CmapValue } from "../../src/core/cmap/types.js";
import { CmapError, CsError, isCmapError } from "../../src/core/cmap/errors.js";
import {
  CMAP_TRACK_ADD,
  CMAP_TRACK_DELETE,
  CMAP_TRACK_MODIFY,
  CMAP_TRACK_PREFIX,
  CmapStore,
  MAX_NOTIFY_DEPTH,
  type CmapNotification,
} from "../../src/core/cmap/store.js";
import { ICMAP_KEYNAME_MAXLEN, isValidKeyName, toValidKeyName } from "../../src/core/cmap/keys.js";
import { ICMAP_MAX_VALUE_LEN, cmapValueEquals } from "../../src/core/cmap/values.js";
import { applyCorosyncReadOnlyKeys } from "../../src/core/cmap/readonly.js";

const u32 = (value: number): CmapValue => ({ type: CmapType.UINT32, value });
const str = (value: string): CmapValue => ({ type: CmapType.STRING, value });

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => isCmapError(e) && e.code === code, `expected CmapError ${code}`);
}

test("set/get roundtrip and set results", () => {
  const s = new CmapStore();
  assert.equal(s.set("totem.token", u32(3000)), "added");
  assert.deepEqual(s.get("totem.token"), u32(3000));
  assert.equal(s.set("totem.token", u32(3000)), "unchanged");
  assert.equal(s.set("totem.token", u32(5000)), "modified");
  assert.equal(s.get("nope.key"), undefined);
  assert.equal(s.size, 1);
});

test("setting a different type replaces the key, as icmap does", () => {
  const s = new CmapStore();
  s.set("totem.token", str("3000"));
  assert.equal(s.set("totem.token", u32(3000)), "modified");
  assert.deepEqual(s.get("totem.token"), u32(3000));
});

test("integer ranges per type are enforced with INVALID_PARAM", () => {
  const s = new CmapStore();
  const cases: Array<[CmapValue, boolean]> = [
    [{ type: CmapType.INT8, value: -128 }, true],
    [{ type: CmapType.INT8, value: 127 }, true],
    [{ type: CmapType.INT8, value: 128 }, false],
    [{ type: CmapType.INT8, value: -129 }, false],
    [{ type: CmapType.UINT8, value: 255 }, true],
    [{ type: CmapType.UINT8, value: -1 }, false],
    [{ type: CmapType.INT16, value: -32768 }, true],
    [{ type: CmapType.INT16, value: 32768 }, false],
    [{ type: CmapType.UINT16, value: 65535 }, true],
    [{ type: CmapType.UINT16, value: 65536 }, false],
    [{ type: CmapType.INT32, value: -0x80000000 }, true],
    [{ type: CmapType.INT32, value: 0x80000000 }, false],
    [{ type: CmapType.UINT32, value: 0xffffffff }, true],
    [{ type: CmapType.UINT32, value: 0x100000000 }, false],
    [{ type: CmapType.UINT32, value: 1.5 }, false],
    [{ type: CmapType.UINT32, value: Number.NaN }, false],
    [{ type: CmapType.INT64, value: -(1n << 63n) }, true],
    [{ type: CmapType.INT64, value: 1n << 63n }, false],
    [{ type: CmapType.UINT64, value: (1n << 64n) - 1n }, true],
    [{ type: CmapType.UINT64, value: 1n << 64n }, false],
    [{ type: CmapType.UINT64, value: -1n }, false],
  ];
  for (const [v, ok] of cases) {
    if (ok) s.set("a.key", v);
    else throwsCode(() => s.set("a.key", v), "INVALID_PARAM");
  }
  // A 64-bit type wants a bigint, a 32-bit one a number.
  throwsCode(() => s.set("a.key", { type: CmapType.UINT64, value: 5 as unknown as bigint }), "INVALID_PARAM");
  throwsCode(() => s.set("a.key", { type: CmapType.UINT32, value: 5n as unknown as number }), "INVALID_PARAM");
  throwsCode(() => s.set("a.key", { type: 99, value: 1 } as unknown as CmapValue), "INVALID_PARAM");
});

test("float is rounded to single precision; non-finite and out-of-range refused", () => {
  const s = new CmapStore();
  s.set("a.flt", { type: CmapType.FLOAT, value: 0.1 });
  assert.equal(s.get("a.flt")?.value, Math.fround(0.1));
  throwsCode(() => s.set("a.flt", { type: CmapType.FLOAT, value: 1e39 }), "INVALID_PARAM");
  throwsCode(() => s.set("a.flt", { type: CmapType.FLOAT, value: Number.POSITIVE_INFINITY }), "INVALID_PARAM");
  s.set("a.dbl", { type: CmapType.DOUBLE, value: 1e300 });
  throwsCode(() => s.set("a.dbl", { type: CmapType.DOUBLE, value: Number.NaN }), "INVALID_PARAM");
});

test("strings: no NUL, well-formed, bounded by ICMAP_MAX_VALUE_LEN with the NUL", () => {
  const s = new CmapStore();
  throwsCode(() => s.set("a.str", str("a\0b")), "INVALID_PARAM");
  throwsCode(() => s.set("a.str", str("x\uD800y")), "INVALID_PARAM");
  s.set("a.str", str("x".repeat(ICMAP_MAX_VALUE_LEN - 1)));
  throwsCode(() => s.set("a.str", str("x".repeat(ICMAP_MAX_VALUE_LEN))), "INVALID_PARAM");
  // two-byte characters count twice
  throwsCode(() => s.set("a.str", str("é".repeat(ICMAP_MAX_VALUE_LEN / 2))), "INVALID_PARAM");
  s.set("a.str", str("😀 ok"));
});

test("binary values are copied in and out", () => {
  const s = new CmapStore();
  const bytes = new Uint8Array([1, 2, 3]);
  s.set("a.bin", { type: CmapType.BINARY, value: bytes });
  bytes[0] = 9;
  const got = s.get("a.bin");
  assert.deepEqual(got, { type: CmapType.BINARY, value: new Uint8Array([1, 2, 3]) });
  (got!.value as Uint8Array)[1] = 9;
  assert.deepEqual(s.get("a.bin")?.value, new Uint8Array([1, 2, 3]));
  throwsCode(() => s.set("a.bin", { type: CmapType.BINARY, value: new Uint8Array(ICMAP_MAX_VALUE_LEN + 1) }), "INVALID_PARAM");
  throwsCode(() => s.set("a.bin", { type: CmapType.BINARY, value: [1, 2] as unknown as Uint8Array }), "INVALID_PARAM");
});

test("key names are checked like icmap: 3..255 chars of [A-Za-z0-9_./:-]; NAME_TOO_LONG", () => {
  assert.equal(isValidKeyName("abc"), true);
  assert.equal(isValidKeyName("ab"), false);
  assert.equal(isValidKeyName("a".repeat(ICMAP_KEYNAME_MAXLEN)), true);
  assert.equal(isValidKeyName("a".repeat(ICMAP_KEYNAME_MAXLEN + 1)), false);
  assert.equal(isValidKeyName("runtime.connections.corosync-cmapct:1234:0x55d1/x"), true);
  assert.equal(isValidKeyName("has space"), false);
  assert.equal(isValidKeyName("tab\there"), false);
  assert.equal(isValidKeyName(""), false);
  const s = new CmapStore();
  throwsCode(() => s.set("has space", u32(1)), "NAME_TOO_LONG");
  throwsCode(() => s.set("a".repeat(256), u32(1)), "NAME_TOO_LONG");
  throwsCode(() => s.set("", u32(1)), "NAME_TOO_LONG");
  throwsCode(() => s.set(5 as unknown as string, u32(1)), "INVALID_PARAM");
  assert.equal(toValidKeyName("cpg tool/é"), "cpg_tool/__");
});

test("CmapError carries the cs_error_t number", () => {
  const e = new CmapError("ACCESS", "x");
  assert.equal(e.csError, CsError.ACCESS);
  assert.equal(e.csError, 11);
  assert.equal(new CmapError("NOT_EXIST", "x").csError, 12);
  assert.equal(new CmapError("NAME_TOO_LONG", "x").csError, 13);
});

test("delete returns the old value; NOT_EXIST when absent", () => {
  const s = new CmapStore();
  s.set("a.b.c", u32(1));
  assert.deepEqual(s.delete("a.b.c"), u32(1));
  assert.equal(s.has("a.b.c"), false);
  throwsCode(() => s.delete("a.b.c"), "NOT_EXIST");
});

test("read-only keys: exact and prefix rules refuse clients with ACCESS; owner forces", () => {
  const s = new CmapStore();
  s.set("runtime.config.totem.token", u32(3650));
  s.set("totem.cluster_name", str("c"));
  s.set("totem.token", u32(3000));
  s.setReadOnly("runtime.config.", true);
  s.setReadOnly("totem.cluster_name", false);
  assert.equal(s.isReadOnly("runtime.config.totem.token"), true);
  assert.equal(s.isReadOnly("runtime.config.anything.new"), true);
  assert.equal(s.isReadOnly("totem.cluster_name"), true);
  assert.equal(s.isReadOnly("totem.cluster_name2"), false);
  assert.equal(s.isReadOnly("totem.token"), false);
  throwsCode(() => s.set("runtime.config.totem.token", u32(1)), "ACCESS");
  // even an unchanged value is refused: the service checks read-only first
  throwsCode(() => s.set("totem.cluster_name", str("c")), "ACCESS");
  throwsCode(() => s.set("runtime.config.new.key", u32(1)), "ACCESS");
  throwsCode(() => s.delete("totem.cluster_name"), "ACCESS");
  throwsCode(() => s.adjustInt("runtime.config.totem.token", 1), "ACCESS");
  assert.equal(s.set("runtime.config.totem.token", u32(1), { force: true }), "modified");
  assert.deepEqual(s.delete("totem.cluster_name", { force: true }), str("c"));
  s.set("totem.token", u32(1));
  throwsCode(() => s.setReadOnly("runtime.config.", true), "EXIST");
  s.clearReadOnly("runtime.config.", true);
  throwsCode(() => s.clearReadOnly("runtime.config.", true), "NOT_EXIST");
  s.set("runtime.config.totem.token", u32(2));
});

test("corosync's start-up read-only rules", () => {
  const s = new CmapStore();
  applyCorosyncReadOnlyKeys(s);
  assert.equal(s.isReadOnly("nodelist.node.0.ring0_addr"), true);
  assert.equal(s.isReadOnly("totem.version"), true);
  assert.equal(s.isReadOnly("totem.token"), false);
  assert.equal(s.isReadOnly("logging.debug"), false);
});

test("iteration by prefix is byte-wise sorted and prefix-filtered", () => {
  const s = new CmapStore();
  for (const k of ["totem.token", "totem.interface.0.mcastport", "totemx.a", "totem.Z", "nodelist.node.0.nodeid", "totem.interface.10.x", "totem.interface.2.x"]) {
    s.set(k, u32(1));
  }
  assert.deepEqual(s.keys("totem."), ["totem.Z", "totem.interface.0.mcastport", "totem.interface.10.x", "totem.interface.2.x", "totem.token"]);
  assert.deepEqual(s.keys("totem"), ["totem.Z", "totem.interface.0.mcastport", "totem.interface.10.x", "totem.interface.2.x", "totem.token", "totemx.a"]);
  assert.deepEqual(
    [...s.iter("nodelist.")].map((e) => e.key),
    ["nodelist.node.0.nodeid"],
  );
  assert.deepEqual(s.keys("zzz"), []);
  assert.equal(s.getMany().length, 7);
  assert.deepEqual(s.getMany("totemx."), [{ key: "totemx.a", value: u32(1) }]);
});

test("an iterator survives deletes and inserts while it runs", () => {
  const s = new CmapStore();
  for (const k of ["p.a", "p.b", "p.c", "p.d", "q.a"]) s.set(k, u32(1));
  const seen: string[] = [];
  for (const { key } of s.iter("p.")) {
    seen.push(key);
    if (key === "p.a") {
      s.delete("p.a");
      s.delete("p.c");
      s.set("p.bb", u32(2));
      s.set("p.0", u32(2)); // before the cursor: not seen
    }
  }
  assert.deepEqual(seen, ["p.a", "p.b", "p.bb", "p.d"]);
});

test("deletePrefix removes a subtree; read-only keys refuse it as a whole", () => {
  const s = new CmapStore();
  for (const k of ["runtime.members.1.ip", "runtime.members.1.status", "runtime.members.2.ip"]) s.set(k, str("x"));
  assert.equal(s.deletePrefix("runtime.members.1."), 2);
  assert.deepEqual(s.keys(), ["runtime.members.2.ip"]);
  s.setReadOnly("runtime.members.2.ip", false);
  throwsCode(() => s.deletePrefix("runtime."), "ACCESS");
  assert.equal(s.size, 1);
  assert.equal(s.deletePrefix("runtime.", { force: true }), 1);
});

test("adjustInt wraps at the type's width like cmap_inc/cmap_dec", () => {
  const s = new CmapStore();
  s.set("c.u8", { type: CmapType.UINT8, value: 255 });
  assert.deepEqual(s.adjustInt("c.u8", 1), { type: CmapType.UINT8, value: 0 });
  s.set("c.i8", { type: CmapType.INT8, value: 127 });
  assert.deepEqual(s.adjustInt("c.i8", 1), { type: CmapType.INT8, value: -128 });
  s.set("c.u32", u32(0));
  assert.deepEqual(s.adjustInt("c.u32", -1), u32(0xffffffff));
  s.set("c.u64", { type: CmapType.UINT64, value: (1n << 64n) - 1n });
  assert.deepEqual(s.adjustInt("c.u64", 2), { type: CmapType.UINT64, value: 1n });
  s.set("c.i64", { type: CmapType.INT64, value: 5n });
  assert.deepEqual(s.adjustInt("c.i64", -10), { type: CmapType.INT64, value: -5n });
  s.set("c.str", str("1"));
  throwsCode(() => s.adjustInt("c.str", 1), "INVALID_PARAM");
  s.set("c.flt", { type: CmapType.FLOAT, value: 1 });
  throwsCode(() => s.adjustInt("c.flt", 1), "INVALID_PARAM");
  throwsCode(() => s.adjustInt("c.none", 1), "NOT_EXIST");
  throwsCode(() => s.adjustInt("c.u32", 0x80000000), "INVALID_PARAM");
  throwsCode(() => s.adjustInt("c.u32", 0.5), "INVALID_PARAM");
});

test("tracking: add, modify, delete with old and new values; exact vs prefix", () => {
  const s = new CmapStore();
  const exact: CmapNotification[] = [];
  const prefix: CmapNotification[] = [];
  s.track("totem.token", { events: CMAP_TRACK_ADD | CMAP_TRACK_MODIFY | CMAP_TRACK_DELETE }, (n) => exact.push(n));
  s.track("totem.", { prefix: true, events: CMAP_TRACK_ADD | CMAP_TRACK_MODIFY | CMAP_TRACK_DELETE }, (n) => prefix.push(n));
  s.set("totem.token", u32(3000));
  s.set("totem.token", u32(3000)); // unchanged: nobody told
  s.set("totem.token", u32(5000));
  s.set("totem.consensus", u32(6000));
  s.set("quorum.provider", str("corosync_votequorum"));
  s.delete("totem.token");
  assert.deepEqual(exact, [
    { event: CMAP_TRACK_ADD, key: "totem.token", newValue: u32(3000) },
    { event: CMAP_TRACK_MODIFY, key: "totem.token", newValue: u32(5000), oldValue: u32(3000) },
    { event: CMAP_TRACK_DELETE, key: "totem.token", oldValue: u32(5000) },
  ]);
  assert.deepEqual(
    prefix.map((n) => `${n.event} ${n.key}`),
    ["4 totem.token", "2 totem.token", "4 totem.consensus", "1 totem.token"],
  );
});

test("tracking: event mask filters; cancel stops; adjustInt notifies MODIFY", () => {
  const s = new CmapStore();
  const got: string[] = [];
  const h = s.track("stats.", CMAP_TRACK_MODIFY | CMAP_TRACK_PREFIX, (n) => got.push(`${n.key}=${String(n.newValue?.value)}<-${String(n.oldValue?.value)}`));
  assert.equal(h.trackType, CMAP_TRACK_MODIFY | CMAP_TRACK_PREFIX);
  s.set("stats.srp.orf_token_rx", { type: CmapType.UINT64, value: 0n }); // ADD not tracked
  s.adjustInt("stats.srp.orf_token_rx", 1);
  s.adjustInt("stats.srp.orf_token_rx", 0); // no change, no event
  assert.deepEqual(got, ["stats.srp.orf_token_rx=1<-0"]);
  assert.equal(h.active, true);
  h.cancel();
  h.cancel();
  assert.equal(h.active, false);
  s.adjustInt("stats.srp.orf_token_rx", 1);
  assert.equal(got.length, 1);
  assert.equal(s.trackerCount, 0);
  throwsCode(() => s.track("x", 16, () => {}), "INVALID_PARAM");
});

test("trackers run in registration order; a throwing one is recorded and the rest still run", () => {
  const failures: string[] = [];
  const s = new CmapStore({ onCallbackError: (f) => failures.push(`${f.trackKey}:${(f.error as Error).message}`) });
  const order: string[] = [];
  s.track("a.b", CMAP_TRACK_ADD, () => order.push("first"));
  s.track("a.", CMAP_TRACK_ADD | CMAP_TRACK_PREFIX, () => {
    order.push("second");
    throw new Error("boom");
  });
  s.track("", CMAP_TRACK_ADD | CMAP_TRACK_PREFIX, () => order.push("third"));
  assert.equal(s.set("a.b", u32(1)), "added");
  assert.deepEqual(order, ["first", "second", "third"]);
  assert.deepEqual(failures, ["a.:boom"]);
  assert.equal(s.callbackFailureCount, 1);
  assert.equal(s.callbackFailures().length, 1);
  assert.equal(s.takeCallbackFailures().length, 1);
  assert.equal(s.callbackFailures().length, 0);
  assert.deepEqual(s.get("a.b"), u32(1));
});

test("a callback cancelling a later tracker stops it for the current event too", () => {
  const s = new CmapStore();
  const got: string[] = [];
  let later: { cancel(): void } | undefined;
  s.track("k.k", CMAP_TRACK_ADD, () => {
    got.push("a");
    later?.cancel();
  });
  later = s.track("k.k", CMAP_TRACK_ADD, () => got.push("b"));
  s.set("k.k", u32(1));
  assert.deepEqual(got, ["a"]);
});

test("a callback rewriting what it watches is cut off at MAX_NOTIFY_DEPTH", () => {
  const s = new CmapStore({ maxRecordedFailures: 4 });
  let calls = 0;
  s.track("loop.key", CMAP_TRACK_ADD | CMAP_TRACK_MODIFY, (n) => {
    calls++;
    s.set("loop.key", u32(((n.newValue?.value as number) + 1) % 1000));
  });
  s.set("loop.key", u32(0));
  assert.equal(calls, MAX_NOTIFY_DEPTH);
  assert.equal(s.callbackFailureCount, 1);
  assert.equal(s.get("loop.key")?.value, MAX_NOTIFY_DEPTH);
});

test("notifications hand out copies of binary values", () => {
  const s = new CmapStore();
  s.track("b.b", CMAP_TRACK_ADD, (n) => {
    (n.newValue!.value as Uint8Array)[0] = 7;
  });
  s.set("b.b", { type: CmapType.BINARY, value: new Uint8Array([1]) });
  assert.deepEqual(s.get("b.b")?.value, new Uint8Array([1]));
});

test("cmapValueEquals compares type and bytes", () => {
  assert.equal(cmapValueEquals(u32(1), u32(1)), true);
  assert.equal(cmapValueEquals(u32(1), { type: CmapType.INT32, value: 1 }), false);
  assert.equal(cmapValueEquals({ type: CmapType.DOUBLE, value: 0 }, { type: CmapType.DOUBLE, value: -0 }), false);
  assert.equal(
    cmapValueEquals({ type: CmapType.BINARY, value: new Uint8Array([1, 2]) }, { type: CmapType.BINARY, value: new Uint8Array([1, 2]) }),
    true,
  );
  assert.equal(
    cmapValueEquals({ type: CmapType.BINARY, value: new Uint8Array([1, 2]) }, { type: CmapType.BINARY, value: new Uint8Array([1]) }),
    false,
  );
});

// ---- properties ----

const keyChar = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_./:-".split(""));
const keyArb = fc.string({ unit: keyChar, minLength: 3, maxLength: 40 });

const valueArb: fc.Arbitrary<CmapValue> = fc.oneof(
  fc.integer({ min: -128, max: 127 }).map((value) => ({ type: CmapType.INT8, value }) as CmapValue),
  fc.integer({ min: 0, max: 255 }).map((value) => ({ type: CmapType.UINT8, value }) as CmapValue),
  fc.integer({ min: -32768, max: 32767 }).map((value) => ({ type: CmapType.INT16, value }) as CmapValue),
  fc.integer({ min: 0, max: 65535 }).map((value) => ({ type: CmapType.UINT16, value }) as CmapValue),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }).map((value) => ({ type: CmapType.INT32, value }) as CmapValue),
  fc.integer({ min: 0, max: 0xffffffff }).map((value) => ({ type: CmapType.UINT32, value }) as CmapValue),
  fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((value) => ({ type: CmapType.INT64, value }) as CmapValue),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((value) => ({ type: CmapType.UINT64, value }) as CmapValue),
  fc.float({ noNaN: true, noDefaultInfinity: true }).map((value) => ({ type: CmapType.FLOAT, value }) as CmapValue),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => ({ type: CmapType.DOUBLE, value }) as CmapValue),
  fc.string({ unit: "grapheme", maxLength: 50 }).filter((v) => !v.includes("\0")).map((value) => ({ type: CmapType.STRING, value }) as CmapValue),
  fc.uint8Array({ maxLength: 64 }).map((value) => ({ type: CmapType.BINARY, value }) as CmapValue),
);

test("property: set then get returns an equal value, for every type", () => {
  fc.assert(
    fc.property(keyArb, valueArb, (key, value) => {
      const s = new CmapStore();
      assert.equal(s.set(key, value), "added");
      const got = s.get(key);
      assert.ok(got !== undefined && cmapValueEquals(got, value));
      assert.equal(s.set(key, value), "unchanged");
    }),
  );
});

test("property: iteration is sorted, complete and prefix-filtered", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(keyArb, fc.boolean())), fc.string({ unit: keyChar, maxLength: 3 }), (ops, prefix) => {
      const s = new CmapStore();
      const model = new Set<string>();
      for (const [k, del] of ops) {
        if (del && model.has(k)) {
          s.delete(k);
          model.delete(k);
        } else {
          s.set(k, u32(1));
          model.add(k);
        }
      }
      const expected = [...model].filter((k) => k.startsWith(prefix)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      assert.deepEqual([...s.iter(prefix)].map((e) => e.key), expected);
      assert.deepEqual(s.keys(prefix), expected);
    }),
  );
});

test("property: prefix trackers see exactly the changes under their prefix", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(keyArb, fc.integer({ min: 0, max: 3 }))), fc.string({ unit: keyChar, maxLength: 2 }), (ops, prefix) => {
      const s = new CmapStore();
      const seen: string[] = [];
      const all: string[] = [];
      s.track(prefix, CMAP_TRACK_ADD | CMAP_TRACK_MODIFY | CMAP_TRACK_DELETE | CMAP_TRACK_PREFIX, (n) => seen.push(`${n.event}:${n.key}`));
      s.track("", CMAP_TRACK_ADD | CMAP_TRACK_MODIFY | CMAP_TRACK_DELETE | CMAP_TRACK_PREFIX, (n) => all.push(`${n.event}:${n.key}`));
      for (const [k, v] of ops) {
        if (v === 3) {
          if (s.has(k)) s.delete(k);
        } else s.set(k, u32(v));
      }
      assert.deepEqual(seen, all.filter((e) => e.slice(e.indexOf(":") + 1).startsWith(prefix)));
    }),
  );
});
