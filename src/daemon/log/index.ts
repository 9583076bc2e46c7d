/** Logging for the executive: formats, options from cmap, the logger, syslog sinks. */
export * from "./format.js";
export * from "./options.js";
export * from "./ring.js";
export * from "./ratelimit.js";
export * from "./syslog.js";
export * from "./logfile.js";
export * from "./logger.js";
