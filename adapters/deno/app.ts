import type { Hono } from "hono";
import { getConnInfo, upgradeWebSocket } from "hono/deno";
import type { Host, RelayConfig } from "../../src/host/mod.ts";
import { createApp, MAX_CLOSING_MS } from "../../src/http/mod.ts";

/** The relay's Hono app on Deno (WebSocket through hono/deno), for `Deno.serve`. */
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
