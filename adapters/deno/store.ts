import { KvStore, MemoryStore, type Store } from "../../src/host/mod.ts";

/** Opens the store that RELAY_STORE names: `memory`, or a Deno KV file. */
export async function openStore(spec: string): Promise<Store> {
  if (spec === "memory") return new MemoryStore();
  if (spec.startsWith("redis://")) {
    throw new Error("RELAY_STORE=redis://… is not available in this version; use a file path");
  }
  const slash = spec.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(spec.slice(0, slash), { recursive: true });
  return new KvStore(await Deno.openKv(spec));
}
