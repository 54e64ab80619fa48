import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { openKv } from "@deno/kv";
import { KvStore, MemoryStore, type Store } from "../../src/host/mod.ts";
import { openRedisStore } from "../shared/redis.ts";

/** Opens the store that RELAY_STORE names: `memory`, `redis://…`, or a Deno KV file through @deno/kv. */
export async function openStore(spec: string): Promise<Store> {
  if (spec === "memory") return new MemoryStore();
  if (/^rediss?:\/\//.test(spec)) return openRedisStore(spec);
  await mkdir(dirname(spec), { recursive: true });
  return new KvStore(await openKv(spec));
}
