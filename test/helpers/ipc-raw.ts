/**
 * A raw libqb client for abuse tests: does the handshake by hand and exposes the socket and
 * the mapped ring buffers, so a test can scribble on shared memory or misbehave on the socket.
 */
import net from "node:net";
import { nativeAddon } from "../../src/runtime/ipc/native.js";
import { CONNECTION_RESPONSE_SIZE, decodeConnectionResponse, encodeConnectionRequest, type ConnectionResponse } from "../../src/runtime/ipc/protocol.js";
import { HDR, dataFileSize } from "../../src/runtime/ipc/ring-index.js";

export interface RawRing {
  header: ArrayBuffer;
  data: ArrayBuffer;
}

export interface RawClient {
  socket: net.Socket;
  reply: ConnectionResponse;
  request: RawRing;
  response: RawRing;
  event: RawRing;
  /** Bytes received after the reply (event notifications). */
  notes: number;
  close(): void;
}

/** Sends `first` (default: a valid setup request) and resolves with the reply and socket. */
export function rawHandshake(name: string, first: Uint8Array = encodeConnectionRequest(1048576)): Promise<{ socket: net.Socket; reply: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path: `\0${name}` }, () => socket.write(first));
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      if (buf.byteLength >= CONNECTION_RESPONSE_SIZE) {
        socket.off("data", onData);
        resolve({ socket, reply: new Uint8Array(buf.subarray(0, CONNECTION_RESPONSE_SIZE)) });
      }
    };
    socket.on("data", onData);
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`closed after ${buf.byteLength} bytes`)));
  });
}

/** A connected raw client with its three rings mapped (the data files once). */
export async function rawConnect(name: string): Promise<RawClient> {
  const { socket, reply } = await rawHandshake(name);
  socket.removeAllListeners("close");
  socket.removeAllListeners("error");
  socket.on("error", () => {});
  const r = decodeConnectionResponse(reply);
  if (r.error !== 0) throw new Error(`refused: ${r.error}`);
  const native = nativeAddon();
  const size = dataFileSize(r.maxMsgSize);
  const map = (n: string, hlen: number): RawRing => ({ header: native.mapFile(`${n}-header`, hlen), data: native.mapFile(`${n}-data`, size) });
  const client: RawClient = {
    socket,
    reply: r,
    request: map(r.request, HDR.sizeWithUserData),
    response: map(r.response, HDR.size),
    event: map(r.event, HDR.size),
    notes: 0,
    close() {
      socket.destroy();
      for (const ring of [client.request, client.response, client.event]) {
        native.unmap(ring.header);
        native.unmap(ring.data);
      }
    },
  };
  for (const ring of [client.request, client.response, client.event]) Atomics.add(new Int32Array(ring.header), HDR.refCount / 4, 1);
  socket.on("data", (d: Buffer) => (client.notes += d.byteLength));
  return client;
}

/** Resolves when `cond()` holds, polling every 5 ms; rejects after `ms`. */
export async function waitFor(cond: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
