#!/usr/bin/env node
// `npm run fuzz -- …`: long, seeded fuzz campaigns over every decoder and hostile-input
// consumer (test/fuzz/, compiled to dist/test/fuzz/), and replay of a failing case.
// `npm run fuzz -- --help` for the options. The npm script compiles first.
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const cli = join(root, "dist", "test", "fuzz", "cli.js");
if (!existsSync(cli)) {
  console.error(`fuzz: ${cli} is missing; run \`npx tsc -p tsconfig.json\` first`);
  process.exit(2);
}
const { main } = await import(cli);
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  console.error(`fuzz: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
}
