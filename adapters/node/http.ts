import { type IncomingMessage, STATUS_CODES } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { Hono } from "hono";
import {
  defineWebSocketHelper,
  type UpgradeWebSocket,
  WSContext,
  type WSContextInit,
  type WSEvents,
  type WSReadyState,
} from "hono/ws";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
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
  const ws = raw as Tagged | undefined;
  if (typeof ws?.on !== "function") return false;
  ws[READER] = receive;
  ws.on("message", onRead);
  return true;
}

/** The bytes of a message as `ws` gives them. */
function bytesOf(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

function onRead(this: Tagged, data: RawData, binary: boolean): void {
  this[READER]?.(bytesOf(data), binary);
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

/** Serves the Hono app (WebSocket, page, admin) with @hono/node-server and `ws`. */
export async function listenHttp(host: Host, options: HttpOptions): Promise<HttpListener> {
  const root = new Hono();
  const { injectWebSocket, upgradeWebSocket, wss } = nodeWebSockets(root);
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
  // Over TLS, node:https: its server hands WebSocket upgrades over as node:http does.
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

/** Where a `ws` socket keeps its side of the app and its reader (see `readMessages`). */
const SOCKET = Symbol("socket");
const READER = Symbol("reader");
type Tagged = WebSocket & {
  [SOCKET]?: NodeSocket;
  [READER]?: (data: Uint8Array, binary: boolean) => void;
};

/**
 * A `ws` socket as Hono's WebSocket context sees it, with the app's events for it. A class,
 * so that thousands of idle sockets share its methods and the listeners below: an idle
 * socket holds this, its context, and no closures of its own.
 */
class NodeSocket implements WSContextInit<WebSocket> {
  readonly raw: WebSocket;
  readonly events: WSEvents<WebSocket>;
  readonly context: WSContext<WebSocket>;

  constructor(raw: WebSocket, events: WSEvents<WebSocket>) {
    this.raw = raw;
    this.events = events;
    this.context = new WSContext(this);
  }

  get readyState(): WSReadyState {
    return this.raw.readyState as WSReadyState;
  }

  send(data: string | ArrayBuffer | Uint8Array): void {
    this.raw.send(data);
  }

  close(code?: number, reason?: string): void {
    this.raw.close(code, reason);
  }
}

/** Runs one of the app's event handlers; what it throws is logged, not let out. */
function dispatch(run: () => void): void {
  try {
    run();
  } catch (e) {
    console.error(e);
  }
}

/** A message for the app's `onMessage`: text as a string, binary as an ArrayBuffer. */
function onMessage(this: Tagged, data: RawData, binary: boolean): void {
  const socket = this[SOCKET];
  if (!socket) return;
  const bytes = bytesOf(data);
  const body = binary
    ? bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  const event = new MessageEvent("message", { data: body });
  dispatch(() => socket.events.onMessage?.(event, socket.context));
}

function onClose(this: Tagged, code: number, reason: Buffer): void {
  const socket = this[SOCKET];
  if (!socket) return;
  // Node 20 has no CloseEvent; the app's handler gets what it would carry.
  const event = Object.assign(new Event("close"), { code, reason: reason.toString() });
  dispatch(() => socket.events.onClose?.(event as CloseEvent, socket.context));
}

function onError(this: Tagged): void {
  const socket = this[SOCKET];
  if (socket) dispatch(() => socket.events.onError?.(new Event("error"), socket.context));
}

/**
 * Hono's WebSocket upgrade on node:http with `ws`, as @hono/node-ws does it, minus what that
 * keeps for the life of each socket (the request's Hono context and its Node request, two
 * URLs, a handful of closures): the app's `/ws` route says yes by handing over its events,
 * the server's `upgrade` event runs the route, and `ws` completes the handshake.
 */
function nodeWebSockets(app: Hono): {
  wss: WebSocketServer;
  upgradeWebSocket: UpgradeWebSocket<WebSocket>;
  injectWebSocket(server: { on(event: "upgrade", listener: UpgradeListener): unknown }): void;
} {
  const wss = new WebSocketServer({ noServer: true });
  /** The events of each request the route let through, until its upgrade. */
  const accepted = new Map<IncomingMessage, WSEvents<WebSocket>>();
  const upgradeWebSocket = defineWebSocketHelper<WebSocket>((c, events) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") return;
    accepted.set((c.env as { incoming: IncomingMessage }).incoming, events);
    return new Response();
  });
  const open = (ws: WebSocket, events: WSEvents<WebSocket>) => {
    const socket = new NodeSocket(ws, events);
    const tagged = ws as Tagged;
    tagged[SOCKET] = socket;
    ws.on("error", onError);
    ws.on("close", onClose);
    dispatch(() => events.onOpen?.(new Event("open"), socket.context));
    // The app reads the messages itself (readMessages), or gets them as events.
    if (!tagged[READER]) ws.on("message", onMessage);
  };
  const upgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const headers = new Headers();
    for (const [key, value] of Object.entries(request.headers)) {
      if (value) headers.append(key, Array.isArray(value) ? (value[0] as string) : value);
    }
    const response = await app.request(
      url,
      { headers },
      { incoming: request, outgoing: undefined },
    );
    const events = accepted.get(request);
    accepted.delete(request);
    if (!events) {
      const status = response.status;
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => open(ws, events));
  };
  return {
    wss,
    upgradeWebSocket,
    injectWebSocket(server) {
      server.on("upgrade", (request, socket, head) => {
        upgrade(request, socket, head).catch((e) => {
          console.error(e);
          socket.destroy();
        });
      });
    },
  };
}

type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
