/**
 * The client libraries of corosync-ts (the package's main entry point): typed clients for
 * the executive's IPC services, speaking libqb's protocol, so they work against our daemon
 * and against a real C corosync 3.x. Every call rejects with a `CorosyncError` whose `code`
 * is a cs_error_t name.
 */
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
export { CorosyncError, isCorosyncError } from "./errors.js";
export type { CsErrorName } from "./errors.js";
export { CpgReason } from "../core/cpg/messages.js";
