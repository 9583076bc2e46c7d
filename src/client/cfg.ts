/**
 * libcfg for TypeScript: link and node status, local node id and addresses, reload the
 * configuration everywhere, kill a node, reopen log files, and shutdown coordination — the
 * calls of `corosync-cfgtool` and Pacemaker's pacemakerd. Speaks corosync 3's `cfg` IPC.
 *
 * Shutdown tracking, as pacemakerd does it:
 * ```ts
 * const cfg = await CfgClient.connect();
 * await cfg.trackStart();
 * cfg.on("shutdown", async ({ flags }) => cfg.replyToShutdown(canStop()));
 * ```
 * A node stops only if every tracking client replies yes (or `REGARDLESS` is asked); a
 * tracking client that does not reply within `cfg.shutdown_timeout` counts as no.
 */
import {
  CFG_NODE_STATUS_V1,
  CfgReq,
  CfgRes,
  decodeNodeAddrs,
  decodeNodeStatus,
  decodeRingStatus,
  encodeCfgRequest,
  encodeKillNodeRequest,
  encodeNodeStatusGet,
  type NodeAddress,
  type NodeStatus,
  type RingStatusEntry,
} from "../wire/ipc/cfg.js";
import { viewOf } from "../wire/ipc/common.js";
import { CorosyncError } from "./errors.js";
import type { IpcClientConnection } from "./ipc/connection.js";
import { ServiceClient, type ClientOptions } from "./service-client.js";

/** `corosync_cfg_shutdown_flags_t`. */
export const SHUTDOWN_FLAG = { REQUEST: 0, REGARDLESS: 1, IMMEDIATE: 2 } as const;

export type { NodeAddress, NodeStatus, RingStatusEntry };

export type CfgEvents = {
  /** TESTSHUTDOWN: asked to vote (`status` is TIMEOUT (5) when the vote timed out). */
  shutdown: { flags: number; status: number };
};

export class CfgClient extends ServiceClient<CfgEvents> {
  private constructor(conn: IpcClientConnection, timeout: number | undefined) {
    super(conn, timeout, "cfg");
  }

  static async connect(options: ClientOptions = {}): Promise<CfgClient> {
    return new CfgClient(await ServiceClient.open("cfg", options), options.requestTimeoutMs);
  }

  /** `corosync_cfg_local_get`. */
  async localNodeId(): Promise<number> {
    const { res } = await this.call(encodeCfgRequest(CfgReq.LOCAL_GET), "local_get", 28);
    return viewOf(res, 28)!.getUint32(24, true);
  }

  /** `corosync_cfg_ring_status_get`: `"<link> <address>"` and its status per local link. */
  async ringStatus(): Promise<RingStatusEntry[]> {
    const { res } = await this.call(encodeCfgRequest(CfgReq.RINGSTATUSGET), "ringstatusget");
    const r = decodeRingStatus(res);
    if (r === undefined) throw new CorosyncError("LIBRARY", "cfg ringstatusget: short response");
    return r;
  }

  /** `corosync_cfg_node_status_get` (version 1). */
  async nodeStatus(nodeId: number): Promise<NodeStatus> {
    const { res } = await this.call(encodeNodeStatusGet(nodeId, CFG_NODE_STATUS_V1), "nodestatusget");
    const s = decodeNodeStatus(res);
    if (s === undefined) throw new CorosyncError("NOT_SUPPORTED", "cfg nodestatusget: not a version 1 answer");
    return s;
  }

  /** `corosync_cfg_get_node_addrs` (0 = this node). NOT_EXIST for an unknown node. */
  async nodeAddresses(nodeId = 0): Promise<NodeAddress[]> {
    const { res } = await this.call(encodeCfgRequest(CfgReq.GET_NODE_ADDRS, nodeId), "get_node_addrs", 32);
    return decodeNodeAddrs(res) ?? [];
  }

  /** `corosync_cfg_reload_config`: every node re-reads corosync.conf; resolves after ours did. */
  async reloadConfig(): Promise<void> {
    await this.call(encodeCfgRequest(CfgReq.RELOAD_CONFIG), "reload_config");
  }

  /** `corosync_cfg_reopen_log_files`. */
  async reopenLogFiles(): Promise<void> {
    await this.call(encodeCfgRequest(CfgReq.REOPEN_LOG_FILES), "reopen_log_files");
  }

  /** Re-enable faulty redundant rings on every node (NOT_SUPPORTED where links heal by themselves). */
  async ringReenable(): Promise<void> {
    await this.call(encodeCfgRequest(CfgReq.RINGREENABLE), "ring_reenable");
  }

  /** `corosync_cfg_kill_node`: NOT_EXIST unless `nodeId` is a current member. */
  async killNode(nodeId: number, reason: string): Promise<void> {
    await this.call(encodeKillNodeRequest(nodeId, reason), "kill_node");
  }

  /**
   * `corosync_cfg_try_shutdown`: resolves when the node agreed to stop (it then leaves the
   * cluster); BUSY when a tracking client vetoed, EXIST while another request is pending.
   */
  async tryShutdown(flags: number = SHUTDOWN_FLAG.REQUEST): Promise<void> {
    await this.call(encodeCfgRequest(CfgReq.TRYSHUTDOWN, flags), "try_shutdown");
  }

  /** `corosync_cfg_replyto_shutdown`: our vote (ACCESS when no shutdown is pending). */
  async replyToShutdown(accept: boolean): Promise<void> {
    await this.call(encodeCfgRequest(CfgReq.REPLYTOSHUTDOWN, accept ? 1 : 0), "replyto_shutdown");
  }

  /** `corosync_cfg_trackstart`: be asked before the node shuts down. */
  async trackStart(flags = 0): Promise<void> {
    await this.call(encodeCfgRequest(CfgReq.TRACKSTART, flags), "trackstart");
  }

  async trackStop(): Promise<void> {
    await this.call(encodeCfgRequest(CfgReq.TRACKSTOP), "trackstop");
  }

  protected onRawEvent(raw: Uint8Array): void {
    const dv = viewOf(raw, 28);
    if (dv === undefined || dv.getInt32(0, true) !== CfgRes.TESTSHUTDOWN) return;
    this.dispatch("shutdown", { flags: dv.getUint32(24, true), status: dv.getInt32(16, true) });
  }
}
