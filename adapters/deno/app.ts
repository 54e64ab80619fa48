import type { Hono } from "hono";
import { getConnInfo, upgradeWebSocket } from "hono/deno";
import type { Host } from "../../src/host/mod.ts";
import { createApp } from "../../src/http/mod.ts";

/** The relay's Hono app on Deno (WebSocket through hono/deno), for `Deno.serve`. */
export function denoApp(host: Host, adminToken: string | null, stop: () => void): Hono {
  return createApp({
    host,
    upgradeWebSocket,
    remoteAddress: (c) => {
      const { address, port } = getConnInfo(c).remote;
      return `${address}:${port}`;
    },
    adminToken,
    stop,
  });
}
