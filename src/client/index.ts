/** The client libraries: typed APIs over corosync's IPC, for our daemon and a real corosync. */

// cmap (configuration and stats maps)
export { CmapClient, CmapTracker, CmapType } from "./cmap.js";
export type { CmapChange, CmapChangeKind, CmapConnectOptions, CmapEntry, CmapKeyInfo, CmapMapName, CmapTrackOptions, CmapValue } from "./cmap.js";
export { CorosyncError, isCorosyncError, csErrorName, csStrerror, CS_ERROR_CODES } from "./errors.js";
export type { CorosyncErrorCode } from "./errors.js";
