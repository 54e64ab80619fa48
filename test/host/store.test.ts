import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openKv } from "@deno/kv";
import { describe, expect, test } from "vitest";
import { KvStore } from "../../src/host/store/kv.ts";
import { MemoryStore } from "../../src/host/store/memory.ts";
import type { Store } from "../../src/host/store/store.ts";
import { storeContract } from "./store-contract.ts";

describe("the memory store", () => {
  storeContract(async () => new MemoryStore());

  test("keeps nothing across instances", async () => {
    const first = new MemoryStore();
    await fill(first);
    expect(await read(first)).toEqual(filled);
    expect(await read(new MemoryStore())).toEqual(empty);
  });
});

describe("the Deno KV store (@deno/kv)", () => {
  storeContract(async () => new KvStore(await openKv(":memory:")), {
    trimSlack: (keep) => KvStore.trimEvery(keep) - 1,
  });

  test("keeps everything across a reopen of its file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "relay-kv-"));
    try {
      const path = join(dir, "relay.kv");
      const first = new KvStore(await openKv(path));
      await fill(first);
      await first.close();
      const again = new KvStore(await openKv(path));
      expect(await read(again)).toEqual(filled);
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const message = {
  type: "message",
  id: "0001",
  from: "alice",
  to: "bob",
  text: "hi",
  ts: "2026-01-01T00:00:00.000Z",
} as const;

/** Writes one of each kind of thing a store keeps. */
async function fill(store: Store): Promise<void> {
  await store.append([{ conv: "@alice|bob", message, users: ["alice", "bob"] }], 10);
  await store.join({ key: "#dev", name: "#Dev" }, { key: "alice", name: "Alice" });
  await store.saveSession("hash", "alice", 60_000);
  await store.remember("alice", "Alice");
}

/** What `fill` wrote, as the store gives it back. */
async function read(store: Store) {
  return {
    log: (await store.page("@alice|bob", undefined, 10)).messages,
    conversations: await store.conversations("bob"),
    memberships: await store.memberships(),
    session: await store.useSession("hash", 60_000),
    known: await store.known("alice"),
  };
}

const filled = {
  log: [message],
  conversations: ["@alice|bob"],
  memberships: [{ room: "#Dev", members: ["Alice"] }],
  session: "alice",
  known: true,
};

const empty = { log: [], conversations: [], memberships: [], session: null, known: false };
