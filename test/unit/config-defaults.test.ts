/**
 * Effective Totem timers (totem-spec §4.12) against corosync 3.1.7's runtime values
 * (reference-outputs.md).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CMAP_TYPE_NAMES, CmapType, type CmapValue } from "../../src/core/cmap/types.js";
import { type TotemDefaultsInput, computeTotemConfig } from "../../src/config/totem-defaults.js";

function input(memberCount: number, configured: Record<string, number | string> = {}, links: number[] = [0]): TotemDefaultsInput {
  const values = new Map<string, CmapValue>();
  for (const [k, v] of Object.entries(configured)) {
    values.set(`totem.${k}`, typeof v === "string" ? { type: CmapType.STRING, value: v } : { type: CmapType.UINT32, value: v });
  }
  return { lookup: (key) => values.get(key), memberCount, links, transport: "udpu" };
}

/** token / consensus / token_retransmit / hold */
function four(memberCount: number, configured: Record<string, number> = {}): number[] {
  const t = computeTotemConfig(input(memberCount, configured)).totem;
  return [t.tokenMs, t.consensusMs, t.tokenRetransmitMs, t.holdMs];
}

test("runtime values measured on corosync 3.1.7 and in §4.12", () => {
  assert.deepEqual(four(3), [3650, 4380, 869, 685]);
  assert.deepEqual(four(3, { token: 1000 }), [1650, 1980, 392, 303]);
  assert.deepEqual(four(5), [4950, 5940, 1178, 932]);
  assert.deepEqual(four(2), [3000, 3600, 714, 561]);
  assert.deepEqual(four(1), [3000, 3600, 714, 561]);
  assert.deepEqual(four(0), [3000, 3600, 714, 561]);
});

test("the 1.x documented values come out of the same formulas for token 1000 and 2 nodes", () => {
  assert.deepEqual(four(2, { token: 1000 }), [1000, 1200, 238, 180]);
});

test("a configured 0 means the default; configured values win over derived ones", () => {
  assert.deepEqual(four(2, { token: 0, token_retransmit: 0, hold: 0, consensus: 0 }), [3000, 3600, 714, 561]);
  assert.deepEqual(four(2, { token_retransmit: 500 }), [3000, 3600, 500, 390]);
  assert.deepEqual(four(2, { hold: 100, consensus: 5000 }), [3000, 5000, 714, 100]);
  assert.deepEqual(four(2, { token_retransmits_before_loss_const: 10 }), [3000, 3600, 294, 225]);
  const t = computeTotemConfig(input(2, { join: 0, merge: 0, window_size: 0, max_messages: 0, token_warning: 0 })).totem;
  assert.deepEqual([t.joinMs, t.mergeMs, t.windowSize, t.maxMessages, t.tokenWarningPercent], [50, 200, 50, 17, 0]);
});

test("token_coefficient: configured value, and 0 switches the per-node addition off", () => {
  assert.equal(computeTotemConfig(input(4, { token_coefficient: 100 })).totem.tokenMs, 3200);
  assert.equal(computeTotemConfig(input(4, { token_coefficient: 0 })).totem.tokenMs, 3000);
});

test("defaults of the other constants, and netmtu by transport", () => {
  const t = computeTotemConfig(input(2)).totem;
  assert.deepEqual(
    [t.joinMs, t.mergeMs, t.downcheckMs, t.failRecvConst, t.seqnoUnchangedConst, t.windowSize, t.maxMessages, t.missCountConst],
    [50, 200, 1000, 2500, 30, 50, 17, 5],
  );
  assert.deepEqual(
    [t.tokenRetransmitsBeforeLossConst, t.tokenWarningPercent, t.maxNetworkDelayMs, t.heartbeatFailuresAllowed, t.sendJoinMs, t.netMtu],
    [4, 75, 50, 0, 0, 1500],
  );
  assert.deepEqual([t.blockUnlistedIps, t.cancelTokenHoldOnRetransmit], [true, false]);
  const knet = computeTotemConfig({ ...input(2), transport: "knet" }).totem;
  assert.equal(knet.netMtu, 65536);
  const yesNo = computeTotemConfig(input(2, { block_unlisted_ips: "no", cancel_token_hold_on_retransmit: "yes" })).totem;
  assert.deepEqual([yesNo.blockUnlistedIps, yesNo.cancelTokenHoldOnRetransmit], [false, true]);
});

test("knet ping timers: timeout = token / pong_count, interval = token / (2 · pong_count)", () => {
  const t = computeTotemConfig(input(3)).totem;
  assert.deepEqual(t.links, [{ linkNumber: 0, knetPingIntervalMs: 912, knetPingTimeoutMs: 1825, knetPingPrecision: 2048, knetPongCount: 2, knetLinkPriority: 1 }]);
  const values = new Map<string, CmapValue>([
    ["totem.interface.1.knet_pong_count", { type: CmapType.UINT32, value: 5 }],
    ["totem.interface.1.knet_ping_interval", { type: CmapType.UINT32, value: 100 }],
  ]);
  const custom = computeTotemConfig({ lookup: (k) => values.get(k), memberCount: 2, links: [1, 0], transport: "knet" }).totem;
  assert.deepEqual(custom.links.map((l) => [l.linkNumber, l.knetPingIntervalMs, l.knetPingTimeoutMs]), [
    [0, 750, 1500],
    [1, 100, 600],
  ]);
});

test("runtime.config.totem.* match the reference listing (3 nodes, token unset)", () => {
  const lines = computeTotemConfig(input(3)).runtimeEntries.map(
    (e) => `${e.key} (${CMAP_TYPE_NAMES[e.value.type]}) = ${String(e.value.value)}`,
  );
  assert.deepEqual(lines, [
    "runtime.config.totem.block_unlisted_ips (u32) = 1",
    "runtime.config.totem.cancel_token_hold_on_retransmit (u32) = 0",
    "runtime.config.totem.consensus (u32) = 4380",
    "runtime.config.totem.downcheck (u32) = 1000",
    "runtime.config.totem.fail_recv_const (u32) = 2500",
    "runtime.config.totem.heartbeat_failures_allowed (u32) = 0",
    "runtime.config.totem.hold (u32) = 685",
    "runtime.config.totem.interface.0.knet_ping_interval (u32) = 912",
    "runtime.config.totem.interface.0.knet_ping_timeout (u32) = 1825",
    "runtime.config.totem.join (u32) = 50",
    "runtime.config.totem.knet_compression_level (i32) = 0",
    "runtime.config.totem.knet_compression_model (str) = none",
    "runtime.config.totem.knet_compression_threshold (u32) = 0",
    "runtime.config.totem.knet_mtu (u32) = 0",
    "runtime.config.totem.knet_pmtud_interval (u32) = 30",
    "runtime.config.totem.max_messages (u32) = 17",
    "runtime.config.totem.max_network_delay (u32) = 50",
    "runtime.config.totem.merge (u32) = 200",
    "runtime.config.totem.miss_count_const (u32) = 5",
    "runtime.config.totem.send_join (u32) = 0",
    "runtime.config.totem.seqno_unchanged_const (u32) = 30",
    "runtime.config.totem.token (u32) = 3650",
    "runtime.config.totem.token_retransmit (u32) = 869",
    "runtime.config.totem.token_retransmits_before_loss_const (u32) = 4",
    "runtime.config.totem.token_warning (u32) = 75",
    "runtime.config.totem.window_size (u32) = 50",
  ]);
});

test("property: consensus is (int)(float)(1.2·token) and the derived chain is monotone in token", () => {
  fc.assert(
    fc.property(fc.integer({ min: 30, max: 1_000_000 }), fc.integer({ min: 0, max: 30 }), (token, nodes) => {
      const t = computeTotemConfig(input(nodes, { token })).totem;
      const effective = token + Math.max(0, nodes - 2) * 650;
      assert.equal(t.tokenMs, effective);
      assert.equal(t.consensusMs, Math.trunc(Math.fround(1.2 * effective)));
      assert.equal(t.tokenRetransmitMs, Math.trunc(effective / 4.2));
      assert.equal(t.holdMs, Math.trunc(t.tokenRetransmitMs * 0.8 - 10));
      assert.ok(t.consensusMs >= t.tokenMs && t.tokenRetransmitMs < t.tokenMs);
    }),
  );
});
