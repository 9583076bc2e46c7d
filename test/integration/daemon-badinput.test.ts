/**
 * Hostile datagrams at a high rate against real executives: garbage, truncated frames,
 * foreign versions and magics, forged frames from a member's address (another port) and from
 * an unlisted address. No crash, membership unaffected, every dropped frame counted by
 * reason (read with SIGUSR2, corosync's diagnostic signal), drop logs rate-limited.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { DaemonCluster } from "../helpers/daemons.js";

const cluster = new DaemonCluster({ nodes: 3, token: 1000 });
after(() => cluster.destroy());

/** A valid 13-byte Totem header followed by `rest`, with a chosen magic/version/type. */
function frame(magic: number, version: number, type: number, rest: number[]): Buffer {
  const b = Buffer.alloc(13 + rest.length);
  b.writeUInt16LE(magic, 0);
  b[2] = version;
  b[3] = type;
  b.writeUInt32LE(2, 5);
  Buffer.from(rest).copy(b, 13);
  return b;
}

const KINDS: Array<[string, () => Buffer]> = [
  ["garbage", () => Buffer.from(Array.from({ length: 1 + Math.floor(Math.random() * 200) }, () => Math.floor(Math.random() * 256)))],
  ["truncated token", () => frame(0xc070, 3, 0, [1, 2, 3])],
  ["2.x crypto header", () => Buffer.from([0xfe, 0xfe, 0, 0, ...Array.from({ length: 60 }, () => 7)])],
  ["wrong version", () => frame(0xc070, 2, 1, Array.from({ length: 40 }, () => 0))],
  ["bad type", () => frame(0xc070, 3, 9, [])],
  ["join with absurd counts", () => frame(0xc070, 3, 3, [2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0])],
];

/**
 * Send at `perSecond` for at least `ms`, and longer (up to 4×) until `atLeast` datagrams went
 * out: a loaded test machine sends slower than the rate asked, and the daemon must take the
 * whole flood either way.
 */
async function flood(fromAddress: string, targets: string[], port: number, perSecond: number, ms: number, atLeast = 0): Promise<number> {
  const sock = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(0, fromAddress, () => resolve());
  });
  let sent = 0;
  const started = Date.now();
  try {
    while (Date.now() - started < ms || (sent < atLeast && Date.now() - started < 4 * ms)) {
      const batchStart = Date.now();
      const batch = Math.ceil(perSecond / 100);
      for (let i = 0; i < batch; i++) {
        const [, make] = KINDS[Math.floor(sent / targets.length) % KINDS.length]!;
        sock.send(make(), port, targets[sent % targets.length]!);
        sent++;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 10 - (Date.now() - batchStart))));
    }
  } finally {
    await new Promise<void>((r) => sock.close(() => r()));
  }
  return sent;
}

test("hostile datagrams at 10,000/s: no crash, membership unaffected, drops counted by reason, logs rate-limited", async () => {
  cluster.start();
  await cluster.waitForMembers([1, 2, 3], [1, 2, 3]);
  const ring = cluster.node(1).ringId;
  const addrs = cluster.nodes.map((n) => n.address);
  const unlisted = addrs[0]!.replace(/\.\d+$/, ".200");
  const [fromMember, fromUnlisted] = await Promise.all([
    flood(addrs[1]!, addrs, cluster.port, 10_000, 3000, 30_000),
    flood(unlisted, addrs, cluster.port, 2_000, 3000),
  ]);
  assert.ok(fromMember >= 15_000, `sent ${fromMember} forged frames from a member's address`);
  // Let the daemons drain their sockets, then ask for the counters.
  await new Promise((r) => setTimeout(r, 500));
  for (const n of cluster.nodes) {
    assert.ok(n.running, `node ${n.id} is alive`);
    assert.equal(n.ringId, ring, `node ${n.id} kept ring ${ring}`);
    assert.deepEqual([...n.members].sort(), [1, 2, 3]);
    n.signal("SIGUSR2");
  }
  await cluster.waitFor("statistics from every node", () => cluster.nodes.every((n) => n.grep(/Statistics:/).length > 0), 10_000);
  let dropped = 0;
  for (const n of cluster.nodes) {
    const line = n.grep(/Statistics:/).pop()!;
    for (const reason of ["TRUNCATED", "BAD_VERSION", "BAD_TYPE", "BAD_MAGIC"]) {
      assert.match(line, new RegExp(`${reason}=\\d+`), `node ${n.id} counted ${reason}: ${line}`);
    }
    for (const m of line.matchAll(/ ([A-Z_]+)=(\d+)/g)) dropped += Number(m[2]);
    assert.match(line, /rx_blocked_unlisted=[1-9]\d*/, `node ${n.id} counted unlisted sources: ${line}`);
    const dropLogs = n.grep(/Dropping a frame from/).length;
    // One line per (reason, source) per 10 s: a handful, not thousands.
    assert.ok(dropLogs <= 12, `node ${n.id} logged ${dropLogs} drop lines`);
  }
  assert.ok(dropped > fromMember * 0.5, `dropped frames counted (${dropped} of ${fromMember} forged from a member address)`);
  void fromUnlisted;
});
