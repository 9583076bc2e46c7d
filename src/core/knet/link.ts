/**
 * The heartbeat state of one knet link to one peer host (knet-spec §4.2): when to ping, how
 * pongs bring the link up, when silence takes it down. Time is an input (monotonic
 * milliseconds); the caller sends the pings.
 *
 * - A PING is due when the last one is at least `pingIntervalMs` old (the caller checks on
 *   a coarse heartbeat tick, 200 ms in libknet, so the effective period rounds up to it).
 * - A PONG echoes our timestamp: rtt = now − that time. Every pong refreshes "last pong".
 *   A pong slower than `pongTimeoutMs` is otherwise ignored; the others feed the mean
 *   latency (over at most `precision` samples). While the link is down and the mean is
 *   below the adjusted timeout, pongs are counted, and the one after `pongCount` counted
 *   pongs brings the link up (pong_count 2 → the 3rd pong).
 * - The adjusted timeout is `pongTimeoutMs × backoff + 2 × latency`; backoff starts at 10
 *   (when the link is configured and whenever it goes down) and `adjust()` — called about
 *   once a second — lowers it by one down to 1. So a fresh link forgives ~10 timeouts of
 *   silence, a settled one about one.
 * - The link goes down when a pong was received since it last went down and the last one
 *   is at least the adjusted timeout old.
 *
 * Pure: no node:* imports.
 */

/** `KNET_LINK_PONG_TIMEOUT_BACKOFF`. */
export const PONG_TIMEOUT_BACKOFF = 10;
/** `KNET_LINK_PONG_TIMEOUT_LAT_MUL`. */
export const PONG_TIMEOUT_LATENCY_MULTIPLIER = 2;

/** Per-link timers, as corosync configures them (`knet_ping_interval` ...). */
export interface LinkTimers {
  pingIntervalMs: number;
  /** `knet_ping_timeout`: a pong slower than this is ignored; base of the down timeout. */
  pongTimeoutMs: number;
  /** `knet_pong_count`: counted pongs before the next brings the link up (≥ 1). */
  pongCount: number;
  /** `knet_ping_precision`: samples in the latency mean (≥ 1). */
  precision: number;
}

/** What a pong did. */
export type PongOutcome = "up" | "counted" | "late" | "ignored";

/** Counters of one link, for `corosync-cfgtool -n`-like views and cmap stats. */
export interface LinkCounters {
  txPings: number;
  rxPings: number;
  txPongs: number;
  rxPongs: number;
  txData: number;
  rxData: number;
  txPmtud: number;
  rxPmtud: number;
  upCount: number;
  downCount: number;
}

export class LinkState {
  connected = false;
  /** Pongs counted towards bringing the link up (reset when it goes down). */
  receivedPongs = 0;
  /** Running mean round-trip time, ms. */
  latencyMs = 0;
  private latencySamples = 0;
  /** When the last pong arrived; undefined when none since the link last went down. */
  pongLastMs: number | undefined;
  pingLastMs = Number.NEGATIVE_INFINITY;
  backoff = PONG_TIMEOUT_BACKOFF;
  pongTimeoutAdjMs: number;
  readonly counters: LinkCounters = { txPings: 0, rxPings: 0, txPongs: 0, rxPongs: 0, txData: 0, rxData: 0, txPmtud: 0, rxPmtud: 0, upCount: 0, downCount: 0 };

  constructor(readonly timers: LinkTimers) {
    this.pongTimeoutAdjMs = timers.pongTimeoutMs * this.backoff;
  }

  /** True when a timed PING should go out now; records it as sent. */
  takePingDue(nowMs: number): boolean {
    if (nowMs - this.pingLastMs < this.timers.pingIntervalMs) return false;
    this.pingLastMs = nowMs;
    this.counters.txPings++;
    return true;
  }

  /**
   * A PONG arrived at `nowMs` echoing our ping time `sentAtMs` (undefined when the
   * timestamp is not one of ours: counted as received, otherwise ignored).
   */
  onPong(nowMs: number, sentAtMs: number | undefined): PongOutcome {
    this.counters.rxPongs++;
    this.pongLastMs = nowMs;
    if (sentAtMs === undefined || sentAtMs > nowMs) return "ignored";
    const rtt = nowMs - sentAtMs;
    if (rtt > this.timers.pongTimeoutMs) return "late";
    this.latencySamples = Math.min(this.latencySamples + 1, Math.max(1, this.timers.precision));
    this.latencyMs = (this.latencyMs * (this.latencySamples - 1) + rtt) / this.latencySamples;
    if (this.connected || this.latencyMs >= this.pongTimeoutAdjMs) return "ignored";
    if (this.receivedPongs >= this.timers.pongCount) {
      this.connected = true;
      this.counters.upCount++;
      return "up";
    }
    this.receivedPongs++;
    return "counted";
  }

  /** True when the link is up and has been silent too long: it is now down. */
  checkTimeout(nowMs: number): boolean {
    if (this.pongLastMs === undefined || nowMs - this.pongLastMs < this.pongTimeoutAdjMs) return false;
    const wasUp = this.connected;
    this.down();
    return wasUp;
  }

  /** The once-a-second backoff step and recomputation of the adjusted timeout. */
  adjust(): void {
    if (this.backoff > 1) this.backoff--;
    this.pongTimeoutAdjMs = this.timers.pongTimeoutMs * this.backoff + PONG_TIMEOUT_LATENCY_MULTIPLIER * this.latencyMs;
  }

  /** Take the link down (timeout, or the peer's transport failed): start counting afresh. */
  down(): void {
    if (this.connected) this.counters.downCount++;
    this.connected = false;
    this.receivedPongs = 0;
    this.pongLastMs = undefined;
    this.backoff = PONG_TIMEOUT_BACKOFF;
  }
}
