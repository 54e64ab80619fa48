import type { ChatMessage, HoldResult } from "../../core/mod.ts";
import { laterId, newestOf, trimmedAfter } from "./log.ts";
import type { LogEntry, LogPage, Membership, PasswordRecord, Store } from "./store.ts";

/** A part of a Deno KV key. */
export type KvKeyPart = string | number | bigint | boolean | Uint8Array;
/** A Deno KV key. */
export type KvKey = readonly KvKeyPart[];

interface AtomicLike {
  check(...checks: { key: KvKey; versionstamp: string | null }[]): this;
  set(key: KvKey, value: unknown, options?: { expireIn?: number }): this;
  delete(key: KvKey): this;
  commit(): Promise<{ ok: boolean }>;
}

/** Which keys a `list` reads: those under a prefix (from `start`, before `end`), or a range. */
export type KvListSelector =
  | { prefix: KvKey }
  | { prefix: KvKey; start: KvKey }
  | { prefix: KvKey; end: KvKey }
  | { start: KvKey; end: KvKey };

/**
 * The part of the Deno KV API the store uses: the runtime's own `openKv()` on Deno and
 * `openKv()` from `@deno/kv` on Node both give one.
 */
export interface KvLike {
  get<T = unknown>(key: KvKey): Promise<{ value: T | null; versionstamp: string | null }>;
  list<T = unknown>(
    selector: KvListSelector,
    options?: { reverse?: boolean; limit?: number; batchSize?: number },
  ): AsyncIterable<{ key: readonly unknown[]; value: T; versionstamp: string }>;
  atomic(): AtomicLike;
  close(): void;
}

// Key layout:
//   ["name", key]           the name as first written: the name logged in here once
//   ["account", key]        its password record
//   ["held", key, id]       a message held for it; ids sort in the order they were accepted
//   ["held_count", key]     how many are held for it (the cap is checked against this)
//   ["log", conv, id]       a message of a conversation's log; ids sort in accepted order
//   ["trimmed", conv]       the newest id trimmed away from that log, once any was
//   ["conv", key, conv]     true: the user had this private conversation
//   ["room", room]          a room's name as shown, while it has members
//   ["member", room, key]   a member's name as shown
//   ["session", hash]       { key, expires }: a session (set to expire, but expiry is lazy)
//   ["failures", key]       { times, expires }: the times (ms) of a name's newest failed
//                           logins, oldest first, until the last has left its window

/** Deletions per atomic commit, well inside Deno KV's limits. */
const BATCH = 100;

// Deno KV refuses a commit of more than 1000 mutations, 800 KiB in all or 80 KiB of keys;
// a batch is split into commits that stay well inside those, by a generous estimate.
const COMMIT_MUTATIONS = 500;
const COMMIT_BYTES = 400 * 1024;
const COMMIT_KEY_BYTES = 40 * 1024;

/** Conversations whose appends are counted before the counts are forgotten. */
const COUNTED_CONVERSATIONS = 100_000;
/** (user, conversation) pairs known to be recorded, before they are forgotten. */
const RECORDED_PAIRS = 10_000;

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
 * that check what they read.
 *
 * @example
 * const store = new KvStore(await openKv("./data/relay.kv")); // Deno's, or @deno/kv's
 */
export class KvStore implements Store {
  readonly #kv: KvLike;
  /** Per conversation: messages appended by this store since it last trimmed that log. */
  readonly #appended = new Map<string, number>();
  /** `${user}\u0000${conv}` pairs this store has recorded (so it does not write them again). */
  readonly #recorded = new Set<string>();

  /**
   * How many messages past `keep` a log may hold for each store appending to it: a log is
   * trimmed when a store first appends to it and then every `trimEvery(keep)` messages that
   * store appends to it. So a log holds at most `keep + n * (trimEvery(keep) - 1)` messages,
   * with `n` stores (processes, isolates) appending to it at once.
   */
  static trimEvery(keep: number): number {
    return Math.max(1, Math.ceil(keep / 4));
  }

  constructor(kv: KvLike) {
    this.#kv = kv;
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

  async append(entries: LogEntry[], keep: number): Promise<void> {
    const writes = new Commits(this.#kv);
    const counts = new Map<string, number>();
    const pairs = new Set<string>();
    for (const { conv, message, users } of entries) {
      writes.set(["log", conv, message.id], message);
      counts.set(conv, (counts.get(conv) ?? 0) + 1);
      for (const user of users ?? []) {
        const pair = `${user}\u0000${conv}`;
        if (this.#recorded.has(pair) || pairs.has(pair)) continue;
        pairs.add(pair);
        writes.set(["conv", user, conv], true);
      }
    }
    await writes.flush();
    if (this.#recorded.size + pairs.size > RECORDED_PAIRS) this.#recorded.clear();
    for (const pair of pairs) this.#recorded.add(pair);
    await Promise.all([...counts].map(([conv, n]) => this.#counted(conv, n, keep)));
  }

  async page(conv: string, before: string | undefined, limit: number): Promise<LogPage> {
    const n = Math.max(0, limit);
    const prefix = ["log", conv];
    const selector = before === undefined ? { prefix } : { prefix, end: ["log", conv, before] };
    const newest = await this.#values<ChatMessage>(selector, { reverse: true, limit: n + 1 });
    return { messages: newest.slice(0, n).reverse(), more: newest.length > n };
  }

  async since(
    convs: string[],
    since: string,
    max: number,
  ): Promise<{ messages: ChatMessage[]; gap: boolean }> {
    const n = Math.max(0, max);
    // "\u0000" after `since`: the first key after the id `since` itself (`start` is inclusive).
    // Each log's "trimmed up to" marker is read along with it.
    const unique = [...new Set(convs)];
    const [tails, trimmed] = await Promise.all([
      Promise.all(
        unique.map((conv) =>
          this.#values<ChatMessage>(
            { prefix: ["log", conv], start: ["log", conv, `${since}\u0000`] },
            { reverse: true, limit: n + 1 },
          ),
        ),
      ),
      Promise.all(
        unique.map(async (conv) => (await this.#kv.get<string>(["trimmed", conv])).value),
      ),
    ]);
    return newestOf(tails, n, trimmedAfter(trimmed, since));
  }

  async conversations(key: string): Promise<string[]> {
    const convs: string[] = [];
    for await (const entry of this.#kv.list({ prefix: ["conv", key] })) {
      convs.push(entry.key[2] as string);
    }
    return convs;
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
    this.#kv.close();
  }

  // Trimming: reading a log to trim it costs a read of its newest `keep` messages (Deno KV
  // cannot skip them unread), so it is not done at every append but when this store first
  // appends to a log and then every `trimEvery(keep)` messages it appended there: about 4
  // messages read per message appended, and a bounded overshoot (see `trimEvery`).
  async #counted(conv: string, n: number, keep: number): Promise<void> {
    const before = this.#appended.get(conv);
    const count = (before ?? 0) + n;
    if (before !== undefined && count < KvStore.trimEvery(keep)) {
      this.#appended.set(conv, count);
      return;
    }
    // Forgetting the counts only makes the next appends trim at once, so the bound holds.
    if (this.#appended.size >= COUNTED_CONVERSATIONS) this.#appended.clear();
    this.#appended.set(conv, 0);
    await this.#trim(conv, keep);
  }

  /**
   * Deletes all but the newest `keep` messages of a conversation's log, and sets its
   * "trimmed up to" marker to the newest id deleted (unless it is later already). The marker
   * is written in the first commit, with the first deletions, and checked: a trim racing
   * with this one (another store's) cannot set it back, and no message is deleted before the
   * marker says so.
   */
  async #trim(conv: string, keep: number): Promise<void> {
    const prefix = ["log", conv];
    const markerKey = ["trimmed", conv];
    for (;;) {
      const [marker, newest] = await Promise.all([
        this.#kv.get<string>(markerKey),
        keep > 0
          ? this.#values<ChatMessage>({ prefix }, { reverse: true, limit: keep, batchSize: 500 })
          : [],
      ]);
      let selector: KvListSelector = { prefix };
      if (keep > 0) {
        const oldestKept = newest[keep - 1];
        if (oldestKept === undefined) return;
        selector = { prefix, end: ["log", conv, oldestKept.id] };
      }
      const gone: string[] = [];
      for await (const entry of this.#kv.list<ChatMessage>(selector, { batchSize: 500 })) {
        gone.push(entry.value.id);
      }
      // Listed in id order: the last is the newest.
      const last = gone[gone.length - 1];
      if (last === undefined) return;
      const first = this.#kv
        .atomic()
        .check({ key: markerKey, versionstamp: marker.versionstamp })
        .set(markerKey, laterId(marker.value, last));
      for (const id of gone.slice(0, BATCH)) first.delete(["log", conv, id]);
      if (!(await first.commit()).ok) continue;
      const deletes = new Commits(this.#kv);
      for (const id of gone.slice(BATCH)) deletes.delete(["log", conv, id]);
      await deletes.flush();
      return;
    }
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

/** Writes gathered into as few atomic commits as Deno KV's limits allow. */
class Commits {
  readonly #kv: KvLike;
  #op: AtomicLike | undefined;
  #mutations = 0;
  #bytes = 0;
  #keyBytes = 0;
  readonly #done: Promise<{ ok: boolean }>[] = [];

  constructor(kv: KvLike) {
    this.#kv = kv;
  }

  set(key: KvKey, value: unknown): void {
    this.#next(key, JSON.stringify(value).length * 2 + 16).set(key, value);
  }

  delete(key: KvKey): void {
    this.#next(key, 0).delete(key);
  }

  /** Commits what is gathered; resolves when every commit is done. */
  async flush(): Promise<void> {
    this.#seal();
    await Promise.all(this.#done.splice(0));
  }

  /** The commit the next mutation goes into: a new one when it would pass a limit. */
  #next(key: KvKey, valueBytes: number): AtomicLike {
    // Strings count twice (UTF-16 at worst); other parts are short.
    const keyBytes = key.reduce<number>(
      (n, part) => n + (typeof part === "string" ? part.length * 2 : 9) + 2,
      0,
    );
    if (
      this.#mutations + 1 > COMMIT_MUTATIONS ||
      this.#bytes + keyBytes + valueBytes > COMMIT_BYTES ||
      this.#keyBytes + keyBytes > COMMIT_KEY_BYTES
    ) {
      this.#seal();
    }
    this.#mutations++;
    this.#bytes += keyBytes + valueBytes;
    this.#keyBytes += keyBytes;
    this.#op ??= this.#kv.atomic();
    return this.#op;
  }

  #seal(): void {
    if (this.#op) this.#done.push(this.#op.commit());
    this.#op = undefined;
    this.#mutations = 0;
    this.#bytes = 0;
    this.#keyBytes = 0;
  }
}
