#!/usr/bin/env node
/**
 * `cpgverify [-i iterations] [-s seed] [-g group]`: an end-to-end integrity check of CPG
 * (after corosync's test/cpgverify.c). Joins `cpg_bm` and sends messages of 100…100 099
 * pseudo-random bytes, each prefixed by `{u32 size; sha1[20]}` (corosync 1.x's layout; 3.x's
 * program uses a CRC-32). Every delivery is verified; a bad one prints "incorrect hash" and
 * exits 1. A running SHA-1 over every delivery (sender node/pid, size, digest) is kept per
 * configuration and printed whenever the group membership changes and at the end:
 *
 *   CONFIG <n> members=<node/pid,...> deliveries=<count> hash=<hex>
 *
 * Nodes that went through the same configurations print the same lines: compare them. The
 * last line, printed at exit for the configuration still current, ends in " open": its
 * count stops when the program does, so it is not comparable.
 * With `-i` it sends that many messages, then waits `-w` ms (default 2000) for the
 * last deliveries and exits 0; without, it runs until interrupted. `-q`: no per-message lines.
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { Cpg, type CpgConfchgEvent, type CpgMessageEvent } from "../client/cpg.js";

/** xorshift32: reproducible message bodies from a seed. */
function fill(buf: Uint8Array, seed: number): void {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < buf.byteLength; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
}

export function makeVerifyMessage(size: number, seed: number): Uint8Array {
  const msg = new Uint8Array(24 + size);
  const body = msg.subarray(24);
  fill(body, seed);
  new DataView(msg.buffer).setUint32(0, size, true);
  msg.set(createHash("sha1").update(body).digest(), 4);
  return msg;
}

/** The body's size and digest check; undefined when the message is bad. */
export function verifyMessage(msg: Uint8Array): { size: number; digest: Uint8Array } | undefined {
  if (msg.byteLength < 24) return undefined;
  const size = new DataView(msg.buffer, msg.byteOffset, msg.byteLength).getUint32(0, true);
  if (size !== msg.byteLength - 24) return undefined;
  const digest = createHash("sha1").update(msg.subarray(24)).digest();
  return digest.equals(msg.subarray(4, 24)) ? { size, digest } : undefined;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { i: { type: "string" }, s: { type: "string" }, g: { type: "string" }, w: { type: "string" }, q: { type: "boolean" } },
  });
  const iterations = values.i === undefined ? Infinity : Number(values.i);
  let seed = Number(values.s ?? process.pid);
  const waitMs = Number(values.w ?? 2000);
  const out = (s: string): void => void process.stdout.write(s);
  const cpg = await Cpg.connect();
  let config = 0;
  let deliveries = 0;
  let hash = createHash("sha1");
  let members = "";
  let failed = false;
  const report = (open = false): void => out(`CONFIG ${config} members=${members} deliveries=${deliveries} hash=${hash.copy().digest("hex")}${open ? " open" : ""}\n`);
  cpg.on("confchg", (e: CpgConfchgEvent) => {
    if (config > 0) report();
    config++;
    deliveries = 0;
    hash = createHash("sha1");
    members = e.members.map((m) => `${m.nodeId}/${m.pid}`).join(",");
  });
  cpg.on("message", (m: CpgMessageEvent) => {
    const v = verifyMessage(m.data);
    if (v === undefined) {
      out(`incorrect hash (message of ${m.data.byteLength} bytes from ${m.nodeId}/${m.pid})\n`);
      failed = true;
      process.exit(1);
    }
    deliveries++;
    const rec = new Uint8Array(12);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, m.nodeId, true);
    dv.setUint32(4, m.pid, true);
    dv.setUint32(8, v.size, true);
    hash.update(rec).update(v.digest);
    if (!values.q) out(`SIZE ${v.size} HASH: ${Buffer.from(v.digest).toString("hex")}\n`);
  });
  cpg.on("error", () => {});
  const lost = new Promise<void>((resolve) => cpg.on("close", (e) => e !== undefined && resolve()));
  await cpg.join(values.g ?? "cpg_bm");
  let stop = false;
  process.on("SIGINT", () => (stop = true));
  process.on("SIGTERM", () => (stop = true));
  for (let i = 0; i < iterations && !stop && !cpg.isClosed; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const size = 100 + (seed % 100000);
    try {
      await cpg.mcast(makeVerifyMessage(size, seed));
    } catch (e) {
      if (cpg.isClosed) break;
      throw e;
    }
  }
  if (cpg.isClosed) {
    out("lost the connection to corosync\n");
    return 2;
  }
  await Promise.race([new Promise((r) => setTimeout(r, waitMs)), lost]);
  report(true);
  await cpg.close();
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`cpgverify: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
