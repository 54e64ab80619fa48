import { type Context, Hono } from "hono";
import type { Host } from "../host/mod.ts";
import { adminRoutes } from "./admin.ts";
import { renderMetrics } from "./metrics.ts";
import { CHAT_PAGE } from "./page/page.ts";
import { relaySocket, type SocketHooks, type Upgrade } from "./websocket.ts";

/** What the app needs from the runtime it runs on. */
export interface AppOptions {
  host: Host;
  /** hono/deno's or @hono/node-ws's upgradeWebSocket. */
  upgradeWebSocket: Upgrade;
  /** The peer address of a request, as the runtime knows it. */
  remoteAddress: (c: Context) => string;
  /** Enables `/admin/*` with this bearer token; null answers 404 there. */
  adminToken: string | null;
  /** Ends the process after a graceful stop (for `/admin/shutdown`). */
  stop: () => void;
  /** A runtime's own ways to write and read WebSocket messages, where it has them. */
  socketHooks?: SocketHooks;
}

/**
 * The relay's HTTP face, the same on every runtime: `/ws` (the protocol over WebSocket),
 * `/` (the chat page), `/healthz`, `/metrics` and, with a token, `/admin/*`.
 */
export function createApp(options: AppOptions): Hono {
  const { host } = options;
  const app = new Hono();
  app.get("/", (c) => c.html(CHAT_PAGE));
  app.get("/healthz", (c) => c.text("ok"));
  app.get("/metrics", async (c) =>
    c.text(await renderMetrics(host), 200, { "content-type": "text/plain; version=0.0.4" }),
  );
  app.get(
    "/ws",
    options.upgradeWebSocket((c) =>
      relaySocket(host, options.remoteAddress(c), options.socketHooks),
    ),
  );
  if (options.adminToken !== null) {
    app.route("/admin", adminRoutes(host, options.adminToken, options.stop));
  }
  return app;
}
