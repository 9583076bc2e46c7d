/**
 * Rate-limited logging of datagrams the envelope refused: at most one line per source
 * address per interval (default 10 s), the next line saying how many were held back.
 *
 * A wrong authkey on one node makes every datagram of that node fail, and a hostile host
 * can send as many as it likes, so one line per datagram (as corosync 1.x logged) would
 * flood the log; one per source per 10 s keeps the diagnosis and drops the noise. Sources
 * come from the network, so the table of sources is bounded (RateLimiter, least recently
 * logged forgotten first). Time is injected.
 */
import { RateLimiter } from "../daemon/log/ratelimit.js";
import type { OpenFailure } from "./envelope.js";

export const INVALID_DIGEST_LOG_INTERVAL_MS = 10_000;
export const INVALID_DIGEST_MAX_SOURCES = 1024;

export interface InvalidDigestReporterOptions {
  /** Milliseconds, monotonic or wall clock. */
  now: () => number;
  /** Receives one complete line (the caller adds priority and subsystem). */
  log: (line: string) => void;
  intervalMs?: number;
  maxSources?: number;
}

/** The line for a refused datagram (without the suppressed count). */
export function describeRejection(source: string, reason: OpenFailure, detail?: string): string {
  const why = detail ?? DEFAULT_DETAIL[reason];
  return `${HEADLINE[reason]} (from ${source}: ${why})`;
}

const HEADLINE: Readonly<Record<OpenFailure, string>> = {
  invalid_digest: "Received message has invalid digest... ignoring.",
  bad_header: "Received message with an unknown secauth header... ignoring.",
  replay: "Received replayed message... ignoring.",
  too_short: "Received message too short for the secauth envelope... ignoring.",
  plaintext: "Received unauthenticated Totem message while secauth is on... ignoring.",
};

const DEFAULT_DETAIL: Readonly<Record<OpenFailure, string>> = {
  invalid_digest: "the sender's authkey, cluster_name or crypto settings differ from this node's",
  bad_header: "not a secauth datagram of this version",
  replay: "a datagram already received, sent again",
  too_short: "truncated datagram",
  plaintext: "the sender has secauth off",
};

/** Counts every refused datagram and logs a bounded, rate-limited sample of them. */
export class InvalidDigestReporter {
  private readonly limiter: RateLimiter;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly intervalMs: number;
  /** Every report, logged or not. */
  total = 0;
  /** Lines written. */
  logged = 0;

  constructor(opts: InvalidDigestReporterOptions) {
    this.now = opts.now;
    this.log = opts.log;
    this.intervalMs = opts.intervalMs ?? INVALID_DIGEST_LOG_INTERVAL_MS;
    this.limiter = new RateLimiter(opts.maxSources ?? INVALID_DIGEST_MAX_SOURCES);
  }

  /**
   * Records a refused datagram from `source` (e.g. "192.0.2.7:5405"). Logs a line unless
   * one was logged for this source less than `intervalMs` ago; returns true if it logged.
   */
  report(source: string, reason: OpenFailure = "invalid_digest", detail?: string): boolean {
    this.total++;
    if (!this.limiter.allow(source, this.intervalMs, this.now())) return false;
    const held = this.limiter.suppressedBefore(source);
    const line = describeRejection(source, reason, detail);
    this.log(held > 0 ? `${line} (${held} similar messages suppressed)` : line);
    this.logged++;
    return true;
  }

  /** Reports held back for `source` since its last line. */
  pending(source: string): number {
    return this.limiter.suppressedSince(source);
  }
}
