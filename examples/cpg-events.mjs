#!/usr/bin/env node
// Reads a group's events as an async iterator with back-pressure: at most 16 events are
// buffered; beyond that the library stops reading until the loop catches up. Ctrl-C ends.
import { Cpg } from "../dist/src/client/index.js";

const ac = new AbortController();
process.on("SIGINT", () => ac.abort());
await using cpg = await Cpg.connect({ initialTotemConf: true });
await cpg.join(process.argv[2] ?? "demo");
try {
  for await (const e of cpg.events({ highWaterMark: 16, signal: ac.signal })) {
    if (e.type === "message") console.log("message", e.nodeId, e.pid, e.data.byteLength, "bytes");
    else if (e.type === "confchg") console.log("confchg members", e.members.map((m) => `${m.nodeId}/${m.pid}`).join(" "));
    else console.log("totem ring", `${e.ringId.nodeId.toString(16)}.${e.ringId.seq.toString(16)}`, "members", e.members.join(" "));
  }
} catch (err) {
  if (!ac.signal.aborted) throw err;
}
