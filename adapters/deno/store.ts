import { KvStore, MemoryStore, type Store } from "../../src/host/mod.ts";
import { openRedisStore } from "../shared/redis.ts";

/** Opens the store that RELAY_STORE names: `memory`, `redis://…`, or a Deno KV file. */
export async function openStore(spec: string): Promise<Store> {
  if (spec === "memory") return new MemoryStore();
  if (/^rediss?:\/\//.test(spec)) return openRedisStore(spec);
  const slash = spec.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(spec.slice(0, slash), { recursive: true });
  return new KvStore(await Deno.openKv(spec));
}
