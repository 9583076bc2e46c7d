#!/usr/bin/env node
// Rewrite the expected transcripts of test/scenarios/*.txt from the actual outputs, or print
// one script's transcript. Build first (npx tsc -p tsconfig.json).
// Usage: node scripts/rewrite-scenarios.mjs            rewrite every script (then read git diff)
//        node scripts/rewrite-scenarios.mjs FILE...    rewrite the named scripts
//        node scripts/rewrite-scenarios.mjs --print FILE   print the actual transcript only
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const { runScript } = await import(join(root, "dist", "sim", "scenario.js"));
const args = process.argv.slice(2);
const print = args[0] === "--print";
const named = print ? args.slice(1) : args;
const dir = join(root, "test", "scenarios");
const files = named.length > 0 ? named : readdirSync(dir).filter((f) => f.endsWith(".txt")).sort().map((f) => join(dir, f));
let bad = 0;
for (const f of files) {
  const text = readFileSync(f, "utf8");
  const r = runScript(text);
  if (print) process.stdout.write(r.actual);
  else if (r.actual !== text) {
    writeFileSync(f, r.actual);
    console.log(`rewrote ${f}`);
  }
  for (const x of r.failures) {
    console.error(`${f}: FAILURE ${x}`);
    bad++;
  }
}
process.exit(bad > 0 ? 1 : 0);
