/**
 * `-d`: corosync-notifyd's D-Bus signals on the system bus (`$DBUS_SYSTEM_BUS_ADDRESS`, else
 * `unix:path=/var/run/dbus/system_bus_socket`), sent from object `/org/corosync`, interface
 * `org.corosync`, as corosync 3.1.7's tool:
 *
 *   NodeStateChange(s name, u nodeid, s ip, s state)          state joined | left
 *   ConnectionStateChange(s name, u nodeid, s app, s state)   state connected | disconnected
 *   QuorumStateChange(s name, u nodeid, s state)              state quorate | not quorate
 *   LinkStateChange(s name, u local_nodeid, u nodeid, u link, s state)
 *
 * The last one is ours: the C tool sends link changes as a second `QuorumStateChange` with
 * signature `suuus`, which breaks every consumer that matches that name; we give it its own
 * name (docs/notifyd.md). The bus name `org.corosync` is requested (root may own it with the
 * shipped policy `conf/corosync-signals.conf`); signals are broadcast either way, so a refusal
 * is logged and sending goes on.
 *
 * The bus connection is our own socket handed to @homebridge/dbus-native (so `unix:abstract=`
 * works without a native module). When the bus goes away (socket closed or an error), the
 * notifier logs it, keeps up to `queueMax` events (dropping the oldest, counted), reconnects
 * with backoff and sends what it kept once the bus accepted it again.
 */
import { createConnection, type Socket } from "node:net";
import dbus, { type MessageBus } from "@homebridge/dbus-native";
import type { NotifyEvent } from "../core/notify/events.js";
import type { Notifier } from "./notifier.js";
import type { NotifydLog } from "./watcher.js";

export const DBUS_NAME = "org.corosync";
export const DBUS_INTERFACE = "org.corosync";
export const DBUS_PATH = "/org/corosync";
export const DEFAULT_SYSTEM_BUS = "unix:path=/var/run/dbus/system_bus_socket";
/** `DBUS_NAME_FLAG_DO_NOT_QUEUE`. */
const DO_NOT_QUEUE = 4;

/** Where to connect for a D-Bus address (the first usable entry of a `;` list). */
export type DbusEndpoint = { path: string } | { host: string; port: number };

/**
 * Parses a D-Bus server address (`unix:path=`, `unix:abstract=`, `tcp:host=,port=`; the spec's
 * `%xx` escapes decoded). Throws with a readable message when no entry is usable.
 */
export function parseDbusAddress(address: string): DbusEndpoint {
  const problems: string[] = [];
  for (const entry of address.split(";")) {
    if (entry.trim() === "") continue;
    const colon = entry.indexOf(":");
    if (colon < 0) {
      problems.push(`'${entry}' has no transport`);
      continue;
    }
    const transport = entry.slice(0, colon);
    const params = new Map<string, string>();
    for (const kv of entry.slice(colon + 1).split(",")) {
      const eq = kv.indexOf("=");
      if (eq > 0) params.set(kv.slice(0, eq), decodeURIComponent(kv.slice(eq + 1)));
    }
    if (transport === "unix") {
      const path = params.get("path");
      const abstract = params.get("abstract");
      if (path !== undefined) return { path };
      if (abstract !== undefined) return { path: `\0${abstract}` };
      problems.push(`'${entry}' has neither path= nor abstract=`);
    } else if (transport === "tcp") {
      const port = Number(params.get("port"));
      if (Number.isInteger(port) && port > 0 && port < 65536) return { host: params.get("host") ?? "localhost", port };
      problems.push(`'${entry}' has no valid port=`);
    } else {
      problems.push(`transport '${transport}' is not supported`);
    }
  }
  throw new Error(`unusable D-Bus address '${address}': ${problems.join("; ") || "empty"}`);
}

/** The signal (member, signature, arguments) for an event. */
export function dbusSignalFor(e: NotifyEvent): { member: string; signature: string; args: Array<string | number> } {
  switch (e.kind) {
    case "node":
      return { member: "NodeStateChange", signature: "suss", args: [e.name, e.nodeId >>> 0, e.ip, e.state] };
    case "connection":
      return { member: "ConnectionStateChange", signature: "suss", args: [e.name, e.nodeId >>> 0, e.app, e.state] };
    case "quorum":
      return { member: "QuorumStateChange", signature: "sus", args: [e.name, e.nodeId >>> 0, e.state] };
    case "link":
      return { member: "LinkStateChange", signature: "suuus", args: [e.name, e.localNodeId >>> 0, e.nodeId >>> 0, e.iface >>> 0, e.state] };
  }
}

export interface DbusNotifierOptions {
  /** Bus address; default `$DBUS_SYSTEM_BUS_ADDRESS` or the system bus socket. */
  address?: string;
  log: NotifydLog;
  queueMax?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Give up a connection attempt (auth, Hello, RequestName) after this long. */
  connectTimeoutMs?: number;
}

export class DbusNotifier implements Notifier {
  readonly name = "dbus";
  private bus: MessageBus | undefined;
  private socket: Socket | undefined;
  private ready = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private delay: number;
  private readonly queue: NotifyEvent[] = [];
  private everUp = false;
  private reportedDown = false;
  private nameRefusalLogged = false;
  /** Events dropped because the queue was full while the bus was away. */
  dropped = 0;
  /** Signals handed to the bus connection. */
  sent = 0;

  constructor(private readonly opts: DbusNotifierOptions) {
    this.delay = opts.backoffMinMs ?? 250;
    this.connect();
  }

  get up(): boolean {
    return this.ready;
  }

  notify(e: NotifyEvent): void {
    if (this.ready && this.bus !== undefined) {
      this.send(this.bus, e);
      return;
    }
    if (this.queue.length >= (this.opts.queueMax ?? 256)) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(e);
  }

  private send(bus: MessageBus, e: NotifyEvent): void {
    const s = dbusSignalFor(e);
    try {
      bus.sendSignal(DBUS_PATH, DBUS_INTERFACE, s.member, s.signature, s.args);
      this.sent++;
    } catch (err) {
      this.opts.log("error", `DBus: cannot send ${s.member}: ${(err as Error).message}`);
    }
  }

  private connect(): void {
    if (this.closed) return;
    const address = this.opts.address ?? (process.env.DBUS_SYSTEM_BUS_ADDRESS || DEFAULT_SYSTEM_BUS);
    let endpoint: DbusEndpoint;
    try {
      endpoint = parseDbusAddress(address);
    } catch (e) {
      this.lost((e as Error).message);
      return;
    }
    const socket = "path" in endpoint ? createConnection(endpoint.path) : createConnection(endpoint.port, endpoint.host);
    this.socket = socket;
    let bus: MessageBus;
    try {
      bus = dbus.createClient({ stream: socket });
    } catch (e) {
      socket.destroy();
      this.lost((e as Error).message);
      return;
    }
    this.bus = bus;
    let settled = false;
    const fail = (why: string): void => {
      if (settled && !this.ready) return;
      settled = true;
      if (this.bus !== bus) return;
      this.ready = false;
      this.bus = undefined;
      this.socket = undefined;
      socket.destroy();
      this.lost(why);
    };
    const deadline = setTimeout(() => fail("no answer from the bus"), this.opts.connectTimeoutMs ?? 5000);
    bus.connection.on("error", (e: Error) => fail(e.message));
    bus.connection.on("end", () => fail("bus closed the connection"));
    socket.on("close", () => fail("connection closed"));
    // Messages are answered in order, so this answer also means Hello went through.
    bus.requestName(DBUS_NAME, DO_NOT_QUEUE, (err, result) => {
      clearTimeout(deadline);
      if (settled || this.bus !== bus) return;
      if (err !== null && err !== undefined) {
        const text = Array.isArray(err) ? err.join(" ") : err instanceof Error ? err.message : String(err);
        if (/Hello/.test(text)) {
          fail(text);
          return;
        }
        if (!this.nameRefusalLogged) this.opts.log("warning", `DBus: cannot own ${DBUS_NAME} (${text}); sending signals anyway`);
        this.nameRefusalLogged = true;
      } else if (result !== 1 && result !== 4 && !this.nameRefusalLogged) {
        this.opts.log("warning", `DBus: ${DBUS_NAME} is owned by another connection; sending signals anyway`);
        this.nameRefusalLogged = true;
      }
      settled = true;
      this.becameReady(bus);
    });
  }

  private becameReady(bus: MessageBus): void {
    this.ready = true;
    this.delay = this.opts.backoffMinMs ?? 250;
    if (this.everUp || this.reportedDown) this.opts.log("notice", "DBus connection established");
    this.everUp = true;
    this.reportedDown = false;
    if (this.dropped > 0) {
      this.opts.log("warning", `DBus: ${this.dropped} events were dropped while the bus was unreachable`);
      this.dropped = 0;
    }
    for (const e of this.queue.splice(0)) this.send(bus, e);
  }

  private lost(why: string): void {
    this.ready = false;
    if (this.closed) return;
    if (!this.reportedDown) this.opts.log("error", `DBus connection lost (${why}); reconnecting`);
    this.reportedDown = true;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), this.delay);
    this.delay = Math.min(this.opts.backoffMaxMs ?? 5000, this.delay * 2);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const bus = this.bus;
    const socket = this.socket;
    this.ready = false;
    this.bus = undefined;
    if (bus === undefined || socket === undefined) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      bus.releaseName(DBUS_NAME, () => {
        clearTimeout(t);
        resolve();
      });
    });
    socket.end();
    socket.destroy();
  }
}
