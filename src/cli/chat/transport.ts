import { connect } from "node:net";
import WebSocket from "ws";
import type { ServerMessage } from "../../core/mod.ts";

/** A connection to a relay in JSON mode, over TCP or WebSocket. */
export interface Transport {
  /** Sends one command as a JSON frame. */
  send(command: object): void;
  /** Drops the connection at once, without waiting for the peer (it may be gone). */
  close(): void;
}

/** What a transport tells its owner. */
export interface TransportEvents {
  message(msg: ServerMessage): void;
  closed(): void;
}

/**
 * Connects to `tcp://host:port` or `ws://host:port/ws` (or `wss://`) and speaks JSON
 * frames; rejects when the connection cannot be made (and then never calls `closed`).
 */
export function openTransport(url: string, events: TransportEvents): Promise<Transport> {
  const parsed = new URL(url);
  return parsed.protocol === "tcp:" ? openTcp(parsed, events) : openWs(url, events);
}

function openTcp(url: URL, events: TransportEvents): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port || 7070), url.hostname.replace(/^\[|\]$/g, ""), () => {
      socket.off("error", reject);
      socket.on("error", () => {});
      // Only a connection that was made can be closed: a failed one only rejects.
      socket.on("close", () => events.closed());
      resolve({
        send: (command) => socket.write(`${JSON.stringify(command)}\n`),
        close: () => socket.destroy(),
      });
    });
    socket.once("error", reject);
    socket.setEncoding("utf8");
    let partial = "";
    socket.on("data", (data: string) => {
      const lines = (partial + data).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) events.message(JSON.parse(line));
    });
  });
}

function openWs(url: string, events: TransportEvents): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => {
      ws.off("error", reject);
      ws.on("error", () => {});
      ws.on("close", () => events.closed());
      resolve({ send: (command) => ws.send(JSON.stringify(command)), close: () => ws.terminate() });
    });
    ws.once("error", reject);
    ws.on("message", (data) => events.message(JSON.parse(data.toString())));
  });
}
