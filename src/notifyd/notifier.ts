/**
 * What every corosync-notifyd output implements, plus the two simplest outputs: stdout (`-o`)
 * and syslog (`-l`). Contract for all notifiers: `notify` never throws and never blocks; a
 * server that is absent or misbehaving is reported through the log and retried, never
 * allowed to stop the daemon.
 */
import { LoggerCommandSyslogSink } from "../daemon/log/syslog.js";
import { formatEventLine, type NotifyEvent } from "../core/notify/events.js";

export interface Notifier {
  /** `dbus`, `snmp`, `agentx`, `syslog`, `stdout`. */
  readonly name: string;
  /** Whether it is currently connected to its server (metrics). */
  readonly up: boolean;
  notify(e: NotifyEvent): void;
  close(): Promise<void>;
}

/** `-o`: one line per event on stdout, as the man page's example. */
export class StdoutNotifier implements Notifier {
  readonly name = "stdout";
  readonly up = true;

  constructor(private readonly write: (text: string) => void = (t) => void process.stdout.write(t)) {}

  notify(e: NotifyEvent): void {
    this.write(`corosync-notifyd[${process.pid}]: ${formatEventLine(e)}\n`);
  }

  async close(): Promise<void> {}
}

/** syslog(3)'s LOG_DAEMON facility and the severities notifyd uses. */
export const LOG_DAEMON = 3;
export const SEVERITY = { error: 3, warning: 4, notice: 5, info: 6, debug: 7 } as const;

/**
 * `-l`: events (notice) and notifyd's own diagnostics to the local syslog daemon as
 * `notifyd[pid]: ...` with facility daemon, as the C tool's `qb_log_init("notifyd",
 * LOG_DAEMON, LOG_INFO)`. The datagram socket is driven by util-linux `logger` (see
 * daemon/log/syslog.ts for why): it reconnects by itself when the syslog daemon restarts.
 */
export class SyslogNotifier implements Notifier {
  readonly name = "syslog";
  private readonly sink: LoggerCommandSyslogSink;

  constructor(socketPath = "/dev/log") {
    this.sink = new LoggerCommandSyslogSink({ socketPath, ident: "notifyd", pid: process.pid, restartDelayMs: 1000 });
  }

  get up(): boolean {
    return this.sink.childPid !== undefined;
  }

  notify(e: NotifyEvent): void {
    this.log("notice", formatEventLine(e));
  }

  /** A diagnostic line (info and above). */
  log(level: keyof typeof SEVERITY, text: string): void {
    if (level === "debug") return;
    this.sink.send({ facility: LOG_DAEMON, severity: SEVERITY[level], body: text, timeMs: Date.now() });
  }

  async close(): Promise<void> {
    await this.sink.close();
  }
}
