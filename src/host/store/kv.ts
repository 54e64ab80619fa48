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
  commit(): Promise<{ ok: boolean; versionstamp?: string }>;
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
//   ["log", conv, id]       a chunk of a conversation's log: bytes (see `chunkValue`), `id`
//                           the newest id in it; ids sort in accepted order. A message
//                           object there is a chunk of one, as written before chunks
//   ["log", conv, id, 0]    a chunk of one, appended again or late (see `append`)
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

/** Logs whose counts this store keeps (the least recently appended to are forgotten). */
const COUNTED_LOGS = 100_000;
/** Private conversations known to be recorded (the oldest are forgotten past this). */
const RECORDED_CONVERSATIONS = 100_000;
/** Chunks deleted or rewritten per trim commit, with the marker set and checked along with them. */
const TRIM_BATCH = 500;

/**
 * The messages one append adds to a log are written together, in chunks: one write for
 * many messages, where each costs about as much as a chunk. A chunk holds messages whose
 * ids start with the same CHUNK_PREFIX code units (the relay's: made within the same 36
 * ms), so that a chunk under a later key that holds messages before some id is found near
 * that id: reads depend on it (see `page`, `#trimOldest`). At most CHUNK_MESSAGES per
 * chunk, of at most CHUNK_BYTES (Deno KV takes values of up to 64 KiB).
 */
const CHUNK_PREFIX = 8;
const CHUNK_MESSAGES = 64;
const CHUNK_BYTES = 24 * 1024;

/**
 * What this store knows of one conversation's log, so as to trim it without reading it
 * (see `KvStore.#trim`).
 */
interface LogState {
  readonly conv: string;
  /**
   * How many messages the log holds, at least: set by a sync (a read of the log's newest
   * `keep`), then counted up by this store's appends and down by its trims. Never too high,
   * so a trim never deletes one of the newest `keep`: an append counts only the messages it
   * surely added (ids after `newest`; see `epoch` for appends that overlap a sync), and
   * another store's trim changes the marker's versionstamp, which makes this store's next
   * trim commit fail and sync instead.
   * Another store's appends are not counted: the log holds more until a sync (bounded: that
   * store trims too, and then this one syncs).
   */
  count: number;
  /** The marker's versionstamp as of the last sync or trim (null: no marker); undefined: the next trim syncs. */
  stamp: string | null | undefined;
  /** The marker's value as of `stamp`. */
  marker: string | null;
  /** About how many messages this store's appends put in a chunk of the log, lately. */
  perChunk: number;
  /** The newest id this store appended to the log: an id at or before it may be there already. */
  newest: string;
  /**
   * Bumped by each sync. An append begun before a sync's read and done after it may or may
   * not have been seen by it: it counts only its messages after the newest the read saw
   * (`seen`); one done while the read runs waits in `reading` until the read is done.
   */
  epoch: number;
  seen: string;
  reading: ChatMessage[][] | null;
  /** The `keep` of the latest append. */
  keep: number;
  /** The trim waiting in the queue, if any. */
  queued: Deferred | null;
  /** The trim running, if any. */
  running: Deferred | null;
}

/** What an append does to one log: its new messages in id order; counted once written. */
interface Touch {
  state: LogState;
  epoch: number;
  fresh: ChatMessage[];
  unsure: boolean;
}

/** What a trim does to one chunk: deletes it (null), or writes back what it keeps. */
interface Removal {
  key: KvKey;
  value: Uint8Array | null;
  /** The newest id it removes. */
  gone: string;
}

function bucketOf(id: string): string {
  return id.slice(0, CHUNK_PREFIX);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A chunk as written: UTF-8 of its ids as JSON, a newline, and its messages as JSON, in the
 * same order (`jsons`: each message as JSON). Bytes, so that Deno KV hands them over as they
 * are: a trim reads the ids alone, and a read decodes only the chunks it returns messages of.
 */
function chunkValue(ids: string[], jsons: string[]): Uint8Array {
  return encoder.encode(`${JSON.stringify(ids)}\n[${jsons.join(",")}]`);
}

/** A chunk of a log as read (a message alone, as an object, is one written before chunks). */
class Chunk {
  readonly key: KvKey;
  /** Its messages' ids, in the order of its messages. */
  readonly ids: string[];
  #bytes: Uint8Array | null = null;
  #messages: ChatMessage[] | null = null;

  constructor(key: KvKey, value: unknown) {
    this.key = key;
    if (value instanceof Uint8Array) {
      const newline = value.indexOf(10);
      this.ids = JSON.parse(decoder.decode(value.subarray(0, newline)));
      this.#bytes = value.subarray(newline + 1);
    } else {
      const message = value as ChatMessage;
      this.ids = [message.id];
      this.#messages = [message];
    }
  }

  /** The newest id in it: its key's third part. */
  get last(): string {
    return this.key[2] as string;
  }

  /** Its messages, in the order of `ids` (decoded when first asked for). */
  messages(): ChatMessage[] {
    this.#messages ??= JSON.parse(decoder.decode(this.#bytes ?? undefined)) as ChatMessage[];
    return this.#messages;
  }
}

/** Chunks read per batch to find the newest `n` messages of a log. */
function batchFor(n: number): number {
  return Math.min(100, Math.max(4, Math.ceil((n + 1) / 8)));
}

/**
 * Gathers the newest messages of a log in a range (after `after`, before `before`) from its
 * chunks, read newest key first, until the newest `n + 1` of them are surely gathered: a
 * chunk's messages are at or before its key's id, so once `n + 1` gathered ones are after
 * a chunk's key, neither that chunk nor those read after it hold any of the newest.
 */
class Newest {
  /** Per id gathered: the chunk that holds it, and where. */
  readonly #found = new Map<string, { chunk: Chunk; index: number }>();
  readonly #n: number;
  readonly #after: string | undefined;
  readonly #before: string | undefined;

  constructor(n: number, after?: string, before?: string) {
    this.#n = n;
    this.#after = after;
    this.#before = before;
  }

  get size(): number {
    return this.#found.size;
  }

  /** Whether no chunk whose newest id is `last` (or older) holds one of the newest `n + 1`. */
  enough(last: string): boolean {
    if (this.#found.size <= this.#n) return false;
    let newer = 0;
    for (const id of this.#found.keys()) if (id > last && ++newer > this.#n) return true;
    return false;
  }

  add(chunk: Chunk): void {
    chunk.ids.forEach((id, index) => {
      if (this.#after !== undefined && id <= this.#after) return;
      if (this.#before !== undefined && id >= this.#before) return;
      // A message appended twice is kept once.
      if (!this.#found.has(id)) this.#found.set(id, { chunk, index });
    });
  }

  /** The newest id gathered ("" when none). */
  last(): string {
    let last = "";
    for (const id of this.#found.keys()) if (id > last) last = id;
    return last;
  }

  /** The ids gathered, oldest first (more than the newest `n + 1`, at times). */
  ids(): string[] {
    return [...this.#found.keys()].sort();
  }

  /** The messages of gathered ids. */
  messages(ids: string[]): ChatMessage[] {
    return ids.map((id) => {
      const found = this.#found.get(id) as { chunk: Chunk; index: number };
      return found.chunk.messages()[found.index] as ChatMessage;
    });
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

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
  /** What this store knows of the logs it appended to, least recently appended to first. */
  readonly #logs = new Map<string, LogState>();
  /** Logs to trim, in turn (one trim at a time); a read of a log moves it to the front. */
  #queue = new Map<string, LogState>();
  /** The loop running the queue's trims, while there are any. */
  #trimming: Promise<void> | null = null;
  /**
   * Private conversations this store recorded for both their users (so that it does not
   * write them again): a conversation's key names its two users, the same every time.
   */
  readonly #recorded = new Set<string>();

  /**
   * How many messages past `keep` a log may hold for each store appending to it, once its
   * trims are done (reads wait for them): a store trims a log after its first append to it
   * and then every `trimEvery(keep)` messages it appended there. So a log holds at most
   * `keep + n * (trimEvery(keep) - 1)` messages, with `n` stores (processes, isolates)
   * appending to it at once.
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
    const touched = new Map<string, Touch>();
    const recorded = new Set<string>();
    for (const { conv, message, users } of entries) {
      let touch = touched.get(conv);
      if (touch === undefined) {
        const state = this.#log(conv);
        touch = { state, epoch: state.epoch, fresh: [], unsure: false };
        touched.set(conv, touch);
      }
      // Ids this store appends only grow: an id at or before its newest is a message
      // appended again (kept once) or a late one. It is written alone, under a key of its
      // own (a chunk under its id may hold others), and not counted: it may or may not add
      // a message, so the next trim syncs (reads the log) instead.
      if (message.id > touch.state.newest) {
        touch.state.newest = message.id;
        touch.fresh.push(message);
      } else {
        touch.unsure = true;
        const value = chunkValue([message.id], [JSON.stringify(message)]);
        writes.set(["log", conv, message.id, 0], value, value.length);
      }
      if (users !== undefined && !this.#recorded.has(conv) && !recorded.has(conv)) {
        recorded.add(conv);
        for (const user of users) writes.set(["conv", user, conv], true, 16);
      }
    }
    for (const [conv, { state, fresh }] of touched) {
      let ids: string[] = [];
      let jsons: string[] = [];
      let bytes = 0;
      let chunks = 0;
      const write = () => {
        const last = ids[ids.length - 1];
        if (last === undefined) return;
        const value = chunkValue(ids, jsons);
        writes.set(["log", conv, last], value, value.length);
        chunks++;
        ids = [];
        jsons = [];
        bytes = 0;
      };
      for (const message of fresh) {
        const json = JSON.stringify(message);
        // UTF-8 takes at most 3 bytes per code unit.
        const size = 3 * (json.length + message.id.length) + 4;
        const first = ids[0];
        if (
          first !== undefined &&
          (ids.length >= CHUNK_MESSAGES ||
            bytes + size > CHUNK_BYTES ||
            bucketOf(message.id) !== bucketOf(first))
        ) {
          write();
        }
        ids.push(message.id);
        jsons.push(json);
        bytes += size;
      }
      write();
      if (chunks > 0) state.perChunk = fresh.length / chunks;
    }
    await writes.flush();
    for (const conv of recorded) this.#recorded.add(conv);
    if (this.#recorded.size > RECORDED_CONVERSATIONS) {
      forgetOldest(this.#recorded, RECORDED_CONVERSATIONS / 10);
    }
    // Trims run after, one at a time: the append is done once its messages are written.
    for (const touch of touched.values()) this.#appended(touch, keep);
  }

  async page(conv: string, before: string | undefined, limit: number): Promise<LogPage> {
    await this.#trimmed([conv]);
    const n = Math.max(0, limit);
    const prefix = ["log", conv];
    const newest = new Newest(n, undefined, before);
    if (before !== undefined) {
      // A chunk under a later key may hold messages before `before`: only one whose key
      // starts like `before` does (see CHUNK_PREFIX), and those come first from `before` on.
      const bucket = bucketOf(before);
      const start = [...prefix, before];
      for await (const entry of this.#kv.list({ prefix, start }, { batchSize: 16 })) {
        if (bucketOf(entry.key[2] as string) !== bucket) break;
        newest.add(new Chunk(entry.key as KvKey, entry.value));
      }
    }
    const selector = before === undefined ? { prefix } : { prefix, end: [...prefix, before] };
    await this.#readNewest(selector, newest, batchFor(n));
    const all = newest.ids();
    return {
      messages: newest.messages(all.slice(Math.max(0, all.length - n))),
      more: all.length > n,
    };
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
    await this.#trimmed(unique);
    const [tails, trimmed] = await Promise.all([
      Promise.all(
        unique.map(async (conv) => {
          const newest = new Newest(n, since);
          const selector = { prefix: ["log", conv], start: ["log", conv, `${since}\u0000`] };
          await this.#readNewest(selector, newest, batchFor(n));
          // The newest `n + 1` are enough to tell the newest `n` of all, and a gap.
          const ids = newest.ids();
          return newest.messages(ids.slice(Math.max(0, ids.length - n - 1)));
        }),
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
    // The trims still to run go first.
    await this.#trimming;
    this.#kv.close();
  }

  // Trimming. Reading a log's newest `keep` messages costs about as much as writing them,
  // so a log is read once (a sync), when this store first appends to it, and then trimmed by
  // counting: every `trimEvery(keep)` messages appended, the oldest past `keep` are listed
  // (just those) and deleted. The trims run after the appends, one at a time, never holding
  // an append back; a read of a log (`page`, `since`) waits for its trim, so it sees the log
  // trimmed; `close` waits for them all.

  /** The state of a log, made when first appended to; the least recently used is forgotten. */
  #log(conv: string): LogState {
    let state = this.#logs.get(conv);
    if (state !== undefined) {
      this.#logs.delete(conv);
      this.#logs.set(conv, state);
      return state;
    }
    state = {
      conv,
      count: 0,
      stamp: undefined,
      marker: null,
      perChunk: 1,
      newest: "",
      epoch: 0,
      seen: "",
      reading: null,
      keep: 0,
      queued: null,
      running: null,
    };
    this.#logs.set(conv, state);
    // Forgetting a log only makes its next trim sync. Those with a trim to come are kept.
    if (this.#logs.size > COUNTED_LOGS) {
      for (const [key, old] of this.#logs) {
        if (old.queued || old.running) continue;
        this.#logs.delete(key);
        break;
      }
    }
    return state;
  }

  /** Counts what an append added to a log once it is written, and queues its trim if due. */
  #appended(touch: Touch, keep: number): void {
    const { state } = touch;
    if (this.#logs.get(state.conv) !== state) return;
    state.keep = keep;
    if (state.reading) state.reading.push(touch.fresh);
    else
      state.count += state.epoch === touch.epoch ? touch.fresh.length : unseen(touch.fresh, state);
    if (touch.unsure) state.stamp = undefined;
    if (state.stamp === undefined || keep <= 0 || state.count - keep >= KvStore.trimEvery(keep)) {
      if (state.queued) return;
      state.queued = deferred();
      this.#queue.set(state.conv, state);
      this.#trimming ??= this.#runTrims();
    }
  }

  /** Runs the queued trims, one at a time, until none is left. */
  async #runTrims(): Promise<void> {
    for (;;) {
      const next = this.#queue.values().next();
      if (next.done) break;
      const state = next.value;
      this.#queue.delete(state.conv);
      const done = state.queued as Deferred;
      state.queued = null;
      state.running = done;
      try {
        await this.#trim(state);
      } catch {
        // The store failed: the next append to this log syncs it again.
        state.stamp = undefined;
      }
      state.running = null;
      done.resolve();
    }
    this.#trimming = null;
  }

  /** Waits until the trims of these logs that are queued or running are done. */
  async #trimmed(convs: string[]): Promise<void> {
    if (this.#trimming === null) return;
    const waits: Promise<void>[] = [];
    for (const conv of convs) {
      const state = this.#logs.get(conv);
      const wait = state?.queued ?? state?.running;
      if (!state || !wait) continue;
      // A reader is waiting: this log's trim goes before the others queued.
      if (state.queued && this.#queue.has(conv))
        this.#queue = new Map([[conv, state], ...this.#queue]);
      waits.push(wait.promise);
    }
    await Promise.all(waits);
  }

  /**
   * Trims a log to its newest `keep` messages, sets its "trimmed up to" marker to the newest
   * id deleted (unless it is later already), and brings its count up to date. Each commit
   * that deletes sets the marker and checks it: another store's trim in between makes it
   * fail (and this one syncs), and no message is deleted before the marker says so.
   */
  async #trim(state: LogState): Promise<void> {
    const keep = Math.max(0, state.keep);
    for (;;) {
      // Unless it syncs, a trim does not read the marker: it checks that the marker is as
      // this store left it when it commits, and syncs when it is not.
      const done =
        state.stamp === undefined || keep === 0
          ? await this.#sync(state, keep)
          : await this.#trimOldest(state, keep);
      if (done) return;
      state.stamp = undefined;
    }
  }

  /**
   * A sync: reads the log's newest `keep` messages (one read of those chunks) and deletes
   * all older ones. It is done the first time, after an append that may have added fewer
   * messages than it counted, after another store trimmed the log (its marker changed),
   * and for `keep` 0. False when another store's trim got in the way.
   */
  async #sync(state: LogState, keep: number): Promise<boolean> {
    const prefix = ["log", state.conv];
    // The marker is read first: a trim by another store after this read changes it.
    const marker = await this.#kv.get<string>(["trimmed", state.conv]);
    if (keep === 0) {
      state.stamp = marker.versionstamp;
      state.marker = marker.value;
      const done = await this.#remove(state, this.#wholly({ prefix }));
      // Emptied, but appends in flight may or may not have been: the next trim syncs.
      state.count = 0;
      state.stamp = undefined;
      return done;
    }
    const newest = new Newest(keep);
    const during: ChatMessage[][] = [];
    state.reading = during;
    let read: { chunks: Chunk[]; next: KvKey | undefined };
    try {
      read = await this.#readNewest({ prefix }, newest, 100);
    } finally {
      state.reading = null;
      state.epoch++;
      state.seen = newest.last();
    }
    const { chunks, next } = read;
    state.stamp = marker.versionstamp;
    state.marker = marker.value;
    state.count = Math.min(newest.size, keep);
    for (const fresh of during) state.count += unseen(fresh, state);
    if (newest.size <= keep) return true;
    const all = newest.ids();
    const cut = all[all.length - keep - 1] as string;
    // Every chunk under a key after `cut` was read; the first not read, and all before it,
    // are older than `cut`. Oldest first, so that a trim cut short leaves no hole.
    const removals = async function* (self: KvStore): AsyncGenerator<Removal> {
      if (next !== undefined) {
        yield* self.#wholly({ prefix, end: next });
        yield { key: next, value: null, gone: next[2] as string };
      }
      yield* removalsOf(chunks.reverse(), cut);
    };
    return await this.#remove(state, removals(this));
  }

  /**
   * Deletes the oldest `count - keep` messages of a log, reading only the chunks that hold
   * them. False when another store's trim got in the way.
   */
  async #trimOldest(state: LogState, keep: number): Promise<boolean> {
    const excess = state.count - keep;
    if (excess <= 0) return true;
    const chunks: Chunk[] = [];
    const ids = new Set<string>();
    let cut: string | undefined;
    let last: string | undefined;
    // About as many chunks as hold `excess` messages, and the next: one read, mostly.
    const batchSize = Math.min(500, Math.ceil(excess / Math.max(1, state.perChunk)) + 2);
    for await (const entry of this.#kv.list({ prefix: ["log", state.conv] }, { batchSize })) {
      const id = entry.key[2] as string;
      // Keys in order: once they leave the bucket of the newest read so far (`last`), no
      // chunk still to read holds a message at or before `last` (its messages all start
      // like its key). So the oldest `excess` are known once that many are at or before it.
      if (last !== undefined && bucketOf(id) !== bucketOf(last)) {
        cut = ids.size < excess ? undefined : nth(ids, last, excess);
        if (cut !== undefined) break;
      }
      const chunk = new Chunk(entry.key as KvKey, entry.value);
      for (const one of chunk.ids) ids.add(one);
      chunks.push(chunk);
      last = id;
    }
    if (cut === undefined) {
      // All read: fewer than `excess` at the end, at most (another store trimmed too).
      const all = [...ids].sort();
      cut = all[Math.min(excess, all.length) - 1];
      if (cut === undefined) return true;
    }
    let gone = 0;
    for (const id of ids) if (id <= cut) gone++;
    if (!(await this.#remove(state, removalsOf(chunks, cut)))) return false;
    state.count -= gone;
    return true;
  }

  /**
   * Applies removals, a batch per commit; each commit sets the marker to the newest id
   * removed so far (unless it is later already) and checks that it is as this store last
   * left it (`state.stamp`). False when a check failed.
   */
  async #remove(
    state: LogState,
    removals: AsyncIterable<Removal> | Iterable<Removal>,
  ): Promise<boolean> {
    const markerKey = ["trimmed", state.conv];
    let newest = state.marker;
    let batch: Removal[] = [];
    let bytes = 0;
    const commit = async (): Promise<boolean> => {
      if (batch.length === 0) return true;
      const op = this.#kv.atomic().check({ key: markerKey, versionstamp: state.stamp ?? null });
      for (const { key, value, gone } of batch) {
        newest = laterId(newest, gone);
        if (value === null) op.delete(key);
        else op.set(key, value);
      }
      op.set(markerKey, newest);
      batch = [];
      bytes = 0;
      const result = await op.commit();
      if (!result.ok) return false;
      state.stamp = result.versionstamp;
      state.marker = newest;
      return true;
    };
    for await (const removal of removals) {
      const size = 64 + (removal.value?.length ?? 0);
      if (batch.length >= TRIM_BATCH || bytes + size > COMMIT_BYTES) {
        if (!(await commit())) return false;
      }
      batch.push(removal);
      bytes += size;
    }
    return await commit();
  }

  /** Removals of every chunk a selector lists, oldest first. */
  async *#wholly(selector: KvListSelector): AsyncGenerator<Removal> {
    for await (const entry of this.#kv.list(selector, { batchSize: 100 })) {
      yield { key: entry.key as KvKey, value: null, gone: entry.key[2] as string };
    }
  }

  /**
   * Reads a log's chunks, newest key first, into `newest` until it has enough. Resolves to
   * the chunks read, and the key of the first it did not need (undefined: it read all).
   */
  async #readNewest(
    selector: KvListSelector,
    newest: Newest,
    batchSize: number,
  ): Promise<{ chunks: Chunk[]; next: KvKey | undefined }> {
    const chunks: Chunk[] = [];
    for await (const entry of this.#kv.list(selector, { reverse: true, batchSize })) {
      const key = entry.key as KvKey;
      if (newest.enough(key[2] as string)) return { chunks, next: key };
      const chunk = new Chunk(key, entry.value);
      newest.add(chunk);
      chunks.push(chunk);
    }
    return { chunks, next: undefined };
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

/** What removing every message at or before `cut` does to these chunks. */
function removalsOf(chunks: Chunk[], cut: string): Removal[] {
  const removals: Removal[] = [];
  for (const chunk of chunks) {
    let gone = "";
    let kept = 0;
    for (const id of chunk.ids) {
      if (id > cut) kept++;
      else if (id > gone) gone = id;
    }
    if (kept === chunk.ids.length) continue;
    let value: Uint8Array | null = null;
    if (kept > 0) {
      const rest = chunk.messages().filter((m) => m.id > cut);
      value = chunkValue(
        rest.map((m) => m.id),
        rest.map((m) => JSON.stringify(m)),
      );
    }
    removals.push({ key: chunk.key, value, gone });
  }
  return removals;
}

/**
 * How many of an append's messages a sync did not see (see `LogState.epoch`): those after
 * the newest it saw. This store's ids only grow, so those before it were seen.
 */
function unseen(fresh: ChatMessage[], state: LogState): number {
  let n = 0;
  for (const message of fresh) if (message.id > state.seen) n++;
  return n;
}

/** The `n`th oldest of the ids at or before `last`; undefined when there are fewer. */
function nth(ids: Set<string>, last: string, n: number): string | undefined {
  const upTo: string[] = [];
  for (const id of ids) if (id <= last) upTo.push(id);
  if (upTo.length < n) return undefined;
  return upTo.sort()[n - 1];
}

/** Forgets the `n` oldest entries of a set (the first inserted). */
function forgetOldest(set: Set<string>, n: number): void {
  let left = n;
  for (const item of set) {
    if (left-- <= 0) return;
    set.delete(item);
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

  /** `bytes`: more than the value takes serialized. */
  set(key: KvKey, value: unknown, bytes = JSON.stringify(value).length * 2 + 16): void {
    this.#next(key, bytes).set(key, value);
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
