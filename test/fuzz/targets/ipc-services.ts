/**
 * `ipc-services`: the service IPC decoders of cpg, votequorum, cfg, quorum and cmap, both
 * ways — the requests the daemon reads from local clients and the responses and events the
 * client libraries read from the daemon (src/wire/ipc/*.ts, src/wire/cmap/ipc.ts).
 *
 * Input byte 0 selects the decoder (mod the number of decoders), the message follows.
 * Oracles: the decoders that return undefined for what does not parse never throw; the cmap
 * IPC decoders throw only `DecodeError`; requests with an encoder decode again to the same
 * value after a round trip (names that fit).
 */
import { decodeCmapRequest, decodeCmapResponseHeader, decodeGetResponse, decodeHandleResponse, decodeIterNextResponse as decodeCmapIterNextResponse, decodeNotifyEvent, encodeCmapRequest, encodeGetResponse, encodeIterInitResponse as encodeCmapIterInitResponse, encodeIterNextResponse as encodeCmapIpcIterNextResponse, encodeNotifyEvent, type CmapRequest } from "../../../src/wire/cmap/ipc.js";
import { decodeCfgArg, decodeKillNodeRequest, decodeNodeAddrs, decodeNodeStatus, decodeNodeStatusGet, decodeRingStatus, encodeCfgRequest, encodeKillNodeRequest, encodeNodeAddrs, encodeNodeStatusGet, encodeRingStatus } from "../../../src/wire/ipc/cfg.js";
import { decodeCmapGet, decodeCmapGetRequest, decodeCmapHandle, decodeCmapIterNext, decodeCmapKeyRequest, encodeCmapGet, encodeCmapGetResponse, encodeCmapHandleRequest, encodeCmapIterInit, encodeCmapIterNextResponse, CmapReq } from "../../../src/wire/ipc/cmap-read.js";
import {
  CpgReq,
  decodeCpgEvent,
  decodeIterHandleRequest,
  decodeIterInitRequest,
  decodeIterNextResponse,
  decodeJoinRequest,
  decodeLeaveRequest,
  decodeMcastRequest,
  decodeMembershipRequest,
  decodeMembershipResponse,
  decodePartialRequest,
  encodeConfchgEvent,
  encodeDeliverEvent,
  encodeIterHandleRequest,
  encodeIterInitRequest,
  encodeIterNextResponse,
  encodeJoinRequest,
  encodeLeaveRequest,
  encodeMcastRequest,
  encodeMembershipRequest,
  encodeMembershipResponse,
  encodePartialDeliverEvent,
  encodePartialRequest,
  encodeTotemConfchgEvent,
} from "../../../src/wire/ipc/cpg.js";
import { decodeQuorumArg, decodeQuorumEvent, decodeU32Response, encodeNodelistNotification, encodeQuorumNotificationV0, encodeQuorumNotificationV1, encodeQuorumRequest, encodeU32Response } from "../../../src/wire/ipc/quorum.js";
import { decodeGetInfo, decodeVqEvent, decodeVqRequest, encodeGetInfo, encodeVqExpectedVotesNotification, encodeVqNodelistNotification, encodeVqQuorumNotification, encodeVqRequest, type VqRequest } from "../../../src/wire/ipc/votequorum.js";
import { CmapType } from "../../../src/core/cmap/types.js";
import { catchDecode, decoderTarget } from "../decoder.js";
import { concat } from "../mutate.js";
import type { FuzzContext } from "../target.js";

const utf8 = new TextEncoder();

/**
 * A JSON rendering for comparisons. A `mar_name_t`'s length field is left out: decoders keep
 * the length a client wrote (the cmap service only asks whether it is 0) while encoders write
 * the text's own length.
 */
function canon(v: unknown): string {
  return JSON.stringify(v, function (this: Record<string, unknown>, k: string, x: unknown) {
    if (k === "length" && typeof this.text === "string") return undefined;
    return typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? Array.from(x).join(",") : x;
  });
}

function headerId(b: Uint8Array): number {
  return b.byteLength >= 4 ? new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true) : -1;
}

interface Decoder {
  name: string;
  /** Decode; the result's shape is not checked, only that nothing but the allowed error escapes. */
  decode(b: Uint8Array, ctx: FuzzContext): unknown;
  corpus(): Uint8Array[];
}

const group = "g1";
const vqRequests: VqRequest[] = [
  { id: 0, nodeId: 2 },
  { id: 1, expectedVotes: 3 },
  { id: 2, votes: 2, nodeId: 1 },
  { id: 3, context: 7n, flags: 2 },
  { id: 4 },
  { id: 5, name: "Qdevice" },
  { id: 6, name: "Qdevice" },
  { id: 7, oldName: "Qdevice", newName: "q".repeat(254) },
  { id: 8, name: "Qdevice", castVote: true, ringId: { nodeId: 1, seq: 8n } },
  { id: 9, name: "Qdevice", allow: true },
];
const cmapRequests: CmapRequest[] = [
  { id: 0, key: { length: 5, text: "a.key" }, valueLen: 4n, type: CmapType.UINT32, value: Uint8Array.of(1, 0, 0, 0) },
  { id: 1, key: { length: 5, text: "a.key" } },
  { id: 2, key: { length: 5, text: "a.key" }, valueLen: 8n },
  { id: 3, key: { length: 5, text: "a.key" }, step: 1 },
  { id: 4, prefix: { length: 2, text: "a." } },
  { id: 5, iterHandle: 3n },
  { id: 6, iterHandle: 3n },
  { id: 7, key: { length: 5, text: "a.key" }, trackType: 7, trackInstHandle: 9n },
] as CmapRequest[];

/** Encode-decode-encode: the second decode gives the first back (when the encoder accepts it). */
function roundTrip<T>(ctx: FuzzContext, id: string, m: T | undefined, encode: (m: T) => Uint8Array, decode: (b: Uint8Array) => T | undefined, fits: (m: T) => boolean = () => true): T | undefined {
  if (m === undefined || !fits(m)) return m;
  const back = decode(encode(m));
  ctx.check(canon(back) === canon(m), id, () => `decode(encode(m)) differs from m`);
  return m;
}

const nameFits = (...names: string[]): boolean => names.every((n) => utf8.encode(n).byteLength < 255);

const DECODERS: Decoder[] = [
  { name: "cpg.join", decode: (b, ctx) => roundTrip(ctx, "ipc-cpg-round-trip", decodeJoinRequest(b), (m) => encodeJoinRequest(m.group ?? "", m.pid, m.flags), decodeJoinRequest, (m) => m.group !== undefined), corpus: () => [encodeJoinRequest(group, 100, 1), encodeJoinRequest("x".repeat(128), 1, 0)] },
  { name: "cpg.leave", decode: (b) => decodeLeaveRequest(b), corpus: () => [encodeLeaveRequest(group, 100)] },
  { name: "cpg.mcast", decode: (b) => decodeMcastRequest(b), corpus: () => [concat(...encodeMcastRequest(1, Uint8Array.of(1, 2, 3)))] },
  { name: "cpg.partial", decode: (b) => decodePartialRequest(b), corpus: () => [concat(...encodePartialRequest(0, 10, 1, Uint8Array.of(1, 2)))] },
  { name: "cpg.membership", decode: (b) => decodeMembershipRequest(b), corpus: () => [encodeMembershipRequest(group)] },
  { name: "cpg.iter_init", decode: (b) => decodeIterInitRequest(b), corpus: () => [encodeIterInitRequest(2, group), encodeIterInitRequest(3, undefined)] },
  { name: "cpg.iter_handle", decode: (b) => decodeIterHandleRequest(b), corpus: () => [encodeIterHandleRequest(CpgReq.ITERATIONNEXT, 5n)] },
  { name: "cpg.membership_res", decode: (b) => decodeMembershipResponse(b), corpus: () => [encodeMembershipResponse(1, [{ nodeId: 1, pid: 2, reason: 0 }, { nodeId: 2, pid: 3, reason: 0 }])] },
  { name: "cpg.iter_next_res", decode: (b) => decodeIterNextResponse(b), corpus: () => [encodeIterNextResponse(1, { group, nodeId: 1, pid: 2 })] },
  {
    name: "cpg.event",
    decode: (b) => decodeCpgEvent(b),
    corpus: () => [
      encodeConfchgEvent(group, [{ nodeId: 1, pid: 2, reason: 0 }], [{ nodeId: 2, pid: 3, reason: 2 }], []),
      encodeDeliverEvent(group, 1, 2, Uint8Array.of(9, 9)),
      encodePartialDeliverEvent(group, 1, 2, 10, 1, Uint8Array.of(1)),
      encodeTotemConfchgEvent(1, 8n, [1, 2, 3]),
    ],
  },
  {
    name: "vq.request",
    decode: (b, ctx) =>
      roundTrip(ctx, "ipc-vq-round-trip", decodeVqRequest(headerId(b), b), encodeVqRequest, (x) => decodeVqRequest(headerId(x), x), (m) => nameFits(...("name" in m ? [m.name] : []), ...("oldName" in m ? [m.oldName, m.newName] : []))),
    corpus: () => vqRequests.map(encodeVqRequest),
  },
  {
    name: "vq.getinfo",
    decode: (b) => decodeGetInfo(b),
    corpus: () => [encodeGetInfo({ nodeId: 1, state: 1, votes: 1, expectedVotes: 3, highestExpected: 3, totalVotes: 3, quorum: 2, flags: 1, qdeviceVotes: 0, qdeviceName: "Qdevice" } as never, 1)],
  },
  {
    name: "vq.event",
    decode: (b) => decodeVqEvent(b),
    corpus: () => [encodeVqQuorumNotification(true, 1n, [{ nodeId: 1, state: 1 }]), encodeVqNodelistNotification(1n, { nodeId: 1, seq: 8n }, [1, 2]), encodeVqExpectedVotesNotification(1n, 3)],
  },
  { name: "cfg.arg", decode: (b) => decodeCfgArg(b), corpus: () => [encodeCfgRequest(3, 1)] },
  { name: "cfg.nodestatusget", decode: (b) => decodeNodeStatusGet(b), corpus: () => [encodeNodeStatusGet(2)] },
  { name: "cfg.killnode", decode: (b) => decodeKillNodeRequest(b), corpus: () => [encodeKillNodeRequest(2, "fenced")] },
  { name: "cfg.ringstatus", decode: (b) => decodeRingStatus(b), corpus: () => [encodeRingStatus([{ name: "10.0.0.1", status: "OK" } as never])] },
  { name: "cfg.nodeaddrs", decode: (b) => decodeNodeAddrs(b), corpus: () => [encodeNodeAddrs([{ family: "IPv4", address: "10.0.0.1" }, { family: "IPv6", address: "fe80::1" }])] },
  { name: "cfg.nodestatus", decode: (b) => decodeNodeStatus(b), corpus: () => [] },
  { name: "quorum.arg", decode: (b) => decodeQuorumArg(b), corpus: () => [encodeQuorumRequest(1, 2), encodeQuorumRequest(4, 1)] },
  { name: "quorum.u32", decode: (b) => decodeU32Response(b), corpus: () => [encodeU32Response(0, 1)] },
  {
    name: "quorum.event",
    decode: (b) => decodeQuorumEvent(b),
    corpus: () => [
      encodeQuorumNotificationV0({ quorate: true, ringId: { nodeId: 0, seq: 4n }, viewList: [1, 2] }),
      encodeQuorumNotificationV1({ quorate: false, ringId: { nodeId: 1, seq: 4n }, viewList: [1] }),
      encodeNodelistNotification({ ringId: { nodeId: 1, seq: 4n }, members: [1, 2], joined: [2], left: [3] }),
    ],
  },
  { name: "cmapr.get", decode: (b) => decodeCmapGet(b), corpus: () => [encodeCmapGetResponse({ type: CmapType.UINT32, value: 7 } as never, 4)] },
  { name: "cmapr.iter_next", decode: (b) => decodeCmapIterNext(b), corpus: () => [encodeCmapIterNextResponse({ key: "a.key", value: { type: CmapType.UINT8, value: 1 } as never })] },
  { name: "cmapr.key_request", decode: (b) => decodeCmapKeyRequest(b), corpus: () => [encodeCmapIterInit("nodelist.")] },
  { name: "cmapr.get_request", decode: (b) => decodeCmapGetRequest(b), corpus: () => [encodeCmapGet("quorum.provider", 256)] },
  { name: "cmapr.handle", decode: (b) => decodeCmapHandle(b), corpus: () => [encodeCmapHandleRequest(CmapReq.ITER_NEXT, 3n)] },
  {
    name: "cmap.request",
    decode: (b, ctx) => {
      const r = catchDecode(() => decodeCmapRequest(b));
      if (!r.ok) return r;
      const keys = (Object.values(r.value) as unknown[]).filter((x): x is { text: string } => typeof x === "object" && x !== null && "text" in x);
      roundTrip(ctx, "ipc-cmap-round-trip", r.value, encodeCmapRequest, decodeCmapRequest, () => keys.every((k) => utf8.encode(k.text).byteLength < 256));
      return r;
    },
    corpus: () => cmapRequests.map(encodeCmapRequest),
  },
  { name: "cmap.response_header", decode: (b) => catchDecode(() => decodeCmapResponseHeader(b)), corpus: () => [encodeCmapIterInitResponse(1, 4n)] },
  { name: "cmap.get_response", decode: (b) => catchDecode(() => decodeGetResponse(b)), corpus: () => [encodeGetResponse(1, 4, CmapType.UINT32, Uint8Array.of(1, 0, 0, 0), 4)] },
  { name: "cmap.handle_response", decode: (b) => catchDecode(() => decodeHandleResponse(b)), corpus: () => [encodeCmapIterInitResponse(1, 9n)] },
  { name: "cmap.iter_next_response", decode: (b) => catchDecode(() => decodeCmapIterNextResponse(b)), corpus: () => [encodeCmapIpcIterNextResponse(1, "a.key", 4, CmapType.UINT32)] },
  {
    name: "cmap.notify",
    decode: (b) => catchDecode(() => decodeNotifyEvent(b)),
    corpus: () => [encodeNotifyEvent({ trackInstHandle: 1n, key: "a.key", event: 1, newType: CmapType.UINT32, oldType: 0, newValue: Uint8Array.of(1, 0, 0, 0), oldValue: new Uint8Array(0) } as never)],
  },
];

function ipcCorpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  DECODERS.forEach((d, i) => {
    for (const m of d.corpus()) out.push(concat(Uint8Array.of(i), m));
    // A zeroed message of a few sizes too: decoders without an encoder here start from these.
    for (const n of [16, 24, 32, 48, 296]) out.push(concat(Uint8Array.of(i), new Uint8Array(n)));
  });
  return out;
}

export const ipcServicesTarget = decoderTarget({
  name: "ipc-services",
  about: "service IPC decoders of cpg, votequorum, cfg, quorum and cmap (requests and responses/events): never throw (cmap: only DecodeError), request round trips",
  corpus: ipcCorpus,
  fields: (b) => [
    { name: "decoder", at: 0, width: 1, le: true, kind: "enum", valid: DECODERS.map((_, i) => i) },
    { name: "ipc.header.id", at: 1, width: 4, le: true, kind: "enum", valid: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
    { name: "ipc.header.size", at: 9, width: 4, le: true, kind: "count", limit: Math.max(0, b.byteLength - 1) },
  ],
  decode: (input, ctx) => {
    const d = DECODERS[(input[0] ?? 0) % DECODERS.length]!;
    const body = input.subarray(Math.min(1, input.byteLength));
    const r = d.decode(body, ctx);
    if (r === undefined) return `${d.name}:none`;
    if (typeof r === "object" && r !== null && "ok" in r && (r as { ok: boolean }).ok === false) return `${d.name}:error`;
    return `${d.name}:ok`;
  },
  maxBytes: 12_000,
  boundedCases: 2000,
});
