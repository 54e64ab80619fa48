/**
 * `relay/client`: a typed client of the relay for programs, on browsers, Node 20+ and
 * Deno, over WebSocket or any {@link Transport} (e.g. TCP on Node with
 * `adapters/node/client-tcp.ts`). It logs in, matches requests to replies, dispatches
 * events, and reconnects and resumes by itself (docs/client.md).
 *
 * @example
 * import { RelayClient } from "relay/client";
 *
 * const client = new RelayClient({ url: "ws://localhost:8080/ws", name: "greeter" });
 * client.on("presence", async (p) => {
 *   if (p.status === "online") await client.request({ type: "msg", to: p.name, text: "welcome!" });
 * });
 * await client.connect();
 *
 * @module
 */
export * from "./backoff.ts";
export * from "./client.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./history.ts";
export * from "./options.ts";
export * from "./recent-ids.ts";
export * from "./transport.ts";
export * from "./types.ts";
export * from "./websocket.ts";
export * from "./who.ts";
