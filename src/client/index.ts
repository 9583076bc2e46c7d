/**
 * The client libraries: TypeScript counterparts of corosync's libquorum, libvotequorum and
 * libcfg (and the others as they come), speaking corosync 3's libqb IPC, so they work
 * against our executive and a real corosync alike.
 */

// quorum, votequorum, cfg
export { CorosyncError, CS_ERROR, csErrorName, csStrerror, isCorosyncError, type CsErrorName } from "./errors.js";
export { EventStream, type ClientOptions } from "./service-client.js";
export { QuorumClient, TRACK, QuorumType, type QuorumClientOptions, type QuorumEvent, type NodelistEvent, type QuorumEvents } from "./quorum.js";
export { VotequorumClient, VQ_INFO, VQ_NODESTATE, type VotequorumInfo, type VotequorumEvents } from "./votequorum.js";
export { CfgClient, SHUTDOWN_FLAG, type CfgEvents, type NodeAddress, type NodeStatus, type RingStatusEntry } from "./cfg.js";
