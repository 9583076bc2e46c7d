#!/usr/bin/env node
// `npm start`: run one corosync node in the foreground on loopback, without root, using the
// shipped single-node example. Run and state directories go under .run/ in the checkout.
// Extra arguments are passed to the executive (e.g. `npm start -- -c my.conf`).
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { spawn, spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const main = join(root, "dist", "src", "cli", "corosync.js");
if (!existsSync(main)) {
  const r = spawnSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const runDir = join(root, ".run", "single-node");
mkdirSync(join(runDir, "state"), { recursive: true });
const extra = process.argv.slice(2);
const args = extra.some((a) => a === "-c") ? extra : ["-f", "-c", join(root, "examples", "single-node.conf"), ...extra];
if (!args.includes("-f")) args.unshift("-f");
const child = spawn(process.execPath, [main, ...args], {
  cwd: root,
  stdio: "inherit",
  env: { COROSYNC_RUN_DIR: runDir, COROSYNC_STATE_DIR: join(runDir, "state"), ...process.env },
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
