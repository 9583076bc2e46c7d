/**
 * Test helper: a CPG client process built on our client library, driven by JSON lines.
 *   argv[2]: JSON {prefix?, group, initialTotemConf?, noJoin?}
 *   stdout events: {ev:"ready", nodeId, pid} after connect (+ join), {ev:"confchg", members,
 *     left, joined} (as "node/pid:reason"), {ev:"msg", from:"node/pid", len, text (first 80
 *     bytes up to a NUL)}, {ev:"sent", n}, {ev:"error", code, message}, {ev:"closed"}
 *   stdin commands: {op:"mcast", text} | {op:"mcastMany", prefix, count} | {op:"mcastSize", size}
 *     | {op:"hash"} -> {ev:"hash", count, hash} | {op:"leave"} | {op:"exit"} (finalize, then exit)
 *     | {op:"crash"} (exit at once, the connection closed by the kernel)
 * The hash is test/c/cpgclient.c's: FNV-1a 64 over every delivery in order (sender nodeid,
 * pid and length as u32 little-endian, then the bytes), 16 hex digits.
 * A connection refused at start prints {ev:"error", code} and exits 3.
 */
import { createInterface } from "node:readline";
import { Cpg } from "../../src/client/cpg.js";
import { CorosyncError } from "../../src/client/errors.js";

const spec = JSON.parse(process.argv[2] ?? "{}") as { prefix?: string; group: string; initialTotemConf?: boolean; noJoin?: boolean };
const emit = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const fmt = (a: { nodeId: number; pid: number; reason: number }): string => `${a.nodeId}/${a.pid}:${a.reason}`;

let cpg: Cpg;
try {
  cpg = await Cpg.connect({ prefix: spec.prefix, initialTotemConf: spec.initialTotemConf });
} catch (e) {
  emit({ ev: "error", code: (e as CorosyncError).code, message: (e as Error).message });
  process.exit(3);
}
cpg.on("confchg", (c) => emit({ ev: "confchg", members: c.members.map(fmt), left: c.left.map(fmt), joined: c.joined.map(fmt) }));
const FNV_PRIME = 1099511628211n;
const MASK = (1n << 64n) - 1n;
let fnv = 14695981039346656037n;
let delivered = 0;
const fnvBytes = (b: Uint8Array): void => {
  for (const x of b) fnv = ((fnv ^ BigInt(x)) * FNV_PRIME) & MASK;
};
cpg.on("message", (m) => {
  const head = new Uint8Array(12);
  const view = new DataView(head.buffer);
  view.setUint32(0, m.nodeId, true);
  view.setUint32(4, m.pid, true);
  view.setUint32(8, m.data.byteLength, true);
  fnvBytes(head);
  fnvBytes(m.data);
  delivered++;
  const end = m.data.indexOf(0);
  const text = new TextDecoder().decode(m.data.subarray(0, Math.min(80, end < 0 ? m.data.byteLength : end)));
  emit({ ev: "msg", from: `${m.nodeId}/${m.pid}`, len: m.data.byteLength, text });
});
cpg.on("error", (e) => emit({ ev: "error", code: e.code, message: e.message }));
cpg.on("close", () => {
  emit({ ev: "closed" });
  process.exit(0);
});
if (!spec.noJoin) await cpg.join(spec.group);
emit({ ev: "ready", nodeId: await cpg.localNodeId(), pid: process.pid });

createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = JSON.parse(line) as { op: string; text?: string; prefix?: string; count?: number; size?: number };
  if (cmd.op === "exit") void cpg.close().then(() => process.exit(0));
  else if (cmd.op === "crash") process.exit(0);
  else if (cmd.op === "hash") emit({ ev: "hash", count: delivered, hash: fnv.toString(16).padStart(16, "0") });
  else if (cmd.op === "leave") cpg.leave().catch((e: Error) => emit({ ev: "error", code: (e as CorosyncError).code, message: e.message }));
  else if (cmd.op === "mcast") cpg.mcast(cmd.text ?? "").catch((e: Error) => emit({ ev: "error", code: (e as CorosyncError).code, message: e.message }));
  else if (cmd.op === "mcastSize") {
    const data = new Uint8Array(cmd.size ?? 0);
    data.set(new TextEncoder().encode(`big${cmd.size}`));
    cpg.mcast(data).catch((e: Error) => emit({ ev: "error", code: (e as CorosyncError).code, message: e.message }));
  } else if (cmd.op === "mcastMany") {
    void (async () => {
      for (let i = 0; i < (cmd.count ?? 0); i++) await cpg.mcast(`${cmd.prefix}:${i}`);
      emit({ ev: "sent", n: cmd.count });
    })().catch((e: Error) => emit({ ev: "error", code: (e as CorosyncError).code, message: e.message }));
  }
});
