/**
 * The executive: loads the configuration into cmap, sets up logging, takes the pid-file lock,
 * builds the network (transport + secauth envelope) and the Totem stack (SRP core, totempg,
 * membership view), then drives it until SIGTERM/SIGINT, on which it multicasts a LEAVE and
 * exits 0. Exit codes follow corosync (`exec/util.h`).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { applyCorosyncReadOnlyKeys } from "../core/cmap/readonly.js";
import { CmapStore } from "../core/cmap/store.js";
import { CmapType } from "../core/cmap/types.js";
import { TotemPg } from "../core/pg/totempg.js";
import { TotemSrp } from "../core/totem/srp.js";
import type { LogLevel, SrpConfig } from "../core/totem/types.js";
import { MTU_ENCAPSULATION_RESERVE } from "../core/totem/constants.js";
import { formatDiagnostic, hasErrors } from "../config/diagnostics.js";
import { loadConfigFile } from "../config/load.js";
import type { CorosyncConfig, Env } from "../config/model.js";
import { Logger } from "./log/logger.js";
import { LogPriority } from "./log/format.js";
import { loggingOptionsFromCmap } from "./log/options.js";
import { TotemDriver } from "../runtime/driver.js";
import { acquirePidFile, AlreadyRunningError, DEFAULT_RUN_DIR, releasePidFile } from "../runtime/pidfile.js";
import { loadRingSeq, storeRingSeq } from "../runtime/ringid-store.js";
import { MembershipView } from "./membership.js";
import { ServiceHost } from "../core/services/host.js";
import { SERVICE_FACTORIES, type ServiceContext } from "./services/index.js";
import { IpcServer, type IpcServiceHandler } from "../runtime/ipc/server.js";
import { ipcAllowed } from "./ipc-auth.js";
import { reloadConfiguration } from "./reload.js";
import { publishStats } from "./stats.js";
import { setUpNetwork } from "./network.js";
import { setUpEnvelope } from "./secauth.js";
import { applyNodelistInterfaceKeys } from "./runtime-keys.js";
import { installFatalHandler, installRuntimeTriggers, writeBlackboxFile } from "./blackbox.js";

/** corosync's exit statuses (`enum e_corosync_done`). */
export const ExitCode = {
  EXIT: 0,
  FORK: 4,
  MAINCONFIGREAD: 8,
  LOGSETUP: 9,
  FATAL_ERR: 15,
  ACQUIRE_LOCK: 17,
  ALREADY_RUNNING: 18,
  STORE_RINGID: 21,
} as const;

export interface ExecutiveOptions {
  configFile: string;
  foreground: boolean;
  env?: Env;
}

const LEVEL_PRIORITY: Readonly<Record<LogLevel, LogPriority>> = {
  error: LogPriority.ERR,
  warning: LogPriority.WARNING,
  notice: LogPriority.NOTICE,
  info: LogPriority.INFO,
  debug: LogPriority.DEBUG,
  trace: LogPriority.TRACE,
};

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** The SRP core's view of the effective totem configuration. */
export function srpConfigOf(config: CorosyncConfig, envelopeOverhead = 0): SrpConfig {
  const t = config.totem;
  return {
    tokenMs: t.tokenMs,
    tokenRetransmitMs: t.tokenRetransmitMs,
    holdMs: t.holdMs,
    joinMs: t.joinMs,
    consensusMs: t.consensusMs,
    mergeMs: t.mergeMs,
    tokenWarningPercent: t.tokenWarningPercent,
    failRecvConst: t.failRecvConst,
    seqnoUnchangedConst: t.seqnoUnchangedConst,
    windowSize: t.windowSize,
    maxMessages: t.maxMessages,
    missCountConst: t.missCountConst,
    heartbeatFailuresAllowed: t.heartbeatFailuresAllowed,
    maxNetworkDelayMs: t.maxNetworkDelayMs,
    cancelTokenHoldOnRetransmit: t.cancelTokenHoldOnRetransmit,
    // The envelope's bytes come off the same budget, so a recovery copy still fits netmtu.
    netMtu: t.netMtu - MTU_ENCAPSULATION_RESERVE - envelopeOverhead,
  };
}

/** Start the executive; resolves with the exit status. */
export async function startExecutive(opts: ExecutiveOptions): Promise<number> {
  const env = opts.env ?? process.env;
  if (!opts.foreground) return daemonize(opts, env);
  const loaded = loadConfigFile(opts.configFile, env);
  if (!loaded.ok || hasErrors(loaded.diagnostics)) {
    for (const d of loaded.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
    return ExitCode.MAINCONFIGREAD;
  }
  const config = loaded.config;
  const cmap = new CmapStore();
  for (const e of loaded.cmapEntries) cmap.set(e.key, e.value, { force: true });
  applyCorosyncReadOnlyKeys(cmap);
  const logger = new Logger({ options: loggingOptionsFromCmap(cmap) });
  const log = (subsys: string, level: LogLevel, text: string): void => logger.log(subsys, LEVEL_PRIORITY[level], text);
  log("MAIN", "notice", `Corosync Cluster Engine '${packageVersion()}' starting up`);
  // A broken invariant: log it, write the blackbox, exit non-zero (style.md "Errors").
  installFatalHandler({
    log: (text) => log("MAIN", "error", text),
    dump: () => writeBlackboxFile(config.system.stateDir, logger.recent()),
    exitCode: ExitCode.FATAL_ERR,
  });
  try {
    return await runExecutive(opts.configFile, config, cmap, logger, log, env);
  } catch (e) {
    log("MAIN", "error", `Corosync Cluster Engine exiting with an error: ${(e as Error).stack ?? String(e)}`);
    await logger.close();
    return ExitCode.FATAL_ERR;
  }
}

async function runExecutive(
  configFile: string,
  config: CorosyncConfig,
  cmap: CmapStore,
  logger: Logger,
  log: (subsys: string, level: LogLevel, text: string) => void,
  env: Env,
): Promise<number> {
  const fail = async (code: number, text: string): Promise<number> => {
    log("MAIN", "error", text);
    await logger.close();
    return code;
  };
  const runDir = env.COROSYNC_RUN_DIR || DEFAULT_RUN_DIR;
  let pidPath: string;
  try {
    pidPath = acquirePidFile(runDir);
  } catch (e) {
    return fail(e instanceof AlreadyRunningError ? ExitCode.ALREADY_RUNNING : ExitCode.ACQUIRE_LOCK, (e as Error).message);
  }
  const release = (): void => releasePidFile(pidPath);
  let net;
  let secauth;
  try {
    net = setUpNetwork(config, env);
    secauth = setUpEnvelope(config, net.localNodeId);
  } catch (e) {
    release();
    return fail(ExitCode.MAINCONFIGREAD, (e as Error).message);
  }
  const nodeId = net.localNodeId;
  let ringSeq: bigint;
  try {
    ringSeq = loadRingSeq(config.system.stateDir, nodeId);
  } catch (e) {
    release();
    return fail(ExitCode.STORE_RINGID, (e as Error).message);
  }
  cmap.set("runtime.votequorum.this_node_id", { type: CmapType.UINT32, value: nodeId }, { force: true });
  applyNodelistInterfaceKeys(cmap, config, nodeId);
  cmap.set("nodelist.local_node_pos", { type: CmapType.UINT32, value: Math.max(0, config.nodes.findIndex((n) => n.nodeId === nodeId)) }, { force: true });

  const srpConfig = srpConfigOf(config, secauth?.overhead ?? 0);
  if (secauth !== undefined) log("TOTEM", "notice", `secauth: ${secauth.suiteName} envelope, key from ${secauth.keySource}`);
  if (net.knetCrypto !== undefined) log("TOTEM", "notice", `knet crypto: ${net.knetCrypto}`);
  const membership = new MembershipView(cmap, net.addressesOf, log);
  let driverRef: TotemDriver | undefined;
  const host = new ServiceHost(nodeId, {
    now: () => performance.now(),
    schedule: (ms, fn) => {
      const t = setTimeout(() => driverRef?.run(() => fn()), ms);
      return { cancel: () => clearTimeout(t) };
    },
    log: (level, subsys, text) => log(subsys, level, text),
  });
  host.addListener(membership);
  const pg = new TotemPg({ netMtu: srpConfig.netMtu, nodeId, upper: host });
  host.attach(pg);
  const srp = new TotemSrp({ nodeId, config: srpConfig, persistedRingSeq: ringSeq, upcalls: pg });
  pg.attach(srp);
  const transport = net.transport;
  const driver = new TotemDriver({
    srp,
    pg,
    transport,
    envelope: secauth?.envelope,
    upper: host,
    log,
    logLimited: (key, intervalMs, subsys, level, text) => {
      if (!logger.rateLimited(key, intervalMs)) log(subsys, level, text);
    },
    persistRingId: (ringId) => storeRingSeq(config.system.stateDir, nodeId, ringId.seq),
    clock: () => performance.now(),
  });
  const transportText = { udpu: "UDP/IP Unicast", udp: "UDP/IP Multicast", knet: "Kronosnet" }[transport.name];
  driverRef = driver;
  log("TOTEM", "notice", `Initializing transport (${transportText}).`);
  try {
    await transport.start({
      onDatagram: (bytes, from) => driver.onDatagram(bytes, from),
      onLog: (level, text, subsys) => log(subsys ?? "TOTEM", level, text),
      // The transport logs the change itself (corosync's words); cmap follows at once.
      onRingStatus: () => publishStats(cmap, srp, driver.dropped, transport),
    });
  } catch (e) {
    release();
    return fail(ExitCode.FATAL_ERR, `Unable to start the ${transport.name} transport: ${(e as Error).message}`);
  }
  log("TOTEM", "notice", `The network interface [${transport.localAddress}] is now up.`);
  log("MAIN", "notice", `Local node id ${nodeId}, ring seq ${ringSeq} loaded from ${join(config.system.stateDir, `ringid_${nodeId}`)}`);
  let shutdownRequest: (reason: string) => void = () => {};
  let ipcRef: IpcServer | undefined;
  const ctx: ServiceContext = {
    config,
    configFile,
    env,
    nodeId,
    cmap,
    host,
    srp,
    transport,
    log,
    requestShutdown: (reason) => shutdownRequest(reason),
    reloadConfig: async () => {
      const r = reloadConfiguration(configFile, env, cmap);
      if (r.ok) logger.applyConfig(loggingOptionsFromCmap(cmap));
      // New Totem timeouts take effect at their next use (the MTU cannot change).
      if (r.config !== undefined) srp.reconfigure(srpConfigOf(r.config, secauth?.overhead ?? 0));
      log("CFG", r.ok ? "notice" : "error", r.message);
      return r;
    },
    reopenLogs: () => void logger.reopen(),
    runtimeStats: { ipc: () => ipcRef, droppedFrames: () => driver.dropped },
  };
  const modules = SERVICE_FACTORIES.map((f) => f(ctx));
  for (const m of modules) if (m.engine !== undefined) host.register(m.engine);
  for (const m of modules) {
    if (m.engine !== undefined) cmap.set(`internal_configuration.service.${m.engine.id}.name`, { type: CmapType.STRING, value: m.engine.name }, { force: true });
  }
  // The first module serving an IPC name wins (a full service replaces a fallback after it).
  const ipcServices: Record<string, IpcServiceHandler> = {};
  for (const m of modules) if (m.ipc !== undefined && !(m.ipc.name in ipcServices)) ipcServices[m.ipc.name] = flushingAfter(m.ipc.handler, () => driver.flush());
  const ipc = new IpcServer({
    services: ipcServices,
    authorize: (cred) => {
      const ok = ipcAllowed(cmap, cred);
      if (!ok) {
        const text = `Denied connection, uid ${cred.uid} gid ${cred.gid} pid ${cred.pid} is not allowed (uid 0, gid 0 or uidgid entries)`;
        if (!logger.rateLimited(`ipc-deny:${cred.uid}:${cred.gid}`, 10_000)) log("MAIN", "warning", text);
      }
      return ok;
    },
    log: (level, text) => log("MAIN", level, text),
  });
  ipcRef = ipc;
  const stateDump = (): void => {
    publishStats(cmap, srp, driver.dropped, transport);
    const drops = Object.entries(driver.dropped).map(([k, v]) => `${k}=${v}`).join(" ") || "none";
    const tx = Object.entries(transport.stats).map(([k, v]) => `${k}=${v}`).join(" ");
    log("MAIN", "notice", `Statistics: state ${srp.stateName}, ring ${membership.ringId}, members [${membership.members.join(" ")}]; frames dropped: ${drops}; transport: ${tx}; srp rejected ${srp.stats.rx_msg_rejected}; tokens received ${srp.stats.orf_token_rx}, last rotation ${Math.round(srp.stats.mtt_rx_token)} ms`);
  };
  const dumpBlackbox = (): void => {
    try {
      log("MAIN", "notice", `Blackbox written to ${writeBlackboxFile(config.system.stateDir, logger.recent())}`);
    } catch (e) {
      log("MAIN", "error", `Can't store blackbox file: ${(e as Error).message}`);
    }
  };
  const stopTriggers = installRuntimeTriggers(cmap, {
    dumpFlightData: dumpBlackbox,
    dumpState: stateDump,
    forceGather: () => {
      log("TOTEM", "error", "Forcing into GATHER state");
      driver.run((now) => srp.forceGather(now));
    },
  });
  driver.start();
  try {
    if (Object.keys(ipcServices).length > 0) await ipc.start();
  } catch (e) {
    driver.stop();
    await transport.close();
    release();
    return fail(ExitCode.FATAL_ERR, `Can't start IPC: ${(e as Error).message}`);
  }
  const statsTimer = setInterval(() => publishStats(cmap, srp, driver.dropped, transport), 1000);
  statsTimer.unref();

  return new Promise<number>((resolve) => {
    let exiting = false;
    const shutdown = async (signal: string): Promise<void> => {
      if (exiting) return;
      exiting = true;
      log("MAIN", "notice", signal.startsWith("SIG") ? `Node was shut down by a signal (${signal})` : `Node was shut down: ${signal}`);
      await lastMessages();
      driver.leave();
      clearInterval(statsTimer);
      stopTriggers();
      for (const m of modules) m.stop?.();
      void ipc.stop();
      // Give the LEAVE datagrams a moment to leave the socket buffers before closing.
      setTimeout(() => {
        void transport.close().finally(async () => {
          release();
          log("MAIN", "notice", "Corosync Cluster Engine exiting normally");
          await logger.close();
          resolve(ExitCode.EXIT);
        });
      }, 20);
    };
    /**
     * Services' last exec messages before the LEAVE (votequorum's LEAVING with
     * allow_downscale), waited for at most two token timeouts.
     */
    const lastMessages = async (): Promise<void> => {
      const pending = modules.map((m) => m.beforeLeave?.()).filter((p): p is Promise<void> => p !== undefined);
      if (pending.length === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((r) => (timer = setTimeout(r, 2 * srp.cfg.tokenMs)));
      await Promise.race([Promise.all(pending), bound]);
      clearTimeout(timer);
    };
    shutdownRequest = (reason) => void shutdown(reason);
    for (const sig of ["SIGTERM", "SIGINT", "SIGQUIT"] as const) process.on(sig, () => void shutdown(sig));
    // corosync's diagnostic signal: log the counters (drops by reason, transport, membership);
    // ours also writes the blackbox (a dump that needs no IPC).
    process.on("SIGUSR2", () => {
      stateDump();
      dumpBlackbox();
    });
  });
}

/**
 * A handler whose requests are followed by `flush` (the driver's effects the request caused,
 * e.g. a TOKEN_HOLD_CANCEL for a client's mcast), once per turn of the event loop however
 * many requests that turn handled (a microtask: it runs before any I/O of the next turn).
 */
function flushingAfter(h: IpcServiceHandler, flush: () => void): IpcServiceHandler {
  let pending = false;
  const later = (): void => {
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      flush();
    });
  };
  return {
    requestIds: h.requestIds,
    onConnect: h.onConnect?.bind(h),
    onDisconnect: h.onDisconnect?.bind(h),
    onRequest(conn, req) {
      const r = h.onRequest(conn, req);
      later();
      if (r instanceof Promise) return r.finally(later);
      return r;
    },
  };
}

/**
 * Without `-f`, corosync forks into the background. We start ourselves detached with `-f`
 * and wait until the child has taken the pid-file lock (ready) or has exited (its status).
 */
async function daemonize(opts: ExecutiveOptions, env: Env): Promise<number> {
  const script = process.argv[1];
  if (script === undefined) return ExitCode.FORK;
  const child = spawn(process.execPath, [script, "-f", "-c", opts.configFile], { detached: true, stdio: "ignore", env: { ...env } });
  const runDir = env.COROSYNC_RUN_DIR || DEFAULT_RUN_DIR;
  const pidFile = join(runDir, "corosync.pid");
  return new Promise<number>((resolve) => {
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      clearInterval(poll);
      child.unref();
      resolve(code);
    };
    child.on("exit", (code) => finish(code ?? ExitCode.FORK));
    child.on("error", () => finish(ExitCode.FORK));
    const started = Date.now();
    const poll = setInterval(() => {
      if (existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() === String(child.pid)) finish(ExitCode.EXIT);
      else if (Date.now() - started > 30_000) finish(ExitCode.FORK);
    }, 50);
  });
}
