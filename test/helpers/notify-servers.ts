/**
 * Test helper: the real servers corosync-notifyd talks to, each started by the test on
 * loopback or in its own temporary directory, followed through its output, and stopped by
 * pid:
 * - a private `dbus-daemon` (a system-bus configuration with the shipped policy
 *   `conf/corosync-signals.conf` included) and `dbus-monitor` parsing the signals it sees
 *   (Debian packages dbus-daemon, dbus-bin);
 * - `snmptrapd` on a high loopback port printing each trap with numeric OIDs (snmptrapd);
 * - `snmpd` as an AgentX master on a loopback TCP port, and `snmpget` (snmpd, snmp);
 * - `rsyslogd` reading a private datagram socket and writing every record to a file
 *   (rsyslog);
 * - corosync-notifyd itself, as the installed command runs it.
 * None of them reads the system's configuration files; `.ci/run` installs the packages.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const NOTIFYD_BIN = fileURLToPath(new URL("../../src/cli/corosync-notifyd.js", import.meta.url));
/** The shipped policy and MIB (tests run from dist/test/...). */
export const DBUS_POLICY = fileURLToPath(new URL("../../../conf/corosync-signals.conf", import.meta.url));
export const COROSYNC_MIB = fileURLToPath(new URL("../../../conf/COROSYNC-MIB.txt", import.meta.url));

/** Fails with the Debian package to install when a program is missing (no silent skip). */
export function requireProgram(program: string, debianPackage: string): void {
  const found = spawnSync("sh", ["-c", `command -v ${program} || test -x /usr/sbin/${program}`], { stdio: "ignore" }).status === 0;
  if (!found) throw new Error(`${program} not found: install the Debian package ${debianPackage} (.ci/run does)`);
}

/** Polls `pred` every 20 ms; throws with `detail()` after `ms`. */
export async function waitUntil(what: string, pred: () => boolean, ms = 20_000, detail: () => string = () => ""): Promise<number> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now();
}

/** Polls an asynchronous `pred` every 200 ms; throws with `detail()` after `ms`. */
export async function waitUntilAsync(what: string, pred: () => Promise<boolean>, ms = 30_000, detail: () => string = () => ""): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A random port in 30000..59999 (the servers bind 127.0.0.1 only). */
export function randomPort(): number {
  return 30000 + Math.floor(Math.random() * 30000);
}

/** A child process whose stdout and stderr lines are kept; stopped by its pid. */
export class ServerProc {
  readonly lines: string[] = [];
  exitCode: number | null | undefined;
  readonly exited: Promise<void>;
  readonly proc: ChildProcess;

  constructor(
    readonly label: string,
    argv: string[],
    env: Record<string, string> = {},
    private readonly onLine?: (line: string) => void,
  ) {
    this.proc = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    const take = (l: string): void => {
      this.lines.push(l);
      this.onLine?.(l);
    };
    createInterface({ input: this.proc.stdout! }).on("line", take);
    createInterface({ input: this.proc.stderr! }).on("line", take);
    this.exited = new Promise((resolve) => {
      this.proc.once("exit", (code, sig) => {
        this.exitCode = code ?? (sig !== null ? 128 : null);
        resolve();
      });
      this.proc.once("error", (e) => {
        this.lines.push(`spawn error: ${e.message}`);
        this.exitCode = 127;
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running && this.proc.pid !== undefined) {
      try {
        process.kill(this.proc.pid, sig);
      } catch {
        // already gone
      }
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.signal("SIGTERM");
    const t = setTimeout(() => this.signal("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(t);
  }

  /** SIGKILL (an outage: no goodbye to anyone). */
  async kill(): Promise<void> {
    this.signal("SIGKILL");
    await this.exited;
  }

  tail(n = 15): string {
    return `${this.label} (pid ${this.pid}, ${this.running ? "running" : `exited ${this.exitCode}`}):\n  ${this.lines.slice(-n).join("\n  ")}`;
  }

  waitLine(what: string, re: RegExp, ms = 20_000): Promise<number> {
    return waitUntil(`${this.label}: ${what}`, () => this.lines.some((l) => re.test(l)) || !this.running, ms, () => this.tail()).then((at) => {
      if (!this.lines.some((l) => re.test(l))) throw new Error(`${this.label} exited before ${what}\n${this.tail()}`);
      return at;
    });
  }
}

// ---------------------------------------------------------------------------------------
// D-Bus

/**
 * A system-bus configuration for a private dbus-daemon: the stock system bus policy (deny
 * owning names and method calls by default, allow signals and the bus driver) plus the
 * shipped corosync policy, which is what lets root own org.corosync.
 */
export function systemBusConfig(socketPath: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socketPath}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <include>${DBUS_POLICY}</include>
</busconfig>
`;
}

export class DbusBus {
  readonly socketPath: string;
  readonly configPath: string;
  proc: ServerProc | undefined;
  starts = 0;

  constructor(dir: string) {
    this.socketPath = join(dir, "system_bus_socket");
    this.configPath = join(dir, "system-bus.conf");
    writeFileSync(this.configPath, systemBusConfig(this.socketPath));
  }

  get address(): string {
    return `unix:path=${this.socketPath}`;
  }

  /** Starts dbus-daemon (again) on the same socket path; resolves once it listens. */
  async start(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    this.starts++;
    this.proc = new ServerProc(`dbus-daemon#${this.starts}`, ["dbus-daemon", "--config-file", this.configPath, "--nofork", "--nopidfile", "--print-address=1"]);
    await this.proc.waitLine("its address", /^unix:path=/);
  }

  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
  }

  /** The unique name owning `name`, or undefined (`dbus-send` to the bus driver). */
  nameOwner(name: string): Promise<string | undefined> {
    return new Promise((resolve) => {
      execFile("dbus-send", [`--bus=${this.address}`, "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.GetNameOwner", `string:${name}`], { timeout: 10_000 }, (err, stdout) => {
        const m = /string "([^"]+)"/.exec(stdout);
        resolve(err === null && m !== null ? m[1] : undefined);
      });
    });
  }
}

export interface DbusSignal {
  at: number;
  sender: string;
  path: string;
  interface: string;
  member: string;
  args: Array<string | number>;
}

/** `dbus-monitor` on a bus, for signals of one interface, parsed. */
export class DbusMonitor {
  readonly signals: DbusSignal[] = [];
  readonly proc: ServerProc;
  private current: DbusSignal | undefined;

  constructor(address: string, iface = "org.corosync") {
    this.proc = new ServerProc("dbus-monitor", ["dbus-monitor", "--address", address, `type='signal',interface='${iface}'`], {}, (l) => this.take(l));
  }

  /** Resolves once the monitor is attached (the bus took its name away: NameLost). */
  ready(): Promise<number> {
    return this.proc.waitLine("monitoring", /member=NameLost/);
  }

  private take(line: string): void {
    const head = /^(signal|method call|method return|error) .*?sender=(\S+) .*?path=([^;]*); interface=([^;]*); member=(\S+)/.exec(line);
    if (head !== null) {
      this.current = undefined;
      if (head[1] !== "signal") return;
      this.current = { at: Date.now(), sender: head[2]!, path: head[3]!, interface: head[4]!, member: head[5]!, args: [] };
      this.signals.push(this.current);
      return;
    }
    if (this.current === undefined) return;
    const s = /^\s+string "(.*)"$/.exec(line);
    if (s !== null) {
      this.current.args.push(s[1]!);
      return;
    }
    const n = /^\s+(?:uint32|int32|uint64|int64|byte|uint16|int16) (\d+)$/.exec(line);
    if (n !== null) this.current.args.push(Number(n[1]));
  }

  /** Signals of this member on /org/corosync. */
  of(member: string): DbusSignal[] {
    return this.signals.filter((s) => s.member === member && s.path === "/org/corosync" && s.interface === "org.corosync");
  }

  /**
   * Waits for a signal whose arguments equal `args` (all of them), after `since`
   * (signals' `at`). Signals arrive as their last argument line is printed, so a match on
   * all arguments means the whole signal is in.
   */
  waitFor(member: string, args: Array<string | number>, since = 0, ms = 30_000): Promise<DbusSignal> {
    const want = JSON.stringify(args);
    const find = (): DbusSignal | undefined => this.of(member).find((s) => s.at >= since && JSON.stringify(s.args) === want);
    return waitUntil(`D-Bus ${member}${want}`, () => find() !== undefined, ms, () => `seen: ${JSON.stringify(this.signals.map((s) => [s.member, ...s.args]))}\n${this.proc.tail()}`).then(() => find()!);
  }

  stop(): Promise<void> {
    return this.proc.stop();
  }
}

// ---------------------------------------------------------------------------------------
// SNMP

export interface Trap {
  at: number;
  from: string;
  /** snmpTrapOID.0 without the leading dot. */
  trapOid: string;
  /** Every varbind, OID (no leading dot) to snmptrapd's rendering (`STRING: "x"`, `Gauge32: 3`). */
  varbinds: Map<string, string>;
}

const SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0";

/**
 * `snmptrapd` in the foreground on 127.0.0.1:`port`, accepting every community, printing one
 * line per trap with numeric OIDs (no MIBs loaded: the numbers are what we check).
 */
export class TrapReceiver {
  readonly traps: Trap[] = [];
  proc: ServerProc | undefined;
  private readonly configPath: string;
  starts = 0;

  constructor(
    private readonly dir: string,
    readonly port: number,
  ) {
    this.configPath = join(dir, "snmptrapd.conf");
    writeFileSync(this.configPath, "disableAuthorization yes\ndoNotRetainNotificationLogs yes\n");
  }

  async start(): Promise<void> {
    this.starts++;
    this.proc = new ServerProc(
      `snmptrapd#${this.starts}`,
      ["snmptrapd", "-f", "-Lo", "-C", "-c", this.configPath, "-On", "-m", "", "-M", this.dir, "-F", "TRAP %b\t%v\n", `udp:127.0.0.1:${this.port}`],
      { SNMP_PERSISTENT_DIR: join(this.dir, "snmptrapd-state") },
      (l) => this.take(l),
    );
    await this.proc.waitLine("listening", /NET-SNMP version/);
  }

  private take(line: string): void {
    if (!line.startsWith("TRAP ")) return;
    const [from, ...vbs] = line.slice(5).split("\t");
    const varbinds = new Map<string, string>();
    for (const vb of vbs) {
      const m = /^\.?([0-9.]+) = (.*)$/.exec(vb);
      if (m !== null) varbinds.set(m[1]!, m[2]!);
    }
    const trapOid = (varbinds.get(SNMP_TRAP_OID) ?? "").replace(/^OID: \.?/, "");
    this.traps.push({ at: Date.now(), from: from ?? "", trapOid, varbinds });
  }

  /** Waits for a trap with this OID whose varbinds include `want` (OID to rendering). */
  waitFor(trapOid: string, want: Record<string, string>, since = 0, ms = 30_000): Promise<Trap> {
    const find = (): Trap | undefined => this.traps.find((t) => t.at >= since && t.trapOid === trapOid && Object.entries(want).every(([oid, v]) => t.varbinds.get(oid) === v));
    return waitUntil(`trap ${trapOid} ${JSON.stringify(want)}`, () => find() !== undefined, ms, () => `seen: ${JSON.stringify(this.traps.map((t) => [t.trapOid, Object.fromEntries(t.varbinds)]))}\n${this.proc?.tail() ?? ""}`).then(() => find()!);
  }

  stop(): Promise<void> {
    return this.proc?.stop() ?? Promise.resolve();
  }

  kill(): Promise<void> {
    return this.proc?.kill() ?? Promise.resolve();
  }
}

/** `snmpd` as an AgentX master on tcp:127.0.0.1:`agentxPort`, answering v2c on udp `port`. */
export class SnmpdMaster {
  proc: ServerProc | undefined;
  private readonly configPath: string;
  starts = 0;

  constructor(
    private readonly dir: string,
    readonly port: number,
    readonly agentxPort: number,
  ) {
    this.configPath = join(dir, "snmpd.conf");
    writeFileSync(this.configPath, `master agentx\nagentXSocket tcp:127.0.0.1:${agentxPort}\nrocommunity public 127.0.0.1\n`);
  }

  async start(): Promise<void> {
    this.starts++;
    this.proc = new ServerProc(`snmpd#${this.starts}`, ["snmpd", "-f", "-Lo", "-C", "-c", this.configPath, "-m", "", "-M", this.dir, `udp:127.0.0.1:${this.port}`], {
      SNMP_PERSISTENT_DIR: join(this.dir, "snmpd-state"),
    });
    await this.proc.waitLine("listening", /NET-SNMP version/);
  }

  /** `snmpget -v2c` of numeric OIDs: OID (no leading dot) to rendering, per answer line. */
  get(...oids: string[]): Promise<Map<string, string>> {
    return new Promise((resolve, reject) => {
      execFile("snmpget", ["-v2c", "-c", "public", "-On", "-m", "", "-M", this.dir, "-t", "2", "-r", "1", `udp:127.0.0.1:${this.port}`, ...oids], { timeout: 15_000 }, (err, stdout, stderr) => {
        if (err !== null && stdout === "") return reject(new Error(`snmpget failed: ${err.message} ${stderr}`));
        const out = new Map<string, string>();
        for (const line of stdout.split("\n")) {
          const m = /^\.?([0-9.]+) = (.*)$/.exec(line);
          if (m !== null) out.set(m[1]!, m[2]!);
        }
        resolve(out);
      });
    });
  }

  stop(): Promise<void> {
    return this.proc?.stop() ?? Promise.resolve();
  }

  kill(): Promise<void> {
    return this.proc?.kill() ?? Promise.resolve();
  }
}

// ---------------------------------------------------------------------------------------
// syslog

/**
 * `rsyslogd -n` with a private configuration: the local-socket input on `socketPath` only
 * (not /dev/log) and every record written to `file` as `facility.severity tag[pid]: msg`.
 */
export class SyslogReceiver {
  readonly socketPath: string;
  readonly file: string;
  private readonly configPath: string;
  proc: ServerProc | undefined;

  constructor(private readonly dir: string) {
    this.socketPath = join(dir, "log.sock");
    this.file = join(dir, "syslog.out");
    this.configPath = join(dir, "rsyslog.conf");
    writeFileSync(
      this.configPath,
      [
        `global(workDirectory="${dir}")`,
        'module(load="imuxsock" SysSock.Use="off")',
        `input(type="imuxsock" Socket="${this.socketPath}" CreatePath="on")`,
        'template(name="line" type="string" string="%syslogfacility-text%.%syslogseverity-text% %programname%[%procid%]:%msg%\\n")',
        `*.* action(type="omfile" file="${this.file}" template="line" flushOnTXEnd="on" asyncWriting="off")`,
        "",
      ].join("\n"),
    );
  }

  async start(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    this.proc = new ServerProc("rsyslogd", ["rsyslogd", "-n", "-f", this.configPath, "-i", join(this.dir, "rsyslogd.pid")]);
    await waitUntil("rsyslogd's socket", () => existsSync(this.socketPath) || !this.proc!.running, 20_000);
    if (!this.proc.running) throw new Error(`rsyslogd did not start\n${this.proc.tail()}`);
  }

  /** The records written so far. */
  records(): string[] {
    return existsSync(this.file) ? readFileSync(this.file, "utf8").split("\n").filter((l) => l !== "") : [];
  }

  waitFor(what: string, re: RegExp, ms = 30_000): Promise<string> {
    const find = (): string | undefined => this.records().find((l) => re.test(l));
    return waitUntil(`syslog record ${what}`, () => find() !== undefined, ms, () => `records:\n  ${this.records().slice(-15).join("\n  ")}`).then(() => find()!);
  }

  stop(): Promise<void> {
    return this.proc?.stop() ?? Promise.resolve();
  }
}

// ---------------------------------------------------------------------------------------
// corosync-notifyd

/**
 * corosync-notifyd in the foreground; its diagnostics (stderr) and `-o` lines (stdout) are
 * kept. `wrap` prefixes the command (`ip netns exec NS`, which execs: the pid is notifyd's).
 */
export class NotifydProc extends ServerProc {
  constructor(args: string[], env: Record<string, string>, wrap: string[] = []) {
    super("corosync-notifyd", [...wrap, process.execPath, NOTIFYD_BIN, "-f", ...args], env);
  }

  /** The port of `--metrics HOST:0`, from its "serving metrics at" line. */
  async metricsUrl(ms = 20_000): Promise<string> {
    await this.waitLine("the metrics address", /serving metrics at http:/, ms);
    const m = /serving metrics at (http:\S+)/.exec(this.lines.find((l) => /serving metrics at http:/.test(l))!);
    return m![1]!;
  }
}

/** One Prometheus sample value (`name{labels}` exactly as exposed), or undefined. */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const sp = line.lastIndexOf(" ");
    if (sp > 0 && line.slice(0, sp) === series) return Number(line.slice(sp + 1));
  }
  return undefined;
}
