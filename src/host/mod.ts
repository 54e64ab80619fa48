/**
 * The host: the one imperative shell every adapter shares.
 * @module
 */
export * from "./auth.ts";
export * from "./bus/broadcast.ts";
export * from "./bus/bus.ts";
export * from "./bus/redis.ts";
export * from "./config.ts";
export * from "./connection.ts";
export * from "./counters.ts";
export * from "./host.ts";
export * from "./rate.ts";
export * from "./redis.ts";
export * from "./store/kv.ts";
export * from "./store/memory.ts";
export * from "./store/redis.ts";
export type * from "./store/store.ts";
