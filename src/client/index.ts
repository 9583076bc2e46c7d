/**
/**
 * The client libraries of corosync-ts (the package's main entry point): typed clients for
 * the executive's IPC services, speaking libqb's protocol, so they work against our daemon
 * and against a real C corosync 3.x. Every call rejects with a `CorosyncError` whose `code`
 * is a cs_error_t name.
 */
export { CorosyncError, isCorosyncError, csErrorName, csStrerror, CS_ERROR_CODES } from "./errors.js";
export type { CorosyncErrorCode, CsErrorName } from "./errors.js";

// cpg (closed process groups)
export { Cpg } from "./cpg.js";
export type {
  CpgConnectOptions,
  CpgConfchgEvent,
  CpgEvent,
  CpgEventMap,
  CpgEventsOptions,
  CpgGroup,
  CpgGroupInfo,
  CpgMcastOptions,
  CpgMember,
  CpgMessageEvent,
  CpgTotemConfchgEvent,
} from "./cpg.js";
export { CpgReason } from "../core/cpg/messages.js";

// cmap (configuration and stats maps)
export { CmapClient, CmapTracker, CmapType } from "./cmap.js";
export type { CmapChange, CmapChangeKind, CmapConnectOptions, CmapEntry, CmapKeyInfo, CmapMapName, CmapTrackOptions, CmapValue } from "./cmap.js";

// quorum, votequorum, cfg
export { CS_ERROR } from "./errors.js";
export { EventStream, type ClientOptions } from "./service-client.js";
export { QuorumClient, TRACK, QuorumType, type QuorumClientOptions, type QuorumEvent, type NodelistEvent, type QuorumEvents } from "./quorum.js";
export { VotequorumClient, VQ_INFO, VQ_NODESTATE, type VotequorumInfo, type VotequorumEvents } from "./votequorum.js";
export { CfgClient, SHUTDOWN_FLAG, type CfgEvents, type NodeAddress, type NodeStatus, type RingStatusEntry } from "./cfg.js";
