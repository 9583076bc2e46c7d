/**
 * The seam between the executive's driver and the network: a transport moves opaque
 * datagrams (already sealed by the secauth envelope when enabled) between nodes. It knows
 * addresses and sockets; it knows nothing about Totem beyond "token" (unicast to one node)
 * and "multicast" (to every node). udp (multicast), udpu (unicast to every member) and knet
 * implement it; the simulator has its own network instead.
 *
 * knet carries its own crypto (knet-spec §6) inside the transport: with `transport: knet` the
 * driver gets no envelope and hands the transport plain Totem frames.
 */

/** Where a datagram came from. */
export interface DatagramSource {
  address: string;
  port: number;
  family: "IPv4" | "IPv6";
  /** Ring (link) number it arrived on (0 unless redundant rings are configured). */
  ring: number;
}

/** A configured member as the transport sees it. */
export interface TransportMember {
  nodeId: number;
  /** Address per ring: index = ring number. */
  addrs: string[];
}

/** One ring's (link's) state, as `corosync-cfgtool -s` reports it. */
export interface RingStatus {
  ring: number;
  /** Local address bound on this ring. */
  address: string;
  faulty: boolean;
  /** Human-readable reason when faulty ("Marking ringid 0 interface 10.0.0.1 FAULTY"). */
  reason?: string;
}

/**
 * One link to one node, as `corosync-cfgtool -n` prints it
 * (`LINK: 0 udp (10.0.0.1->10.0.0.2) enabled connected mtu: 1446`).
 */
export interface NodeLinkStatus {
  /** Link (ring) number. */
  link: number;
  /** The link's protocol as cfgtool names it: "udp" on knet. */
  transport: string;
  /** Our address on this link. */
  localAddress: string;
  /** The node's address on this link (ours again for the local node). */
  remoteAddress: string;
  enabled: boolean;
  /** Up: pongs flow (knet), or assumed up (transports without a per-node heartbeat). */
  connected: boolean;
  /** User bytes per frame on this link (knet's data MTU). */
  mtu: number;
  /** Mean round-trip time in microseconds, when measured (knet pings). */
  latencyUs?: number;
  /**
   * Per-link counters under corosync's `stats.knet.node<id>.link<n>.*` names
   * (`tx_data_packets`, `rx_ping_packets`, `up_count`...), when the transport keeps them.
   */
  stats?: Readonly<Record<string, number>>;
}

/**
 * A node of the nodelist as the transport sees it, for `corosync-cfgtool -s` / `-n`:
 * `local` is this node (cfgtool prints `localhost`); `reachable` when some link is up.
 */
export interface NodeStatus {
  nodeId: number;
  local: boolean;
  reachable: boolean;
  links: NodeLinkStatus[];
}

export interface TransportStats {
  tx_datagrams: number;
  rx_datagrams: number;
  tx_bytes: number;
  rx_bytes: number;
  /** Datagrams dropped because the source is not in the nodelist (`block_unlisted_ips`). */
  rx_blocked_unlisted: number;
  /** Datagrams larger than the receive limit. */
  rx_too_big: number;
  /** Sends that failed (EPERM, ENETUNREACH...), counted not thrown. */
  tx_errors: number;
}

export interface TransportHandlers {
  /** A datagram arrived (raw bytes; the driver opens the envelope and decodes). */
  onDatagram(bytes: Uint8Array, from: DatagramSource): void;
  /**
   * Something worth logging (bind retries, ring faulty/restored...). `subsys` names the
   * subsystem when it is not TOTEM (knet's link messages use "KNET", as corosync does).
   */
  onLog?(level: "error" | "warning" | "notice" | "info" | "debug", text: string, subsys?: string): void;
  /** A ring's status changed (faulty/restored) — for cmap and notifications. */
  onRingStatus?(status: RingStatus): void;
}

export interface Transport {
  readonly name: "udp" | "udpu" | "knet";
  /** Bind sockets and join groups; rejects with a clear Error if it cannot. */
  start(handlers: TransportHandlers): Promise<void>;
  /** Unicast to one node (tokens, commit tokens). Unknown nodeid: dropped and counted. */
  sendToNode(nodeId: number, bytes: Uint8Array): void;
  /** "Multicast": udp → the group; udpu → one copy per configured member, self included. */
  sendToAll(bytes: Uint8Array): void;
  /**
   * Like `sendToAll` without the local copy, where the transport can leave it out (udpu); for
   * frames the sender already holds — a Totem MCAST, which the core stored in its sort queue
   * when it sent it, so the copy through the kernel is only dropped as a duplicate. Optional:
   * the driver uses `sendToAll` without it.
   */
  sendToOthers?(bytes: Uint8Array): void;
  /**
   * The driver tells the transport which node sent a datagram (from the decoded header), so
   * a transport without a nodelist (1.x udp multicast) can learn where to send tokens.
   */
  learnNodeAddress?(nodeId: number, from: DatagramSource): void;
  /** Current ring status (one entry per ring). */
  rings(): RingStatus[];
  /** Re-enable faulty rings (`corosync-cfgtool -r`). */
  resetRings?(): void;
  /**
   * Per-node link status, every configured node (the local one first), for
   * `corosync-cfgtool -s` / `-n` and `stats.knet.*`. Implemented by knet; transports without
   * per-node link state leave it out.
   */
  links?(): NodeStatus[];
  /** Frames the transport dropped, by reason (knet: decode errors, duplicates, not reachable...). */
  readonly dropped?: Readonly<Record<string, number>>;
  readonly stats: TransportStats;
  /** The local address of ring 0 (for logs and cmap). */
  readonly localAddress: string;
  close(): Promise<void>;
}
