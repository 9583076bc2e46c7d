/**
 * The layers above the SRP, fed hostile bytes as the SRP would hand them up:
 * - `totempg`: `TotemPg.deliver` (in-place packet parsing, reassembly, group dispatch);
 * - `sync-message`: `decodeSyncMessage`; `sync`: `SyncProtocol.deliver` + `pump`;
 * - `host`: `ServiceHost.deliver` (exec routing to the engines of `HOST_ENGINES`, sync).
 *
 * The stateful targets read a 5-byte prefix from each input: `flags` (u8) and the sender's
 * node id (u32 LE), then the bytes the layer gets. Flags (per target, see each `feed`):
 * 0x01 big-endian sender; 0x02 aim (patch the ring id to the current one, so that a hostile
 * message passes the cheap checks); 0x04 map the node id onto a member; 0xc8 (all three bits)
 * configuration change first; 0x10 / 0x20 target-specific. The mutators fuzz the prefix like the rest.
 */
import { TotemPg, type PgLower } from "../../../src/core/pg/totempg.js";
import { ServiceHost, type HostEnv } from "../../../src/core/services/host.js";
import type { ServiceApi, ServiceEngine, SyncHooks, TimerHandle } from "../../../src/core/services/types.js";
import { decodeSyncMessage, encodeBarrier, encodeServiceBuild, SyncProtocol, SYNC_SERVICES_MAX } from "../../../src/core/sync/sync.js";
import { MESSAGE_SIZE_MAX, PROCESSOR_COUNT_MAX } from "../../../src/core/totem/constants.js";
import type { ConfigurationChange } from "../../../src/core/totem/types.js";
import { decodeGroupMessage, encodeGroupMessage, encodePgPacket } from "../../../src/wire/pg/packet.js";
import { ringIdEquals, type RingId } from "../../../src/wire/totem/types.js";
import type { Prng } from "../../../sim/prng.js";
import { appMessages, execMessage, pgPayloads } from "../corpus.js";
import { catchDecode, decoderTarget } from "../decoder.js";
import { shifted } from "../fields.js";
import { concat, randomBytes, writeUint } from "../mutate.js";
import type { Field, FuzzContext, FuzzTarget } from "../target.js";
import { REAL_ENGINES } from "./engines.js";
import { execFields, groupFields, pgFields, syncFields } from "./layouts.js";

// ------------------------------------------------------------------------------ the prefix

export const PREFIX_BYTES = 5;
export const FLAG = { bigEndian: 0x01, aim: 0x02, member: 0x04, confchg: 0xc8, x10: 0x10, x20: 0x20 } as const;

/**
 * Whether `flags` has every bit of `flag`. A configuration change needs three bits (0xc8), so
 * that random prefixes rarely empty the state that hostile inputs build up.
 */
export function has(flags: number, flag: number): boolean {
  return (flags & flag) === flag;
}

/** Split an input into its prefix and the bytes for the layer. */
export function splitPrefix(input: Uint8Array): { flags: number; nodeId: number; body: Uint8Array } {
  const flags = input[0] ?? 0;
  const nodeId = ((input[1] ?? 0) | ((input[2] ?? 0) << 8) | ((input[3] ?? 0) << 16) | ((input[4] ?? 0) << 24)) >>> 0;
  return { flags, nodeId, body: input.subarray(Math.min(PREFIX_BYTES, input.byteLength)) };
}

export function withPrefix(flags: number, nodeId: number, body: Uint8Array): Uint8Array {
  const p = new Uint8Array(PREFIX_BYTES);
  p[0] = flags;
  writeUint(p, 1, 4, true, nodeId);
  return concat(p, body);
}

const PREFIX_FIELDS: Field[] = [
  { name: "prefix.flags", at: 0, width: 1, le: true, kind: "enum", valid: [0, 1, 2, 3, 4, 6, 7, 0xc8, 0x10, 0x20, 0xff] },
  { name: "prefix.nodeid", at: 1, width: 4, le: true, kind: "value" },
];

/** A sender id for generated inputs: mostly a member, sometimes anything. */
function senderId(rng: Prng): number {
  return rng.chance(0.5) ? rng.int(1, 4) : rng.u32();
}

function ringIdOf(seq: bigint): RingId {
  return { rep: 1, seq };
}

/** Write a ring id (rep u32, seq u64) at `at` in the given byte order, in a copy. */
function patchRingId(b: Uint8Array, at: number, r: RingId, le: boolean): Uint8Array {
  if (b.byteLength < at + 12) return b;
  const out = b.slice();
  writeUint(out, at, 4, le, r.rep);
  writeUint(out, at + 4, 8, le, r.seq);
  return out;
}

/** A totempg lower that accepts everything up to a bound (the SRP's new-message queue). */
class QueueLower implements PgLower {
  queue: Uint8Array[] = [];
  mcast(_now: number, payload: Uint8Array, _g: 0 | 1, opts?: { force?: boolean }): boolean {
    if (opts?.force !== true && this.queue.length >= 1000) return false;
    this.queue.push(payload);
    return true;
  }
  avail(): number {
    return Math.max(0, 1000 - this.queue.length);
  }
  holdCancel(): void {}
  takeUnsent(): Array<{ payload: Uint8Array; guarantee: 0 | 1 }> {
    return this.queue.splice(0).map((payload) => ({ payload, guarantee: 0 }));
  }
  transAck(): void {}
}

// ------------------------------------------------------------------------------ totempg

interface AssemblyView {
  parts: Uint8Array[];
  size: number;
}

/** totempg's private assembly maps (read-only access for the bounds oracles). */
function assembliesOf(pg: TotemPg): Array<Map<number, AssemblyView>> {
  const p = pg as unknown as { assemblies: Map<number, AssemblyView>; assembliesTrans: Map<number, AssemblyView> };
  return [p.assemblies, p.assembliesTrans];
}

/**
 * The bounds of totempg's receive state: each assembly map holds at most
 * `PROCESSOR_COUNT_MAX` senders; an assembly holds at most `MESSAGE_SIZE_MAX` bytes, and
 * its part list grows only with bytes (a part holds at least one byte), so memory is
 * O(senders × MESSAGE_SIZE_MAX).
 */
export function checkPgBounds(pg: TotemPg, ctx: FuzzContext): void {
  for (const set of assembliesOf(pg)) {
    ctx.check(set.size <= PROCESSOR_COUNT_MAX, "pg-assembly-count", () => `an assembly map holds ${set.size} senders (PROCESSOR_COUNT_MAX ${PROCESSOR_COUNT_MAX})`);
    for (const [id, a] of set) {
      let sum = 0;
      for (const p of a.parts) sum += p.byteLength;
      ctx.check(sum === a.size && a.size <= MESSAGE_SIZE_MAX, "pg-assembly-bytes", () => `assembly of ${id}: ${a.size} bytes counted, ${sum} held`);
      ctx.check(a.parts.length <= a.size + 1, "pg-assembly-parts", () => `assembly of ${id} keeps ${a.parts.length} parts for ${a.size} bytes`);
    }
  }
}

/** A regular configuration change of `members` (transitional first), as the SRP gives it. */
function confchgPair(members: number[], left: number[], ringId: RingId): ConfigurationChange[] {
  return [
    { type: "transitional", members: members.filter((m) => !left.includes(m)), left, joined: [], ringId },
    { type: "regular", members, left: [], joined: [], ringId },
  ];
}

/**
 * A generated totempg packet: pieces of whole messages, fragment chains (one piece that both
 * continues and is continued, often empty or long), from members and from ever-new node ids.
 */
function generatePgInput(rng: Prng): Uint8Array {
  const apps = appMessages();
  // A configuration change (which empties every assembly) only rarely: hostile state builds up between them.
  const flags = (rng.chance(0.02) ? FLAG.confchg : rng.pick([0, 0, 0, 0, FLAG.x10, FLAG.x20, FLAG.aim])) & ~FLAG.bigEndian;
  if (rng.chance(0.3)) {
    const id = rng.pick([1, 1, 2, 2]);
    const piece = rng.chance(0.3) ? new Uint8Array(0) : rng.chance(0.6) ? randomBytes(rng, rng.int(1, 40)) : randomBytes(rng, rng.int(1400, 1450));
    return withPrefix(flags & ~FLAG.confchg, rng.int(1, 4), encodePgPacket(id, id, [piece]));
  }
  const n = rng.pick([1, 1, 1, 2, 3, rng.int(1, 40)]);
  const pieces = Array.from({ length: n }, () => {
    const r = rng.int(0, 9);
    if (r < 5) return rng.pick(apps).message;
    if (r < 7) return new Uint8Array(0);
    if (r < 8) return randomBytes(rng, rng.int(1400, 1450));
    return randomBytes(rng, rng.int(1, 40));
  });
  const frag = rng.pick([0, 0, 1, 1, 2, 0xff, rng.int(0, 255)]);
  const cont = rng.pick([0, 0, 1, 1, 2, 0xff, rng.int(0, 255)]);
  // Mostly ever-new sender ids: hostile ids are what a forger controls.
  return withPrefix(flags, rng.chance(0.7) ? rng.u32() : senderId(rng), encodePgPacket(frag, cont, pieces));
}

const pgCorpus = (): Uint8Array[] =>
  pgPayloads().map((p, i) => withPrefix(p.littleEndian ? 0 : FLAG.bigEndian, (i % 3) + 1, p.payload));

export const totemPgTarget: FuzzTarget = {
  name: "totempg",
  about: "TotemPg.deliver (reassembly, groups) with hostile packets from any node id; bounded assembly state, no exception",
  episode: 10_000,
  maxBytes: 66_000,
  generateShare: 40,
  corpus: memo(pgCorpus),
  fields: (b) => [...PREFIX_FIELDS, ...pgFields(b, PREFIX_BYTES, !((b[0] ?? 0) & FLAG.bigEndian))],
  generate: generatePgInput,
  open(_rng, ctx) {
    const lower = new QueueLower();
    let ringSeq = 4n;
    const members = [1, 2, 3];
    const pg = new TotemPg({
      netMtu: 1410,
      nodeId: 1,
      lower,
      upper: {
        deliver: (_from, _group, body) => {
          ctx.check(body.byteLength <= MESSAGE_SIZE_MAX, "pg-deliver-size", () => `delivered a ${body.byteLength}-byte message`);
        },
        confchg: () => {},
      },
    });
    for (const c of confchgPair(members, [], ringIdOf(ringSeq))) pg.confchg(c);
    pg.waitingTransAck(false);
    let waiting = false;
    let sent = 0;
    let fed = 0;
    let lastConfchg = 0;
    return {
      feed(input) {
        fed++;
        const { flags, nodeId, body } = splitPrefix(input);
        if (has(flags, FLAG.aim)) pg.waitingTransAck((waiting = !waiting));
        // At most one configuration change per 5000 inputs: a ring reconfigures rarely, and
        // each change empties the assemblies that hostile senders build up.
        if (has(flags, FLAG.confchg) && fed - lastConfchg >= 5000) {
          lastConfchg = fed;
          ringSeq += 4n;
          for (const c of confchgPair(members, has(flags, FLAG.member) ? [nodeId] : [], ringIdOf(ringSeq))) pg.confchg(c);
        }
        if (has(flags, FLAG.x10)) {
          // An own message (fragmented when long): exercises the in-flight list and the re-pack.
          pg.mcastGroup(sent, "a", [new Uint8Array((body.byteLength * 37) % 5000)]);
          sent++;
        }
        if (has(flags, FLAG.x20)) for (const p of lower.queue.splice(0, 4)) pg.deliver(1, p, false);
        const before = { ...pg.stats };
        pg.deliver(nodeId, body, has(flags, FLAG.bigEndian));
        checkPgBounds(pg, ctx);
        const s = pg.stats;
        if (s.rx_not_member > before.rx_not_member) return "not_member";
        if (s.rx_bad_packets > before.rx_bad_packets) return "bad_packet";
        if (s.rx_bad_messages > before.rx_bad_messages) return "bad_message";
        if (s.rx_thrown_away > before.rx_thrown_away) return "thrown_away";
        if (s.rx_messages > before.rx_messages) return "delivered";
        return "held";
      },
    };
  },
};

// ------------------------------------------------------------------------------ sync

function syncCorpusMessages(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of appMessages()) if (m.group === "sync" && m.littleEndian) out.push(m.body);
  const ring = { rep: 1, seq: 8n };
  out.push(encodeBarrier(ring), encodeServiceBuild(ring, [0, 1, 2, 3, 5]), encodeServiceBuild(ring, []));
  out.push(encodeServiceBuild(ring, Array.from({ length: 128 }, (_, i) => i)));
  return out;
}

/** A generated sync message: a barrier or a service build of up to 128 plausible ids. */
function generateSyncMessage(rng: Prng, ring: RingId): Uint8Array {
  if (rng.chance(0.4)) return encodeBarrier(ring);
  const n = rng.pick([0, 1, 5, 127, 128, rng.int(0, 128)]);
  const ids = Array.from({ length: n }, () => (rng.chance(0.8) ? rng.int(0, 0xffff) : rng.u32() | 0));
  return encodeServiceBuild(ring, ids);
}

export const syncMessageTarget = decoderTarget({
  name: "sync-message",
  about: "decodeSyncMessage (both byte orders): never throws; re-encoding an accepted message decodes to it again",
  corpus: syncCorpusMessages,
  fields: (b) => syncFields(b, 0, true),
  generate: (rng) => generateSyncMessage(rng, { rep: rng.int(0, 3), seq: BigInt(rng.int(0, 12)) }),
  decode: (input, ctx) => {
    let label = "";
    for (const be of [false, true]) {
      const m = decodeSyncMessage(input, be);
      if (!be) label = m === undefined ? "ignored" : m.type;
      if (m === undefined) continue;
      const re = m.type === "barrier" ? encodeBarrier(m.ringId) : encodeServiceBuild(m.ringId, m.services);
      const back = decodeSyncMessage(re, false);
      ctx.check(back !== undefined && JSON.stringify(back, big) === JSON.stringify(m, big), "sync-round-trip", () => `re-encoded ${m.type} decodes differently`);
      if (m.type === "service_build") ctx.check(m.services.length <= SYNC_SERVICES_MAX, "sync-limits", () => `${m.services.length} services`);
    }
    return label;
  },
  maxBytes: 2048,
});

function big(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}

interface SyncView {
  phase: string;
  services: unknown[];
  outbox: unknown[];
  received: Set<number>;
  members: number[];
}

/**
 * Bounds of the sync state: no more services than a SERVICE_BUILD can list
 * (`SYNC_SERVICES_MAX`), a short outbox, received ⊆ members.
 */
function checkSyncBounds(sync: SyncProtocol, ctx: FuzzContext): void {
  const s = sync as unknown as SyncView;
  ctx.check(s.services.length <= SYNC_SERVICES_MAX, "sync-services", () => `${s.services.length} services in the round (SYNC_SERVICES_MAX ${SYNC_SERVICES_MAX})`);
  ctx.check(s.outbox.length <= 4, "sync-outbox", () => `${s.outbox.length} messages waiting to be sent`);
  for (const n of s.received) ctx.check(s.members.includes(n), "sync-received", () => `received from non-member ${n}`);
}

function syncHooks(id: number, log: number[]): SyncHooks {
  return {
    init: () => {},
    process: () => true,
    activate: () => void log.push(id),
    abort: () => {},
  };
}

const syncCorpus = (): Uint8Array[] => syncCorpusMessages().map((m, i) => withPrefix(FLAG.aim | FLAG.member, i, m));

export const syncTarget: FuzzTarget = {
  name: "sync",
  about: "SyncProtocol.deliver + pump with hostile messages from members and strangers; bounded state, ordered activation",
  episode: 400,
  maxBytes: 2048,
  corpus: memo(syncCorpus),
  fields: (b) => [...PREFIX_FIELDS, ...shifted(syncFields(b, PREFIX_BYTES, true), 0)],
  generate: (rng) => withPrefix(rng.pick([FLAG.aim | FLAG.member, FLAG.aim, FLAG.aim | FLAG.member | FLAG.x10, rng.int(0, 63)]), senderId(rng), generateSyncMessage(rng, ringIdOf(8n))),
  open(_rng, ctx) {
    const activated: number[] = [];
    const local = [0, 2, 5].map((id) => ({ id, hooks: syncHooks(id, activated) }));
    let refuse = false;
    let ring = ringIdOf(8n);
    let completedRings = 0;
    const members = [1, 2, 3];
    const sync = new SyncProtocol(() => local, {
      mcast: () => !refuse,
      completed: (r) => {
        ctx.check(ringIdEquals(r, ring), "sync-completed-ring", () => `completed a round of another ring`);
        completedRings++;
      },
      log: () => {},
    });
    const newRing = (seq: bigint): void => {
      ring = ringIdOf(seq);
      activated.length = 0;
      completedRings = 0;
      sync.transitional(members);
      sync.regular(members, ring);
    };
    newRing(8n);
    return {
      feed(input) {
        const { flags, nodeId, body } = splitPrefix(input);
        const le = !has(flags, FLAG.bigEndian);
        if (has(flags, FLAG.confchg)) newRing(ring.seq + 4n);
        refuse = has(flags, FLAG.x10);
        const msg = has(flags, FLAG.aim) ? patchRingId(body, 16, ring, le) : body;
        const from = has(flags, FLAG.member) ? members[nodeId % members.length]! : nodeId;
        sync.deliver(from, msg, !le);
        sync.pump();
        checkSyncBounds(sync, ctx);
        ctx.check(completedRings <= 1, "sync-completed-once", () => `round completed ${completedRings} times`);
        ctx.check(activated.every((id, i) => i === 0 || activated[i - 1]! < id), "sync-activation-order", () => `services activated in order ${activated.join(",")}`);
        const s = sync as unknown as SyncView;
        return `${s.phase}:${decodeSyncMessage(msg, !le)?.type ?? "ignored"}`;
      },
    };
  },
};

// ------------------------------------------------------------------------------ host

/**
 * Service engines the `host` target runs: the real cmap, cfg, cpg, quorum and votequorum
 * engines (engines.ts); a probe engine fills every service id no real engine has.
 */
export const HOST_ENGINES: Array<(api: ServiceApi) => ServiceEngine> = [...REAL_ENGINES];

/** A stand-in engine: checks what the host hands it and takes part in sync. */
function probeEngine(id: number, ctx: FuzzContext): ServiceEngine {
  return {
    id: id as ServiceEngine["id"],
    name: `probe_${id}`,
    exec(fn, message, from) {
      ctx.check(message.byteLength >= 16 && fn >= 0 && fn <= 0xffff, "host-exec-args", () => `exec fn ${fn} with a ${message.byteLength}-byte message`);
      ctx.check(Number.isInteger(from.nodeId), "host-exec-args", () => `exec from ${from.nodeId}`);
    },
    sync: { init: () => {}, process: () => true, activate: () => {}, abort: () => {} },
  };
}

function hostCorpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const apps = appMessages();
  for (let i = 0; i < apps.length; i += Math.max(1, Math.floor(apps.length / 300))) {
    const m = apps[i]!;
    out.push(withPrefix((m.littleEndian ? 0 : FLAG.bigEndian) | FLAG.member | (m.group === "sync" ? FLAG.aim : 0), (i % 3) + 1, m.message));
  }
  for (const s of [0, 1, 2, 3, 4, 5, 6, 7]) out.push(withPrefix(FLAG.member, s, encodeGroupMessage("a", execMessage(s, s, 8 * s, s))));
  return out;
}

function hostFields(b: Uint8Array): Field[] {
  const le = ((b[0] ?? 0) & FLAG.bigEndian) === 0;
  const g = groupFields(b, PREFIX_BYTES, le);
  const count = b.byteLength >= PREFIX_BYTES + 2 ? (le ? b[PREFIX_BYTES]! | (b[PREFIX_BYTES + 1]! << 8) : (b[PREFIX_BYTES]! << 8) | b[PREFIX_BYTES + 1]!) : 0;
  let bodyAt = PREFIX_BYTES + 2 + 2 * count;
  for (let i = 0; i < count && bodyAt < b.byteLength; i++) {
    const at = PREFIX_BYTES + 2 + 2 * i;
    bodyAt += le ? b[at]! | ((b[at + 1] ?? 0) << 8) : (b[at]! << 8) | (b[at + 1] ?? 0);
  }
  const body = [...execFields(b, bodyAt, le), ...syncFields(b, bodyAt, le)];
  return [...PREFIX_FIELDS, ...g, ...body];
}

export const hostTarget: FuzzTarget = {
  name: "host",
  about: "ServiceHost.deliver (exec routing by service id, sync) with hostile group messages; engines of HOST_ENGINES plus probes",
  episode: 500,
  maxBytes: 8192,
  corpus: memo(hostCorpus),
  fields: hostFields,
  generate: (rng) => {
    const body = rng.chance(0.5) ? execMessage(rng.pick([0, 1, 2, 3, 5, 7, 8, 0xffff]), rng.int(0, 20), rng.int(0, 64), rng.u32()) : generateSyncMessage(rng, ringIdOf(8n));
    const group = rng.chance(0.8) ? (rng.chance(0.5) ? "a" : "sync") : ["a", "sync", "cpg"];
    return withPrefix(rng.pick([FLAG.member, FLAG.member | FLAG.aim, FLAG.confchg, FLAG.x20, rng.int(0, 63)]), senderId(rng), encodeGroupMessage(group, body));
  },
  open(_rng, ctx) {
    let now = 0;
    const timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
    const env: HostEnv = {
      now: () => now,
      schedule: (ms, fn): TimerHandle => {
        const t = { at: now + ms, fn, live: true };
        timers.push(t);
        return { cancel: () => void (t.live = false) };
      },
      log: () => {},
    };
    const host = new ServiceHost(1, env);
    const engines = HOST_ENGINES.map((f) => f(host.api()));
    for (const e of engines) host.register(e);
    for (const id of [0, 1, 2, 3, 5]) if (!host.engines.has(id)) host.register(probeEngine(id, ctx));
    const pg = new TotemPg({ netMtu: 1410, nodeId: 1, lower: new QueueLower(), upper: host });
    host.attach(pg);
    const members = [1, 2, 3];
    let ring = ringIdOf(8n);
    const newRing = (seq: bigint): void => {
      ring = ringIdOf(seq);
      for (const c of confchgPair(members, [], ring)) host.confchg(c);
      host.afterInput(now);
    };
    newRing(8n);
    return {
      feed(input) {
        now += 1;
        const { flags, nodeId, body } = splitPrefix(input);
        const le = !has(flags, FLAG.bigEndian);
        if (has(flags, FLAG.confchg)) newRing(ring.seq + 4n);
        if (has(flags, FLAG.x20)) {
          now += 5000;
          for (const t of timers.splice(0)) if (t.live && t.at <= now) t.fn();
          ctx.check(timers.length <= 10_000, "host-timers", () => `${timers.length} timers pending`);
        }
        const g = catchDecode(() => decodeGroupMessage(body, le));
        if (!g.ok) return `group:${g.code}`;
        const from = has(flags, FLAG.member) ? members[nodeId % members.length]! : nodeId;
        const before = { ...host.stats };
        for (const name of g.value.groups) {
          const text = String.fromCharCode(...name);
          const msg = text === "sync" && has(flags, FLAG.aim) ? patchRingId(g.value.body, 16, ring, le) : g.value.body;
          host.deliver(from, text, msg, !le);
        }
        host.afterInput(now);
        checkSyncBounds(host.sync, ctx);
        const s = host.stats;
        if (s.exec_delivered > before.exec_delivered) return "exec";
        if (s.exec_unknown_service > before.exec_unknown_service) return "unknown_service";
        if (s.exec_too_short > before.exec_too_short) return "too_short";
        return g.value.groups.length === 0 ? "no_group" : "other";
      },
    };
  },
};

/** Cache a corpus builder's result. */
export function memo<T>(f: () => T): () => T {
  let v: T | undefined;
  let done = false;
  return () => {
    if (!done) {
      v = f();
      done = true;
    }
    return v as T;
  };
}
