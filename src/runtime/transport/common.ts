/**
 * Pieces shared by the udp and udpu transports: limits, counters, the receive admission
 * decision (size and `block_unlisted_ips`), address keys, and binding a `node:dgram` socket
 * with corosync's retry policy.
 *
 * The decision functions (`admitDatagram`, `addressKey`, `formatEndpoint`) are pure and
 * unit-tested; `bindSocket` and `tuneBuffers` touch sockets.
 */
import { type Socket, createSocket } from "node:dgram";
import { setTimeout as sleep } from "node:timers/promises";
import { lookup as dnsLookup } from "node:dns";
import { isIP } from "node:net";
import { addressBytes, familyOf } from "../netif.js";
import type { Transport, TransportHandlers, TransportMember, TransportStats } from "./types.js";

/** corosync's `DEFAULT_PORT` (`mcastport` when unset, link 0). */
export const DEFAULT_PORT = 5405;

/**
 * Received datagrams larger than this are dropped ("Received too big message"): corosync's
 * `UDP_RECEIVE_FRAME_SIZE_MAX` (totem-spec §3.9, §6.2). A real UDP datagram cannot exceed
 * 65 535 bytes, so on the network this never triggers; it is a guard, and tests lower it.
 */
export const RECEIVE_LIMIT_BYTES = 136_192;

/** corosync's `TRANSMITS_ALLOWED` (16): the socket buffers hold that many largest frames. */
export const TRANSMITS_ALLOWED = 16;

/** Requested `SO_RCVBUF`: 8 MiB (the kernel caps it at `net.core.rmem_max`, doubled). */
export const DEFAULT_RECV_BUFFER_BYTES = 8 * 1024 * 1024;

/** Requested `SO_SNDBUF`: corosync's `MCAST_SOCKET_BUFFER_SIZE` = 16 · 136 192. */
export const DEFAULT_SEND_BUFFER_BYTES = TRANSMITS_ALLOWED * RECEIVE_LIMIT_BYTES;

/** corosync's `BIND_MAX_RETRIES`: attempts after the first failing `bind`. */
export const BIND_MAX_RETRIES = 10;

/** corosync's `BIND_RETRIES_INTERVAL`: the k-th retry waits k · 100 ms (poll timeout). */
export const BIND_RETRIES_INTERVAL_MS = 100;

export type Log = NonNullable<TransportHandlers["onLog"]>;

/** A zeroed counter set. */
export function newStats(): TransportStats {
  return { tx_datagrams: 0, rx_datagrams: 0, tx_bytes: 0, rx_bytes: 0, rx_blocked_unlisted: 0, rx_too_big: 0, tx_errors: 0 };
}

/**
 * A canonical key for an address literal, equal for every spelling of one address
 * (`::1`, `0::1`; an IPv6 `%zone` is ignored). Undefined for anything but a literal.
 */
export function addressKey(addr: string): string | undefined {
  const b = addressBytes(addr);
  if (b === undefined) return undefined;
  return b.length === 4 ? b.join(".") : Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
}

/** `10.0.0.1:5405`, `[fd00::1]:5405`: how errors and logs name an endpoint. */
export function formatEndpoint(address: string, port: number): string {
  return familyOf(address) === "IPv6" ? `[${address}]:${port}` : `${address}:${port}`;
}

/** What to do with a received datagram. */
export type Admission = "accept" | "too_big" | "unlisted";

export interface AdmissionPolicy {
  /** Datagrams larger than this are dropped (`RECEIVE_LIMIT_BYTES` by default). */
  maxBytes: number;
  /** udpu `block_unlisted_ips`: only these source addresses (keys from `addressKey`). */
  listed?: ReadonlySet<string>;
}

/**
 * The receive filter of totem-spec §3.9: too big first (corosync checks the size before
 * looking at the source), then, when a listed set is given, the source address must be in
 * it. The source port is not checked (corosync compares addresses only).
 */
export function admitDatagram(size: number, sourceAddress: string, policy: AdmissionPolicy): Admission {
  if (size > policy.maxBytes) return "too_big";
  if (policy.listed !== undefined) {
    // The source string as the socket reports it, remembered (parsing it for every datagram
    // cost as much as the rest of admission); bounded, as sources may be forged.
    let listed = admitted.get(sourceAddress);
    if (listed === undefined || listed.policy !== policy.listed) {
      const key = addressKey(sourceAddress);
      listed = { policy: policy.listed, ok: key !== undefined && policy.listed.has(key) };
      if (admitted.size >= ADMITTED_MAX) admitted.clear();
      admitted.set(sourceAddress, listed);
    }
    if (!listed.ok) return "unlisted";
  }
  return "accept";
}

/** Verdicts per source address string, for the listed set they were made against. */
const admitted = new Map<string, { policy: ReadonlySet<string>; ok: boolean }>();
const ADMITTED_MAX = 256;

/** The dgram socket type for an address literal. */
export function socketType(address: string): "udp4" | "udp6" {
  return familyOf(address) === "IPv6" ? "udp6" : "udp4";
}

/** True for an IPv6 link-local unicast address (fe80::/10), which needs a `%ifname` scope. */
export function isLinkLocalV6(address: string): boolean {
  const b = addressBytes(address);
  return b !== undefined && b.length === 16 && b[0] === 0xfe && (b[1]! & 0xc0) === 0x80;
}

/** `address%ifname` for IPv6 link-local addresses without a zone; other addresses unchanged. */
export function scoped(address: string, ifname: string | undefined): string {
  if (ifname === undefined || address.includes("%") || !isLinkLocalV6(address)) return address;
  return `${address}%${ifname}`;
}

export interface BindOptions {
  /** Who is binding, for messages: "udpu receive socket", "udp token socket". */
  what: string;
  address: string;
  port: number;
  reuseAddr: boolean;
  /** Retries after the first failure (default `BIND_MAX_RETRIES`). */
  retries?: number;
  /** The k-th retry waits k · this (default `BIND_RETRIES_INTERVAL_MS`). */
  retryIntervalMs?: number;
  log?: Log;
}

/**
 * Create a dgram socket and bind it, retrying as corosync does (`retries` more attempts,
 * the k-th after k · `retryIntervalMs`). Rejects with an Error naming the socket's role,
 * address, port and the last system error, e.g.
 * `udpu receive socket: cannot bind 10.0.0.1:5405 (11 attempts): EADDRINUSE`.
 */
export async function bindSocket(opts: BindOptions): Promise<Socket> {
  const retries = opts.retries ?? BIND_MAX_RETRIES;
  const interval = opts.retryIntervalMs ?? BIND_RETRIES_INTERVAL_MS;
  const endpoint = formatEndpoint(opts.address, opts.port);
  for (let attempt = 0; ; attempt++) {
    try {
      return await bindOnce(opts);
    } catch (err) {
      const why = errorText(err);
      if (attempt >= retries) {
        throw new Error(`${opts.what}: cannot bind ${endpoint} (${attempt + 1} attempt${attempt === 0 ? "" : "s"}): ${why}`, { cause: err });
      }
      opts.log?.("warning", `${opts.what}: bind to ${endpoint} failed (${why}); retrying in ${(attempt + 1) * interval} ms`);
      await sleep((attempt + 1) * interval);
    }
  }
}

/**
 * The address lookup of our sockets: an IP literal (every Totem address is one) answers at
 * once. Node's default, `dns.lookup`, answers literals on the next tick, which put every
 * datagram — the token included — behind whatever else the current callback still did
 * (deliveries, IPC): the token left only after this node's whole visit.
 */
function literalLookup(address: string, family: number, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const f = isIP(address);
  if (f !== 0) callback(null, address, f);
  else dnsLookup(address, family, callback);
}

function bindOnce(opts: BindOptions): Promise<Socket> {
  const socket = createSocket({ type: socketType(opts.address), reuseAddr: opts.reuseAddr, lookup: literalLookup as never });
  return new Promise<Socket>((resolve, reject) => {
    const onError = (err: Error) => {
      socket.removeListener("listening", onListening);
      try {
        socket.close();
      } catch {
        // already closed
      }
      reject(err);
    };
    const onListening = () => {
      socket.removeListener("error", onError);
      resolve(socket);
    };
    socket.once("error", onError);
    socket.once("listening", onListening);
    socket.bind({ address: opts.address, port: opts.port });
  });
}

/** `EADDRINUSE (address already in use)`-style text for a system error. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== undefined && !err.message.startsWith(code) ? `${code} (${err.message})` : err.message;
  }
  return String(err);
}

/**
 * Raise SO_RCVBUF / SO_SNDBUF (either may be 0 = leave alone). The kernel silently caps
 * the values at `net.core.rmem_max` / `wmem_max`; a refusal is logged, never fatal
 * (corosync: "Could not set recvbuf size", notice).
 */
export function tuneBuffers(socket: Socket, what: string, recvBytes: number, sendBytes: number, log?: Log): void {
  if (recvBytes > 0) {
    try {
      socket.setRecvBufferSize(recvBytes);
      const got = socket.getRecvBufferSize();
      if (got < recvBytes) log?.("debug", `${what}: SO_RCVBUF is ${got} bytes (asked ${recvBytes}; raise net.core.rmem_max for more)`);
    } catch (err) {
      log?.("notice", `${what}: could not set recvbuf size: ${errorText(err)}`);
    }
  }
  if (sendBytes > 0) {
    try {
      socket.setSendBufferSize(sendBytes);
    } catch (err) {
      log?.("notice", `${what}: could not set sendbuf size: ${errorText(err)}`);
    }
  }
}

/** Close a dgram socket, ignoring "not running"; resolves when closed. */
export function closeSocket(socket: Socket | undefined): Promise<void> {
  if (socket === undefined) return Promise.resolve();
  return new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

/**
 * A transport serving one ring (link) of a possibly redundant configuration: what the RRP
 * wrapper (rrp.ts) needs beyond `Transport`.
 */
export interface RingTransport extends Transport {
  /** The ring (link) number this transport serves; `DatagramSource.ring` of what it delivers. */
  readonly ring: number;
  /** Replace the member list (config reload); members without an address on this ring are ignored. */
  setMembers(members: readonly TransportMember[]): void;
}

/** A member's address on `ring`, if it has one (holes in `addrs` are rings it is not on). */
export function memberAddress(member: TransportMember, ring: number): string | undefined {
  const a = member.addrs[ring] as string | undefined;
  return a === undefined || a === "" ? undefined : a;
}

/** The dgram `rinfo.family` as the transport's `DatagramSource.family`. */
export function rinfoFamily(family: string): "IPv4" | "IPv6" {
  return family === "IPv6" ? "IPv6" : "IPv4";
}

/**
 * Rate limit for repeated send errors (a down network fails every send): each distinct key
 * (e.g. `ENETUNREACH 10.0.0.2`) is reported at most once per interval.
 */
export class ErrorLogLimiter {
  private readonly last = new Map<string, number>();
  constructor(
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when an error with this key should be logged now (and remembers that it was). */
  shouldLog(key: string): boolean {
    const t = this.now();
    const prev = this.last.get(key);
    if (prev !== undefined && t - prev < this.intervalMs) return false;
    if (this.last.size > 256) this.last.clear();
    this.last.set(key, t);
    return true;
  }
}

/**
 * Send one datagram, counting it: `tx_datagrams`/`tx_bytes` when the kernel took it,
 * `tx_errors` when it did not (then `onError` is called; nothing is thrown). `bytes` must
 * not be modified afterwards: dgram passes even a literal address through its lookup step
 * and sends on a later tick, holding a reference to the bytes until then.
 */
export function sendCounted(socket: Socket, bytes: Uint8Array, port: number, address: string, stats: TransportStats, onError: (err: unknown) => void): void {
  try {
    socket.send(bytes, port, address, (err) => {
      if (err) {
        stats.tx_errors++;
        onError(err);
      } else {
        stats.tx_datagrams++;
        stats.tx_bytes += bytes.length;
      }
    });
  } catch (err) {
    stats.tx_errors++;
    onError(err);
  }
}

/**
 * Count a received datagram and apply the admission policy; true when it is to be
 * delivered. Drops are counted (`rx_too_big`, `rx_blocked_unlisted`) and logged at debug
 * level through `log` (the caller rate-limits).
 */
export function admitCounted(stats: TransportStats, size: number, sourceAddress: string, policy: AdmissionPolicy): Admission {
  const verdict = admitDatagram(size, sourceAddress, policy);
  if (verdict === "too_big") stats.rx_too_big++;
  else if (verdict === "unlisted") stats.rx_blocked_unlisted++;
  else {
    stats.rx_datagrams++;
    stats.rx_bytes += size;
  }
  return verdict;
}
