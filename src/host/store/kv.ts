import type { ChatMessage, HoldResult } from "../../core/mod.ts";
import { RetryWhenBusy } from "./kv-busy.ts";
import type { KvLike, KvListSelector } from "./kv-like.ts";
import { KvLog } from "./kv-log.ts";
import { trimEvery } from "./kv-trims.ts";
import type { LogEntry, LogPage, Membership, PasswordRecord, Store } from "./store.ts";

export { isBusy, RetryWhenBusy } from "./kv-busy.ts";
export type { AtomicLike, KvKey, KvKeyPart, KvLike, KvListSelector } from "./kv-like.ts";

// Key layout:
//   ["name", key]           the name as first written: the name logged in here once
//   ["account", key]        its password record
//   ["held", key, id]       a message held for it; ids sort in the order they were accepted
//   ["held_count", key]     how many are held for it (the cap is checked against this)
//   ["log", conv, id]       a chunk of a conversation's log: bytes (see `chunkValue`), `id`
//                           the newest id in it; ids sort in accepted order. A message
//                           object there is a chunk of one, as written before chunks
//   ["log", conv, id, 0]    a chunk of one, appended again or late (see `KvLog.append`)
//   ["trimmed", conv]       the newest id trimmed away from that log, once any was
//   ["conv", key, conv]     true: the user had this private conversation
//   ["room", room]          a room's name as shown, while it has members
//   ["member", room, key]   a member's name as shown
//   ["session", hash]       { key, expires }: a session (set to expire, but expiry is lazy)
//   ["failures", key]       { times, expires }: the times (ms) of a name's newest failed
//                           logins, oldest first, until the last has left its window

/** Deletions per atomic commit, well inside Deno KV's limits. */
const BATCH = 100;

/** A name's failed logins as kept: their times, oldest first, and when they are forgotten. */
interface Failures {
  times: number[];
  expires: number;
}

/** A session as kept: the name key, and when it ends (ms since the epoch). */
interface Session {
  key: string;
  expires: number;
}

/**
 * The store on the Deno KV API: a local file (or `:memory:`) through SQLite, or the global
 * KV on Deno Deploy. Races for a name, an account or a queue are settled by atomic commits
 * that check what they read; a commit that finds the file busy (another process or isolate
 * writing it) is tried again (see `RetryWhenBusy`).
 *
 * @example
 * const store = new KvStore(await openKv("./data/relay.kv")); // Deno's, or @deno/kv's
 */
export class KvStore implements Store {
  readonly #kv: KvLike;
  readonly #log: KvLog;

  /**
   * How many messages past `keep` a log may hold for each store appending to it, once its
   * trims are done (reads wait for them): a store trims a log after its first append to it
   * and then every `trimEvery(keep)` messages it appended there. So a log holds at most
   * `keep + n * (trimEvery(keep) - 1)` messages, with `n` stores (processes, isolates)
   * appending to it at once.
   */
  static trimEvery(keep: number): number {
    return trimEvery(keep);
  }

  constructor(kv: KvLike) {
    // Its commits are tried again while another connection to the same file holds it.
    this.#kv = new RetryWhenBusy(kv);
    this.#log = new KvLog(this.#kv);
  }

  async account(key: string): Promise<PasswordRecord | null> {
    return (await this.#kv.get<PasswordRecord>(["account", key])).value;
  }

  async register(key: string, record: PasswordRecord): Promise<boolean> {
    const result = await this.#kv
      .atomic()
      .check({ key: ["account", key], versionstamp: null })
      .set(["account", key], record)
      .commit();
    return result.ok;
  }

  async rehash(key: string, current: PasswordRecord, next: PasswordRecord): Promise<boolean> {
    const entry = await this.#kv.get<PasswordRecord>(["account", key]);
    const record = entry.value;
    if (record === null) return false;
    const same =
      record.salt === current.salt &&
      record.hash === current.hash &&
      record.iterations === current.iterations;
    if (!same) return false;
    const result = await this.#kv
      .atomic()
      .check({ key: ["account", key], versionstamp: entry.versionstamp })
      .set(["account", key], next)
      .commit();
    return result.ok;
  }

  async fail(key: string, windowMs: number, keep: number): Promise<void> {
    const max = Math.max(1, keep);
    const expireIn = Math.max(1, Math.ceil(windowMs));
    // Checked, so that failures counted at once by several nodes are all kept.
    for (;;) {
      const entry = await this.#kv.get<Failures>(["failures", key]);
      const now = Date.now();
      const earlier = entry.value && entry.value.expires > now ? entry.value.times : [];
      const times = earlier.filter((t) => t > now - windowMs);
      times.push(now);
      const failures: Failures = { times: times.slice(-max), expires: now + windowMs };
      const result = await this.#kv
        .atomic()
        .check({ key: ["failures", key], versionstamp: entry.versionstamp })
        .set(["failures", key], failures, { expireIn })
        .commit();
      if (result.ok) return;
    }
  }

  async failures(key: string, windowMs: number): Promise<number[]> {
    const failures = (await this.#kv.get<Failures>(["failures", key])).value;
    const now = Date.now();
    // Deno KV may show a key for a while after it expired: the value says when it ends.
    if (failures === null || failures.expires <= now) return [];
    return failures.times.filter((t) => t + windowMs > now).map((t) => t + windowMs - now);
  }

  async remember(key: string, name: string): Promise<string> {
    for (;;) {
      const entry = await this.#kv.get<string>(["name", key]);
      if (entry.value !== null) return entry.value;
      const result = await this.#kv
        .atomic()
        .check({ key: ["name", key], versionstamp: null })
        .set(["name", key], name)
        .commit();
      if (result.ok) return name;
    }
  }

  async known(key: string): Promise<boolean> {
    return (await this.#kv.get(["name", key])).value !== null;
  }

  async hold(key: string, message: ChatMessage, max: number): Promise<HoldResult> {
    const name = await this.#kv.get<string>(["name", key]);
    if (name.value === null) return "no_such_user";
    for (;;) {
      const count = await this.#kv.get<number>(["held_count", key]);
      const n = count.value ?? 0;
      if (n >= max) return "queue_full";
      const result = await this.#kv
        .atomic()
        .check({ key: ["held_count", key], versionstamp: count.versionstamp })
        .set(["held_count", key], n + 1)
        .set(["held", key, message.id], { ...message, to: name.value })
        .commit();
      if (result.ok) return "held";
    }
  }

  async held(key: string): Promise<ChatMessage[]> {
    const messages: ChatMessage[] = [];
    for await (const entry of this.#kv.list<ChatMessage>({ prefix: ["held", key] })) {
      messages.push(entry.value);
    }
    return messages;
  }

  async drop(key: string, ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = this.#kv.atomic();
      for (const id of ids.slice(i, i + BATCH)) batch.delete(["held", key, id]);
      await batch.commit();
    }
    // Recount what is left; a hold that races with this makes the check fail, and we retry.
    for (;;) {
      const count = await this.#kv.get<number>(["held_count", key]);
      let n = 0;
      for await (const _ of this.#kv.list({ prefix: ["held", key] })) n++;
      const op = this.#kv
        .atomic()
        .check({ key: ["held_count", key], versionstamp: count.versionstamp });
      const result = await (n === 0
        ? op.delete(["held_count", key])
        : op.set(["held_count", key], n)
      ).commit();
      if (result.ok) return;
    }
  }

  async heldCount(): Promise<number> {
    let total = 0;
    for await (const entry of this.#kv.list<number>({ prefix: ["held_count"] }))
      total += entry.value;
    return total;
  }

  append(entries: LogEntry[], keep: number): Promise<void> {
    return this.#log.append(entries, keep);
  }

  page(conv: string, before: string | undefined, limit: number): Promise<LogPage> {
    return this.#log.page(conv, before, limit);
  }

  since(
    convs: string[],
    since: string,
    max: number,
  ): Promise<{ messages: ChatMessage[]; gap: boolean }> {
    return this.#log.since(convs, since, max);
  }

  conversations(key: string): Promise<string[]> {
    return this.#log.conversations(key);
  }

  async join(
    room: { key: string; name: string },
    user: { key: string; name: string },
  ): Promise<void> {
    for (;;) {
      // The room's entry is written again by every join, so that a `leave` that found the
      // room empty, and deletes it only if that entry is unchanged, cannot lose this member.
      const kept = await this.#kv.get<string>(["room", room.key]);
      const result = await this.#kv
        .atomic()
        .check({ key: ["room", room.key], versionstamp: kept.versionstamp })
        .set(["room", room.key], kept.value ?? room.name)
        .set(["member", room.key, user.key], user.name)
        .commit();
      if (result.ok) return;
    }
  }

  async leave(roomKey: string, userKey: string): Promise<void> {
    await this.#kv.atomic().delete(["member", roomKey, userKey]).commit();
    for (;;) {
      const room = await this.#kv.get<string>(["room", roomKey]);
      if (room.value === null) return;
      const members = await this.#values({ prefix: ["member", roomKey] }, { limit: 1 });
      if (members.length > 0) return;
      const result = await this.#kv
        .atomic()
        .check({ key: ["room", roomKey], versionstamp: room.versionstamp })
        .delete(["room", roomKey])
        .commit();
      if (result.ok) return;
    }
  }

  async memberships(): Promise<Membership[]> {
    const rooms = new Map<string, Membership>();
    for await (const entry of this.#kv.list<string>({ prefix: ["member"] })) {
      const key = entry.key[1] as string;
      let room = rooms.get(key);
      if (!room) {
        room = { room: key, members: [] };
        rooms.set(key, room);
      }
      room.members.push(entry.value);
    }
    for await (const entry of this.#kv.list<string>({ prefix: ["room"] })) {
      const room = rooms.get(entry.key[1] as string);
      if (room) room.room = entry.value;
    }
    return [...rooms.values()];
  }

  async saveSession(hash: string, key: string, ttlMs: number): Promise<void> {
    const session: Session = { key, expires: Date.now() + ttlMs };
    await this.#kv.atomic().set(["session", hash], session, { expireIn: ttlMs }).commit();
  }

  async useSession(hash: string, ttlMs: number): Promise<string | null> {
    for (;;) {
      const entry = await this.#kv.get<Session>(["session", hash]);
      const session = entry.value;
      // Deno KV may show a key for a while after it expired: the session says when it ends.
      if (session === null || session.expires <= Date.now()) return null;
      // Checked, so that a renewal racing with `dropSession` cannot bring the session back.
      const result = await this.#kv
        .atomic()
        .check({ key: ["session", hash], versionstamp: entry.versionstamp })
        .set(["session", hash], { ...session, expires: Date.now() + ttlMs }, { expireIn: ttlMs })
        .commit();
      if (result.ok) return session.key;
    }
  }

  async dropSession(hash: string): Promise<void> {
    await this.#kv.atomic().delete(["session", hash]).commit();
  }

  async close(): Promise<void> {
    // The trims still to run go first.
    await this.#log.close();
    this.#kv.close();
  }

  async #values<T>(
    selector: KvListSelector,
    options: { reverse?: boolean; limit?: number; batchSize?: number },
  ): Promise<T[]> {
    const values: T[] = [];
    if (options.limit === 0) return values;
    for await (const entry of this.#kv.list<T>(selector, options)) values.push(entry.value);
    return values;
  }
}
