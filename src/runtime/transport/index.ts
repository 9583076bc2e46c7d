/**
 * The udp/udpu transports (corosync 3.x wire behaviour), redundant rings (1.x/2.x RRP)
 * and the factory that builds them from a configuration. See each module's comment.
 */
export type { DatagramSource, RingStatus, Transport, TransportHandlers, TransportMember, TransportStats } from "./types.js";
export { type RingTransport, DEFAULT_PORT, RECEIVE_LIMIT_BYTES, admitDatagram, addressKey } from "./common.js";
export { type SocketTuning, type UdpuOptions, UdpuTransport } from "./udpu.js";
export { type UdpOptions, BROADCAST_ADDRESS, UdpTransport } from "./udp.js";
export { type RrpEffect, type RrpMode, type RrpTimers, RRP_DEFAULTS, RrpFaultDetector } from "./rrp-detector.js";
export { type RrpTransportOptions, RrpTransport, decodeProbe, encodeProbe } from "./rrp.js";
export {
  type CreateTransportOptions,
  type LocalNodePlan,
  createTransport,
  createTransportForThisHost,
  membersOf,
  planLocalNode,
  resolveRingAddresses,
  ringCount,
} from "./factory.js";
