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
import { allocFrame, readU16, view, writeU16LE } from "../totem/bytes.js";

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
  const le = littleEndian;
  const len = message.byteLength;
  if (len < 2) throw new DecodeError("TRUNCATED", "totempg_groups.group_count", `${len} bytes, no group count`);
  const count = readU16(message, 0, le);
  if (count > GROUP_LIMITS.groupCountMax) {
    throw new DecodeError("COUNT_LIMIT", "totempg_groups.group_count", `group_count = ${count} exceeds limit ${GROUP_LIMITS.groupCountMax}`);
  }
  const namesAt = 2 + 2 * count;
  if (namesAt > len) throw new DecodeError("TRUNCATED", "totempg_groups.group_len", `${len} bytes, length table needs ${namesAt}`);
  let total = 0;
  for (let i = 0; i < count; i++) total += readU16(message, 2 + 2 * i, le);
  if (total > len - namesAt) {
    throw new DecodeError("BAD_LENGTHS", "totempg_groups.group_len", `names take ${total} bytes, ${len - namesAt} remain`);
  }
  const groups = new Array<Uint8Array>(count);
  let at = namesAt;
  for (let i = 0; i < count; i++) {
    const nameLen = readU16(message, 2 + 2 * i, le);
    groups[i] = view(message, at, at + nameLen);
    at += nameLen;
  }
  return { groups, body: view(message, at) };
}

/** Whether `message` is addressed to `name` (corosync's `group_matches`: length + bytes). */
export function groupMatches(message: GroupMessage, name: Uint8Array): boolean {
  return message.groups.some((g) => bytesEqual(g, name));
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.byteLength; // read once: not hoisted out of the loop by V8
  if (n !== b.byteLength) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
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
 * The group header alone (count, lengths, names) for one group or several, little-endian:
 * the first iovec of a message, as corosync's `totempg_groups_mcast_joined` builds it.
 * Preconditions (asserted): 1..32 names of at most 65535 bytes.
 */
export function encodeGroupHeader(group: GroupName | readonly GroupName[]): Uint8Array {
  return encodeGroupMessage(group, EMPTY);
}

const EMPTY = new Uint8Array(0);

/**
 * Encode an application message for one group (corosync's case) or several: the group
 * header, then `body` (little-endian, one allocation).
 * Preconditions (asserted): 1..32 names of at most 65535 bytes.
 */
export function encodeGroupMessage(group: GroupName | readonly GroupName[], body: Uint8Array): Uint8Array {
  const names = (typeof group === "string" || group instanceof Uint8Array ? [group] : group).map(nameBytes);
  assert(names.length >= 1 && names.length <= GROUP_LIMITS.groupCountMax, `totempg_groups: ${names.length} groups`);
  let size = 2 + 2 * names.length + body.byteLength;
  for (const n of names) {
    assert(n.byteLength <= GROUP_LIMITS.groupNameBytesMax, "totempg_groups: group name too long");
    size += n.byteLength;
  }
  const out = allocFrame(size);
  writeU16LE(out, 0, names.length);
  let at = 2 + 2 * names.length;
  names.forEach((n, i) => {
    writeU16LE(out, 2 + 2 * i, n.byteLength);
    out.set(n, at);
    at += n.byteLength;
  });
  out.set(body, at);
  return out;
}

/** The header of every service exec message: group "a" (`01 00 01 00 61`). */
export const GROUP_HEADER_A: Uint8Array = encodeGroupHeader(GROUP_A);
/** The header of every sync message: group "sync" (`01 00 04 00 73 79 6E 63`). */
export const GROUP_HEADER_SYNC: Uint8Array = encodeGroupHeader(GROUP_SYNC);
