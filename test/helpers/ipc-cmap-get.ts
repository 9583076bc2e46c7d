/**
 * Child-process helper for the real-corosync test: connects to cmap with our client library
 * (run inside the daemon's network namespace) and does corosync-cmapctl's two-step GET for
 * each key given: first with value_len 0 to learn the length and type, then with that length.
 * Only enough of the cmap encoding to prove the transport (libqb-ipc-spec.md §2.2).
 * Prints one JSON line: {server: {pid,uid,gid}, results: [{key, error, type, value}],
 * events_ok} and exits 0, or prints {error} and exits 1.
 */
import { IpcClientConnection } from "../../src/client/ipc/connection.js";
import { readResponseHeader } from "../../src/runtime/ipc/protocol.js";

const CMAP_GET = 2;

function getRequest(key: string, valueLen: number): Uint8Array {
  const m = new Uint8Array(288);
  const dv = new DataView(m.buffer);
  dv.setInt32(0, CMAP_GET, true);
  dv.setInt32(8, m.byteLength, true);
  const k = new TextEncoder().encode(key);
  dv.setUint16(16, k.byteLength, true);
  m.set(k, 24);
  dv.setBigUint64(280, BigInt(valueLen), true);
  return m;
}

async function get(conn: IpcClientConnection, key: string): Promise<{ key: string; error: number; type?: number; value?: string }> {
  const first = await conn.request(getRequest(key, 0), { timeoutMs: 5000 });
  const h1 = readResponseHeader(first)!;
  if (h1.error !== 1) return { key, error: h1.error };
  const dv1 = new DataView(first.buffer, first.byteOffset, first.byteLength);
  const len = Number(dv1.getBigUint64(24, true));
  const second = await conn.request(getRequest(key, len), { timeoutMs: 5000 });
  const h2 = readResponseHeader(second)!;
  const dv2 = new DataView(second.buffer, second.byteOffset, second.byteLength);
  const type = dv2.getInt32(32, true);
  const raw = second.subarray(40, 40 + Number(dv2.getBigUint64(24, true)));
  const value = type === 11 ? new TextDecoder().decode(raw.subarray(0, Math.max(0, raw.byteLength - 1))) : Buffer.from(raw).toString("hex");
  return { key, error: h2.error, type, value };
}

try {
  const conn = await IpcClientConnection.connect("cmap", { prefix: process.argv[2] === "-" ? "" : process.argv[2] });
  const results = [];
  for (const key of process.argv.slice(3)) results.push(await get(conn, key));
  const server = conn.serverCred;
  await conn.close();
  // quorum TRACKSTART(CS_TRACK_CURRENT): a 24-byte response, then one NOTIFICATION event.
  const q = await IpcClientConnection.connect("quorum", { prefix: process.argv[2] === "-" ? "" : process.argv[2] });
  const event = new Promise<Uint8Array>((resolve, reject) => {
    q.onEvent(resolve);
    setTimeout(() => reject(new Error("no quorum event within 5 s")), 5000).unref();
  });
  const track = new Uint8Array(24);
  new DataView(track.buffer).setInt32(0, 1, true);
  new DataView(track.buffer).setInt32(8, 24, true);
  new DataView(track.buffer).setUint32(16, 1, true);
  const trackRes = readResponseHeader(await q.request(track, { timeoutMs: 5000 }))!;
  const ev = readResponseHeader(await event)!;
  await q.close();
  console.log(JSON.stringify({ server, results, quorum: { track: trackRes, event: ev } }));
} catch (e) {
  console.log(JSON.stringify({ error: (e as Error).message, code: (e as { code?: string }).code }));
  process.exit(1);
}
