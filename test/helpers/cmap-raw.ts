/**
 * Child-process helper: sends cmap requests byte for byte as a hostile or careless libcmap
 * client could (run inside the daemon's network namespace), bypassing our client library's
 * own checks. Usage: `cmap-raw.js set KEY TYPE VALUEHEX ...` (repeatable groups of four),
 * `cmap-raw.js garbage N` (N random requests of every id). Prints one JSON line: the cs_error
 * of each SET, or `{garbage: N, answered: M}`; exits 1 with `{error}` on transport failure.
 */
import { IpcClientConnection } from "../../src/client/ipc/connection.js";
import { CmapReqId, decodeCmapResponseHeader, encodeCmapRequest } from "../../src/wire/cmap/ipc.js";

async function main(): Promise<void> {
  const conn = await IpcClientConnection.connect("cmap");
  const args = process.argv.slice(2);
  try {
    if (args[0] === "garbage") {
      const n = Number(args[1]);
      let answered = 0;
      for (let i = 0; i < n; i++) {
        const body = new Uint8Array(Math.floor(Math.random() * 400));
        for (let j = 0; j < body.length; j++) body[j] = Math.floor(Math.random() * 256);
        const m = new Uint8Array(16 + body.length);
        m.set(body, 16);
        const dv = new DataView(m.buffer);
        dv.setInt32(0, i % 12, true);
        dv.setInt32(8, m.byteLength, true);
        const res = await conn.request(m, { timeoutMs: 5000 });
        if (decodeCmapResponseHeader(res).size === res.byteLength) answered++;
      }
      console.log(JSON.stringify({ garbage: n, answered }));
      return;
    }
    const results: number[] = [];
    for (let i = 1; i + 2 < args.length; i += 4) {
      const key = args[i]!;
      const type = Number(args[i + 1]);
      const value = new Uint8Array(Buffer.from(args[i + 2]!, "hex"));
      const req = encodeCmapRequest({ id: CmapReqId.SET, key: { length: key.length, text: key }, valueLen: BigInt(value.byteLength), type, value });
      results.push(decodeCmapResponseHeader(await conn.request(req, { timeoutMs: 5000 })).error);
    }
    console.log(JSON.stringify({ results }));
  } finally {
    await conn.close();
  }
}

main().catch((e: unknown) => {
  console.log(JSON.stringify({ error: (e as Error).message }));
  process.exit(1);
});
