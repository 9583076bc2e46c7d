/**
 * CPG clients of both implementations against a mixed ring (test/helpers/mixed.ts), with a
 * common view of what each saw: the C libcpg client (test/c/cpgclient.c in interactive mode,
 * compiled here against Debian's libcpg) and our TS client library (test/helpers/cpg-child.ts).
 * Both print the same FNV-1a delivery hash. Used by the mixed CPG tests (udpu and knet).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cpgChild, LineProc } from "./cpg-proc.js";
import { mixedSkipReason, type MixedCluster } from "./mixed.js";

const SRC = fileURLToPath(new URL("../../../test/c/cpgclient.c", import.meta.url));

/** Why the mixed CPG tests cannot run here (no root / corosync / libcpg-dev / cc), or false. */
export function cpgMixedSkipReason(): string | false {
  return (
    mixedSkipReason() ||
    (!existsSync("/usr/include/corosync/cpg.h") ? "libcpg-dev not installed" : spawnSync("cc", ["--version"]).error ? "no C compiler (gcc)" : false)
  );
}

/** Compile test/c/cpgclient.c into `dir`; its path. */
export function buildCpgClient(dir: string): string {
  const bin = join(dir, "cpgclient");
  execFileSync("cc", ["-Wall", "-o", bin, SRC, "-lcpg"]);
  return bin;
}

/** CPG reasons (cpg.h). */
export const JOIN = 1;
export const LEAVE = 2;
export const NODEDOWN = 3;
export const PROCDOWN = 5;

/** One client of either implementation, with a common view of what it saw. */
export class Client {
  readonly proc: LineProc;
  pid = 0;

  constructor(
    readonly name: string,
    readonly kind: "C" | "TS",
    readonly node: number,
    m: MixedCluster,
    cBin: string,
    group: string,
  ) {
    const wrap = ["ip", "netns", "exec", m.lab.nodes[node - 1]!.ns];
    this.proc = kind === "C" ? new LineProc([...wrap, cBin, "-i", group]) : cpgChild({ group }, wrap);
  }

  get id(): string {
    return `${this.node}/${this.pid}`;
  }

  async ready(): Promise<void> {
    if (this.kind === "C") {
      await this.proc.waitFor(`${this.name} READY`, () => this.proc.lines.some((l) => l.startsWith("READY ")));
      const [, nodeid, pid] = this.proc.lines.find((l) => l.startsWith("READY "))!.split(" ");
      assert.equal(Number(nodeid), this.node, `${this.name}: local node id`);
      this.pid = Number(pid);
    } else {
      await this.proc.waitEvent(`${this.name} ready`, (e) => e.ev === "ready");
      const e = this.proc.events.find((x) => x.ev === "ready")!;
      assert.equal(e.nodeId, this.node, `${this.name}: local node id`);
      this.pid = Number(e.pid);
    }
  }

  /** Configuration changes so far, as "M=<list> L=<list> J=<list>" (node/pid:reason, sorted). */
  confchgs(): string[] {
    if (this.kind === "C") return this.proc.lines.filter((l) => l.startsWith("CONFCHG ")).map((l) => l.split(" ").slice(4).join(" "));
    const sorted = (xs: unknown): string =>
      (xs as string[])
        .map((x) => x.split(/[/:]/).map(Number) as [number, number, number])
        .sort((p, q) => p[0] - q[0] || p[1] - q[1])
        .map(([n, p, r]) => `${n}/${p}:${r}`)
        .join(",");
    return this.proc.events.filter((e) => e.ev === "confchg").map((e) => `M=${sorted(e.members)} L=${sorted(e.left)} J=${sorted(e.joined)}`);
  }

  /** Deliveries ("D node/pid text") and configuration changes ("C M=.. L=.. J=..") in order. */
  log(): string[] {
    if (this.kind === "C") {
      return this.proc.lines
        .filter((l) => l.startsWith("DELIVER ") || l.startsWith("CONFCHG "))
        .map((l) => {
          const w = l.split(" ");
          return w[0] === "DELIVER" ? `D ${w[1]}/${w[2]} ${w.slice(3).join(" ")}` : `C ${w.slice(4).join(" ")}`;
        });
    }
    let ci = 0;
    const changes = this.confchgs();
    return this.proc.events.filter((e) => e.ev === "msg" || e.ev === "confchg").map((e) => (e.ev === "msg" ? `D ${String(e.from)} ${String(e.text)}` : `C ${changes[ci++]}`));
  }

  /** Deliveries so far as "node/pid text". */
  deliveries(): string[] {
    if (this.kind === "C") {
      return this.proc.lines.filter((l) => l.startsWith("DELIVER ")).map((l) => {
        const [, n, p, ...text] = l.split(" ");
        return `${n}/${p} ${text.join(" ")}`;
      });
    }
    return this.proc.events.filter((e) => e.ev === "msg").map((e) => `${String(e.from)} ${String(e.text)}`);
  }

  async send(tag: string, count: number): Promise<void> {
    if (this.kind === "C") {
      const before = this.proc.lines.length;
      this.proc.write(`send ${tag} ${count}\n`);
      await this.proc.waitFor(`${this.name} SENT`, () => this.proc.lines.slice(before).some((l) => l === `SENT ${count}`));
    } else {
      const before = this.proc.events.length;
      this.proc.send({ op: "mcastMany", prefix: tag, count });
      await this.proc.waitFor(`${this.name} sent`, () => this.proc.events.slice(before).some((e) => e.ev === "sent"));
    }
  }

  /** One message of `size` bytes ("big<size>", then zeros); TS: not awaited (no ack). */
  async big(size: number): Promise<void> {
    if (this.kind === "C") {
      const before = this.proc.lines.length;
      this.proc.write(`big ${size}\n`);
      await this.proc.waitFor(`${this.name} SENT big`, () => this.proc.lines.slice(before).some((l) => l === `SENT big${size}`));
    } else {
      this.proc.send({ op: "mcastSize", size });
    }
  }

  async hash(): Promise<string> {
    if (this.kind === "C") {
      const before = this.proc.lines.length;
      this.proc.write("hash\n");
      await this.proc.waitFor(`${this.name} HASH`, () => this.proc.lines.slice(before).some((l) => l.startsWith("HASH ")));
      return this.proc.lines.slice(before).find((l) => l.startsWith("HASH "))!.slice(5);
    }
    const before = this.proc.events.length;
    this.proc.send({ op: "hash" });
    await this.proc.waitFor(`${this.name} hash`, () => this.proc.events.slice(before).some((e) => e.ev === "hash"));
    const e = this.proc.events.slice(before).find((x) => x.ev === "hash")!;
    return `${String(e.count)} ${String(e.hash)}`;
  }

  leave(): void {
    if (this.kind === "C") this.proc.write("leave\n");
    else this.proc.send({ op: "leave" });
  }

  /** Exit without leaving: C `_exit(0)`, TS `process.exit(0)` (the kernel closes the connection). */
  exit(): void {
    if (this.kind === "C") this.proc.write("exit\n");
    else this.proc.send({ op: "crash" });
  }
}

export const list = (cs: Client[], reason: number): string =>
  cs
    .map((c) => [c.node, c.pid] as const)
    .sort((p, q) => p[0] - q[0] || p[1] - q[1])
    .map(([n, p]) => `${n}/${p}:${reason}`)
    .join(",");

/** The configuration change every remaining client must see next. */
export const change = (members: Client[], left: Client[], leftReason: number, joined: Client[]): string =>
  `M=${list(members, 0)} L=${list(left, leftReason)} J=${list(joined, JOIN)}`;

/** Expect, at each of `who`, exactly `want` appended to its history (expected[] tracks it). */
export async function expectChange(who: Client[], expected: Map<Client, string[]>, want: string, what: string): Promise<void> {
  for (const c of who) expected.get(c)!.push(want);
  for (const c of who) {
    const n = expected.get(c)!.length;
    await c.proc.waitFor(`${what}: confchg #${n} at ${c.name}`, () => c.confchgs().length >= n, 60_000);
    assert.deepEqual(c.confchgs(), expected.get(c), `${what}: the configuration changes ${c.name} (${c.kind} on node ${c.node}) saw`);
  }
}

/** Every client's delivery hash ("<count> <fnv>"); asserts they are one and returns it. */
export async function oneHash(clients: Client[]): Promise<string> {
  const hashes = await Promise.all(clients.map((cl) => cl.hash()));
  assert.equal(new Set(hashes).size, 1, `one delivery hash: ${clients.map((cl, i) => `${cl.name}=${hashes[i]}`).join(" ")}`);
  return hashes[0]!;
}

/**
 * Every client sends `count` messages "<NAME>:<i>", concurrently; every client delivers all of
 * them in one order (each sender's in its own order) after the `base` deliveries it had, and
 * prints the same hash. Returns the hash.
 */
export async function exchangeOneOrder(clients: Client[], count: number, base = 0, ms = 60_000): Promise<string> {
  const total = base + clients.length * count;
  await Promise.all(clients.map((cl) => cl.send(cl.name.toUpperCase(), count)));
  for (const cl of clients) await cl.proc.waitFor(`${total} deliveries at ${cl.name}`, () => cl.deliveries().length >= total, ms);
  const order = clients[0]!.deliveries();
  assert.equal(order.length, total);
  for (const cl of clients) {
    assert.deepEqual(cl.deliveries(), order, `${cl.name} (${cl.kind} on node ${cl.node}) delivered the same messages in the same order`);
  }
  const fresh = order.slice(base);
  for (const other of clients) {
    const mine = fresh.filter((x) => x.startsWith(`${other.id} `)).map((x) => x.split(" ")[1]);
    assert.deepEqual(mine, Array.from({ length: count }, (_, i) => `${other.name.toUpperCase()}:${i}`), `${other.name}'s messages in its order`);
  }
  const hash = await oneHash(clients);
  assert.match(hash, new RegExp(`^${total} [0-9a-f]{16}$`));
  return hash;
}

/**
 * One large message from each of `bigs` ([client, size]), concurrently: every client delivers
 * them after its `base` deliveries, in one order, and prints the same hash. Returns the hash.
 */
export async function bigsOneOrder(clients: Client[], bigs: Array<[Client, number]>, base: number, ms = 60_000): Promise<string> {
  const total = base + bigs.length;
  await Promise.all(bigs.map(([cl, size]) => cl.big(size)));
  for (const cl of clients) await cl.proc.waitFor(`${total} deliveries at ${cl.name}`, () => cl.deliveries().length >= total, ms);
  const order = clients[0]!.deliveries();
  assert.deepEqual(order.slice(base).sort(), bigs.map(([cl, size]) => `${cl.id} big${size}`).sort());
  for (const cl of clients) assert.deepEqual(cl.deliveries(), order, `${cl.name}: the large messages in the same order`);
  const hash = await oneHash(clients);
  assert.match(hash, new RegExp(`^${total} `));
  return hash;
}
