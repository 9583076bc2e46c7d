/** The part of @homebridge/dbus-native 0.7 that corosync-notifyd uses (the package ships no types). */
declare module "@homebridge/dbus-native" {
  import type { EventEmitter } from "node:events";
  import type { Duplex } from "node:stream";

  export interface DbusConnection extends EventEmitter {
    stream: Duplex;
    end(): DbusConnection;
  }

  export interface MessageBus {
    connection: DbusConnection;
    name?: string;
    sendSignal(path: string, iface: string, name: string, signature: string, args: unknown[]): void;
    requestName(name: string, flags: number, callback: (err: unknown, result?: number) => void): void;
    releaseName(name: string, callback: (err: unknown, result?: number) => void): void;
  }

  export function createClient(options: { stream?: Duplex; busAddress?: string; direct?: boolean }): MessageBus;
}
