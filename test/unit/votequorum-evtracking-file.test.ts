/**
 * `<state_dir>/ev_tracking` as the executive keeps it: created with 0 when missing, a native
 * (little-endian) u32 like corosync's, rewritten on every raise; an unwritable state dir is
 * an error (corosync: "Unable to load ev_tracking file!").
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evTrackingFile } from "../../src/daemon/services/quorum.js";

test("ev_tracking file: created as 0, stores a little-endian u32, survives reopening", () => {
  const dir = mkdtempSync(join(tmpdir(), "evt-"));
  try {
    const store = evTrackingFile(dir);
    assert.equal(store.load(), 0);
    assert.deepEqual([...readFileSync(join(dir, "ev_tracking"))], [0, 0, 0, 0]);
    store.save(0x01020305);
    assert.deepEqual([...readFileSync(join(dir, "ev_tracking"))], [5, 3, 2, 1]);
    assert.equal(evTrackingFile(dir).load(), 0x01020305);
    writeFileSync(join(dir, "ev_tracking"), Uint8Array.of(9, 9));
    assert.equal(evTrackingFile(dir).load(), 0, "a short file is rewritten with 0, as corosync");
    assert.throws(() => evTrackingFile(join(dir, "missing", "dir")).load());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
