/**
 * Debian's Pacemaker 2.1.5, unchanged, on a 3-node cluster of our executives (issue 12).
 * Each node is a network + mount namespace (test/helpers/pacemaker.ts) running our
 * `corosync -f` and Debian's `pacemakerd` as on a real host. The steps share one cluster and
 * run in order:
 *
 * 1. formation: `crm_mon -1` on every node shows 3 nodes online and a quorate partition,
 *    `crm_node -l` lists them with our node ids;
 * 2. an `ocf:pacemaker:Dummy` resource starts (on the DC: its loss is the longer path);
 * 3. `kill -9` of our executive there: the survivors see the node leave and the resource runs
 *    elsewhere within token + consensus + Pacemaker's own reaction time (measured);
 * 4. that node restarted (a reboot: fresh /run and /dev/shm, then executive + pacemakerd)
 *    rejoins: 3 online everywhere;
 * 5. `corosync-cfgtool -H` (Debian's and ours) while Pacemaker runs: pacemakerd, a cfg
 *    shutdown tracker, vetoes it (CS_ERR_BUSY), nothing stops;
 * 6. a clean node stop: SIGTERM to pacemakerd stops its daemons in order, the peers see a
 *    clean leave, then `corosync-cfgtool -H` stops the executive (no tracker left);
 * 7. `corosync-cfgtool -H --force` while Pacemaker runs: the executive stops regardless,
 *    Pacemaker's daemons there stop, pacemakerd keeps reconnecting; the executive started
 *    again → pacemakerd reconnects, respawns its daemons, the node is back;
 * 8. the whole cluster stops cleanly (pacemakerd, then `-H`) within bounded time.
 *
 * After every rejoin the next step waits until the cluster has settled (DC idle, nothing
 * pending: `PacemakerCluster.waitSettled`), as an administrator would before the next change.
 *
 * Every wait polls `crm_mon` (or a log) against a generous deadline; timings are reported as
 * test diagnostics and recorded in docs/pacemaker.md.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { PacemakerCluster, TEST_PROPERTIES, pacemakerSkipReason, sleep, waitUntil, type CrmStatus, type PcmkNode, waitUntilAsync } from "../helpers/pacemaker.js";

const skip = pacemakerSkipReason();
const TOKEN_MS = 1000;
/**
 * Pacemaker's own share of a failover after the membership change: the controllers hear of
 * the loss (cpg, quorum), elect a new DC when the DC was lost, join, run the scheduler and
 * start the resource. Measured at 2–4 s here; the bound is generous for a loaded machine.
 */
const PACEMAKER_REACTION_MS = 25_000;

let cluster: PacemakerCluster | undefined;
const timings: Record<string, number> = {};
const t0 = Date.now();

function c(): PacemakerCluster {
  assert.ok(cluster, "cluster not started");
  return cluster;
}

function all(): number[] {
  return c().nodes.map((n) => n.index);
}

function others(i: number): number[] {
  return all().filter((x) => x !== i);
}

function record(name: string, ms: number): void {
  timings[name] = ms;
}

before(async () => {
  if (skip !== false) return;
  // PACEMAKER_TEST_KEEP=1 keeps the logs and CIBs (the directory is printed).
  const keepDir = process.env.PACEMAKER_TEST_KEEP === "1";
  cluster = await PacemakerCluster.create({ nodes: 3, token: TOKEN_MS, properties: TEST_PROPERTIES, keepDir });
  if (keepDir) console.log(`# pacemaker test directory: ${cluster.dir}`);
});

after(async () => {
  await cluster?.destroy();
  if (Object.keys(timings).length > 0) console.log(`# pacemaker timings (ms): ${JSON.stringify(timings)} total ${Date.now() - t0} ms`);
});

/** Dumps what helps after a failure: the tail of each node's logs. */
function context(): string {
  return c()
    .nodes.map((n) => {
      const pl = n.pacemakerLog().split("\n").filter((l) => /notice|warning|error|crit/.test(l)).slice(-15).join("\n    ");
      const cl = (n.corosync?.lines ?? []).slice(-8).map((l) => l.text).join("\n    ");
      return `${n.name}: corosync ${n.corosync?.running ? "running" : "stopped"}, pacemakerd ${n.pacemakerd?.running ? "running" : "stopped"}\n  corosync:\n    ${cl}\n  pacemaker:\n    ${pl}`;
    })
    .join("\n");
}

async function withContext<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    (e as Error).message += `\n--- node context ---\n${context()}`;
    throw e;
  }
}

function haclientGid(): number {
  const line = readFileSync("/etc/group", "utf8").split("\n").find((l) => l.startsWith("haclient:"));
  assert.ok(line, "group haclient");
  return Number(line.split(":")[2]);
}

function startedOn(s: CrmStatus, rsc: string): string[] {
  return s.resources[rsc] ?? [];
}

test("pacemaker: 3 nodes come online, quorate, crm_node lists our node ids", { skip, timeout: 180_000 }, async (t) => {
  await withContext(async () => {
    const start = Date.now();
    await c().startAll();
    const ringAt = Date.now();
    const { at } = await c().waitAllOnline(all(), 150_000);
    record("ring formed", ringAt - start);
    record("pacemaker all online after pacemakerd start", at - ringAt);
    const settledAt = await c().waitSettled();
    record("pacemaker settled after pacemakerd start", settledAt - ringAt);
    for (const n of c().nodes) {
      // Just after the join crm_mon may still say "MIXED-VERSION partition" until every
      // node's #feature-set attribute has reached the CIB (attrd writes them as they come).
      const mon = await waitUntilAsync(`${n.name}: crm_mon -1 without MIXED-VERSION`, 30_000, async () => {
        const r = await n.run(["crm_mon", "-1"]);
        return r.status === 0 && !/MIXED-VERSION/.test(r.stdout) ? r : undefined;
      });
      assert.match(mon.stdout, /Stack: corosync/);
      assert.match(mon.stdout, /Current DC: node\d .*- partition with quorum/);
      assert.match(mon.stdout, /3 nodes configured/);
      assert.match(mon.stdout, /Online: \[ node1 node2 node3 \]/);
      assert.doesNotMatch(mon.stdout, /OFFLINE|UNCLEAN|pending/i);
      const list = await n.run(["crm_node", "-l"]);
      assert.equal(list.status, 0, list.stderr);
      const rows = list.stdout.trim().split("\n").map((l) => l.trim()).sort();
      assert.deepEqual(rows, ["1 node1 member", "2 node2 member", "3 node3 member"]);
      const id = await n.run(["crm_node", "-i"]);
      assert.equal(id.stdout.trim(), String(n.nodeId));
      const quorate = await n.run(["crm_node", "-q"]);
      assert.equal(quorate.stdout.trim(), "1");
      // pacemakerd opened our IPC to its group (cmap set uidgid.gid.<haclient>), so its
      // daemons, running as hacluster:haclient, may connect.
      const gid = await n.run(["corosync-cmapctl", "-g", `uidgid.gid.${haclientGid()}`]);
      assert.equal(gid.status, 0, gid.stderr);
      assert.match(gid.stdout, new RegExp(`^uidgid\\.gid\\.${haclientGid()} \\(u8\\) = 1$`, "m"));
    }
    t.diagnostic(
      `ring ${timings["ring formed"]} ms; Pacemaker online everywhere ${timings["pacemaker all online after pacemakerd start"]} ms, ` +
        `settled ${timings["pacemaker settled after pacemakerd start"]} ms after pacemakerd started`,
    );
  });
});

let victim = 0;

test("pacemaker: an ocf:pacemaker:Dummy resource starts on one node", { skip, timeout: 120_000 }, async (t) => {
  await withContext(async () => {
    const { statuses: before } = await c().waitStatus("a DC on every node", all(), (st) => st.dc !== undefined, 30_000);
    const dcs = new Set(before.map((st) => st.dc));
    assert.equal(dcs.size, 1, `the nodes name different DCs: ${[...dcs].join(", ")}`);
    const dc = c().nodes.find((n) => n.name === before[0]!.dc)!;
    // Stickiness keeps it where it lands after a failover; the location score (lower than the
    // stickiness) puts it on the DC first, so that losing its node also loses the DC. It is
    // created stopped (target-role) and started once the constraint is in: otherwise the
    // scheduler may place it before the constraint exists, and stickiness keeps it there.
    const primitive =
      '<primitive id="dummy" class="ocf" provider="pacemaker" type="Dummy">' +
      '<meta_attributes id="dummy-meta"><nvpair id="dummy-stickiness" name="resource-stickiness" value="100"/>' +
      '<nvpair id="dummy-target-role" name="target-role" value="Stopped"/></meta_attributes>' +
      '<operations><op id="dummy-monitor-5s" name="monitor" interval="5s"/></operations></primitive>';
    const r1 = await c().node(1).run(["cibadmin", "--create", "-o", "resources", "--xml-text", primitive]);
    assert.equal(r1.status, 0, r1.stderr);
    const loc = `<rsc_location id="dummy-prefers-dc" rsc="dummy" node="${dc.name}" score="50"/>`;
    const r2 = await c().node(1).run(["cibadmin", "--create", "-o", "constraints", "--xml-text", loc]);
    assert.equal(r2.status, 0, r2.stderr);
    const created = Date.now();
    const r3 = await c().node(1).run(["crm_resource", "--resource", "dummy", "--meta", "--set-parameter", "target-role", "--parameter-value", "Started"]);
    assert.equal(r3.status, 0, r3.stderr);
    const { at } = await c().waitStatus(`dummy started on ${dc.name}`, all(), (st) => startedOn(st, "dummy").join() === dc.name, 60_000);
    record("dummy started after target-role=Started", at - created);
    victim = dc.index;
    t.diagnostic(`dummy started on ${dc.name} (the DC) ${at - created} ms after target-role=Started`);
  });
});

test("pacemaker: kill -9 of the executive → survivors see the node leave, the resource runs elsewhere", { skip, timeout: 120_000 }, async (t) => {
  await withContext(async () => {
    const x = c().node(victim);
    const survivors = others(victim);
    const killAt = Date.now();
    x.corosync!.signal("SIGKILL");
    await x.corosync!.waitExit(5000);
    // Totem: the survivors form a 2-node ring.
    const ringAt = Math.max(...(await Promise.all(survivors.map((i) => c().node(i).waitCorosyncMembers(survivors, 30_000, killAt)))));
    // Pacemaker: node gone, a new DC, the resource started on a survivor.
    const { at: leftAt } = await c().waitStatus(`${x.name} offline on the survivors`, survivors, (s) => s.nodes.some((n) => n.name === x.name && !n.online), 60_000);
    const { at: movedAt, statuses } = await c().waitStatus(
      "dummy started on a survivor, new DC, quorate",
      survivors,
      (s) => {
        const on = startedOn(s, "dummy");
        return on.length === 1 && on[0] !== x.name && s.dc !== undefined && s.dc !== x.name && s.quorate;
      },
      60_000,
    );
    const budget = c().effectiveTokenMs + c().consensusMs;
    record("kill → survivors' ring", ringAt - killAt);
    record("kill → crm_mon node offline", leftAt - killAt);
    record("kill → dummy started elsewhere", movedAt - killAt);
    t.diagnostic(
      `token ${c().effectiveTokenMs} + consensus ${c().consensusMs} = ${budget} ms; ring after ${ringAt - killAt} ms, ` +
        `crm_mon offline after ${leftAt - killAt} ms, dummy on ${startedOn(statuses[0]!, "dummy")[0]} after ${movedAt - killAt} ms`,
    );
    // The membership change comes from Totem's timers (plus scheduling slack on a shared machine).
    assert.ok(ringAt - killAt <= budget + 3000, `ring took ${ringAt - killAt} ms > token + consensus + 3 s`);
    assert.ok(movedAt - killAt <= budget + PACEMAKER_REACTION_MS, `failover took ${movedAt - killAt} ms`);
  });
});

test("pacemaker: the killed node restarted (executive + pacemakerd) rejoins", { skip, timeout: 150_000 }, async (t) => {
  await withContext(async () => {
    const x = c().node(victim);
    await x.reboot();
    const start = Date.now();
    x.startCorosync();
    await Promise.all(all().map((i) => c().node(i).waitCorosyncMembers(all(), 30_000, start)));
    const ringAt = Date.now();
    x.startPacemaker();
    const { at } = await c().waitAllOnline(all(), 120_000);
    const { statuses } = await c().waitStatus("dummy active on exactly one node", all(), (s) => startedOn(s, "dummy").length === 1, 60_000);
    const settledAt = await c().waitSettled(x.index);
    record("restart → ring", ringAt - start);
    record("restart → 3 online in crm_mon", at - start);
    record("restart → cluster settled", settledAt - start);
    t.diagnostic(`ring after ${ringAt - start} ms, 3 online after ${at - start} ms, settled after ${settledAt - start} ms; dummy on ${startedOn(statuses[0]!, "dummy")[0]}`);
  });
});

/** A node that is neither the DC nor `not`. */
async function pickNonDc(not: number[] = []): Promise<PcmkNode> {
  const { statuses } = await c().waitStatus("a DC", [1], (st) => st.dc !== undefined, 30_000);
  const n = c().nodes.find((x) => x.name !== statuses[0]!.dc && !not.includes(x.index));
  assert.ok(n, "no candidate node");
  return n;
}

test("pacemaker: corosync-cfgtool -H while Pacemaker runs is refused by pacemakerd (Debian's and ours)", { skip, timeout: 60_000 }, async () => {
  await withContext(async () => {
    const y = await pickNonDc();
    const logBefore = y.pacemakerLog().length;
    for (const tool of ["debian", "ours"] as const) {
      const r = tool === "debian" ? await y.run(["corosync-cfgtool", "-H"], 20_000) : await y.runOurs("corosync-cfgtool", ["-H"], 20_000);
      assert.equal(r.status, 0, `${tool}: ${r.stderr}`);
      assert.match(r.stdout, /Shutting down corosync/);
      // CS_ERR_BUSY: a tracker (pacemakerd) answered "no".
      assert.match(r.stderr, /Could not shutdown \(error = 10\)/, `${tool}: ${r.stderr}`);
    }
    assert.ok(y.corosync!.running, "the executive must keep running");
    const seen = y.pacemakerLog().slice(logBefore);
    assert.equal((seen.match(/Corosync wants to shut down: optional/g) ?? []).length, 2, seen);
    await sleep(c().effectiveTokenMs);
    assert.ok(y.corosync!.running && y.pacemakerd!.running);
    await c().waitAllOnline(all(), 30_000);
  });
});

const STOP_ORDER = ["pacemaker-controld", "pacemaker-schedulerd", "pacemaker-attrd", "pacemaker-execd", "pacemaker-fenced", "pacemaker-based"];

test("pacemaker: a clean node stop — pacemakerd stops its daemons in order, then corosync-cfgtool -H stops the executive", { skip, timeout: 150_000 }, async (t) => {
  await withContext(async () => {
    const y = await pickNonDc();
    const rest = others(y.index);
    const logBefore = y.pacemakerLog().length;
    const start = Date.now();
    y.pacemakerd!.signal("SIGTERM");
    const code = await y.pacemakerd!.waitExit(120_000);
    const pcmkStopped = Date.now();
    assert.equal(code, 0, "pacemakerd exit status");
    const log = y.pacemakerLog().slice(logBefore);
    const order = [...log.matchAll(/Stopping (pacemaker-\w+) \| sent signal 15/g)].map((m) => m[1]);
    assert.deepEqual(order, STOP_ORDER, log);
    assert.match(log, /Shutdown complete/);
    assert.deepEqual(y.pids().filter((p) => p !== y.anchor!.pid && p !== y.corosync!.pid), [], "no Pacemaker process left on the node");
    // The peers saw a clean leave: offline, not unclean.
    await c().waitStatus(`${y.name} cleanly offline`, rest, (s) => s.nodes.some((n) => n.name === y.name && !n.online && !n.unclean) && s.quorate, 60_000);
    // No tracker left: -H goes through.
    const h = await y.run(["corosync-cfgtool", "-H"], 20_000);
    assert.equal(h.status, 0, h.stderr);
    assert.doesNotMatch(h.stderr, /Could not shutdown/);
    assert.equal(await y.corosync!.waitExit(20_000), 0);
    const exitAt = Date.now();
    await Promise.all(rest.map((i) => c().node(i).waitCorosyncMembers(rest, 30_000, pcmkStopped)));
    await c().waitStatus("2 online, quorate, dummy running", rest, (s) => s.quorate && startedOn(s, "dummy").length === 1 && s.nodes.filter((n) => n.online).length === 2, 60_000);
    record("clean stop: pacemakerd", pcmkStopped - start);
    record("clean stop: cfgtool -H → executive exit", exitAt - pcmkStopped);
    t.diagnostic(`pacemakerd stopped in ${pcmkStopped - start} ms (order ${order.join(", ")}); executive exited ${exitAt - pcmkStopped} ms later`);
    // Back for the next step.
    y.startCorosync();
    await Promise.all(all().map((i) => c().node(i).waitCorosyncMembers(all(), 30_000, exitAt)));
    y.startPacemaker();
    await c().waitAllOnline(all(), 120_000);
    await c().waitSettled(y.index);
  });
});

test("pacemaker: corosync-cfgtool -H --force stops the executive regardless; pacemakerd reconnects when it returns", { skip, timeout: 150_000 }, async (t) => {
  await withContext(async () => {
    const z = await pickNonDc();
    const rest = others(z.index);
    const pcmkd = z.pacemakerd!;
    const logBefore = z.pacemakerLog().length;
    const start = Date.now();
    const h = await z.runOurs("corosync-cfgtool", ["-H", "--force"], 20_000);
    assert.equal(h.status, 0, h.stderr);
    assert.equal(await z.corosync!.waitExit(20_000), 0);
    const exitAt = Date.now();
    await Promise.all(rest.map((i) => c().node(i).waitCorosyncMembers(rest, 30_000, start)));
    await c().waitStatus(`${z.name} offline`, rest, (s) => s.nodes.some((n) => n.name === z.name && !n.online) && s.quorate, 60_000);
    // Pacemaker's cluster daemons on z end; pacemakerd itself stays and retries once a second.
    await waitUntil(`${z.name}: pacemaker-based, -attrd, -controld gone`, 30_000, () => {
      const log = z.pacemakerLog().slice(logBefore);
      return ["pacemaker-based", "pacemaker-attrd", "pacemaker-controld"].every((d) => new RegExp(`${d}\\[\\d+\\] exited`).test(log)) ? true : undefined;
    });
    assert.ok(pcmkd.running, "pacemakerd waits for the cluster layer");
    const restart = Date.now();
    z.startCorosync();
    await Promise.all(all().map((i) => c().node(i).waitCorosyncMembers(all(), 30_000, restart)));
    const { at } = await c().waitAllOnline(all(), 120_000);
    assert.equal(z.pacemakerd, pcmkd, "the same pacemakerd");
    assert.ok(pcmkd.running);
    assert.match(z.pacemakerLog().slice(logBefore), /Cluster reconnect succeeded/);
    await c().waitSettled(z.index);
    record("-H --force → executive exit", exitAt - start);
    record("executive restarted → pacemakerd reconnected, 3 online", at - restart);
    t.diagnostic(`executive exited ${exitAt - start} ms after -H --force; back online ${at - restart} ms after its restart`);
  });
});

test("pacemaker: the whole cluster stops cleanly (pacemakerd, then corosync-cfgtool -H), no hang", { skip, timeout: 150_000 }, async (t) => {
  await withContext(async () => {
    const start = Date.now();
    await Promise.all(
      c().nodes.map(async (n) => {
        n.pacemakerd!.signal("SIGTERM");
        assert.equal(await n.pacemakerd!.waitExit(120_000), 0, `${n.name} pacemakerd`);
      }),
    );
    const pcmkAt = Date.now();
    // Idle cluster: each controller asks the DC, stops what runs there, exits — seconds at most
    // (it is Pacemaker's action timeout plus cluster-delay, 80 s, if the cluster was not idle).
    assert.ok(pcmkAt - start <= 30_000, `stopping Pacemaker took ${pcmkAt - start} ms`);
    for (const n of c().nodes) {
      const h = await n.runOurs("corosync-cfgtool", ["-H"], 20_000);
      assert.equal(h.status, 0, h.stderr);
      assert.doesNotMatch(h.stderr, /Could not shutdown/);
      assert.equal(await n.corosync!.waitExit(20_000), 0);
    }
    record("cluster stop: pacemaker", pcmkAt - start);
    record("cluster stop: executives", Date.now() - pcmkAt);
    t.diagnostic(`Pacemaker stopped on all nodes in ${pcmkAt - start} ms, executives in ${Date.now() - pcmkAt} ms`);
  });
});
