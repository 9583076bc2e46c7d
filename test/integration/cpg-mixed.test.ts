/**
 * CPG across implementations in one mixed ring (issue 8): nodes 1 and 4 run Debian's
 * corosync 3.1.7, nodes 2 and 3 ours, each in its own network namespace. Seven clients join
 * one group — the C libcpg client (test/c/cpgclient.c -i) and our TS client library
 * (test/helpers/cpg-child.ts), each against both kinds of daemon:
 *
 *   a  C  on 1 (corosync)  stays to the end
 *   b  TS on 2 (ours)      stays to the end
 *   c  C  on 2 (ours)      process exit (PROCDOWN seen from the corosync side)
 *   d  C  on 3 (ours)      dies with its node (kill -9 of an executive of ours)
 *   e  TS on 4 (corosync)  dies with its node (kill -9 of a corosync)
 *   f  TS on 1 (corosync)  cpg_leave
 *   g  C  on 4 (corosync)  process exit (PROCDOWN seen from our side)
 *
 * Checked: every join, leave, process exit and node kill gives every remaining client the
 * same configuration change (members, left and joined with their reasons, as node/pid:reason
 * sorted); our node 3 is killed while d (on it) and a, b, e stream messages, and the
 * survivors' histories of deliveries and changes are identical (virtual synchrony across
 * implementations), every other client's a prefix of theirs; Debian's corosync-cpgtool and ours, on a node of each kind, list the same group
 * with the clients of the other kind's nodes; messages sent from every client arrive at every
 * client in one order, with the same FNV-1a delivery hash printed by each client; so do large
 * messages (300 kB to 1.5 MB; above 1 MiB libcpg sends them in partial pieces) from a client of each implementation on each kind of node.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  bigsOneOrder,
  buildCpgClient,
  change,
  Client,
  cpgMixedSkipReason,
  exchangeOneOrder,
  expectChange,
  JOIN,
  LEAVE,
  NODEDOWN,
  PROCDOWN,
} from "../helpers/cpg-mixed.js";
import { startMixed, type MixedCluster } from "../helpers/mixed.js";

const OUR_CPGTOOL = fileURLToPath(new URL("../../src/cli/corosync-cpgtool.js", import.meta.url));
const GROUP = "mixgrp";
const skip = cpgMixedSkipReason();

/** `corosync-cpgtool` output lines (without the header), sorted. */
function cpgtoolLines(m: MixedCluster, node: number, ours: boolean): string[] {
  const r = m.exec(node, ours ? [process.execPath, OUR_CPGTOOL] : ["corosync-cpgtool"]);
  assert.equal(r.status, 0, `${ours ? "our" : "Debian's"} corosync-cpgtool on node ${node}: ${r.stderr}`);
  const lines = r.stdout.split("\n").filter((l) => l !== "");
  assert.match(lines[0] ?? "", /^Group Name\t\s+PID\t\s+Node ID$/, r.stdout);
  return lines.slice(1).sort();
}

test("CPG in a mixed ring (2 corosync + 2 ours): joins, cpgtool, one order and hash, leave, process exit, node kills", { skip, timeout: 180_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), "cpg-mixed-"));
  const cBin = buildCpgClient(work);
  const m = startMixed(["corosync", "ours", "ours", "corosync"]);
  const clients: Client[] = [];
  try {
    m.cluster.start();
    await m.cluster.waitForMembers([1, 2, 3, 4], [1, 2, 3, 4], 60_000);

    // Joins, one at a time: each client, and every client already in, sees the same change.
    const expected = new Map<Client, string[]>();
    const specs: Array<[string, "C" | "TS", number]> = [
      ["a", "C", 1],
      ["b", "TS", 2],
      ["c", "C", 2],
      ["d", "C", 3],
      ["e", "TS", 4],
      ["f", "TS", 1],
      ["g", "C", 4],
    ];
    for (const [name, kind, node] of specs) {
      const cl = new Client(name, kind, node, m, cBin, GROUP);
      clients.push(cl);
      expected.set(cl, []);
      await cl.ready();
      await expectChange(clients, expected, change(clients, [], 0, [cl]), `${name} joins`);
    }
    const [a, b, c, d, e, f, g] = clients as [Client, Client, Client, Client, Client, Client, Client];
    /** Index in a client's log just after the change in which g (the last) joined. */
    const sinceAllJoined = (cl: Client): number => cl.log().findIndex((x) => x.startsWith("C ") && x.endsWith(`J=${g.id}:${JOIN}`)) + 1;

    // corosync-cpgtool, Debian's and ours, on a corosync node and on one of ours: the same group.
    const want = clients
      .map((cl) => [cl.node, cl.pid] as const)
      .sort((p, q) => p[0] - q[0] || p[1] - q[1]);
    const reference = cpgtoolLines(m, 1, false);
    assert.equal(reference.filter((l) => l === GROUP).length, 1, reference.join("\n"));
    const rows = reference.filter((l) => l.startsWith("\t\t"));
    const address = (n: number) => m.lab.nodes[n - 1]!.rings[0]!.address;
    assert.deepEqual(
      rows.map((l) => l.trim().split(/\s+/)),
      want.map(([n, p]) => [String(p), String(n), `(${address(n)})`]).sort((x, y) => (x.join(" ") < y.join(" ") ? -1 : 1)),
      `Debian's corosync-cpgtool on corosync node 1 lists the clients on our nodes:\n${reference.join("\n")}`,
    );
    for (const [node, ours] of [
      [2, true],
      [2, false],
      [1, true],
      [3, false],
    ] as const) {
      assert.deepEqual(cpgtoolLines(m, node, ours), reference, `${ours ? "our" : "Debian's"} corosync-cpgtool on node ${node} lists what Debian's lists on node 1`);
    }

    // Messages from every client, concurrently: one order and one hash everywhere.
    await exchangeOneOrder(clients, 10);

    // Large messages (fragmented by Totem; by libcpg, in pieces, above its IPC size) from
    // each kind of client on each kind of node: again one order and one hash.
    await bigsOneOrder(
      clients,
      [
        [a, 1_500_000],
        [b, 1024 * 1024],
        [d, 1_200_000],
        [e, 300_000],
      ],
      70,
    );

    // cpg_leave of f (TS on a corosync node).
    let present = [a, b, c, d, e, g];
    f.leave();
    await expectChange(present, expected, change(present, [f], LEAVE, []), "f leaves");
    // Process exit of c (C client on our node) and of g (C client on a corosync node).
    present = [a, b, d, e, g];
    c.exit();
    await expectChange(present, expected, change(present, [c], PROCDOWN, []), "c exits (our node)");
    present = [a, b, d, e];
    g.exit();
    await expectChange(present, expected, change(present, [g], PROCDOWN, []), "g exits (corosync node)");

    // kill -9 of our node 3 while d (on it), a, b and e stream messages: the survivors see the
    // same change and, before and after it, the same messages (virtual synchrony).
    const before = a.deliveries().length;
    d.proc.write("send D3 1000000\n");
    await a.proc.waitFor("d's stream under way at a", () => a.deliveries().slice(before).filter((x) => x.startsWith(`${d.id} `)).length >= 50, 30_000);
    const streams = [a, b, e].map((cl) => cl.send(`${cl.name.toUpperCase()}3`, 500));
    m.cluster.node(3).signal("SIGKILL");
    present = [a, b, e];
    await expectChange(present, expected, change(present, [d], NODEDOWN, []), "kill -9 of our node 3 under traffic");
    await Promise.all(streams);
    const streamed = (cl: Client) => cl.deliveries().filter((x) => / [ABE]3:/.test(x)).length;
    for (const cl of present) await cl.proc.waitFor(`the 1500 streamed messages at ${cl.name}`, () => streamed(cl) >= 1500, 60_000);
    const logA = a.log();
    for (const cl of [b, e]) assert.deepEqual(cl.log().slice(sinceAllJoined(cl)), logA.slice(sinceAllJoined(a)), `${cl.name}: the same deliveries and changes as a since all joined`);
    const downAt = logA.lastIndexOf(`C ${change(present, [d], NODEDOWN, [])}`);
    assert.ok(!logA.slice(downAt).some((x) => x.startsWith(`D ${d.id} `)), "nothing from d after the change that removed it");
    // Not asserted: that d's own history is a prefix of the survivors'. Agreed delivery does
    // not promise it for a node that dies (its own messages are delivered locally once sent;
    // if they never reach a survivor they are lost with it) — see docs/deviations.md, "Mixed rings".

    // kill -9 of corosync node 4 (e).
    m.cluster.node(4).signal("SIGKILL");
    present = [a, b];
    await expectChange(present, expected, change(present, [e], NODEDOWN, []), "kill -9 of corosync node 4");
    await m.cluster.waitForMembers([1, 2], [1, 2], 60_000);

    // The two remaining clients still agree, in both directions; every client's history since
    // all joined is a prefix of theirs (the leaver's, the exited ones' and e's included; not
    // d's, whose node died under traffic).
    const n = a.deliveries().length + 10;
    await Promise.all([a.send("A2", 5), b.send("B2", 5)]);
    for (const cl of [a, b]) await cl.proc.waitFor(`${n} deliveries at ${cl.name}`, () => cl.deliveries().length >= n, 60_000);
    assert.deepEqual(b.deliveries(), a.deliveries());
    const [ha, hb] = [await a.hash(), await b.hash()];
    assert.equal(ha, hb);
    assert.match(ha, new RegExp(`^${n} `));
    const full = a.log().slice(sinceAllJoined(a));
    for (const cl of clients.filter((x) => x !== d)) {
      const mine = cl.log().slice(sinceAllJoined(cl));
      assert.deepEqual(mine, full.slice(0, mine.length), `${cl.name} (${cl.kind} on node ${cl.node}): its history since all joined is the survivors'`);
    }

    // The last clients exit (f, which left the group, still had its connection). Every IPC
    // directory in /dev/shm of a client that went while its daemon lived was removed by the
    // daemon (d's and e's daemons were killed under them: the harness removes what is left).
    for (const cl of [a, b, f]) cl.exit();
    await Promise.all([a, b, f].map((cl) => cl.proc.exited));
    const gone = [a, b, c, f, g].map((cl) => `-${cl.pid}-`);
    const ipcLeft = () => m.shmLeftovers().filter((name) => gone.some((p) => name.includes(p)));
    await m.cluster.waitFor("the clients' IPC directories removed", () => ipcLeft().length === 0, 20_000).catch(() => {
      const who = `daemons ${m.cluster.nodes.map((n) => `${n.id}:${n.pids.join("/")}`).join(" ")}; clients ${clients.map((cl) => `${cl.name}=${cl.id}`).join(" ")}`;
      assert.deepEqual(ipcLeft(), [], `IPC directories left in /dev/shm (${who})`);
    });
  } finally {
    for (const cl of clients) cl.proc.kill();
    await Promise.all(clients.map((cl) => cl.proc.exited));

    await Promise.all(clients.map((cl) => cl.proc.exited));
    await m.destroy();
    rmSync(work, { recursive: true, force: true });
  }
  assert.deepEqual(m.lab.leftovers(), []);
  assert.deepEqual(m.shmLeftovers(), []);

});
