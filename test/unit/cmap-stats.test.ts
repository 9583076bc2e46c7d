/**
 * The stats map (src/core/cmap/stats-map.ts) and the daemon's source of numbers
 * (src/daemon/stats-source.ts): corosync's key names and types, read-only rules, clearing by
 * baseline, and tracker polling (MODIFY for exact keys, ADD/DELETE for prefixes).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { StatsMap } from "../../src/core/cmap/stats-map.js";
import { CmapType, type CmapEntry } from "../../src/core/cmap/types.js";
import { isCmapError } from "../../src/core/cmap/errors.js";
import type { CmapNotification } from "../../src/core/cmap/store.js";
import { DaemonStatsSource } from "../../src/daemon/stats-source.js";
import { emptySrpStats } from "../../src/core/totem/types.js";
import type { IpcConnection } from "../../src/runtime/ipc/server.js";

const u64 = (n: bigint) => ({ type: CmapType.UINT64, value: n }) as const;

test("stats map: poll reports MODIFY to exact trackers and ADD/DELETE to prefix trackers", () => {
  let entries: CmapEntry[] = [{ key: "stats.a.x", value: u64(1n) }];
  const map = new StatsMap({ entries: () => entries, clear: () => {} });
  const exact: CmapNotification[] = [];
  const prefix: CmapNotification[] = [];
  const t1 = map.track("stats.a.x", 2 | 4 | 1, (n) => void exact.push(n));
  map.track("stats.a.", 8 | 4 | 2 | 1, (n) => void prefix.push(n));
  entries = [
    { key: "stats.a.x", value: u64(2n) },
    { key: "stats.a.y", value: u64(0n) },
  ];
  map.poll();
  entries = [{ key: "stats.a.x", value: u64(2n) }];
  map.poll();
  assert.deepEqual(exact, [{ event: 2, key: "stats.a.x", newValue: u64(2n), oldValue: u64(1n) }]);
  assert.deepEqual(prefix, [
    { event: 4, key: "stats.a.y", newValue: u64(0n) },
    { event: 1, key: "stats.a.y", oldValue: u64(0n) },
  ]);
  t1.cancel();
  assert.equal(map.trackerCount, 1);
  assert.throws(() => map.track("stats.", 8 | 4, () => {}), (e) => isCmapError(e, "NOT_SUPPORTED"));
  assert.deepEqual([...map.iter("stats.a")].map((e) => e.key), ["stats.a.x"]);
  assert.throws(() => map.get("stats.nope"), (e) => isCmapError(e, "NOT_EXIST"));
  assert.throws(() => map.adjustInt("stats.clear.all", 1), (e) => isCmapError(e, "NOT_SUPPORTED"));
  assert.throws(() => map.delete("stats.a.x"), (e) => isCmapError(e, "ACCESS"));
});

function fakeConn(id: number, service: string, pid: number, requests: number): IpcConnection {
  return {
    id,
    service,
    cred: { pid, uid: 0, gid: 0 },
    stats: () => ({ service, pid, uid: 0, gid: 0, fd: 5, requests, responses: requests, events: 3, queued: 0, sendRetries: 0, recvRetries: 0, invalidRequests: 1, flowControl: false, flowControlCount: 0 }),
  } as unknown as IpcConnection;
}

test("daemon stats source: corosync's names and types, our extras, clearing by baseline", () => {
  const srp = emptySrpStats();
  srp.orf_token_rx = 10;
  srp.mtt_rx_token = 7;
  srp.firewall_enabled_or_nic_failure = 1;
  let requests = 4;
  let closed = 2;
  const conn = (): IpcConnection => fakeConn(0x2a, "cmap", 4242, requests);
  const src = new DaemonStatsSource({
    srp: { stats: () => srp, avail: () => 123 },
    ipc: () => ({ stats: () => ({ active: 1, closed, refused: 0, protocolErrors: 0, connections: [] }), connections: () => [conn()] }),
    dropped: () => ({ BAD_MAGIC: 3 }),
    transport: () => ({ rx_datagrams: 50, tx_datagrams: 49 }),
    procName: () => "corosync-cmapct",
  });
  const map = new StatsMap(src);
  const get = (k: string) => map.get(k);
  assert.deepEqual(get("stats.pg.msg_queue_avail"), { type: CmapType.UINT32, value: 123 });
  assert.deepEqual(get("stats.srp.orf_token_rx"), u64(10n));
  assert.deepEqual(get("stats.srp.mtt_rx_token"), { type: CmapType.UINT32, value: 7 });
  assert.deepEqual(get("stats.srp.firewall_enabled_or_nic_failure"), { type: CmapType.UINT8, value: 1 });
  assert.deepEqual(get("stats.srp.rx_dropped.bad_magic"), u64(3n));
  assert.deepEqual(get("stats.transport.rx_datagrams"), u64(50n));
  assert.deepEqual(get("stats.ipcs.global.active"), u64(1n));
  const p = "stats.ipcs.service0.4242.0x2a";
  assert.deepEqual(get(`${p}.procname`), { type: CmapType.STRING, value: "corosync-cmapct" });
  assert.deepEqual(get(`${p}.requests`), u64(4n));
  assert.deepEqual(get(`${p}.queueing`), { type: CmapType.INT32, value: 0 });
  assert.deepEqual(get(`${p}.invalid_request`), u64(1n));
  map.set("stats.clear.totem", { type: CmapType.UINT32, value: 1 });
  srp.orf_token_rx = 12;
  assert.deepEqual(get("stats.srp.orf_token_rx"), u64(2n), "counted from the clear");
  assert.deepEqual(get("stats.srp.mtt_rx_token"), { type: CmapType.UINT32, value: 7 }, "gauges are not cleared");
  assert.deepEqual(get(`${p}.requests`), u64(4n), "ipc untouched by a totem clear");
  map.set("stats.clear.ipc", { type: CmapType.UINT32, value: 1 });
  requests = 6;
  closed = 5;
  assert.deepEqual(get(`${p}.requests`), u64(2n));
  assert.deepEqual(get("stats.ipcs.global.closed"), u64(3n));
  map.set("stats.clear.all", { type: CmapType.UINT32, value: 1 });
  assert.deepEqual(get("stats.transport.rx_datagrams"), u64(0n));
  assert.deepEqual(get("stats.srp.rx_dropped.bad_magic"), u64(0n));
  const keys = [...map.iter("")].map((e) => e.key);
  assert.deepEqual(keys, [...keys].sort(), "iteration in byte order");
});

test("daemon stats source on knet: stats.knet.node<id>.link<n>.* with corosync's types, transport drops, clear.knet", () => {
  const dropped = { duplicate: 4 };
  const src = new DaemonStatsSource({
    transportDropped: () => dropped,
    links: () => [
      { nodeId: 1, local: true, reachable: true, links: [{ link: 0, transport: "udp", localAddress: "10.0.0.1", remoteAddress: "10.0.0.1", enabled: true, connected: true, mtu: 1397, stats: { tx_data_packets: 9 } }] },
      {
        nodeId: 2,
        local: false,
        reachable: true,
        links: [{ link: 0, transport: "udp", localAddress: "10.0.0.1", remoteAddress: "10.0.0.2", enabled: true, connected: false, mtu: 1397, stats: { tx_data_packets: 100, latency_ave: 250, up_count: 2 } }],
      },
    ],
  });
  const map = new StatsMap(src);
  const get = (k: string) => map.get(k);
  const base = "stats.knet.node2.link0";
  assert.deepEqual(get(`${base}.enabled`), { type: CmapType.UINT8, value: 1 });
  assert.deepEqual(get(`${base}.connected`), { type: CmapType.UINT8, value: 0 });
  assert.deepEqual(get(`${base}.mtu`), { type: CmapType.UINT32, value: 1397 });
  assert.deepEqual(get(`${base}.tx_data_packets`), u64(100n));
  assert.deepEqual(get(`${base}.latency_ave`), { type: CmapType.UINT32, value: 250 });
  assert.deepEqual(get(`${base}.up_count`), { type: CmapType.UINT32, value: 2 });
  assert.deepEqual(get("stats.transport.rx_dropped.duplicate"), u64(4n));
  assert.equal([...map.iter("stats.knet.node1.")].length, 0, "no keys for the local node (as corosync)");
  map.set("stats.clear.knet", { type: CmapType.UINT32, value: 1 });
  dropped.duplicate = 6;
  assert.deepEqual(get("stats.transport.rx_dropped.duplicate"), u64(2n));
  assert.deepEqual(get(`${base}.tx_data_packets`), u64(0n), "counted from the clear");
  assert.deepEqual(get(`${base}.latency_ave`), { type: CmapType.UINT32, value: 250 }, "latency is a gauge");
});
