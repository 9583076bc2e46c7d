/**
 * The executive's configuration map: a flat, typed key/value store with sorted prefix
 * iteration, read-only keys and change tracking, as corosync 3's icmap
 * (`exec/icmap.c`, `include/corosync/icmap.h`).
 *
 * Contracts (style: operations either succeed or throw a `CmapError` whose `code` mirrors
 * `cs_error_t`; nothing is partially applied when one throws):
 * - `set` of a key that does not exist adds it; of a key that exists replaces its value and
 *   its type (icmap lets a key change type); of the same type and bytes changes nothing and
 *   notifies nobody (`icmap_set_r` returns early when `icmap_item_eq` holds).
 * - A new key's name must pass `isValidKeyName` or `set` throws `NAME_TOO_LONG` (icmap's
 *   code for any bad name, not only long ones). A bad value throws `INVALID_PARAM`.
 * - Read-only keys (exact names, or every key starting with a prefix) refuse `set`,
 *   `delete` and `adjustInt` with `ACCESS`, even when the value would not change, as the
 *   cmap service checks `icmap_is_key_ro` before anything else. The executive (the
 *   store's owner) passes `{ force: true }` to write them anyway; IPC clients never do.
 * - Iteration is in byte-wise ascending key order (key names are ASCII, so this is plain
 *   string order). An iterator may run while the store changes: it yields, in order, the
 *   keys greater than the last one it yielded that exist when it resumes.
 * - Trackers are called synchronously, after the change is applied, in the order they were
 *   registered. A tracker matches a key exactly, or (with `CMAP_TRACK_PREFIX`) every key
 *   that starts with its string, as in icmap (`"totem."` matches `totem.token`, `"totem"`
 *   also matches `totemx`). A tracker that throws is caught: the failure is recorded
 *   (`callbackFailures()`, bounded) and handed to `onCallbackError`, and the remaining
 *   trackers still run. Changes made from inside a callback notify at once (depth first);
 *   past `MAX_NOTIFY_DEPTH` nested notifications are dropped and recorded as failures, so a
 *   callback that keeps rewriting what it watches cannot overflow the stack.
 * - Values handed out (`get`, iteration, notifications) are copies where they could be
 *   mutated (binary bytes), so callers cannot change the store behind its back.
 */
import type { CmapEntry, CmapValue } from "./types.js";
import { CmapError } from "./errors.js";
import { isValidKeyName } from "./keys.js";
import { cmapValueEquals, copyValue, normalizeValue, stepInteger } from "./values.js";

/** Tracking flags, numbered as corosync's `CMAP_TRACK_*` / `ICMAP_TRACK_*`. */
export const CMAP_TRACK_DELETE = 1;
export const CMAP_TRACK_MODIFY = 2;
export const CMAP_TRACK_ADD = 4;
/** Track every key starting with the given string; never reported in a notification. */
export const CMAP_TRACK_PREFIX = 8;
const TRACK_ALL_BITS = CMAP_TRACK_DELETE | CMAP_TRACK_MODIFY | CMAP_TRACK_ADD | CMAP_TRACK_PREFIX;

/** Nested notifications deeper than this are dropped (see the contract above). */
export const MAX_NOTIFY_DEPTH = 32;
/** How many tracker failures the store keeps for `callbackFailures()`. */
export const DEFAULT_MAX_RECORDED_FAILURES = 64;

/** The event a notification reports: one of `CMAP_TRACK_ADD`, `_MODIFY`, `_DELETE`. */
export type CmapTrackEvent = typeof CMAP_TRACK_ADD | typeof CMAP_TRACK_MODIFY | typeof CMAP_TRACK_DELETE;

/**
 * One change. `newValue` is set for ADD and MODIFY, `oldValue` for MODIFY and DELETE
 * (icmap's `new_val` / `old_val`).
 */
export interface CmapNotification {
  event: CmapTrackEvent;
  key: string;
  newValue?: CmapValue;
  oldValue?: CmapValue;
}

export type CmapNotifyFn = (n: CmapNotification) => void;

/** What to track: `events` is a bitmask of `CMAP_TRACK_ADD | _MODIFY | _DELETE`. */
export interface CmapTrackOptions {
  prefix?: boolean;
  events: number;
}

/** A registered tracker; `cancel()` stops it (idempotent, safe inside a callback). */
export interface CmapTrackHandle {
  readonly key: string;
  /** The events bitmask, with `CMAP_TRACK_PREFIX` when tracking a prefix. */
  readonly trackType: number;
  readonly active: boolean;
  cancel(): void;
}

/** `force` lets the store's owner write read-only keys. */
export interface CmapWriteOptions {
  force?: boolean;
}

/** What `set` did. */
export type CmapSetResult = "added" | "modified" | "unchanged";

/** A tracker callback that threw, or a notification dropped for nesting too deep. */
export interface CmapCallbackFailure {
  trackKey: string;
  notification: CmapNotification;
  error: unknown;
}

export interface CmapStoreOptions {
  /** Called for each recorded failure (e.g. to log it). Its own exceptions are swallowed. */
  onCallbackError?: (failure: CmapCallbackFailure) => void;
  /** Bound on `callbackFailures()`; the oldest are dropped first. */
  maxRecordedFailures?: number;
}

interface Tracker {
  readonly key: string;
  readonly trackType: number;
  readonly fn: CmapNotifyFn;
  active: boolean;
}

interface ReadOnlyRule {
  readonly key: string;
  readonly prefix: boolean;
}

export class CmapStore {
  private readonly values = new Map<string, CmapValue>();
  /** All keys, byte-wise ascending. */
  private readonly sorted: string[] = [];
  private readonly readOnly: ReadOnlyRule[] = [];
  private trackers: Tracker[] = [];
  private notifyDepth = 0;
  private readonly failures: CmapCallbackFailure[] = [];
  private failureCount = 0;
  private readonly onCallbackError: ((f: CmapCallbackFailure) => void) | undefined;
  private readonly maxRecordedFailures: number;

  constructor(options: CmapStoreOptions = {}) {
    this.onCallbackError = options.onCallbackError;
    this.maxRecordedFailures = options.maxRecordedFailures ?? DEFAULT_MAX_RECORDED_FAILURES;
  }

  /** Number of keys. */
  get size(): number {
    return this.values.size;
  }

  /** The value of `key`, or `undefined` if there is no such key. */
  get(key: string): CmapValue | undefined {
    const v = this.values.get(key);
    return v === undefined ? undefined : copyValue(v);
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  /** The value of `key` if it is a string (`logging.*` and most config keys are). */
  getString(key: string): string | undefined {
    const v = this.values.get(key);
    return v !== undefined && typeof v.value === "string" ? v.value : undefined;
  }

  /**
   * Adds or replaces `key`. Returns what happened; throws `ACCESS` (read-only key, no
   * `force`), `INVALID_PARAM` (bad value), `NAME_TOO_LONG` (bad name for a new key).
   */
  set(key: string, value: CmapValue, options: CmapWriteOptions = {}): CmapSetResult {
    checkKeyArgument(key);
    this.checkWritable(key, options);
    const stored = normalizeValue(key, value);
    const old = this.values.get(key);
    if (old === undefined) {
      if (!isValidKeyName(key)) throw new CmapError("NAME_TOO_LONG", `invalid key name "${key}"`);
      this.sorted.splice(this.lowerBound(key), 0, key);
      this.values.set(key, stored);
      this.notify({ event: CMAP_TRACK_ADD, key, newValue: stored });
      return "added";
    }
    if (cmapValueEquals(old, stored)) return "unchanged";
    this.values.set(key, stored);
    this.notify({ event: CMAP_TRACK_MODIFY, key, newValue: stored, oldValue: old });
    return "modified";
  }

  /** Sets every entry in order; stops at (and throws) the first failure. */
  setMany(entries: Iterable<CmapEntry>, options: CmapWriteOptions = {}): void {
    for (const e of entries) this.set(e.key, e.value, options);
  }

  /** Removes `key` and returns its last value. Throws `NOT_EXIST` or `ACCESS`. */
  delete(key: string, options: CmapWriteOptions = {}): CmapValue {
    checkKeyArgument(key);
    this.checkWritable(key, options);
    const old = this.values.get(key);
    if (old === undefined) throw new CmapError("NOT_EXIST", `no key "${key}"`);
    this.values.delete(key);
    this.sorted.splice(this.lowerBound(key), 1);
    this.notify({ event: CMAP_TRACK_DELETE, key, oldValue: old });
    return copyValue(old);
  }

  /**
   * Removes every key starting with `prefix` (e.g. `runtime.members.3.`), returning how many.
   * Read-only keys among them throw `ACCESS` before anything is removed, unless `force`.
   */
  deletePrefix(prefix: string, options: CmapWriteOptions = {}): number {
    const doomed = this.keys(prefix);
    if (!options.force) for (const k of doomed) this.checkWritable(k, options);
    let removed = 0;
    for (const k of doomed) {
      if (!this.values.has(k)) continue; // a tracker removed it meanwhile
      this.delete(k, { force: true });
      removed++;
    }
    return removed;
  }

  /**
   * Adds `step` (an int32, as in `cmap_adjust_int`) to an integer key, wrapping at the
   * type's width as icmap's fixed-size arithmetic does (`cmap_inc` / `cmap_dec` are steps
   * of 1 and -1). Returns the new value; a step of 0 changes nothing and notifies nobody.
   * Throws `NOT_EXIST`, `ACCESS`, or `INVALID_PARAM` (bad step, or not an integer type).
   */
  adjustInt(key: string, step: number, options: CmapWriteOptions = {}): CmapValue {
    checkKeyArgument(key);
    this.checkWritable(key, options);
    if (!Number.isInteger(step) || step < -0x80000000 || step > 0x7fffffff) {
      throw new CmapError("INVALID_PARAM", `step ${step} is not an int32`);
    }
    const old = this.values.get(key);
    if (old === undefined) throw new CmapError("NOT_EXIST", `no key "${key}"`);
    const next = stepInteger(old, step);
    if (next === undefined) throw new CmapError("INVALID_PARAM", `key "${key}" does not hold an integer`);
    this.set(key, next, { force: true });
    return copyValue(next);
  }

  /**
   * Entries whose key starts with `prefix` ("" for all), in byte-wise ascending key order.
   * Safe against changes while iterating (see the file's contract).
   */
  *iter(prefix = ""): Generator<CmapEntry, void, undefined> {
    let i = this.lowerBound(prefix);
    let last: string | undefined;
    for (;;) {
      if (last !== undefined) i = this.sorted[i] === last ? i + 1 : this.upperBound(last);
      const key = this.sorted[i];
      if (key === undefined || !key.startsWith(prefix)) return;
      last = key;
      yield { key, value: copyValue(this.values.get(key) as CmapValue) };
    }
  }

  /** Keys starting with `prefix`, sorted. */
  keys(prefix = ""): string[] {
    const out: string[] = [];
    for (let i = this.lowerBound(prefix); i < this.sorted.length; i++) {
      const key = this.sorted[i] as string;
      if (!key.startsWith(prefix)) break;
      out.push(key);
    }
    return out;
  }

  /** Entries whose key starts with `prefix`, sorted (an array form of `iter`). */
  getMany(prefix = ""): CmapEntry[] {
    return Array.from(this.iter(prefix));
  }

  /**
   * Marks `keyOrPrefix` read-only for clients (`icmap_set_ro_access(key, prefix, 1)`).
   * Throws `EXIST` if the same rule is already there.
   */
  setReadOnly(keyOrPrefix: string, prefix: boolean): void {
    if (this.findReadOnly(keyOrPrefix, prefix) >= 0) {
      throw new CmapError("EXIST", `"${keyOrPrefix}" is already read-only`);
    }
    this.readOnly.push({ key: keyOrPrefix, prefix });
  }

  /** Removes a read-only rule (`icmap_set_ro_access(key, prefix, 0)`); `NOT_EXIST` if absent. */
  clearReadOnly(keyOrPrefix: string, prefix: boolean): void {
    const i = this.findReadOnly(keyOrPrefix, prefix);
    if (i < 0) throw new CmapError("NOT_EXIST", `"${keyOrPrefix}" is not read-only`);
    this.readOnly.splice(i, 1);
  }

  /** True if a client may not change `key` (`icmap_is_key_ro`). */
  isReadOnly(key: string): boolean {
    return this.readOnly.some((r) => (r.prefix ? key.startsWith(r.key) : key === r.key));
  }

  /**
   * Calls `callback` after each change to `keyOrPrefix` selected by `options.events`
   * (with `options.prefix`, to every key starting with it). `options` may also be a raw
   * `track_type` bitmask as a client sends it. Throws `INVALID_PARAM` for unknown bits.
   */
  track(keyOrPrefix: string, options: CmapTrackOptions | number, callback: CmapNotifyFn): CmapTrackHandle {
    const trackType =
      typeof options === "number" ? options : options.events | (options.prefix ? CMAP_TRACK_PREFIX : 0);
    if (!Number.isInteger(trackType) || (trackType & ~TRACK_ALL_BITS) !== 0) {
      throw new CmapError("INVALID_PARAM", `bad track type ${String(trackType)}`);
    }
    if (typeof callback !== "function") throw new CmapError("INVALID_PARAM", "track callback must be a function");
    checkKeyArgument(keyOrPrefix);
    const tracker: Tracker = { key: keyOrPrefix, trackType, fn: callback, active: true };
    this.trackers.push(tracker);
    return {
      key: keyOrPrefix,
      trackType,
      get active() {
        return tracker.active;
      },
      cancel: () => this.untrack(tracker),
    };
  }

  /** Number of active trackers. */
  get trackerCount(): number {
    return this.trackers.length;
  }

  /** Recent tracker failures (oldest first), at most `maxRecordedFailures`. */
  callbackFailures(): readonly CmapCallbackFailure[] {
    return this.failures.slice();
  }

  /** Total tracker failures since the store was made (recorded or not). */
  get callbackFailureCount(): number {
    return this.failureCount;
  }

  /** Returns the recorded failures and forgets them. */
  takeCallbackFailures(): CmapCallbackFailure[] {
    return this.failures.splice(0, this.failures.length);
  }

  private untrack(tracker: Tracker): void {
    if (!tracker.active) return;
    tracker.active = false;
    this.trackers = this.trackers.filter((t) => t !== tracker);
  }

  private checkWritable(key: string, options: CmapWriteOptions): void {
    if (!options.force && this.isReadOnly(key)) throw new CmapError("ACCESS", `key "${key}" is read-only`);
  }

  private findReadOnly(key: string, prefix: boolean): number {
    return this.readOnly.findIndex((r) => r.key === key && r.prefix === prefix);
  }

  private notify(change: CmapNotification): void {
    if (this.trackers.length === 0) return;
    const matching = this.trackers.filter((t) => trackerMatches(t, change));
    if (matching.length === 0) return;
    if (this.notifyDepth >= MAX_NOTIFY_DEPTH) {
      const error = new CmapError("TRY_AGAIN", `notification for "${change.key}" dropped: nested deeper than ${MAX_NOTIFY_DEPTH}`);
      for (const t of matching) this.recordFailure({ trackKey: t.key, notification: change, error });
      return;
    }
    this.notifyDepth++;
    try {
      for (const t of matching) {
        if (!t.active) continue; // cancelled by an earlier callback
        try {
          t.fn(copyNotification(change));
        } catch (error) {
          this.recordFailure({ trackKey: t.key, notification: change, error });
        }
      }
    } finally {
      this.notifyDepth--;
    }
  }

  private recordFailure(failure: CmapCallbackFailure): void {
    this.failureCount++;
    this.failures.push(failure);
    if (this.failures.length > this.maxRecordedFailures) this.failures.shift();
    if (this.onCallbackError === undefined) return;
    try {
      this.onCallbackError(failure);
    } catch {
      // The hook is for reporting; a failing reporter must not break a write.
    }
  }

  /** Index of the first key >= `key`. */
  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.sorted[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first key > `key`. */
  private upperBound(key: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.sorted[mid] as string) <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function checkKeyArgument(key: unknown): asserts key is string {
  if (typeof key !== "string") throw new CmapError("INVALID_PARAM", "key name must be a string");
}

function trackerMatches(t: Tracker, change: CmapNotification): boolean {
  if ((t.trackType & change.event) === 0) return false;
  return t.trackType & CMAP_TRACK_PREFIX ? change.key.startsWith(t.key) : change.key === t.key;
}

function copyNotification(n: CmapNotification): CmapNotification {
  const out: CmapNotification = { event: n.event, key: n.key };
  if (n.newValue !== undefined) out.newValue = copyValue(n.newValue);
  if (n.oldValue !== undefined) out.oldValue = copyValue(n.oldValue);
  return out;
}
