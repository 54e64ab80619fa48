import type { ChatMessage, HoldResult } from "../../core/mod.ts";
import { evalScript, type RedisLike } from "../redis.ts";
import type { PasswordRecord, Store } from "./store.ts";

// Key layout (prefix `relay:` unless told otherwise):
//   name:{key}       the name as first written: the name logged in once
//   account:{key}    its password record, as JSON
//   held:{key}       a hash of the messages held for it, by id (ids sort in accepted order)
//   held_count       how many messages are held in all

const HOLD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'no_such_user' end
if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[1]) then return 'queue_full' end
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3]) == 1 then redis.call('INCR', KEYS[3]) end
return 'held'`;

const DROP = `
local n = redis.call('HDEL', KEYS[1], unpack(ARGV))
if n > 0 then redis.call('DECRBY', KEYS[2], n) end
return n`;

/**
 * The store on Redis, shared by every node of a cluster. Each check-and-write runs as one
 * Lua script, so nodes racing for a name, an account or a queue cannot both win.
 *
 * @example
 * const store = new RedisStore(new Redis("redis://127.0.0.1:6379")); // ioredis
 */
export class RedisStore implements Store {
  readonly #redis: RedisLike;
  readonly #prefix: string;
  readonly #close: () => Promise<void>;

  /** `close` lets go of the client; `prefix` keeps several relays apart on one server. */
  constructor(redis: RedisLike, options: { prefix?: string; close?: () => Promise<void> } = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? "relay:";
    this.#close = options.close ?? (async () => {});
  }

  async account(key: string): Promise<PasswordRecord | null> {
    const json = await this.#redis.call("GET", this.#key("account", key));
    return typeof json === "string" ? (JSON.parse(json) as PasswordRecord) : null;
  }

  async register(key: string, record: PasswordRecord): Promise<boolean> {
    const set = this.#redis.call("SET", this.#key("account", key), JSON.stringify(record), "NX");
    return (await set) === "OK";
  }

  async remember(key: string, name: string): Promise<string> {
    const k = this.#key("name", key);
    await this.#redis.call("SET", k, name, "NX");
    const first = await this.#redis.call("GET", k);
    return typeof first === "string" ? first : name;
  }

  async known(key: string): Promise<boolean> {
    return (await this.#redis.call("EXISTS", this.#key("name", key))) === 1;
  }

  async hold(key: string, message: ChatMessage, max: number): Promise<HoldResult> {
    const name = await this.#redis.call("GET", this.#key("name", key));
    if (typeof name !== "string") return "no_such_user";
    const json = JSON.stringify({ ...message, to: name });
    const keys = [this.#key("name", key), this.#key("held", key), `${this.#prefix}held_count`];
    return (await evalScript(this.#redis, HOLD, keys, [max, message.id, json])) as HoldResult;
  }

  async held(key: string): Promise<ChatMessage[]> {
    const flat = (await this.#redis.call("HGETALL", this.#key("held", key))) as string[];
    const byId: [string, string][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2)
      byId.push([flat[i] as string, flat[i + 1] as string]);
    byId.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return byId.map(([, json]) => JSON.parse(json) as ChatMessage);
  }

  async drop(key: string, ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += BATCH) {
      const keys = [this.#key("held", key), `${this.#prefix}held_count`];
      await evalScript(this.#redis, DROP, keys, ids.slice(i, i + BATCH));
    }
  }

  async heldCount(): Promise<number> {
    return Number((await this.#redis.call("GET", `${this.#prefix}held_count`)) ?? 0);
  }

  close(): Promise<void> {
    return this.#close();
  }

  #key(kind: string, key: string): string {
    return `${this.#prefix}${kind}:${key}`;
  }
}

/** Ids per script call: well inside Lua's limit on unpacked arguments. */
const BATCH = 500;
