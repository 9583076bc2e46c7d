#!/usr/bin/env node
// Builds test/fixtures/knet/knet-frames.jsonl: a representative subset (< 1 MB) of the
// corosync 3.1.7 + libknet 1.25 captures in ../shared/testdata/corosync-3.1.7-knet (plain,
// crypto and fake-node3), so the knet codec and crypto tests also run on a clean clone, and
// copies crypto.authkey (a throwaway key made for the capture) next to it.
//
// Kept, per capture, first copy of identical bytes only: the first 3 PMTUd probes (each is
// ~1,472 bytes) and every reply; every
// ping/pong carrying seq 0 (restarts) and the first 30 others; every fragment of every
// fragmented packet, except that of the big (> 8 fragments) packets only the first one per
// capture are kept whole; the first 120 (fake-node3: 40) unfragmented DATA frames and every
// one with seq ≤ 5.
// Lines keep their order and fields, plus `capture` (the source file).
//
// Usage: node test/golden/build-knet-fixture.mjs [shared-testdata-dir]
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const candidates = [process.argv[2], join(root, "..", "shared", "testdata"), join(root, "..", "..", "shared", "testdata"), "/work/shared/testdata"];
const dir = candidates.filter(Boolean).map((d) => join(d, "corosync-3.1.7-knet")).find((d) => existsSync(d));
if (!dir) throw new Error(`no corosync-3.1.7-knet captures in ${candidates.filter(Boolean).join(", ")}`);

const out = [];
for (const capture of ["plain.jsonl", "crypto.jsonl", "fake-node3.jsonl"]) {
  const recs = readFileSync(join(dir, capture), "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const bigKept = new Set();
  for (const r of recs) {
    if (r.ktype === "data" && r.frag_num > 8 && bigKept.size < 1) bigKept.add(`${r.khost}:${r.seq}`);
  }
  const seen = new Set();
  let pings = 0;
  let data = 0;
  let probes = 0;
  const dataCap = capture.startsWith("fake") ? 40 : 120;
  for (const r of recs) {
    if (seen.has(r.hex)) continue;
    let keep = false;
    if (r.ktype === "pmtud") keep = probes++ < 3;
    else if (r.ktype === "pmtud_reply") keep = true;
    else if (r.ktype === "ping" || r.ktype === "pong") keep = r.ping_seq === 0 || pings++ < 30;
    else if (r.ktype === "data" && r.frag_num > 1) keep = r.frag_num <= 8 || bigKept.has(`${r.khost}:${r.seq}`);
    else if (r.ktype === "data") keep = r.seq <= 5 || data++ < dataCap;
    if (!keep) continue;
    seen.add(r.hex);
    out.push(JSON.stringify({ capture, ...r }));
  }
}
const target = join(root, "test", "fixtures", "knet");
writeFileSync(join(target, "knet-frames.jsonl"), `${out.join("\n")}\n`);
copyFileSync(join(dir, "crypto.authkey"), join(target, "crypto.authkey"));
copyFileSync(join(dir, "fake-node3.authkey"), join(target, "fake-node3.authkey"));
console.log(`${out.length} frames written to ${join(target, "knet-frames.jsonl")}`);
