/**
 * Test helpers: sample messages and fast-check arbitraries for valid Totem messages and
 * totempg packets, within the wire limits (totem-spec §1.3, §3, §5). Values cover each
 * field's whole decoded range: u32 fields 0..2^32−1, corosync `int` fields as i32, ring
 * seqs as u64.
 */
import fc from "fast-check";
import { encodeMcast } from "../../src/wire/totem/codec.js";
import { encodePgPacket } from "../../src/wire/pg/packet.js";
import { encodeGroupMessage, GROUP_A, GROUP_SYNC } from "../../src/wire/pg/groups.js";
import {
  LIMITS,
  MessageType,
  type CommitToken,
  type HoldCancel,
  type Mcast,
  type MembJoin,
  type MergeDetect,
  type OrfToken,
  type RingId,
  type TotemMessage,
} from "../../src/wire/totem/types.js";

/** `fc.record` with ordinary prototypes (decoded messages are plain objects). */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

export const u32 = (): fc.Arbitrary<number> => fc.nat({ max: 0xffffffff });
export const i32 = (): fc.Arbitrary<number> => fc.integer({ min: -0x80000000, max: 0x7fffffff });
export const u64 = (): fc.Arbitrary<bigint> => fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
export const ringId = (): fc.Arbitrary<RingId> => rec({ rep: u32(), seq: u64() });
const header = { nodeId: u32(), targetNodeId: u32() };

export const orfToken = (): fc.Arbitrary<OrfToken> =>
  rec({
    type: fc.constant(MessageType.ORF_TOKEN),
    ...header,
    seq: u32(),
    tokenSeq: u32(),
    aru: u32(),
    aruAddr: u32(),
    ringId: ringId(),
    backlog: u32(),
    fcc: u32(),
    retransFlg: i32(),
    rtrList: fc.array(rec({ ringId: ringId(), seq: u32() }), { maxLength: LIMITS.rtrEntriesMax }),
  });

type McastFieldsArb = Omit<Mcast, "payload" | "encapsulated">;
const mcastFields = (): fc.Arbitrary<McastFieldsArb> =>
  rec({
    type: fc.constant(MessageType.MCAST),
    ...header,
    systemFrom: u32(),
    seq: u32(),
    thisSeqno: i32(),
    ringId: ringId(),
    nodeIdField: u32(),
    guarantee: i32(),
  });

/** A normal MCAST with an arbitrary (opaque) payload. */
export const mcastOpaque = (maxPayload = 1500): fc.Arbitrary<Mcast> =>
  fc
    .tuple(mcastFields(), fc.uint8Array({ maxLength: maxPayload }))
    .map(([f, payload]) => ({ ...f, encapsulated: 2, payload }));

/** A whole application message for group "a" or "sync", with a qb-like body. */
export const groupMessage = (): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(fc.constantFrom(GROUP_A, GROUP_SYNC), fc.uint8Array({ maxLength: 200 }))
    .map(([g, body]) => encodeGroupMessage(g, body));

/** A totempg packet (totem-spec §5.1) whose whole pieces are group messages. */
export const pgPacket = (): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(fc.array(groupMessage(), { minLength: 1, maxLength: 6 }), fc.nat({ max: 255 }), fc.nat({ max: 255 }))
    .map(([pieces, fragmented, continuation]) => encodePgPacket(fragmented, continuation, pieces));

/** A normal MCAST carrying a valid totempg packet (so the BE rendition helper applies). */
export const mcastPg = (): fc.Arbitrary<Mcast> =>
  fc.tuple(mcastFields(), pgPacket()).map(([f, payload]) => ({ ...f, encapsulated: 2, payload }));

/** A recovery copy: its payload is a whole normal MCAST (totem-spec §3.4). */
export const mcastEncapsulated = (): fc.Arbitrary<Mcast> =>
  fc.tuple(mcastFields(), mcastOpaque(400)).map(([f, inner]) => {
    const { type: _t, payload, ...innerFields } = inner;
    return { ...f, encapsulated: 1, payload: encodeMcast(innerFields, payload) };
  });

export const mergeDetect = (): fc.Arbitrary<MergeDetect> =>
  rec({ type: fc.constant(MessageType.MEMB_MERGE_DETECT), ...header, systemFrom: u32(), ringId: ringId() });

export const membJoin = (maxList: number = LIMITS.processorCountMax): fc.Arbitrary<MembJoin> =>
  rec({
    type: fc.constant(MessageType.MEMB_JOIN),
    ...header,
    systemFrom: u32(),
    ringSeq: u64(),
    procList: fc.array(u32(), { maxLength: maxList }),
    failedList: fc.array(u32(), { maxLength: maxList }),
  });

export const commitToken = (maxMembers: number = LIMITS.processorCountMax): fc.Arbitrary<CommitToken> =>
  fc
    .array(
      fc.tuple(u32(), rec({ ringId: ringId(), aru: u32(), highDelivered: u32(), receivedFlg: u32() })),
      { maxLength: maxMembers },
    )
    .chain((members) =>
      rec({
        type: fc.constant(MessageType.MEMB_COMMIT_TOKEN),
        ...header,
        tokenSeq: u32(),
        ringId: ringId(),
        retransFlg: u32(),
        membIndex: fc.nat({ max: members.length }),
        addr: fc.constant(members.map(([id]) => id)),
        membList: fc.constant(members.map(([, e]) => e)),
      }),
    );

export const holdCancel = (): fc.Arbitrary<HoldCancel> =>
  rec({ type: fc.constant(MessageType.TOKEN_HOLD_CANCEL), ...header, ringId: ringId() });

/** Any valid Totem message (list lengths kept moderate so runs stay quick). */
export const totemMessage = (): fc.Arbitrary<TotemMessage> =>
  fc.oneof(
    orfToken(),
    mcastOpaque(),
    mcastPg(),
    mcastEncapsulated(),
    mergeDetect(),
    membJoin(40),
    commitToken(40),
    holdCancel(),
  );

/** A fixed sample of each type, for hand-written tests. */
export const SAMPLE = {
  ringId: { rep: 1, seq: 0x1an } as RingId,
  orfToken(rtr = 0): OrfToken {
    return {
      type: MessageType.ORF_TOKEN,
      nodeId: 1,
      targetNodeId: 0,
      seq: 10,
      tokenSeq: 20,
      aru: 9,
      aruAddr: 2,
      ringId: SAMPLE.ringId,
      backlog: 0,
      fcc: 3,
      retransFlg: 0,
      rtrList: Array.from({ length: rtr }, (_, i) => ({ ringId: SAMPLE.ringId, seq: i + 1 })),
    };
  },
  mcast(payload: Uint8Array = new Uint8Array(16)): Mcast {
    return {
      type: MessageType.MCAST,
      nodeId: 2,
      targetNodeId: 0,
      encapsulated: 2,
      systemFrom: 2,
      seq: 11,
      thisSeqno: 5,
      ringId: SAMPLE.ringId,
      nodeIdField: 0,
      guarantee: 0,
      payload,
    };
  },
  join(p = 3, f = 0): MembJoin {
    return {
      type: MessageType.MEMB_JOIN,
      nodeId: 1,
      targetNodeId: 0,
      systemFrom: 1,
      ringSeq: 0x1an,
      procList: Array.from({ length: p }, (_, i) => i + 1),
      failedList: Array.from({ length: f }, (_, i) => 100 + i),
    };
  },
  commit(n = 3, membIndex = 1): CommitToken {
    return {
      type: MessageType.MEMB_COMMIT_TOKEN,
      nodeId: 1,
      targetNodeId: 0,
      tokenSeq: 1,
      ringId: { rep: 1, seq: 0x1cn },
      retransFlg: 0,
      membIndex,
      addr: Array.from({ length: n }, (_, i) => i + 1),
      membList: Array.from({ length: n }, () => ({ ringId: SAMPLE.ringId, aru: 7, highDelivered: 7, receivedFlg: 1 })),
    };
  },
  mergeDetect(): MergeDetect {
    return { type: MessageType.MEMB_MERGE_DETECT, nodeId: 1, targetNodeId: 0, systemFrom: 1, ringId: SAMPLE.ringId };
  },
  holdCancel(): HoldCancel {
    return { type: MessageType.TOKEN_HOLD_CANCEL, nodeId: 1, targetNodeId: 0, ringId: SAMPLE.ringId };
  },
};

/** Overwrite the u32 at `offset` (little-endian) in a copy of `bytes`. */
export function withU32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(offset, value >>> 0, true);
  return out;
}

/** Overwrite the u16 at `offset` (little-endian) in a copy of `bytes`. */
export function withU16(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint16(offset, value & 0xffff, true);
  return out;
}

/** `bytes` followed by `extra` zero bytes (or cut to `bytes.length + extra` if negative). */
export function resized(bytes: Uint8Array, extra: number): Uint8Array {
  const out = new Uint8Array(bytes.byteLength + extra);
  out.set(extra >= 0 ? bytes : bytes.subarray(0, out.byteLength));
  return out;
}
