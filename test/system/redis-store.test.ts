import { afterAll, beforeAll, describe } from "vitest";
import { RedisStore } from "../../src/host/mod.ts";
import { storeContract } from "../host/store-contract.ts";
import { type RedisServer, startRedis } from "../support/redis.ts";

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

let run = 0;
describe("the Redis store (a real redis-server)", () =>
  // Each test gets keys of its own on the one server.
  storeContract(async () => new RedisStore(redis.client(), { prefix: `t${++run}:` })));
