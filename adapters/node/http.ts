import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { createNodeWebSocket } from "@hono/node-ws";
import { Hono } from "hono";
import type { RawData, WebSocket } from "ws";
import type { Host } from "../../src/host/mod.ts";
import { createApp, MAX_CLOSING_MS, maxMessageBytes } from "../../src/http/mod.ts";
import { HANDSHAKE_MS, type TlsPem } from "./tls.ts";

/**
 * Writes text frames (UTF-8 bytes, shared by every recipient) straight onto the socket
 * under a `ws` WebSocket, all in one buffer: ws would write (and wrap) each frame on its own,
 * which costs more than the relaying. Server frames are unmasked and uncompressed here (ws's permessage-deflate is off
 * by default), so a frame is a 2-, 4- or 10-byte header and the UTF-8 text.
 */
function writeTextFrames(raw: unknown, frames: Uint8Array[]): boolean {
  const socket = (raw as { _socket?: Socket } | undefined)?._socket;
  if (!socket?.writable) return false;
  let size = 0;
  for (const frame of frames)
    size += frame.length + (frame.length < 126 ? 2 : frame.length < 65_536 ? 4 : 10);
  const buffer = Buffer.allocUnsafe(size);
  let at = 0;
  for (const frame of frames) {
    const n = frame.length;
    buffer[at++] = 0x81; // FIN, text
    if (n < 126) {
      buffer[at++] = n;
    } else if (n < 65_536) {
      buffer[at++] = 126;
      at = buffer.writeUInt16BE(n, at);
    } else {
      buffer[at++] = 127;
      at = buffer.writeBigUInt64BE(BigInt(n), at);
    }
    buffer.set(frame, at);
    at += n;
  }
  socket.write(buffer);
  return true;
}

/**
 * Gives each message of a `ws` WebSocket as its bytes, text included: the server skips ws's
 * UTF-8 check (which would close the socket with 1007), so that the relay answers `bad_utf8`
 * and keeps the connection, as it does on TCP.
 */
function readMessages(raw: unknown, receive: (data: Uint8Array, binary: boolean) => void): boolean {
  const ws = raw as WebSocket | undefined;
  if (typeof ws?.on !== "function") return false;
  ws.on("message", (data: RawData, binary: boolean) =>
    receive(
      Array.isArray(data)
        ? Buffer.concat(data)
        : data instanceof ArrayBuffer
          ? new Uint8Array(data)
          : data,
      binary,
    ),
  );
  return true;
}

/** Closes a `ws` WebSocket at once (for a peer that never answers the close frame). */
function terminate(raw: unknown): void {
  (raw as WebSocket | undefined)?.terminate?.();
}

/** A listening HTTP server and how to close it. */
export interface HttpListener {
  port: number;
  /**
   * Stops listening; lets the WebSockets the host is closing finish their closing handshake
   * (for at most `MAX_CLOSING_MS`), then cuts what is left.
   */
  close(): Promise<void>;
}

/** What `listenHttp` needs besides the host. */
export interface HttpOptions {
  hostname: string;
  port: number;
  adminToken: string | null;
  stop: () => void;
  /** The longest frame (`RELAY_MAX_FRAME_BYTES`): bounds the WebSocket messages read. */
  maxFrameBytes: number;
  /** `RELAY_ALLOWED_ORIGINS`: pages from these origins may open `/ws`. */
  allowedOrigins: readonly string[];
  /** With a certificate and key, HTTPS and `wss://` (docs/protocol.md §13); else plain. */
  tls?: TlsPem | null;
}

/** Serves the Hono app (WebSocket, page, admin) with @hono/node-server and @hono/node-ws. */
export async function listenHttp(host: Host, options: HttpOptions): Promise<HttpListener> {
  const root = new Hono();
  const { injectWebSocket, upgradeWebSocket, wss } = createNodeWebSocket({ app: root });
  // ws refuses a message over this (1009) while its bytes arrive, before it is held whole.
  wss.options.maxPayload = maxMessageBytes(options.maxFrameBytes);
  wss.options.skipUTF8Validation = true; // see readMessages
  root.route(
    "/",
    createApp({
      host,
      upgradeWebSocket,
      remoteAddress: (c) => {
        const { address, port } = getConnInfo(c).remote;
        return `${address}:${port}`;
      },
      adminToken: options.adminToken,
      stop: options.stop,
      socketHooks: { frameWriter: writeTextFrames, messageReader: readMessages, terminate },
      allowedOrigins: options.allowedOrigins,
      maxFrameBytes: options.maxFrameBytes,
    }),
  );
  const tls = options.tls;
  // Over TLS, node:https: its server hands WebSocket upgrades to @hono/node-ws as node:http does.
  const secure = tls
    ? {
        createServer: createHttpsServer,
        serverOptions: { cert: tls.cert, key: tls.key, handshakeTimeout: HANDSHAKE_MS },
      }
    : {};
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve(
      { fetch: root.fetch, hostname: options.hostname, port: options.port, ...secure },
      () => resolve(s),
    );
    s.once("error", reject);
  });
  injectWebSocket(server);
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const deadline = Date.now() + MAX_CLOSING_MS;
      while (wss.clients.size > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (const ws of wss.clients) ws.terminate();
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await closed;
    },
  };
}
