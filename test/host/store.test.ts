import { openKv } from "@deno/kv";
import { describe } from "vitest";
import { KvStore, MemoryStore } from "../../src/host/mod.ts";
import { storeContract } from "./store-contract.ts";

describe("the memory store", () => storeContract(async () => new MemoryStore()));

describe("the Deno KV store (@deno/kv)", () =>
  storeContract(async () => new KvStore(await openKv(":memory:"))));
