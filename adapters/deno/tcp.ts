import type { Connection, Host, Link } from "../../src/host/mod.ts";
import { HANDSHAKE_MS, type TlsPem, tlsFailure } from "./tls.ts";

/**
 * How long a connection the server closes keeps reading (and dropping) what the peer still
 * sends before it is cut: closing with unread bytes would reset the connection and destroy
 * the replies the peer has not read yet, the bye among them.
 */
const LINGER_MS = 2000;
const encoder = new TextEncoder();
/** Bytes read at once: from this, while reads are small... */
const READ_MIN = 1024;
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
    (async () => {
      try {
        for await (const conn of listener) handshake(host, conn);
      } catch {
        // The listener was closed.
      }
    })();
    return listener;
  }
  const listener = Deno.listen({ hostname, port, transport: "tcp" });
  (async () => {
    try {
      for await (const conn of listener) attach(host, conn);
    } catch {
      // The listener was closed.
    }
  })();
  return listener;
}

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
  let client: Connection | null = null;
  // Deno's writes are asynchronous: the link keeps what waits, and counts it for the host.
  const queue: Uint8Array[] = [];
  let unsent = 0;
  let writing = false;
  /** The server is closing: what was written goes, then the write side shuts. */
  let closing = false;
  /** Our write side is shut (FIN sent); the peer's end, or the linger, closes the rest. */
  let shut = false;
  /** The peer has nothing more to send. */
  let ended = false;
  let done = false;
  let linger: ReturnType<typeof setTimeout> | undefined;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(linger);
    try {
      conn.close();
    } catch {
      // Already closed by the peer.
    }
    client?.closed();
  };
  const shutWrite = async () => {
    if (shut || done) return;
    shut = true;
    try {
      await conn.closeWrite();
    } catch {
      return finish();
    }
    if (ended) finish();
  };
  const pump = async () => {
    if (writing) return;
    writing = true;
    try {
      while (queue.length > 0 && !done) {
        const chunk = queue.shift() as Uint8Array;
        for (let at = 0; at < chunk.length; ) at += await conn.write(chunk.subarray(at));
        unsent -= chunk.length;
      }
    } catch {
      finish();
    }
    writing = false;
    if (closing) await shutWrite();
  };
  const { hostname, port } = conn.remoteAddr;
  const link: Link = {
    transport: "tcp",
    remote: `${hostname}:${port}`,
    framing: "line",
    write: (data) => {
      if (done || closing) return;
      const bytes = typeof data === "string" ? encoder.encode(data) : data;
      queue.push(bytes);
      unsent += bytes.length;
      pump();
    },
    unsent: () => unsent,
    // A lingering close: what was written goes, then our FIN (`closeWrite`); reading goes
    // on, its bytes dropped, until the peer closes too or LINGER_MS passed.
    close: () => {
      if (closing || done) return;
      closing = true;
      linger = setTimeout(finish, LINGER_MS);
      pump();
    },
  };
  client = host.connect(link);
  // A refused connection is read too: what it sent is dropped while its close lingers.
  (async () => {
    // An idle connection waits on a small buffer; a busy one gets a bigger one.
    let buffer = new Uint8Array(READ_MIN);
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        if (closing) continue;
        client?.receiveBytes(buffer.subarray(0, n));
        if (n === buffer.length && n < READ_MAX) buffer = new Uint8Array(n * 2);
        else if (n < buffer.length / 8 && buffer.length > READ_MIN)
          buffer = new Uint8Array(READ_MIN);
      }
    } catch {
      // Reset by the peer, or closed by us.
      return finish();
    }
    ended = true;
    // The peer is done; a close of ours still sends what it has before it ends.
    if (!closing || shut) finish();
  })();
}
