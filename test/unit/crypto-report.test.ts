/** Rate-limited reporting of refused datagrams (src/crypto/report.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidDigestReporter, describeRejection } from "../../src/crypto/report.js";

function rig(intervalMs?: number, maxSources?: number) {
  const clock = { now: 1_000_000 };
  const lines: string[] = [];
  const r = new InvalidDigestReporter({ now: () => clock.now, log: (l) => lines.push(l), ...(intervalMs ? { intervalMs } : {}), ...(maxSources ? { maxSources } : {}) });
  return { r, lines, clock };
}

test("one line per source per 10 s, then the count of those held back", () => {
  const { r, lines, clock } = rig();
  assert.equal(r.report("192.0.2.7:5405"), true);
  for (let i = 0; i < 41; i++) {
    clock.now += 200;
    assert.equal(r.report("192.0.2.7:5405"), false);
  }
  assert.equal(r.pending("192.0.2.7:5405"), 41);
  clock.now += 10_000;
  assert.equal(r.report("192.0.2.7:5405"), true);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^Received message has invalid digest\.\.\. ignoring\. \(from 192\.0\.2\.7:5405: /);
  assert.match(lines[1]!, /invalid digest.*\(41 similar messages suppressed\)$/);
  assert.equal(r.total, 43);
  assert.equal(r.logged, 2);
});

test("sources are limited independently", () => {
  const { r, lines } = rig();
  r.report("10.0.0.1:5405");
  r.report("10.0.0.2:5405");
  r.report("10.0.0.1:5405");
  assert.equal(lines.length, 2);
  assert.match(lines[1]!, /10\.0\.0\.2:5405/);
});

test("each reason has its own text; a detail replaces the default explanation", () => {
  assert.match(describeRejection("h:1", "invalid_digest"), /invalid digest.*authkey, cluster_name or crypto settings/);
  assert.match(describeRejection("h:1", "invalid_digest", "sender uses chacha20-poly1305, this node aes-256-gcm"), /sender uses chacha20/);
  assert.match(describeRejection("h:1", "replay"), /replayed/);
  assert.match(describeRejection("h:1", "plaintext"), /secauth off/);
  assert.match(describeRejection("h:1", "bad_header"), /unknown secauth header/);
  assert.match(describeRejection("h:1", "too_short"), /too short/);
});

test("the table of sources is bounded", () => {
  const { r, lines } = rig(10_000, 16);
  for (let i = 0; i < 1000; i++) r.report(`10.1.${i >> 8}.${i & 255}:5405`);
  assert.equal(lines.length, 1000, "each new source logs once");
  assert.equal((r as unknown as { limiter: { size: number } }).limiter.size, 16);
});
