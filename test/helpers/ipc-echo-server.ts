/**
 * A standalone echo IPC server for cross-process tests: `node ipc-echo-server.js PREFIX`.
 * Prints "ready" on stdout once listening; exits on SIGTERM after closing connections.
 */
import { IpcServer } from "../../src/runtime/ipc/server.js";
import { echoService } from "./ipc-echo.js";

const prefix = process.argv[2] ?? "";
const server = new IpcServer({
  prefix,
  services: { echo: echoService() },
  authorize: (c) => c.uid === 0 || c.gid === 0 || process.env.IPC_TEST_ALLOW_ALL === "1",
});
await server.start();
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  void server.stop().then(() => process.exit(0));
});
