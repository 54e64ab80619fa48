/**
 * The wire: line framing, the two encodings (text and JSON) and the mode a connection speaks.
 * @module
 */
export * from "./decoded.ts";
export * from "./frames.ts";
export * from "./irc.ts";
export * from "./irc-session.ts";
export * from "./json.ts";
export * from "./schema.ts";
export * from "./text.ts";
