import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { RedisStore } from "../../src/host/store/redis.ts";
import { storeContract } from "../host/store-contract.ts";
import { type RedisServer, startRedis } from "../support/redis.ts";

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

let run = 0;
describe("the Redis store (a real redis-server)", () => {
  // Each test gets keys of its own on the one server.
  storeContract(async () => new RedisStore(redis.client(), { prefix: `t${++run}:` }));

  test("another store on the same server and prefix sees the log, rooms and sessions", async () => {
    const message = {
      type: "message",
      id: "0001",
      from: "alice",
      to: "bob",
      text: "hi",
      ts: "2026-01-01T00:00:00.000Z",
    } as const;
    const first = new RedisStore(redis.client(), { prefix: "shared:" });
    await first.append([{ conv: "@alice|bob", message, users: ["alice", "bob"] }], 10);
    await first.join({ key: "#dev", name: "#Dev" }, { key: "alice", name: "Alice" });
    await first.saveSession("hash", "alice", 60_000);
    const second = new RedisStore(redis.client(), { prefix: "shared:" });
    expect((await second.page("@alice|bob", undefined, 10)).messages).toEqual([message]);
    expect(await second.conversations("bob")).toEqual(["@alice|bob"]);
    expect(await second.memberships()).toEqual([{ room: "#Dev", members: ["Alice"] }]);
    expect(await second.useSession("hash", 60_000)).toBe("alice");
    const other = new RedisStore(redis.client(), { prefix: "other:" });
    expect(await other.memberships()).toEqual([]);
  });

  test("one append is one round trip to Redis", async () => {
    const client = redis.client();
    const calls: string[] = [];
    const counting = {
      call: (command: string, ...args: (string | number)[]) => {
        calls.push(command);
        return client.call(command, ...args);
      },
    };
    const store = new RedisStore(counting, { prefix: "trips:" });
    const entries = Array.from({ length: 300 }, (_, i) => ({
      conv: i % 2 ? "#a" : "@alice|bob",
      message: {
        type: "message" as const,
        id: String(i).padStart(4, "0"),
        from: "alice",
        to: "bob",
        text: "hi",
        ts: "2026-01-01T00:00:00.000Z",
      },
      ...(i % 2 ? {} : { users: ["alice", "bob"] as [string, string] }),
    }));
    await store.append(entries, 100);
    expect(calls).toEqual(["EVAL"]);
    expect((await store.page("#a", undefined, 1000)).messages).toHaveLength(100);
  });
});
