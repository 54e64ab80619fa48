import { connect } from "node:net";
import WebSocket from "ws";
import {
  type Connection,
  type ConnectionEvents,
  type Transport,
  type WebSocketConstructor,
  webSocketTransport,
} from "../../client/mod.ts";

/** A line longer than this from the server means something is wrong: the connection is dropped. */
const MAX_LINE_CHARS = 16 * 1024 * 1024;

/**
 * The `relay/client` transport for a URL the terminal client accepts: `tcp://host:port`
 * (JSON lines over TCP) or `ws://host:port/ws` / `wss://...` (the runtime's WebSocket where
 * it has one, Deno and Node 22+, else the `ws` package's). Each `open` makes a new
 * connection, as the client's reconnecting needs.
 *
 * @example
 * const client = new RelayClient({ transport: chatTransport("tcp://127.0.0.1:7070"), name: "ann" });
 */
export function chatTransport(url: string): Transport {
  if (new URL(url).protocol === "tcp:") return tcpTransport(url);
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  return webSocketTransport(url, global ?? WebSocket);
}

/**
 * A `relay/client` transport of JSON lines over TCP to `tcp://host:port` (the relay's TCP
 * port, 7070 by default), on Node and Deno.
 *
 * @example
 * const client = new RelayClient({ transport: tcpTransport("tcp://localhost:7070"), name: "bot" });
 */
export function tcpTransport(url: string): Transport {
  const parsed = new URL(url);
  if (parsed.protocol !== "tcp:") throw new TypeError(`not a tcp:// address: ${url}`);
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const port = Number(parsed.port || 7070);
  return { open: (events) => openTcp(host, port, events) };
}

function openTcp(host: string, port: number, events: ConnectionEvents): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    socket.setEncoding("utf8");
    socket.setNoDelay(true);
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      // An error is followed by `close`, which says it all.
      socket.on("error", () => {});
      socket.once("close", () => events.closed());
      resolve({
        send: (frame) => {
          socket.write(`${frame}\n`);
        },
        // A connection dropped for silence may have no peer left to answer a FIN.
        close: () => {
          socket.destroy();
        },
      });
    });
    let partial = "";
    socket.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      if (partial.length > MAX_LINE_CHARS) return socket.destroy();
      for (const line of lines) {
        const frame = line.endsWith("\r") ? line.slice(0, -1) : line;
        if (frame.trim() !== "") events.frame(frame);
      }
    });
  });
}
