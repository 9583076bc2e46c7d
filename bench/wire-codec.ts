/**
 * Wire codec micro-benchmark: ns per decode/encode of an ORF token and of MCASTs carrying a
 * 64-byte and a 1 KiB application message (totempg packet + group "a"), plus the totempg
 * and group decoders. Prints figures; not a pass/fail test.
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/wire-codec.js [iterations [rounds]]
 */
import { decodeTotem, encodeMcast, encodeTotem, peekHeader } from "../src/wire/totem/codec.js";
import { decodeGroupMessage, decodePgPacket, encodeGroupMessage, encodePgMcast, encodePgPacket, GROUP_A } from "../src/wire/pg/packet.js";
import { MessageType, type Mcast, type OrfToken } from "../src/wire/totem/types.js";

const ITER = Number(process.argv[2] ?? 300_000);
const ROUNDS = Number(process.argv[3] ?? 7);

const ringId = { rep: 1, seq: 0x1an };
const token: OrfToken = {
  type: MessageType.ORF_TOKEN,
  nodeId: 1,
  targetNodeId: 0,
  seq: 1000,
  tokenSeq: 2000,
  aru: 1000,
  aruAddr: 0,
  ringId,
  backlog: 0,
  fcc: 12,
  retransFlg: 0,
  rtrList: [],
};

function mcastOf(appBytes: number): Mcast {
  const message = encodeGroupMessage(GROUP_A, new Uint8Array(appBytes).fill(0x5a));
  return {
    type: MessageType.MCAST,
    nodeId: 2,
    targetNodeId: 0,
    encapsulated: 2,
    systemFrom: 2,
    seq: 1001,
    thisSeqno: 77,
    ringId,
    nodeIdField: 0,
    guarantee: 0,
    payload: encodePgPacket(0, 0, [message]),
  };
}

let sink = 0;

/**
 * Best and median of ROUNDS timed rounds of ITER calls each, after a warm-up: the machine is
 * shared, so the best round is the least disturbed figure.
 */
function bench(name: string, fn: () => number): void {
  for (let i = 0; i < Math.min(ITER, 200_000); i++) sink += fn();
  const perOp: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ITER; i++) sink += fn();
    perOp.push(Number(process.hrtime.bigint() - t0) / ITER);
  }
  perOp.sort((a, b) => a - b);
  const best = perOp[0]!.toFixed(1).padStart(8);
  const median = perOp[perOp.length >> 1]!.toFixed(1).padStart(8);
  console.log(`${name.padEnd(44)} ${best} ns/op best, ${median} median`);
}

const tokenBytes = encodeTotem(token);
bench(`decode orf_token (${tokenBytes.length} B)`, () => decodeTotem(tokenBytes).type);
bench(`encode orf_token (${tokenBytes.length} B)`, () => encodeTotem(token).length);
bench("peekHeader", () => peekHeader(tokenBytes).nodeId);

for (const app of [64, 1024]) {
  const m = mcastOf(app);
  const frame = encodeTotem(m);
  const label = `mcast, ${app} B message (${frame.length} B)`;
  bench(`decode ${label}`, () => decodeTotem(frame).type);
  bench(`encode ${label}`, () => encodeMcast(m, m.payload).length);
  const message = decodePgPacket(m.payload).pieces;
  bench(`encodePgMcast ${label}`, () => encodePgMcast(m, 0, 0, message).length);
  bench(`decode mcast + totempg + group, ${app} B`, () => {
    const d = decodeTotem(frame) as Mcast;
    const p = decodePgPacket(d.payload, true);
    return decodeGroupMessage(p.pieces[0]!, true).body.length;
  });
}

if (sink === 42) console.log("");
