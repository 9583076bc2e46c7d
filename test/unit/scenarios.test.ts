/**
 * Scenario scripts (test/scenarios/*.txt, format in sim/scenario.ts): each script runs on a
 * fresh simulated cluster and must reproduce the transcript written under its commands.
 *
 * Rewrite mode: `REWRITE=1 node scripts/run-tests.mjs scenarios` (or
 * `node scripts/rewrite-scenarios.mjs`) writes the actual transcripts into the files. Read the
 * diff before committing it: a rewrite is not a licence to accept wrong output. Whatever the
 * expected text says, a scenario fails if a `check` finds a violation, a `stabilize` does not
 * converge, or the cluster throws (a broken invariant).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  diffLines,
  formatScript,
  parseScript,
  runScript,
  ScenarioRunner,
  ScriptError,
  tokenize,
} from "../../sim/scenario.js";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "..");
const dir = join(root, "test", "scenarios");
const rewrite = process.env["REWRITE"] === "1";

const files = readdirSync(dir).filter((f) => f.endsWith(".txt")).sort();

test("there are scenario scripts", () => {
  assert.ok(files.length >= 9, `found ${files.length} scripts in ${dir}`);
});

for (const f of files) {
  test(`scenario ${f}`, () => {
    const path = join(dir, f);
    const text = readFileSync(path, "utf8");
    const r = runScript(text);
    if (rewrite && r.actual !== text) writeFileSync(path, r.actual);
    assert.deepEqual(r.failures, [], `${f}: failures that no expected text can accept`);
    if (!rewrite && r.actual !== r.expected) {
      assert.fail(`${f}: transcript differs (- expected, + actual); REWRITE=1 to accept after review\n${diffLines(r.expected, r.actual)}`);
    }
    // Every script ends with a clean safety check.
    const blocks = parseScript(r.actual).flatMap((p) => (p.kind === "block" ? [p.block] : []));
    const last = blocks[blocks.length - 1];
    assert.equal(last?.command, "check", `${f}: the last command must be "check"`);
    assert.deepEqual(last?.expected, ["ok"]);
  });
}

// ------------------------------------------------------------------ the runner itself

test("parse and format round-trip a script, keeping comments and blank lines", () => {
  const text = "# a comment\n\ncluster nodes=2\n----\nout 1\nout 2\n\n# between\nstatus\n----\n";
  const parts = parseScript(text);
  const outs = parts.flatMap((p) => (p.kind === "block" ? [p.block.expected] : []));
  assert.deepEqual(outs, [["out 1", "out 2"], []]);
  assert.equal(formatScript(parts, outs), text.replace(/\n+$/, "\n"));
});

test("a command without its separator is a script error", () => {
  assert.throws(() => parseScript("status\nstatus\n"), ScriptError);
});

test("tokenize keeps quoted words together and marks them", () => {
  assert.deepEqual(tokenize('mcast 1 "hello world" size=3 "a \\"b\\""'), ["mcast", "1", '"hello world', "size=3", '"a "b"']);
});

test("a transcript mismatch is reported as a diff and the rewrite produces the actual output", () => {
  const script = "cluster nodes=2 token=1000 seed=3\n----\nwrong\n\nstart 1 2\n----\n\nstabilize\n----\nconverged never\n\ncheck\n----\nok\n";
  const r = runScript(script);
  assert.notEqual(r.actual, r.expected);
  const d = diffLines(r.expected, r.actual);
  assert.match(d, /^-wrong$/m);
  assert.match(d, /^\+nodes \[1 2\] token 1000ms/m);
  assert.match(d, /^-converged never$/m);
  // The rewritten script reproduces itself.
  const again = runScript(r.actual);
  assert.equal(again.actual, r.actual);
  assert.equal(again.expected, r.actual);
});

test("the same script with another seed can differ, the same seed never does", () => {
  const script = (seed: number): string =>
    `cluster nodes=3 token=1000 seed=${seed} loss=0.2 jitter=2\n----\n\nstart 1 2 3\n----\n\nrun 4000\n----\n\nlog 1 level=debug\n----\n`;
  const a1 = runScript(script(1)).actual;
  const a2 = runScript(script(1)).actual;
  assert.equal(a1, a2);
  const others = [2, 3, 4, 5].map((s) => runScript(script(s)).actual.replace(/seed=\d+/, "seed=1"));
  assert.ok(others.some((o) => o !== a1), "the seed reaches the network");
});

test("script errors name the line; unknown commands and bad node ids are refused", () => {
  assert.throws(() => runScript("cluster nodes=2\n----\n\nfrobnicate\n----\n"), /line 4: unknown command "frobnicate"/);
  assert.throws(() => runScript("cluster nodes=2\n----\n\nstart 3\n----\n"), /no node "3"/);
  assert.throws(() => runScript("status\n----\n"), /before "cluster"/);
  const r = new ScenarioRunner();
  r.run("cluster nodes=2");
  r.run("start 1");
  assert.throws(() => r.run("start 1"), /already up/);
  assert.throws(() => r.run("restart 2"), /never ran/);
});

test("a failed check and a stabilize that cannot converge are failures whatever the text says", () => {
  const r = new ScenarioRunner();
  r.run("cluster nodes=2 token=1000");
  r.run("start 1 2");
  r.run("stabilize");
  // A delivery the recorder never saw sent is a creation violation.
  r.recorder.violations.push("creation: injected for the test");
  assert.deepEqual(r.run("check"), ["creation: injected for the test"]);
  assert.equal(r.failures.length, 1);
  const r2 = new ScenarioRunner();
  r2.run("cluster nodes=3 token=1000");
  r2.run("start 1 2 3");
  // 2 and 3 never hear 1, 1 hears them: 2 and 3 settle in a ring of their own, but 1 keeps
  // hearing their traffic as foreign and re-forms its singleton ring over and over.
  r2.run("block 1>2 1>3");
  const out = r2.run("stabilize max=3000");
  assert.match(out[0]!, /^not converged within 3000ms/);
  assert.equal(r2.failures.length, 1);
});
