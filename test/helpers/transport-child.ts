/**
 * A transport in a child process, for tests that run nodes in network namespaces
 * (`ip netns exec NS node transport-child.js '<spec json>'`).
 *
 * The spec holds a corosync.conf text; the child compiles it, finds its local node from the
 * namespace's real interfaces (netif.ts), builds the transport with `createTransport` and
 * starts it. Commands arrive as JSON lines on stdin, events leave as JSON lines on stdout:
 *
 * events   {"ev":"ready","nodeId":N,"rings":[...]}          started
 *          {"ev":"rx","data":"...","from":{...}}              a datagram (not chatter)
 *          {"ev":"ring","status":{...}}                       onRingStatus
 *          {"ev":"log","level":"...","text":"..."}            onLog (debug omitted)
 *          {"ev":"status","rings":[...],"stats":{...},"chatter":{...},"spies":{...}}
 *          {"ev":"spy","id":"...","data":"...","from":"..."}  a spy socket got a datagram
 *          {"ev":"error","message":"..."}                     a command or start failed
 * commands {"op":"sendAll","data":"..."}  {"op":"sendTo","node":N,"data":"..."}
 *          {"op":"chatter","intervalMs":20,"tokenTo":N}      heartbeat multicast + token
 *          {"op":"stopChatter"}  {"op":"status"}  {"op":"reset"}  {"op":"exit"}
 *          {"op":"spy","id":"...","group":"...","port":P,"iface":"..."}   raw group listener
 *          {"op":"rawSend","group":"...","port":P,"iface":"...","data":"..."} raw multicast
 *
 * Payloads `N|text` make the child call `learnNodeAddress(N, from)`, standing in for the
 * driver that would read N from the Totem header (the 1.x udp form learns addresses so).
 * Chatter datagrams (`hb…`, `tok…`) are only counted, per source address and ring.
 */
import { createSocket, type Socket } from "node:dgram";
import { createInterface } from "node:readline";
import { compileConfig } from "../../src/config/compile.js";
import { listLocalAddresses, localHostName } from "../../src/runtime/netif.js";
import { createTransport, planLocalNode } from "../../src/runtime/transport/factory.js";
import type { RrpTimers } from "../../src/runtime/transport/rrp-detector.js";
import type { DatagramSource, Transport } from "../../src/runtime/transport/types.js";

export interface ChildSpec {
  conf: string;
  rrp?: Partial<RrpTimers>;
}

type Command =
  | { op: "sendAll"; data: string }
  | { op: "sendTo"; node: number; data: string }
  | { op: "chatter"; intervalMs: number; tokenTo?: number }
  | { op: "stopChatter" }
  | { op: "status" }
  | { op: "reset" }
  | { op: "exit" }
  | { op: "spy"; id: string; group: string; port: number; iface: string }
  | { op: "rawSend"; group: string; port: number; iface: string; data: string };

const emit = (ev: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(ev)}\n`);
const enc = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));

const chatterCounts: Record<string, number> = {};
const spies = new Map<string, Socket>();
const spyCounts: Record<string, number> = {};
let chatterTimer: NodeJS.Timeout | undefined;
let transport: Transport | undefined;

function onDatagram(t: Transport, bytes: Uint8Array, from: DatagramSource): void {
  const data = Buffer.from(bytes).toString("utf8");
  const bar = data.indexOf("|");
  if (bar > 0 && /^[0-9]+$/.test(data.slice(0, bar))) t.learnNodeAddress?.(Number(data.slice(0, bar)), from);
  if (data.startsWith("hb") || data.startsWith("tok")) {
    const key = `${data.startsWith("hb") ? "hb" : "tok"} ${from.address} ${from.ring}`;
    chatterCounts[key] = (chatterCounts[key] ?? 0) + 1;
    return;
  }
  emit({ ev: "rx", data, from });
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as ChildSpec;
  const compiled = compileConfig({ file: "child.conf", text: spec.conf });
  if (!compiled.ok) throw new Error(`config: ${compiled.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join("; ")}`);
  const plan = planLocalNode(compiled.config, listLocalAddresses(), localHostName());
  const opts = spec.rrp === undefined ? { bindRetries: 2 } : { bindRetries: 2, rrp: spec.rrp };
  const t = createTransport(compiled.config, plan, opts);
  transport = t;
  await t.start({
    onDatagram: (bytes, from) => onDatagram(t, bytes, from),
    onLog: (level, text) => level !== "debug" && emit({ ev: "log", level, text }),
    onRingStatus: (status) => emit({ ev: "ring", status }),
  });
  emit({ ev: "ready", nodeId: plan.nodeId, rings: t.rings() });
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    try {
      command(t, JSON.parse(line) as Command);
    } catch (err) {
      emit({ ev: "error", message: String(err) });
    }
  });
  lines.on("close", () => void shutdown());
}

function command(t: Transport, c: Command): void {
  switch (c.op) {
    case "sendAll":
      t.sendToAll(enc(c.data));
      break;
    case "sendTo":
      t.sendToNode(c.node, enc(c.data));
      break;
    case "chatter": {
      if (chatterTimer !== undefined) clearInterval(chatterTimer);
      let n = 0;
      chatterTimer = setInterval(() => {
        n++;
        t.sendToAll(enc(`hb${n}`));
        if (c.tokenTo !== undefined) t.sendToNode(c.tokenTo, enc(`tok${n}`));
      }, c.intervalMs);
      break;
    }
    case "stopChatter":
      if (chatterTimer !== undefined) clearInterval(chatterTimer);
      chatterTimer = undefined;
      break;
    case "status":
      emit({ ev: "status", rings: t.rings(), stats: t.stats, chatter: { ...chatterCounts }, spies: { ...spyCounts } });
      break;
    case "reset":
      t.resetRings?.();
      break;
    case "exit":
      void shutdown();
      break;
    case "spy":
      openSpy(c.id, c.group, c.port, c.iface);
      break;
    case "rawSend":
      rawSend(c.group, c.port, c.iface, c.data);
      break;
  }
}

/** A plain socket bound to `group:port`, joined on `iface`: what another application would see. */
function openSpy(id: string, group: string, port: number, iface: string): void {
  const s = createSocket({ type: group.includes(":") ? "udp6" : "udp4", reuseAddr: true });
  spies.set(id, s);
  spyCounts[id] = 0;
  s.on("message", (msg, rinfo) => {
    spyCounts[id]!++;
    emit({ ev: "spy", id, data: msg.toString("utf8"), from: `${rinfo.address}:${rinfo.port}` });
  });
  s.on("error", (err) => emit({ ev: "error", message: `spy ${id}: ${String(err)}` }));
  s.bind(port, group, () => {
    s.addMembership(group, iface);
    emit({ ev: "spyReady", id });
  });
}

function rawSend(group: string, port: number, iface: string, data: string): void {
  const s = createSocket(group.includes(":") ? "udp6" : "udp4");
  s.bind(0, () => {
    s.setMulticastInterface(iface);
    s.setMulticastLoopback(false);
    s.send(enc(data), port, group, (err) => {
      if (err) emit({ ev: "error", message: `rawSend: ${String(err)}` });
      else emit({ ev: "rawSent", data });
      s.close();
    });
  });
}

let shuttingDown = false;
async function shutdown(): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  if (chatterTimer !== undefined) clearInterval(chatterTimer);
  for (const s of spies.values()) s.close();
  await transport?.close();
  emit({ ev: "closed" });
  process.exit(0);
}

main().catch((err: unknown) => {
  emit({ ev: "error", message: err instanceof Error ? err.message : String(err) });
  process.exit(2);
});
