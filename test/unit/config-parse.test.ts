/**
 * The corosync.conf grammar (totem-spec §9): what parses, into which tree, and the exact
 * position and wording of every syntax error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { type ConfigItem, type ConfigTree, parseConfig } from "../../src/config/parse.js";
import { printConfig } from "../../src/config/print.js";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "..");
const readExample = (name: string) => readFileSync(join(root, "examples", name), "utf8");
const readFixture = (name: string) => readFileSync(join(root, "test", "fixtures", "config", name), "utf8");

function parseOk(text: string): ConfigTree {
  const r = parseConfig(text, "t.conf");
  assert.ok(r.ok, r.ok ? "" : `unexpected error: ${r.error.line}:${r.error.column} ${r.error.message}`);
  return r.tree;
}

function parseErr(text: string) {
  const r = parseConfig(text, "t.conf");
  assert.ok(!r.ok, "expected a syntax error");
  return r.error;
}

/** The tree without positions, for comparing shapes. */
type Shape = { key: string; value: string } | { section: string; items: Shape[] };
function shape(items: readonly ConfigItem[]): Shape[] {
  return items.map((i) => (i.kind === "key" ? { key: i.name, value: i.value } : { section: i.name, items: shape(i.items) }));
}

test("sections, keys, comments and blank lines, with positions", () => {
  const tree = parseOk("# comment\n\ntotem {\n\tversion: 2\n    token:   3000  \n}\n");
  assert.equal(tree.items.length, 1);
  const totem = tree.items[0]!;
  assert.equal(totem.kind, "section");
  if (totem.kind !== "section") return;
  assert.deepEqual([totem.name, totem.line, totem.column, totem.endLine], ["totem", 3, 1, 6]);
  assert.deepEqual(totem.items[0], { kind: "key", name: "version", value: "2", line: 4, column: 2, valueColumn: 11 });
  assert.deepEqual(totem.items[1], { kind: "key", name: "token", value: "3000", line: 5, column: 5, valueColumn: 14 });
});

test("`name: {` opens a section; a value keeps ':' (IPv6), '#' and quotes verbatim", () => {
  const tree = parseOk('totem: {\n  bindnetaddr: fe80::1:2\n  cluster_name: a # not a comment\n  x: "q"\n  empty:\n}\n');
  assert.deepEqual(shape(tree.items), [
    {
      section: "totem",
      items: [
        { key: "bindnetaddr", value: "fe80::1:2" },
        { key: "cluster_name", value: "a # not a comment" },
        { key: "x", value: '"q"' },
        { key: "empty", value: "" },
      ],
    },
  ]);
});

test("nested and repeated sections are kept in file order", () => {
  const text = "nodelist {\n node {\n  ring0_addr: a\n }\n node {\n  ring0_addr: b\n }\n}\ntotem {\n interface {\n  member {\n   memberaddr: x\n  }\n  member {\n   memberaddr: y\n  }\n }\n}\n";
  const tree = parseOk(text);
  assert.deepEqual(shape(tree.items), [
    { section: "nodelist", items: [{ section: "node", items: [{ key: "ring0_addr", value: "a" }] }, { section: "node", items: [{ key: "ring0_addr", value: "b" }] }] },
    {
      section: "totem",
      items: [{ section: "interface", items: [{ section: "member", items: [{ key: "memberaddr", value: "x" }] }, { section: "member", items: [{ key: "memberaddr", value: "y" }] }] }],
    },
  ]);
});

test("duplicate keys are all kept by the parser (the flattening picks the last)", () => {
  const tree = parseOk("totem {\n token: 1\n token: 2\n}\n");
  assert.deepEqual(shape(tree.items), [{ section: "totem", items: [{ key: "token", value: "1" }, { key: "token", value: "2" }] }]);
});

test("a '{' anywhere makes the line a section start, before ':' is considered", () => {
  const tree = parseOk("totem {\n key: a{\n }\n}\n");
  assert.deepEqual(shape(tree.items), [{ section: "totem", items: [{ section: "key: a", items: [] }] }]);
});

test("CRLF line endings are accepted, with one notice", () => {
  const r = parseConfig("totem {\r\n\tversion: 2\r\n}\r\n", "w.conf");
  assert.ok(r.ok);
  assert.equal(r.tree.crlf, true);
  assert.deepEqual(shape(r.tree.items), [{ section: "totem", items: [{ key: "version", value: "2" }] }]);
  assert.deepEqual(r.diagnostics, [{ severity: "notice", file: "w.conf", line: 1, column: 1, message: "file uses CRLF line endings; accepted" }]);
});

test("a UTF-8 byte order mark is skipped with a notice", () => {
  const r = parseConfig("\uFEFFtotem {\n}\n", "b.conf");
  assert.ok(r.ok);
  assert.deepEqual(shape(r.tree.items), [{ section: "totem", items: [] }]);
  assert.equal(r.diagnostics[0]!.message, "file starts with a UTF-8 byte order mark; ignored");
});

test("a last line without a newline still counts", () => {
  assert.deepEqual(shape(parseOk("a: 1").items), [{ key: "a", value: "1" }]);
  assert.deepEqual(parseOk("").items, []);
});

const errorCases: Array<[string, string, number, number, string]> = [
  ["missing close", "totem {\n\tversion: 2\n", 2, 12, "Missing closing brace for section 'totem' opened at line 1: expected '}' before the end of the file"],
  ["innermost unclosed", "totem {\n interface {\n }\n", 3, 3, "Missing closing brace for section 'totem' opened at line 1: expected '}' before the end of the file"],
  ["unexpected close", "totem {\n}\n}\n", 3, 1, "Unexpected closing brace: no section is open"],
  ["extra before close", "totem {\n x }\n", 2, 2, "Extra characters before or after closing bracket '}'"],
  ["extra after close", "totem {\n } x\n", 2, 4, "Extra characters before or after closing bracket '}'"],
  ["bare word", "totem {\n  version 2\n}\n", 2, 3, "Line is not opening or closing section or key value"],
  ["no section name", "  {\n}\n", 1, 3, "Missing section name before opening bracket '{'"],
  ["only colon as name", ": {\n}\n", 1, 3, "Missing section name before opening bracket '{'"],
  ["one-line section", "totem { version: 2 }\n", 1, 9, "Extra characters after opening bracket '{' (each item must be on its own line)"],
  ["empty key", "totem {\n\t: 2\n}\n", 2, 2, "Key name can't be empty"],
];

for (const [name, text, line, column, message] of errorCases) {
  test(`syntax error: ${name} at ${line}:${column}`, () => {
    const e = parseErr(text);
    assert.deepEqual({ file: e.file, line: e.line, column: e.column, message: e.message }, { file: "t.conf", line, column, message });
  });
}

test("a closing brace with text before it is classified like corosync: '}' only when no ':'", () => {
  // "a: }" is a key whose value is "}", as in corosync.
  assert.deepEqual(shape(parseOk("a: }\n").items), [{ key: "a", value: "}" }]);
});

test("line length: 510 bytes are fine, 511 are too long (counted in UTF-8 bytes)", () => {
  const ok = `k: ${"x".repeat(507)}\n`;
  assert.equal(parseOk(ok).items.length, 1);
  const e = parseErr(`a: 1\nk: ${"x".repeat(508)}\n`);
  assert.deepEqual([e.line, e.column, e.message], [2, 1, "Line too long (511 bytes; at most 510 are allowed)"]);
  const wide = parseErr(`k: ${"é".repeat(254)}\n`); // 3 + 508 bytes
  assert.match(wide.message, /^Line too long \(511 bytes/);
});

test("dotted path length: 255 bytes fit a cmap key, 256 do not", () => {
  const name = "s".repeat(250);
  assert.equal(parseOk(`${name} {\n abcd: 1\n}\n`).items.length, 1); // 250 + 1 + 4 = 255
  const e = parseErr(`${name} {\n abcde: 1\n}\n`);
  assert.deepEqual([e.line, e.column, e.message, e.key], [2, 2, "New key makes total cmap path too long (256 bytes; at most 255)", `${name}.abcde`]);
  const s = parseErr(`${name} {\n abcde {\n }\n}\n`);
  assert.deepEqual([s.line, s.message], [2, "Start of section makes total cmap path too long (256 bytes; at most 255)"]);
});

test("the example configurations parse", () => {
  for (const name of ["single-node.conf", "corosync-1x-multicast.conf", "three-node-udpu.conf"]) {
    const r = parseConfig(readExample(name), name);
    assert.ok(r.ok, name);
  }
  const oneX = parseOk(readExample("corosync-1x-multicast.conf"));
  assert.deepEqual(oneX.items.map((i) => (i.kind === "key" ? `${i.name}:` : `${i.name}{}`)), ["compatibility:", "totem{}", "logging{}", "amf{}", "aisexec{}"]);
});

test("the installation guide's 1.x example parses (fixture)", () => {
  const tree = parseOk(readFixture("seed-1x.conf"));
  const logging = tree.items.find((i) => i.name === "logging");
  assert.ok(logging !== undefined && logging.kind === "section");
  assert.ok(logging.items.some((i) => i.kind === "key" && i.name === "to_file" && i.value === "yes"));
});

// --- property: print → parse gives the same tree --------------------------------------

const nameArb = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,11}$/);
const valueArb = fc.oneof(
  fc.constant(""),
  fc.stringMatching(/^[!-z|~]([ -z|~]{0,20}[!-z|~])?$/), // printable ASCII without '{' or '}', no edge blanks
  fc.constantFrom("fe80::1", "a # b", '"quoted"', "x}y", "239.192.0.1"),
);
const itemArb: fc.Arbitrary<ConfigItem> = fc.letrec<{ item: ConfigItem }>((tie) => ({
  item: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ name: nameArb, value: valueArb }).map(
      ({ name, value }): ConfigItem => ({ kind: "key", name, value, line: 0, column: 0, valueColumn: 0 }),
    ),
    fc.record({ name: nameArb, items: fc.array(tie("item"), { maxLength: 4 }) }).map(
      ({ name, items }): ConfigItem => ({ kind: "section", name, items, line: 0, column: 0, endLine: 0 }),
    ),
  ),
})).item;

test("property: printConfig then parseConfig gives back the same tree", () => {
  fc.assert(
    fc.property(fc.array(itemArb, { maxLength: 6 }), (items) => {
      const r = parseConfig(printConfig(items), "p.conf");
      assert.ok(r.ok);
      assert.deepEqual(shape(r.tree.items), shape(items));
    }),
    { numRuns: 300 },
  );
});

test("property: printing a parsed tree reproduces it, with CRLF too", () => {
  fc.assert(
    fc.property(fc.array(itemArb, { maxLength: 6 }), (items) => {
      const text = printConfig(items).replace(/\n/g, "\r\n");
      const r = parseConfig(text, "p.conf");
      assert.ok(r.ok);
      assert.equal(printConfig(r.tree.items), printConfig(items));
    }),
    { numRuns: 100 },
  );
});

test("property: arbitrary text never throws; errors point inside the file", () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom("a", ":", "{", "}", " ", "\t", "\n", "\r", "#", "x") , maxLength: 200 }), (text) => {
      const r = parseConfig(text, "f.conf");
      if (!r.ok) {
        const lines = Math.max(text.split("\n").length, 1);
        assert.ok(r.error.line >= 1 && r.error.line <= lines, `line ${r.error.line} of ${lines}`);
        assert.ok(r.error.column >= 1);
      }
    }),
    { numRuns: 500 },
  );
});

test("printConfig refuses a value that would change meaning", () => {
  assert.throws(() => printConfig([{ kind: "key", name: "a", value: "x{", line: 0, column: 0, valueColumn: 0 }]), RangeError);
  assert.throws(() => printConfig([{ kind: "key", name: "a:b", value: "x", line: 0, column: 0, valueColumn: 0 }]), RangeError);
});
