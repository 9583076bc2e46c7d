/**
 * IPC layouts of quorum, votequorum, cfg and the read-only cmap calls: sizes and offsets as
 * gcc lays out corosync 3.1.7's structs, round trips, and decoders that never throw on
 * arbitrary bytes. Also the tools' option parsing and date format.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeQuorumEvent, encodeNodelistNotification, encodeQuorumNotificationV0, encodeQuorumNotificationV1, encodeU32Response, decodeU32Response } from "../../src/wire/ipc/quorum.js";
import { VqReq, decodeGetInfo, decodeVqEvent, decodeVqRequest, encodeGetInfo, encodeVqExpectedVotesNotification, encodeVqNodelistNotification, encodeVqQuorumNotification, encodeVqRequest } from "../../src/wire/ipc/votequorum.js";
import {
  addressBytes,
  decodeKillNodeRequest,
  decodeNodeAddrs,
  decodeNodeStatus,
  decodeRingStatus,
  encodeKillNodeRequest,
  encodeNodeAddrs,
  encodeNodeStatus,
  encodeRingStatus,
  encodeTestShutdown,
} from "../../src/wire/ipc/cfg.js";
import { cmapValueBytes, cmapValueFrom, decodeCmapGet, decodeCmapGetRequest, encodeCmapGet, encodeCmapGetResponse, decodeCmapIterNext, encodeCmapIterNextResponse } from "../../src/wire/ipc/cmap-read.js";
import { CmapType } from "../../src/core/cmap/types.js";
import { ctime, getopt, strtonum } from "../../src/cli/lib/getopt.js";

const u32 = (b: Uint8Array, off: number) => new DataView(b.buffer, b.byteOffset).getUint32(off, true);

test("quorum events: v0 48+4n with the list at 44, v1 56+4n at 52, nodelist 64+4(m+j+l) at 60", () => {
  const n = { quorate: true, ringId: { nodeId: 3, seq: 0x1234n }, viewList: [1, 2, 3] };
  const v0 = encodeQuorumNotificationV0(n);
  assert.equal(v0.byteLength, 48 + 12);
  assert.deepEqual([u32(v0, 0), u32(v0, 40), u32(v0, 44), u32(v0, 52)], [3, 3, 1, 3]);
  const v1 = encodeQuorumNotificationV1(n);
  assert.equal(v1.byteLength, 56 + 12);
  assert.deepEqual([u32(v1, 0), u32(v1, 32), u32(v1, 48), u32(v1, 52)], [6, 3, 3, 1]);
  assert.deepEqual(decodeQuorumEvent(v1), { kind: "quorum", model: 1, ...n });
  assert.deepEqual(decodeQuorumEvent(v0), { kind: "quorum", model: 0, quorate: true, ringId: { nodeId: 0, seq: 0x1234n }, viewList: [1, 2, 3] });
  const nl = encodeNodelistNotification({ ringId: { nodeId: 1, seq: 5n }, members: [1, 2], joined: [2], left: [7] });
  assert.equal(nl.byteLength, 64 + 16);
  assert.deepEqual(decodeQuorumEvent(nl), { kind: "nodelist", ringId: { nodeId: 1, seq: 5n }, members: [1, 2], joined: [2], left: [7] });
  assert.equal(decodeU32Response(encodeU32Response(4, 1)), 1);
});

test("votequorum: getinfo is 320 bytes with the name at 60; requests and events round-trip", () => {
  const info = { nodeId: 2, state: 1, votes: 1, expectedVotes: 5, highestExpected: 5, totalVotes: 4, quorum: 3, flags: 2, qdeviceVotes: 0, qdeviceName: "Qdevice" };
  const g = encodeGetInfo(info, 1);
  assert.equal(g.byteLength, 320);
  assert.equal(new TextDecoder().decode(g.subarray(60, 67)), "Qdevice");
  assert.deepEqual(decodeGetInfo(g), info);
  for (const r of [
    { id: VqReq.GETINFO, nodeId: 3 },
    { id: VqReq.SETEXPECTED, expectedVotes: 7 },
    { id: VqReq.SETVOTES, votes: 2, nodeId: 4 },
    { id: VqReq.TRACKSTART, context: 99n, flags: 2 },
    { id: VqReq.TRACKSTOP },
    { id: VqReq.QDEVICE_REGISTER, name: "q" },
    { id: VqReq.QDEVICE_UPDATE, oldName: "a", newName: "b" },
    { id: VqReq.QDEVICE_POLL, name: "q", castVote: true, ringId: { nodeId: 1, seq: 9n } },
    { id: VqReq.QDEVICE_MASTER_WINS, name: "q", allow: true },
  ] as const) {
    const bytes = encodeVqRequest(r);
    assert.deepEqual(decodeVqRequest(r.id, bytes), r);
    if (r.id !== VqReq.TRACKSTOP) assert.equal(decodeVqRequest(r.id, bytes.subarray(0, 17)), undefined);
  }
  assert.equal(encodeVqRequest({ id: VqReq.TRACKSTART, context: 1n, flags: 1 }).byteLength, 32);
  assert.equal(encodeVqRequest({ id: VqReq.QDEVICE_POLL, name: "x", castVote: false, ringId: { nodeId: 0, seq: 0n } }).byteLength, 296);
  const q = encodeVqQuorumNotification(true, 5n, [{ nodeId: 1, state: 1 }]);
  assert.equal(q.byteLength, 56);
  assert.deepEqual(decodeVqEvent(q), { kind: "quorum", quorate: true, context: 5n, nodes: [{ nodeId: 1, state: 1 }] });
  const nl = encodeVqNodelistNotification(5n, { nodeId: 1, seq: 2n }, [1]);
  assert.equal(nl.byteLength, 60, "observed 60 bytes for one node");
  assert.deepEqual(decodeVqEvent(nl), { kind: "nodelist", context: 5n, ringId: { nodeId: 1, seq: 2n }, members: [1] });
  assert.deepEqual(decodeVqEvent(encodeVqExpectedVotesNotification(5n, 4)), { kind: "expectedVotes", context: 5n, expectedVotes: 4 });
});

test("cfg: ring status 10272, node status 4200, addresses in 16-byte slots, kill node cs_name_t at 24", () => {
  const rs = encodeRingStatus([{ name: "0 10.0.0.1", status: "OK" }]);
  assert.equal(rs.byteLength, 10272);
  assert.equal(new TextDecoder().decode(rs.subarray(2080, 2082)), "OK");
  assert.deepEqual(decodeRingStatus(rs), [{ name: "0 10.0.0.1", status: "OK" }]);
  const link = { enabled: true, connected: true, dynconnected: false, mtu: 1410, src: "10.0.0.2", dst: "" };
  const off = { enabled: false, connected: false, dynconnected: false, mtu: 0, src: "", dst: "" };
  const st = { nodeId: 2, reachable: true, remote: false, external: false, onwireMin: 0, onwireMax: 0, onwireVer: 0, links: [link, ...Array(7).fill(off)] };
  const sb = encodeNodeStatus(st, 1);
  assert.equal(sb.byteLength, 4200);
  assert.equal(u32(sb, 24 + 16 + 4), 1410, "mtu of link 0 at @44");
  assert.deepEqual(decodeNodeStatus(sb), st);
  assert.equal(encodeNodeStatus(undefined, 19, 2).byteLength, 32);
  const addrs = encodeNodeAddrs([
    { family: "IPv4", address: "10.1.2.3" },
    { family: "IPv4", address: "10.1.2.4" },
  ]);
  assert.equal(addrs.byteLength, 32 + 32);
  assert.deepEqual(Array.from(addrs.subarray(32, 36)), [10, 1, 2, 3]);
  assert.deepEqual(decodeNodeAddrs(addrs), [
    { family: "IPv4", address: "10.1.2.3" },
    { family: "IPv4", address: "10.1.2.4" },
  ]);
  assert.deepEqual(decodeNodeAddrs(encodeNodeAddrs([{ family: "IPv6", address: "fd00::1:2" }])), [{ family: "IPv6", address: "fd00::1:2" }]);
  assert.deepEqual(Array.from(addressBytes("::1", "IPv6")), [...Array(15).fill(0), 1]);
  const k = encodeKillNodeRequest(3, "bye");
  assert.equal(k.byteLength, 288);
  assert.deepEqual(decodeKillNodeRequest(k), { nodeId: 3, reason: "bye" });
  assert.equal(encodeTestShutdown(1).byteLength, 32);
});

test("cmap reads: GET sized 40 + asked length; NOT_EXIST / INVALID_PARAM as corosync; values round-trip", () => {
  const v = { type: CmapType.STRING, value: "corosync_votequorum" } as const;
  const probe = encodeCmapGetResponse(v, 0);
  assert.equal(probe.byteLength, 40);
  assert.equal(decodeCmapGet(probe)!.valueLen, 20);
  const full = encodeCmapGetResponse(v, 20);
  assert.deepEqual(cmapValueFrom(decodeCmapGet(full)!.type, decodeCmapGet(full)!.value), v);
  assert.equal(u32(encodeCmapGetResponse(v, 5), 16), 7, "buffer too small");
  assert.equal(u32(encodeCmapGetResponse(undefined, 0), 16), 12);
  assert.deepEqual(decodeCmapGetRequest(encodeCmapGet("quorum.provider", 0)), { key: "quorum.provider", valueLen: 0 });
  const it = encodeCmapIterNextResponse({ key: "nodelist.node.0.nodeid", value: { type: CmapType.UINT32, value: 1 } });
  assert.equal(it.byteLength, 304);
  assert.deepEqual(decodeCmapIterNext(it), { key: "nodelist.node.0.nodeid", valueLen: 4, type: CmapType.UINT32 });
  for (const val of [
    { type: CmapType.UINT8, value: 7 },
    { type: CmapType.INT32, value: -5 },
    { type: CmapType.UINT64, value: 1n << 40n },
    { type: CmapType.DOUBLE, value: 0.5 },
  ] as const) {
    assert.deepEqual(cmapValueFrom(val.type, cmapValueBytes(val)), val);
  }
});

test("decoders never throw on arbitrary bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 0, max: 12 }), (bytes, id) => {
      decodeQuorumEvent(bytes);
      decodeVqEvent(bytes);
      decodeVqRequest(id, bytes);
      decodeGetInfo(bytes);
      decodeRingStatus(bytes);
      decodeNodeStatus(bytes);
      decodeNodeAddrs(bytes);
      decodeKillNodeRequest(bytes);
      decodeCmapGet(bytes);
      decodeCmapGetRequest(bytes);
      decodeCmapIterNext(bytes);
    }),
    { numRuns: 2000 },
  );
});

test("getopt: bundles, attached and separate arguments, long options, glibc messages", () => {
  assert.deepEqual(getopt(["-si", "-e3", "-n", "4"], "sie:n:").options, [{ opt: "s" }, { opt: "i" }, { opt: "e", arg: "3" }, { opt: "n", arg: "4" }]);
  assert.deepEqual(getopt(["-H", "--force"], "H", { force: { arg: false } }).options, [{ opt: "H" }, { opt: "force" }]);
  assert.deepEqual(getopt(["--kill=3"], "k:", { kill: { arg: true, short: "k" } }).options, [{ opt: "k", arg: "3" }]);
  assert.equal(getopt(["-x"], "s").error, "invalid option -- 'x'");
  assert.equal(getopt(["-e"], "e:").error, "option requires an argument -- 'e'");
  assert.equal(strtonum("12", 1, 20), 12);
  assert.equal(strtonum("12x", 1, 20), undefined);
  assert.equal(strtonum("0", 1, 20), undefined);
  assert.equal(ctime(new Date(2026, 10, 5, 8, 3, 9)), "Thu Nov  5 08:03:09 2026");
});
