/**
 * The test "echo" IPC service (the C client test/c/qbclient.c speaks it too):
 *   id 0: echo — response {id 0, size 24 + n, error CS_OK} + the request's bytes after its
 *         16-byte header;
 *   id 1: u32 count @16 — header-only response, then `count` events {id 7, size 32, CS_OK,
 *         u32 seq @24};
 *   id 2: no response (like cpg MCAST); counted in `asyncSeen`;
 *   id 3: async echo: answers after a timer (proves the per-connection serialisation);
 *   ids ≥ 4: unknown (the server answers INVALID_PARAM itself).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { IpcConnection, IpcServiceHandler } from "../../src/runtime/ipc/server.js";
import { CS_OK, writeResponseHeader } from "../../src/runtime/ipc/protocol.js";

export interface EchoState {
  asyncSeen: number;
  connects: number;
  disconnects: Array<{ conn: IpcConnection; reason: string }>;
}

export function echoEvent(seq: number): Uint8Array {
  const ev = new Uint8Array(32);
  writeResponseHeader(ev, 7, 32, CS_OK);
  new DataView(ev.buffer).setUint32(24, seq, true);
  return ev;
}

export function echoService(state: EchoState = { asyncSeen: 0, connects: 0, disconnects: [] }): IpcServiceHandler & { state: EchoState } {
  return {
    state,
    requestIds: 4,
    onConnect() {
      state.connects++;
    },
    onDisconnect(conn, reason) {
      state.disconnects.push({ conn, reason });
      if (state.disconnects.length > 100) state.disconnects.shift(); // bounded: the leak test counts heap
    },
    async onRequest(conn, req) {
      const body = req.payload.subarray(16);
      switch (req.id) {
        case 0:
        case 3: {
          if (req.id === 3) await new Promise((r) => setTimeout(r, 1));
          const res = new Uint8Array(24 + body.byteLength);
          writeResponseHeader(res, req.id, res.byteLength, CS_OK);
          res.set(body, 24);
          return res;
        }
        case 1: {
          const count = body.byteLength >= 4 ? new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true) : 0;
          setImmediate(() => {
            for (let i = 0; i < count; i++) conn.sendEvent(echoEvent(i));
          });
          const res = new Uint8Array(24);
          writeResponseHeader(res, 1, 24, CS_OK);
          return res;
        }
        case 2:
          state.asyncSeen++;
          return undefined;
        default:
          throw new Error("unreachable: the server filters unknown ids");
      }
    },
  };
}

/** A request message: 16-byte header + body. */
export function echoRequest(id: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const m = new Uint8Array(16 + body.byteLength);
  const dv = new DataView(m.buffer);
  dv.setInt32(0, id, true);
  dv.setInt32(8, m.byteLength, true);
  m.set(body, 16);
  return m;
}

/** A unique prefix per test file and process, so parallel test files never share names. */
export function uniquePrefix(tag: string): string {
  return `t${process.pid}-${tag}`;
}

/** Count of this process's open file descriptors. */
export function openFdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "..");

/**
 * Builds test/c/qbclient.c against libqb (Debian: libqb-dev) into dist/test-c/, once.
 * Returns the binary path, or a reason string when the compiler or libqb is missing.
 */
export function buildQbClient(): { path: string } | { skip: string } {
  const src = join(root, "test", "c", "qbclient.c");
  const outDir = join(root, "dist", "test-c");
  const out = join(outDir, "qbclient");
  if (!existsSync("/usr/include/qb/qbipcc.h")) return { skip: "libqb headers missing: install the Debian package libqb-dev" };
  mkdirSync(outDir, { recursive: true });
  const r = spawnSync("cc", ["-O2", "-Wall", "-o", out, src, "-lqb"], { encoding: "utf8" });
  if (r.error) return { skip: `no C compiler (cc): ${r.error.message}` };
  if (r.status !== 0) throw new Error(`building qbclient failed:\n${r.stderr}`);
  return { path: out };
}
