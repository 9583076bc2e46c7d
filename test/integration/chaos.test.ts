/**
 * The bounded chaos run of `npm test` (the long one: `npm run chaos -- --minutes N`): five
 * executives in network namespaces, a CPG client on each, a fixed seed's nemesis (loss,
 * delay, duplication, reordering, partitions of three shapes, kill -9 and restart, SIGSTOP)
 * for 40 s; zero violations of the virtual-synchrony oracles, one ring within token +
 * consensus + 1 s after every heal, daemon RSS bounded. Needs root, iptables and python3.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChaosRun, formatReport } from "../chaos/harness.js";
import { faultNetSkipReason } from "../helpers/faultnet.js";
import { netnsSkipReason } from "../helpers/netns.js";

const skip = netnsSkipReason();
const SEED = 20240601;

test(`chaos, 5 nodes, seed ${SEED}, 40 s of faults: no violation`, { skip, timeout: 180_000 }, async () => {
  const missing = faultNetSkipReason();
  assert.equal(missing, false, `fault injection unavailable: ${missing}`);
  const report = await new ChaosRun({ nodes: 5, seed: SEED, durationMs: 40_000, tokenMs: 1000 }).run();
  for (const line of formatReport(report).split("\n")) console.log(`# ${line}`);
  assert.deepEqual(report.violations, []);
  assert.ok(report.rounds >= 3, `${report.rounds} rounds`);
  assert.ok(report.deliveries > 1000, `${report.deliveries} deliveries`);
});
