/**
 * Packet faults between the namespaces of a `Lab`, without netem: this machine's kernel (and
 * so CI's, which runs on the same kind of machine) has no sch_netem and no tc gact, but it
 * has legacy iptables with the `statistic`, `TEE` and `NFQUEUE` targets. Each fault is a
 * rule on one *directed* link a→b, in a's namespace, chain `CHAOS` of the mangle table
 * (jumped to from POSTROUTING), matching b's address:
 *
 * | fault      | rule                                                        |
 * |------------|-------------------------------------------------------------|
 * | cut        | `-j DROP` (partitions: symmetric = both directions, one-way, non-transitive) |
 * | loss p     | `-m statistic --mode random --probability p -j DROP`        |
 * | dup p      | `-m statistic ... -j TEE --gateway b` (a clone straight to b) |
 * | delay d±j  | `-j NFQUEUE --queue-num 0` and a user-space delayer (python3, raw netlink, below) that gives each packet its verdict after d + U(0, j) ms; j > inter-packet gap reorders |
 *
 * Every rule carries a comment naming its kind, so `counters()` reports how many packets each
 * kind of fault actually hit (a fault that hits nothing is reported, not assumed). A command
 * that fails throws with the command and its stderr: a fault that cannot be injected fails the
 * run, loudly. `probe()` says what is missing (Debian packages `iptables`, `python3-minimal`).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Lab } from "./netns.js";
import { sh } from "./netns.js";

/** Kinds of link fault, as counted. */
export type LinkFaultKind = "cut" | "loss" | "dup" | "delay";

export interface LinkFault {
  kind: LinkFaultKind;
  /** Sending node (1-based lab index). */
  from: number;
  /** Receiving node. */
  to: number;
  /** loss/dup probability in (0, 1]. */
  p?: number;
  /** delay base and jitter, ms. */
  delayMs?: number;
  jitterMs?: number;
}

const IPT = "iptables-legacy";
const CHAIN = "CHAOS";

/**
 * The delayer: binds NFQUEUE 0 of its namespace over raw netlink (nfnetlink_queue), copies
 * 64 bytes of each packet (the IPv4 header gives the destination), and accepts it after the
 * delay configured for that destination (stdin: `DST DELAY_MS JITTER_MS`, delay 0 removes;
 * `stats` prints `stats <delayed> <passed>`). Packets for other destinations pass at once.
 * Prints `ready` once bound; any netlink error prints `error <errno>` and exits 2.
 */
const DELAYER = String.raw`
import socket, struct, sys, select, heapq, random, time
rng = random.Random(int(sys.argv[1]))
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
s.bind((0, 0))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
seq = 0
def attr(t, p):
    n = 4 + len(p)
    return struct.pack("=HH", n, t) + p + b"\0" * ((4 - n % 4) % 4)
def msg(mtype, body, flags=1):
    global seq
    seq += 1
    return struct.pack("=IHHII", 20 + len(body), (3 << 8) | mtype, flags, seq, 0) + struct.pack("=BBH", 0, 0, 0) + body
def expect_ack():
    r, _, _ = select.select([s], [], [], 5)
    if not r: print("error timeout", flush=True); sys.exit(2)
    d = s.recv(65536)
    if struct.unpack_from("=H", d, 4)[0] == 2 and struct.unpack_from("=i", d, 16)[0] != 0:
        print("error", struct.unpack_from("=i", d, 16)[0], flush=True); sys.exit(2)
s.send(msg(2, attr(1, struct.pack("=BBH", 1, 0, 0)), 5)); expect_ack()
s.send(msg(2, attr(2, struct.pack(">IB", 64, 2)), 5)); expect_ack()
s.send(msg(2, attr(3, struct.pack(">I", 8192)), 5)); expect_ack()
links = {}; held = []; n = 0; delayed = 0; passed = 0
def verdict(pid):
    s.send(msg(1, attr(2, struct.pack(">II", 1, pid))))
def on_packet(d):
    global n, delayed, passed
    off = 20; pid = None; dst = None
    while off + 4 <= len(d):
        ln, t = struct.unpack_from("=HH", d, off)
        if ln < 4: break
        t &= 0x3fff
        if t == 1: pid = struct.unpack_from(">I", d, off + 4)[0]
        elif t == 10 and ln >= 24: dst = socket.inet_ntoa(d[off + 20:off + 24])
        off += (ln + 3) & ~3
    if pid is None: return
    cfg = links.get(dst)
    if cfg is None:
        passed += 1; verdict(pid); return
    n += 1; delayed += 1
    heapq.heappush(held, (time.monotonic() + (cfg[0] + rng.random() * cfg[1]) / 1000.0, n, pid))
print("ready", flush=True)
while True:
    timeout = max(0.0, held[0][0] - time.monotonic()) if held else None
    r, _, _ = select.select([s, sys.stdin], [], [], timeout)
    if s in r:
        d = s.recv(1 << 16); off = 0
        while off + 16 <= len(d):
            ln, t = struct.unpack_from("=IH", d, off)
            if ln < 16: break
            if t == 3 << 8: on_packet(d[off:off + ln])
            elif t == 2 and struct.unpack_from("=i", d, off + 16)[0] != 0:
                print("error", struct.unpack_from("=i", d, off + 16)[0], flush=True); sys.exit(2)
            off += (ln + 3) & ~3
    if sys.stdin in r:
        line = sys.stdin.readline()
        if line == "": sys.exit(0)
        p = line.split()
        if p and p[0] == "stats": print("stats", delayed, passed, flush=True)
        elif len(p) == 3:
            if float(p[1]) <= 0: links.pop(p[0], None)
            else: links[p[0]] = (float(p[1]), float(p[2]))
            print("ok", p[0], flush=True)
    now = time.monotonic()
    while held and held[0][0] <= now: verdict(heapq.heappop(held)[2])
`;

/** Why link faults cannot be injected here (missing tool or kernel feature), or false. */
export function faultNetSkipReason(): string | false {
  for (const [cmd, pkg] of [
    [IPT, "iptables"],
    ["python3", "python3-minimal"],
  ] as const) {
    const r = spawnSync(cmd, ["--version"], { encoding: "utf8" });
    if (r.error !== undefined || r.status !== 0) return `${cmd} not found: install the Debian package ${pkg} (link faults use legacy iptables and an NFQUEUE delayer)`;
  }
  return false;
}

/** A delayer process in one namespace. */
class Delayer {
  private readonly lines: string[] = [];
  private waiters: Array<() => void> = [];
  private exited = false;

  constructor(
    readonly ns: string,
    private readonly proc: ChildProcess,
  ) {
    createInterface({ input: proc.stdout! }).on("line", (l) => {
      this.lines.push(l);
      this.wake();
    });
    proc.stderr!.on("data", (d: Buffer) => this.lines.push(`stderr: ${d.toString().trim()}`));
    proc.on("exit", () => {
      this.exited = true;
      this.wake();
    });
    proc.stdin!.on("error", () => {});
  }

  /** The first line (after index `from`) matching `re`; throws on exit or after `ms`. */
  async expect(re: RegExp, from: number, ms: number): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.lines.slice(from).find((l) => re.test(l));
      if (hit !== undefined) return hit;
      const err = this.lines.find((l) => l.startsWith("error") || l.startsWith("stderr"));
      if (this.exited || err !== undefined) throw new Error(`delayer in ${this.ns} failed: ${this.lines.join(" | ")}`);
      if (Date.now() > end) throw new Error(`delayer in ${this.ns}: no '${re.source}' within ${ms} ms: ${this.lines.join(" | ")}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => (clearTimeout(t), r()));
      });
    }
  }

  /** Send a command and wait for its answer. */
  async command(text: string, answer: RegExp): Promise<string> {
    const from = this.lines.length;
    this.proc.stdin!.write(`${text}\n`);
    return this.expect(answer, from, 10_000);
  }

  kill(): void {
    if (!this.exited && this.proc.pid !== undefined) {
      try {
        process.kill(this.proc.pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  }

  get done(): boolean {
    return this.exited;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Packets hit per fault kind (from the rules' counters). */
export type FaultCounters = Record<LinkFaultKind, number>;

export class FaultNet {
  private readonly delayers = new Map<number, Delayer>();
  private active: LinkFault[] = [];
  /** Packets hit by rules already removed, per kind. */
  private readonly retired: FaultCounters = { cut: 0, loss: 0, dup: 0, delay: 0 };

  private constructor(
    private readonly lab: Lab,
    private readonly ring = 0,
  ) {}

  /** Create the CHAOS chains in every node namespace and start the delayers. */
  static async create(lab: Lab, seed: number): Promise<FaultNet> {
    const why = faultNetSkipReason();
    if (why !== false) throw new Error(why);
    const net = new FaultNet(lab);
    try {
      for (const node of lab.nodes) {
        sh("ip", ["netns", "exec", node.ns, IPT, "-t", "mangle", "-N", CHAIN]);
        sh("ip", ["netns", "exec", node.ns, IPT, "-t", "mangle", "-A", "POSTROUTING", "-j", CHAIN]);
        const proc = spawn("ip", ["netns", "exec", node.ns, "python3", "-c", DELAYER, String(seed + node.index)], { stdio: ["pipe", "pipe", "pipe"] });
        const d = new Delayer(node.ns, proc);
        net.delayers.set(node.index, d);
        await d.expect(/^ready$/, 0, 10_000);
      }
    } catch (e) {
      net.close();
      throw e;
    }
    return net;
  }

  private address(index: number): string {
    return this.lab.nodes[index - 1]!.rings[this.ring]!.address;
  }

  /** Add faults (on top of the active ones) and re-install the rules of the nodes concerned. */
  async add(faults: LinkFault[]): Promise<void> {
    for (const f of faults) {
      if (f.from === f.to) throw new Error(`fault on a self link ${f.from}`);
      this.active.push(f);
    }
    for (const from of new Set(faults.map((f) => f.from))) await this.install(from);
  }

  /** Remove every fault (the counters of removed rules are kept). */
  async heal(): Promise<void> {
    const nodes = new Set(this.active.map((f) => f.from));
    this.active = [];
    for (const from of nodes) await this.install(from);
  }

  /** Faults in force now. */
  get faults(): readonly LinkFault[] {
    return this.active;
  }

  /**
   * Re-install node `from`'s chain: cuts, then losses (drops first), then duplicates, then
   * delays, so a dropped packet is neither cloned nor delayed. The delayer learns the
   * destinations to hold.
   */
  private async install(from: number): Promise<void> {
    const ns = this.lab.nodes[from - 1]!.ns;
    this.retire(from);
    sh("ip", ["netns", "exec", ns, IPT, "-t", "mangle", "-F", CHAIN]);
    const mine = this.active.filter((f) => f.from === from);
    const order: LinkFaultKind[] = ["cut", "loss", "dup", "delay"];
    const delayer = this.delayers.get(from)!;
    for (const kind of order) {
      for (const f of mine.filter((x) => x.kind === kind)) {
        const dst = this.address(f.to);
        const rule = ["-t", "mangle", "-A", CHAIN, "-d", dst, "-m", "comment", "--comment", `chaos-${kind}`];
        const stat = (p: number): string[] => ["-m", "statistic", "--mode", "random", "--probability", p.toFixed(4)];
        if (kind === "cut") rule.push("-j", "DROP");
        else if (kind === "loss") rule.push(...stat(f.p ?? 0.1), "-j", "DROP");
        else if (kind === "dup") rule.push(...stat(f.p ?? 0.1), "-j", "TEE", "--gateway", dst);
        else rule.push("-j", "NFQUEUE", "--queue-num", "0");
        sh("ip", ["netns", "exec", ns, IPT, ...rule]);
      }
    }
    // The delayer holds packets only for destinations with a delay rule; others pass.
    for (const node of this.lab.nodes) {
      if (node.index === from) continue;
      const d = mine.find((f) => f.kind === "delay" && f.to === node.index);
      await delayer.command(`${this.address(node.index)} ${d?.delayMs ?? 0} ${d?.jitterMs ?? 0}`, /^ok /);
    }
  }

  /** Move the counters of `from`'s current rules into `retired` (before a flush). */
  private retire(from: number): void {
    const c = this.chainCounters(from);
    for (const k of Object.keys(c) as LinkFaultKind[]) this.retired[k] += c[k];
  }

  private chainCounters(from: number): FaultCounters {
    const out: FaultCounters = { cut: 0, loss: 0, dup: 0, delay: 0 };
    const ns = this.lab.nodes[from - 1]!.ns;
    const text = sh("ip", ["netns", "exec", ns, IPT, "-t", "mangle", "-L", CHAIN, "-v", "-x", "-n"]);
    for (const line of text.split("\n")) {
      const m = /^\s*(\d+)\s+\d+\s+.*\/\* chaos-(cut|loss|dup|delay) \*\//.exec(line);
      if (m) out[m[2] as LinkFaultKind] += Number(m[1]);
    }
    return out;
  }

  /** Packets hit by each kind of fault so far (removed rules and the ones in force). */
  counters(): FaultCounters {
    const out = { ...this.retired };
    for (const node of this.lab.nodes) {
      const c = this.chainCounters(node.index);
      for (const k of Object.keys(c) as LinkFaultKind[]) out[k] += c[k];
    }
    return out;
  }

  /** Packets the delayers held, summed (`stats` of each). */
  async delayedPackets(): Promise<number> {
    let sum = 0;
    for (const d of this.delayers.values()) {
      const line = await d.command("stats", /^stats /);
      sum += Number(line.split(" ")[1]);
    }
    return sum;
  }

  /** Stop the delayers (rules vanish with the namespaces). */
  close(): void {
    for (const d of this.delayers.values()) d.kill();
    this.delayers.clear();
  }

  /** True when every delayer is still running (a dead one would silently stop delaying). */
  get healthy(): boolean {
    return [...this.delayers.values()].every((d) => !d.done);
  }
}

/** Symmetric partition: every link between different sides cut, both ways. */
export function partitionFaults(sides: number[][]): LinkFault[] {
  const out: LinkFault[] = [];
  for (const a of sides) for (const b of sides) if (a !== b) for (const x of a) for (const y of b) out.push({ kind: "cut", from: x, to: y });
  return out;
}
