/**
 * The stats map (corosync 3 `exec/stats.c`, cmap_keys(7) "STATS KEYS"): counters that are
 * computed when asked, not stored. `corosync-cmapctl -m stats` reads it through
 * SET_CURRENT_MAP(1).
 *
 * Contracts, as corosync's stats map:
 * - every key is read-only except `stats.clear.*`: a write there clears counters
 *   (`stats.clear.totem`, `.ipc`, `.knet`, `.schedmiss`, `.all`; the match is by prefix, so
 *   `stats.clear.totemX` clears totem too) and any other `stats.clear.` key is
 *   `NOT_SUPPORTED`; writes elsewhere are `ACCESS`; delete and adjust are never supported
 *   (`ACCESS` on read-only keys, `NOT_SUPPORTED` on `stats.clear.*`);
 * - tracking: a prefix tracker must ask for both ADD and DELETE (else `NOT_SUPPORTED`) and
 *   gets only those (new and vanished keys, e.g. IPC connections); only exact-key trackers
 *   get MODIFY. Changes are found by `poll()` (the daemon calls it once a
 *   second, like corosync's stats timer), comparing each key with its value at the previous
 *   poll. Deviation: a MODIFY carries the previous value as `oldValue` (corosync repeats the
 *   new value there), and a DELETE carries the last value seen (corosync cannot read a
 *   vanished key and sends nothing).
 * Pure: the source is a function the daemon provides.
 */
import type { CmapEntry, CmapValue } from "./types.js";
import { CmapError } from "./errors.js";
import { cmapValueEquals, copyValue } from "./values.js";
import {
  CMAP_TRACK_ADD,
  CMAP_TRACK_DELETE,
  CMAP_TRACK_MODIFY,
  CMAP_TRACK_PREFIX,
  type CmapNotification,
} from "./store.js";
import type { CmapMap, CmapMapTracker } from "./map.js";

/** What `stats.clear.<what>` may clear. */
export type StatsClearTarget = "knet" | "ipc" | "totem" | "schedmiss" | "all";

/** Where the numbers come from. */
export interface StatsSource {
  /** The current stats keys (any order; keys unique). */
  entries(): CmapEntry[];
  /** Reset the counters of `what`. */
  clear(what: StatsClearTarget): void;
}

const CLEAR_PREFIX = "stats.clear.";
const CLEAR_TARGETS: readonly StatsClearTarget[] = ["knet", "ipc", "totem", "schedmiss", "all"];
const ALL_EVENTS = CMAP_TRACK_ADD | CMAP_TRACK_DELETE | CMAP_TRACK_MODIFY | CMAP_TRACK_PREFIX;

interface StatsTracker {
  key: string | undefined;
  trackType: number;
  notify: (n: CmapNotification) => void;
  active: boolean;
}

export class StatsMap implements CmapMap {
  private trackers: StatsTracker[] = [];
  /** Values at the last poll (kept only while someone tracks). */
  private last: Map<string, CmapValue> | undefined;

  constructor(private readonly source: StatsSource) {}

  private snapshot(): Map<string, CmapValue> {
    return new Map(this.source.entries().map((e) => [e.key, e.value]));
  }

  get(key: string): CmapValue {
    const v = this.snapshot().get(key);
    if (v === undefined) throw new CmapError("NOT_EXIST", `no stats key "${key}"`);
    return copyValue(v);
  }

  isReadOnly(key: string): boolean {
    return !key.startsWith(CLEAR_PREFIX);
  }

  set(key: string, _value: CmapValue): void {
    if (this.isReadOnly(key)) throw new CmapError("ACCESS", `stats key "${key}" is read-only`);
    const rest = key.slice(CLEAR_PREFIX.length);
    const target = CLEAR_TARGETS.find((t) => rest.startsWith(t));
    if (target === undefined) throw new CmapError("NOT_SUPPORTED", `"${key}" clears nothing`);
    this.source.clear(target);
  }

  delete(key: string): void {
    if (this.isReadOnly(key)) throw new CmapError("ACCESS", `stats key "${key}" is read-only`);
    throw new CmapError("NOT_SUPPORTED", "stats keys cannot be deleted");
  }

  adjustInt(key: string, _step: number): void {
    if (this.isReadOnly(key)) throw new CmapError("ACCESS", `stats key "${key}" is read-only`);
    throw new CmapError("NOT_SUPPORTED", "stats keys cannot be adjusted");
  }

  *iter(prefix: string): Generator<CmapEntry, void, undefined> {
    // One snapshot: the key list is fixed at ITER_INIT (clients GET each value afresh).
    const snap = this.snapshot();
    const keys = [...snap.keys()].filter((k) => k.startsWith(prefix)).sort(byteOrder);
    for (const key of keys) yield { key, value: snap.get(key)! };
  }

  track(key: string | undefined, trackType: number, notify: (n: CmapNotification) => void): CmapMapTracker {
    if (!Number.isInteger(trackType) || (trackType & ~ALL_EVENTS) !== 0) {
      throw new CmapError("INVALID_PARAM", `bad track type ${trackType}`);
    }
    if (trackType & CMAP_TRACK_PREFIX && !(trackType & CMAP_TRACK_ADD && trackType & CMAP_TRACK_DELETE)) {
      throw new CmapError("NOT_SUPPORTED", "a stats prefix tracker must track both ADD and DELETE");
    }
    if (this.last === undefined) this.last = this.snapshot();
    const t: StatsTracker = { key, trackType, notify, active: true };
    this.trackers.push(t);
    return {
      cancel: () => {
        t.active = false;
        this.trackers = this.trackers.filter((x) => x !== t);
        if (this.trackers.length === 0) this.last = undefined;
      },
    };
  }

  /** Number of live trackers. */
  get trackerCount(): number {
    return this.trackers.length;
  }

  /** Compare with the previous poll and notify trackers (see the file contract). */
  poll(): void {
    if (this.trackers.length === 0 || this.last === undefined) return;
    const before = this.last;
    const now = this.snapshot();
    this.last = now;
    for (const [key, value] of now) {
      const old = before.get(key);
      if (old === undefined) this.emit({ event: CMAP_TRACK_ADD, key, newValue: value });
      else if (!cmapValueEquals(old, value)) this.emit({ event: CMAP_TRACK_MODIFY, key, newValue: value, oldValue: old });
    }
    for (const [key, old] of before) {
      if (!now.has(key)) this.emit({ event: CMAP_TRACK_DELETE, key, oldValue: old });
    }
  }

  private emit(n: CmapNotification): void {
    for (const t of [...this.trackers]) {
      if (!t.active || !matches(t, n)) continue;
      try {
        t.notify(n);
      } catch {
        // A failing receiver (a closed connection) must not stop the others.
      }
    }
  }
}

/** MODIFY reaches exact-key trackers only; ADD / DELETE reach exact and prefix trackers. */
function matches(t: StatsTracker, n: CmapNotification): boolean {
  if ((t.trackType & n.event) === 0) return false;
  const prefix = (t.trackType & CMAP_TRACK_PREFIX) !== 0;
  if (n.event === CMAP_TRACK_MODIFY && (prefix || t.key === undefined)) return false;
  if (prefix) return t.key === undefined || n.key.startsWith(t.key);
  return t.key === n.key;
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
