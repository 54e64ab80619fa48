import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { openKv } from "@deno/kv";
import { KvStore, MemoryStore, type Store } from "../../src/host/mod.ts";

/** Opens the store that RELAY_STORE names: `memory`, or a Deno KV file through @deno/kv. */
export async function openStore(spec: string): Promise<Store> {
  if (spec === "memory") return new MemoryStore();
  if (spec.startsWith("redis://")) {
    throw new Error("RELAY_STORE=redis://… is not available in this version; use a file path");
  }
  await mkdir(dirname(spec), { recursive: true });
  return new KvStore(await openKv(spec));
}
