import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openKv } from "@deno/kv";
import { describe, expect, test } from "vitest";
import { type ChatMessage, MessageIds } from "../../src/core/mod.ts";
import { isBusy, KvStore, RetryWhenBusy } from "../../src/host/store/kv.ts";
import { MemoryStore } from "../../src/host/store/memory.ts";
import type { LogEntry, Store } from "../../src/host/store/store.ts";
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

describe("the Deno KV store on a file other connections write too", () => {
  test("checked commits that find the file busy are tried again: nothing fails or is lost", async () => {
    const dir = await mkdtemp(join(tmpdir(), "relay-kv-"));
    try {
      // Two connections to one file, as two processes or a deployment's isolates have:
      // a commit with checks then meets "database is locked" when the other one writes.
      const path = join(dir, "relay.kv");
      const stores = [new KvStore(await openKv(path)), new KvStore(await openKv(path))];
      await stores[0]?.remember("bob", "bob");
      const sent: string[] = [];
      await Promise.all(
        stores.flatMap((store, s) =>
          Array.from({ length: 4 }, async (_, loop) => {
            for (let i = 0; i < 25; i++) {
              const id = `${s}-${loop}-${String(i).padStart(2, "0")}`;
              sent.push(id);
              expect(await store.hold("bob", chat(id), 10_000)).toBe("held");
              await store.join(
                { key: "#r", name: "#R" },
                { key: `u${s}${loop}`, name: `U${s}${loop}` },
              );
              await store.fail("mallory", 60_000, 1000);
              if (i % 5 === 2) await store.leave("#r", `u${s}${loop}`);
            }
          }),
        ),
      );
      const [one, two] = stores as [KvStore, KvStore];
      expect(ids(await two.held("bob")).sort()).toEqual(sent.sort());
      expect(await one.heldCount()).toBe(200);
      expect((await one.failures("mallory", 60_000)).length).toBe(200);
      const rooms = await two.memberships();
      expect(rooms.map((r) => [r.room, r.members.length])).toEqual([["#R", 8]]);
      await Promise.all(stores.map((store) => store.close()));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a commit that fails for another reason fails at once, as it came", async () => {
    const kv = await openKv(":memory:");
    // Waits long enough to time the test out, were this error taken for a busy file.
    const retrying = new RetryWhenBusy(kv, [60_000]);
    const tooLong = new Uint8Array(70 * 1024);
    const error = await retrying
      .atomic()
      .set(["big"], tooLong)
      .commit()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(isBusy(error)).toBe(false);
    expect(await retrying.atomic().set(["small"], 1).commit()).toMatchObject({ ok: true });
    expect((await kv.get(["small"])).value).toBe(1);
    retrying.close();
  });

  test("checks are tried again with the commit: one that no longer holds is ok: false", async () => {
    const kv = await openKv(":memory:");
    const retrying = new RetryWhenBusy(kv);
    const before = await kv.get(["room"]);
    await kv.set(["room"], "taken");
    const result = await retrying.atomic().check(before).set(["room"], "mine").commit();
    expect(result.ok).toBe(false);
    expect((await kv.get(["room"])).value).toBe("taken");
    retrying.close();
  });
});

describe("the Deno KV store's log", () => {
  const keep = 20;
  const slack = KvStore.trimEvery(keep) - 1;

  test("an append writes its messages to a log in chunks, not one by one", async () => {
    const kv = await openKv(":memory:");
    const store = new KvStore(kv);
    const made = new MessageIds("n1");
    const ids = Array.from({ length: 50 }, () => made.next(1_767_225_600_000));
    await store.append(
      ids.map((id) => entry("#r", id)),
      1000,
    );
    let keys = 0;
    for await (const _ of kv.list({ prefix: ["log", "#r"] })) keys++;
    expect(keys).toBeLessThan(5);
    expect((await store.page("#r", undefined, 100)).messages.map((m) => m.id)).toEqual(ids);
    await store.close();
  });

  test("reads a log written one message per key (as before chunks), and trims it", async () => {
    const kv = await openKv(":memory:");
    const made = new MessageIds("n1");
    const old = Array.from({ length: 30 }, (_, i) => made.next(1_767_225_600_000 + i));
    const op = kv.atomic();
    for (const id of old) op.set(["log", "#r", id], chat(id));
    await op.commit();
    const store = new KvStore(kv);
    expect(ids((await store.page("#r", old[10], 5)).messages)).toEqual(old.slice(5, 10));
    const fresh = Array.from({ length: 10 }, () => made.next(1_767_225_600_100));
    await store.append(
      fresh.map((id) => entry("#r", id)),
      keep,
    );
    const all = [...old, ...fresh];
    expect(ids(await whole(store))).toEqual(all.slice(-keep));
    const since = await store.since(["#r"], old[5] as string, 100);
    expect([ids(since.messages), since.gap]).toEqual([all.slice(-keep), true]);
    await store.close();
  });

  test("appends in flight at once: counted exactly, trimmed to near keep", async () => {
    const store = new KvStore(await openKv(":memory:"));
    const made = new MessageIds("n1");
    const batches = Array.from({ length: 60 }, (_, i) =>
      Array.from({ length: 1 + (i % 4) }, () => made.next(1_767_225_600_000 + i * 7)),
    );
    await Promise.all(
      batches.map((batch) =>
        store.append(
          batch.map((id) => entry("#r", id)),
          keep,
        ),
      ),
    );
    const kept = ids(await whole(store));
    const all = batches.flat();
    expect(kept.length).toBeGreaterThanOrEqual(keep);
    expect(kept.length).toBeLessThanOrEqual(keep + slack);
    expect(kept).toEqual(all.slice(-kept.length));
    await store.close();
  });

  test("two stores appending to one log: the newest kept, no holes, gaps told", async () => {
    const kv = await openKv(":memory:");
    const stores = [new KvStore(kv), new KvStore(kv)] as const;
    const makers = [new MessageIds("a"), new MessageIds("b")];
    const next = random(3);
    const all: string[] = [];
    let now = 1_767_225_600_000;
    for (let round = 0; round < 80; round++) {
      const i = next() < 0.5 ? 0 : 1;
      now += Math.floor(next() * 10);
      const batch = Array.from({ length: 1 + Math.floor(next() * 6) }, () =>
        (makers[i] as MessageIds).next(now),
      );
      all.push(...batch);
      await stores[i].append(
        batch.map((id) => entry("#r", id)),
        keep,
      );
    }
    all.sort();
    // Each store's own trims are done once it has read the log.
    await stores[1].page("#r", undefined, 1);
    const kept = ids(await whole(stores[0]));
    expect(kept.length).toBeGreaterThanOrEqual(keep);
    expect(kept.length).toBeLessThanOrEqual(keep + 2 * slack);
    expect(kept).toEqual(all.slice(-kept.length));
    const trimmed = all.slice(0, all.length - kept.length);
    for (const probe of [...trimmed.slice(-3), ...kept.slice(0, 2)]) {
      const got = await stores[1].since(["#r"], probe, 1000);
      expect(got.gap).toBe(trimmed.some((id) => id > probe));
    }
    // One KV for both: closing one closes it (the other's trims are done, read above).
    await stores[1].close();
  });

  test("a trim reads on through chunks that overlap the oldest (another store's)", async () => {
    const kv = await openKv(":memory:");
    const [a, b] = [new KvStore(kv), new KvStore(kv)];
    // The same first 8 characters: a's chunk (newest a5) spans b's (newest b4).
    await a.append(
      ["bucket01-1a", "bucket01-3a", "bucket01-5a"].map((id) => entry("#r", id)),
      100,
    );
    await a.page("#r", undefined, 1);
    await b.append(
      ["bucket01-2b", "bucket01-4b"].map((id) => entry("#r", id)),
      100,
    );
    await b.page("#r", undefined, 1);
    // a counts 4 of its own, 1 past keep: the oldest of all goes, not the oldest under b's key.
    await a.append([entry("#r", "bucket02-6a")], 3);
    expect(ids(await whole(a))).toEqual([
      "bucket01-2b",
      "bucket01-3a",
      "bucket01-4b",
      "bucket01-5a",
      "bucket02-6a",
    ]);
    expect((await a.since(["#r"], "bucket01-1a", 100)).gap).toBe(false);
    expect((await a.since(["#r"], "bucket01-0", 100)).gap).toBe(true);
    await a.close();
  });

  test("random appends (again, late, in batches) and reads agree with a model", async () => {
    const store = new KvStore(await openKv(":memory:"));
    const next = random(17);
    const makers = [new MessageIds("a"), new MessageIds("b")];
    const appended = new Set<string>();
    let now = 1_767_225_600_000;
    let last: string[] = [];
    for (let round = 0; round < 150; round++) {
      now += Math.floor(next() * 25);
      const batch: string[] = [];
      for (let i = 0, n = 1 + Math.floor(next() * 10); i < n; i++) {
        const roll = next();
        if (roll < 0.08 && last.length > 0) {
          batch.push(last[Math.floor(next() * last.length)] as string);
        } else if (roll < 0.14) {
          batch.push((makers[1] as MessageIds).next(now - Math.floor(next() * 200)));
        } else batch.push((makers[0] as MessageIds).next(now));
      }
      for (const id of batch) appended.add(id);
      last = batch;
      await store.append(
        batch.map((id) => entry("#r", id)),
        keep,
      );
      if (round % 10 !== 9) continue;
      const kept = ids(await whole(store));
      const all = [...appended].sort();
      expect(kept).toEqual([...new Set(kept)].sort());
      expect(kept.length).toBeLessThanOrEqual(keep + slack);
      // The newest `keep` are all there.
      expect(kept.slice(-keep)).toEqual(all.slice(-keep));
      const trimmed = all.filter((id) => !kept.includes(id));
      for (const probe of [all[0] as string, ...all.filter(() => next() < 0.1)]) {
        for (const n of [0, 3, 100]) {
          const page = await store.page("#r", probe, n);
          const earlier = kept.filter((id) => id < probe);
          expect([ids(page.messages), page.more]).toEqual([
            earlier.slice(Math.max(0, earlier.length - n)),
            earlier.length > n,
          ]);
          const since = await store.since(["#r"], probe, n);
          const later = kept.filter((id) => id > probe);
          expect([ids(since.messages), since.gap]).toEqual([
            later.slice(Math.max(0, later.length - n)),
            later.length > n || trimmed.some((id) => id > probe),
          ]);
        }
      }
    }
    await store.close();
  });
});

function chat(id: string): ChatMessage {
  return {
    type: "message",
    id,
    from: "alice",
    to: "#r",
    text: `text ${id}`,
    ts: "2026-01-01T00:00:00.000Z",
  };
}

function entry(conv: string, id: string): LogEntry {
  return { conv, message: chat(id) };
}

function ids(messages: ChatMessage[]): string[] {
  return messages.map((m) => m.id);
}

async function whole(store: Store): Promise<ChatMessage[]> {
  return (await store.page("#r", undefined, 1_000_000)).messages;
}

/** A pseudo-random generator of numbers in [0, 1), the same for the same seed. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

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
