import { connect } from "node:net";
import type { Connection, ConnectionEvents, Transport } from "../../src/client/mod.ts";

/** A line longer than this from the server means something is wrong: the connection is dropped. */
const MAX_LINE_CHARS = 16 * 1024 * 1024;

/**
 * A `relay/client` transport over TCP for Node: JSON lines to `tcp://host:port` (the
 * relay's TCP port, 7070 by default).
 *
 * @example
 * import { RelayClient } from "../../src/client/mod.ts";
 * const client = new RelayClient({ transport: tcpTransport("tcp://localhost:7070"), name: "bot" });
 * await client.connect();
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
