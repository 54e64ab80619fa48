import { createServer, type Server, type Socket } from "node:net";
import type { Host, Link } from "../../src/host/mod.ts";

/** How long a closing socket may take to send what it has before it is cut. */
const CLOSE_GRACE_MS = 2000;
/** Idle time before TCP probes a silent peer, so that a vanished client frees its name. */
const KEEPALIVE_MS = 60_000;

/**
 * Serves the relay over TCP with node:net: each socket's bytes go to the host, and the
 * host's text goes back to the socket.
 */
export function listenTcp(host: Host, hostname: string, port: number): Promise<Server> {
  const server = createServer({ noDelay: true }, (socket) => attach(host, socket));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

/** A TCP socket as the host sees it (a class: thousands of idle links share its methods). */
class TcpLink implements Link {
  readonly transport = "tcp";
  readonly framing = "line";
  readonly #socket: Socket;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  get remote(): string {
    return `${this.#socket.remoteAddress}:${this.#socket.remotePort}`;
  }

  write(data: string | Uint8Array): void {
    if (this.#socket.writable) this.#socket.write(data);
  }

  unsent(): number {
    return this.#socket.writableLength;
  }

  close(): void {
    const socket = this.#socket;
    socket.end();
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  }
}

function ignore(): void {}

function attach(host: Host, socket: Socket): void {
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEPALIVE_MS);
  // Errors (resets, broken pipes) end in "close", which is all the host needs to know.
  socket.on("error", ignore);
  const conn = host.connect(new TcpLink(socket));
  if (!conn) return;
  socket.on("data", (chunk: Buffer) => conn.receiveBytes(chunk));
  socket.on("close", () => conn.closed());
}
