import { getConnInfo, upgradeWebSocket } from "hono/deno";
import { authModeOf, Host, parseConfig, type RelayConfig } from "../../src/host/mod.ts";
import { createApp } from "../../src/http/mod.ts";
import { openStore } from "./store.ts";
import { listenTcp } from "./tcp.ts";

/** The variables the relay reads (so that --allow-env can name them). */
const VARIABLES = [
  "RELAY_HOST",
  "RELAY_TCP_PORT",
  "RELAY_HTTP_PORT",
  "PORT",
  "RELAY_STORE",
  "RELAY_BUS",
  "RELAY_ADMIN_TOKEN",
  "RELAY_AUTH",
  "RELAY_JWT_SECRET",
  "RELAY_PRESENCE",
  "RELAY_RATE_LIMIT",
  "RELAY_MAX_FRAME_BYTES",
  "RELAY_MAX_QUEUED",
  "RELAY_MAX_OUTBOX_BYTES",
  "RELAY_MAX_CONNECTIONS",
  "RELAY_LOGIN_TIMEOUT",
];

/** Starts the relay on Deno: TCP and HTTP/WebSocket on one host; resolves to its stopper. */
export async function startDeno(config: RelayConfig): Promise<() => Promise<void>> {
  const store = await openStore(config.store);
  const auth = authModeOf(config);
  const host = new Host(config, { store, auth });
  let tcp: Deno.TcpListener | null = null;
  if (config.tcpPort !== null) {
    tcp = listenTcp(host, config.host, config.tcpPort);
    console.log(`tcp listening on ${config.host}:${(tcp.addr as Deno.NetAddr).port}`);
  }
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      tcp?.close();
      await host.shutdown();
      await http.shutdown();
    })();
    return stopping;
  };
  const app = createApp({
    host,
    upgradeWebSocket,
    remoteAddress: (c) => {
      const { address, port } = getConnInfo(c).remote;
      return `${address}:${port}`;
    },
    adminToken: config.adminToken,
    stop: () => void stop().then(() => Deno.exit(0)),
  });
  const http = Deno.serve(
    {
      hostname: config.host,
      port: config.httpPort,
      onListen: ({ port }) => console.log(`http listening on ${config.host}:${port}`),
    },
    app.fetch,
  );
  return stop;
}

if (import.meta.main) {
  const env: Record<string, string | undefined> = {};
  for (const name of VARIABLES) env[name] = Deno.env.get(name);
  const parsed = parseConfig(env);
  if (!parsed.ok) {
    for (const error of parsed.errors) console.error(`relay: ${error}`);
    Deno.exit(2);
  }
  const stop = await startDeno(parsed.config).catch((e) => {
    console.error(`relay: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  });
  const onSignal = () => stop().then(() => Deno.exit(0));
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
}
