/**
 * The transport's pure decisions: receive admission (size limit, block_unlisted_ips),
 * address keys across spellings and families, endpoint formatting, IPv6 scoping, and the
 * probe codec of the redundant-ring wrapper.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ErrorLogLimiter,
  RECEIVE_LIMIT_BYTES,
  addressKey,
  admitDatagram,
  formatEndpoint,
  isLinkLocalV6,
  memberAddress,
  scoped,
  socketType,
} from "../../src/runtime/transport/common.js";
import { PROBE_BYTES, decodeProbe, encodeProbe } from "../../src/runtime/transport/rrp.js";

const listed = new Set(["10.0.0.1", "10.0.0.2", "fd00::1"].map((a) => addressKey(a)!));

test("admitDatagram: too big is checked first, then the source address (port ignored)", () => {
  const policy = { maxBytes: RECEIVE_LIMIT_BYTES, listed };
  assert.equal(admitDatagram(100, "10.0.0.1", policy), "accept");
  assert.equal(admitDatagram(RECEIVE_LIMIT_BYTES, "10.0.0.2", policy), "accept");
  assert.equal(admitDatagram(RECEIVE_LIMIT_BYTES + 1, "10.0.0.1", policy), "too_big");
  assert.equal(admitDatagram(RECEIVE_LIMIT_BYTES + 1, "10.0.0.9", policy), "too_big", "size before source, as corosync");
  assert.equal(admitDatagram(100, "10.0.0.9", policy), "unlisted");
  assert.equal(admitDatagram(100, "FD00:0::1", policy), "accept", "any spelling of a listed IPv6 address");
  assert.equal(admitDatagram(100, "::ffff:10.0.0.1", policy), "unlisted", "an IPv4-mapped address is another family");
  assert.equal(admitDatagram(100, "not-an-address", policy), "unlisted");
  assert.equal(admitDatagram(0, "10.0.0.9", { maxBytes: 10 }), "accept", "no list: block_unlisted_ips off");
});

test("admitDatagram never throws, whatever the source string", () => {
  fc.assert(
    fc.property(fc.string(), fc.nat(200_000), (src, size) => {
      const v = admitDatagram(size, src, { maxBytes: RECEIVE_LIMIT_BYTES, listed });
      assert.ok(v === "accept" || v === "too_big" || v === "unlisted");
    }),
  );
});

test("addressKey: one key per address, distinct across families", () => {
  assert.equal(addressKey("::1"), addressKey("0:0::0:1"));
  assert.equal(addressKey("fe80::1%eth0"), addressKey("fe80::1"));
  assert.notEqual(addressKey("0.0.0.1"), addressKey("::1"));
  assert.equal(addressKey("10.0.0.1"), "10.0.0.1");
  assert.equal(addressKey("010.0.0.1"), undefined, "no leading zeros (inet_pton)");
  assert.equal(addressKey("host"), undefined);
});

test("endpoints, socket types and IPv6 scopes", () => {
  assert.equal(formatEndpoint("10.0.0.1", 5405), "10.0.0.1:5405");
  assert.equal(formatEndpoint("fd00::1", 5405), "[fd00::1]:5405");
  assert.equal(socketType("10.0.0.1"), "udp4");
  assert.equal(socketType("::1"), "udp6");
  assert.equal(isLinkLocalV6("fe80::1"), true);
  assert.equal(isLinkLocalV6("febf::1"), true);
  assert.equal(isLinkLocalV6("fec0::1"), false);
  assert.equal(scoped("fe80::1", "eth0"), "fe80::1%eth0");
  assert.equal(scoped("fe80::1%eth1", "eth0"), "fe80::1%eth1");
  assert.equal(scoped("fd00::1", "eth0"), "fd00::1");
  assert.equal(scoped("10.0.0.1", "eth0"), "10.0.0.1");
  assert.equal(memberAddress({ nodeId: 1, addrs: ["10.0.0.1", ""] }, 1), undefined);
  assert.equal(memberAddress({ nodeId: 1, addrs: ["10.0.0.1"] }, 1), undefined);
  assert.equal(memberAddress({ nodeId: 1, addrs: ["10.0.0.1"] }, 0), "10.0.0.1");
});

test("ErrorLogLimiter reports a key once per interval", () => {
  let now = 0;
  const lim = new ErrorLogLimiter(1000, () => now);
  assert.equal(lim.shouldLog("a"), true);
  assert.equal(lim.shouldLog("a"), false);
  assert.equal(lim.shouldLog("b"), true);
  now = 999;
  assert.equal(lim.shouldLog("a"), false);
  now = 1000;
  assert.equal(lim.shouldLog("a"), true);
});

test("probe codec round-trips and rejects everything else", () => {
  const p = { kind: "reply" as const, ring: 1, nodeId: 0xfffffffe, round: 77 };
  const bytes = encodeProbe(p);
  assert.equal(bytes.length, PROBE_BYTES);
  assert.deepEqual(decodeProbe(bytes), p);
  assert.deepEqual(decodeProbe(encodeProbe({ kind: "probe", ring: 0, nodeId: 1, round: 0 })), { kind: "probe", ring: 0, nodeId: 1, round: 0 });
  const totem = new Uint8Array(PROBE_BYTES);
  totem[0] = 0xc0;
  totem[1] = 0x70;
  assert.equal(decodeProbe(totem), undefined, "a Totem frame is never a probe");
  assert.equal(decodeProbe(bytes.subarray(0, 15)), undefined);
  const badKind = bytes.slice();
  badKind[5] = 3;
  assert.equal(decodeProbe(badKind), undefined);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), (b) => {
      const d = decodeProbe(b);
      if (d !== undefined) assert.deepEqual(encodeProbe(d), b);
    }),
  );
});
