/**
 * The host: the one imperative shell every adapter shares.
 * @module
 */
export * from "./auth.ts";
export * from "./config.ts";
export * from "./counters.ts";
export * from "./host.ts";
export * from "./rate.ts";
export * from "./store/kv.ts";
export * from "./store/memory.ts";
export type * from "./store/store.ts";
