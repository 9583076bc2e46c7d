/**
 * The pure layer (src/core, src/wire) must not touch the outside world: no node:* imports,
 * no timers, clocks or randomness (style.md "Architecture"). This test reads the sources.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "..");
const PURE_DIRS = ["src/core", "src/wire"];

const FORBIDDEN: Array<[RegExp, string]> = [
  [/from\s+["']node:/, "imports a node:* module"],
  [/import\s*\(\s*["']node:/, "imports a node:* module"],
  [/require\s*\(/, "uses require()"],
  [/from\s+["'](fs|net|dgram|os|crypto|timers|child_process|path|events|util|buffer)["']/, "imports a Node built-in"],
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b|\bqueueMicrotask\b/, "uses a timer"],
  [/\bDate\b/, "uses Date"],
  [/\bperformance\b/, "uses performance"],
  [/Math\.random/, "uses Math.random"],
  [/\bprocess\./, "uses process"],
  [/\bBuffer\b/, "uses Buffer (use Uint8Array)"],
];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (n.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** Drop comments so that prose may mention Date or setTimeout. */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

test("src/core and src/wire use no node modules, timers, clocks or randomness", () => {
  const problems: string[] = [];
  let files = 0;
  for (const d of PURE_DIRS) {
    for (const f of tsFiles(join(root, d))) {
      files++;
      const lines = stripComments(readFileSync(f, "utf8")).split("\n");
      lines.forEach((line, i) => {
        for (const [re, why] of FORBIDDEN) {
          if (re.test(line)) problems.push(`${relative(root, f)}:${i + 1}: ${why}: ${line.trim()}`);
        }
      });
    }
  }
  assert.ok(files > 0, "found no pure-layer sources to check");
  assert.deepEqual(problems, []);
});

test("the checker itself catches a forbidden line", () => {
  const bad = stripComments('import { x } from "node:fs";\nconst t = Date.now(); // ok\n');
  const hits = FORBIDDEN.filter(([re]) => bad.split("\n").some((l) => re.test(l)));
  assert.equal(hits.length >= 2, true);
});
