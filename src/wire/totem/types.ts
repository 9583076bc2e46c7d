/**
 * Decoded Totem SRP messages of corosync 3.x (totem-spec §3). This file is the contract
 * between the codecs (`src/wire/totem/codec.ts`) and the SRP core (`src/core/totem/`).
 *
 * Node ids, ring seqs and message seqs follow corosync's C names in camelCase. Fields that
 * corosync leaves uninitialised on the wire (`targetNodeId`) are kept so that a decoded
 * message re-encodes to the very same bytes; we always emit 0 in frames we originate.
 */

/** `enum message_type` (totem-spec §3). */
export const MessageType = {
  ORF_TOKEN: 0,
  MCAST: 1,
  MEMB_MERGE_DETECT: 2,
  MEMB_JOIN: 3,
  MEMB_COMMIT_TOKEN: 4,
  TOKEN_HOLD_CANCEL: 5,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** `encapsulated` values of an MCAST header (totem-spec §3.1). */
export const Encapsulation = {
  /** A recovery copy: the payload is a complete old-ring MCAST. */
  ENCAPSULATED: 1,
  /** A normal ring message. */
  NOT_ENCAPSULATED: 2,
} as const;

export const TOTEM_MAGIC = 0xc070;
export const TOTEM_VERSION = 3;

/** Wire limits (totem-spec §1.3, §3). Every count off the wire is checked against these. */
export const LIMITS = {
  /** `PROCESSOR_COUNT_MAX`: most members in a ring; longest proc/failed/commit lists. */
  processorCountMax: 384,
  /** `RETRANSMIT_ENTRIES_MAX`: rtr entries in one ORF token. */
  rtrEntriesMax: 30,
  /** An ORF token is copied into a 1500-byte buffer by corosync. */
  orfTokenBytesMax: 1500,
  /** `FRAME_SIZE_MAX`: longest MCAST accepted. */
  mcastBytesMax: 65536,
  /** udp/udpu receive buffer: longer datagrams are dropped. */
  datagramBytesMax: 136192,
  /** totempg reassembly limit (`MESSAGE_SIZE_MAX`). */
  messageBytesMax: 1024 * 1024,
} as const;

/** Fixed sizes of the packed 3.x structs (totem-spec §3, [gcc]). */
export const SIZES = {
  header: 13,
  ringId: 12,
  orfTokenFixed: 57,
  rtrItem: 16,
  mcastHeader: 45,
  membJoinFixed: 33,
  mergeDetect: 29,
  commitTokenFixed: 41,
  commitMembEntry: 24,
  holdCancel: 25,
} as const;

/** `struct memb_ring_id`: the representative's nodeid and the ring sequence (u64). */
export interface RingId {
  rep: number;
  seq: bigint;
}

/** Fields of the 13-byte header that vary per message. */
export interface HeaderFields {
  /** Sender nodeid (0 in a LEAVE). */
  nodeId: number;
  /** knet's directed-send target; meaningless on udp/udpu (often garbage). Emit 0. */
  targetNodeId: number;
}

export interface RtrItem {
  ringId: RingId;
  seq: number;
}

/** ORF token, type 0 (totem-spec §3.3). */
export interface OrfToken extends HeaderFields {
  type: typeof MessageType.ORF_TOKEN;
  seq: number;
  tokenSeq: number;
  aru: number;
  aruAddr: number;
  ringId: RingId;
  backlog: number;
  fcc: number;
  retransFlg: number;
  rtrList: RtrItem[];
}

/** MCAST, type 1 (totem-spec §3.4). `payload` is a view into the received bytes. */
export interface Mcast extends HeaderFields {
  type: typeof MessageType.MCAST;
  /** 1 = encapsulated recovery copy, 2 = normal. */
  encapsulated: number;
  systemFrom: number;
  seq: number;
  thisSeqno: number;
  ringId: RingId;
  /** `node_id` field: unused in 3.x, always 0. */
  nodeIdField: number;
  /** 0 agreed, 1 safe (receivers ignore it). */
  guarantee: number;
  payload: Uint8Array;
  /**
   * Set (to `true`) by the decoder only when the sender wrote big-endian (totem-spec §1.1).
   * The payload (totempg lengths, group header, service messages) is then big-endian too:
   * upper layers must be told, as corosync passes `endian_conversion_required`. The encoder
   * writes such an mcast's header big-endian as well, so that a re-sent copy (recovery
   * encapsulation) stays self-consistent; frames we originate leave this unset (LE).
   */
  bigEndian?: boolean;
}

/** MEMB_MERGE_DETECT, type 2 (totem-spec §3.6). */
export interface MergeDetect extends HeaderFields {
  type: typeof MessageType.MEMB_MERGE_DETECT;
  systemFrom: number;
  ringId: RingId;
}

/** MEMB_JOIN, type 3; a LEAVE when `nodeId` (header) is 0 (totem-spec §3.5). */
export interface MembJoin extends HeaderFields {
  type: typeof MessageType.MEMB_JOIN;
  systemFrom: number;
  ringSeq: bigint;
  procList: number[];
  failedList: number[];
}

/** One member's entry in the commit token (totem-spec §3.7). */
export interface CommitMembEntry {
  ringId: RingId;
  aru: number;
  highDelivered: number;
  receivedFlg: number;
}

/** MEMB_COMMIT_TOKEN, type 4 (totem-spec §3.7). */
export interface CommitToken extends HeaderFields {
  type: typeof MessageType.MEMB_COMMIT_TOKEN;
  tokenSeq: number;
  ringId: RingId;
  retransFlg: number;
  membIndex: number;
  /** Member nodeids, sorted ascending: the ring order. */
  addr: number[];
  /** One entry per member, same order as `addr`. */
  membList: CommitMembEntry[];
}

/** TOKEN_HOLD_CANCEL, type 5 (totem-spec §3.8). */
export interface HoldCancel extends HeaderFields {
  type: typeof MessageType.TOKEN_HOLD_CANCEL;
  ringId: RingId;
}

export type TotemMessage = OrfToken | Mcast | MergeDetect | MembJoin | CommitToken | HoldCancel;

export function ringIdEquals(a: RingId, b: RingId): boolean {
  return a.rep === b.rep && a.seq === b.seq;
}

/** Corosync's log form of a ring id: `<rep hex>.<seq hex>`, e.g. `1.1a`. */
export function formatRingId(r: RingId): string {
  return `${r.rep.toString(16)}.${r.seq.toString(16)}`;
}
