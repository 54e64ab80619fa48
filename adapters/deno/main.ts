import { authModeOf, Host, parseConfig, type RelayConfig } from "../../src/host/mod.ts";
import { openBus } from "../shared/redis.ts";
import { allClosed, denoApp } from "./app.ts";
import { listenIrc } from "./irc.ts";
import { openStore } from "./store.ts";
import { listenTcp, type TcpListener } from "./tcp.ts";
import { readTls, tlsFailure } from "./tls.ts";

/** Starts the relay on Deno: TCP and HTTP/WebSocket on one host; resolves to its stopper. */
export async function startDeno(config: RelayConfig): Promise<() => Promise<void>> {
  // Read first: a missing or unreadable PEM file stops the start before anything opens.
  const tls = readTls(config.tls);
  const secure = tls ? " (tls)" : "";
  const store = await openStore(config.store);
  const bus = await openBus(config.bus);
  const auth = authModeOf(config);
  const host = new Host(config, { store, bus, auth });
  await host.start();
  let tcp: TcpListener | null = null;
  if (config.tcpPort !== null) {
    tcp = listenTcp(host, config.host, config.tcpPort, tls);
    console.log(`tcp listening on ${config.host}:${(tcp.addr as Deno.NetAddr).port}${secure}`);
  }
  let irc: TcpListener | null = null;
  if (config.ircPort !== null) {
    irc = listenIrc(host, config.host, config.ircPort, tls);
    console.log(`irc listening on ${config.host}:${(irc.addr as Deno.NetAddr).port}${secure}`);
  }
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      tcp?.close();
      irc?.close();
      await host.shutdown();
      await allClosed(host);
      await http.shutdown();
    })();
    return stopping;
  };
  const app = denoApp(host, config, () => void stop().then(() => Deno.exit(0)));
  const options: Deno.ServeTcpOptions = {
    hostname: config.host,
    port: config.httpPort,
    onListen: ({ port }) => console.log(`http listening on ${config.host}:${port}${secure}`),
  };
  let http: Deno.HttpServer<Deno.NetAddr>;
  try {
    // With a certificate and key, HTTPS, and `wss://` for the WebSocket upgrades.
    http = tls ? Deno.serve({ ...options, ...tls }, app.fetch) : Deno.serve(options, app.fetch);
  } catch (e) {
    if (!tls || e instanceof Deno.errors.AddrInUse) throw e;
    throw tlsFailure(e);
  }
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
