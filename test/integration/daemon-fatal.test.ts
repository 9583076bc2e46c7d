/**
 * A broken invariant in the executive (an uncaught AssertionError): the fatal handler logs
 * it, writes the blackbox to `<state_dir>/fdata-*` (with the `fdata` link), and the process
 * exits 15 (corosync's COROSYNC_DONE_FATAL_ERR) instead of running on.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeBlackbox } from "../../src/daemon/log/blackbox-format.js";

const CHILD = fileURLToPath(new URL("../helpers/fatal-child.js", import.meta.url));

test("an uncaught assertion: logged, blackbox written to the state directory, exit 15", () => {
  const dir = mkdtempSync(join(tmpdir(), "fatal-"));
  try {
    const r = spawnSync(process.execPath, [CHILD, dir], { encoding: "utf8", timeout: 20_000 });
    assert.equal(r.status, 15, r.stderr);
    assert.match(r.stderr, /Assertion failed: AssertionError/);
    assert.match(r.stderr, /Blackbox written to .*fdata-/);
    assert.match(readlinkSync(join(dir, "fdata")), /fdata-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-\d+$/);
    const records = decodeBlackbox(new Uint8Array(readFileSync(join(dir, "fdata")))).records;
    assert.deepEqual(records.slice(0, 2).map((x) => [x.fn, x.message]), [
      ["MAIN", "child started"],
      ["TOTEM", "entering GATHER state from 15(interface change)."],
    ]);
    assert.match(records[2]!.message, /^Assertion failed: AssertionError.*sequence numbers out of order/s);
    assert.equal(records[2]!.priority, 3, "logged as an error");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
