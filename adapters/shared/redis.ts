import type { Redis } from "ioredis";
import { type Bus, LocalBus, nodeName, RedisBus, RedisStore } from "../../src/host/mod.ts";

/** How long to wait for Redis at start before giving up with a clear message. */
const CONNECT_TIMEOUT_MS = 5_000;
/** How long a stopping relay waits for Redis to take its last words. */
const CLOSE_TIMEOUT_MS = 2_000;

/** A connected ioredis client, or an error that says which server could not be reached. */
export async function connectRedis(url: string): Promise<Redis> {
  // Loaded only when asked for: a relay without Redis never reads ioredis.
  const { Redis } = await import("ioredis");
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // While Redis is away, commands wait for a few reconnections, then fail: the relay
    // goes on serving its own users, and what waits for Redis stays bounded.
    maxRetriesPerRequest: 3,
    // Commands issued in one turn of the event loop leave in one write (in order).
    enableAutoPipelining: true,
  });
  // Reported once per kind of failure; ioredis reconnects by itself meanwhile.
  let last = "";
  client.on("error", (e: Error) => {
    if (e.message !== last) console.error(`relay: redis ${url}: ${e.message}`);
    last = e.message;
  });
  client.on("ready", () => {
    last = "";
  });
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    throw new Error(`cannot reach Redis at ${url}: ${e instanceof Error ? e.message : e}`);
  }
  return client;
}

/** The store on Redis (RELAY_STORE=redis://…). */
export async function openRedisStore(url: string): Promise<RedisStore> {
  const client = await connectRedis(url);
  return new RedisStore(client, { close: () => quit(client) });
}

/** The bus RELAY_BUS names: `local` (a lone node) or `redis://…`. */
export async function openBus(spec: string): Promise<Bus> {
  if (spec === "local") return new LocalBus();
  if (!/^rediss?:\/\//.test(spec)) throw new Error(`RELAY_BUS=${spec} is not a bus here`);
  const commands = await connectRedis(spec);
  const subscriber = await connectRedis(spec);
  return new RedisBus(commands, subscriber, {
    node: nodeName(),
    close: async () => {
      subscriber.disconnect();
      await quit(commands);
    },
  });
}

/** Says goodbye to Redis once what is sent is answered, or gives up after a while. */
async function quit(client: Redis): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
  });
  await Promise.race([client.quit().catch(() => {}), late]);
  clearTimeout(timer);
  client.disconnect();
}
