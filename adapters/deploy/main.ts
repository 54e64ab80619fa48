/**
 * The edge entry point (Deno Deploy): HTTP and WebSocket only, the store in Deno KV (the
 * deployment's global KV there; a file locally), and a BroadcastChannel bus between the
 * isolates that serve the deployment, with names leased in the same KV.
 * @module
 */
import {
  authModeOf,
  BroadcastBus,
  Host,
  KvStore,
  nodeName,
  parseConfig,
  type RelayConfig,
  RetryWhenBusy,
} from "../../src/host/mod.ts";
import { allClosed, denoApp } from "../deno/app.ts";

/** Whether this runs on Deno Deploy (which sets DENO_DEPLOYMENT_ID). */
const ON_DEPLOY = Deno.env.get("DENO_DEPLOYMENT_ID") !== undefined;

/** Opens the KV that holds both the store and the leases: the global one on Deploy. */
async function openKv(spec: string): Promise<Deno.Kv> {
  if (ON_DEPLOY) return await Deno.openKv();
  if (spec === "memory") return await Deno.openKv(":memory:");
  const slash = spec.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(spec.slice(0, slash), { recursive: true });
  return await Deno.openKv(spec);
}

/** Starts one isolate's relay; resolves to its stopper once it listens. */
export async function startDeploy(config: RelayConfig): Promise<() => Promise<void>> {
  if (/^rediss?:/.test(config.store)) {
    throw new Error("the edge entry keeps its store in Deno KV: set RELAY_STORE to a path");
  }
  const kv = await openKv(config.store);
  // Its leases are commits with checks: tried again when another isolate holds the file.
  const bus = new BroadcastBus(new RetryWhenBusy(kv), { node: nodeName() });
  const host = new Host(config, { store: new KvStore(kv), bus, auth: authModeOf(config) });
  await host.start();
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await host.shutdown();
      await allClosed(host);
      await http.shutdown();
    })();
    return stopping;
  };
  const app = denoApp(host, config, () => void stop());
  const listening = Promise.withResolvers<void>();
  const http = Deno.serve(
    {
      hostname: config.host,
      port: config.httpPort,
      onListen: ({ port }) => {
        console.log(`http listening on ${config.host}:${port}`);
        listening.resolve();
      },
    },
    app.fetch,
  );
  await listening.promise;
  return stop;
}

if (import.meta.main) {
  const parsed = parseConfig(Deno.env.toObject());
  if (!parsed.ok) {
    for (const error of parsed.errors) console.error(`relay: ${error}`);
    Deno.exit(2);
  }
  const stop = await startDeploy(parsed.config);
  if (!ON_DEPLOY) {
    const onSignal = () => stop().then(() => Deno.exit(0));
    Deno.addSignalListener("SIGINT", onSignal);
    Deno.addSignalListener("SIGTERM", onSignal);
  }
}
