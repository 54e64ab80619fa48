import { evalScript, type RedisLike, type RedisSubscriber } from "../redis.ts";
import type { Bus, BusMessage } from "./bus.ts";
import { decodeBusMessage } from "./wire.ts";

// Keys and channels (prefix `relay:` unless told otherwise):
//   node:{node}      exists while the node is alive: set with an expiry the node renews
//   lease:{key}      the node that holds a name; the lease holds while that node's key exists
//   channel bus      events for every node
//   channel to:{node} events for one node

const CLAIM = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] and ARGV[2] == '0'
  and redis.call('EXISTS', ARGV[3] .. holder) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1`;

const HELD_ELSEWHERE = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. holder) == 1 then return 1 end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

/**
 * The bus on Redis: pub/sub carries the events (one connection publishes, so each node's
 * events arrive in the order it sent them), and leases on names are Lua scripts over keys
 * that point at their node, whose own key expires unless the node renews it.
 *
 * @example
 * const bus = new RedisBus(new Redis(url), new Redis(url), { node: nodeName() }); // ioredis
 */
export class RedisBus implements Bus {
  readonly node: string;
  readonly clustered = true;
  readonly #redis: RedisLike;
  readonly #subscriber: RedisSubscriber;
  readonly #prefix: string;
  readonly #close: () => Promise<void>;
  readonly #log: (line: string) => void;
  #stopped = false;

  /** `redis` for commands and `subscriber` for pub/sub must be two connections. */
  constructor(
    redis: RedisLike,
    subscriber: RedisSubscriber,
    options: {
      node: string;
      prefix?: string;
      close?: () => Promise<void>;
      log?: (line: string) => void;
    },
  ) {
    this.#redis = redis;
    this.#subscriber = subscriber;
    this.node = options.node;
    this.#prefix = options.prefix ?? "relay:";
    this.#close = options.close ?? (async () => {});
    this.#log = options.log ?? ((line) => console.error(line));
  }

  async start(
    receive: (message: BusMessage) => void,
    reconnected: () => void,
    lost: () => void = () => {},
  ): Promise<void> {
    const mine = new Set([`${this.#prefix}bus`, `${this.#prefix}to:${this.node}`]);
    this.#subscriber.on("close", () => !this.#stopped && lost());
    this.#subscriber.on("ready", () => {
      // Once subscribed again (the client does it too; twice is harmless), catch up.
      this.#subscriber.subscribe(...mine).then(
        () => !this.#stopped && reconnected(),
        (e: unknown) => this.#log(`relay: subscribe failed: ${e instanceof Error ? e.message : e}`),
      );
    });
    this.#subscriber.on("message", (channel, data) => {
      if (this.#stopped || !mine.has(channel)) return;
      const message = decodeBusMessage(data);
      if (message === null) this.#log(`relay: not a bus message on ${channel}`);
      else if (message.node !== this.node) receive(message);
    });
    await this.#subscriber.subscribe(...mine);
  }

  async publish(message: BusMessage, node?: string): Promise<boolean> {
    const channel = node === undefined ? `${this.#prefix}bus` : `${this.#prefix}to:${node}`;
    try {
      // PUBLISH answers how many subscribers got it: none means the node is gone.
      return (await this.#redis.call("PUBLISH", channel, JSON.stringify(message))) !== 0;
    } catch (e) {
      this.#log(`relay: publish failed: ${e instanceof Error ? e.message : e}`);
      return false;
    }
  }

  async claim(key: string, force: boolean): Promise<boolean> {
    const args = [this.node, force ? "1" : "0", `${this.#prefix}node:`];
    return (await evalScript(this.#redis, CLAIM, [`${this.#prefix}lease:${key}`], args)) === 1;
  }

  async peers(): Promise<number> {
    const reply = await this.#redis.call("PUBSUB", "NUMSUB", `${this.#prefix}bus`);
    const count = Array.isArray(reply) ? Number(reply[1]) : 0;
    return Math.max(0, count - 1);
  }

  async heldElsewhere(key: string): Promise<boolean> {
    const keys = [`${this.#prefix}lease:${key}`];
    const args = [this.node, `${this.#prefix}node:`];
    return (await evalScript(this.#redis, HELD_ELSEWHERE, keys, args)) === 1;
  }

  async release(key: string): Promise<void> {
    await evalScript(this.#redis, RELEASE, [`${this.#prefix}lease:${key}`], [this.node]);
  }

  async renew(ms: number): Promise<void> {
    await this.#redis.call("SET", `${this.#prefix}node:${this.node}`, "1", "PX", ms);
  }

  async close(): Promise<void> {
    this.#stopped = true;
    // Not awaited: if Redis is away, the node's key expires by itself; `close` gives up
    // on what Redis has not answered in time.
    this.#redis.call("DEL", `${this.#prefix}node:${this.node}`).catch(() => {});
    await this.#close();
  }
}
