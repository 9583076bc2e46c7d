/**
 * The cfg service (service 1, IPC `cfg`) of the executive, as corosync 3.1.7 serves
 * `corosync-cfgtool` and Pacemaker (libqb-ipc-spec.md §2.5, §5.4): link and node status,
 * local node id and addresses, configuration reload on every node, kill node, log file
 * reopening, ring re-enable, and shutdown coordination with tracking clients.
 *
 * Answers that depend on the transport follow corosync 3 on udp/udpu: one link per ring,
 * status "OK", a link is connected when the node is in the current membership, no
 * destination address, MTU = the Totem payload size (netmtu − 90, less the secauth envelope).
 */
import { CfgEngine } from "../../core/cfg/cfg.js";
import type { MessageSource } from "../../core/cfg/messages.js";
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, ShutdownCoordinator } from "../../core/cfg/shutdown.js";
import { CmapType } from "../../core/cmap/types.js";
import type { IpcConnection, IpcRequest, IpcServiceHandler } from "../../runtime/ipc/server.js";
import { statusResponse } from "../../wire/ipc/common.js";
import {
  CFG_MAX_LINKS,
  CFG_NODE_STATUS_V1,
  CfgReq,
  CfgRes,
  decodeCfgArg,
  decodeKillNodeRequest,
  decodeNodeStatusGet,
  encodeLocalGet,
  encodeNodeAddrs,
  encodeNodeStatus,
  encodeRingStatus,
  encodeTestShutdown,
  type LinkStatus,
  type NodeAddress,
  type NodeStatus,
} from "../../wire/ipc/cfg.js";
import type { ServiceContext, ServiceModule } from "./index.js";
import type { NodeStatus as TransportNodeStatus } from "../../runtime/transport/types.js";

const CS = { OK: 1, TRY_AGAIN: 6, INVALID_PARAM: 7, NOT_EXIST: 12, NOT_SUPPORTED: 19, FAILED_OPERATION: 21 } as const;

/** cfg's IPC handler and the glue between the engine and the executive. */
export class CfgService implements IpcServiceHandler {
  readonly requestIds = 12;
  readonly engine: CfgEngine;
  readonly shutdown: ShutdownCoordinator<IpcConnection>;
  /** Answers waiting for an exec message to come back, by connection id. */
  private readonly pending = new Map<number, { conn: IpcConnection; answer: (r: Uint8Array) => void; id: number }>();
  private readonly shutdownAnswers = new Map<IpcConnection, (r: Uint8Array) => void>();

  constructor(private readonly ctx: ServiceContext) {
    const api = ctx.host.api();
    this.engine = new CfgEngine(api, {
      reloadConfig: (from, source) => void this.runReload(from, source),
      ringReenable: (from, source) => this.runRingReenable(from, source),
      killed: (by, reason) => ctx.requestShutdown(`killed by node ${by}: ${reason}`),
      shutdown: () => ctx.requestShutdown("shutdown requested by cfg (corosync-cfgtool -H)"),
    });
    this.shutdown = new ShutdownCoordinator<IpcConnection>({
      testShutdown: (conn, status, flags) => conn.sendEvent(encodeTestShutdown(flags, status)),
      respond: (conn, error) => this.answerShutdown(conn, error),
      sendShutdown: () => this.engine.sendShutdown(),
      schedule: (ms, fn) => api.schedule(ms, fn),
      timeoutMs: () => {
        const v = ctx.cmap.get("cfg.shutdown_timeout");
        return v !== undefined && v.type === CmapType.UINT32 ? v.value : DEFAULT_SHUTDOWN_TIMEOUT_MS;
      },
      log: (text) => ctx.log("CFG", "debug", text),
    });
  }

  /** `cfg_lib_exit_fn`: leaving counts as a yes; answers still owed to it are dropped. */
  onDisconnect(conn: IpcConnection): void {
    this.shutdown.remove(conn);
    this.answerShutdown(conn, CS.OK);
    const p = this.pending.get(conn.id);
    if (p !== undefined) {
      this.pending.delete(conn.id);
      p.answer(statusResponse(p.id, CS.OK));
    }
  }

  onRequest(conn: IpcConnection, req: IpcRequest): Uint8Array | Promise<Uint8Array> {
    switch (req.id) {
      case CfgReq.RINGSTATUSGET:
        return encodeRingStatus(this.ringStatus());
      case CfgReq.RINGREENABLE:
        return this.ringReenable(conn);
      case CfgReq.KILLNODE:
        return this.killNode(req.payload);
      case CfgReq.TRYSHUTDOWN:
        return this.tryShutdown(conn, decodeCfgArg(req.payload));
      case CfgReq.REPLYTOSHUTDOWN: {
        const response = decodeCfgArg(req.payload);
        if (response === undefined) return statusResponse(CfgRes.REPLYTOSHUTDOWN, CS.INVALID_PARAM);
        return statusResponse(CfgRes.REPLYTOSHUTDOWN, this.shutdown.reply(conn, response !== 0));
      }
      case CfgReq.GET_NODE_ADDRS: {
        const nodeId = decodeCfgArg(req.payload);
        if (nodeId === undefined) return encodeNodeAddrs([], CS.INVALID_PARAM);
        const addrs = this.nodeAddresses(nodeId === 0 ? this.ctx.nodeId : nodeId);
        return encodeNodeAddrs(addrs, addrs.length > 0 ? CS.OK : CS.NOT_EXIST);
      }
      case CfgReq.LOCAL_GET:
        return encodeLocalGet(this.ctx.nodeId);
      case CfgReq.RELOAD_CONFIG:
        return this.deferUntilDelivered(conn, CfgRes.RELOAD_CONFIG, () => this.engine.sendReload(BigInt(conn.id)));
      case CfgReq.REOPEN_LOG_FILES:
        this.ctx.log("CFG", "debug", "Reopening logging files");
        this.ctx.reopenLogs();
        return statusResponse(CfgRes.REOPEN_LOG_FILES, CS.OK);
      case CfgReq.NODESTATUSGET: {
        const q = decodeNodeStatusGet(req.payload);
        if (q === undefined) return encodeNodeStatus(undefined, CS.INVALID_PARAM);
        if (q.version !== CFG_NODE_STATUS_V1) return encodeNodeStatus(undefined, CS.NOT_SUPPORTED, q.version);
        return encodeNodeStatus(this.nodeStatus(q.nodeId), CS.OK);
      }
      case CfgReq.TRACKSTART:
        this.shutdown.trackStart(conn);
        return statusResponse(CfgRes.STATETRACKSTART, CS.OK);
      case CfgReq.TRACKSTOP:
        this.shutdown.remove(conn);
        return statusResponse(CfgRes.STATETRACKSTOP, CS.OK);
      default:
        return statusResponse(0, CS.INVALID_PARAM);
    }
  }

  // ---------------------------------------------------------------- status

  /** The configured address of `nodeId` on each link (holes: links it is not on). */
  private linkAddresses(nodeId: number): Array<string | undefined> {
    return this.ctx.config.nodes.find((n) => n.nodeId === nodeId)?.ringAddrs ?? [];
  }

  private nodeAddresses(nodeId: number): NodeAddress[] {
    return this.linkAddresses(nodeId)
      .filter((a): a is string => a !== undefined)
      .map((address) => ({ family: address.includes(":") ? "IPv6" : "IPv4", address }));
  }

  /** RINGSTATUSGET: our links as `"<link> <address>"`, "OK" unless the transport marks it faulty. */
  private ringStatus(): Array<{ name: string; status: string }> {
    const rings = this.ctx.transport.rings();
    return this.linkAddresses(this.ctx.nodeId).flatMap((address, link) => {
      if (address === undefined) return [];
      const r = rings.find((x) => x.ring === link);
      const status = r?.faulty === true ? (r.reason ?? `Marking ringid ${link} interface ${address} FAULTY`) : "OK";
      return [{ name: `${link} ${address}`, status }];
    });
  }

  /**
   * NODESTATUSGET v1 as totemudpu/totemudp answer it: reachable = in the current membership,
   * one enabled link per ring the node is on, connected when reachable (and the ring is not
   * faulty here), the node's own address as source, no destination.
   */
  private nodeStatus(nodeId: number): NodeStatus {
    const known = this.ctx.transport.links?.().find((n) => n.nodeId === nodeId);
    if (known !== undefined) return knetNodeStatus(known);
    const reachable = this.ctx.srp.myProcList.includes(nodeId);
    const rings = this.ctx.transport.rings();
    const mtu = this.ctx.srp.cfg.netMtu;
    const links: LinkStatus[] = [];
    const addrs = this.linkAddresses(nodeId);
    for (let i = 0; i < CFG_MAX_LINKS; i++) {
      const src = addrs[i];
      const faulty = rings.find((r) => r.ring === i)?.faulty === true;
      if (src === undefined) links.push({ enabled: false, connected: false, dynconnected: false, mtu: 0, src: "", dst: "" });
      else links.push({ enabled: true, connected: reachable && !faulty, dynconnected: false, mtu, src, dst: "" });
    }
    return { nodeId, reachable, remote: false, external: false, onwireMin: 0, onwireMax: 0, onwireVer: 0, links };
  }

  // ---------------------------------------------------------------- actions

  /** Answer later, when our exec message has come back (or TRY_AGAIN if it cannot be sent). */
  private deferUntilDelivered(conn: IpcConnection, resId: number, send: () => boolean): Uint8Array | Promise<Uint8Array> {
    if (this.pending.has(conn.id)) return statusResponse(resId, CS.TRY_AGAIN);
    if (!send()) return statusResponse(resId, CS.TRY_AGAIN);
    return new Promise((answer) => this.pending.set(conn.id, { conn, answer, id: resId }));
  }

  private answerPending(source: MessageSource, error: number): void {
    if (source.nodeId !== this.ctx.nodeId) return;
    const id = Number(source.conn);
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    p.answer(statusResponse(p.id, error));
  }

  /** RELOAD_CONFIG arrived: every node reloads; the asker hears the result of its own node. */
  private async runReload(from: number, source: MessageSource): Promise<void> {
    let ok = false;
    try {
      ok = (await this.ctx.reloadConfig()).ok;
    } catch (e) {
      this.ctx.log("CFG", "error", `Unable to reload config file: ${(e as Error).message}`);
    }
    if (from === this.ctx.nodeId) this.answerPending(source, ok ? CS.OK : CS.INVALID_PARAM);
  }

  /**
   * RINGREENABLE: corosync 3 answers NOT_SUPPORTED (knet heals links itself); our redundant
   * udp/udpu rings can be re-enabled, on every node, as corosync 2 did.
   */
  private ringReenable(conn: IpcConnection): Uint8Array | Promise<Uint8Array> {
    if (this.ctx.transport.resetRings === undefined) return statusResponse(CfgRes.RINGREENABLE, CS.NOT_SUPPORTED);
    return this.deferUntilDelivered(conn, CfgRes.RINGREENABLE, () => this.engine.sendRingReenable(BigInt(conn.id)));
  }

  private runRingReenable(from: number, source: MessageSource): void {
    if (this.ctx.transport.resetRings !== undefined) {
      this.ctx.log("CFG", "notice", `Re-enabling faulty rings, requested by node ${from}`);
      this.ctx.transport.resetRings();
    }
    if (from === this.ctx.nodeId) this.answerPending(source, CS.OK);
  }

  /** KILLNODE: only a node whose `runtime.members.<id>.status` is "joined". */
  private killNode(payload: Uint8Array): Uint8Array {
    const r = decodeKillNodeRequest(payload);
    if (r === undefined) return statusResponse(CfgRes.KILLNODE, CS.INVALID_PARAM);
    if (this.ctx.cmap.getString(`runtime.members.${r.nodeId}.status`) !== "joined") return statusResponse(CfgRes.KILLNODE, CS.NOT_EXIST);
    return statusResponse(CfgRes.KILLNODE, this.engine.sendKillNode(r.nodeId, r.reason) ? CS.OK : CS.TRY_AGAIN);
  }

  private tryShutdown(conn: IpcConnection, flags: number | undefined): Uint8Array | Promise<Uint8Array> {
    if (flags === undefined) return statusResponse(CfgRes.TRYSHUTDOWN, CS.INVALID_PARAM);
    const now = this.shutdown.tryShutdown(conn, flags);
    if (now !== undefined) return statusResponse(CfgRes.TRYSHUTDOWN, now);
    return new Promise((answer) => this.shutdownAnswers.set(conn, answer));
  }

  private answerShutdown(conn: IpcConnection, error: number): void {
    const answer = this.shutdownAnswers.get(conn);
    if (answer === undefined) return;
    this.shutdownAnswers.delete(conn);
    answer(statusResponse(CfgRes.TRYSHUTDOWN, error));
  }

  stop(): void {
    this.engine.stop();
    this.shutdown.stop();
    for (const conn of [...this.shutdownAnswers.keys()]) this.answerShutdown(conn, CS.OK);
  }
}

/** Service 1: cfg engine and `cfg` IPC. */
export function cfgModule(ctx: ServiceContext): ServiceModule {
  const service = new CfgService(ctx);
  return { engine: service.engine, ipc: { name: "cfg", handler: service }, stop: () => service.stop() };
}

/**
 * NODESTATUSGET v1 as totemknet answers it: knet's own view of the node — reachable when a
 * link is up, and per link enabled / connected / mtu with our address as source and the
 * node's as destination; `dynconnected` is for dynamic links, which we do not have. The
 * on-wire versions are knet's header version 1 (min = max = current).
 */
function knetNodeStatus(n: TransportNodeStatus): NodeStatus {
  const links: LinkStatus[] = [];
  for (let i = 0; i < CFG_MAX_LINKS; i++) {
    const l = n.links.find((x) => x.link === i);
    if (l === undefined) links.push({ enabled: false, connected: false, dynconnected: false, mtu: 0, src: "", dst: "" });
    else links.push({ enabled: l.enabled, connected: l.connected, dynconnected: false, mtu: l.mtu, src: l.localAddress, dst: l.remoteAddress });
  }
  return { nodeId: n.nodeId, reachable: n.reachable || n.local, remote: false, external: false, onwireMin: 1, onwireMax: 1, onwireVer: 1, links };
}
