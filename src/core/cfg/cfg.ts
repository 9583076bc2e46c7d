/**
 * The cfg service engine (service 1, corosync 3.1.7 `exec/cfg.c`): the exec messages that
 * carry administrative actions to every node — configuration reload, kill node, shutdown,
 * ring re-enable — and the shutdown coordination (shutdown.ts). It takes no part in sync.
 *
 * What an action does to the process (re-read files, stop, reset sockets) is the daemon's
 * business, reached through `CfgActions`; the engine only decides when. Pure.
 */
import { ServiceId, type ExecSource, type ServiceApi, type ServiceEngine, type TimerHandle } from "../services/types.js";
import {
  CFG_EXEC,
  decodeCryptoReconfig,
  decodeKillNode,
  decodeSourceMessage,
  encodeKillNode,
  encodeShutdown,
  encodeSourceMessage,
  type MessageSource,
} from "./messages.js";

/** What the daemon does when an action arrives in agreed order. */
export interface CfgActions {
  /** RELOAD_CONFIG from `from` (every node reloads; `source` names the asker's connection). */
  reloadConfig(from: number, source: MessageSource): void;
  /** RINGREENABLE from `from`: re-enable faulty rings here. */
  ringReenable(from: number, source: MessageSource): void;
  /** A KILLNODE naming us arrived. */
  killed(byNode: number, reason: string): void;
  /** Our own SHUTDOWN came back: stop the node. */
  shutdown(): void;
}

/** Retry period for a SHUTDOWN that found the send queue full. */
const SEND_RETRY_MS = 20;

export class CfgEngine implements ServiceEngine {
  readonly id = ServiceId.CFG;
  readonly name = "corosync_cfg";
  private retry: TimerHandle | undefined;

  constructor(
    private readonly api: ServiceApi,
    private readonly actions: CfgActions,
  ) {}

  /** An exec message of service 1; malformed ones are dropped. */
  exec(fn: number, message: Uint8Array, from: ExecSource): void {
    switch (fn) {
      case CFG_EXEC.RINGREENABLE: {
        const source = decodeSourceMessage(message, from.bigEndian);
        if (source !== undefined) this.actions.ringReenable(from.nodeId, source);
        return;
      }
      case CFG_EXEC.KILLNODE: {
        const m = decodeKillNode(message, from.bigEndian);
        if (m === undefined) return;
        this.api.log("debug", "CFG", `request to kill node ${m.nodeId} (us=${this.api.nodeId})`);
        if (m.nodeId === this.api.nodeId) {
          this.api.log("notice", "CFG", `Killed by node ${from.nodeId} : ${m.reason}`);
          this.actions.killed(from.nodeId, m.reason);
        }
        return;
      }
      case CFG_EXEC.SHUTDOWN:
        this.api.log("notice", "CFG", `Node ${from.nodeId} was shut down by sysadmin`);
        if (from.nodeId === this.api.nodeId) this.actions.shutdown();
        return;
      case CFG_EXEC.RELOAD_CONFIG: {
        const source = decodeSourceMessage(message, from.bigEndian);
        if (source === undefined) return;
        this.api.log("notice", "CFG", `Config reload requested by node ${from.nodeId}`);
        this.actions.reloadConfig(from.nodeId, source);
        return;
      }
      case CFG_EXEC.CRYPTO_RECONFIG: {
        // Sent by corosync peers after a crypto change on knet; our secauth key and the
        // udp/udpu transports cannot change crypto at runtime, so there is nothing to do.
        const phase = decodeCryptoReconfig(message, from.bigEndian);
        if (phase !== undefined) this.api.log("debug", "CFG", `Crypto reconfiguration phase ${phase} from node ${from.nodeId} ignored (not supported on this transport)`);
        return;
      }
      default:
        return;
    }
  }

  /** Multicast RELOAD_CONFIG for connection `conn`; false when the queue is full. */
  sendReload(conn: bigint): boolean {
    return this.api.mcast(encodeSourceMessage(CFG_EXEC.RELOAD_CONFIG, { nodeId: this.api.nodeId, conn }), 1);
  }

  /** Multicast RINGREENABLE for connection `conn`; false when the queue is full. */
  sendRingReenable(conn: bigint): boolean {
    return this.api.mcast(encodeSourceMessage(CFG_EXEC.RINGREENABLE, { nodeId: this.api.nodeId, conn }), 1);
  }

  /** Multicast KILLNODE; false when the queue is full. */
  sendKillNode(nodeId: number, reason: string): boolean {
    return this.api.mcast(encodeKillNode({ nodeId, reason }), 1);
  }

  /** Multicast SHUTDOWN (safe order), retrying until the send queue takes it. */
  sendShutdown(): void {
    if (this.api.mcast(encodeShutdown(), 1)) return;
    this.retry?.cancel();
    this.retry = this.api.schedule(SEND_RETRY_MS, () => {
      this.retry = undefined;
      this.sendShutdown();
    });
  }

  stop(): void {
    this.retry?.cancel();
    this.retry = undefined;
  }
}
