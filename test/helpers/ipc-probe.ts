/**
 * Child-process probe (run under setpriv as another uid): connects to `echo` with our client
 * library, does one echo request and prints {ok: true, uid} or {code, errno} as JSON.
 * usage: node ipc-probe.js PREFIX
 */
import { IpcClientConnection } from "../../src/client/ipc/connection.js";
import { echoRequest } from "./ipc-echo.js";

try {
  const c = await IpcClientConnection.connect("echo", { prefix: process.argv[2] });
  const res = await c.request(echoRequest(0, new Uint8Array([1, 2, 3])), { timeoutMs: 5000 });
  await c.close();
  console.log(JSON.stringify({ ok: res.byteLength === 27, uid: process.getuid?.() }));
} catch (e) {
  console.log(JSON.stringify({ code: (e as { code?: string }).code, errno: (e as { errno?: number }).errno, message: (e as Error).message }));
}
