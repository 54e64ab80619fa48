import type { ChatMessage, HoldResult } from "../../core/mod.ts";
import { evalScript, type RedisLike } from "../redis.ts";
import { newestOf, trimmedAfter } from "./log.ts";
import type { LogEntry, LogPage, Membership, PasswordRecord, Store } from "./store.ts";

// Key layout (prefix `relay:` unless told otherwise):
//   name:{key}       the name as first written: the name logged in once
//   account:{key}    its password record, as JSON
//   held:{key}       a hash of the messages held for it, by id (ids sort in accepted order)
//   held_count       how many messages are held in all
//   log:{conv}       a conversation's log: a sorted set, every score 0, members
//                    `${id}\0${json}`, so that lex order is id order (ids are ASCII)
//   trimmed:{conv}   the newest id trimmed away from that log, once any was
//   convs:{key}      a set of the private conversations a user had
//   rooms            a hash: room key -> the room's name as shown, while it has members
//   room:{room}      a hash: member's key -> the member's name as shown
//   session:{hash}   a session's name key, set to expire
//   failures:{key}   a list of the times (ms, the server's clock) of a name's newest failed
//                    logins, oldest first, set to expire when the last leaves its window

const HOLD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'no_such_user' end
if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[1]) then return 'queue_full' end
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3]) == 1 then redis.call('INCR', KEYS[3]) end
return 'held'`;

const DROP = `
local n = redis.call('HDEL', KEYS[1], unpack(ARGV))
if n > 0 then redis.call('DECRBY', KEYS[2], n) end
return n`;

// KEYS: each log followed by its "trimmed up to" marker, then the users' conversation sets.
// ARGV: keep, how many entries, then per entry the index of its log in KEYS, its id and its
// member, then per user record the index of the user's set in KEYS and the conversation. A
// member whose id is in the log already is not added again, whatever its JSON. Trimming a
// log sets its marker to the newest id trimmed away, unless the marker is later already:
// ids are compared byte by byte (Lua's own string order follows the server's locale).
const APPEND = `
local function later(a, b)
  for k = 1, math.min(#a, #b) do
    local x, y = string.byte(a, k), string.byte(b, k)
    if x ~= y then return x > y end
  end
  return #a > #b
end
local keep = tonumber(ARGV[1])
local entries = tonumber(ARGV[2])
local touched = {}
local i = 3
for _ = 1, entries do
  local at = tonumber(ARGV[i])
  local log = KEYS[at]
  local id = ARGV[i + 1]
  if redis.call('ZLEXCOUNT', log, '[' .. id .. '\\0', '(' .. id .. '\\1') == 0 then
    redis.call('ZADD', log, 0, ARGV[i + 2])
  end
  touched[at] = true
  i = i + 3
end
while i <= #ARGV do
  redis.call('SADD', KEYS[tonumber(ARGV[i])], ARGV[i + 1])
  i = i + 2
end
for at in pairs(touched) do
  local log = KEYS[at]
  local gone = redis.call('ZCARD', log) - keep
  if gone > 0 then
    local last = redis.call('ZRANGE', log, gone - 1, gone - 1)[1]
    local id = string.sub(last, 1, string.find(last, '\\0', 1, true) - 1)
    local marker = redis.call('GET', KEYS[at + 1])
    if not marker or later(id, marker) then redis.call('SET', KEYS[at + 1], id) end
    redis.call('ZREMRANGEBYRANK', log, 0, gone - 1)
  end
end`;

// KEYS: account:{key}. ARGV: the current record's salt, hash and rounds, the new record.
const REHASH = `
local json = redis.call('GET', KEYS[1])
if not json then return 0 end
local record = cjson.decode(json)
if record.salt ~= ARGV[1] or record.hash ~= ARGV[2]
  or tonumber(record.iterations) ~= tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[1], ARGV[4])
return 1`;

// The server's clock, in ms: one clock for every node that counts failures.
const NOW_MS = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)`;

// KEYS: failures:{key}. ARGV: window (ms), how many to keep.
const FAIL = `${NOW_MS}
local window = tonumber(ARGV[1])
while true do
  local oldest = redis.call('LINDEX', KEYS[1], 0)
  if not oldest or tonumber(oldest) > now - window then break end
  redis.call('LPOP', KEYS[1])
end
redis.call('RPUSH', KEYS[1], string.format('%d', now))
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[1], window)`;

// KEYS: failures:{key}. ARGV: window (ms). Returns, oldest first, the ms each has left.
const FAILURES = `${NOW_MS}
local window = tonumber(ARGV[1])
local left = {}
for _, t in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local ms = tonumber(t) + window - now
  if ms > 0 then left[#left + 1] = ms end
end
return left`;

// KEYS: rooms, room:{room}. ARGV: room key, room name, user key, user name.
const JOIN = `
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])`;

// KEYS: rooms, room:{room}. ARGV: room key, user key.
const LEAVE = `
redis.call('HDEL', KEYS[2], ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end`;

/** Log entries per script call: each is three arguments, and the script blocks Redis. */
const APPEND_BATCH = 5000;

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

  async rehash(key: string, current: PasswordRecord, next: PasswordRecord): Promise<boolean> {
    const args = [current.salt, current.hash, current.iterations, JSON.stringify(next)];
    return (await evalScript(this.#redis, REHASH, [this.#key("account", key)], args)) === 1;
  }

  async fail(key: string, windowMs: number, keep: number): Promise<void> {
    const args = [millis(windowMs), Math.max(1, keep)];
    await evalScript(this.#redis, FAIL, [this.#key("failures", key)], args);
  }

  async failures(key: string, windowMs: number): Promise<number[]> {
    const left = await evalScript(
      this.#redis,
      FAILURES,
      [this.#key("failures", key)],
      [millis(windowMs)],
    );
    return (left as number[]).map(Number);
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

  async append(entries: LogEntry[], keep: number): Promise<void> {
    // One script call (one round trip, one atomic step) for a whole turn's messages.
    for (let i = 0; i < entries.length; i += APPEND_BATCH) {
      await this.#append(entries.slice(i, i + APPEND_BATCH), keep);
    }
  }

  async page(conv: string, before: string | undefined, limit: number): Promise<LogPage> {
    const n = Math.max(0, limit);
    // Every member of an id before `before` sorts before `before` itself, and none is it.
    const end = before === undefined ? "+" : `(${before}`;
    const newest = await this.#newest(conv, end, "-", n + 1);
    return { messages: newest.slice(0, n).reverse(), more: newest.length > n };
  }

  async since(
    convs: string[],
    since: string,
    max: number,
  ): Promise<{ messages: ChatMessage[]; gap: boolean }> {
    const n = Math.max(0, max);
    // The members of the id `since` itself sort between `${since}\0` and `${since}\1`;
    // those of later ids after both. The calls go out together (the client pipelines them).
    // Each log's "trimmed up to" marker is read along with it.
    const start = `(${since}\u0001`;
    const unique = [...new Set(convs)];
    const [tails, trimmed] = await Promise.all([
      Promise.all(unique.map((conv) => this.#newest(conv, "+", start, n + 1))),
      Promise.all(unique.map((conv) => this.#redis.call("GET", this.#key("trimmed", conv)))),
    ]);
    return newestOf(tails, n, trimmedAfter(trimmed as (string | null)[], since));
  }

  async conversations(key: string): Promise<string[]> {
    return (await this.#redis.call("SMEMBERS", this.#key("convs", key))) as string[];
  }

  async join(
    room: { key: string; name: string },
    user: { key: string; name: string },
  ): Promise<void> {
    const keys = [`${this.#prefix}rooms`, this.#key("room", room.key)];
    await evalScript(this.#redis, JOIN, keys, [room.key, room.name, user.key, user.name]);
  }

  async leave(roomKey: string, userKey: string): Promise<void> {
    const keys = [`${this.#prefix}rooms`, this.#key("room", roomKey)];
    await evalScript(this.#redis, LEAVE, keys, [roomKey, userKey]);
  }

  async memberships(): Promise<Membership[]> {
    const rooms = pairs(await this.#redis.call("HGETALL", `${this.#prefix}rooms`));
    const members = await Promise.all(
      rooms.map(([key]) => this.#redis.call("HVALS", this.#key("room", key))),
    );
    return rooms
      .map(([, room], i) => ({ room, members: members[i] as string[] }))
      .filter((m) => m.members.length > 0);
  }

  async saveSession(hash: string, key: string, ttlMs: number): Promise<void> {
    await this.#redis.call("SET", this.#key("session", hash), key, "PX", millis(ttlMs));
  }

  async useSession(hash: string, ttlMs: number): Promise<string | null> {
    const key = await this.#redis.call("GETEX", this.#key("session", hash), "PX", millis(ttlMs));
    return typeof key === "string" ? key : null;
  }

  async dropSession(hash: string): Promise<void> {
    await this.#redis.call("DEL", this.#key("session", hash));
  }

  close(): Promise<void> {
    return this.#close();
  }

  async #append(entries: LogEntry[], keep: number): Promise<void> {
    const keys: string[] = [];
    const index = new Map<string, number>();
    // `after`: a key that the script expects right after this one (a log's marker).
    const keyIndex = (key: string, after?: string): number => {
      let i = index.get(key);
      if (i === undefined) {
        i = keys.push(key);
        index.set(key, i);
        if (after !== undefined) keys.push(after);
      }
      return i;
    };
    const args: (string | number)[] = [Math.max(0, keep), entries.length];
    for (const { conv, message } of entries) {
      const log = keyIndex(this.#key("log", conv), this.#key("trimmed", conv));
      args.push(log, message.id, member(message));
    }
    const records = new Set<string>();
    for (const { conv, users } of entries) {
      for (const user of users ?? []) {
        const record = `${user}\u0000${conv}`;
        if (records.has(record)) continue;
        records.add(record);
        args.push(keyIndex(this.#key("convs", user)), conv);
      }
    }
    await evalScript(this.#redis, APPEND, keys, args);
  }

  /** The newest `count` messages of a log between two lex bounds, newest first. */
  async #newest(conv: string, max: string, min: string, count: number): Promise<ChatMessage[]> {
    const key = this.#key("log", conv);
    const found = await this.#redis.call("ZREVRANGEBYLEX", key, max, min, "LIMIT", 0, count);
    return (found as string[]).map(
      (m) => JSON.parse(m.slice(m.indexOf("\u0000") + 1)) as ChatMessage,
    );
  }

  #key(kind: string, key: string): string {
    return `${this.#prefix}${kind}:${key}`;
  }
}

/** Ids per script call: well inside Lua's limit on unpacked arguments. */
const BATCH = 500;

/** A message as a member of a log's sorted set: its id first, so that lex order is id order. */
function member(message: ChatMessage): string {
  return `${message.id}\u0000${JSON.stringify(message)}`;
}

/** A whole number of milliseconds Redis accepts as an expiry. */
function millis(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}

/** A flat reply of field, value, field, value... as pairs. */
function pairs(flat: unknown): [string, string][] {
  const list = flat as string[];
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < list.length; i += 2) out.push([list[i] as string, list[i + 1] as string]);
  return out;
}
