/**
 * The relay's HTTP face (Hono): WebSocket, chat page, health, metrics, operator API.
 * @module
 */
export * from "./app.ts";
export * from "./metrics.ts";
export * from "./websocket.ts";
