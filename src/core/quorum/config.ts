/**
 * What votequorum reads from the configuration map (corosync 3.1.7 `votequorum_readconfig`,
 * totem-spec §7.3, votequorum(5)). Values must have the exact cmap type corosync asks for
 * (`icmap_get_uint32` refuses a key of another type): a mistyped key counts as absent.
 *
 * Pure: reads a `CmapStore`.
 */
import type { CmapStore } from "../cmap/store.js";
import { CmapType } from "../cmap/types.js";

/** Typed reads with icmap's strictness. */
export class QuorumKeys {
  constructor(readonly cmap: CmapStore) {}

  u32(key: string): number | undefined {
    const v = this.cmap.get(key);
    return v !== undefined && v.type === CmapType.UINT32 ? v.value : undefined;
  }

  u8(key: string): number | undefined {
    const v = this.cmap.get(key);
    return v !== undefined && v.type === CmapType.UINT8 ? v.value : undefined;
  }

  str(key: string): string | undefined {
    const v = this.cmap.get(key);
    return v !== undefined && v.type === CmapType.STRING ? v.value : undefined;
  }
}

/** `auto_tie_breaker` as votequorum holds it (`runtime.votequorum.atb_type` numbers). */
export const AtbType = { NONE: 0, LOWEST: 1, HIGHEST: 2, LIST: 3 } as const;
export type AtbType = (typeof AtbType)[keyof typeof AtbType];

/** The nodelist part: our votes, the node count and the sum of every node's votes. */
export interface NodelistVotes {
  votes: number;
  nodes: number;
  expectedVotes: number;
}

/**
 * `votequorum_read_nodelist_configuration`: undefined without `nodelist.local_node_pos`
 * (no nodelist, or we are not in it). Each `nodelist.node.<n>` counts once; its
 * `quorum_votes` defaults to 1.
 */
export function readNodelistVotes(keys: QuorumKeys): NodelistVotes | undefined {
  const ourPos = keys.u32("nodelist.local_node_pos");
  if (ourPos === undefined) return undefined;
  const positions = new Set<number>();
  for (const key of keys.cmap.keys("nodelist.node.")) {
    const m = /^nodelist\.node\.(\d+)\.\S+$/.exec(key);
    if (m !== null) positions.add(Number(m[1]));
  }
  let votes = 0;
  let expectedVotes = 0;
  for (const pos of positions) {
    const v = keys.u32(`nodelist.node.${pos}.quorum_votes`) ?? 1;
    expectedVotes += v;
    if (pos === ourPos) votes = v;
  }
  return { votes, nodes: positions.size, expectedVotes };
}

/**
 * `parse_atb_string`: `lowest`, `highest`, or a list of node ids separated by blanks
 * (parsing stops at the first 0 or non-number, as `strtol` does). Undefined when invalid.
 */
export function parseAtbNodes(text: string): { type: AtbType; list: number[] } | undefined {
  if (text === "lowest") return { type: AtbType.LOWEST, list: [] };
  if (text === "highest") return { type: AtbType.HIGHEST, list: [] };
  const list: number[] = [];
  for (const word of text.trim().split(/\s+/)) {
    const m = /^[+-]?\d+/.exec(word);
    const n = m === null ? 0 : Number.parseInt(m[0], 10);
    if (!Number.isFinite(n) || n === 0) break;
    list.push(n);
    if (list.length >= 384) break;
  }
  return list.length > 0 ? { type: AtbType.LIST, list } : undefined;
}

/** Quorum device settings (`quorum.device.*`). */
export interface QdeviceSettings {
  /** Votes from `quorum.device.votes`, -1 when unset. */
  votes: number;
  timeoutMs: number;
  syncTimeoutMs: number;
}

export const QDEVICE_DEFAULT_TIMEOUT_MS = 10000;
export const QDEVICE_DEFAULT_SYNC_TIMEOUT_MS = 30000;

/** `votequorum_qdevice_is_configured`: a non-empty `quorum.device.model`. */
export function readQdevice(keys: QuorumKeys): QdeviceSettings | undefined {
  const model = keys.str("quorum.device.model");
  if (model === undefined || model === "") return undefined;
  return {
    votes: keys.u32("quorum.device.votes") ?? -1,
    timeoutMs: keys.u32("quorum.device.timeout") ?? QDEVICE_DEFAULT_TIMEOUT_MS,
    syncTimeoutMs: keys.u32("quorum.device.sync_timeout") ?? QDEVICE_DEFAULT_SYNC_TIMEOUT_MS,
  };
}
