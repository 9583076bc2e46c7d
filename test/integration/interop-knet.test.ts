/**
 * Interoperability with Debian's corosync 3.1.7 + libknet 1.25 on `transport: knet` with
 * crypto aes256 + sha256 (issue: "our node joins a stock corosync 3 cluster"), at the Totem
 * level, each node in its own network namespace:
 * - 2 corosync + 1 ours (IPv4) and 1 corosync + 2 ours (IPv6) form one ring; the C node's
 *   cfgtool sees our node reachable; kill -9 and restart of each kind (and, IPv4, a SIGSTOP
 *   of ours longer than the token) re-form it;
 * - with knet_mtu 200 on every node, Totem messages cross in fragments both ways;
 * - a node of ours with another authkey never joins and logs "invalid digest";
 * - with two links (passive), cutting link 0 of one node (ours, then a C node) keeps the
 *   ring on link 1 — the same membership, no new ring — and the C node reports the link down.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { mixedSkipReason, startMixed, type Kind, type MixedCluster } from "../helpers/mixed.js";

const skip = mixedSkipReason();
const KNET = { transport: "knet", crypto: true, token: 1000 } as const;

function oneRing(m: MixedCluster): void {
  const ids = m.cluster.nodes.filter((n) => n.running).map((n) => n.ringId);
  assert.equal(new Set(ids).size, 1, `one ring id: ${ids.join(" ")}`);
}

/** `corosync-cfgtool -n` (reachable nodes and their links) or `-s` (per link, every node) of a C node. */
function cfgtoolLinks(m: MixedCluster, cNode: number, flag: "-n" | "-s" = "-n"): string {
  const r = m.exec(cNode, ["corosync-cfgtool", flag]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Poll the C node's cfgtool until its output matches (PMTUd settles a moment after a join). */
async function waitCfgtool(m: MixedCluster, cNode: number, re: RegExp, flag: "-n" | "-s" = "-n", ms = 15_000): Promise<string> {
  let out = "";
  await m.cluster.waitFor(`cfgtool ${flag} of node ${cNode} to match ${re}`, () => re.test((out = cfgtoolLinks(m, cNode, flag))), ms);
  return out;
}

async function killRestart(m: MixedCluster, victim: number, all: number[]): Promise<void> {
  const c = m.cluster;
  const rest = all.filter((x) => x !== victim);
  c.node(victim).signal("SIGKILL");
  await c.node(victim).exited;
  await c.waitForMembers(rest, rest, 60_000);
  c.node(victim).start();
  await c.waitForMembers(all, all, 60_000);
  oneRing(m);
}

async function formKillRestart(kinds: Kind[], ipv6 = false): Promise<void> {
  const m = startMixed(kinds, { ...KNET, ipv6 });
  const c = m.cluster;
  const all = kinds.map((_, i) => i + 1);
  try {
    c.start();
    await c.waitForMembers(all, all, 60_000);
    oneRing(m);
    const cNode = kinds.indexOf("corosync") + 1;
    const ours = kinds.indexOf("ours") + 1;
    // The C node's PMTUd towards our node (our replies) ends at the path's full MTU.
    const mtu = ipv6 ? 1365 : 1397;
    await waitCfgtool(m, cNode, new RegExp(`nodeid: ${ours} reachable\\n\\s+LINK: 0 udp \\(\\S+->\\S+\\) enabled connected mtu: ${mtu}\\n`));
    // Debian's cfgtool against our node: knet's view, in the shapes a C node gives.
    const n = m.exec(ours, ["corosync-cfgtool", "-n"]);
    assert.equal(n.status, 0, n.stderr);
    // (Debian's cfgtool is built without HAVE_KNET_ONWIRE_VER: no onwire figures.)
    assert.match(n.stdout, new RegExp(`^Local node ID ${ours}, transport knet\\n`));
    for (const id of all.filter((x) => x !== ours)) assert.match(n.stdout, new RegExp(`nodeid: ${id} reachable\\n\\s+LINK: 0 udp \\(\\S+->\\S+\\) enabled connected mtu: \\d+\\n`));
    const st = m.exec(ours, ["corosync-cfgtool", "-s"]);
    assert.equal(st.status, 0, st.stderr);
    for (const id of all) assert.match(st.stdout, new RegExp(`nodeid:\\s+${id}:\\t${id === ours ? "localhost" : "connected"}\\n`));
    const log = c.node(ours).lines.map((l) => l.text).join("\n");
    assert.match(log, /knet crypto: aes256\/sha256/);
    assert.match(log, new RegExp(`rx: host: ${cNode} link: 0 is up`));
    assert.doesNotMatch(log, /invalid digest/);
    for (const victim of [ours, cNode]) await killRestart(m, victim, all);
    if (!ipv6) {
      // SIGSTOP of our node longer than the token: its links time out at the C nodes and come
      // back after SIGCONT (pongs again), and it merges into the ring.
      const rest = all.filter((x) => x !== ours);
      c.node(ours).signal("SIGSTOP");
      try {
        await c.waitForMembers(rest, rest, 60_000);
      } finally {
        c.node(ours).signal("SIGCONT");
      }
      await c.waitForMembers(all, all, 60_000);
      oneRing(m);
    }
  } finally {
    await m.destroy();
  }
  assert.deepEqual(m.lab.leftovers(), []);
}

test("knet + crypto, 2 corosync + 1 ours: one ring; kill -9 and restart of each kind, and a pause of ours, re-form it", { skip, timeout: 180_000 }, () =>
  formKillRestart(["corosync", "corosync", "ours"]),
);

test("knet + crypto over IPv6, 1 corosync + 2 ours: the same", { skip, timeout: 180_000 }, () => formKillRestart(["ours", "corosync", "ours"], true));

test("knet + crypto with knet_mtu 200 everywhere (data MTU 85): joins and commit tokens travel in fragments both ways", { skip, timeout: 120_000 }, async () => {
  const m = startMixed(["corosync", "corosync", "ours"], { ...KNET, totemExtra: ["knet_mtu: 200"] });
  const c = m.cluster;
  try {
    c.start();
    await c.waitForMembers([1, 2, 3], [1, 2, 3], 60_000);
    oneRing(m);
    // The C node's PMTUd towards our node settles a moment after the join (469, then 85).
    await waitCfgtool(m, 1, /nodeid: 3 reachable\n\s+LINK: 0 udp \S+ enabled connected mtu: 85\n/, "-n", 30_000);
    const before = c.node(3).lines.length;
    c.node(3).signal("SIGUSR2");
    await c.waitFor("our statistics line", () => c.node(3).lines.slice(before).some((l) => /Statistics:/.test(l.text)), 10_000);
    const line = c.node(3).lines.slice(before).find((l) => /Statistics:/.test(l.text))!.text;
    const num = (k: string) => Number(new RegExp(`\\b${k}=(\\d+)`).exec(line)?.[1]);
    assert.ok(num("tx_data_frames") > num("tx_packets"), `we fragmented: ${line}`);
    assert.ok(num("rx_data_frames") > num("rx_packets"), `we reassembled their fragments: ${line}`);
    assert.match(line, /frames dropped: none/);
  } finally {
    await m.destroy();
  }
});

test("knet + crypto: our node with another authkey never joins and logs invalid digest", { skip, timeout: 120_000 }, async () => {
  const m = startMixed(["corosync", "corosync", "ours"], { ...KNET, wrongKey: [3] });
  const c = m.cluster;
  try {
    c.start();
    await c.waitForMembers([1, 2], [1, 2], 60_000);
    await c.waitFor("our node logs invalid digest", () => c.node(3).grep(/invalid digest/).length > 0, 30_000);
    await sleep(6000);
    assert.deepEqual(c.node(1).members, [1, 2]);
    assert.deepEqual(c.node(2).members, [1, 2]);
    assert.ok(c.node(3).members.length <= 1, `our node alone: [${c.node(3).members.join(" ")}]`);
    const lines = c.node(3).grep(/invalid digest/);
    // Two sources, each logged at most once per 10 s (plus one for the start of the next window).
    assert.ok(lines.length >= 1 && lines.length <= 4, lines.join("\n"));
    assert.match(lines[0]!, /Received message has invalid digest\.\.\. ignoring\. \(from 10\.[0-9.]+:\d+/);
    assert.match(cfgtoolLinks(m, 1, "-s"), /nodeid:\s+3:\s+disconnected/);
    assert.doesNotMatch(cfgtoolLinks(m, 1), /nodeid: 3 reachable/);
  } finally {
    await m.destroy();
  }
});

test("knet + crypto, two links (passive): cutting link 0 of our node, then of a C node, keeps the ring on link 1", { skip, timeout: 180_000 }, async () => {
  const m = startMixed(["corosync", "corosync", "ours"], { ...KNET, links: 2 });
  const c = m.cluster;
  const all = [1, 2, 3];
  try {
    c.start();
    await c.waitForMembers(all, all, 60_000);
    // Let knet's pong-timeout backoff settle (10 → 1 over ~10 s), as on a running cluster.
    await sleep(11_000);
    // Our node 3, then the C node 2, loses link 0 (both directions). Node 3 (ours) sees it
    // either way; the C node 1 reports it with its own tool.
    for (const victim of [3, 2]) {
      const ring = c.node(1).ringId;
      const peer = victim === 3 ? 1 : victim;
      const undo = m.lab.blackhole(victim, 0);
      try {
        await c.waitFor(`node 3 sees link 0 to node ${peer} down`, () => c.node(3).grep(new RegExp(`host: ${peer} link: 0 is down`)).length > 0, 30_000);
        await sleep(4000);
        for (const n of c.nodes) assert.deepEqual(n.members, all, `node ${n.id} keeps every member`);
        assert.equal(c.node(1).ringId, ring, "no new ring was formed");
        oneRing(m);
        const seen = cfgtoolLinks(m, 1);
        assert.match(seen, new RegExp(`nodeid: ${victim} reachable\\n\\s+LINK: 0 udp \\S+ enabled mtu: \\d+\\n\\s+LINK: 1 udp \\S+ enabled connected mtu`), seen);
      } finally {
        undo();
      }
      if (victim === 3) await sleep(12_000); // link 0 comes back and its backoff settles again
    }
  } finally {
    await m.destroy();
  }
  assert.deepEqual(m.lab.leftovers(), []);
});
