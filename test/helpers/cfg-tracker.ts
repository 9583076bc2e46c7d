/**
 * Test helper process: a cfg shutdown-tracking client (as pacemakerd is), built on our client
 * library. `node cfg-tracker.js yes|no|ignore` connects (COROSYNC_IPC_PREFIX honoured),
 * starts tracking, prints `{"ev":"ready"}`, then for every TESTSHUTDOWN prints
 * `{"ev":"shutdown","flags":F,"status":S}` and replies yes, no, or not at all. Exits when
 * stdin closes or the daemon goes away (`{"ev":"closed"}`).
 */
import { CfgClient } from "../../src/client/cfg.js";

const mode = process.argv[2] ?? "yes";
const out = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

const cfg = await CfgClient.connect();
cfg.on("shutdown", ({ flags, status }) => {
  out({ ev: "shutdown", flags, status });
  if (mode === "ignore" || status !== 1) return;
  cfg.replyToShutdown(mode === "yes").then(
    () => out({ ev: "replied", accept: mode === "yes" }),
    (e: Error) => out({ ev: "reply-error", message: e.message }),
  );
});
await cfg.trackStart();
out({ ev: "ready" });
process.stdin.on("end", () => void cfg.close().then(() => process.exit(0)));
process.stdin.resume();
const stream = cfg.events();
while (!(await stream.next()).done) {
  // events are handled by the listener above; this only notices the end
}
out({ ev: "closed" });
process.exit(0);
