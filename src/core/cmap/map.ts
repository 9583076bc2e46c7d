/**
 * What a cmap IPC connection works on: a "map" with icmap's operations. corosync 3 has two
 * (`exec/cmap.c` `struct cmap_map`): the default map (icmap, the executive's `CmapStore`) and
 * the stats map (counters computed on demand, `stats-map.ts`); a client picks one with
 * SET_CURRENT_MAP (`cmap_initialize_map`).
 *
 * Contract shared by both implementations: operations either succeed or throw `CmapError`
 * with corosync's code; `isReadOnly` is what the service checks before any write (a write
 * to a read-only key is `ACCESS` whatever the value); notifications are delivered
 * synchronously (default map) or when the owner polls (stats map).
 */
import type { CmapEntry, CmapValue } from "./types.js";
import { CmapError } from "./errors.js";
import type { CmapNotification, CmapStore } from "./store.js";

/** A registered tracker of a map. */
export interface CmapMapTracker {
  cancel(): void;
}

export interface CmapMap {
  /** The value of `key`; throws `NOT_EXIST`. */
  get(key: string): CmapValue;
  /** Client write (no force): `ACCESS`, `INVALID_PARAM`, `NAME_TOO_LONG`, `NOT_SUPPORTED`. */
  set(key: string, value: CmapValue): void;
  /** `ACCESS`, `NOT_EXIST`, `NOT_SUPPORTED`. */
  delete(key: string): void;
  /** `ACCESS`, `NOT_EXIST`, `INVALID_PARAM` (not an integer), `NOT_SUPPORTED`. */
  adjustInt(key: string, step: number): void;
  isReadOnly(key: string): boolean;
  /** Entries under `prefix` in byte-wise key order; safe against changes while iterating. */
  iter(prefix: string): Iterator<CmapEntry>;
  /**
   * Track `key` (exactly, or as a prefix with `CMAP_TRACK_PREFIX` in `trackType`);
   * `key` undefined is libcmap's NULL key (with the prefix flag: every key).
   */
  track(key: string | undefined, trackType: number, notify: (n: CmapNotification) => void): CmapMapTracker;
}

/** The default map: the executive's store, written as a client (read-only rules apply). */
export function storeMap(store: CmapStore): CmapMap {
  return {
    get(key) {
      const v = store.get(key);
      if (v === undefined) throw notExist(key);
      return v;
    },
    set(key, value) {
      store.set(key, value);
    },
    delete(key) {
      store.delete(key);
    },
    adjustInt(key, step) {
      store.adjustInt(key, step);
    },
    isReadOnly: (key) => store.isReadOnly(key),
    iter: (prefix) => store.iter(prefix),
    track(key, trackType, notify) {
      const handle = store.track(key ?? "", trackType, notify);
      return { cancel: () => handle.cancel() };
    },
  };
}

function notExist(key: string): CmapError {
  return new CmapError("NOT_EXIST", `no key "${key}"`);
}
