/**
 * The link faults the chaos run injects (helpers/faultnet.ts), measured on real UDP between
 * two namespaces: a cut drops everything, loss and duplication hit about their probability,
 * a delay holds every packet at least that long, jitter reorders, heal restores a clean link,
 * and the rules' counters report the packets each fault hit. Needs root, iptables (legacy)
 * and python3: as root without them the test fails and names the package.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { FaultNet, faultNetSkipReason, type LinkFault } from "../helpers/faultnet.js";
import { Lab, netnsSkipReason } from "../helpers/netns.js";

const skip = netnsSkipReason();

/** Receiver: counts datagrams, prints `seq sentAt recvAt` per datagram at stdin EOF. */
const RECEIVER = `
const s = require("node:dgram").createSocket("udp4"); const got = [];
s.on("message", (m) => got.push(m.toString() + " " + Date.now()));
s.bind(7500, process.argv[1], () => console.log("ready"));
process.stdin.on("data", () => {}); process.stdin.on("end", () => { console.log(got.join("\\n")); process.exit(0); });`;

/** Sender: N datagrams "seq sentAt", 2 ms apart. */
const SENDER = `
const s = require("node:dgram").createSocket("udp4"); const [to, n] = [process.argv[1], Number(process.argv[2])]; let i = 0;
const t = setInterval(() => { s.send(i + " " + Date.now(), 7500, to); if (++i === n) { clearInterval(t); setTimeout(() => process.exit(0), 50); } }, 2);`;

function run(ns: string, script: string, args: string[]): { out: Promise<string>; proc: ReturnType<typeof spawn> } {
  const proc = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", script, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  let text = "";
  proc.stdout!.on("data", (d: Buffer) => (text += d.toString()));
  const out = new Promise<string>((resolve) => proc.on("exit", () => resolve(text)));
  return { out, proc };
}

interface Arrival {
  seq: number;
  latencyMs: number;
}

/** Send `n` datagrams from node 1 to node 2 under `faults`; the arrivals in order. */
async function measure(lab: Lab, net: FaultNet, faults: LinkFault[], n = 300): Promise<Arrival[]> {
  await net.add(faults);
  try {
    const to = lab.nodes[1]!.rings[0]!.address;
    const rx = run(lab.nodes[1]!.ns, RECEIVER, [to]);
    const ready = new Promise<void>((resolve) => rx.proc.stdout!.once("data", () => resolve()));
    await ready;
    await run(lab.nodes[0]!.ns, SENDER, [to, String(n)]).out;
    await new Promise((r) => setTimeout(r, 700));
    rx.proc.stdin!.end();
    const lines = (await rx.out).split("\n").filter((l) => /^\d+ \d+ \d+$/.test(l));
    return lines.map((l) => {
      const [seq, sent, recv] = l.split(" ").map(Number);
      return { seq: seq!, latencyMs: recv! - sent! };
    });
  } finally {
    await net.heal();
  }
}

const inversions = (a: Arrival[]): number => a.filter((x, i) => i > 0 && x.seq < a[i - 1]!.seq).length;

test("link faults without netem: cut, loss, duplication, delay, reordering, heal", { skip, timeout: 120_000 }, async () => {
  const missing = faultNetSkipReason();
  assert.equal(missing, false, `fault injection unavailable: ${missing}`);
  const lab = Lab.create(2, 1);
  let net: FaultNet | undefined;
  try {
    net = await FaultNet.create(lab, 7);
    const clean = await measure(lab, net, []);
    assert.equal(clean.length, 300, "a clean link delivers everything");
    assert.equal((await measure(lab, net, [{ kind: "cut", from: 1, to: 2 }])).length, 0, "a cut drops everything");
    const back = await measure(lab, net, [{ kind: "cut", from: 2, to: 1 }]);
    assert.equal(back.length, 300, "a cut is one-way");
    const lossy = await measure(lab, net, [{ kind: "loss", from: 1, to: 2, p: 0.5 }]);
    assert.ok(lossy.length > 90 && lossy.length < 210, `loss 50 %: ${lossy.length} of 300 arrived`);
    const dup = await measure(lab, net, [{ kind: "dup", from: 1, to: 2, p: 0.5 }]);
    assert.equal(new Set(dup.map((a) => a.seq)).size, 300);
    assert.ok(dup.length > 390 && dup.length < 510, `dup 50 %: ${dup.length} datagrams for 300`);
    const slow = await measure(lab, net, [{ kind: "delay", from: 1, to: 2, delayMs: 120, jitterMs: 0 }]);
    assert.equal(slow.length, 300);
    const minLatency = Math.min(...slow.map((a) => a.latencyMs));
    assert.ok(minLatency >= 115, `delay 120 ms: fastest datagram took ${minLatency} ms`);
    assert.equal(inversions(slow), 0, "no jitter, no reordering");
    const shuffled = await measure(lab, net, [{ kind: "delay", from: 1, to: 2, delayMs: 1, jitterMs: 60 }]);
    assert.equal(shuffled.length, 300);
    assert.ok(inversions(shuffled) > 30, `jitter 60 ms over 2 ms gaps reorders: ${inversions(shuffled)} inversions`);
    const after = await measure(lab, net, []);
    assert.equal(after.length, 300, "healed");
    assert.ok(Math.max(...after.map((a) => a.latencyMs)) < 100, "heal removed the delay");
    const c = net.counters();
    assert.ok(c.cut >= 300 && c.loss > 0 && c.dup > 0, `counters ${JSON.stringify(c)}`);
    assert.ok((await net.delayedPackets()) >= 600);
  } finally {
    net?.close();
    await lab.cleanup();
  }
  assert.deepEqual(lab.leftovers(), []);
});
