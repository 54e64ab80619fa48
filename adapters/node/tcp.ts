import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import type { Connection, Host, Link } from "../../src/host/mod.ts";
import { HANDSHAKE_MS, type TlsPem } from "./tls.ts";

/**
 * How long a socket the server closes keeps reading (and dropping) what the peer still
 * sends before it is cut: closing with unread bytes would reset the connection and destroy
 * the replies the peer has not read yet, the bye among them.
 */
const LINGER_MS = 2000;
/** Idle time before TCP probes a silent peer, so that a vanished client frees its name. */
const KEEPALIVE_MS = 60_000;

/**
 * Serves the relay over TCP with node:net: each socket's bytes go to the host, and the
 * host's text goes back to the socket. With `tls` (docs/protocol.md §13) the port speaks
 * TLS (node:tls), and a socket reaches the host only once its handshake is done.
 */
export function listenTcp(
  host: Pick<Host, "connect">,
  hostname: string,
  port: number,
  tls: TlsPem | null = null,
): Promise<Server> {
  const server = tls
    ? createTlsServer(
        { noDelay: true, cert: tls.cert, key: tls.key, handshakeTimeout: HANDSHAKE_MS },
        (socket) => attach(host, socket),
      )
    : createServer({ noDelay: true }, (socket) => attach(host, socket));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

/**
 * Stops listening and waits until every socket has closed: the host closes each one at
 * shutdown, and a closing socket lingers for at most `LINGER_MS`.
 */
export function closeTcp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const enough = setTimeout(resolve, LINGER_MS + 500);
    server.close(() => {
      clearTimeout(enough);
      resolve();
    });
  });
}

/** A TCP socket as the host sees it (a class: thousands of idle links share its methods). */
class TcpLink implements Link {
  readonly transport = "tcp";
  readonly framing = "line";
  readonly #socket: Socket;
  /** Who reads the socket's bytes; null for a connection the host refused. */
  conn: Connection | null = null;
  #closing = false;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  get remote(): string {
    return `${this.#socket.remoteAddress}:${this.#socket.remotePort}`;
  }

  /** Whether the server is closing the socket: what the peer sends now is dropped. */
  get closing(): boolean {
    return this.#closing;
  }

  write(data: string | Uint8Array): void {
    if (this.#socket.writable) this.#socket.write(data);
  }

  unsent(): number {
    return this.#socket.writableLength;
  }

  /**
   * A lingering close: what was written goes, then our FIN (`end`); reading goes on, its
   * bytes dropped, until the peer closes too or `LINGER_MS` passed.
   */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    const socket = this.#socket;
    socket.end();
    socket.resume();
    const cut = setTimeout(() => socket.destroy(), LINGER_MS);
    cut.unref();
    socket.once("close", () => clearTimeout(cut));
  }
}

function ignore(): void {}

/**
 * Where a socket's link is: the listeners below are shared by every socket (Node calls them
 * with the socket as `this`), so that an idle connection holds no closures of its own.
 */
const LINK = Symbol("link");
type LinkedSocket = Socket & { [LINK]: TcpLink };

function onData(this: LinkedSocket, chunk: Buffer): void {
  const link = this[LINK];
  if (link.conn && !link.closing) link.conn.receiveBytes(chunk);
}

function onClose(this: LinkedSocket): void {
  this[LINK].conn?.closed();
}

function attach(host: Pick<Host, "connect">, socket: Socket): void {
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEPALIVE_MS);
  // Errors (resets, broken pipes) end in "close", which is all the host needs to know.
  socket.on("error", ignore);
  const link = new TcpLink(socket);
  (socket as LinkedSocket)[LINK] = link;
  link.conn = host.connect(link);
  // A refused connection is read too: what it sent is dropped while its close lingers.
  socket.on("data", onData);
  if (link.conn) socket.on("close", onClose);
}
