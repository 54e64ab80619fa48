import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { createNodeWebSocket } from "@hono/node-ws";
import { Hono } from "hono";
import type { Host } from "../../src/host/mod.ts";
import { createApp } from "../../src/http/mod.ts";

/** Largest WebSocket message the socket layer reads before closing (1009): bounds memory. */
const MAX_WS_MESSAGE_BYTES = 1024 * 1024;

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
      // ws writes each frame at once; corking its socket makes one write of a flush's frames.
      cork: (raw) => {
        const socket = (raw as { _socket?: { cork(): void; uncork(): void } })._socket;
        socket?.cork();
        return () => socket?.uncork();
      },
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
