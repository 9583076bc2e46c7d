/**
 * The sync protocol (corosync 3 `sync.c`, totem-spec §7.1): after every regular
 * configuration, the members agree on the list of services that synchronise (SERVICE_BUILD),
 * then run each service's sync round in ascending service-id order, separated by barriers
 * (one BARRIER per member per service). When the last barrier completes, services are in sync
 * and the layer above releases application traffic.
 *
 * Pure: sends go through `SyncIo.mcast` (totempg group "sync"); a refused send is retried on
 * the next `pump`.
 */
import { ringIdEquals, type RingId } from "../../wire/totem/types.js";
import type { SyncHooks } from "../services/types.js";

export const SYNC_MSG_BARRIER = 0;
export const SYNC_MSG_SERVICE_BUILD = 1;
export const SYNC_BARRIER_BYTES = 32;
export const SYNC_SERVICE_BUILD_BYTES = 552;
/** `service_list[128]` in SERVICE_BUILD. */
export const SYNC_SERVICES_MAX = 128;

/** A participant: its id and hooks (a dummy for ids only peers announced). */
export interface SyncService {
  id: number;
  hooks: SyncHooks | undefined;
}

export interface SyncIo {
  /** Multicast a sync message (group "sync"); false when the queue is full. */
  mcast(message: Uint8Array): boolean;
  /** Sync completed for `ringId`: release application traffic. */
  completed(ringId: RingId): void;
  log(level: "notice" | "debug" | "warning", text: string): void;
}

type Phase = "idle" | "build" | "process" | "barrier_wait";

function writeRingId(b: Uint8Array, dv: DataView, off: number, r: RingId): void {
  dv.setUint32(off, r.rep, true);
  dv.setBigUint64(off + 4, BigInt.asUintN(64, r.seq), true);
  void b;
}

/** SERVICE_BUILD (552 bytes). */
export function encodeServiceBuild(ringId: RingId, services: readonly number[]): Uint8Array {
  const b = new Uint8Array(SYNC_SERVICE_BUILD_BYTES);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, SYNC_MSG_SERVICE_BUILD, true);
  dv.setInt32(8, SYNC_SERVICE_BUILD_BYTES, true);
  writeRingId(b, dv, 16, ringId);
  dv.setInt32(32, services.length, true);
  services.forEach((id, i) => dv.setInt32(40 + 4 * i, id, true));
  return b;
}

/** BARRIER (32 bytes). */
export function encodeBarrier(ringId: RingId): Uint8Array {
  const b = new Uint8Array(SYNC_BARRIER_BYTES);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, SYNC_MSG_BARRIER, true);
  dv.setInt32(8, SYNC_BARRIER_BYTES, true);
  writeRingId(b, dv, 16, ringId);
  return b;
}

export type SyncMessage =
  | { type: "barrier"; ringId: RingId }
  | { type: "service_build"; ringId: RingId; services: number[] };

/**
 * Decode a sync message; undefined when it is not one we can use (too short, unknown id,
 * absurd service count). corosync converts no byte order here; we honour the sender's.
 */
export function decodeSyncMessage(b: Uint8Array, bigEndian: boolean): SyncMessage | undefined {
  if (b.byteLength < SYNC_BARRIER_BYTES) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = !bigEndian;
  const id = dv.getInt32(0, le);
  const ringId: RingId = { rep: dv.getUint32(16, le), seq: dv.getBigUint64(20, le) };
  if (id === SYNC_MSG_BARRIER) return { type: "barrier", ringId };
  if (id !== SYNC_MSG_SERVICE_BUILD || b.byteLength < SYNC_SERVICE_BUILD_BYTES) return undefined;
  const n = dv.getInt32(32, le);
  if (n < 0 || n > SYNC_SERVICES_MAX) return undefined;
  const services: number[] = [];
  for (let i = 0; i < n; i++) services.push(dv.getInt32(40 + 4 * i, le));
  return { type: "service_build", ringId, services };
}

export class SyncProtocol {
  private phase: Phase = "idle";
  private ringId: RingId | undefined;
  private members: number[] = [];
  private transMembers: number[] = [];
  private received = new Set<number>();
  private services: SyncService[] = [];
  private index = 0;
  /** Messages waiting for queue room (SERVICE_BUILD, BARRIER). */
  private outbox: Uint8Array[] = [];
  private inProgress = false;

  constructor(
    /** This node's services that take part in sync, by id. */
    private readonly local: () => ReadonlyArray<{ id: number; hooks: SyncHooks }>,
    private readonly io: SyncIo,
  ) {}

  get active(): boolean {
    return this.inProgress;
  }

  /** Transitional configuration: remember its members (`sync_save_transitional`). */
  transitional(members: readonly number[]): void {
    this.abortIfRunning();
    this.inProgress = true;
    this.transMembers = [...members];
  }

  /** Regular configuration: start a round (`sync_start`). */
  regular(members: readonly number[], ringId: RingId): void {
    this.abortIfRunning();
    this.inProgress = true;
    this.ringId = { ...ringId };
    this.members = [...members];
    this.received.clear();
    this.index = 0;
    this.outbox = [];
    const local = [...this.local()].sort((a, b) => a.id - b.id);
    this.services = local.map((s) => ({ id: s.id, hooks: s.hooks }));
    this.phase = "build";
    this.outbox.push(encodeServiceBuild(ringId, local.map((s) => s.id)));
    const trans = this.transMembers.filter((n) => members.includes(n));
    for (const s of local) s.hooks.init(trans, members, ringId);
  }

  /** A sync message delivered in agreed order (`sync_deliver_fn`). */
  deliver(nodeId: number, message: Uint8Array, bigEndian: boolean): void {
    const m = decodeSyncMessage(message, bigEndian);
    if (m === undefined || this.ringId === undefined || !ringIdEquals(m.ringId, this.ringId)) return;
    if (!this.members.includes(nodeId)) return;
    if (m.type === "service_build") this.onServiceBuild(nodeId, m.services);
    else this.onBarrier(nodeId);
  }

  private onServiceBuild(nodeId: number, ids: readonly number[]): void {
    if (this.phase !== "build") return;
    for (const id of ids) {
      if (id < 0 || id > 0xffff || this.services.some((s) => s.id === id)) continue;
      // A round has at most as many services as one SERVICE_BUILD can list: hostile builds
      // listing new ids could otherwise grow it to 65536 (quadratic work, a never-ending round).
      if (this.services.length >= SYNC_SERVICES_MAX) break;
      this.services.push({ id, hooks: undefined }); // a service only peers have: a dummy here
    }
    this.services.sort((a, b) => a.id - b.id);
    this.received.add(nodeId);
    if (this.members.every((n) => this.received.has(n))) this.startProcess(0);
  }

  private startProcess(index: number): void {
    this.index = index;
    this.received.clear();
    if (index >= this.services.length) {
      this.finish();
      return;
    }
    this.phase = "process";
  }

  private onBarrier(nodeId: number): void {
    if (this.phase !== "process" && this.phase !== "barrier_wait") return;
    this.received.add(nodeId);
    if (!this.members.every((n) => this.received.has(n))) return;
    this.services[this.index]?.hooks?.activate();
    this.startProcess(this.index + 1);
  }

  private finish(): void {
    this.phase = "idle";
    this.inProgress = false;
    const ringId = this.ringId!;
    this.io.completed(ringId);
  }

  /**
   * Do the pending work: send what waits for queue room; run the current service's
   * `process` until it is done, then send the barrier. Call after every input.
   */
  pump(): void {
    while (this.outbox.length > 0) {
      if (!this.io.mcast(this.outbox[0]!)) return;
      this.outbox.shift();
    }
    if (this.phase !== "process") return;
    const s = this.services[this.index]!;
    if (s.hooks !== undefined && !s.hooks.process()) return;
    this.phase = "barrier_wait";
    this.outbox.push(encodeBarrier(this.ringId!));
    this.pump();
  }

  /** `sync_abort`: the configuration changed before the round completed. */
  private abortIfRunning(): void {
    if (!this.inProgress) return;
    if (this.phase === "process" || this.phase === "barrier_wait") this.services[this.index]?.hooks?.abort();
    this.phase = "idle";
    this.ringId = undefined;
    this.outbox = [];
  }
}
