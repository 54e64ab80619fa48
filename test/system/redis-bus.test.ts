import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BusMessage, RedisBus } from "../../src/host/mod.ts";
import { type RedisServer, startRedis } from "../support/redis.ts";

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

let run = 0;
/** Two nodes' buses on the real redis-server, with keys and channels of this test's own. */
function pair(): [RedisBus, RedisBus] {
  const prefix = `t${++run}:`;
  const bus = (node: string) => new RedisBus(redis.client(), redis.client(), { node, prefix });
  return [bus("a"), bus("b")];
}

describe("the Redis bus (a real redis-server)", () => {
  test("a name is held by one live node; force takes it; release is the holder's", async () => {
    const [a, b] = pair();
    await a.renew(10_000);
    await b.renew(10_000);
    expect(await a.claim("x", false)).toBe(true);
    expect(await a.claim("x", false)).toBe(true); // again: it is a's already
    expect(await b.claim("x", false)).toBe(false);
    expect([await a.heldElsewhere("x"), await b.heldElsewhere("x")]).toEqual([false, true]);
    expect(await b.claim("x", true)).toBe(true);
    await a.release("x"); // not a's any more: nothing happens
    expect([await a.heldElsewhere("x"), await b.heldElsewhere("x")]).toEqual([true, false]);
    await b.release("x");
    expect(await a.heldElsewhere("x")).toBe(false);
  });

  test("a node that stops renewing lets go of its names when its lease runs out", async () => {
    const [a, b] = pair();
    await a.renew(300);
    await b.renew(10_000);
    expect(await a.claim("y", false)).toBe(true);
    expect(await b.claim("y", false)).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect(await b.heldElsewhere("y")).toBe(false);
    expect(await b.claim("y", false)).toBe(true);
  });

  test("messages reach the other nodes, or the one named; a node never hears itself", async () => {
    const [a, b] = pair();
    const heard: [string, BusMessage][] = [];
    await a.start(
      (m) => heard.push(["a", m]),
      () => {},
    );
    await b.start(
      (m) => heard.push(["b", m]),
      () => {},
    );
    expect(await a.peers()).toBe(1);
    expect(await a.publish({ kind: "alive", node: "a" })).toBe(true);
    expect(await a.publish({ kind: "hello", node: "a" }, "b")).toBe(true);
    // Nobody listens for a node that is gone: the caller learns it.
    expect(await a.publish({ kind: "hello", node: "a" }, "gone")).toBe(false);
    for (let i = 0; i < 100 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 50));
    expect(heard).toEqual([
      ["b", { kind: "alive", node: "a" }],
      ["b", { kind: "hello", node: "a" }],
    ]);
  });
});
