/**
 * The bounded fuzz run of `npm test`: for each target of the registry, the systematic sweep
 * (capped by the target's `sweepLimit`) and its `boundedCases` random cases under a fixed
 * seed; prints inputs tried, failures and known issues per target, and fails on any failure
 * (printing seed, case, input hex and the replay command). The targets are split over two
 * test files (by position in the registry) so that node:test runs them in parallel.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatFailure, formatStats, runTarget, type TargetStats } from "./engine.js";
import { TARGETS } from "./registry.js";
import type { FuzzTarget } from "./target.js";

/** The seed of the bounded run (fixed: `npm test` is deterministic). */
export const BOUNDED_SEED = 20_260_601;

/** Extra checks on a target's figures (coverage), by target name. */
const COVERAGE: Record<string, (s: TargetStats) => void> = {
  srp: (s) => {
    for (const state of ["GATHER", "COMMIT", "RECOVERY", "OPERATIONAL"]) {
      assert.ok([...s.outcomes.keys()].some((k) => k.startsWith(`${state}:`)), `no hostile frame reached a node in ${state}`);
    }
  },
};

/** Register one test per target in part `part` (0 or 1) of the registry. */
export function boundedRun(part: number, parts = 2): void {
  const mine: FuzzTarget[] = TARGETS.filter((_, i) => i % parts === part);
  for (const target of mine) {
    test(`fuzz ${target.name}: ${target.about}`, { timeout: 120_000 }, (t) => {
      const s = runTarget(target, { seed: BOUNDED_SEED, sweep: true });
      const line = formatStats(s);
      t.diagnostic(line);
      console.log(`fuzz ${line}`);
      const report = s.failures.map(formatFailure).join("\n");
      assert.equal(s.failureCount, 0, `${s.failureCount} failing inputs in ${target.name}:\n${report}`);
      COVERAGE[target.name]?.(s);
    });
  }
}
