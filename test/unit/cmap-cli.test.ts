/**
 * The tools' pure parts: getopt-like parsing, corosync-cmapctl's value parsing and line
 * format, corosync-objctl's path handling; and the tools with no daemon to talk to (clear
 * error, exit 1).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { getopt, OptionError } from "../../src/cli/cli-support.js";
import { keyLine, parseValue, runCmapctl } from "../../src/cli/corosync-cmapctl.js";
import { findObject, runObjctl, splitAssignment, valueAs } from "../../src/cli/corosync-objctl.js";
import { runBlackbox } from "../../src/cli/corosync-blackbox.js";
import { CmapType } from "../../src/core/cmap/types.js";
import { CmapStore } from "../../src/core/cmap/store.js";
import { objdbTree } from "../../src/core/cmap/objdb.js";

test("getopt: bundles, values attached or next, operands anywhere, -- ends options, glibc's messages", () => {
  assert.deepEqual(getopt(["-bq", "-g", "a.b", "-mstats", "c.d"], "m:hqgb", "t"), {
    options: [{ name: "b" }, { name: "q" }, { name: "g" }, { name: "m", value: "stats" }],
    operands: ["a.b", "c.d"],
  });
  assert.deepEqual(getopt(["-s", "--", "k.k", "i32", "-5"], "s", "t").operands, ["k.k", "i32", "-5"]);
  assert.throws(() => getopt(["-x"], "ab", "prog"), (e) => e instanceof OptionError && e.message === "prog: invalid option -- 'x'");
  assert.throws(() => getopt(["-m"], "m:", "prog"), (e) => e instanceof OptionError && e.message === "prog: option requires an argument -- 'm'");
});

test("cmapctl values: ranges, strictness, the messages corosync's tool prints", () => {
  assert.deepEqual(parseValue("u8", "255"), { type: CmapType.UINT8, value: 255 });
  assert.deepEqual(parseValue("i64", "-9223372036854775808"), { type: CmapType.INT64, value: -(1n << 63n) });
  assert.deepEqual(parseValue("u64", "18446744073709551615"), { type: CmapType.UINT64, value: (1n << 64n) - 1n });
  assert.deepEqual(parseValue("dbl", "1e3"), { type: CmapType.DOUBLE, value: 1000 });
  assert.deepEqual(parseValue("str", " spaced "), { type: CmapType.STRING, value: " spaced " });
  assert.equal(parseValue("u8", "256"), "256 is not valid u8 integer");
  assert.equal(parseValue("u32", "-1"), "-1 is not valid u32 integer");
  assert.equal(parseValue("i8", "-129"), "-129 is not valid i8 integer");
  assert.equal(parseValue("u64", "18446744073709551616"), "18446744073709551616 is not valid u64 integer");
  assert.equal(parseValue("i32", "12abc"), "12abc is not valid i32 type value");
  assert.equal(parseValue("i32", "0x10"), "0x10 is not valid i32 type value");
  assert.equal(parseValue("flt", "nan"), "nan is not valid flt type value");
  assert.equal(parseValue("float", "1"), "Unknown type float");
});

test("cmapctl lines: types, floats as %f, binary hidden unless -b, quiet forms", () => {
  assert.equal(keyLine("a.b", { type: CmapType.FLOAT, value: 1.5 }, false, false), "a.b (flt) = 1.500000");
  assert.equal(keyLine("a.b", { type: CmapType.UINT64, value: 7n }, false, true), "7");
  assert.equal(keyLine("a.b", { type: CmapType.BINARY, value: new Uint8Array([0x41, 0x5c, 0x0a]) }, false, false), "a.b (bin)");
  assert.equal(keyLine("a.b", { type: CmapType.BINARY, value: new Uint8Array([0x41, 0x5c, 0x0a]) }, true, false), "a.b (bin) = A\\\\\\x0A");
  assert.equal(keyLine("a.b", { type: CmapType.BINARY, value: new Uint8Array([1]) }, true, true), "bin) = \\x01");
});

test("objctl paths: assignments, typed writes, first instance of a repeated section", () => {
  assert.deepEqual(splitAssignment("totem.interface.mcastport = 5406"), { parent: "totem.interface", key: "mcastport", value: "5406" });
  assert.deepEqual(splitAssignment('logging.logfile="a b"'), { parent: "logging", key: "logfile", value: '"a b"' });
  assert.deepEqual(valueAs(CmapType.UINT16, "5406"), { type: CmapType.UINT16, value: 5406 });
  assert.equal(valueAs(CmapType.UINT16, "70000"), undefined);
  assert.deepEqual(valueAs(CmapType.STRING, "x"), { type: CmapType.STRING, value: "x" });
  const s = new CmapStore();
  s.set("totem.interface.1.mcastport", { type: CmapType.UINT16, value: 5407 });
  s.set("totem.interface.0.mcastport", { type: CmapType.UINT16, value: 5405 });
  const root = objdbTree(s);
  assert.equal(findObject(root, "totem.interface")?.cmapPrefix, "totem.interface.0.");
  assert.equal(findObject(root, "totem.nope"), undefined);
});

test("the tools without a daemon: corosync's messages and exit 1", async () => {
  process.env.COROSYNC_IPC_PREFIX = `nodaemon-${process.pid}`;
  try {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) };
    assert.equal(await runCmapctl(["-g", "totem.version"], io), 1);
    assert.deepEqual(err.splice(0), ["Failed to initialize the cmap API. Error CS_ERR_LIBRARY\n"]);
    assert.equal(await runObjctl(["-a"], io), 1);
    assert.deepEqual(err.splice(0), ["Failed to initialize the objdb API. Error 2\n"]);
    assert.equal(await runBlackbox([], io), 1);
    assert.deepEqual(err.splice(0), ["Failed to initialize the cmap API. Error CS_ERR_LIBRARY\n"]);
    assert.equal(await runCmapctl(["-s", "a.b"], io), 1, "like corosync's tool, the connection comes before the operand check");
    assert.equal(await runCmapctl(["-h"], io), 0);
    assert.match(out.join(""), /usage: {2}corosync-cmapctl/);
  } finally {
    delete process.env.COROSYNC_IPC_PREFIX;
  }
});
