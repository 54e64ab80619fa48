import { authModeOf, Host, parseConfig, type RelayConfig } from "../../src/host/mod.ts";
import { openBus } from "../shared/redis.ts";
import { allClosed, denoApp } from "./app.ts";
import { openStore } from "./store.ts";
import { listenTcp } from "./tcp.ts";

/** Starts the relay on Deno: TCP and HTTP/WebSocket on one host; resolves to its stopper. */
export async function startDeno(config: RelayConfig): Promise<() => Promise<void>> {
  const store = await openStore(config.store);
  const bus = await openBus(config.bus);
  const auth = authModeOf(config);
  const host = new Host(config, { store, bus, auth });
  await host.start();
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
      await allClosed(host);
      await http.shutdown();
    })();
    return stopping;
  };
  const app = denoApp(host, config, () => void stop().then(() => Deno.exit(0)));
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
  const parsed = parseConfig(Deno.env.toObject());
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
