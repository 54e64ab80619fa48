import type { Hono } from "hono";
import { getConnInfo } from "hono/deno";
import {
  defineWebSocketHelper,
  WSContext,
  type WSContextInit,
  type WSEvents,
  type WSReadyState,
} from "hono/ws";
import type { Host, RelayConfig } from "../../src/host/mod.ts";
import { createApp, MAX_CLOSING_MS } from "../../src/http/mod.ts";

/** The relay's Hono app on Deno (WebSocket through `Deno.upgradeWebSocket`), for `Deno.serve`. */
export function denoApp(
  host: Host,
  config: Pick<RelayConfig, "adminToken" | "allowedOrigins" | "maxFrameBytes">,
  stop: () => void,
): Hono {
  return createApp({
    host,
    upgradeWebSocket,
    remoteAddress: (c) => {
      const { address, port } = getConnInfo(c).remote;
      return `${address}:${port}`;
    },
    adminToken: config.adminToken,
    allowedOrigins: config.allowedOrigins,
    maxFrameBytes: config.maxFrameBytes,
    stop,
  });
}

/**
 * Waits until every connection the host closed at shutdown has finished closing (each
 * lingers so that its peer reads the bye), for at most `MAX_CLOSING_MS`.
 */
export async function allClosed(host: Host): Promise<void> {
  const deadline = Date.now() + MAX_CLOSING_MS;
  while (host.sessions().length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Where a Deno WebSocket keeps its side of the app. */
const SOCKET = Symbol("socket");
type Tagged = WebSocket & { [SOCKET]?: DenoSocket };

/**
 * A Deno WebSocket as Hono's WebSocket context sees it, with the app's events for it. A class,
 * so that thousands of idle sockets share its methods and the handlers below: an idle socket
 * holds this and its context, and no closures or URLs of its own.
 */
class DenoSocket implements WSContextInit<WebSocket> {
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

  get protocol(): string {
    return this.raw.protocol;
  }

  send(data: string | ArrayBuffer | Uint8Array<ArrayBuffer>): void {
    this.raw.send(data);
  }

  close(code?: number, reason?: string): void {
    this.raw.close(code, reason);
  }
}

/** The app's side of the socket an event is for. */
function socketOf(event: Event): DenoSocket | undefined {
  return (event.currentTarget as Tagged | null)?.[SOCKET];
}

function onOpen(event: Event): void {
  const socket = socketOf(event);
  socket?.events.onOpen?.(event, socket.context);
}

function onMessage(event: MessageEvent): void {
  const socket = socketOf(event);
  socket?.events.onMessage?.(event, socket.context);
}

function onClose(event: CloseEvent): void {
  const socket = socketOf(event);
  socket?.events.onClose?.(event, socket.context);
}

function onError(event: Event): void {
  const socket = socketOf(event);
  socket?.events.onError?.(event, socket.context);
}

/**
 * Hono's WebSocket upgrade on Deno, as hono/deno does it (the first subprotocol asked for is
 * the one answered), minus what that keeps for the life of each socket: two URLs and a
 * dozen closures.
 */
const upgradeWebSocket = defineWebSocketHelper<WebSocket>((c, events) => {
  if (c.req.header("upgrade") !== "websocket") return;
  const protocol = c.req.header("sec-websocket-protocol")?.split(",")[0]?.trim();
  const { response, socket } = Deno.upgradeWebSocket(c.req.raw, protocol ? { protocol } : {});
  (socket as Tagged)[SOCKET] = new DenoSocket(socket, events);
  // Listeners shared by every socket (an `on…` handler would be wrapped in a closure of its
  // own), and only those the app has.
  socket.addEventListener("open", onOpen, { once: true });
  socket.addEventListener("message", onMessage);
  socket.addEventListener("close", onClose, { once: true });
  if (events.onError) socket.addEventListener("error", onError);
  return response;
});
