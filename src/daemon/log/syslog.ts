/**
 * Sending log records to the local syslog daemon.
 *
 * The local syslog socket (`/dev/log`, also journald's) is a Unix *datagram* socket, and
 * Node cannot open one: `dgram` only knows udp4/udp6, and `net.connect('/dev/log')` fails
 * with EPROTOTYPE (background/node-ecosystem.md §4). Without native code and without a new
 * dependency, the robust way found is a long-lived child process that owns the socket:
 * util-linux `logger(1)` (Debian package `bsdutils`, which is Essential, so present on every
 * Debian system), started once as
 *
 *   logger --socket-errors=off --prio-prefix -u /dev/log -t corosync --id=<our pid> -S 2048
 *
 * and fed one line per message on its stdin: `<PRI>body`. For each line it sends one
 * datagram, `<PRI>Mmm dd hh:mm:ss corosync[<pid>]: body` — exactly the frame glibc's
 * `syslog(3)` sends for corosync (no host name on the local socket; journald would take a
 * host name for the program name). Checked on util-linux 2.38 (Debian 12): the priority
 * prefix is honoured per line; leading blanks, tabs and UTF-8 survive; with
 * `--socket-errors=off` logger keeps running while the socket is missing or refuses, drops
 * those lines silently, and reconnects by itself when the syslog daemon comes back.
 *
 * What this sink guarantees: `send` never blocks and never throws; a message is dropped
 * and counted when no logger process runs or more than `maxPendingBytes` wait in the pipe;
 * a logger that exits or cannot be started is started again, at most once per
 * `restartDelayMs`, on the next `send`. Newlines and NULs inside a body would split or cut
 * the line, so they are replaced by blanks. Lines logger itself drops (socket missing)
 * cannot be counted here.
 */
import { spawn, type ChildProcess } from "node:child_process";

/** One message for syslog: facility and severity make the PRI; `body` follows the tag. */
export interface SyslogMessage {
  facility: number;
  severity: number;
  body: string;
  timeMs: number;
}

export interface SyslogSinkStats {
  sent: number;
  dropped: number;
  starts: number;
  lastError: string | undefined;
}

/** Where syslog-bound records go. `send` must not block or throw. */
export interface SyslogSink {
  send(message: SyslogMessage): void;
  stats(): SyslogSinkStats;
  close(): Promise<void>;
}

export interface LoggerCommandSinkOptions {
  /** Datagram socket of the syslog daemon; `/dev/log` by default. */
  socketPath?: string;
  /** Program name in the frame (`-t`): `corosync`. */
  ident?: string;
  /** Pid shown in the frame (`--id`): ours, not logger's. */
  pid?: number;
  /** The logger program; `logger` from PATH by default. */
  command?: string;
  /** Least time between two start attempts. */
  restartDelayMs?: number;
  /** Bytes that may wait in the pipe before messages are dropped. */
  maxPendingBytes?: number;
  /** Largest message logger sends (`-S`). */
  maxMessageBytes?: number;
  clock?: () => number;
}

const CONTROL_BREAKS = /[\r\n\0]/g;

/** A `SyslogSink` that writes through a long-lived `logger(1)` child (see the file comment). */
export class LoggerCommandSyslogSink implements SyslogSink {
  private child: ChildProcess | undefined;
  private lastStartMs = Number.NEGATIVE_INFINITY;
  private closed = false;
  private sent = 0;
  private dropped = 0;
  private starts = 0;
  private lastError: string | undefined;
  private readonly socketPath: string;
  private readonly ident: string;
  private readonly pid: number;
  private readonly command: string;
  private readonly restartDelayMs: number;
  private readonly maxPendingBytes: number;
  private readonly maxMessageBytes: number;
  private readonly clock: () => number;

  constructor(options: LoggerCommandSinkOptions = {}) {
    this.socketPath = options.socketPath ?? "/dev/log";
    this.ident = options.ident ?? "corosync";
    this.pid = options.pid ?? process.pid;
    this.command = options.command ?? "logger";
    this.restartDelayMs = options.restartDelayMs ?? 1000;
    this.maxPendingBytes = options.maxPendingBytes ?? 1 << 20;
    this.maxMessageBytes = options.maxMessageBytes ?? 2048;
    this.clock = options.clock ?? Date.now;
  }

  /** Pid of the running logger process, if any (for tests and diagnostics). */
  get childPid(): number | undefined {
    return this.child?.pid;
  }

  send(message: SyslogMessage): void {
    const stdin = this.closed ? undefined : this.ensureChild()?.stdin;
    if (stdin == null || stdin.destroyed || stdin.writableLength > this.maxPendingBytes) {
      this.dropped++;
      return;
    }
    const pri = message.facility * 8 + message.severity;
    stdin.write(`<${pri}>${message.body.replace(CONTROL_BREAKS, " ")}\n`);
    this.sent++;
  }

  stats(): SyslogSinkStats {
    return { sent: this.sent, dropped: this.dropped, starts: this.starts, lastError: this.lastError };
  }

  /** Ends logger's input and waits (up to `timeoutMs`) for it to send what it has and exit. */
  async close(timeoutMs = 2000): Promise<void> {
    this.closed = true;
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGTERM");
        resolve();
      }, timeoutMs);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin?.end();
    });
  }

  private ensureChild(): ChildProcess | undefined {
    if (this.child !== undefined) return this.child;
    const now = this.clock();
    if (now - this.lastStartMs < this.restartDelayMs) return undefined;
    this.lastStartMs = now;
    return this.start();
  }

  private start(): ChildProcess | undefined {
    const args = ["--socket-errors=off", "--prio-prefix", "-u", this.socketPath, "-t", this.ident, `--id=${this.pid}`, "-S", String(this.maxMessageBytes)];
    let child: ChildProcess;
    try {
      child = spawn(this.command, args, { stdio: ["pipe", "ignore", "pipe"] });
    } catch (e) {
      this.lastError = (e as Error).message;
      return undefined;
    }
    this.starts++;
    this.child = child;
    const forget = () => {
      if (this.child === child) this.child = undefined;
    };
    child.on("error", (e) => {
      this.lastError = e.message;
      forget();
    });
    child.on("exit", (code, signal) => {
      this.lastError = `logger exited (${signal ?? code})`;
      forget();
    });
    child.stdin?.on("error", (e) => {
      this.lastError = e.message;
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      this.lastError = chunk.toString("utf8").trim().slice(-200);
    });
    // The daemon must be able to exit with the logger still running.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  }
}

/** A sink that keeps messages in memory (tests, and `corosync-sim`). */
export class MemorySyslogSink implements SyslogSink {
  readonly messages: SyslogMessage[] = [];

  send(message: SyslogMessage): void {
    this.messages.push(message);
  }

  stats(): SyslogSinkStats {
    return { sent: this.messages.length, dropped: 0, starts: 0, lastError: undefined };
  }

  async close(): Promise<void> {}
}
