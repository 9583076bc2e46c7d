/**
 * The wire decoders: Totem (all six messages, `decodeTotem` + `decodeEncapsulated`), the
 * totempg packet (`decodePgPacket`), the group header (`decodeGroupMessage`).
 * Oracles: only `DecodeError` is thrown; an accepted frame re-encodes to the same bytes when
 * it is canonical, and encoding is idempotent otherwise; decoded lengths and counts respect
 * the named limits.
 */
import { decodeEncapsulated, decodeTotem, encodeTotem, tryDecodeTotem } from "../../../src/wire/totem/codec.js";
import { LIMITS, MessageType, type TotemMessage } from "../../../src/wire/totem/types.js";
import {
  decodeGroupMessage,
  decodePgPacket,
  encodeGroupMessage,
  encodePgPacket,
  GROUP_LIMITS,
  isWholePiece,
} from "../../../src/wire/pg/packet.js";
import type { Prng } from "../../../sim/prng.js";
import { appMessages, pgPayloads, totemFrames } from "../corpus.js";
import { bytesEqual, catchDecode, decoderTarget, firstDiff } from "../decoder.js";
import { concat, randomBytes } from "../mutate.js";
import type { FuzzContext } from "../target.js";
import { groupFields, pgFields, totemFields } from "./layouts.js";

const TYPE_NAMES = ["orf_token", "mcast", "memb_merge_detect", "memb_join", "memb_commit_token", "token_hold_cancel"];

/** Frames `encodeTotem` reproduces byte for byte: little-endian (a big-endian MCAST too), `encapsulated` 0 outside MCAST. */
function isCanonical(input: Uint8Array, m: TotemMessage): boolean {
  if (m.type === MessageType.MCAST) return true;
  return input[0] === 0x70 && input[4] === 0;
}

function checkTotem(input: Uint8Array, m: TotemMessage, ctx: FuzzContext): void {
  const re = encodeTotem(m);
  if (isCanonical(input, m)) {
    ctx.check(bytesEqual(re, input), "totem-round-trip", () => `encode(decode(x)) differs from x at ${firstDiff(re, input)}`);
  } else {
    const again = encodeTotem(decodeTotem(re));
    ctx.check(bytesEqual(again, re), "totem-round-trip", () => `encoding is not idempotent: ${firstDiff(again, re)}`);
  }
  switch (m.type) {
    case MessageType.ORF_TOKEN:
      ctx.check(m.rtrList.length <= LIMITS.rtrEntriesMax && input.byteLength <= LIMITS.orfTokenBytesMax, "totem-limits", () => `orf token with ${m.rtrList.length} rtr entries, ${input.byteLength} bytes`);
      break;
    case MessageType.MCAST:
      ctx.check(input.byteLength <= LIMITS.mcastBytesMax, "totem-limits", () => `mcast of ${input.byteLength} bytes`);
      if (m.encapsulated === 1) {
        // The codec checked the inner frame when it accepted the outer one: unwrapping must work.
        const inner = catchDecode(() => decodeEncapsulated(m));
        ctx.check(inner.ok, "totem-encapsulated", () => `accepted recovery copy whose inner frame fails: ${inner.ok ? "" : inner.code}`);
      }
      break;
    case MessageType.MEMB_JOIN:
      ctx.check(m.procList.length <= LIMITS.processorCountMax && m.failedList.length <= LIMITS.processorCountMax, "totem-limits", () => `join lists ${m.procList.length}/${m.failedList.length}`);
      break;
    case MessageType.MEMB_COMMIT_TOKEN:
      ctx.check(m.addr.length <= LIMITS.processorCountMax && m.membIndex >= 0 && m.membIndex <= m.addr.length, "totem-limits", () => `commit token n=${m.addr.length} memb_index=${m.membIndex}`);
      break;
    default:
      break;
  }
}

/** Decode a Totem frame and check it; the outcome is the error code or `ok:<type>`. */
export function decodeTotemChecked(input: Uint8Array, ctx: FuzzContext): string {
  const r = tryDecodeTotem(input);
  if (!r.ok) return r.error.code;
  checkTotem(input, r.msg, ctx);
  return `ok:${TYPE_NAMES[r.msg.type]}`;
}

export const totemTarget = decoderTarget({
  name: "totem",
  about: "decodeTotem/tryDecodeTotem and decodeEncapsulated on all six Totem messages; round trip with encodeTotem",
  corpus: totemFrames,
  fields: (b) => totemFields(b),
  decode: decodeTotemChecked,
  maxBytes: 66_000,
  boundedCases: 6000,
});

/** A pg packet decoded in one byte order, checked against its framing rules and re-encoded. */
function checkPg(input: Uint8Array, le: boolean, ctx: FuzzContext): string {
  const r = catchDecode(() => decodePgPacket(input, le));
  if (!r.ok) return r.code;
  const p = r.value;
  let total = 0;
  for (const piece of p.pieces) total += piece.byteLength;
  ctx.check(p.pieces.length >= 1 && 8 + 2 * p.pieces.length + total === input.byteLength, "pg-lengths", () => `${p.pieces.length} pieces of ${total} bytes in a ${input.byteLength}-byte packet`);
  for (let i = 0; i < p.pieces.length; i++) isWholePiece(p, i);
  if (le && p.version === 0 && p.type === 0) {
    const re = encodePgPacket(p.fragmented, p.continuation, p.pieces);
    ctx.check(bytesEqual(re, input), "pg-round-trip", () => `encodePgPacket(decodePgPacket(x)) differs at ${firstDiff(re, input)}`);
  }
  return "ok";
}

export const pgPacketTarget = decoderTarget({
  name: "pg-packet",
  about: "decodePgPacket (both byte orders) and isWholePiece; round trip with encodePgPacket",
  corpus: () => pgPayloads().map((p) => p.payload),
  fields: (b) => pgFields(b, 0, true),
  decode: (input, ctx) => {
    const le = checkPg(input, true, ctx);
    checkPg(input, false, ctx);
    return le;
  },
  maxBytes: 66_000,
});

function checkGroup(input: Uint8Array, le: boolean, ctx: FuzzContext): string {
  const r = catchDecode(() => decodeGroupMessage(input, le));
  if (!r.ok) return r.code;
  const g = r.value;
  let names = 0;
  for (const n of g.groups) names += n.byteLength;
  ctx.check(g.groups.length <= GROUP_LIMITS.groupCountMax, "group-limits", () => `${g.groups.length} groups`);
  ctx.check(2 + 2 * g.groups.length + names + g.body.byteLength === input.byteLength, "group-lengths", () => `groups and body do not add up to ${input.byteLength}`);
  if (le && g.groups.length >= 1) {
    const re = encodeGroupMessage(g.groups, g.body);
    ctx.check(bytesEqual(re, input), "group-round-trip", () => `encodeGroupMessage(decodeGroupMessage(x)) differs at ${firstDiff(re, input)}`);
  }
  return g.groups.length === 0 ? "ok:no-group" : "ok";
}

/** A random group message: 0..40 names of 0..8 bytes (often "a" or "sync"), a body. */
function randomGroupMessage(rng: Prng): Uint8Array {
  const n = rng.pick([0, 1, 1, 1, 2, 31, 32, 33, rng.int(0, 40)]);
  const names = Array.from({ length: n }, () => (rng.chance(0.5) ? Uint8Array.of(0x61) : rng.chance(0.5) ? Uint8Array.of(0x73, 0x79, 0x6e, 0x63) : randomBytes(rng, rng.int(0, 8))));
  const head = new Uint8Array(2 + 2 * n);
  head[0] = n & 0xff;
  head[1] = n >>> 8;
  names.forEach((nm, i) => {
    head[2 + 2 * i] = nm.byteLength;
  });
  return concat(head, ...names, randomBytes(rng, rng.int(0, 64)));
}

export const groupTarget = decoderTarget({
  name: "group-message",
  about: "decodeGroupMessage (both byte orders); round trip with encodeGroupMessage",
  corpus: () => appMessages().map((m) => m.message),
  fields: (b) => groupFields(b, 0, true),
  generate: randomGroupMessage,
  decode: (input, ctx) => {
    const le = checkGroup(input, true, ctx);
    checkGroup(input, false, ctx);
    return le;
  },
  maxBytes: 66_000,
});
