/**
 * Valid inputs for the mutators: every Totem frame a seeded simulated cluster sends (the
 * real core objects and codecs: membership, tokens with retransmit lists, recovery copies,
 * fragmented messages, sync and exec traffic, a crash and a partition), the golden frames
 * captured from corosync 3.1.7 (test/fixtures/golden/udpu-frames.jsonl), their big-endian
 * renditions, and the layers inside them (totempg packets, group messages, sync and exec
 * messages). Deterministic and computed once per process.
 */
import { TotemSrp } from "../../src/core/totem/srp.js";
import type { SrpEffect } from "../../src/core/totem/types.js";
import { writeExecHeader, type ServiceId } from "../../src/core/services/types.js";
import { encodeBarrier, encodeServiceBuild } from "../../src/core/sync/sync.js";
import { decodeGroupMessage, decodePgPacket, isWholePiece } from "../../src/wire/pg/packet.js";
import { encodeTotem, tryDecodeTotem } from "../../src/wire/totem/codec.js";
import { MessageType } from "../../src/wire/totem/types.js";
import { NO_FAULTS, SimCluster, type NodeListener, type SimNode } from "../../sim/cluster.js";
import { Prng } from "../../sim/prng.js";
import { simTimers } from "../../sim/swarm.js";
import { makeMessage } from "../../sim/workload.js";
import { loadFixtureFrames } from "../golden/frames.js";
import { toBigEndian } from "../golden/byteswap.js";
import { toHex } from "./engine.js";

/** A SimCluster that records every frame its nodes send (encoded, as the network sees it). */
class CapturingCluster extends SimCluster {
  readonly frames: Uint8Array[] = [];
  private readonly tapped = new WeakSet<TotemSrp>();

  override step(n: SimNode, input: () => void): void {
    const srp = n.srp;
    if (!this.tapped.has(srp)) {
      this.tapped.add(srp);
      const take = srp.takeEffects.bind(srp);
      srp.takeEffects = (): SrpEffect[] => {
        const fx = take();
        for (const e of fx) if (e.kind === "unicast" || e.kind === "multicast") this.frames.push(encodeTotem(e.msg).slice());
        return fx;
      };
    }
    super.step(n, input);
  }
}

const QUIET: NodeListener = { deliver() {}, confchg() {} };

/** One exec message: a 16-byte corosync header for `service`/`fn` and `n` payload bytes. */
export function execMessage(service: number, fn: number, n: number, fill: number): Uint8Array {
  const m = new Uint8Array(16 + n).fill(fill & 0xff);
  writeExecHeader(m, service as ServiceId, fn, m.byteLength);
  return m;
}

/**
 * Run the capture: 3 nodes, some loss and duplication (retransmit lists, recovery copies),
 * a workload of small, fragmented and very large messages to groups "a" (exec-style and
 * workload bodies) and "sync" (barriers, service builds), node 3 crashed and restarted, a
 * partition healed. Returns the frames in send order (duplicates removed).
 */
function captureSimulator(seed: number): Uint8Array[] {
  const ids = [1, 2, 3];
  const rng = new Prng(seed);
  const c = new CapturingCluster(ids, simTimers(3, 1000), rng.fork(), QUIET);
  c.faults = { ...NO_FAULTS, lossRate: 0.04, dupRate: 0.03, jitterMs: 0.4 };
  for (const id of ids) c.at(rng.int(0, 50), () => c.start(id));
  let seq = 0;
  const send = (n: SimNode): void => {
    if (!n.up || c.isPaused(n) || n.srp.waitingTransAck) return;
    const r = rng.int(0, 99);
    const ring = n.srp.ringId;
    let group = "a";
    let body: Uint8Array;
    if (r < 40) body = makeMessage(n.id, n.incarnation, seq++, rng.int(20, 300));
    else if (r < 55) body = makeMessage(n.id, n.incarnation, seq++, rng.int(1500, 5000));
    else if (r < 58) body = makeMessage(n.id, n.incarnation, seq++, rng.int(30_000, 70_000));
    else if (r < 85) body = execMessage(rng.pick([0, 1, 2, 3, 5]), rng.int(0, 12), rng.int(0, 200), r);
    else if (r < 93) {
      group = "sync";
      body = encodeBarrier(ring);
    } else {
      group = "sync";
      body = encodeServiceBuild(ring, [0, 1, 2, 3, 5].slice(0, rng.int(0, 5)));
    }
    c.step(n, () => void n.pg.mcastGroup(c.now, group, [body], rng.chance(0.2) ? 1 : 0));
  };
  for (let t = 100; t < 11_000; t += 15) {
    c.at(t, () => {
      for (const id of ids) if (rng.chance(0.5)) send(c.node(id));
    });
  }
  c.at(3000, () => c.crash(3));
  c.at(4500, () => c.start(3));
  c.at(6500, () => c.partition([[1], [2, 3]]));
  c.at(8000, () => c.heal());
  c.at(9500, () => c.stop(2));
  c.at(10_000, () => c.start(2));
  c.runUntil(12_000);
  return dedupe(c.frames);
}

function dedupe(frames: readonly Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (const f of frames) {
    const k = toHex(f);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(f);
  }
  return out;
}

/** Keep at most `perKind` frames of each kind (type, encapsulation, size class), spread over the run. */
function stratify(frames: readonly Uint8Array[], perKind: number): Uint8Array[] {
  const kinds = new Map<string, Uint8Array[]>();
  for (const f of frames) {
    const k = `${f[0]}/${f[3]}/${f[4]}/${f.byteLength < 100 ? "s" : f.byteLength < 1000 ? "m" : "l"}`;
    const list = kinds.get(k) ?? [];
    list.push(f);
    kinds.set(k, list);
  }
  const out: Uint8Array[] = [];
  for (const list of kinds.values()) {
    const step = Math.max(1, Math.floor(list.length / perKind));
    for (let i = 0; i < list.length && out.length < 100_000; i += step) out.push(list[i]!);
  }
  return out;
}

let simCache: Uint8Array[] | undefined;

/** Every distinct frame of the simulator capture (seed fixed). */
export function simulatorFrames(): Uint8Array[] {
  simCache ??= captureSimulator(0xf022);
  return simCache;
}

let totemCache: Uint8Array[] | undefined;

/**
 * The Totem corpus: the simulator capture (at most 120 frames of each kind), the golden
 * corosync 3.1.7 frames, and big-endian renditions of a sample of both.
 */
export function totemFrames(): Uint8Array[] {
  if (totemCache !== undefined) return totemCache;
  const sim = stratify(simulatorFrames(), 120);
  const golden = stratify(
    loadFixtureFrames().map((f) => f.bytes),
    60,
  );
  const le = [...sim, ...golden];
  const be: Uint8Array[] = [];
  for (let i = 0; i < le.length; i += 7) {
    try {
      be.push(toBigEndian(le[i]!));
    } catch {
      // an encapsulated copy of a big-endian inner frame cannot be swapped again: skip it
    }
  }
  totemCache = dedupe([...le, ...be]);
  return totemCache;
}

/** A normal MCAST's payload and the byte order it is in. */
export interface PgPayload {
  payload: Uint8Array;
  littleEndian: boolean;
}

let pgCache: PgPayload[] | undefined;

/** The totempg packets inside every normal MCAST of the Totem corpus. */
export function pgPayloads(): PgPayload[] {
  if (pgCache !== undefined) return pgCache;
  const out: PgPayload[] = [];
  for (const f of totemFrames()) {
    const r = tryDecodeTotem(f);
    if (!r.ok || r.msg.type !== MessageType.MCAST || r.msg.encapsulated !== 2) continue;
    out.push({ payload: r.msg.payload.slice(), littleEndian: r.msg.bigEndian !== true });
  }
  pgCache = out;
  return out;
}

/** A whole application message (group header + body) and its byte order. */
export interface AppMessage {
  message: Uint8Array;
  littleEndian: boolean;
  group: string;
  body: Uint8Array;
}

let appCache: AppMessage[] | undefined;

/** The whole application messages (one-packet pieces) in the totempg corpus. */
export function appMessages(): AppMessage[] {
  if (appCache !== undefined) return appCache;
  const out: AppMessage[] = [];
  for (const { payload, littleEndian } of pgPayloads()) {
    let p;
    try {
      p = decodePgPacket(payload, littleEndian);
    } catch {
      continue;
    }
    p.pieces.forEach((piece, i) => {
      if (!isWholePiece(p, i)) return;
      try {
        const g = decodeGroupMessage(piece, littleEndian);
        const name = g.groups.length > 0 ? String.fromCharCode(...g.groups[0]!) : "";
        out.push({ message: piece.slice(), littleEndian, group: name, body: g.body.slice() });
      } catch {
        // not a group message: not a whole message after all
      }
    });
  }
  appCache = out;
  return out;
}
