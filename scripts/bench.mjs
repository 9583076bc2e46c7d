#!/usr/bin/env node
// `npm run bench -- <name> [args]`: build, then run dist/bench/<name>.js. Benchmarks print
// figures; they are not tests and not part of `npm test`.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const [name, ...rest] = process.argv.slice(2);
const dir = join(root, "dist", "bench");
const b = spawnSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
if (b.status !== 0) process.exit(b.status ?? 1);
const available = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".js")).map((f) => f.slice(0, -3)) : [];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join("|")}> [args]`);
  process.exit(name ? 1 : 0);
}
const r = spawnSync(process.execPath, [join(dir, `${name}.js`), ...rest], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
