/**
 * Shutdown coordination of the cfg service, exactly as corosync 3.1.7 runs it (`exec/cfg.c`):
 *
 * - A client (`corosync-cfgtool -H`, pacemakerd) asks `TRYSHUTDOWN` with flags REQUEST,
 *   REGARDLESS or IMMEDIATE. IMMEDIATE, or nobody tracking, answers OK at once and the node
 *   multicasts SHUTDOWN (it stops when that comes back).
 * - Otherwise every *other* tracking client (`TRACKSTART`) gets a TESTSHUTDOWN event and must
 *   vote with `REPLYTOSHUTDOWN`; the asker's answer is deferred. When all votes are in: all
 *   yes (or REGARDLESS) → OK and SHUTDOWN; any no → `BUSY`. A tracker that disconnects or
 *   stops tracking counts as yes. After `cfg.shutdown_timeout` ms (default 5000) the missing
 *   votes count as no. A TESTSHUTDOWN carrying `TIMEOUT` then goes only to trackers that have
 *   themselves asked for a shutdown at some time: corosync means to tell every tracker, but
 *   it skips those whose connection pointer it never set (`ci->conn`, set by TRYSHUTDOWN);
 *   we keep that observable behaviour, so a pacemakerd never sees a second callback.
 * - A second TRYSHUTDOWN while one is pending gets `EXIST`; a REPLYTOSHUTDOWN with no
 *   shutdown pending gets `ACCESS`. A client that starts tracking during a pending shutdown is
 *   asked too. If the asker disconnects, the pending shutdown is dropped.
 *
 * So a vetoing client is never skipped and the asker never waits longer than the timeout.
 * Connections are opaque tokens `C`. Pure: time through `schedule`.
 */
import type { TimerHandle } from "../services/types.js";

export const ShutdownFlag = { REQUEST: 0, REGARDLESS: 1, IMMEDIATE: 2 } as const;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000;

const CS_OK = 1;
const CS_ERR_TIMEOUT = 5;
const CS_ERR_BUSY = 10;
const CS_ERR_ACCESS = 11;
const CS_ERR_EXIST = 14;

type Reply = "unknown" | "yes" | "no";

export interface ShutdownIo<C> {
  /** Send a TESTSHUTDOWN event (header error `status`) to a tracking connection. */
  testShutdown(conn: C, status: number, flags: number): void;
  /** The deferred answer to the asker's TRYSHUTDOWN. */
  respond(conn: C, error: number): void;
  /** Tell the cluster we go down (exec SHUTDOWN, safe order). */
  sendShutdown(): void;
  schedule(ms: number, fn: () => void): TimerHandle;
  /** `cfg.shutdown_timeout` in ms. */
  timeoutMs(): number;
  log(text: string): void;
}

export class ShutdownCoordinator<C> {
  /** Tracking connections and their vote in the pending shutdown. */
  private readonly trackers = new Map<C, Reply>();
  /** Connections that have asked TRYSHUTDOWN (corosync's `ci->conn` is set). */
  private readonly askers = new Set<C>();
  private asker: C | undefined;
  private flags = 0;
  private yes = 0;
  private no = 0;
  private expected = 0;
  private timer: TimerHandle | undefined;

  constructor(private readonly io: ShutdownIo<C>) {}

  get pending(): boolean {
    return this.asker !== undefined;
  }

  get trackerCount(): number {
    return this.trackers.size;
  }

  /** TRACKSTART: (only shutdown tracking exists) a newcomer is asked when a shutdown is pending. */
  trackStart(conn: C): void {
    if (this.trackers.has(conn)) return;
    this.trackers.set(conn, "unknown");
    if (this.asker !== undefined) {
      this.expected++;
      this.io.testShutdown(conn, CS_OK, this.flags);
    }
  }

  /** TRACKSTOP or disconnect (`remove_ci_from_shutdown`): leaving is an implicit yes. */
  remove(conn: C): void {
    this.askers.delete(conn);
    if (conn === this.asker) {
      this.asker = undefined;
      this.cancelTimer();
    }
    const reply = this.trackers.get(conn);
    if (reply === undefined) return;
    this.trackers.delete(conn);
    if (this.asker !== undefined) {
      if (reply === "yes") this.yes--;
      if (reply === "no") this.no--;
    }
    this.yes++;
    this.check();
  }

  /**
   * TRYSHUTDOWN from `conn`. Returns the answer now, or undefined when the answer is
   * deferred until the votes are in (`io.respond`).
   */
  tryShutdown(conn: C, flags: number): number | undefined {
    if (flags === ShutdownFlag.IMMEDIATE) {
      this.io.sendShutdown();
      return CS_OK;
    }
    if (this.asker !== undefined) return CS_ERR_EXIST;
    this.askers.add(conn);
    this.asker = conn;
    this.flags = flags;
    this.yes = this.no = this.expected = 0;
    for (const t of this.trackers.keys()) {
      if (t === conn) continue;
      this.trackers.set(t, "unknown");
      this.expected++;
    }
    if (this.expected === 0) {
      this.asker = undefined;
      this.io.sendShutdown();
      return CS_OK;
    }
    this.timer = this.io.schedule(this.io.timeoutMs(), () => this.timedOut());
    for (const t of this.trackers.keys()) if (t !== conn) this.io.testShutdown(t, CS_OK, flags);
    return undefined;
  }

  /** REPLYTOSHUTDOWN from `conn` (`accept`: yes). Returns the answer to that request. */
  reply(conn: C, accept: boolean): number {
    if (this.asker === undefined) return CS_ERR_ACCESS;
    if (accept) this.yes++;
    else this.no++;
    if (this.trackers.has(conn)) this.trackers.set(conn, accept ? "yes" : "no");
    this.check();
    return CS_OK;
  }

  /** Drop everything (service stop). */
  stop(): void {
    this.cancelTimer();
    this.asker = undefined;
    this.trackers.clear();
    this.askers.clear();
  }

  private timedOut(): void {
    this.timer = undefined;
    this.no = this.expected;
    this.check();
    for (const t of this.trackers.keys()) if (this.askers.has(t)) this.io.testShutdown(t, CS_ERR_TIMEOUT, this.flags);
  }

  /** `check_shutdown_status`: decide once every expected vote is in. */
  private check(): void {
    const asker = this.asker;
    if (asker === undefined || this.yes + this.no < this.expected) return;
    this.cancelTimer();
    this.asker = undefined;
    const go = this.yes >= this.expected || this.flags === ShutdownFlag.REGARDLESS;
    this.io.log(`shutdown decision is: (yes count: ${this.yes}, no count: ${this.no}) flags=${this.flags.toString(16)}`);
    this.io.respond(asker, go ? CS_OK : CS_ERR_BUSY);
    if (go) this.io.sendShutdown();
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
