/**
 * The production driver of the Totem core (style.md "Two drivers, one core"): feeds datagrams
 * and one re-armed timer into the pure SRP core and carries out its effects — sealing and
 * sending frames, persisting ring ids before any frame of the new ring leaves, logging.
 *
 * Bad input never reaches the core: a datagram that fails the secauth check or does not
 * decode is dropped, counted by reason, and logged at a limited rate.
 */
import type { TotemSrp } from "../core/totem/srp.js";
import type { TotemPg } from "../core/pg/totempg.js";
import type { LogLevel, SrpEffect } from "../core/totem/types.js";
import type { RingId } from "../wire/totem/types.js";
import { MessageType } from "../wire/totem/types.js";
import { describeForeignMagic, encodeTotem, tryDecodeTotem } from "../wire/totem/codec.js";
import type { DatagramSource, Transport } from "./transport/types.js";

/** What the driver needs from the secauth envelope (src/crypto). */
export interface FrameEnvelope {
  seal(frame: Uint8Array): Uint8Array;
  open(datagram: Uint8Array): { ok: true; frame: Uint8Array } | { ok: false; reason: string };
}

/** The layer above totempg (sync + services); runs after every input to the core. */
export interface UpperLayer {
  afterInput(now: number): void;
}

export interface DriverLog {
  (subsys: string, level: LogLevel, text: string): void;
}

export interface DriverDeps {
  srp: TotemSrp;
  pg: TotemPg;
  transport: Transport;
  envelope?: FrameEnvelope;
  upper?: UpperLayer;
  log: DriverLog;
  /** Log at most once per `intervalMs` for `key` (true = logged). */
  logLimited(key: string, intervalMs: number, subsys: string, level: LogLevel, text: string): void;
  /** Must be durable when it returns (the driver sends right after). */
  persistRingId(ringId: RingId): void;
  /** Monotonic milliseconds. */
  clock(): number;
}

/** Per-reason counters of datagrams that never reached the core. */
export type DropCounters = Record<string, number>;

export class TotemDriver {
  readonly dropped: DropCounters = {};
  private timer: NodeJS.Timeout | undefined;
  private timerDue: number | undefined;
  private schedTimer: NodeJS.Timeout | undefined;
  private lastSchedCheck = 0;
  private stopped = false;

  constructor(private readonly d: DriverDeps) {
    // The token leaves before this visit's deliveries (and the IPC work they cause).
    d.srp.onTokenSent = () => this.carryOut(this.d.srp.takeEffects());
  }

  /** Bring the interface up: the core enters GATHER. */
  start(): void {
    this.run((now) => this.d.srp.start(now));
    this.startSchedulerCheck();
  }

  /** A datagram from the transport. */
  onDatagram(bytes: Uint8Array, from: DatagramSource): void {
    if (this.stopped) return;
    let frame = bytes;
    if (this.d.envelope !== undefined) {
      const opened = this.d.envelope.open(bytes);
      if (!opened.ok) {
        this.drop(`secauth_${opened.reason}`);
        if (opened.reason === "invalid_digest" || opened.reason === "plaintext") {
          this.d.logLimited(`digest:${from.address}`, 10_000, "TOTEM", "error", `Received message has invalid digest... ignoring. (from ${from.address}:${from.port})`);
        }
        return;
      }
      frame = opened.frame;
    }
    const r = tryDecodeTotem(frame);
    if (!r.ok) {
      this.drop(r.error.code);
      const what = r.error.code === "BAD_MAGIC" ? `: ${describeForeignMagic(frame)}` : "";
      this.d.logLimited(`decode:${r.error.code}:${from.address}`, 10_000, "TOTEM", "warning", `Dropping a frame from ${from.address}: ${r.error.message}${what}`);
      return;
    }
    const msg = r.msg;
    const sender = msg.type === MessageType.MEMB_JOIN || msg.type === MessageType.MCAST || msg.type === MessageType.MEMB_MERGE_DETECT ? msg.systemFrom : msg.nodeId;
    if (sender !== 0) this.d.transport.learnNodeAddress?.(sender, from);
    const bigEndian = msg.type === MessageType.MCAST && msg.bigEndian === true;
    this.run((now) => this.d.srp.receive(now, msg, bigEndian));
  }

  /** Clean shutdown: multicast a LEAVE and stop driving the core. */
  leave(): void {
    if (this.stopped) return;
    this.run((now) => this.d.srp.leave(now));
    this.stop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.schedTimer !== undefined) clearTimeout(this.schedTimer);
    this.timer = undefined;
    this.schedTimer = undefined;
  }

  /** Run one input on the core, let the upper layer react, carry out the effects. */
  run(input: (now: number) => void): void {
    const now = this.d.clock();
    this.d.pg.setNow(now);
    input(now);
    this.carryOut(this.d.srp.takeEffects());
    if (this.d.upper !== undefined) {
      this.d.upper.afterInput(now);
      this.carryOut(this.d.srp.takeEffects());
    }
    this.armTimer();
  }

  /**
   * Carry out effects the core produced outside `run` — calls made from IPC handlers
   * (`mcast` from a client asks the core for a TOKEN_HOLD_CANCEL) — and re-arm the timer.
   * Without this the cancel waited for the next datagram or timer, i.e. for the held token
   * to be released by the hold timer: a message sent to an idle ring took up to `hold` ms.
   */
  flush(): void {
    if (this.stopped) return;
    const fx = this.d.srp.takeEffects();
    if (fx.length === 0) return;
    this.carryOut(fx);
    this.armTimer();
  }

  private carryOut(effects: SrpEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case "persistRingId":
          this.d.persistRingId(e.ringId);
          break;
        case "unicast":
          this.d.transport.sendToNode(e.to, this.seal(encodeTotem(e.msg)));
          break;
        case "multicast": {
          const bytes = this.seal(encodeTotem(e.msg));
          // An MCAST is already in this node's sort queue: its own copy would only come back
          // through the kernel to be dropped as a duplicate (one send and one receive per
          // message saved; corosync sends it). Everything else (joins, hold cancels) must
          // reach this node too.
          if (e.msg.type === MessageType.MCAST && this.d.transport.sendToOthers !== undefined) this.d.transport.sendToOthers(bytes);
          else this.d.transport.sendToAll(bytes);
          break;
        }
        case "log":
          this.d.log("TOTEM", e.level, e.text);
          break;
      }
    }
  }

  private seal(frame: Uint8Array): Uint8Array {
    return this.d.envelope === undefined ? frame : this.d.envelope.seal(frame);
  }

  private drop(reason: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }

  /** One timer, re-armed to the core's next deadline. */
  private armTimer(): void {
    if (this.stopped) return;
    const due = this.d.srp.nextDeadline();
    if (due === this.timerDue && this.timer !== undefined) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = due;
    if (due === undefined) return;
    const delay = Math.max(0, Math.ceil(due - this.d.clock()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = undefined;
      if (!this.stopped) this.run((now) => this.d.srp.tick(now));
    }, delay);
  }

  /**
   * corosync's scheduler-pause detector (main.c): a check every token/3; a gap above
   * 0.8 × token means this process was not scheduled, which looks like token loss to peers.
   */
  private startSchedulerCheck(): void {
    const tokenMs = this.d.srp.cfg.tokenMs;
    this.lastSchedCheck = this.d.clock();
    const tick = (): void => {
      const now = this.d.clock();
      const gap = now - this.lastSchedCheck;
      const threshold = tokenMs * 0.8;
      if (gap > threshold) {
        this.d.log(
          "MAIN",
          "warning",
          `Corosync main process was not scheduled (@${Date.now()}) for ${gap.toFixed(4)} ms (threshold is ${threshold.toFixed(4)} ms). Consider token timeout increase.`,
        );
      }
      this.lastSchedCheck = now;
      if (!this.stopped) this.schedTimer = setTimeout(tick, Math.max(1, Math.floor(tokenMs / 3)));
    };
    this.schedTimer = setTimeout(tick, Math.max(1, Math.floor(tokenMs / 3)));
  }
}
