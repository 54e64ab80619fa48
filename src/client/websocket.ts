import type { Connection, ConnectionEvents, Transport } from "./transport.ts";

/**
 * The little of a WebSocket the client uses: the standard browser API, which Deno, Node 22+
 * and the `ws` package (Node 20) all provide.
 */
export interface WebSocketLike {
  send(data: string): void;
  close(): void;
  addEventListener(type: "open" | "close" | "error", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
}

/**
 * A WebSocket class: `globalThis.WebSocket`, or `ws`'s default export.
 *
 * @example
 * import WebSocket from "ws";
 * const ctor: WebSocketConstructor = WebSocket;
 */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * A transport over WebSocket to `url` (`ws://host:port/ws` or `wss://...`), with the
 * runtime's global `WebSocket`, or the constructor given (needed on Node 20, which has no
 * global one: pass the `ws` package's). Throws a `TypeError` when there is neither.
 *
 * @example
 * import WebSocket from "ws";
 * const transport = webSocketTransport("ws://localhost:8080/ws", WebSocket);
 * const client = new RelayClient({ transport, name: "bot" });
 */
export function webSocketTransport(url: string, WebSocketClass?: WebSocketConstructor): Transport {
  const Class = WebSocketClass ?? globalWebSocket();
  return { open: (events) => openWebSocket(url, Class, events) };
}

function globalWebSocket(): WebSocketConstructor {
  const found = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (found === undefined) {
    throw new TypeError(
      "this runtime has no global WebSocket: pass one (e.g. the ws package's) as `WebSocket`",
    );
  }
  return found;
}

function openWebSocket(
  url: string,
  WebSocketClass: WebSocketConstructor,
  events: ConnectionEvents,
): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocketClass(url);
    let opened = false;
    ws.addEventListener("open", () => {
      opened = true;
      resolve({ send: (frame) => ws.send(frame), close: () => ws.close() });
    });
    ws.addEventListener("message", (event) => {
      if (typeof event.data === "string") events.frame(event.data);
    });
    // A socket that never opened rejects; `error` comes before `close`, and either may come alone.
    const failed = () => {
      if (!opened) reject(new Error(`cannot connect to ${url}`));
    };
    ws.addEventListener("error", failed);
    ws.addEventListener("close", () => {
      if (opened) events.closed();
      else failed();
    });
  });
}
