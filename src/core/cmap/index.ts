/** The cmap store and its views; see each module for its contract. */
export * from "./types.js";
export * from "./errors.js";
export * from "./keys.js";
export * from "./values.js";
export * from "./store.js";
export * from "./format.js";
export * from "./objdb.js";
export * from "./readonly.js";
export * from "./map.js";
export * from "./stats-map.js";
export * from "./session.js";
export * from "./engine.js";
