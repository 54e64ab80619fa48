import type { AddressInfo, Socket } from "node:net";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { createNodeWebSocket } from "@hono/node-ws";
import { Hono } from "hono";
import type { RawData, WebSocket } from "ws";
import type { Host } from "../../src/host/mod.ts";
import { createApp } from "../../src/http/mod.ts";

/** Largest WebSocket message the socket layer reads before closing (1009): bounds memory. */
const MAX_WS_MESSAGE_BYTES = 1024 * 1024;

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

/** A listening HTTP server and how to close it. */
export interface HttpListener {
  port: number;
  close(): Promise<void>;
}

/** Serves the Hono app (WebSocket, page, admin) with @hono/node-server and @hono/node-ws. */
export async function listenHttp(
  host: Host,
  options: { hostname: string; port: number; adminToken: string | null; stop: () => void },
): Promise<HttpListener> {
  const root = new Hono();
  const { injectWebSocket, upgradeWebSocket, wss } = createNodeWebSocket({ app: root });
  wss.options.maxPayload = MAX_WS_MESSAGE_BYTES;
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
      socketHooks: { frameWriter: writeTextFrames, messageReader: readMessages },
    }),
  );
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: root.fetch, hostname: options.hostname, port: options.port }, () =>
      resolve(s),
    );
    s.once("error", reject);
  });
  injectWebSocket(server);
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
