#!/usr/bin/env node
// Builds test/fixtures/golden/udpu-frames.jsonl: a representative subset (< 1 MB) of the
// corosync 3.1.7 udpu captures in ../shared/testdata/corosync-3.1.7-udpu, so that the golden
// codec tests also run on a clean clone without the shared directory.
//
// Kept: every memb_join (incl. LEAVEs), memb_commit_token and token_hold_cancel; every
// distinct mcast frame (each is sent once per peer with identical bytes: one copy kept, so
// every sender's fragment sequences stay complete); the first 300 distinct orf tokens and
// 60 distinct merge-detects of each capture. Lines keep their order and their fields, plus
// `capture` (the source file).
//
// Usage: node test/golden/build-udpu-fixture.mjs [shared-testdata-dir]
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const candidates = [process.argv[2], join(root, "..", "shared", "testdata"), join(root, "..", "..", "shared", "testdata"), "/work/shared/testdata"];
const dir = candidates.filter(Boolean).map((d) => join(d, "corosync-3.1.7-udpu")).find((d) => existsSync(d));
if (!dir) throw new Error(`no corosync-3.1.7-udpu captures in ${candidates.filter(Boolean).join(", ")}`);

const KEEP_ALL = new Set(["memb_join", "memb_commit_token", "token_hold_cancel"]);
const CAP = { orf_token: 300, memb_merge_detect: 60, mcast: Infinity };

const out = [];
for (const capture of ["membership.jsonl", "cpg-traffic.jsonl"]) {
  const seen = new Set();
  const kept = { orf_token: 0, memb_merge_detect: 0, mcast: 0 };
  for (const line of readFileSync(join(dir, capture), "utf8").split("\n")) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line);
    let keep = KEEP_ALL.has(rec.type);
    if (!keep && rec.type in CAP && !seen.has(rec.hex) && kept[rec.type] < CAP[rec.type]) {
      seen.add(rec.hex);
      kept[rec.type]++;
      keep = true;
    }
    if (keep) out.push(JSON.stringify({ capture, ...rec }));
  }
}
const target = join(root, "test", "fixtures", "golden", "udpu-frames.jsonl");
writeFileSync(target, out.join("\n") + "\n");
console.log(`wrote ${out.length} frames to ${target}`);
