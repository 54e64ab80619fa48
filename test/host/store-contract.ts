import { expect, test } from "vitest";
import type { ChatMessage } from "../../src/core/mod.ts";
import type { Store } from "../../src/host/mod.ts";

function message(id: string, text = id): ChatMessage {
  return { type: "message", id, from: "alice", to: "bob", text, ts: "2026-01-01T00:00:00.000Z" };
}

/** What every store does, whatever keeps it: run inside a `describe` per store. */
export function storeContract(open: () => Promise<Store>): void {
  test("remembers the name as first written", async () => {
    const store = await open();
    expect(await store.known("bob")).toBe(false);
    expect(await store.remember("bob", "Bob")).toBe("Bob");
    expect(await store.remember("bob", "BOB")).toBe("Bob");
    expect(await store.known("bob")).toBe(true);
    await store.close();
  });

  test("holds messages for known names only, in order, up to the cap", async () => {
    const store = await open();
    expect(await store.hold("bob", message("1"), 2)).toBe("no_such_user");
    await store.remember("bob", "Bob");
    expect(await store.hold("bob", message("b"), 2)).toBe("held");
    expect(await store.hold("bob", message("a"), 2)).toBe("held");
    expect(await store.hold("bob", message("c"), 2)).toBe("queue_full");
    const held = await store.held("bob");
    expect(held.map((m) => [m.id, m.to])).toEqual([
      ["a", "Bob"],
      ["b", "Bob"],
    ]);
    expect(await store.heldCount()).toBe(2);
    await store.drop("bob", ["a"]);
    expect((await store.held("bob")).map((m) => m.id)).toEqual(["b"]);
    expect(await store.hold("bob", message("c"), 2)).toBe("held");
    await store.drop("bob", ["b", "c", "never"]);
    expect(await store.held("bob")).toEqual([]);
    expect(await store.heldCount()).toBe(0);
    await store.close();
  });

  test("holding races for the last place: exactly the cap is held", async () => {
    const store = await open();
    await store.remember("bob", "bob");
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.hold("bob", message(`m${i}`.padStart(4, "0")), 5)),
    );
    expect(results.filter((r) => r === "held")).toHaveLength(5);
    expect(await store.held("bob")).toHaveLength(5);
    await store.close();
  });

  test("registers a password once", async () => {
    const store = await open();
    const record = { salt: "c2FsdA==", hash: "aGFzaA==", iterations: 1 };
    expect(await store.account("amy")).toBeNull();
    expect(await store.register("amy", record)).toBe(true);
    expect(await store.register("amy", { ...record, hash: "other" })).toBe(false);
    expect(await store.account("amy")).toEqual(record);
    await store.close();
  });
}
