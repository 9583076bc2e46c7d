#!/usr/bin/env node
/**
 * `testcpg [-i] [group]`: corosync's interactive CPG test program (test/testcpg.c) on our
 * client library. Joins `group` (default "GROUP" with its NUL, 6 bytes, as the original),
 * asks for the initial totem membership, prints the local node id and the membership, sends
 * every stdin line (its bytes and a NUL, agreed order) and prints the callbacks in the
 * original's words:
 *
 *   DeliverCallback: message (len=N)from node/pid X/Y: 'text'
 *   ConfchgCallback: group 'G' … joined/left node/pid X/Y reason: R … nodes in group now N
 *   TotemConfchgCallback: ringid (R.S) / active processors N: …
 *
 * Each callback is preceded by a "host:pid YYYY-MM-DD HH:MM:SS.mmm" line. `-i` prints node
 * ids as IPv4 addresses. "EXIT" or end of input leaves the group and exits.
 */
import { hostname } from "node:os";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { Cpg, type CpgEvent } from "../client/cpg.js";
import { CorosyncError } from "../client/errors.js";

let showIp = false;

/** testcpg's `node_pid_format`. */
export function nodePid(nodeId: number, pid: number): string {
  if (!showIp) return `node/pid ${nodeId}/${pid}`;
  return `node/pid ${(nodeId >>> 24) & 255}.${(nodeId >>> 16) & 255}.${(nodeId >>> 8) & 255}.${nodeId & 255}/${pid}`;
}

/** The timestamp line testcpg prints before each callback. */
function timeLine(): string {
  const d = new Date();
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  const host = hostname().split(".")[0];
  return `${host}:${process.pid} ${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** The local node id as testcpg prints it: the id's bytes as an in_addr, then the number. */
function localLine(nodeId: number): string {
  const ip = `${nodeId & 255}.${(nodeId >>> 8) & 255}.${(nodeId >>> 16) & 255}.${(nodeId >>> 24) & 255}`;
  return `Local node id is ${ip}/${nodeId} result 1`;
}

/** A C string's text: the bytes up to the first NUL. */
function cText(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}

function printEvent(e: CpgEvent, localId: number, out: (s: string) => void): void {
  if (e.type === "message") {
    out(`${timeLine()}\nDeliverCallback: message (len=${e.data.byteLength})from ${nodePid(e.nodeId, e.pid)}: '${cText(e.data)}'\n`);
    return;
  }
  if (e.type === "totemConfchg") {
    out(`\n${timeLine()}\nTotemConfchgCallback: ringid (${e.ringId.nodeId.toString(16)}.${e.ringId.seq.toString(16)})\nactive processors ${e.members.length}: ${e.members.map((m) => `${m} `).join("")}\n`);
    return;
  }
  let s = `${timeLine()}\nConfchgCallback: group '${new TextDecoder().decode(e.groupBytes).replace(/\0/g, "\0")}'\n${localLine(localId)}\n`;
  for (const j of e.joined) s += `joined ${nodePid(j.nodeId, j.pid)} reason: ${j.reason}\n`;
  for (const l of e.left) s += `left ${nodePid(l.nodeId, l.pid)} reason: ${l.reason}\n`;
  s += `nodes in group now ${e.members.length}\n`;
  for (const m of e.members) s += `${nodePid(m.nodeId, m.pid)}\n`;
  const first = e.left[0];
  if (first !== undefined && first.pid === process.pid) {
    s += `We might have left the building pid ${first.pid}\n`;
    if (first.nodeId === localId) s += `We have left the building direct match start nodeid ${localId} nodeid ${first.nodeId} local get current nodeid ${localId} pid ${first.pid}\n`;
  }
  out(s);
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { i: { type: "boolean" } }, allowPositionals: true });
  showIp = values.i === true;
  const given = positionals[0];
  if (given !== undefined && Buffer.byteLength(given) >= 128) {
    process.stderr.write("Invalid name for cpg group\n");
    return 1;
  }
  const group = given !== undefined ? new TextEncoder().encode(given) : new TextEncoder().encode("GROUP\0");
  const out = (s: string): void => void process.stdout.write(s);
  out("Type EXIT to finish\n");
  let cpg: Cpg;
  try {
    cpg = await Cpg.connect({ initialTotemConf: true });
  } catch (e) {
    out(`Could not initialize Cluster Process Group API instance error ${(e as CorosyncError).csError}\n`);
    return 1;
  }
  const localId = await cpg.localNodeId();
  out(`Local node id is ${localId}\n`);
  cpg.on("message", (e) => printEvent(e, localId, out));
  cpg.on("confchg", (e) => printEvent(e, localId, out));
  cpg.on("totemConfchg", (e) => printEvent(e, localId, out));
  const closed = new Promise<number>((resolve) => cpg.on("close", (err) => err !== undefined && resolve(1)));
  cpg.on("error", () => {});
  try {
    await cpg.join(group);
    const members = await cpg.membership();
    out(`membership list\n${members.map((m) => `node id ${m.nodeId} pid ${m.pid}\n`).join("")}`);
  } catch (e) {
    out(`Could not join process group, error ${(e as CorosyncError).csError}\n`);
    await cpg.close();
    return 1;
  }
  const rl = createInterface({ input: process.stdin, terminal: false });
  const done = new Promise<number>((resolve) => {
    const finish = async (): Promise<void> => {
      rl.close();
      await cpg.leave().catch(() => undefined);
      // Let our own LEAVE come back before finalizing, as testcpg's dispatch loop would.
      await new Promise<void>((r) => {
        const t = setTimeout(r, 2000);
        cpg.on("confchg", (e) => e.left.some((l) => l.pid === process.pid && l.nodeId === localId) && (clearTimeout(t), r()));
      });
      await cpg.close();
      out("Finalize  result is 1 (should be 1)\n");
      resolve(0);
    };
    let ending = false;
    rl.on("line", (line) => {
      if (ending) return;
      if (line.startsWith("EXIT")) {
        ending = true;
        void finish();
        return;
      }
      const bytes = new TextEncoder().encode(`${line}\n\0`);
      cpg.mcast(bytes).catch((e) => out(`mcast failed: ${(e as Error).message}\n`));
    });
    rl.on("close", () => {
      if (!ending) {
        ending = true;
        void finish();
      }
    });
  });
  return Promise.race([done, closed]);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`testcpg: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
