#!/usr/bin/env node
/**
 * `corosync-notifyd`: listens for corosync's important events (nodes joining and leaving,
 * applications connecting, quorum gained and lost, links failing and recovering) and
 * delivers them to syslog, stdout, D-Bus signals and SNMP traps; ours can also serve the
 * state over AgentX and as Prometheus `/metrics`.
 *
 *   corosync-notifyd [-f] [-l] [-o] [-s] [-m MANAGER] [-c COMMUNITY] [-n] [-d] [-h]
 *                    [--agentx [HOST:]PORT] [--metrics [HOST:]PORT] [--syslog-socket PATH]
 *
 * The short options are corosync 3.1.7's, with its messages and exit codes; the long ones
 * are ours. Unlike the C tool it does not exit when the executive goes away: it reconnects
 * with backoff (as it does for D-Bus and the AgentX master). See docs/notifyd.md.
 */
import { spawn } from "node:child_process";
import { lookupService } from "node:dns/promises";
import { hostname } from "node:os";
import { getopt, isMainModule, OptionError, type ToolIo } from "./cli-support.js";
import { parseSnmpManager } from "../core/notify/mib.js";
import { formatEventLine, type NotifyEvent } from "../core/notify/events.js";
import { ClusterWatcher, type NotifydLog } from "../notifyd/watcher.js";
import { StdoutNotifier, SyslogNotifier, type Notifier } from "../notifyd/notifier.js";
import { DbusNotifier } from "../notifyd/dbus.js";
import { AgentxNotifier, SnmpTrapNotifier, type AgentxStatus } from "../notifyd/snmp.js";
import { MetricsServer, parseListenAddress } from "../notifyd/metrics-server.js";

export const USAGE =
  "usage:\n" +
  "        -c     : SNMP Community name.\n" +
  "        -f     : Start application in foreground.\n" +
  "        -l     : Log all events.\n" +
  "        -o     : Print events to stdout (turns on -l).\n" +
  "        -s     : Send SNMP traps on all events.\n" +
  "        -m     : Set the SNMP Manager IP address (defaults to localhost).\n" +
  "        -n     : No reverse DNS lookup on cmap member change events.\n" +
  "        -d     : Send DBUS signals on all events.\n" +
  "        -h     : Print this help.\n" +
  "        --agentx [HOST:]PORT   : Serve COROSYNC-MIB status objects as an AgentX subagent of the snmpd master at HOST:PORT (TCP; host 127.0.0.1).\n" +
  "        --metrics [HOST:]PORT  : Serve Prometheus metrics at http://HOST:PORT/metrics (host 127.0.0.1).\n" +
  "        --syslog-socket PATH   : Syslog datagram socket for -l (default /dev/log).\n\n";

export interface NotifydConfig {
  foreground: boolean;
  log: boolean;
  stdout: boolean;
  snmp: boolean;
  manager: { host: string; port: number };
  community: string;
  noDns: boolean;
  dbus: boolean;
  agentx?: { host: string; port: number };
  metrics?: { host: string; port: number };
  syslogSocket: string;
}

const LONG_OPTIONS = new Set(["agentx", "metrics", "syslog-socket"]);

/**
 * The command line as a configuration, or the text to print and the exit status (C tool:
 * usage and status 1 for `-h` and for bad options).
 */
export function parseNotifydArgs(argv: readonly string[]): { config: NotifydConfig; warnings: string[] } | { exit: number; stderr: string } {
  const short: string[] = [];
  const long = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      short.push(...argv.slice(i));
      break;
    }
    if (!a.startsWith("--")) {
      short.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (!LONG_OPTIONS.has(name)) return { exit: 1, stderr: `corosync-notifyd: unrecognized option '${a}'\n${USAGE}` };
    const value = eq < 0 ? argv[++i] : a.slice(eq + 1);
    if (value === undefined) return { exit: 1, stderr: `corosync-notifyd: option '--${name}' requires an argument\n${USAGE}` };
    long.set(name, value);
  }
  let parsed;
  try {
    parsed = getopt(short, "c:floshdnm:", "corosync-notifyd");
  } catch (e) {
    if (e instanceof OptionError) return { exit: 1, stderr: `${e.message}\n${USAGE}` };
    throw e;
  }
  if (parsed.operands.length > 0) return { exit: 1, stderr: `corosync-notifyd: unexpected argument '${parsed.operands[0]}'\n${USAGE}` };
  const config: NotifydConfig = { foreground: false, log: false, stdout: false, snmp: false, manager: { host: "localhost", port: 162 }, community: "public", noDns: false, dbus: false, syslogSocket: "/dev/log" };
  for (const o of parsed.options) {
    switch (o.name) {
      case "c":
        config.community = o.value!;
        break;
      case "f":
        config.foreground = true;
        break;
      case "l":
        config.log = true;
        break;
      case "m": {
        const m = parseSnmpManager(o.value!);
        if ("error" in m) return { exit: 1, stderr: `corosync-notifyd: ${m.error}\n` };
        config.snmp = true;
        config.manager = m;
        break;
      }
      case "n":
        config.noDns = true;
        break;
      case "o":
        config.log = true;
        config.stdout = true;
        break;
      case "s":
        config.snmp = true;
        break;
      case "d":
        config.dbus = true;
        break;
      default:
        return { exit: 1, stderr: USAGE };
    }
  }
  for (const [name, value] of long) {
    if (name === "syslog-socket") {
      if (value === "") return { exit: 1, stderr: "corosync-notifyd: --syslog-socket needs a path\n" };
      config.syslogSocket = value;
      continue;
    }
    const a = parseListenAddress(value);
    if ("error" in a) return { exit: 1, stderr: `corosync-notifyd: --${name}: ${a.error}\n` };
    if (name === "agentx") {
      if (a.port === 0) return { exit: 1, stderr: "corosync-notifyd: --agentx: port must be 1..65535\n" };
      config.agentx = a;
    } else config.metrics = a;
  }
  if (!config.log && !config.stdout && !config.snmp && !config.dbus && config.agentx === undefined && config.metrics === undefined) {
    return { exit: 1, stderr: "no event type enabled, see corosync-notifyd -h, exiting.\n" };
  }
  if (config.stdout && !config.foreground) return { exit: 1, stderr: "configured to print to stdout and run in the background, exiting\n" };
  const warnings = config.snmp && config.dbus ? ["configured to send snmp traps and dbus signals - are you sure?."] : [];
  return { config, warnings };
}

/** A reverse lookup (getnameinfo) with a deadline; the address itself when it fails. */
function nameResolver(noDns: boolean): (ip: string) => Promise<string> {
  const cache = new Map<string, string>();
  return async (ip) => {
    if (noDns) return ip;
    const known = cache.get(ip);
    if (known !== undefined) return known;
    let timer: NodeJS.Timeout | undefined;
    const name = await Promise.race([
      lookupService(ip, 0).then((r) => r.hostname, () => ip),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve(ip), 2000))),
    ]);
    clearTimeout(timer);
    cache.set(ip, name);
    return name;
  };
}

/** Runs notifyd in the foreground until SIGINT/SIGTERM/SIGQUIT; resolves to the exit status. */
export async function runNotifyd(config: NotifydConfig, io: ToolIo): Promise<number> {
  const syslog = config.log ? new SyslogNotifier(config.syslogSocket) : undefined;
  const log: NotifydLog = (level, text) => {
    if (level === "debug") return;
    io.stderr(`corosync-notifyd[${process.pid}]: [${level}] ${text}\n`);
    syslog?.log(level, text);
  };
  const notifiers: Notifier[] = [];
  if (syslog !== undefined) notifiers.push(syslog);
  if (config.stdout) notifiers.push(new StdoutNotifier(io.stdout));
  if (config.dbus) notifiers.push(new DbusNotifier({ log }));
  if (config.snmp) notifiers.push(new SnmpTrapNotifier({ ...config.manager, community: config.community, log }));
  const agentx = config.agentx === undefined ? undefined : new AgentxNotifier({ ...config.agentx, log });
  if (agentx !== undefined) notifiers.push(agentx);

  const resolveName = nameResolver(config.noDns);
  let refreshSoon: () => void = () => {};
  const watcher = new ClusterWatcher({
    resolveName,
    log,
    metrics: config.metrics !== undefined || agentx !== undefined,
    onEvent: (e: NotifyEvent) => {
      if (!config.log && !config.stdout) log("info", formatEventLine(e));
      for (const n of notifiers) n.notify(e);
      refreshSoon();
    },
  });
  const notifiersUp = (): Record<string, boolean> => Object.fromEntries(notifiers.map((n) => [n.name, n.up]));

  let metrics: MetricsServer | undefined;
  if (config.metrics !== undefined) {
    metrics = new MetricsServer(() => watcher.metrics(notifiersUp()));
    try {
      const at = await metrics.listen(config.metrics.host, config.metrics.port);
      log("notice", `serving metrics at http://${at.host.includes(":") ? `[${at.host}]` : at.host}:${at.port}/metrics`);
    } catch (e) {
      io.stderr(`corosync-notifyd: cannot serve metrics on ${config.metrics.host}:${config.metrics.port}: ${(e as Error).message}\n`);
      await Promise.all(notifiers.map((n) => n.close()));
      return 1;
    }
  }

  // The AgentX objects follow the executive: refreshed every 2 s and soon after each event.
  let agentxTimer: NodeJS.Timeout | undefined;
  let refreshing = false;
  const refresh = async (): Promise<void> => {
    if (agentx === undefined || refreshing) return;
    refreshing = true;
    try {
      const m = await watcher.metrics({});
      if (!m.up) return;
      const nodes: AgentxStatus["nodes"] = [];
      for (const n of m.members) nodes.push({ nodeId: n.nodeId, name: await resolveName(n.address), address: n.address, status: n.status });
      agentx.update({
        localNodeId: m.localNodeId ?? 0,
        localNodeName: hostname(),
        quorate: m.quorate,
        memberCount: m.ringMembers?.length,
        expectedVotes: m.votes?.expected,
        totalVotes: m.votes?.total,
        quorum: m.votes?.quorum,
        nodes,
      });
    } finally {
      refreshing = false;
    }
  };
  if (agentx !== undefined) {
    agentxTimer = setInterval(() => void refresh().catch(() => {}), 2000);
    let soon: NodeJS.Timeout | undefined;
    refreshSoon = () => {
      clearTimeout(soon);
      soon = setTimeout(() => void refresh().catch(() => {}), 100);
    };
  }

  // A fault inside a client library must not end the notifications.
  const onUncaught = (e: unknown): void => log("error", `internal error (continuing): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.on("uncaughtException", onUncaught);

  watcher.start();
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const s of ["SIGINT", "SIGTERM", "SIGQUIT"] as const) process.once(s, () => resolve(s));
  });
  log("info", `${signal} received, exiting`);
  clearInterval(agentxTimer);
  await watcher.stop();
  await metrics?.close();
  await Promise.all(notifiers.map((n) => n.close().catch(() => {})));
  process.off("uncaughtException", onUncaught);
  return 0;
}

/** `corosync-notifyd ARGS`: parse, go to the background unless `-f`, run. */
export async function main(argv: string[], io: ToolIo): Promise<number> {
  const parsed = parseNotifydArgs(argv);
  if ("exit" in parsed) {
    io.stderr(parsed.stderr);
    return parsed.exit;
  }
  for (const w of parsed.warnings) io.stderr(`${w}\n`);
  if (!parsed.config.foreground) {
    // daemon(0, 0): run on detached, without a terminal; this process returns at once.
    const script = process.argv[1];
    if (script === undefined) {
      io.stderr("daemon() failed: no script path\n");
      return 1;
    }
    const child = spawn(process.execPath, [script, "-f", ...argv], { detached: true, stdio: "ignore", cwd: "/" });
    child.unref();
    return 0;
  }
  return runNotifyd(parsed.config, io);
}

if (isMainModule(import.meta.url)) {
  const io: ToolIo = { stdout: (t) => void process.stdout.write(t), stderr: (t) => void process.stderr.write(t) };
  main(process.argv.slice(2), io).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`corosync-notifyd: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
