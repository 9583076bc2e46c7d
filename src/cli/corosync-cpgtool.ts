#!/usr/bin/env node
/**
 * `corosync-cpgtool`: lists CPG groups and their members, printing exactly what corosync
 * 3.1.7's tool prints (tools/corosync-cpgtool.c; docs/reference-outputs.md):
 *
 *   corosync-cpgtool [-d delimiter] [-e] [-n] [-h]
 *
 *   default  "Group Name\t       PID\t   Node ID", then per group its name and per member
 *            "\t\t%10u\t%10u (addresses)"
 *   -d C     "GRP_NAME<C>PID<C>NODEID", then "group<C>pid<C>nodeid" per member
 *   -n       group names only (one per line; with -d, separated by C and one newline)
 *   -e       do not escape unprintable characters (else `\\` and `\xNN`)
 *   -i       accepted and ignored (corosync's tool has no -i; addresses are always shown)
 *
 * Addresses come from the cfg service (GET_NODE_ADDRS), as corosync's tool asks for them.
 * Where corosync's tool gives up when cfg cannot be reached, ours prints "()" instead.
 * Exit status: 0 ok, 1 error (the daemon unreachable, a failed iteration, a bad option).
 */
import { parseArgs } from "node:util";
import { Cpg } from "../client/cpg.js";
import { CorosyncError } from "../client/errors.js";
import { IpcClientConnection } from "../client/ipc/connection.js";
import { readResponseHeader } from "../runtime/ipc/protocol.js";

/** corosync's `fprint_group`: printable bytes as they are; `\\` and `\xNN` when escaping. */
export function formatGroupName(bytes: Uint8Array, escape: boolean): string {
  let out = "";
  for (const c of bytes) {
    // C's `char` is signed here: bytes ≥ 0x80 are negative, never printable.
    if (!escape || (c >= 0x20 && c < 0x7f && c !== 0x5c)) out += String.fromCharCode(c);
    else if (c === 0x5c) out += "\\\\";
    else out += `\\x${(c >= 0x80 ? 0xffffff00 | c : c).toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** cfg GET_NODE_ADDRS (request 5 → response 11): the node's addresses as text. */
async function nodeAddrs(cfg: IpcClientConnection | undefined, nodeId: number): Promise<string[]> {
  if (cfg === undefined) return [];
  const req = new Uint8Array(24);
  const dv = new DataView(req.buffer);
  dv.setInt32(0, 5, true);
  dv.setInt32(8, 24, true);
  dv.setUint32(16, nodeId >>> 0, true);
  let res: Uint8Array;
  try {
    res = await cfg.request(req, { timeoutMs: 5000 });
  } catch {
    return [];
  }
  const h = readResponseHeader(res);
  if (h === null || h.error !== 1 || res.byteLength < 32) return [];
  const rv = new DataView(res.buffer, res.byteOffset, res.byteLength);
  const family = rv.getUint32(24, true);
  const n = rv.getUint32(28, true);
  const out: string[] = [];
  for (let i = 0; i < n && 32 + 16 * (i + 1) <= res.byteLength && i < 8; i++) {
    const a = res.subarray(32 + 16 * i, 48 + 16 * i);
    if (a.every((x) => x === 0)) continue;
    if (family === 2) out.push(`${a[0]}.${a[1]}.${a[2]}.${a[3]}`);
    else if (family === 10) out.push(formatIpv6(a));
  }
  return out;
}

function formatIpv6(a: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => (a[2 * i]! << 8) | a[2 * i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

function usage(prog: string): string {
  return `${prog} [-d delimiter] [-e] [-n] [-h]\n\nA tool for displaying cpg groups and members.\noptions:\n\t-d\tDelimiter between fields.\n\t-e\tDon't escape unprintable characters in group name.\n\t-n\tDisplay only all existing group names.\n\t-h\tDisplay this help.\n`;
}

export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { d: { type: "string" }, e: { type: "boolean" }, n: { type: "boolean" }, h: { type: "boolean" }, i: { type: "boolean" } }, strict: true });
  } catch (e) {
    process.stderr.write(`corosync-cpgtool: ${(e as Error).message}\n`);
    return 1;
  }
  const o = args.values;
  if (o.h) {
    process.stdout.write(usage("corosync-cpgtool"));
    return 0;
  }
  const delimiter = o.d !== undefined && o.d.length > 0 ? o.d[0]! : "";
  const escape = o.e !== true;
  let cpg: Cpg;
  try {
    cpg = await Cpg.connect();
  } catch (e) {
    process.stderr.write(`Could not initialize corosync cpg API error ${(e as CorosyncError).csError ?? 2}\n`);
    return 1;
  }
  const cfg = await IpcClientConnection.connect("cfg").catch(() => undefined);
  try {
    let out = "";
    if (o.n) {
      const names = await cpg.iterate(1);
      for (const g of names) out += formatGroupName(g.groupBytes, escape) + (delimiter || "\n");
      if (delimiter) out += "\n";
    } else {
      const items = await cpg.iterate(3);
      out += delimiter ? `GRP_NAME${delimiter}PID${delimiter}NODEID\n` : `Group Name\t${"PID".padStart(10)}\t${"Node ID".padStart(10)}\n`;
      let last: Uint8Array | undefined;
      for (const it of items) {
        const name = formatGroupName(it.groupBytes, escape);
        if (delimiter) {
          out += `${name}${delimiter}${it.pid}${delimiter}${it.nodeId}\n`;
          continue;
        }
        if (last === undefined || last.byteLength !== it.groupBytes.byteLength || !last.every((v, k) => v === it.groupBytes[k])) {
          out += `${name}\n`;
          last = it.groupBytes;
        }
        out += `\t\t${String(it.pid).padStart(10)}\t${String(it.nodeId).padStart(10)} (${(await nodeAddrs(cfg, it.nodeId)).join(" ")})\n`;
      }
    }
    process.stdout.write(out);
    return 0;
  } catch (e) {
    process.stderr.write(`cpg iteration error ${(e as CorosyncError).csError ?? 2}\n`);
    return 1;
  } finally {
    await cpg.close();
    await cfg?.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`corosync-cpgtool: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
