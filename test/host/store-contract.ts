import { expect, test } from "vitest";
import { type ChatMessage, MessageIds } from "../../src/core/mod.ts";
import type { LogEntry, Store } from "../../src/host/store/store.ts";

function message(id: string, text = id): ChatMessage {
  return { type: "message", id, from: "alice", to: "bob", text, ts: "2026-01-01T00:00:00.000Z" };
}

/** A log entry of conversation `conv`. */
function entry(conv: string, id: string, text = id): LogEntry {
  return { conv, message: message(id, text) };
}

/** Ids that sort in the order of `i`, as the relay's do. */
function idOf(i: number): string {
  return i.toString(36).padStart(4, "0");
}

function ids(messages: ChatMessage[]): string[] {
  return messages.map((m) => m.id);
}

/** The whole log of a conversation, oldest first. */
async function whole(store: Store, conv: string): Promise<ChatMessage[]> {
  return (await store.page(conv, undefined, 1_000_000)).messages;
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

/**
 * Batches of ids as the relay makes them (time, counter, node tag), made a few ms apart or
 * in the same ms: many share their first characters, some batches run across a ms boundary.
 */
function relayIds(batches: number, seed: number, maxBatch = 40, minBatch = 1): string[][] {
  const next = random(seed);
  const ids = new MessageIds("n1");
  let now = 1_767_225_600_000;
  return Array.from({ length: batches }, () =>
    Array.from({ length: minBatch + Math.floor(next() * (maxBatch - minBatch + 1)) }, () => {
      if (next() < 0.3) now += Math.floor(next() * 40);
      return ids.next(now);
    }),
  );
}

/** The ids of a sorted list that a model says come before (or after) an id. */
function before(all: string[], id: string): string[] {
  return all.filter((x) => x < id);
}

function after(all: string[], id: string): string[] {
  return all.filter((x) => x > id);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How a store may differ from the exact contract. */
export interface ContractOptions {
  /** How many messages past `keep` a log may hold between trims (0: trimmed exactly). */
  trimSlack?: (keep: number) => number;
}

/** What every store does, whatever keeps it: run inside a `describe` per store. */
export function storeContract(open: () => Promise<Store>, options: ContractOptions = {}): void {
  const trimSlack = options.trimSlack ?? (() => 0);

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

  test("rehash replaces a password record only while it is still the one read", async () => {
    const store = await open();
    const old = { salt: "c2FsdA==", hash: "aGFzaA==", iterations: 210_000 };
    const next = { salt: "bmV3", hash: "bmV3aGFzaA==", iterations: 600_000 };
    expect(await store.rehash("nobody", old, next)).toBe(false);
    expect(await store.account("nobody")).toBeNull();
    await store.register("amy", old);
    // Read before a change: the change wins.
    expect(await store.rehash("amy", { ...old, hash: "b3RoZXI=" }, next)).toBe(false);
    expect(await store.rehash("amy", { ...old, iterations: 1 }, next)).toBe(false);
    expect(await store.account("amy")).toEqual(old);
    expect(await store.rehash("amy", old, next)).toBe(true);
    expect(await store.account("amy")).toEqual(next);
    expect(await store.rehash("amy", old, { ...next, hash: "bGF0ZQ==" })).toBe(false);
    expect(await store.account("amy")).toEqual(next);
    await store.close();
  });

  test("rehashes racing from one record: exactly one wins", async () => {
    const store = await open();
    const old = { salt: "c2FsdA==", hash: "aGFzaA==", iterations: 210_000 };
    await store.register("amy", old);
    const nexts = Array.from({ length: 5 }, (_, i) => ({ ...old, hash: `h${i}`, iterations: 9 }));
    const won = await Promise.all(nexts.map((next) => store.rehash("amy", old, next)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await store.account("amy")).toEqual(nexts[won.indexOf(true)]);
    await store.close();
  });

  test("failed logins: per name, oldest first, each with its time left in the window", async () => {
    const store = await open();
    expect(await store.failures("amy", 60_000)).toEqual([]);
    await store.fail("amy", 60_000, 5);
    await sleep(5);
    await store.fail("amy", 60_000, 5);
    const left = await store.failures("amy", 60_000);
    expect(left).toHaveLength(2);
    expect(left[0]).toBeLessThanOrEqual(left[1] as number);
    for (const ms of left) {
      expect(ms).toBeGreaterThan(50_000);
      expect(ms).toBeLessThanOrEqual(60_000);
    }
    // Another name, and a shorter window asked of the same failures.
    expect(await store.failures("bob", 60_000)).toEqual([]);
    for (const ms of await store.failures("amy", 30_000)) expect(ms).toBeLessThanOrEqual(30_000);
    await store.close();
  });

  test("failed logins: the newest `keep` are kept", async () => {
    const store = await open();
    for (let i = 0; i < 8; i++) await store.fail("amy", 60_000, 5);
    expect(await store.failures("amy", 60_000)).toHaveLength(5);
    await store.close();
  });

  test("failed logins leave the window", async () => {
    const store = await open();
    await store.fail("amy", 200, 5);
    await store.fail("amy", 200, 5);
    expect((await store.failures("amy", 200)).length).toBeLessThanOrEqual(2);
    await sleep(300);
    expect(await store.failures("amy", 200)).toEqual([]);
    // A failure after all had left is counted afresh, alone.
    await store.fail("amy", 60_000, 5);
    expect(await store.failures("amy", 60_000)).toHaveLength(1);
    await store.close();
  });

  test("failed logins counted at once are all counted", async () => {
    const store = await open();
    await Promise.all(Array.from({ length: 10 }, () => store.fail("amy", 60_000, 20)));
    expect(await store.failures("amy", 60_000)).toHaveLength(10);
    await store.close();
  });

  test("a log keeps its messages in id order; a page is the newest before an id", async () => {
    const store = await open();
    await store.append(
      ["c", "a", "e", "b", "d"].map((id) => entry("#r", id, `text ${id}`)),
      100,
    );
    await store.append([entry("#other", "bb"), entry("#other", "0")], 100);
    expect(await store.page("#r", undefined, 10)).toEqual({
      messages: ["a", "b", "c", "d", "e"].map((id) => message(id, `text ${id}`)),
      more: false,
    });
    const newest = await store.page("#r", undefined, 2);
    expect([ids(newest.messages), newest.more]).toEqual([["d", "e"], true]);
    const middle = await store.page("#r", "d", 2);
    expect([ids(middle.messages), middle.more]).toEqual([["b", "c"], true]);
    const oldest = await store.page("#r", "b", 2);
    expect([ids(oldest.messages), oldest.more]).toEqual([["a"], false]);
    const exact = await store.page("#r", "c", 2);
    expect([ids(exact.messages), exact.more]).toEqual([["a", "b"], false]);
    // `before` need not be an id in the log.
    const between = await store.page("#r", "bz", 10);
    expect(ids(between.messages)).toEqual(["a", "b"]);
    expect(await store.page("#r", "a", 10)).toEqual({ messages: [], more: false });
    expect(await store.page("#nowhere", undefined, 10)).toEqual({ messages: [], more: false });
    expect(ids(await whole(store, "#other"))).toEqual(["0", "bb"]);
    await store.close();
  });

  test("ids sort by code unit: an id before the same id with a node tag", async () => {
    const store = await open();
    const order = ["k1", "k1-A", "k1-a", "k10", "k1A", "k1_b", "k1a", "k2", "kA", "ka"];
    expect([...order].sort()).toEqual(order);
    await store.append(
      [...order].reverse().map((id) => entry("#r", id)),
      100,
    );
    expect(ids(await whole(store, "#r"))).toEqual(order);
    expect(ids((await store.page("#r", "k1-a", 10)).messages)).toEqual(["k1", "k1-A"]);
    expect(ids((await store.page("#r", "k1", 10)).messages)).toEqual([]);
    expect(ids((await store.since(["#r"], "k1", 100)).messages)).toEqual(order.slice(1));
    expect(ids((await store.since(["#r"], "k1_b", 100)).messages)).toEqual(order.slice(6));
    await store.close();
  });

  test("since: the newest max after an id across conversations, oldest first", async () => {
    const store = await open();
    await store.append(
      [
        entry("#a", idOf(1)),
        entry("#b", idOf(2)),
        entry("#a", idOf(3)),
        entry("#b", idOf(4)),
        entry("#a", idOf(5)),
        entry("#b", idOf(6)),
        entry("@x|y", idOf(7)),
      ],
      100,
    );
    expect(await store.since(["#a", "#b"], idOf(2), 10)).toEqual({
      messages: [3, 4, 5, 6].map((i) => message(idOf(i))),
      gap: false,
    });
    const capped = await store.since(["#b", "#a"], idOf(2), 3);
    expect([ids(capped.messages), capped.gap]).toEqual([[4, 5, 6].map(idOf), true]);
    const one = await store.since(["#a"], "", 2);
    expect([ids(one.messages), one.gap]).toEqual([[3, 5].map(idOf), true]);
    // Exactly max is no gap, and a conversation named twice counts once.
    const exact = await store.since(["#a", "#b", "#a"], idOf(2), 4);
    expect([ids(exact.messages), exact.gap]).toEqual([[3, 4, 5, 6].map(idOf), false]);
    const all = await store.since(["#a", "#b", "@x|y", "#none"], "", 10);
    expect([ids(all.messages), all.gap]).toEqual([[1, 2, 3, 4, 5, 6, 7].map(idOf), false]);
    // An id between two messages.
    const between = await store.since(["#a"], `${idOf(3)}-x`, 10);
    expect(ids(between.messages)).toEqual([idOf(5)]);
    expect(await store.since(["#a", "#b"], idOf(6), 10)).toEqual({ messages: [], gap: false });
    expect(await store.since([], idOf(0), 10)).toEqual({ messages: [], gap: false });
    await store.close();
  });

  test("append trims each log it touched to its newest keep", async () => {
    const store = await open();
    await store.append(
      Array.from({ length: 6 }, (_, i) => entry("#untouched", idOf(i))),
      100,
    );
    await store.append(
      Array.from({ length: 10 }, (_, i) => entry("#a", idOf(i))),
      4,
    );
    expect(ids(await whole(store, "#a"))).toEqual([6, 7, 8, 9].map(idOf));
    expect(ids(await whole(store, "#untouched"))).toHaveLength(6);
    const page = await store.page("#a", undefined, 4);
    expect(page.more).toBe(false);
    await store.append([entry("#a", idOf(10)), entry("#a", idOf(11))], 4);
    expect(ids(await whole(store, "#a"))).toEqual([8, 9, 10, 11].map(idOf));
    await store.append([entry("#a", idOf(12))], 0);
    expect(await whole(store, "#a")).toEqual([]);
    await store.close();
  });

  test("since: a gap when a log was trimmed past since, even with fewer than max", async () => {
    const store = await open();
    await store.append(
      Array.from({ length: 10 }, (_, i) => entry("#a", idOf(i))),
      4,
    );
    await store.append([entry("#b", idOf(10)), entry("#b", idOf(11))], 4);
    expect(ids(await whole(store, "#a"))).toEqual([6, 7, 8, 9].map(idOf));
    // 3, 4 and 5 came after idOf(2) and are gone: 4 of max 100 come, with a gap.
    const after2 = await store.since(["#a"], idOf(2), 100);
    expect([ids(after2.messages), after2.gap]).toEqual([[6, 7, 8, 9].map(idOf), true]);
    const after4 = await store.since(["#b", "#a"], idOf(4), 100);
    expect([ids(after4.messages), after4.gap]).toEqual([[6, 7, 8, 9, 10, 11].map(idOf), true]);
    expect((await store.since(["#a"], "", 100)).gap).toBe(true);
    // Another conversation's trims are no gap of this one.
    expect(await store.since(["#b"], idOf(2), 100)).toEqual({
      messages: [10, 11].map((i) => message(idOf(i))),
      gap: false,
    });
    // A stale message, trimmed away as it comes, does not move the marker back.
    await store.append([entry("#a", idOf(1))], 4);
    expect(ids(await whole(store, "#a"))).toEqual([6, 7, 8, 9].map(idOf));
    expect((await store.since(["#a"], idOf(4), 100)).gap).toBe(true);
    // Pages are as they were: the log as kept, nothing older.
    const page = await store.page("#a", undefined, 10);
    expect([ids(page.messages), page.more]).toEqual([[6, 7, 8, 9].map(idOf), false]);
    expect(await store.page("#a", idOf(6), 10)).toEqual({ messages: [], more: false });
    await store.close();
  });

  test("since: no gap when a log was trimmed but not past since", async () => {
    const store = await open();
    await store.append(
      Array.from({ length: 10 }, (_, i) => entry("#a", idOf(i))),
      4,
    );
    // idOf(5) is the newest trimmed away: nothing after it is gone.
    const after5 = await store.since(["#a"], idOf(5), 100);
    expect([ids(after5.messages), after5.gap]).toEqual([[6, 7, 8, 9].map(idOf), false]);
    const after7 = await store.since(["#a", "#none"], idOf(7), 100);
    expect([ids(after7.messages), after7.gap]).toEqual([[8, 9].map(idOf), false]);
    expect(await store.since(["#a"], idOf(9), 100)).toEqual({ messages: [], gap: false });
    // More than max after since is still a gap.
    const capped = await store.since(["#a"], idOf(5), 3);
    expect([ids(capped.messages), capped.gap]).toEqual([[7, 8, 9].map(idOf), true]);
    await store.close();
  });

  test("since after appends one at a time: a gap exactly when the trims passed since", async () => {
    const store = await open();
    const keep = 8;
    const total = 40;
    // Far more than keep plus any slack: the log must have been trimmed, whenever it is.
    expect(total).toBeGreaterThan(2 * (keep + trimSlack(keep)));
    for (let i = 0; i < total; i++) await store.append([entry("#a", idOf(i))], keep);
    const kept = ids(await whole(store, "#a"));
    const oldest = Number.parseInt(kept[0] as string, 36);
    expect(oldest).toBeGreaterThan(0);
    expect(kept).toEqual(Array.from({ length: total - oldest }, (_, i) => idOf(oldest + i)));
    // idOf(oldest - 1) was the newest trimmed away.
    const past = await store.since(["#a"], idOf(oldest - 2), 100);
    expect([ids(past.messages), past.gap]).toEqual([kept, true]);
    const before = await store.since(["#a"], idOf(oldest - 1), 100);
    expect([ids(before.messages), before.gap]).toEqual([kept, false]);
    const within = await store.since(["#a"], idOf(total - 3), 100);
    expect([ids(within.messages), within.gap]).toEqual([[total - 2, total - 1].map(idOf), false]);
    await store.close();
  });

  test("appends one at a time keep a log near keep, newest kept", async () => {
    const store = await open();
    const keep = 20;
    for (let i = 0; i < 60; i++) await store.append([entry("#a", idOf(i))], keep);
    const kept = ids(await whole(store, "#a"));
    expect(kept.length).toBeGreaterThanOrEqual(keep);
    expect(kept.length).toBeLessThanOrEqual(keep + trimSlack(keep));
    expect(kept).toEqual(Array.from({ length: 60 }, (_, i) => idOf(i)).slice(60 - kept.length));
    await store.close();
  });

  test("long ids appended in batches: a page before, and since, any id", async () => {
    const store = await open();
    const batches = relayIds(12, 7);
    for (const batch of batches)
      await store.append(
        batch.map((id) => entry("#r", id)),
        10_000,
      );
    const all = batches.flat();
    expect([...all].sort()).toEqual(all);
    expect(ids(await whole(store, "#r"))).toEqual(all);
    // Every 5th id, and ids just before and after them that are not in the log.
    const probes = all
      .filter((_, i) => i % 5 === 0)
      .flatMap((id) => [id, `${id}-`, id.slice(0, -1)]);
    for (const probe of [...probes, "", "~"]) {
      for (const limit of [0, 1, 7, 100]) {
        const page = await store.page("#r", probe, limit);
        const model = before(all, probe);
        expect([ids(page.messages), page.more]).toEqual([
          model.slice(Math.max(0, model.length - limit)),
          model.length > limit,
        ]);
      }
      for (const max of [0, 1, 7, 1000]) {
        const got = await store.since(["#r", "#none"], probe, max);
        const model = after(all, probe);
        expect([ids(got.messages), got.gap]).toEqual([
          model.slice(Math.max(0, model.length - max)),
          model.length > max,
        ]);
      }
    }
    await store.close();
  });

  test("long ids: trims keep the newest, as a suffix, and since tells what was trimmed", async () => {
    const store = await open();
    const keep = 30;
    const all: string[] = [];
    for (const batch of relayIds(40, 11, 25)) {
      await store.append(
        batch.map((id) => entry("#r", id)),
        keep,
      );
      all.push(...batch);
      const kept = ids(await whole(store, "#r"));
      expect(kept.length).toBeGreaterThanOrEqual(Math.min(keep, all.length));
      expect(kept.length).toBeLessThanOrEqual(keep + trimSlack(keep));
      expect(kept).toEqual(all.slice(all.length - kept.length));
      const trimmed = all.slice(0, all.length - kept.length);
      for (const probe of [all[0] as string, ...trimmed.slice(-2), kept[0] as string]) {
        const got = await store.since(["#r"], probe, 1000);
        expect(got.gap).toBe(trimmed.some((id) => id > probe));
        expect(ids(got.messages)).toEqual(after(kept, probe));
      }
    }
    await store.close();
  });

  test("long ids appended again or late: kept once, in order, and trimmed like the others", async () => {
    const store = await open();
    const [first = [], second = [], third = []] = relayIds(3, 5, 30, 10);
    await store.append(
      first.map((id) => entry("#r", id)),
      1000,
    );
    await store.append(
      second.map((id) => entry("#r", id)),
      1000,
    );
    // Late: made by another node at the time of the middle of the first batch.
    const late = new MessageIds("n0").next(
      Number.parseInt((first[Math.floor(first.length / 2)] as string).slice(0, 9), 36),
    );
    const again = [...first.slice(0, 3), ...second.slice(-2)];
    await store.append(
      [...again, late, ...third, ...third.slice(0, 1)].map((id) => entry("#r", id, `again ${id}`)),
      1000,
    );
    const all = [...new Set([...first, ...second, late, ...third])].sort();
    expect(ids(await whole(store, "#r"))).toEqual(all);
    const page = await store.page("#r", third[0], 5);
    expect(ids(page.messages)).toEqual(before(all, third[0] as string).slice(-5));
    const since = await store.since(["#r"], first[1] as string, 1000);
    expect(ids(since.messages)).toEqual(after(all, first[1] as string));
    // Trimmed to 10 (or a little more), the newest.
    await store.append([entry("#r", `${third.at(-1)}z`)], 10);
    const kept = ids(await whole(store, "#r"));
    expect(kept.length).toBeGreaterThanOrEqual(10);
    expect(kept.length).toBeLessThanOrEqual(10 + trimSlack(10));
    expect(kept).toEqual([...all, `${third.at(-1)}z`].slice(-kept.length));
    await store.close();
  });

  test("appending a message id twice keeps it once", async () => {
    const store = await open();
    await store.append([entry("#a", "a", "first")], 10);
    await store.append([entry("#a", "a", "again"), entry("#a", "b"), entry("#a", "b")], 10);
    expect(ids(await whole(store, "#a"))).toEqual(["a", "b"]);
    expect((await store.since(["#a"], "", 10)).messages).toHaveLength(2);
    await store.append([entry("#a", "c"), entry("#a", "c"), entry("#a", "b")], 2);
    expect(ids(await whole(store, "#a"))).toEqual(["b", "c"]);
    await store.close();
  });

  test("a batch of 1500 messages (1.5 MB) in one append is kept whole", async () => {
    const store = await open();
    const text = "x".repeat(1000);
    const entries: LogEntry[] = Array.from({ length: 1500 }, (_, i) => {
      if (i % 3 === 0) return entry("#big", idOf(i), text);
      if (i % 3 === 1) return entry("*", idOf(i), text);
      const users: [string, string] = [`u${i % 50}`, "alice"];
      return { ...entry(`@alice|u${i % 50}`, idOf(i), text), users };
    });
    await store.append(entries, 2000);
    expect(await whole(store, "#big")).toHaveLength(500);
    const all = await store.since(
      ["#big", "*", ...Array.from({ length: 50 }, (_, i) => `@alice|u${i}`)],
      "",
      2000,
    );
    expect(all.gap).toBe(false);
    expect(ids(all.messages)).toEqual(entries.map((e) => e.message.id));
    expect(all.messages.every((m) => m.text === text)).toBe(true);
    expect(await store.conversations("alice")).toHaveLength(50);
    await store.close();
  });

  test("a private message records its conversation for both users", async () => {
    const store = await open();
    await store.append(
      [
        { ...entry("@alice|bob", "1"), users: ["alice", "bob"] },
        { ...entry("@alice|carol", "2"), users: ["carol", "alice"] },
        entry("#room", "3"),
      ],
      10,
    );
    await store.append([{ ...entry("@alice|bob", "4"), users: ["bob", "alice"] }], 10);
    expect((await store.conversations("alice")).sort()).toEqual(["@alice|bob", "@alice|carol"]);
    expect(await store.conversations("bob")).toEqual(["@alice|bob"]);
    expect(await store.conversations("carol")).toEqual(["@alice|carol"]);
    expect(await store.conversations("dave")).toEqual([]);
    await store.close();
  });

  test("a room is listed while it has members; the last leave removes it", async () => {
    const store = await open();
    const sorted = async () =>
      (await store.memberships())
        .map((m) => ({ room: m.room, members: [...m.members].sort() }))
        .sort((a, b) => (a.room < b.room ? -1 : 1));
    expect(await store.memberships()).toEqual([]);
    await store.join({ key: "#dev", name: "#Dev" }, { key: "alice", name: "Alice" });
    await store.join({ key: "#dev", name: "#Dev" }, { key: "bob", name: "Bob" });
    await store.join({ key: "#dev", name: "#Dev" }, { key: "bob", name: "Bob" });
    await store.join({ key: "#ops", name: "#ops" }, { key: "alice", name: "Alice" });
    expect(await sorted()).toEqual([
      { room: "#Dev", members: ["Alice", "Bob"] },
      { room: "#ops", members: ["Alice"] },
    ]);
    await store.leave("#dev", "alice");
    await store.leave("#dev", "carol");
    await store.leave("#nowhere", "alice");
    expect(await sorted()).toEqual([
      { room: "#Dev", members: ["Bob"] },
      { room: "#ops", members: ["Alice"] },
    ]);
    await store.leave("#dev", "bob");
    expect(await sorted()).toEqual([{ room: "#ops", members: ["Alice"] }]);
    // A room made again is a new room: its name is the new one.
    await store.join({ key: "#dev", name: "#DEV" }, { key: "carol", name: "Carol" });
    expect(await sorted()).toEqual([
      { room: "#DEV", members: ["Carol"] },
      { room: "#ops", members: ["Alice"] },
    ]);
    await store.leave("#ops", "alice");
    await store.leave("#dev", "carol");
    expect(await store.memberships()).toEqual([]);
    await store.close();
  });

  test("a session gives its name key until dropped", async () => {
    const store = await open();
    expect(await store.useSession("unknown", 60_000)).toBeNull();
    await store.saveSession("h1", "alice", 60_000);
    await store.saveSession("h2", "bob", 60_000);
    expect(await store.useSession("h1", 60_000)).toBe("alice");
    expect(await store.useSession("h1", 60_000)).toBe("alice");
    await store.dropSession("h1");
    await store.dropSession("never");
    expect(await store.useSession("h1", 60_000)).toBeNull();
    expect(await store.useSession("h2", 60_000)).toBe("bob");
    await store.close();
  });

  test("a session expires after its ttl, and each use renews it", async () => {
    const store = await open();
    await store.saveSession("short", "alice", 50);
    await store.saveSession("renewed", "bob", 300);
    await sleep(200);
    expect(await store.useSession("short", 60_000)).toBeNull();
    // Renewed at 200 ms for 300 ms more: alive past its first 300 ms.
    expect(await store.useSession("renewed", 300)).toBe("bob");
    await sleep(200);
    expect(await store.useSession("renewed", 50)).toBe("bob");
    await sleep(150);
    expect(await store.useSession("renewed", 60_000)).toBeNull();
    await store.close();
  });
}
