/**
 * The contract between corosync's service engines (cmap 0, cfg 1, cpg 2, quorum 3,
 * votequorum 5) and the service host that runs them above totempg (corosync `main.c` +
 * `service.c` + `sync.c`). Pure: engines get time, randomness-free scheduling and sending
 * through `ServiceApi`, never from Node.
 */
import type { ConfigurationChange } from "../totem/types.js";
import type { RingId } from "../../wire/totem/types.js";

/** corosync service ids (`enum corosync_service_types`). */
export const ServiceId = {
  CMAP: 0,
  CFG: 1,
  CPG: 2,
  QUORUM: 3,
  PLOAD: 4,
  VOTEQUORUM: 5,
  MON: 6,
  WD: 7,
} as const;
export type ServiceId = (typeof ServiceId)[keyof typeof ServiceId];

/** Size of `struct qb_ipc_request_header` (id @0, size @8, both aligned(8)). */
export const EXEC_HEADER_BYTES = 16;

/** Where an exec message came from. */
export interface ExecSource {
  /** The originating node. */
  nodeId: number;
  /** The originator wrote native big-endian fields (swap before reading). */
  bigEndian: boolean;
}

/**
 * The sync callbacks of a service (`sync_init`, `sync_process`, `sync_activate`,
 * `sync_abort`; totem-spec §7.1). Called by the host's sync protocol in service-id order.
 */
export interface SyncHooks {
  /** A new regular configuration: `transMembers` = transitional ∩ new members. */
  init(transMembers: readonly number[], members: readonly number[], ringId: RingId): void;
  /** Send this round's sync messages. Return true when done, false to be called again later (e.g. the queue was full). */
  process(): boolean;
  /** Every member finished processing: apply the synchronised state. */
  activate(): void;
  /** The configuration changed before the round completed. */
  abort(): void;
}

/** A service engine as the host runs it. */
export interface ServiceEngine {
  readonly id: ServiceId;
  /** corosync's engine name, e.g. `corosync_cpg` (cmap `internal_configuration.service.N.name`). */
  readonly name: string;
  /**
   * An exec message of this service delivered in agreed order (totempg group "a").
   * `message` is the whole message, starting with its 16-byte header; `fn` is the low 16 bits
   * of the header id. Must tolerate hostile input: check lengths, ignore what does not parse.
   */
  exec(fn: number, message: Uint8Array, from: ExecSource): void;
  /** Every configuration change (transitional and regular), before sync starts. */
  confchg?(change: ConfigurationChange): void;
  /** Present when the service takes part in sync. */
  readonly sync?: SyncHooks;
  /**
   * Called by the host after every input (after sync's own work): send what waited for
   * queue room. Optional.
   */
  pump?(): void;
}

/** A timer handle from `ServiceApi.schedule`. */
export interface TimerHandle {
  cancel(): void;
}

/** What the host gives every engine. */
export interface ServiceApi {
  /** This node's id. */
  readonly nodeId: number;
  /** Current time in ms (driver time: real in the daemon, virtual in the simulator). */
  now(): number;
  /**
   * Multicast an exec message (header included) in agreed order (`guarantee` 1: safe).
   * Returns false when the send queue has no room; nothing was queued (retry later).
   */
  mcast(message: Uint8Array, guarantee?: 0 | 1): boolean;
  /** Could a message of this many bytes be queued now? */
  sendOk(bytes: number): boolean;
  /** Run `fn` after `ms` (driver time). */
  schedule(ms: number, fn: () => void): TimerHandle;
  log(level: "error" | "warning" | "notice" | "info" | "debug", subsys: string, text: string): void;
}

/** Build the 16-byte exec header: id = service << 16 | fn, size = whole message. */
export function writeExecHeader(buf: Uint8Array, service: ServiceId, fn: number, size: number): void {
  const dv = new DataView(buf.buffer, buf.byteOffset, EXEC_HEADER_BYTES);
  dv.setInt32(0, (service << 16) | fn, true);
  dv.setInt32(4, 0, true);
  dv.setInt32(8, size, true);
  dv.setInt32(12, 0, true);
}
