/**
 * The relay core: a pure state machine over the chat model of docs/protocol.md.
 * @module
 */
export * from "./bus.ts";
export * from "./conversation.ts";
export * from "./directory.ts";
export * from "./heard.ts";
export * from "./ids.ts";
export * from "./names.ts";
export * from "./relay.ts";
export * from "./types.ts";
