/**
 * corosync.conf: `compileConfig` (parse → flatten → validate → model → cmap entries) on
 * mutated example files and on generated trees of the schema's sections and keys with
 * hostile values (integers at and past every range, malformed addresses, long and non-ASCII
 * names, deep nesting, many nodes, CRLF, BOM, missing and extra braces). An input may carry
 * a uidgid.d file after a `\n%%uidgid%%\n` line.
 *
 * Oracles: `compileConfig` never throws; an accepted configuration's cmap entries are all
 * accepted by a `CmapStore` the way the executive loads them (`set(key, value, {force})`);
 * a printable parsed tree prints and parses back to the same items (print.ts's contract).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CmapStore } from "../../../src/core/cmap/store.js";
import { compileConfig, type SourceText } from "../../../src/config/compile.js";
import { parseConfig, type ConfigItem } from "../../../src/config/parse.js";
import { printable, printConfig } from "../../../src/config/print.js";
import { CONFIG_SCHEMA, type KeySpec, type SectionSpec } from "../../../src/config/schema.js";
import type { Prng } from "../../../sim/prng.js";
import { REPO_ROOT } from "../../golden/frames.js";
import { decoderTarget } from "../decoder.js";
import type { FuzzContext } from "../target.js";

const UIDGID_MARK = "\n%%uidgid%%\n";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

function exampleFiles(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const dir of ["examples", join("test", "fixtures", "config")]) {
    const full = join(REPO_ROOT, dir);
    for (const name of readdirSync(full).sort()) if (name.endsWith(".conf")) out.push(new Uint8Array(readFileSync(join(full, name))));
  }
  return out;
}

// ------------------------------------------------------------------------------ generation

const NUMBERS = [
  "0", "1", "-1", "2", "255", "256", "65535", "65536", "2147483647", "2147483648", "-2147483648", "-2147483649",
  "4294967295", "4294967296", "18446744073709551615", "18446744073709551616", "99999999999999999999999999999",
  "0x10", "010", "+5", " 5", "5x", "", "1e3", "NaN", "Infinity", "-0", "00000000000000000000000000001", "\u0663",
];

const ADDRESSES = [
  "10.0.0.1", "192.168.1.0", "226.94.1.1", "255.255.255.255", "0.0.0.0", "127.0.0.1", "1.2.3", "256.1.1.1", "1.2.3.4.5",
  "::1", "fe80::1", "ff02::1", "::", ":::", "1::2::3", "2001:db8::g", "2001:0db8:0000:0000:0000:0000:0000:0001:1",
  "::ffff:10.0.0.1", "node-a", "a..b", "-x", "x".repeat(300), "10.0.0.1 10.0.0.2", "",
];

function randomText(rng: Prng, max: number): string {
  const n = rng.pick([0, 1, 2, 8, 40, rng.int(0, max)]);
  const alphabets = ["abcxyz019_-./", "abc{}:#\t \\\"'", "é€𝄞\u0000\u202e\ufeff", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"];
  const alpha = rng.chance(0.7) ? alphabets[0]! : rng.pick(alphabets);
  const chars = [...alpha];
  let s = "";
  for (let i = 0; i < n; i++) s += rng.pick(chars);
  return s;
}

function valueFor(rng: Prng, name: string, spec: KeySpec | undefined): string {
  if (rng.chance(0.1)) return randomText(rng, 600);
  if (spec === undefined) return rng.chance(0.5) ? rng.pick(NUMBERS) : randomText(rng, 40);
  if (spec.type !== "str") return rng.chance(0.85) ? rng.pick(NUMBERS) : String(rng.int(0, 5000));
  if (spec.values !== undefined && rng.chance(0.8)) {
    const v = rng.pick(spec.values);
    return rng.chance(0.1) ? v.toUpperCase() : v;
  }
  if (/addr|member/.test(name)) return rng.pick(ADDRESSES);
  return randomText(rng, 80);
}

/** Lines of a random section following the schema (sometimes not). */
function sectionLines(rng: Prng, name: string, spec: SectionSpec | undefined, depth: number, out: string[], indent: string): void {
  out.push(`${indent}${name} {`);
  const keys = spec !== undefined ? Object.keys(spec.keys) : [];
  const n = rng.pick([0, 1, 3, 6, rng.int(0, 20)]);
  for (let i = 0; i < n; i++) {
    const key = keys.length > 0 && rng.chance(0.85) ? rng.pick(keys) : randomText(rng, 30) || "k";
    out.push(`${indent}\t${key}: ${valueFor(rng, key, spec?.keys[key])}`);
  }
  const subs = spec !== undefined ? Object.keys(spec.sections) : [];
  const m = depth > 6 ? 0 : rng.pick([0, 0, 1, 2, rng.int(0, 4)]);
  for (let i = 0; i < m; i++) {
    const sub = subs.length > 0 && rng.chance(0.8) ? rng.pick(subs) : randomText(rng, 20) || "s";
    sectionLines(rng, sub, spec?.sections[sub], depth + 1, out, `${indent}\t`);
  }
  if (!rng.chance(0.02)) out.push(`${indent}}`);
}

/** A nodelist of `n` nodes with plausible, duplicate or missing ids and addresses. */
function nodelist(rng: Prng, out: string[]): void {
  const n = rng.pick([1, 2, 3, 5, 16, 33, rng.int(0, 40), rng.chance(0.1) ? 400 : 3]);
  out.push("nodelist {");
  for (let i = 0; i < n; i++) {
    out.push("\tnode {");
    if (!rng.chance(0.05)) out.push(`\t\tring0_addr: ${rng.chance(0.8) ? `10.0.${i >> 8}.${(i & 255) + 1}` : rng.pick(ADDRESSES)}`);
    if (rng.chance(0.2)) out.push(`\t\tring1_addr: ${rng.chance(0.8) ? `10.1.${i >> 8}.${(i & 255) + 1}` : rng.pick(ADDRESSES)}`);
    if (!rng.chance(0.05)) out.push(`\t\tnodeid: ${rng.chance(0.9) ? String(rng.chance(0.05) ? 1 : i + 1) : rng.pick(NUMBERS)}`);
    if (rng.chance(0.5)) out.push(`\t\tname: ${rng.chance(0.9) ? `n${i}` : randomText(rng, 60)}`);
    out.push("\t}");
  }
  out.push("}");
}

/** A generated configuration file (sometimes with a uidgid.d file after the marker). */
export function generateConfig(rng: Prng): string {
  const out: string[] = [];
  const top = Object.keys(CONFIG_SCHEMA.sections);
  const sections = ["totem", ...rng.shuffle(top.filter((s) => s !== "nodelist")).slice(0, rng.int(0, 4))];
  for (const s of sections) sectionLines(rng, s, CONFIG_SCHEMA.sections[s], 1, out, "");
  if (rng.chance(0.8)) nodelist(rng, out);
  if (rng.chance(0.1)) for (let d = 0; d < rng.int(10, 80); d++) out.push(`${"\t".repeat(d)}s${d} {`);
  if (rng.chance(0.05)) out.push("}");
  let text = out.join(rng.chance(0.1) ? "\r\n" : "\n") + "\n";
  if (rng.chance(0.03)) text = `\ufeff${text}`;
  if (rng.chance(0.1)) {
    const uid = [`uidgid {`, `\tuid: ${randomText(rng, 40) || "u"}`, `\tgid: ${randomText(rng, 40) || "g"}`, rng.chance(0.2) ? "\tother: x" : "", "}"].join("\n");
    text += `${UIDGID_MARK}${uid}\n`;
  }
  return text;
}

// ------------------------------------------------------------------------------ oracles

type Item = Omit<ConfigItem, "line" | "column" | "endLine" | "valueColumn" | "items"> & { items?: Item[] };

/** A parsed tree without positions (what print/parse must preserve). */
function shape(items: readonly ConfigItem[]): Item[] {
  return items.map((i) => (i.kind === "key" ? { kind: "key", name: i.name, value: i.value } : { kind: "section", name: i.name, items: shape(i.items) }));
}

function checkConfig(input: Uint8Array, ctx: FuzzContext): string {
  const text = decoder.decode(input);
  const [main, uidgid] = text.split(UIDGID_MARK, 2) as [string, string | undefined];
  const source: SourceText = { file: "fuzz.conf", text: main };
  const r = compileConfig(source, {
    env: { COROSYNC_STATE_DIR: "/nonexistent/fuzz" },
    ...(uidgid !== undefined ? { uidgidFiles: [{ file: "uidgid.d/fuzz", text: uidgid }] } : {}),
    checkKeyFile: (path) => (path.length % 2 === 0 ? undefined : "No such file or directory"),
  });
  const parsed = parseConfig(main, "fuzz.conf");
  if (parsed.ok && printable(parsed.tree.items)) {
    const again = parseConfig(printConfig(parsed.tree.items), "printed.conf");
    ctx.check(again.ok && JSON.stringify(shape(again.tree.items)) === JSON.stringify(shape(parsed.tree.items)), "config-print-round-trip", () => "a printable tree does not print and parse back to itself");
  }
  if (!r.ok) {
    ctx.check(r.diagnostics.some((d) => d.severity === "error"), "config-error-diagnostic", () => "compile failed without an error diagnostic");
    return parsed.ok ? "invalid" : "syntax_error";
  }
  const store = new CmapStore();
  for (const e of r.cmapEntries) {
    try {
      store.set(e.key, e.value, { force: true });
    } catch (err) {
      ctx.check(false, "config-cmap-entry", () => `an accepted configuration yields a cmap entry the store refuses: ${JSON.stringify(e.key)} (${(err as Error).message})`);
    }
  }
  return "ok";
}

export const configTarget = decoderTarget({
  name: "config",
  about: "compileConfig on mutated and generated corosync.conf text; never throws, entries load into cmap, print/parse round trip",
  corpus: () => [...exampleFiles(), ...Array.from({ length: 8 }, (_, i) => encoder.encode(`totem {\n\tversion: 2\n\tcluster_name: c${i}\n}\n`))],
  generate: (rng) => encoder.encode(generateConfig(rng)),
  decode: checkConfig,
  maxBytes: 64_000,
  generateShare: 45,
  avgBudgetUs: 5000,
  boundedCases: 1500,
});
