/**
 * cfg core: the shutdown coordination of corosync 3.1.7 (votes, vetoes, timeout, trackers
 * coming and going) and the exec message codecs, including hostile input.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ShutdownCoordinator, ShutdownFlag } from "../../src/core/cfg/shutdown.js";
import { CfgEngine } from "../../src/core/cfg/cfg.js";
import { CFG_EXEC, decodeKillNode, decodeSourceMessage, encodeKillNode, encodeShutdown, encodeSourceMessage } from "../../src/core/cfg/messages.js";
import type { ServiceApi } from "../../src/core/services/types.js";

const OK = 1;
const TIMEOUT = 5;
const BUSY = 10;
const ACCESS = 11;
const EXIST = 14;

function harness() {
  const events: string[] = [];
  const timers: Array<{ at: number; fn: () => void; dead: boolean }> = [];
  let now = 0;
  const co = new ShutdownCoordinator<string>({
    testShutdown: (conn, status, flags) => events.push(`test ${conn} status=${status} flags=${flags}`),
    respond: (conn, error) => events.push(`respond ${conn} ${error}`),
    sendShutdown: () => events.push("SHUTDOWN"),
    schedule: (ms, fn) => {
      const t = { at: now + ms, fn, dead: false };
      timers.push(t);
      return { cancel: () => void (t.dead = true) };
    },
    timeoutMs: () => 5000,
    log: () => {},
  });
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers) if (!t.dead && t.at <= now) (t.dead = true), t.fn();
  };
  return { co, events, advance, liveTimers: () => timers.filter((t) => !t.dead).length };
}

test("nobody tracking: the asker gets OK at once and SHUTDOWN goes out", () => {
  const { co, events } = harness();
  assert.equal(co.tryShutdown("tool", ShutdownFlag.REQUEST), OK);
  assert.deepEqual(events, ["SHUTDOWN"]);
  assert.equal(co.pending, false);
});

test("the asker's own tracking does not count; IMMEDIATE skips the vote", () => {
  const { co, events } = harness();
  co.trackStart("tool");
  assert.equal(co.tryShutdown("tool", ShutdownFlag.REQUEST), OK);
  co.trackStart("pcmk");
  assert.equal(co.tryShutdown("tool", ShutdownFlag.IMMEDIATE), OK);
  assert.deepEqual(events, ["SHUTDOWN", "SHUTDOWN"]);
});

test("every tracker is asked; all yes → OK and SHUTDOWN", () => {
  const { co, events, liveTimers } = harness();
  co.trackStart("a");
  co.trackStart("b");
  assert.equal(co.tryShutdown("tool", ShutdownFlag.REQUEST), undefined);
  assert.deepEqual(events, ["test a status=1 flags=0", "test b status=1 flags=0"]);
  assert.equal(co.reply("a", true), OK);
  assert.equal(events.length, 2, "no decision before every vote is in");
  assert.equal(co.reply("b", true), OK);
  assert.deepEqual(events.slice(2), ["respond tool 1", "SHUTDOWN"]);
  assert.equal(liveTimers(), 0);
});

test("a veto → BUSY and no SHUTDOWN; a second request while pending → EXIST", () => {
  const { co, events } = harness();
  co.trackStart("pcmk");
  assert.equal(co.tryShutdown("tool", ShutdownFlag.REQUEST), undefined);
  assert.equal(co.tryShutdown("tool2", ShutdownFlag.REQUEST), EXIST);
  assert.equal(co.reply("pcmk", false), OK);
  assert.deepEqual(events, ["test pcmk status=1 flags=0", `respond tool ${BUSY}`]);
  assert.equal(co.reply("pcmk", true), ACCESS, "no shutdown pending any more");
});

test("REGARDLESS: a veto is heard but the node goes down anyway", () => {
  const { co, events } = harness();
  co.trackStart("pcmk");
  co.tryShutdown("tool", ShutdownFlag.REGARDLESS);
  co.reply("pcmk", false);
  assert.deepEqual(events, ["test pcmk status=1 flags=1", "respond tool 1", "SHUTDOWN"]);
});

test("timeout: missing votes count as no; TIMEOUT reaches only trackers that once asked themselves (as corosync)", () => {
  const { co, events, advance } = harness();
  co.trackStart("a");
  co.trackStart("b");
  co.trackStart("asker-before");
  assert.equal(co.tryShutdown("asker-before", ShutdownFlag.REQUEST), undefined);
  co.reply("a", false);
  co.reply("b", true);
  assert.equal(co.pending, false);
  events.length = 0;
  co.tryShutdown("tool", ShutdownFlag.REQUEST);
  co.reply("a", true);
  advance(4999);
  assert.equal(events.length, 3);
  advance(1);
  assert.deepEqual(events.slice(3), [`respond tool ${BUSY}`, `test asker-before status=${TIMEOUT} flags=0`]);
});

test("a tracker that disconnects counts as yes; one that starts tracking while pending is asked", () => {
  const { co, events } = harness();
  co.trackStart("a");
  co.tryShutdown("tool", ShutdownFlag.REQUEST);
  co.trackStart("late");
  assert.deepEqual(events, ["test a status=1 flags=0", "test late status=1 flags=0"]);
  co.remove("a");
  assert.equal(events.length, 2);
  co.reply("late", true);
  assert.deepEqual(events.slice(2), ["respond tool 1", "SHUTDOWN"]);
});

test("a tracker that changes its mind is counted once; the asker disconnecting drops the request", () => {
  const { co, events, liveTimers } = harness();
  co.trackStart("a");
  co.trackStart("b");
  co.tryShutdown("tool", ShutdownFlag.REQUEST);
  co.reply("a", false);
  co.remove("a"); // its "no" is withdrawn, replaced by an implicit yes
  co.remove("tool");
  assert.equal(co.pending, false);
  assert.equal(liveTimers(), 0);
  co.reply("b", true);
  assert.ok(!events.some((e) => e.startsWith("respond")));
});

test("exec codecs: RELOAD_CONFIG/RINGREENABLE carry the source; KILLNODE cuts and sanitises the reason", () => {
  const m = encodeSourceMessage(CFG_EXEC.RELOAD_CONFIG, { nodeId: 3, conn: 0x1122334455667788n });
  assert.equal(m.byteLength, 32);
  assert.deepEqual(decodeSourceMessage(m, false), { nodeId: 3, conn: 0x1122334455667788n });
  assert.equal(decodeSourceMessage(m.subarray(0, 31), false), undefined);
  const k = encodeKillNode({ nodeId: 2, reason: "Killed by corosync-cfgtool" });
  assert.equal(k.byteLength, 288);
  assert.deepEqual(decodeKillNode(k, false), { nodeId: 2, reason: "Killed by corosync-cfgtool" });
  const hostile = new Uint8Array(288);
  hostile.set(k.subarray(0, 24));
  new DataView(hostile.buffer).setUint16(24, 0xffff, true);
  hostile.fill(0x42, 32);
  assert.equal(decodeKillNode(hostile, false)!.reason.length, 255);
  assert.equal(encodeShutdown().byteLength, 16);
});

test("engine: own SHUTDOWN stops us, others' are only logged; KILLNODE for us kills; short messages are dropped", () => {
  const calls: string[] = [];
  const sent: Uint8Array[] = [];
  const api: ServiceApi = {
    nodeId: 1,
    now: () => 0,
    mcast: (m) => (sent.push(m), true),
    sendOk: () => true,
    schedule: () => ({ cancel: () => {} }),
    log: (_l, _s, text) => calls.push(`log ${text}`),
  };
  const engine = new CfgEngine(api, {
    reloadConfig: (from, source) => calls.push(`reload from ${from} conn ${source.conn}`),
    ringReenable: (from) => calls.push(`reenable from ${from}`),
    killed: (by, reason) => calls.push(`killed by ${by}: ${reason}`),
    shutdown: () => calls.push("shutdown"),
  });
  engine.exec(CFG_EXEC.SHUTDOWN, encodeShutdown(), { nodeId: 2, bigEndian: false });
  assert.ok(!calls.includes("shutdown"));
  engine.exec(CFG_EXEC.SHUTDOWN, encodeShutdown(), { nodeId: 1, bigEndian: false });
  assert.ok(calls.includes("shutdown"));
  engine.exec(CFG_EXEC.KILLNODE, encodeKillNode({ nodeId: 3, reason: "x" }), { nodeId: 2, bigEndian: false });
  assert.ok(!calls.some((c) => c.startsWith("killed")));
  engine.exec(CFG_EXEC.KILLNODE, encodeKillNode({ nodeId: 1, reason: "bye" }), { nodeId: 2, bigEndian: false });
  assert.ok(calls.includes("killed by 2: bye"));
  assert.ok(calls.includes("log Killed by node 2 : bye"));
  engine.exec(CFG_EXEC.KILLNODE, new Uint8Array(40), { nodeId: 2, bigEndian: false });
  engine.exec(CFG_EXEC.RELOAD_CONFIG, new Uint8Array(20), { nodeId: 2, bigEndian: false });
  engine.exec(99, new Uint8Array(16), { nodeId: 2, bigEndian: false });
  assert.ok(engine.sendReload(7n));
  engine.exec(CFG_EXEC.RELOAD_CONFIG, sent[0]!, { nodeId: 1, bigEndian: false });
  assert.ok(calls.includes("reload from 1 conn 7"));
});
