/**
 * Redundant rings between three network namespaces with two bridges (ring 0 and ring 1,
 * test/helpers/netns.ts). Every node chatters (a heartbeat multicast and a token to its
 * successor every 20 ms). Then every packet on node 1's ring-0 link is dropped (`tc`:
 * netem loss 100%, or a zero-length pfifo where the kernel lacks netem) — the interface
 * stays up. All three nodes must mark ring 0 FAULTY while node 1's traffic keeps arriving
 * on ring 1; when the drop is removed, all three must recover ring 0 automatically.
 * Active mode runs over udp multicast, passive mode over udpu, with corosync's default
 * rrp timers.
 *
 * Requires root and iproute2; skipped (with that message) only when not root.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Lab, type NsChild, netnsSkipReason } from "../helpers/netns.js";

const skip = netnsSkipReason();
let lab: Lab;
const port = 20000 + 4 * Math.floor(Math.random() * 2500);

before(() => {
  if (!skip) lab = Lab.create(3, 2);
});
after(async () => {
  if (lab === undefined) return;
  await lab.cleanup();
  assert.deepEqual(lab.leftovers(), [], "every namespace removed");
});

function conf(transport: "udp" | "udpu", mode: "active" | "passive"): string {
  const iface = (ring: number) =>
    ["  interface {", `    ringnumber: ${ring}`, transport === "udp" ? `    mcastaddr: 239.192.${lab.subnet}.${50 + ring}` : "", `    mcastport: ${port + 2 * ring}`, "  }"].filter((l) => l !== "");
  const nodes = lab.nodes.map((n) => `  node {\n    ring0_addr: ${n.rings[0]!.address}\n    ring1_addr: ${n.rings[1]!.address}\n    nodeid: ${n.index}\n  }`);
  return ["totem {", "  version: 2", "  cluster_name: rrplab", `  transport: ${transport}`, `  rrp_mode: ${mode}`, ...iface(0), ...iface(1), "}", "nodelist {", ...nodes, "}"].join("\n");
}

const ringEvent = (c: NsChild, ring: number, faulty: boolean) =>
  c.waitFor((e) => e.ev === "ring" && (e.status as { ring: number; faulty: boolean }).ring === ring && (e.status as { faulty: boolean }).faulty === faulty, 8000, `ring ${ring} ${faulty ? "FAULTY" : "recovered"}`);

/** Heartbeats node `from` has had from `address` on `ring`, as counted by its child. */
async function heartbeats(c: NsChild, address: string, ring: number): Promise<number> {
  const s = await c.status();
  return (s.chatter as Record<string, number>)[`hb ${address} ${ring}`] ?? 0;
}

async function scenario(transport: "udp" | "udpu", mode: "active" | "passive"): Promise<void> {
  const children = await Promise.all(lab.nodes.map((n) => lab.startChild(n.index, { conf: conf(transport, mode) })));
  let undo: (() => void) | undefined;
  try {
    children.forEach((c, i) => c.send({ op: "chatter", intervalMs: 20, tokenTo: ((i + 1) % 3) + 1 }));
    await sleep(400);
    for (const c of children) {
      const s = await c.status();
      assert.deepEqual((s.rings as Array<{ faulty: boolean }>).map((r) => r.faulty), [false, false], `${c.ns}: both rings healthy before the fault`);
    }
    const n1ring0 = lab.nodes[0]!.rings[0]!.address;
    const n1ring1 = lab.nodes[0]!.rings[1]!.address;
    assert.ok((await heartbeats(children[1]!, n1ring0, 0)) > 0, "node 2 hears node 1 on ring 0 before the fault");

    undo = lab.blackhole(1, 0);
    const marked = await Promise.all(children.map((c) => ringEvent(c, 0, true)));
    for (const [i, e] of marked.entries()) {
      assert.match((e.status as { reason: string }).reason, new RegExp(`^Marking ringid 0 interface ${lab.nodes[i]!.rings[0]!.address.replace(/\./g, "\\.")} FAULTY$`));
    }
    const before1 = await heartbeats(children[1]!, n1ring1, 1);
    await sleep(300);
    assert.ok((await heartbeats(children[1]!, n1ring1, 1)) >= before1 + 5, "node 1's traffic continues on ring 1");
    for (const c of children) {
      const s = await c.status();
      assert.deepEqual((s.rings as Array<{ faulty: boolean }>).map((r) => r.faulty), [true, false], `${c.ns}: ring 0 FAULTY, ring 1 fine`);
    }

    undo();
    undo = undefined;
    await Promise.all(children.map((c) => ringEvent(c, 0, false)));
    for (const c of children) {
      assert.ok(c.events.some((e) => e.ev === "log" && e.text === "Automatically recovered ring 0"), `${c.ns} logged the recovery`);
    }
    const back = await heartbeats(children[1]!, n1ring0, 0);
    await sleep(300);
    assert.ok((await heartbeats(children[1]!, n1ring0, 0)) > back, "ring 0 carries node 1's traffic again");
    for (const c of children) {
      const changes = c.events.filter((e) => e.ev === "ring").map((e) => (e.status as { faulty: boolean }).faulty);
      assert.deepEqual(changes, [true, false], `${c.ns}: one FAULTY, one recovery, no flapping`);
    }
  } finally {
    undo?.();
    await lab.stopChildren();
  }
}

test("active RRP over udp multicast: ring 0 dropped at node 1 → FAULTY on all nodes, traffic on ring 1, automatic recovery", { skip }, async () => {
  await scenario("udp", "active");
});

test("passive RRP over udpu: ring 0 dropped at node 1 → FAULTY on all nodes, traffic on ring 1, automatic recovery", { skip }, async () => {
  await scenario("udpu", "passive");
});
