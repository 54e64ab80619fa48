import { type Context, Hono } from "hono";
import type { Host } from "../host/mod.ts";
import { adminRoutes } from "./admin.ts";
import { renderMetrics } from "./metrics.ts";
import { pageRoutes } from "./page/routes.ts";
import {
  maxMessageBytes,
  originAllowed,
  relaySocket,
  type SocketHooks,
  type Upgrade,
} from "./websocket.ts";

/** What the app needs from the runtime it runs on. */
export interface AppOptions {
  host: Host;
  /** The adapter's upgradeWebSocket (adapters/node/http.ts, adapters/deno/app.ts). */
  upgradeWebSocket: Upgrade;
  /** The peer address of a request, as the runtime knows it. */
  remoteAddress: (c: Context) => string;
  /** Enables `/admin/*` with this bearer token; null answers 404 there. */
  adminToken: string | null;
  /** Ends the process after a graceful stop (for `/admin/shutdown`). */
  stop: () => void;
  /** A runtime's own ways to write and read WebSocket messages, where it has them. */
  socketHooks?: SocketHooks;
  /**
   * Origins whose pages may open `/ws` besides the server's own (`RELAY_ALLOWED_ORIGINS`);
   * none by default.
   */
  allowedOrigins?: readonly string[];
  /**
   * The longest frame (`RELAY_MAX_FRAME_BYTES`): a WebSocket message over
   * `maxMessageBytes(maxFrameBytes)` closes its connection. No limit of relay's own if unset.
   */
  maxFrameBytes?: number;
}

/**
 * The relay's HTTP face, the same on every runtime: `/ws` (the protocol over WebSocket),
 * `/` (the chat page, with `/app.js`, `/app.css`, `/favicon.svg`), `/healthz`, `/metrics`
 * and, with a token, `/admin/*`.
 */
export function createApp(options: AppOptions): Hono {
  const { host } = options;
  const app = new Hono();
  app.route("/", pageRoutes());
  app.get("/healthz", (c) => c.text("ok"));
  app.get("/metrics", async (c) =>
    c.text(await renderMetrics(host), 200, { "content-type": "text/plain; version=0.0.4" }),
  );
  const allowed = options.allowedOrigins ?? [];
  const maxBytes =
    options.maxFrameBytes === undefined ? undefined : maxMessageBytes(options.maxFrameBytes);
  app.get(
    "/ws",
    // Another site's page must not talk to the relay in its visitor's name.
    (c, next) =>
      originAllowed(c.req.header("origin"), c.req.header("host"), allowed)
        ? next()
        : c.text("this origin may not open /ws here", 403),
    options.upgradeWebSocket((c) =>
      relaySocket(host, options.remoteAddress(c), options.socketHooks, maxBytes),
    ),
  );
  if (options.adminToken !== null) {
    app.route("/admin", adminRoutes(host, options.adminToken, options.stop));
  }
  return app;
}
