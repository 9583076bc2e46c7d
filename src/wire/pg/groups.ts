/**
 * The totempg group header that starts every application message (totem-spec §5.5):
 * `u16 group_count | u16 group_len[group_count] | names, concatenated | body`, in the
 * sender's byte order. Corosync 3 sends exactly one name per message: "a" for service exec
 * messages (`main.c`) and "sync" for the sync protocol (`sync.c`).
 *
 * Corosync's receiver (`group_matches`) checks none of these lengths; we check all of them.
 *
 * Pure: no node modules, no clocks (style.md "Architecture").
 */
import { assert } from "../../core/assert.js";
import { DecodeError } from "../errors.js";
import { Reader } from "../reader.js";
import { Writer } from "../writer.js";

/** A group name as bytes (exact length + bytes match, no terminator), or ASCII text. */
export type GroupName = Uint8Array | string;

/** The group of corosync's service exec messages ("a", `main.c`). */
export const GROUP_A: Uint8Array = Uint8Array.of(0x61);
/** The group of the sync protocol ("sync", `sync.c`). */
export const GROUP_SYNC: Uint8Array = Uint8Array.of(0x73, 0x79, 0x6e, 0x63);

export const GROUP_LIMITS = {
  /**
   * `MAX_GROUPS_PER_MSG` (totempg.c): a sender builds its length table in an array of this
   * many names (+1), so no corosync sends more.
   */
  groupCountMax: 32,
  /** `group_len[i]` is a u16; corosync has no tighter limit. */
  groupNameBytesMax: 0xffff,
} as const;

/** A decoded application message: the group names and the body, as views (no copies). */
export interface GroupMessage {
  groups: Uint8Array[];
  body: Uint8Array;
}

/**
 * Decode the group header of one whole application message (a totempg piece, or a
 * reassembled message). `littleEndian` is the carrying MCAST's byte order.
 * @throws DecodeError TRUNCATED (no room for the count or the length table), COUNT_LIMIT
 *   (more than 32 groups), BAD_LENGTHS (names that run past the end of the message).
 */
export function decodeGroupMessage(message: Uint8Array, littleEndian = true): GroupMessage {
  const r = new Reader(message, littleEndian);
  const count = r.count("totempg_groups.group_count", GROUP_LIMITS.groupCountMax, 2, r.u16("totempg_groups.group_count"));
  const lens = new Array<number>(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const len = r.u16("totempg_groups.group_len");
    lens[i] = len;
    total += len;
  }
  if (total > r.remaining) {
    throw new DecodeError("BAD_LENGTHS", "totempg_groups.group_len", `names take ${total} bytes, ${r.remaining} remain`);
  }
  const groups = new Array<Uint8Array>(count);
  for (let i = 0; i < count; i++) groups[i] = r.bytesView(lens[i]!, "totempg_groups.group_name");
  return { groups, body: r.bytesView(r.remaining, "totempg_groups.body") };
}

/** Whether `message` is addressed to `name` (corosync's `group_matches`: length + bytes). */
export function groupMatches(message: GroupMessage, name: Uint8Array): boolean {
  return message.groups.some((g) => bytesEqual(g, name));
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function nameBytes(name: GroupName): Uint8Array {
  if (typeof name !== "string") return name;
  const out = new Uint8Array(name.length);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    assert(c < 0x80, "group names given as text must be ASCII");
    out[i] = c;
  }
  return out;
}

/**
 * Encode an application message for one group (corosync's case) or several: the group
 * header, then `body` (little-endian, one allocation).
 * Preconditions (asserted): 1..32 names of at most 65535 bytes.
 */
export function encodeGroupMessage(group: GroupName | readonly GroupName[], body: Uint8Array): Uint8Array {
  const names = (Array.isArray(group) ? group : [group]).map(nameBytes);
  assert(names.length >= 1 && names.length <= GROUP_LIMITS.groupCountMax, `totempg_groups: ${names.length} groups`);
  let size = 2 + 2 * names.length + body.byteLength;
  for (const n of names) {
    assert(n.byteLength <= GROUP_LIMITS.groupNameBytesMax, "totempg_groups: group name too long");
    size += n.byteLength;
  }
  const w = new Writer(size);
  w.u16(names.length);
  for (const n of names) w.u16(n.byteLength);
  for (const n of names) w.raw(n);
  w.raw(body);
  return w.finish();
}
