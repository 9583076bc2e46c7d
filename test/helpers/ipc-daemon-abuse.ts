/**
 * Child process for the IPC abuse tests against a running executive's `cpg` service.
 *   node ipc-daemon-abuse.js cycles PREFIX N [CONCURRENCY]
 *     N connect / call / disconnect-mid-call cycles, in five patterns (join then close at
 *     once; membership request, one turn, close; join, mcast, close without waiting;
 *     half a setup request then close; connect and close); prints
 *     {"cycles", "ms", "errors": {code: count}}.
 *   node ipc-daemon-abuse.js denied PREFIX RATE SECONDS
 *     (run as an unauthorised uid) RATE connects per second for SECONDS; prints
 *     {"attempts", "refused": count of EACCES, "other": {code: count}, "ms"}.
 */
import net from "node:net";
import { IpcClientConnection } from "../../src/client/ipc/connection.js";
import { encodeConnectionRequest, ipcSocketName } from "../../src/runtime/ipc/protocol.js";
import { encodeJoinRequest, encodeMcastRequest, encodeMembershipRequest, CpgGuarantee } from "../../src/wire/ipc/cpg.js";
import { groupNameFromText } from "../../src/core/cpg/messages.js";

const [mode, prefix, a, b] = process.argv.slice(2);
const errors: Record<string, number> = {};
const count = (code: string): void => void (errors[code] = (errors[code] ?? 0) + 1);
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Half a setup request, then close: the server's handshake path must not keep anything. */
function halfSetup(): Promise<void> {
  return new Promise((resolve) => {
    const s = net.createConnection({ path: `\0${ipcSocketName("cpg", prefix)}` }, () => {
      s.write(encodeConnectionRequest(1048576).subarray(0, 10));
      s.destroy();
      resolve();
    });
    s.on("error", (e: NodeJS.ErrnoException) => (count(e.code ?? "socket"), resolve()));
  });
}

async function cycle(i: number): Promise<void> {
  const pattern = i % 5;
  if (pattern === 3) return halfSetup();
  const c = await IpcClientConnection.connect("cpg", { prefix });
  const group = groupNameFromText(`abuse${i % 7}`);
  let pending: Promise<unknown> = Promise.resolve();
  if (pattern === 0) pending = c.request(encodeJoinRequest(group, 100000 + i, 0));
  else if (pattern === 1) {
    pending = c.request(encodeMembershipRequest(group));
    await turn();
  } else if (pattern === 2) {
    pending = c.request(encodeJoinRequest(group, 100000 + i, 0)).then(() => c.send(encodeMcastRequest(CpgGuarantee.AGREED, new Uint8Array(i % 3000))));
    await turn();
  }
  await c.close();
  await pending.catch((e: { code?: string }) => count(e.code ?? "?"));
}

async function cycles(n: number, concurrency: number): Promise<void> {
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      await cycle(i).catch((e: { code?: string }) => count(`connect:${e.code ?? "?"}`));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  console.log(JSON.stringify({ cycles: n, ms: performance.now() - t0, errors }));
}

async function denied(rate: number, seconds: number): Promise<void> {
  const t0 = performance.now();
  let attempts = 0;
  let refused = 0;
  const other: Record<string, number> = {};
  const total = rate * seconds;
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    // Pace: attempt i at i / rate seconds.
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    attempts++;
    inFlight.push(
      IpcClientConnection.connect("cpg", { prefix, connectTimeoutMs: 10_000 }).then(
        (c) => (void c.close(), void (other.CONNECTED = (other.CONNECTED ?? 0) + 1)),
        (e: { code?: string }) => void (e.code === "EACCES" ? refused++ : (other[e.code ?? "?"] = (other[e.code ?? "?"] ?? 0) + 1)),
      ),
    );
    if (inFlight.length >= 200) await Promise.all(inFlight.splice(0, 100));
  }
  await Promise.all(inFlight);
  console.log(JSON.stringify({ attempts, refused, other, ms: performance.now() - t0 }));
}

if (mode === "cycles") await cycles(Number(a), Number(b ?? 4));
else if (mode === "denied") await denied(Number(a), Number(b));
else throw new Error(`unknown mode ${mode}`);
