#!/usr/bin/env node
// A CPG chat: joins a group and multicasts every stdin line; prints what members say and
// who comes and goes. Run it on several nodes:  node examples/cpg-chat.mjs [group]
// (COROSYNC_IPC_PREFIX selects a daemon when several run on one host.)
import { createInterface } from "node:readline";
import { Cpg } from "../dist/src/client/index.js";

const group = process.argv[2] ?? "chat";
await using cpg = await Cpg.connect();
const me = await cpg.localNodeId();
cpg.on("confchg", (c) => {
  for (const j of c.joined) console.log(`* ${j.nodeId}/${j.pid} joined`);
  for (const l of c.left) console.log(`* ${l.nodeId}/${l.pid} left (reason ${l.reason})`);
});
cpg.on("message", (m) => console.log(`<${m.nodeId}/${m.pid}> ${new TextDecoder().decode(m.data)}`));
cpg.on("close", (err) => err && console.error(`daemon gone: ${err.message}`));
await cpg.join(group);
console.log(`node ${me} in group ${group}; type lines, Ctrl-D to leave`);
for await (const line of createInterface({ input: process.stdin })) await cpg.mcast(line);
await cpg.leave();
