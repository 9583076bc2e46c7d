/**
 * Field layouts (target.ts `Field`) of the wire formats, for structure-aware generation:
 * the Totem messages (totem-spec §3), the totempg packet (§5.1), the group header (§5.5),
 * the sync messages (§7.1) and corosync's exec header. Written from the spec's tables.
 * Each function reads the counts of the valid input it is given to place the fields behind
 * them (list items, pieces).
 */
import { LIMITS } from "../../../src/wire/totem/types.js";
import type { Field } from "../target.js";

function u(b: Uint8Array, at: number, width: 2 | 4, le: boolean): number {
  if (at + width > b.byteLength) return 0;
  if (width === 2) return le ? b[at]! | (b[at + 1]! << 8) : (b[at]! << 8) | b[at + 1]!;
  return le
    ? (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0
    : ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

const v = (name: string, at: number, width: 1 | 2 | 4 | 8, le: boolean): Field => ({ name, at, width, le, kind: "value" });

function ringId(prefix: string, at: number, le: boolean): Field[] {
  return [v(`${prefix}.rep`, at, 4, le), v(`${prefix}.seq`, at + 4, 8, le)];
}

/** At most `n` list items get fields (long lists: the first few are enough). */
const ITEMS = 4;

/** The header (§3.1) and the body fields of a Totem frame, in its byte order. */
export function totemFields(b: Uint8Array, at = 0): Field[] {
  if (b.byteLength < at + 13) return [];
  const le = !(b[at] === 0xc0 && b[at + 1] === 0x70);
  const type = b[at + 3]!;
  const f: Field[] = [
    { name: "header.magic", at, width: 2, le, kind: "enum", valid: [0xc070] },
    { name: "header.version", at: at + 2, width: 1, le, kind: "enum", valid: [3] },
    { name: "header.type", at: at + 3, width: 1, le, kind: "enum", valid: [0, 1, 2, 3, 4, 5] },
    { name: "header.encapsulated", at: at + 4, width: 1, le, kind: "enum", valid: type === 1 ? [1, 2] : [0] },
    v("header.nodeid", at + 5, 4, le),
    v("header.target_nodeid", at + 9, 4, le),
  ];
  const o = (x: number): number => at + x;
  switch (type) {
    case 0: {
      f.push(v("orf_token.seq", o(13), 4, le), v("orf_token.token_seq", o(17), 4, le), v("orf_token.aru", o(21), 4, le));
      f.push(v("orf_token.aru_addr", o(25), 4, le), ...ringId("orf_token.ring_id", o(29), le));
      f.push(v("orf_token.backlog", o(41), 4, le), v("orf_token.fcc", o(45), 4, le), v("orf_token.retrans_flg", o(49), 4, le));
      f.push({ name: "orf_token.rtr_list_entries", at: o(53), width: 4, le, kind: "count", limit: LIMITS.rtrEntriesMax, unit: 16 });
      const n = Math.min(u(b, o(53), 4, le), ITEMS);
      for (let i = 0; i < n; i++) f.push(...ringId(`orf_token.rtr_list[${i}].ring_id`, o(57 + 16 * i), le), v(`orf_token.rtr_list[${i}].seq`, o(69 + 16 * i), 4, le));
      break;
    }
    case 1: {
      f.push(v("mcast.system_from", o(13), 4, le), v("mcast.seq", o(17), 4, le), v("mcast.this_seqno", o(21), 4, le));
      f.push(...ringId("mcast.ring_id", o(25), le), v("mcast.node_id", o(37), 4, le), v("mcast.guarantee", o(41), 4, le));
      if (b[at + 4] === 1) f.push(...totemFields(b, o(45)).map((x) => ({ ...x, name: `encapsulated.${x.name}` })));
      else if (b.byteLength >= o(45) + 8) f.push(...pgFields(b, o(45), le));
      break;
    }
    case 2:
      f.push(v("memb_merge_detect.system_from", o(13), 4, le), ...ringId("memb_merge_detect.ring_id", o(17), le));
      break;
    case 3: {
      f.push(v("memb_join.system_from", o(13), 4, le));
      f.push({ name: "memb_join.proc_list_entries", at: o(17), width: 4, le, kind: "count", limit: LIMITS.processorCountMax, unit: 4, group: "join" });
      f.push({ name: "memb_join.failed_list_entries", at: o(21), width: 4, le, kind: "count", limit: LIMITS.processorCountMax, unit: 4, group: "join" });
      f.push(v("memb_join.ring_seq", o(25), 8, le));
      const n = Math.min(u(b, o(17), 4, le) + u(b, o(21), 4, le), ITEMS);
      for (let i = 0; i < n; i++) f.push(v(`memb_join.list[${i}]`, o(33 + 4 * i), 4, le));
      break;
    }
    case 4: {
      f.push(v("memb_commit_token.token_seq", o(13), 4, le), ...ringId("memb_commit_token.ring_id", o(17), le));
      f.push(v("memb_commit_token.retrans_flg", o(29), 4, le));
      const n = u(b, o(37), 4, le);
      f.push({ name: "memb_commit_token.memb_index", at: o(33), width: 4, le, kind: "count", limit: n });
      f.push({ name: "memb_commit_token.addr_entries", at: o(37), width: 4, le, kind: "count", limit: LIMITS.processorCountMax, unit: 28 });
      const k = Math.min(n, ITEMS);
      for (let i = 0; i < k; i++) f.push(v(`memb_commit_token.addr[${i}]`, o(41 + 4 * i), 4, le));
      for (let i = 0; i < k; i++) {
        const e = o(41 + 4 * n + 24 * i);
        f.push(...ringId(`memb_commit_token.memb_list[${i}].ring_id`, e, le), v(`memb_commit_token.memb_list[${i}].aru`, e + 12, 4, le));
        f.push(v(`memb_commit_token.memb_list[${i}].high_delivered`, e + 16, 4, le), v(`memb_commit_token.memb_list[${i}].received_flg`, e + 20, 4, le));
      }
      break;
    }
    case 5:
      f.push(...ringId("token_hold_cancel.ring_id", o(13), le));
      break;
  }
  return f;
}

/** A totempg packet at `at` (§5.1) and the group header of its first whole piece (§5.5). */
export function pgFields(b: Uint8Array, at: number, le: boolean): Field[] {
  const len = b.byteLength - at;
  if (len < 8) return [];
  const count = u(b, at + 6, 2, le);
  const f: Field[] = [
    { name: "totempg.version", at, width: 2, le, kind: "enum", valid: [0] },
    { name: "totempg.type", at: at + 2, width: 2, le, kind: "enum", valid: [0] },
    { name: "totempg.fragmented", at: at + 4, width: 1, le, kind: "enum", valid: [0, 1, 2, 0xff] },
    { name: "totempg.continuation", at: at + 5, width: 1, le, kind: "enum", valid: [0, 1, 2, 0xff] },
    { name: "totempg.msg_count", at: at + 6, width: 2, le, kind: "count", limit: Math.max(0, (len - 8) >>> 1), unit: 2 },
  ];
  const n = Math.min(count, ITEMS);
  for (let i = 0; i < n; i++) f.push({ name: `totempg.msg_len[${i}]`, at: at + 8 + 2 * i, width: 2, le, kind: "length" });
  const first = at + 8 + 2 * count;
  if (count > 0 && b[at + 5] === 0 && first + 2 <= b.byteLength) f.push(...groupFields(b, first, le));
  return f;
}

/** A group header at `at` (§5.5). */
export function groupFields(b: Uint8Array, at: number, le: boolean): Field[] {
  if (b.byteLength < at + 2) return [];
  const count = u(b, at, 2, le);
  const f: Field[] = [{ name: "totempg_groups.group_count", at, width: 2, le, kind: "count", limit: 32, unit: 2 }];
  for (let i = 0; i < Math.min(count, ITEMS); i++) f.push({ name: `totempg_groups.group_len[${i}]`, at: at + 2 + 2 * i, width: 2, le, kind: "length" });
  return f;
}

/** A sync message at `at` (corosync `sync.c`: BARRIER 32 bytes, SERVICE_BUILD 552). */
export function syncFields(b: Uint8Array, at: number, le: boolean): Field[] {
  if (b.byteLength < at + 32) return [];
  const f: Field[] = [
    { name: "sync.header.id", at, width: 4, le, kind: "enum", valid: [0, 1] },
    v("sync.header.size", at + 8, 4, le),
    ...ringId("sync.ring_id", at + 16, le),
  ];
  if (b.byteLength >= at + 40) {
    f.push({ name: "sync.service_list_entries", at: at + 32, width: 4, le, kind: "count", limit: 128 });
    for (let i = 0; i < 4; i++) if (b.byteLength >= at + 44 + 4 * i) f.push(v(`sync.service_list[${i}]`, at + 40 + 4 * i, 4, le));
  }
  return f;
}

/** corosync's 16-byte exec/IPC request header at `at`: id (service << 16 | fn) and size. */
export function execFields(b: Uint8Array, at: number, le: boolean): Field[] {
  if (b.byteLength < at + 16) return [];
  return [
    { name: "exec.header.id.fn", at: le ? at : at + 2, width: 2, le, kind: "value" },
    { name: "exec.header.id.service", at: le ? at + 2 : at, width: 2, le, kind: "enum", valid: [0, 1, 2, 3, 4, 5, 6, 7] },
    { name: "exec.header.size", at: at + 8, width: 4, le, kind: "count", limit: b.byteLength - at },
  ];
}
