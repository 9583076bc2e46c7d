#!/usr/bin/env node
/**
 * `npm run soak -- --minutes N [--nodes 4] [--warmup 0.5]`: the soak (soak.ts). Prints RSS and fd counts of
 * the long-lived daemons every 10 s, then per daemon the RSS slope after warm-up (least
 * squares, KiB/min) and the fd range. Exit 1 if a slope exceeds
 * SOAK_RSS_SLOPE_BOUND_KIB_PER_MIN, an fd count grew after warm-up, or a daemon died.
 */
import { parseArgs } from "node:util";
import { soak, SOAK_RSS_SLOPE_BOUND_KIB_PER_MIN } from "./soak.js";

const { values } = parseArgs({ options: { minutes: { type: "string", default: "10" }, nodes: { type: "string", default: "4" }, warmup: { type: "string", default: "0.5" } } });
const minutes = Number(values.minutes);
console.log(`soak: ${values.nodes} daemons on loopback for ${minutes} min; the last one stopped/started every 30 s; RSS slope bound ${SOAK_RSS_SLOPE_BOUND_KIB_PER_MIN} KiB/min`);
const r = await soak({ minutes, nodes: Number(values.nodes), warmupFraction: Number(values.warmup), log: (l) => console.log(l) });
const failures = [...r.failures];
for (const d of r.daemons) {
  console.log(`node ${d.node}: RSS slope ${d.slopeKiBPerMin.toFixed(1)} KiB/min after warm-up (${d.rssFirstKiB} -> ${d.rssLastKiB} KiB); fds ${d.fdsWarm} at warm-up, max ${d.fdsMax}, last ${d.fdsLast}`);
  if (d.slopeKiBPerMin > SOAK_RSS_SLOPE_BOUND_KIB_PER_MIN) failures.push(`node ${d.node}: RSS slope ${d.slopeKiBPerMin.toFixed(1)} KiB/min > ${SOAK_RSS_SLOPE_BOUND_KIB_PER_MIN}`);
  if (d.fdsLast > d.fdsWarm) failures.push(`node ${d.node}: fds grew ${d.fdsWarm} -> ${d.fdsLast}`);
}
console.log(`membership changes ${r.membershipChanges}, IPC cycles ${r.ipcCycles}, CPG deliveries ${r.deliveries}`);
console.log(failures.length === 0 ? "soak: OK" : `soak: FAILED\n  ${failures.join("\n  ")}`);
process.exit(failures.length === 0 ? 0 : 1);
