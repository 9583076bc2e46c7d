/**
 * The configuration layer is pure except for the loader (load.ts): no node:* modules, no
 * process, clocks, timers or randomness, so the simulator and tests can run it as is.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const dir = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "..", "src", "config");
const IMPURE = new Set(["load.ts"]);
const FORBIDDEN: Array<[RegExp, string]> = [
  [/from\s+["']node:|import\s*\(\s*["']node:/, "imports a node:* module"],
  [/\brequire\s*\(/, "uses require()"],
  [/\bprocess\./, "uses process"],
  [/\bDate\b|\bperformance\b/, "uses a clock"],
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b/, "uses a timer"],
  [/Math\.random/, "uses Math.random"],
  [/\bBuffer\b/, "uses Buffer"],
];

test("src/config is pure except load.ts", () => {
  const problems: string[] = [];
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && !IMPURE.has(f));
  assert.ok(files.length >= 10);
  for (const f of files) {
    const code = readFileSync(join(dir, f), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
    code.split("\n").forEach((line, i) => {
      for (const [re, why] of FORBIDDEN) if (re.test(line)) problems.push(`${f}:${i + 1}: ${why}`);
    });
  }
  assert.deepEqual(problems, []);
});
