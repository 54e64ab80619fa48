import type { Host, Link } from "../../src/host/mod.ts";

/** How long a closing socket may take to send what it has before it is cut. */
const CLOSE_GRACE_MS = 2000;
const encoder = new TextEncoder();
/** Bytes read at once: from this, while reads are small... */
const READ_MIN = 1024;
/** ...to this, while reads fill the buffer. */
const READ_MAX = 64 * 1024;

/** Serves the relay over TCP with Deno.listen; returns the listener (close it to stop). */
export function listenTcp(host: Host, hostname: string, port: number): Deno.TcpListener {
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

function attach(host: Host, conn: Deno.TcpConn): void {
  conn.setNoDelay(true);
  // TCP probes a silent peer, so that a vanished client frees its name.
  conn.setKeepAlive(true);
  // Deno's writes are asynchronous: the link keeps what waits, and counts it for the host.
  const queue: Uint8Array[] = [];
  let unsent = 0;
  let writing = false;
  let closing = false;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    try {
      conn.close();
    } catch {
      // Already closed by the peer.
    }
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
    if (closing) finish();
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
    close: () => {
      closing = true;
      pump();
      setTimeout(finish, CLOSE_GRACE_MS);
    },
  };
  const client = host.connect(link);
  if (!client) return;
  (async () => {
    // An idle connection waits on a small buffer; a busy one gets a bigger one.
    let buffer = new Uint8Array(READ_MIN);
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        client.receiveBytes(buffer.subarray(0, n));
        if (n === buffer.length && n < READ_MAX) buffer = new Uint8Array(n * 2);
        else if (n < buffer.length / 8 && buffer.length > READ_MIN)
          buffer = new Uint8Array(READ_MIN);
      }
    } catch {
      // Reset by the peer, or closed by us.
    }
    finish();
    client.closed();
  })();
}
