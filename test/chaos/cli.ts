#!/usr/bin/env node
/**
 * `npm run chaos -- [--minutes N] [--nodes 5] [--seed S] [--token MS] [--keep]`: the chaos
 * run with real daemons (harness.ts) for N minutes (default 5). Needs root, iproute2,
 * iptables (legacy) and python3. Prints the figures and every violation; exit 0 iff none.
 * `--keep` keeps the daemon logs and client histories of a failing run.
 */
import { parseArgs } from "node:util";
import { ChaosRun, formatReport } from "./harness.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "5" },
    nodes: { type: "string", default: "5" },
    seed: { type: "string" },
    token: { type: "string", default: "1000" },
    interval: { type: "string", default: "100" },
    keep: { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
  },
});
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const minutes = Number(values.minutes);
console.log(`chaos: seed ${seed}, ${values.nodes} nodes, ${minutes} min, token ${values.token} ms (replay: npm run chaos -- --seed ${seed} --minutes ${minutes} --nodes ${values.nodes})`);
const run = new ChaosRun({
  nodes: Number(values.nodes),
  seed,
  durationMs: minutes * 60_000,
  tokenMs: Number(values.token),
  intervalMs: Number(values.interval),
  keepOnFailure: values.keep,
  log: values.quiet ? undefined : (l) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${l}`),
});
const report = await run.run();
console.log(formatReport(report));
process.exit(report.violations.length === 0 ? 0 : 1);
