import type { Server } from "node:net";
import { authModeOf, Host, parseConfig, type RelayConfig } from "../../src/host/mod.ts";
import { openBus } from "../shared/redis.ts";
import { type HttpListener, listenHttp } from "./http.ts";
import { listenIrc } from "./irc.ts";
import { openStore } from "./store.ts";
import { closeTcp, listenTcp } from "./tcp.ts";
import { readTls } from "./tls.ts";

/** A running relay on Node, and how to stop it. */
export interface NodeRelay {
  host: Host;
  tcpPort: number | null;
  httpPort: number;
  /** The IRC gateway's port; null when it is off. */
  ircPort: number | null;
  /** Says bye to everyone, closes the listeners and the store. */
  stop(): Promise<void>;
}

/** How `startNode` behaves: `quiet` keeps the listening lines off stdout (for tests). */
export interface StartOptions {
  quiet?: boolean;
  /** Called after `/admin/shutdown` has stopped the relay. */
  exit?: () => void;
}

/** Starts the relay on Node with this configuration; prints one line per listener. */
export async function startNode(
  config: RelayConfig,
  options: StartOptions = {},
): Promise<NodeRelay> {
  const say = options.quiet ? () => {} : (line: string) => console.log(line);
  // Read first: a missing or unreadable PEM file stops the start before anything opens.
  const tls = readTls(config.tls);
  const secure = tls ? " (tls)" : "";
  const store = await openStore(config.store);
  const bus = await openBus(config.bus);
  const auth = authModeOf(config);
  const host = new Host(config, { store, bus, auth, schedule: setImmediate });
  await host.start();
  let tcp: Server | null = null;
  let tcpPort: number | null = null;
  if (config.tcpPort !== null) {
    tcp = await listenTcp(host, config.host, config.tcpPort, tls);
    const address = tcp.address();
    tcpPort = typeof address === "object" && address ? address.port : config.tcpPort;
    say(`tcp listening on ${config.host}:${tcpPort}${secure}`);
  }
  let irc: Server | null = null;
  let ircPort: number | null = null;
  if (config.ircPort !== null) {
    irc = await listenIrc(host, config.host, config.ircPort, tls);
    const address = irc.address();
    ircPort = typeof address === "object" && address ? address.port : config.ircPort;
    say(`irc listening on ${config.host}:${ircPort}${secure}`);
  }
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      // Listening stops at once; the sockets the host closes with its bye get to linger.
      const tcpClosed = tcp ? closeTcp(tcp) : Promise.resolve();
      const ircClosed = irc ? closeTcp(irc) : Promise.resolve();
      await host.shutdown();
      await Promise.all([tcpClosed, ircClosed, http.close()]);
    })();
    return stopping;
  };
  const http: HttpListener = await listenHttp(host, {
    hostname: config.host,
    port: config.httpPort,
    adminToken: config.adminToken,
    stop: () => void stop().then(options.exit),
    maxFrameBytes: config.maxFrameBytes,
    allowedOrigins: config.allowedOrigins,
    tls,
  });
  say(`http listening on ${config.host}:${http.port}${secure}`);
  return { host, tcpPort, httpPort: http.port, ircPort, stop };
}

/** The `relay serve` command: reads the environment, starts, and stops on SIGINT or SIGTERM. */
export async function main(): Promise<void> {
  const parsed = parseConfig(process.env);
  if (!parsed.ok) {
    for (const error of parsed.errors) console.error(`relay: ${error}`);
    process.exit(2);
  }
  const relay = await startNode(parsed.config, { exit: () => process.exit(0) }).catch((e) => {
    console.error(`relay: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  });
  const stop = () => {
    relay.stop().then(
      () => process.exit(0),
      (e) => {
        console.error(`relay: stopping failed: ${e}`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
