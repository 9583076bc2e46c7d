/**
 * The chaos workload's CPG client process (one per node, run inside the node's namespace).
 *   argv[2]: JSON {group, intervalMs, seed, prefix?, connectTimeoutMs?}
 * It connects (retrying until the daemon's IPC is up), joins `group` with the initial totem
 * configuration, and multicasts one message every `intervalMs` (jittered) while told to send.
 * A message is CTS's `msg_t` in spirit: magic "CHS1", u32 node id, u32 pid, u32 per-sender
 * sequence number (from 1), u32 body length, SHA-1 of the body, body (pseudo-random, 16 B to
 * 4 KiB, one in 16 up to 64 KiB so that totempg fragments it).
 *
 * Every event is one stdout line, in delivery order:
 *   R <nodeId> <pid>                     ready (joined)
 *   C <node/pid,...>                     confchg: the group's members after it
 *   T <ringId> <node,...>                totem confchg (ring id as rep.seq hex)
 *   M <node/pid> <seq> ok|<error>        a delivery; error: magic, nodeid, pid, size, sha1
 *   S <seq>                              mcast <seq> was accepted by the daemon
 *   E <code> <text>                      an error; X when the connection closed (then exit 0)
 * stdin: `go` (start sending), `stop` (stop sending; prints `P <last seq>` when no send is in
 * flight), `exit`.
 */
import { createInterface } from "node:readline";
import { Cpg, type CpgMember } from "../../src/client/cpg.js";
import { CorosyncError } from "../../src/client/errors.js";
import { Prng } from "../../sim/prng.js";
import { checkChaosMessage, encodeChaosMessage } from "./chaos-message.js";

interface Spec {
  group: string;
  intervalMs: number;
  seed: number;
  prefix?: string;
  connectTimeoutMs?: number;
}

const spec = JSON.parse(process.argv[2] ?? "{}") as Spec;
const rng = new Prng(spec.seed);
const out: string[] = [];
let flushQueued = false;

/** Buffered stdout: one write per turn of the event loop. */
function emit(line: string): void {
  out.push(line);
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(() => {
      flushQueued = false;
      process.stdout.write(`${out.splice(0).join("\n")}\n`);
    });
  }
}

function body(): Uint8Array {
  const size = rng.chance(1 / 16) ? rng.int(4096, 65536) : rng.int(16, 4096);
  const b = new Uint8Array(size);
  let x = rng.u32() || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const members = (list: CpgMember[]): string => list.map((m) => `${m.nodeId}/${m.pid}`).join(",");

async function connect(): Promise<Cpg> {
  const end = Date.now() + (spec.connectTimeoutMs ?? 30_000);
  for (;;) {
    try {
      return await Cpg.connect({ prefix: spec.prefix, initialTotemConf: true, connectTimeoutMs: 5000 });
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

let cpg: Cpg;
try {
  cpg = await connect();
} catch (e) {
  emit(`E ${(e as CorosyncError).code ?? "CONNECT"} ${(e as Error).message}`);
  setTimeout(() => process.exit(3), 50);
  throw e;
}
cpg.on("confchg", (c) => emit(`C ${members(c.members)}`));
cpg.on("totemConfchg", (t) => emit(`T ${t.ringId.nodeId.toString(16)}.${t.ringId.seq.toString(16)} ${t.members.join(",")}`));
cpg.on("message", (m) => {
  const r = checkChaosMessage(m.data, m.nodeId, m.pid);
  emit(`M ${m.nodeId}/${m.pid} ${r.seq} ${r.status}`);
});
cpg.on("error", (e) => emit(`E ${e.code} ${e.message.replace(/\n/g, " ")}`));
cpg.on("close", () => {
  emit("X");
  setTimeout(() => process.exit(0), 50);
});
await cpg.join(spec.group);
const nodeId = await cpg.localNodeId();
emit(`R ${nodeId} ${process.pid}`);

let sending = false;
let inFlight = false;
let seq = 0;
let stopWaiter = false;

/** The send loop: one mcast at a time, `intervalMs` ± 50 % apart. */
async function sendLoop(): Promise<void> {
  while (sending) {
    inFlight = true;
    const next = seq + 1;
    try {
      await cpg.mcast(encodeChaosMessage(nodeId, process.pid, next, body()));
      seq = next;
      emit(`S ${seq}`);
    } catch (e) {
      emit(`E ${(e as CorosyncError).code ?? "?"} mcast ${next}: ${(e as Error).message.replace(/\n/g, " ")}`);
      if ((e as CorosyncError).code === "LIBRARY") sending = false;
    }
    inFlight = false;
    if (stopWaiter && !sending) break;
    await new Promise((r) => setTimeout(r, spec.intervalMs * (0.5 + rng.float())));
  }
  if (stopWaiter) {
    stopWaiter = false;
    emit(`P ${seq}`);
  }
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = line.trim();
  if (cmd === "go" && !sending) {
    sending = true;
    void sendLoop();
  } else if (cmd === "stop") {
    if (!sending && !inFlight) emit(`P ${seq}`);
    else {
      stopWaiter = true;
      sending = false;
    }
  } else if (cmd === "exit") void cpg.close().finally(() => process.exit(0));
});
