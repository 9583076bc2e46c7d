/**
 * The knet engine (src/core/knet/engine.ts) and link state (src/core/knet/link.ts), driven in
 * virtual time over an in-memory network of engines: links come up after the required pongs
 * and go down on silence (with knet's backoff), data is broadcast/unicast/looped back once,
 * fragmented and reassembled, deduplicated under link_mode active, moved to a healthy link
 * under passive, alternated under rr; restarts (seq-0 pings) and untimed pings reset the
 * duplicate window; PMTUd probes are answered; hostile frames are dropped and counted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { KnetEngine, UNTIMED_PING_EVERY, type KnetEvent, type LinkMode } from "../../src/core/knet/engine.js";
import { LinkState, PONG_TIMEOUT_BACKOFF } from "../../src/core/knet/link.js";
import { KnetType, decodeKnetFrame, encodeKnetFrame, writeDataFields, writeKnetHeader, writePing } from "../../src/wire/knet/frame.js";

const TIMERS = { pingIntervalMs: 400, pongTimeoutMs: 800, pongCount: 2, precision: 2048 };

interface Sent {
  from: number;
  to: number;
  link: number;
  frame: Uint8Array;
}

/** Engines on an in-memory network; `cut` holds "a-b-link" pairs that lose everything. */
class Net {
  now = 0;
  readonly engines = new Map<number, KnetEngine>();
  readonly delivered = new Map<number, Array<{ from: number; link: number; packet: Uint8Array }>>();
  readonly looped = new Map<number, Uint8Array[]>();
  readonly events: Array<KnetEvent & { at: number; node: number }> = [];
  readonly wire: Sent[] = [];
  readonly cut = new Set<string>();
  private queue: Sent[] = [];

  constructor(
    private readonly ids: number[],
    private readonly links: number[] = [0],
  ) {}

  static addr(node: number, link: number): string {
    return `10.0.${link}.${node}`;
  }

  start(id: number, mode: LinkMode = "passive", opts: { dataMtu?: number; priorities?: number[] } = {}): KnetEngine {
    const hosts = this.ids.map((n) => ({ nodeId: n, addrs: this.linksArray(n) }));
    const links = this.links.map((l, i) => ({ link: l, priority: opts.priorities?.[i] ?? 1, ...TIMERS }));
    this.delivered.set(id, []);
    this.looped.set(id, []);
    const e = new KnetEngine(
      { localNodeId: id, hosts, links, linkMode: mode, dataMtu: opts.dataMtu ?? 1446 },
      {
        send: (frame, dests) => {
          for (const d of dests) this.queue.push({ from: id, to: d.nodeId, link: d.link, frame: Uint8Array.from(frame) });
        },
        deliver: (packet, from, link) => this.delivered.get(id)!.push({ from, link, packet }),
        loopback: (packet) => this.looped.get(id)!.push(packet),
        event: (ev) => this.events.push({ ...ev, at: this.now, node: id }),
      },
    );
    this.engines.set(id, e);
    return e;
  }

  private linksArray(n: number): string[] {
    const a: string[] = [];
    for (const l of this.links) a[l] = Net.addr(n, l);
    return a;
  }

  /** Deliver everything queued (replies included), skipping cut paths and stopped engines. */
  flush(): void {
    while (this.queue.length > 0) {
      const q = this.queue;
      this.queue = [];
      for (const s of q) {
        this.wire.push(s);
        const key = [Math.min(s.from, s.to), Math.max(s.from, s.to), s.link].join("-");
        if (this.cut.has(key)) continue;
        this.engines.get(s.to)?.receive(this.now, Net.addr(s.from, s.link), s.frame);
      }
    }
  }

  /** Advance `ms` in 50 ms steps, ticking every engine every 200 ms. */
  run(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now += 50;
      if (this.now % 200 === 0) for (const e of this.engines.values()) e.tick(this.now);
      this.flush();
    }
  }

  stop(id: number): void {
    this.engines.delete(id);
  }
}

/** A Totem-looking packet (magic 70 C0, LE) of `len` bytes with a recognisable body. */
function totem(len: number, fill = 0x41): Uint8Array {
  const p = new Uint8Array(len).fill(fill);
  p.set([0x70, 0xc0, 3, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
  return p;
}

function upEvents(net: Net, node: number): Array<{ at: number; nodeId: number; link: number }> {
  return net.events.filter((e): e is KnetEvent & { kind: "link"; at: number; node: number } => e.node === node && e.kind === "link" && e.up).map((e) => ({ at: e.at, nodeId: e.nodeId, link: e.link }));
}

test("link state: the (pong_count + 1)-th pong brings it up; a late pong refreshes but does not count", () => {
  const l = new LinkState(TIMERS);
  assert.equal(l.onPong(1000, 999), "counted");
  assert.equal(l.onPong(2000, 1999), "counted");
  assert.equal(l.onPong(2500, 1000), "late", "rtt 1500 > 800");
  assert.equal(l.pongLastMs, 2500);
  assert.equal(l.onPong(3000, 2999), "up");
  assert.equal(l.connected, true);
  assert.equal(l.onPong(3100, 4000), "ignored", "a timestamp from the future");
  assert.equal(l.onPong(3200, undefined), "ignored", "not one of our timestamps");
});

test("link state: silence takes it down after pong_timeout × backoff (10 → 1, one step a second) + 2 × latency", () => {
  const l = new LinkState(TIMERS);
  for (const t of [0, 1, 2]) l.onPong(t, t);
  assert.equal(l.connected, true);
  assert.equal(l.pongTimeoutAdjMs, 800 * PONG_TIMEOUT_BACKOFF);
  assert.equal(l.checkTimeout(2 + 7999), false);
  assert.equal(l.checkTimeout(2 + 8000), true, "a fresh link tolerates 10 timeouts");
  assert.equal(l.connected, false);
  assert.equal(l.receivedPongs, 0);
  assert.equal(l.checkTimeout(1e9), false, "no pong since it went down: no timeout");
  for (const t of [0, 1, 2]) l.onPong(20_000 + t, 20_000 + t - 2);
  for (let i = 0; i < 12; i++) l.adjust();
  assert.equal(l.backoff, 1);
  assert.equal(l.pongTimeoutAdjMs, 800 + 2 * l.latencyMs);
  assert.equal(l.checkTimeout(20_002 + 800 + 2 * l.latencyMs), true, "a settled link goes down after about one timeout");
  assert.equal(l.counters.upCount, 2);
  assert.equal(l.counters.downCount, 2);
});

test("two engines: pings from the start, each link up after 3 pongs, then data flows; nothing before", () => {
  const net = new Net([1, 2]);
  const a = net.start(1);
  net.start(2);
  assert.equal(a.send(net.now, 0, totem(40)), false, "nobody reachable yet: no seq used");
  assert.equal(a.sequence, 0);
  net.run(2000);
  const up = upEvents(net, 1);
  assert.deepEqual(up.map((u) => [u.nodeId, u.link]), [[2, 0]]);
  assert.ok(up[0]!.at >= 800 && up[0]!.at <= 1400, `up at ${up[0]!.at} ms: pings every 400 ms, the 3rd pong`);
  const pings = net.wire.filter((s) => s.from === 1 && decodeKnetFrame(s.frame).ok && s.frame[1] === KnetType.PING);
  assert.ok(pings.every((p) => p.frame[23] === 0 && p.frame[24] === 0), "pings carry seq 0 before any data");
  assert.equal(a.send(net.now, 0, totem(40)), true);
  net.flush();
  assert.equal(a.sequence, 1, "the first DATA packet is seq 1");
  assert.equal(net.delivered.get(2)!.length, 1);
  assert.equal(net.looped.get(1)!.length, 2, "our broadcasts loop back (also the one nobody else got)");
});

test("broadcast, unicast and loopback; the copy that goes out carries the target; the caller's bytes are untouched", () => {
  const net = new Net([1, 2, 3]);
  const a = net.start(1);
  net.start(2);
  net.start(3);
  net.run(2000);
  const token = totem(57);
  assert.ok(a.send(net.now, 3, token));
  net.flush();
  assert.deepEqual([...token.subarray(9, 13)], [0, 0, 0, 0], "the caller's packet is not modified");
  assert.equal(net.delivered.get(2)!.length, 0, "unicast: not to 2");
  const got = net.delivered.get(3)!;
  assert.equal(got.length, 1);
  assert.deepEqual([...got[0]!.packet.subarray(9, 13)], [3, 0, 0, 0], "target_nodeid = 3 (LE)");
  assert.equal(net.looped.get(1)!.length, 0, "a unicast to another node is not looped back");
  a.send(net.now, 1, token);
  assert.equal(net.looped.get(1)!.length, 1, "a unicast to ourselves is only looped back");
  a.send(net.now, 0, totem(29));
  net.flush();
  assert.equal(net.delivered.get(2)!.length, 1);
  assert.equal(net.delivered.get(3)!.length, 2);
  const data = net.wire.filter((s) => s.frame[1] === KnetType.DATA);
  const bcast = data.filter((s) => s.frame[10] === 1);
  assert.equal(bcast.length, 2, "one copy per reachable host");
  assert.deepEqual(bcast[0]!.frame, bcast[1]!.frame, "the same bytes to each");
});

test("fragmentation: a 20,000-byte packet at data MTU 1397 → 15 frames of ≤ 1397 bytes, rebuilt at the receiver", () => {
  const net = new Net([1, 2]);
  const a = net.start(1, "passive", { dataMtu: 1397 });
  net.start(2);
  net.run(2000);
  const big = totem(20_000, 0x5a);
  for (let i = 13; i < big.length; i++) big[i] = i & 0xff;
  net.wire.length = 0;
  a.send(net.now, 0, big);
  net.flush();
  const frames = net.wire.filter((s) => s.frame[1] === KnetType.DATA);
  assert.equal(frames.length, 15);
  assert.ok(frames.every((f, i) => f.frame[11] === 15 && f.frame[12] === i + 1 && f.frame.length <= 14 + 1397));
  const got = net.delivered.get(2)!;
  assert.equal(got.length, 1);
  assert.deepEqual(got[0]!.packet.subarray(13), big.subarray(13));
});

test("link_mode active: every frame on both links, delivered once (the copy is a duplicate)", () => {
  const net = new Net([1, 2], [0, 1]);
  const a = net.start(1, "active");
  const b = net.start(2, "active");
  net.run(2000);
  for (let i = 0; i < 5; i++) a.send(net.now, 0, totem(50));
  net.flush();
  assert.equal(net.delivered.get(2)!.length, 5);
  assert.equal(b.dropped.duplicate, 5);
  const links = new Set(net.wire.filter((s) => s.from === 1 && s.frame[1] === KnetType.DATA).map((s) => s.link));
  assert.deepEqual([...links].sort(), [0, 1]);
});

test("link_mode passive: the highest priority link carries traffic; when it fails, traffic moves to the other", () => {
  const net = new Net([1, 2], [0, 1]);
  const a = net.start(1, "passive", { priorities: [1, 5] });
  net.start(2, "passive", { priorities: [1, 5] });
  net.run(12_000); // long enough for the backoff to settle
  const dataLinks = (): number[] => net.wire.filter((s) => s.from === 1 && s.frame[1] === KnetType.DATA).map((s) => s.link);
  a.send(net.now, 0, totem(50));
  net.flush();
  assert.deepEqual(dataLinks(), [1], "link 1 has priority 5");
  net.cut.add("1-2-1");
  const cutAt = net.now;
  net.run(3000);
  const down = net.events.find((e) => e.node === 1 && e.kind === "link" && !e.up);
  assert.ok(down !== undefined && down.kind === "link" && down.link === 1);
  assert.ok(down.at - cutAt <= 2000, `link 1 down ${down.at - cutAt} ms after the cut`);
  net.wire.length = 0;
  a.send(net.now, 0, totem(50));
  net.flush();
  assert.deepEqual(dataLinks(), [0]);
  assert.equal(net.delivered.get(2)!.length, 2);
  net.cut.clear();
  net.run(3000);
  net.wire.length = 0;
  a.send(net.now, 0, totem(50));
  net.flush();
  assert.deepEqual(dataLinks(), [1], "back on link 1 once it is up again");
});

test("link_mode rr: packets alternate between the up links", () => {
  const net = new Net([1, 2], [0, 1]);
  const a = net.start(1, "rr");
  net.start(2, "rr");
  net.run(2000);
  net.wire.length = 0;
  for (let i = 0; i < 4; i++) a.send(net.now, 0, totem(50));
  net.flush();
  assert.deepEqual(net.wire.filter((s) => s.frame[1] === KnetType.DATA).map((s) => s.link), [0, 1, 0, 1]);
  assert.equal(net.delivered.get(2)!.length, 4);
});

test("restart: the new incarnation pings with seq 0, so its DATA seq 1, 2, … is not taken for duplicates", () => {
  const net = new Net([1, 2]);
  net.start(1);
  let b = net.start(2);
  net.run(2000);
  for (let i = 0; i < 5; i++) b.send(net.now, 0, totem(30));
  net.flush();
  assert.equal(net.delivered.get(1)!.length, 5);
  net.stop(2); // before any ping showed its seq 5: knet alone would keep the old window
  net.run(600); // shorter than the link timeout: node 1 still sees link 2 up
  b = net.start(2);
  net.delivered.set(1, []);
  net.run(2000);
  for (let i = 0; i < 5; i++) b.send(net.now, 0, totem(30));
  net.flush();
  assert.equal(net.delivered.get(1)!.length, 5, "seqs 1…5 again, delivered");
  assert.equal(net.engines.get(1)!.dropped.duplicate ?? 0, 0);
});

test("without the seq-0 ping a restarted sender's packets would be duplicates (the window works)", () => {
  const net = new Net([1, 2]);
  const a = net.start(1);
  net.start(2);
  net.run(2000);
  const frame = new Uint8Array(14 + 30);
  writeKnetHeader(frame, 0, KnetType.DATA, 2);
  writeDataFields(frame, 0, 1, 1, 1, 0);
  frame.set(totem(30), 14);
  a.receive(net.now, Net.addr(2, 0), Uint8Array.from(frame));
  a.receive(net.now, Net.addr(2, 0), Uint8Array.from(frame));
  assert.equal(net.delivered.get(1)!.length, 1);
  assert.equal(a.dropped.duplicate, 1);
  const ping = (seq: number): Uint8Array => {
    const p = new Uint8Array(26);
    writePing(p, 0, KnetType.PING, 2, 0, 5, seq, 1);
    return p;
  };
  a.receive(net.now, Net.addr(2, 0), ping(1));
  a.receive(net.now, Net.addr(2, 0), Uint8Array.from(frame));
  assert.equal(a.dropped.duplicate, 2, "a ping with the current seq changes nothing");
  a.receive(net.now, Net.addr(2, 0), ping(0));
  a.receive(net.now, Net.addr(2, 0), Uint8Array.from(frame));
  assert.equal(net.delivered.get(1)!.length, 2, "after a seq-0 ping, seq 1 is new again");
  a.receive(net.now, Net.addr(2, 0), ping(0));
  a.receive(net.now, Net.addr(2, 0), Uint8Array.from(frame));
  assert.equal(net.delivered.get(1)!.length, 3, "another seq-0 ping with DATA in the window: a restart again");
});

test("untimed pings: one goes to every host every 8191 packets; an idle receiver wipes its window, a busy one does not", () => {
  const net = new Net([1, 2]);
  const a = net.start(1);
  net.start(2);
  net.run(2000);
  for (let i = 1; i < UNTIMED_PING_EVERY; i++) a.send(net.now, 0, totem(20));
  net.flush();
  net.wire.length = 0;
  a.send(net.now, 0, totem(20));
  net.flush();
  const untimed = net.wire.filter((s) => s.frame[1] === KnetType.PING && s.frame[25] === 0);
  assert.equal(untimed.length, 1);
  assert.equal((untimed[0]!.frame[23]! << 8) | untimed[0]!.frame[24]!, UNTIMED_PING_EVERY);
  assert.equal(net.delivered.get(2)!.length, UNTIMED_PING_EVERY);

  // Crafted: data, untimed ping (busy: kept), untimed ping with no data since (idle: wiped).
  const b = net.engines.get(2)!;
  const data = (seq: number): Uint8Array => {
    const f = new Uint8Array(14 + 20);
    writeKnetHeader(f, 0, KnetType.DATA, 1);
    writeDataFields(f, 0, seq, 1, 1, 0);
    f.set(totem(20), 14);
    return f;
  };
  const untimedPing = (seq: number): Uint8Array => {
    const p = new Uint8Array(26);
    writePing(p, 0, KnetType.PING, 1, 0, net.now, seq, 0);
    return p;
  };
  b.receive(net.now, Net.addr(1, 0), data(9000));
  b.receive(net.now, Net.addr(1, 0), untimedPing(9000));
  b.receive(net.now, Net.addr(1, 0), data(9000));
  assert.equal(b.dropped.duplicate, 1, "data arrived since the last untimed ping: window kept");
  b.receive(net.now, Net.addr(1, 0), untimedPing(9001));
  b.receive(net.now, Net.addr(1, 0), data(9000));
  assert.equal(b.dropped.duplicate, 2, "a duplicate counts as data received (as in knet): window kept");
  b.receive(net.now, Net.addr(1, 0), untimedPing(9002));
  b.receive(net.now, Net.addr(1, 0), untimedPing(9003));
  b.receive(net.now, Net.addr(1, 0), data(9000));
  assert.equal(b.dropped.duplicate, 2, "no data between two untimed pings: window wiped, 9000 is new");
});

test("PMTUd: a probe of any size is answered with its first 9 bytes, our host id and type PMTUD_REPLY", () => {
  const net = new Net([1, 2]);
  const a = net.start(1);
  const probe = encodeKnetFrame({ type: KnetType.PMTUD, hostId: 2, maxVer: 0, pad: 0, link: 0, size: 1500, fill: new Uint8Array(1463) });
  a.receive(net.now, Net.addr(2, 0), probe);
  net.flush();
  const reply = net.wire.find((s) => s.from === 1 && s.frame[1] === KnetType.PMTUD_REPLY)!;
  assert.equal(reply.to, 2);
  assert.deepEqual([...reply.frame], [1, 0x84, 0, 1, 0, 0, 0, 0xdc, 0x05]);
});

test("hostile frames are dropped and counted, never thrown: unknown host, own id, unlisted source, bad link, unreachable, not for us, compressed, channel, garbage", () => {
  const net = new Net([1, 2, 3]);
  const a = net.start(1);
  net.start(2);
  const from2 = Net.addr(2, 0);
  const ping = (host: number, link = 0): Uint8Array => {
    const p = new Uint8Array(26);
    writePing(p, 0, KnetType.PING, host, link, 1, 0, 1);
    return p;
  };
  a.receive(0, from2, ping(9));
  a.receive(0, from2, ping(1));
  a.receive(0, "10.9.9.9", ping(2));
  a.receive(0, from2, ping(2, 5));
  const data = (host: number, target: number, mutate?: (f: Uint8Array) => void): Uint8Array => {
    const f = new Uint8Array(14 + 20);
    writeKnetHeader(f, 0, KnetType.DATA, host);
    writeDataFields(f, 0, 7, 1, 1, 0);
    const t = totem(20);
    t[9] = target;
    f.set(t, 14);
    mutate?.(f);
    return f;
  };
  a.receive(0, from2, data(2, 0));
  assert.equal(a.dropped.unreachable, 1, "DATA before the link is up");
  net.run(2000);
  a.receive(net.now, from2, data(2, 3));
  a.receive(net.now, from2, data(2, 0, (f) => (f[8] = 1)));
  a.receive(net.now, from2, data(2, 0, (f) => (f[13] = 1)));
  a.receive(net.now, "10.0.0.3", data(2, 0));
  a.receive(net.now, from2, Uint8Array.of(1, 0, 0, 2));
  a.receive(net.now, from2, Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9));
  assert.deepEqual(
    { ...a.dropped, pong_late: undefined },
    {
      unknown_host: 1,
      own_host_id: 1,
      unlisted_source: 1,
      no_such_link: 1,
      unreachable: 1,
      not_for_us: 1,
      compressed: 1,
      channel: 1,
      unknown_source: 1,
      decode_truncated: 1,
      decode_bad_version: 1,
      pong_late: undefined,
    },
  );
  assert.equal(net.delivered.get(1)!.length, 0);
});
