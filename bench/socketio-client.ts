// The load generator's Socket.IO client (in a worker process): socket.io-client over its
// WebSocket transport, speaking the events of bench/socketio-server.ts.
import { io } from "socket.io-client";

/** One load-generator client: messages out, and a way to leave. */
export interface BenchClient {
  /** Sends (or queues until `flush`) one chat message carrying `text`. */
  send(to: string, text: string): void;
  /** Writes what `send` queued. */
  flush(): void;
  close(): void;
}

/**
 * Connects to the Socket.IO server at `url` (ws://host:port), logs in as `name` (joining
 * `room`, if set) and resolves once the server has acknowledged it; each chat message that
 * arrives afterwards goes to `onText`.
 */
export function openSocketIo(
  url: string,
  name: string,
  room: string | null,
  onText: (text: string) => void,
): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    // forceNew: one connection per client (by default the clients of one process to one
    // server would share a single connection).
    const socket = io(url, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      timeout: 10_000,
    });
    const client: BenchClient = {
      send: (to, text) => socket.emit("msg", to, text),
      flush: () => {},
      close: () => socket.disconnect(),
    };
    const fail = (e: Error) => {
      socket.disconnect();
      reject(e);
    };
    socket.on("message", (_from: string, _to: string, text: string) => onText(text));
    socket.once("connect_error", fail);
    socket.once("connect", () => {
      socket.emit("login", name, room, (reply: { ok: boolean; error?: string }) =>
        reply.ok ? resolve(client) : fail(new Error(`login: ${reply.error}`)),
      );
    });
  });
}
