/**
 * Test helper: the big-endian rendition of a little-endian Totem frame, as a big-endian
 * corosync would have sent it (totem-spec §1.1): every multi-byte field of the Totem message
 * swapped, and for a normal MCAST also the totempg packet's header and length table (§5.1)
 * and the group header of every piece that starts a message (§5.5). Service bodies are left
 * alone (the codec does not read them).
 *
 * Written from the spec's layout tables, independently of the codec under test.
 */

type Field = readonly [offset: number, width: number];

const HEADER: Field[] = [
  [0, 2],
  [5, 4],
  [9, 4],
];
const RING_ID = (at: number): Field[] => [
  [at, 4],
  [at + 4, 8],
];
const U32S = (at: number, n: number): Field[] => Array.from({ length: n }, (_, i) => [at + 4 * i, 4] as const);

function swapFields(bytes: Uint8Array, fields: readonly Field[]): void {
  for (const [offset, width] of fields) {
    if (offset + width > bytes.byteLength) throw new Error(`swap: field at ${offset} past the end`);
    bytes.subarray(offset, offset + width).reverse();
  }
}

function leU32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);
}

function leU16(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint16(at, true);
}

function orfTokenFields(b: Uint8Array): Field[] {
  const n = leU32(b, 53);
  const fields: Field[] = [...U32S(13, 4), ...RING_ID(29), ...U32S(41, 4)];
  for (let i = 0; i < n; i++) fields.push(...RING_ID(57 + 16 * i), [57 + 16 * i + 12, 4]);
  return fields;
}

function joinFields(b: Uint8Array): Field[] {
  const p = leU32(b, 17);
  const f = leU32(b, 21);
  return [...U32S(13, 3), [25, 8], ...U32S(33, p + f)];
}

function commitFields(b: Uint8Array): Field[] {
  const n = leU32(b, 37);
  const fields: Field[] = [[13, 4], ...RING_ID(17), ...U32S(29, 3), ...U32S(41, n)];
  for (let i = 0; i < n; i++) {
    const at = 41 + 4 * n + 24 * i;
    fields.push(...RING_ID(at), ...U32S(at + 12, 3));
  }
  return fields;
}

const MCAST_HEADER: Field[] = [...U32S(13, 3), ...RING_ID(25), ...U32S(37, 2)];

/** Swap a totempg packet (little-endian in `b` from `at`) and its pieces' group headers. */
function swapPgPacket(b: Uint8Array, at: number): void {
  const continuation = b[at + 5]!;
  const count = leU16(b, at + 6);
  const lens = Array.from({ length: count }, (_, i) => leU16(b, at + 8 + 2 * i));
  let piece = at + 8 + 2 * count;
  for (let i = 0; i < count; i++) {
    if (!(i === 0 && continuation !== 0)) swapGroupHeader(b, piece);
    piece += lens[i]!;
  }
  swapFields(b, [
    [at, 2],
    [at + 2, 2],
    [at + 6, 2],
    ...Array.from({ length: count }, (_, i) => [at + 8 + 2 * i, 2] as const),
  ]);
}

function swapGroupHeader(b: Uint8Array, at: number): void {
  const n = leU16(b, at);
  swapFields(b, Array.from({ length: n + 1 }, (_, i) => [at + 2 * i, 2] as const));
}

/** A new array holding the big-endian rendition of the little-endian frame `le`. */
export function toBigEndian(le: Uint8Array): Uint8Array {
  const b = le.slice();
  if (b[0] !== 0x70 || b[1] !== 0xc0) throw new Error("toBigEndian: not a little-endian Totem frame");
  const type = b[3];
  switch (type) {
    case 0:
      swapFields(b, orfTokenFields(le));
      break;
    case 1:
      if (b[4] === 1) {
        b.set(toBigEndian(le.subarray(45)), 45);
      } else {
        swapPgPacket(b, 45);
      }
      swapFields(b, MCAST_HEADER);
      break;
    case 2:
      swapFields(b, [[13, 4], ...RING_ID(17)]);
      break;
    case 3:
      swapFields(b, joinFields(le));
      break;
    case 4:
      swapFields(b, commitFields(le));
      break;
    case 5:
      swapFields(b, RING_ID(13));
      break;
    default:
      throw new Error(`toBigEndian: type ${type}`);
  }
  swapFields(b, HEADER);
  return b;
}
