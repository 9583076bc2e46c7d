/** The part of net-snmp 3.x that corosync-notifyd uses (the package ships no types). */
declare module "net-snmp" {
  import type { EventEmitter } from "node:events";

  export const Version2c: number;
  export const ObjectType: { OctetString: number; Integer: number; Gauge32: number; Unsigned32: number; TimeTicks: number; OID: number };
  export const MibProviderType: { Scalar: number; Table: number };
  export const MaxAccess: Record<string, number>;

  export interface Varbind {
    oid: string;
    type: number;
    value: unknown;
  }

  export interface Session extends EventEmitter {
    trap(typeOrOid: string, varbinds: Varbind[], options: { upTime?: number }, callback: (error: Error | null) => void): Session;
    close(): Session;
  }

  export function createSession(target: string, community: string, options: { version: number; trapPort?: number; transport?: string }): Session;

  export interface Mib {
    setScalarValue(name: string, value: unknown): void;
    addTableRow(name: string, row: unknown[]): void;
    deleteTableRow(name: string, index: unknown[]): boolean;
    getTableColumnCells(name: string, column: number, includeInstances?: boolean): unknown[];
  }

  export interface MibProviderDefinition {
    name: string;
    type: number;
    oid: string;
    scalarType?: number;
    maxAccess: number;
    tableColumns?: Array<{ number: number; name: string; type: number; maxAccess: number }>;
    tableIndex?: Array<{ columnName: string }>;
  }

  export interface Subagent extends EventEmitter {
    open(callback: (error: Error | null, data?: unknown) => void): void;
    close(callback?: (error: Error | null, data?: unknown) => void): void;
    registerProvider(provider: MibProviderDefinition, callback: (error: Error | null, data?: unknown) => void): void;
    notify(typeOrOid: string, varbinds: Varbind[], callback?: (error: Error | null, data?: unknown) => void): void;
    getMib(): Mib;
    socket: import("node:net").Socket;
    /** Handles one whole AgentX PDU (net-snmp assumes one per socket read). */
    onMsg(pdu: Buffer): void;
  }

  /** net-snmp's MIB parser (the tests check the shipped COROSYNC-MIB with it). */
  export interface ModuleStore {
    loadFromFile(path: string): void;
    getModule(name: string): Record<string, { OID?: string }> | undefined;
  }

  export function createModuleStore(): ModuleStore;

  export function createSubagent(options: { master?: string; masterPort?: number; timeout?: number; description?: string }): Subagent;
}
