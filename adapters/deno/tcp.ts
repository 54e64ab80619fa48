import type { Connection, Host, Link } from "../../src/host/mod.ts";
import { HANDSHAKE_MS, type TlsPem, tlsFailure } from "./tls.ts";

/**
 * How long a connection the server closes keeps reading (and dropping) what the peer still
 * sends before it is cut: closing with unread bytes would reset the connection and destroy
 * the replies the peer has not read yet, the bye among them.
 */
const LINGER_MS = 2000;
const encoder = new TextEncoder();
/**
 * Bytes read at once: from this, while reads are small (an idle connection's pending read
 * waits on a buffer of this size)...
 */
const READ_MIN = 128;
/** ...to this, while reads fill the buffer. */
const READ_MAX = 64 * 1024;

/** A listener of `listenTcp`: plain TCP, or TLS over TCP. */
export type TcpListener = Deno.TcpListener | Deno.TlsListener;

/**
 * Serves the relay over TCP with Deno.listen; returns the listener (close it to stop). With
 * `tls` (docs/protocol.md §13), Deno.listenTls, and a connection reaches the host only once
 * its handshake is done.
 */
export function listenTcp(
  host: Pick<Host, "connect">,
  hostname: string,
  port: number,
  tls: TlsPem | null = null,
): TcpListener {
  if (tls) {
    let listener: Deno.TlsListener;
    try {
      listener = Deno.listenTls({ hostname, port, transport: "tcp", ...tls });
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.NotCapable) throw e;
      throw tlsFailure(e);
    }
    acceptAll(listener, (conn) => handshake(host, conn));
    return listener;
  }
  const listener = Deno.listen({ hostname, port, transport: "tcp" });
  acceptAll(listener, (conn) => attach(host, conn));
  return listener;
}

/**
 * Takes every connection until the listener is closed. Any other failure to accept (out of
 * open files, most often) is said once and tried again a moment later: the connections
 * waiting are taken once some close.
 */
async function acceptAll<C extends Deno.Conn>(
  listener: Deno.Listener<C>,
  take: (conn: C) => void,
): Promise<void> {
  let failing = false;
  for (;;) {
    let conn: C;
    try {
      conn = await listener.accept();
    } catch (e) {
      if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) return;
      if (!failing) console.error(`relay: cannot accept connections: ${(e as Error).message}`);
      failing = true;
      await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
      continue;
    }
    failing = false;
    take(conn);
  }
}

/** How long a listener that failed to accept waits before it tries again. */
const ACCEPT_RETRY_MS = 100;

/**
 * Completes a TLS connection's handshake (for at most `HANDSHAKE_MS`), then serves it; a
 * peer that does not speak TLS (plain text on a TLS port) is closed without a session.
 */
async function handshake(host: Pick<Host, "connect">, conn: Deno.TlsConn): Promise<void> {
  const late = setTimeout(() => closeQuietly(conn), HANDSHAKE_MS);
  try {
    await conn.handshake();
  } catch {
    return closeQuietly(conn);
  } finally {
    clearTimeout(late);
  }
  attach(host, conn);
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

function attach(host: Pick<Host, "connect">, conn: Deno.TcpConn | Deno.TlsConn): void {
  // Deno's TLS connections have neither switch: over TLS, Nagle's algorithm stays on and
  // no keepalive probes run.
  if ("setNoDelay" in conn) {
    conn.setNoDelay(true);
    // TCP probes a silent peer, so that a vanished client frees its name.
    conn.setKeepAlive(true);
  }
  const link = new DenoTcpLink(conn);
  link.client = host.connect(link);
  // A refused connection is read too: what it sent is dropped while its close lingers.
  link.read();
}

/**
 * A Deno TCP (or TLS) connection as the host sees it. A class, so that thousands of idle
 * links share its methods: an idle one holds its connection, a few flags, and the small
 * buffer its pending read waits on.
 */
class DenoTcpLink implements Link {
  readonly transport = "tcp";
  readonly framing = "line";
  readonly #conn: Deno.TcpConn | Deno.TlsConn;
  /** Who reads the bytes; null for a connection the host refused. */
  client: Connection | null = null;
  /** What waits to be written (Deno's writes are asynchronous); null when nothing does. */
  #queue: Uint8Array[] | null = null;
  #unsent = 0;
  #writing = false;
  /** The server is closing: what was written goes, then the write side shuts. */
  #closing = false;
  /** Our write side is shut (FIN sent); the peer's end, or the linger, closes the rest. */
  #shut = false;
  /** The peer has nothing more to send. */
  #ended = false;
  #done = false;
  #linger: ReturnType<typeof setTimeout> | undefined;

  constructor(conn: Deno.TcpConn | Deno.TlsConn) {
    this.#conn = conn;
  }

  get remote(): string {
    const { hostname, port } = this.#conn.remoteAddr;
    return `${hostname}:${port}`;
  }

  write(data: string | Uint8Array): void {
    if (this.#done || this.#closing) return;
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    this.#queue ??= [];
    this.#queue.push(bytes);
    this.#unsent += bytes.length;
    this.#pump();
  }

  unsent(): number {
    return this.#unsent;
  }

  /**
   * A lingering close: what was written goes, then our FIN (`closeWrite`); reading goes on,
   * its bytes dropped, until the peer closes too or LINGER_MS passed.
   */
  close(): void {
    if (this.#closing || this.#done) return;
    this.#closing = true;
    this.#linger = setTimeout(() => this.#finish(), LINGER_MS);
    this.#pump();
  }

  /**
   * Reads until the peer is done. An idle connection waits on a small buffer; a busy one
   * gets a bigger one, and a small read gives it back.
   */
  async read(): Promise<void> {
    let buffer = new Uint8Array(READ_MIN);
    try {
      for (;;) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        if (this.#closing) continue;
        this.client?.receiveBytes(buffer.subarray(0, n));
        if (n === buffer.length && n < READ_MAX) buffer = new Uint8Array(n * 2);
        else if (n < buffer.length / 8 && buffer.length > READ_MIN)
          buffer = new Uint8Array(READ_MIN);
      }
    } catch {
      // Reset by the peer, or closed by us.
      return this.#finish();
    }
    this.#ended = true;
    // The peer is done; a close of ours still sends what it has before it ends.
    if (!this.#closing || this.#shut) this.#finish();
  }

  /** Writes what waits, in order, one write at a time. */
  async #pump(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    const queue = this.#queue ?? [];
    try {
      while (queue.length > 0 && !this.#done) {
        const chunk = queue.shift() as Uint8Array;
        for (let at = 0; at < chunk.length; ) at += await this.#conn.write(chunk.subarray(at));
        this.#unsent -= chunk.length;
      }
    } catch {
      this.#finish();
    }
    this.#queue = null;
    this.#writing = false;
    if (this.#closing) await this.#shutWrite();
  }

  async #shutWrite(): Promise<void> {
    if (this.#shut || this.#done) return;
    this.#shut = true;
    try {
      await this.#conn.closeWrite();
    } catch {
      return this.#finish();
    }
    if (this.#ended) this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#linger);
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
    this.client?.closed();
  }
}
