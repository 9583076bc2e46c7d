/**
 * The IPC decoders: the libqb setup request and reply and corosync's request/response headers
 * (protocol.ts), and the shared-memory ring's consumer and producer over hostile shared
 * state (ringbuffer.ts, over plain memory, as test/unit/ipc-ringbuffer.test.ts does).
 *
 * `ipc-ring` inputs describe a ring: `wp` (u32 LE), `rp` (u32 LE), the semaphore's value
 * (u8, mod 70), a selector of the negotiated maximum (u8), then the data area (whole words).
 * Oracles: only `RingFault` is thrown (and `RangeError` only for a message above the
 * maximum, which the target never writes); a read returns at most `maxMsgSize` bytes; at most
 * one read per semaphore count.
 */
import { nativeAddon } from "../../../src/runtime/ipc/native.js";
import {
  CONNECTION_RESPONSE_SIZE,
  decodeConnectionRequest,
  decodeConnectionResponse,
  encodeConnectionRequest,
  encodeConnectionResponse,
  readRequestHeader,
  readResponseHeader,
  REQUEST_HEADER_SIZE,
  writeRequestHeader,
  writeResponseHeader,
} from "../../../src/runtime/ipc/protocol.js";
import { HDR, MAGIC } from "../../../src/runtime/ipc/ring-index.js";
import { RingFault, ShmRing } from "../../../src/runtime/ipc/ringbuffer.js";
import { Prng } from "../../../sim/prng.js";
import { bytesEqual, decoderTarget } from "../decoder.js";
import { concat, randomBytes, writeUint } from "../mutate.js";
import type { Field, FuzzContext } from "../target.js";

// ------------------------------------------------------------------------------ protocol

function protocolCorpus(): Uint8Array[] {
  const out: Uint8Array[] = [encodeConnectionRequest(1048576), encodeConnectionRequest(1), encodeConnectionRequest(64 * 1048576)];
  out.push(
    encodeConnectionResponse({ error: 0, connectionType: 1, maxMsgSize: 1048576, connection: 7n, request: "qb-123-456-7-abc-request", response: "qb-123-456-7-abc-response", event: "qb-123-456-7-abc-event" }),
    encodeConnectionResponse({ error: -13, connectionType: 0, maxMsgSize: 0, connection: 0n, request: "", response: "", event: "" }),
  );
  for (const [id, size] of [
    [0, 16],
    [(2 << 16) | 3, 64],
    [0x7fffffff, 16],
  ] as const) {
    const req = new Uint8Array(size);
    writeRequestHeader(req, id, size);
    out.push(req);
    const res = new Uint8Array(size + 8);
    writeResponseHeader(res, id, size + 8, 1);
    out.push(res);
  }
  return out;
}

function protocolFields(b: Uint8Array): Field[] {
  return [
    { name: "header.id", at: 0, width: 4, le: true, kind: "enum", valid: [0xffffffff, 0xfffffffe, 0xfffffffd, 0] },
    { name: "header.size", at: 8, width: 4, le: true, kind: "count", limit: b.byteLength, unit: 1 },
    { name: "setup.max_msg_size_or_error", at: 16, width: 4, le: true, kind: "value" },
    { name: "setup.connection_type", at: 24, width: 4, le: true, kind: "enum", valid: [0, 1] },
    { name: "setup.max_msg_size", at: 28, width: 4, le: true, kind: "value" },
  ].filter((f) => f.at + f.width <= b.byteLength) as Field[];
}

function checkProtocol(input: Uint8Array, ctx: FuzzContext): string {
  const req = decodeConnectionRequest(input);
  if (req.ok) {
    ctx.check(req.maxMsgSize > 0 && req.maxMsgSize <= 64 * 1048576, "ipc-setup-limits", () => `max_msg_size ${req.maxMsgSize} accepted`);
    const re = encodeConnectionRequest(req.maxMsgSize);
    const again = decodeConnectionRequest(re);
    ctx.check(again.ok && again.maxMsgSize === req.maxMsgSize, "ipc-setup-round-trip", () => "re-encoded setup request decodes differently");
    if (input.byteLength === re.byteLength && input.subarray(4, 8).every((x) => x === 0) && input.subarray(12, 16).every((x) => x === 0) && input.subarray(20).every((x) => x === 0)) {
      ctx.check(bytesEqual(re, input), "ipc-setup-round-trip", () => "canonical setup request does not re-encode to itself");
    }
  }
  const rq = readRequestHeader(input);
  ctx.check((rq === null) === input.byteLength < REQUEST_HEADER_SIZE, "ipc-header", () => `request header ${rq === null ? "refused" : "read"} from ${input.byteLength} bytes`);
  const rs = readResponseHeader(input);
  ctx.check((rs === null) === input.byteLength < 24, "ipc-header", () => `response header ${rs === null ? "refused" : "read"} from ${input.byteLength} bytes`);
  if (input.byteLength >= CONNECTION_RESPONSE_SIZE) {
    const r = decodeConnectionResponse(input);
    if (r.error === 0) {
      let re: Uint8Array | undefined;
      try {
        re = encodeConnectionResponse(r);
      } catch (e) {
        // A 4096-byte name without NUL (or one that grows when re-encoded) does not fit back: the encoder refuses it.
        if (!(e instanceof RangeError)) throw e;
      }
      if (re !== undefined) {
        const back = decodeConnectionResponse(re);
        ctx.check(JSON.stringify(back, big) === JSON.stringify(r, big), "ipc-setup-round-trip", () => "re-encoded setup reply decodes differently");
      }
    }
  } else {
    let threw = false;
    try {
      decodeConnectionResponse(input);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      threw = true;
    }
    ctx.check(threw, "ipc-setup-short", () => "a short setup reply was decoded");
  }
  return req.ok ? "setup_request" : req.fault;
}

function big(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}

export const ipcProtocolTarget = decoderTarget({
  name: "ipc-protocol",
  about: "libqb setup request/reply decoding and corosync request/response headers; never throws past the documented RangeError",
  corpus: protocolCorpus,
  fields: protocolFields,
  decode: checkProtocol,
  maxBytes: 13_000,
});

// ------------------------------------------------------------------------------ ring

const RING_PREFIX = 10;
const MAX_SELECT = 5;

function maxMsgSizeFor(selector: number, dataBytes: number): number {
  switch (selector % MAX_SELECT) {
    case 0:
      return dataBytes - 13;
    case 1:
      return 64;
    case 2:
      return 1;
    case 3:
      return dataBytes;
    default:
      return 1048576;
  }
}

/** A ring state written by a real producer (positions moved by earlier traffic), serialised. */
function producedRing(rng: Prng, words: number): Uint8Array {
  const header = new ArrayBuffer(HDR.sizeWithUserData);
  const data = new ArrayBuffer(words * 4);
  new DataView(header).setUint32(HDR.wordSize, words, true);
  nativeAddon().semInit(header, HDR.sem, 1, 0);
  const ring = new ShmRing({ header, data }, words * 4 - 13, "corpus");
  const moves = rng.int(0, 20);
  for (let i = 0; i < moves; i++) {
    if (ring.write(randomBytes(rng, rng.int(0, words))) && rng.chance(0.8)) ring.read();
  }
  for (let i = rng.int(1, 4); i > 0; i--) ring.write(randomBytes(rng, rng.int(0, words)));
  const prefix = new Uint8Array(RING_PREFIX);
  writeUint(prefix, 0, 4, true, ring.writePt);
  writeUint(prefix, 4, 4, true, ring.readPt);
  prefix[8] = ring.queued();
  prefix[9] = 0;
  return concat(prefix, new Uint8Array(data));
}

function ringCorpus(): Uint8Array[] {
  const rng = new Prng(0x41f6);
  const out: Uint8Array[] = [];
  for (const words of [16, 17, 64, 256]) for (let k = 0; k < 12; k++) out.push(producedRing(rng, words));
  return out;
}

function ringFields(b: Uint8Array): Field[] {
  const words = Math.max(16, (b.byteLength - RING_PREFIX) >>> 2);
  const rp = ((b[4] ?? 0) | ((b[5] ?? 0) << 8) | ((b[6] ?? 0) << 16) | ((b[7] ?? 0) << 24)) >>> 0;
  const f: Field[] = [
    { name: "ring.write_pt", at: 0, width: 4, le: true, kind: "count", limit: words - 1 },
    { name: "ring.read_pt", at: 4, width: 4, le: true, kind: "count", limit: words - 1 },
    { name: "ring.sem_value", at: 8, width: 1, le: true, kind: "count", limit: 69 },
    { name: "ring.max_msg_size_selector", at: 9, width: 1, le: true, kind: "enum", valid: [0, 1, 2, 3, 4] },
  ];
  if (rp < words) {
    const at = RING_PREFIX + 4 * rp;
    f.push({ name: "chunk.size", at, width: 4, le: true, kind: "count", limit: maxMsgSizeFor(b[9] ?? 0, words * 4) });
    const magicAt = RING_PREFIX + 4 * ((rp + 1) % words);
    f.push({ name: "chunk.magic", at: magicAt, width: 4, le: true, kind: "enum", valid: [MAGIC.committed, MAGIC.alloc, MAGIC.dead] });
  }
  return f;
}

function checkRing(input: Uint8Array, ctx: FuzzContext): string {
  const dataBytes = Math.min(65536, Math.max(64, (input.byteLength - RING_PREFIX) & ~3));
  const header = new ArrayBuffer(HDR.sizeWithUserData);
  const data = new ArrayBuffer(dataBytes);
  new Uint8Array(data).set(input.subarray(RING_PREFIX, RING_PREFIX + dataBytes));
  const hv = new DataView(header);
  hv.setUint32(HDR.writePt, readU32(input, 0), true);
  hv.setUint32(HDR.readPt, readU32(input, 4), true);
  hv.setUint32(HDR.wordSize, dataBytes / 4, true);
  const sem = (input[8] ?? 0) % 70;
  nativeAddon().semInit(header, HDR.sem, 1, sem);
  const maxMsgSize = maxMsgSizeFor(input[9] ?? 0, dataBytes);
  const ring = new ShmRing({ header, data }, maxMsgSize, "fuzz");
  let reads = 0;
  let outcome = "empty";
  try {
    for (let i = 0; i <= sem; i++) {
      const m = ring.read();
      if (m === null) break;
      reads++;
      ctx.check(m.byteLength <= maxMsgSize, "ring-read-size", () => `read ${m.byteLength} bytes, max ${maxMsgSize}`);
      outcome = "read";
    }
    ctx.check(reads <= sem, "ring-read-count", () => `${reads} reads from a semaphore of ${sem}`);
    const small = Math.min(maxMsgSize, 7);
    ring.spaceFree();
    outcome += ring.write(new Uint8Array(small)) ? "+written" : "+full";
  } catch (e) {
    if (!(e instanceof RingFault)) throw e;
    outcome = `${outcome}+${e.code}`;
  }
  return outcome;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 24)) >>> 0;
}

export const ipcRingTarget = decoderTarget({
  name: "ipc-ring",
  about: "ShmRing read/write over hostile shared positions, chunk sizes, magics and semaphore counts: only RingFault, reads ≤ max",
  corpus: ringCorpus,
  fields: ringFields,
  decode: checkRing,
  maxBytes: 4096,
});
