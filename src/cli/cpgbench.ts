#!/usr/bin/env node
/**
 * `cpgbench [-s size] [-t seconds] [-g group]`: CPG throughput for one message size (after
 * corosync's test/cpgbench.c). Joins the group, multicasts `size`-byte messages as fast as
 * the daemon takes them for `seconds`, counts its own deliveries, and prints
 *
 *   <n> messages received   <size> bytes per write  <s> Seconds runtime  <r> TP/s  <mb> MB/s
 *
 * Messages from other members are counted too (run it on several nodes at once).
 */
import { parseArgs } from "node:util";
import { Cpg } from "../client/cpg.js";

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { s: { type: "string" }, t: { type: "string" }, g: { type: "string" } } });
  const size = Number(values.s ?? 1000);
  const seconds = Number(values.t ?? 10);
  await using cpg = await Cpg.connect();
  let received = 0;
  let bytes = 0;
  cpg.on("message", (m) => {
    received++;
    bytes += m.data.byteLength;
  });
  await cpg.join(values.g ?? "cpg_bm");
  const payload = new Uint8Array(size);
  const start = performance.now();
  const end = start + seconds * 1000;
  let inflight: Promise<void>[] = [];
  while (performance.now() < end) {
    inflight.push(cpg.mcast(payload));
    if (inflight.length >= 64) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
  await new Promise((r) => setTimeout(r, 200));
  const elapsed = (performance.now() - start) / 1000;
  const tps = received / elapsed;
  process.stdout.write(
    `${received} messages received ${String(size).padStart(5)} bytes per write ${elapsed.toFixed(3).padStart(7)} Seconds runtime ${tps.toFixed(3).padStart(9)} TP/s ${(bytes / elapsed / 1e6).toFixed(3).padStart(7)} MB/s\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`cpgbench: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
