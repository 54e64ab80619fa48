import type { ChatMessage, HoldResult } from "../../core/mod.ts";
import { byId, laterId, newestOf, trimmedAfter } from "./log.ts";
import type { LogEntry, LogPage, Membership, PasswordRecord, Store } from "./store.ts";

/** A room as this store keeps it: its name as shown, its members by key. */
interface Room {
  name: string;
  members: Map<string, string>;
}

/**
 * A store in this process's memory: everything is lost when it stops. For tests and for
 * `RELAY_STORE=memory`. Each conversation's log is an array sorted by id.
 *
 * @example
 * const store = new MemoryStore();
 * await store.remember("bob", "Bob");
 * await store.known("bob"); // true
 */
export class MemoryStore implements Store {
  readonly #names = new Map<string, string>();
  readonly #accounts = new Map<string, PasswordRecord>();
  readonly #queues = new Map<string, ChatMessage[]>();
  readonly #logs = new Map<string, ChatMessage[]>();
  /** Per conversation: the newest id trimmed away from its log, once any was. */
  readonly #trimmed = new Map<string, string>();
  readonly #conversations = new Map<string, Set<string>>();
  /** Private conversations recorded in `#conversations` for both their users. */
  readonly #recorded = new Set<string>();
  readonly #rooms = new Map<string, Room>();
  readonly #sessions = new Map<string, { key: string; expires: number }>();
  /** Per name key: the times of its newest failed logins, and when the last leaves its window. */
  readonly #failures = new Map<string, { times: number[]; expires: number }>();
  #count = 0;
  /** Sessions are swept of expired ones when their number doubles since the last sweep. */
  #sweepAt = 1024;
  /** The same for failed logins. */
  #failuresSweepAt = 1024;

  async account(key: string): Promise<PasswordRecord | null> {
    return this.#accounts.get(key) ?? null;
  }

  async register(key: string, record: PasswordRecord): Promise<boolean> {
    if (this.#accounts.has(key)) return false;
    this.#accounts.set(key, record);
    return true;
  }

  async rehash(key: string, current: PasswordRecord, next: PasswordRecord): Promise<boolean> {
    const record = this.#accounts.get(key);
    if (!record || !sameRecord(record, current)) return false;
    this.#accounts.set(key, next);
    return true;
  }

  async fail(key: string, windowMs: number, keep: number): Promise<void> {
    const now = Date.now();
    const kept = this.#failures.get(key);
    // Forgotten once the last failure has left its window, as a key expires in Redis.
    const earlier = kept && kept.expires > now ? kept.times : [];
    const times = earlier.filter((t) => t > now - windowMs);
    times.push(now);
    const max = Math.max(1, keep);
    if (times.length > max) times.splice(0, times.length - max);
    this.#failures.set(key, { times, expires: now + windowMs });
    if (this.#failures.size >= this.#failuresSweepAt) {
      for (const [k, kept] of this.#failures) if (kept.expires <= now) this.#failures.delete(k);
      this.#failuresSweepAt = Math.max(1024, this.#failures.size * 2);
    }
  }

  async failures(key: string, windowMs: number): Promise<number[]> {
    const now = Date.now();
    const kept = this.#failures.get(key);
    if (!kept || kept.expires <= now) return [];
    const left: number[] = [];
    for (const t of kept.times) if (t + windowMs > now) left.push(t + windowMs - now);
    return left;
  }

  async remember(key: string, name: string): Promise<string> {
    const first = this.#names.get(key);
    if (first !== undefined) return first;
    this.#names.set(key, name);
    return name;
  }

  async known(key: string): Promise<boolean> {
    return this.#names.has(key);
  }

  async hold(key: string, message: ChatMessage, max: number): Promise<HoldResult> {
    const name = this.#names.get(key);
    if (name === undefined) return "no_such_user";
    let queue = this.#queues.get(key);
    if (!queue) {
      queue = [];
      this.#queues.set(key, queue);
    }
    if (queue.length >= max) return "queue_full";
    queue.push({ ...message, to: name });
    this.#count++;
    return "held";
  }

  async held(key: string): Promise<ChatMessage[]> {
    // Oldest first: ids sort in the order messages were accepted.
    return [...(this.#queues.get(key) ?? [])].sort((a, b) =>
      a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
  }

  async drop(key: string, ids: string[]): Promise<void> {
    const queue = this.#queues.get(key);
    if (!queue) return;
    const gone = new Set(ids);
    const kept = queue.filter((m) => !gone.has(m.id));
    this.#count -= queue.length - kept.length;
    if (kept.length === 0) this.#queues.delete(key);
    else this.#queues.set(key, kept);
  }

  async heldCount(): Promise<number> {
    return this.#count;
  }

  async append(entries: LogEntry[], keep: number): Promise<void> {
    const touched = new Map<string, ChatMessage[]>();
    for (const { conv, message, users } of entries) {
      let log = this.#logs.get(conv);
      if (!log) {
        log = [];
        this.#logs.set(conv, log);
      }
      insert(log, message);
      touched.set(conv, log);
      // A conversation's users are in its key: recorded once for good.
      if (users === undefined || this.#recorded.has(conv)) continue;
      this.#recorded.add(conv);
      for (const user of users) {
        let convs = this.#conversations.get(user);
        if (!convs) {
          convs = new Set();
          this.#conversations.set(user, convs);
        }
        convs.add(conv);
      }
    }
    for (const [conv, log] of touched) {
      if (log.length <= Math.max(0, keep)) continue;
      const gone = log.splice(0, log.length - Math.max(0, keep));
      // The log is sorted: its last message trimmed away is the newest.
      const newest = (gone[gone.length - 1] as ChatMessage).id;
      this.#trimmed.set(conv, laterId(this.#trimmed.get(conv), newest));
    }
  }

  async page(conv: string, before: string | undefined, limit: number): Promise<LogPage> {
    const log = this.#logs.get(conv) ?? [];
    const end = before === undefined ? log.length : firstAtOrAfter(log, before);
    const start = Math.max(0, end - Math.max(0, limit));
    return { messages: log.slice(start, end), more: start > 0 };
  }

  async since(
    convs: string[],
    since: string,
    max: number,
  ): Promise<{ messages: ChatMessage[]; gap: boolean }> {
    const n = Math.max(0, max);
    const unique = [...new Set(convs)];
    const tails = unique.map((conv) => {
      const log = this.#logs.get(conv) ?? [];
      return log.slice(Math.max(firstAfter(log, since), log.length - n - 1));
    });
    const trimmed = unique.map((conv) => this.#trimmed.get(conv));
    return newestOf(tails, n, trimmedAfter(trimmed, since));
  }

  async conversations(key: string): Promise<string[]> {
    return [...(this.#conversations.get(key) ?? [])];
  }

  async join(
    room: { key: string; name: string },
    user: { key: string; name: string },
  ): Promise<void> {
    let kept = this.#rooms.get(room.key);
    if (!kept) {
      kept = { name: room.name, members: new Map() };
      this.#rooms.set(room.key, kept);
    }
    kept.members.set(user.key, user.name);
  }

  async leave(roomKey: string, userKey: string): Promise<void> {
    const room = this.#rooms.get(roomKey);
    if (!room) return;
    room.members.delete(userKey);
    if (room.members.size === 0) this.#rooms.delete(roomKey);
  }

  async memberships(): Promise<Membership[]> {
    return [...this.#rooms.values()].map((room) => ({
      room: room.name,
      members: [...room.members.values()],
    }));
  }

  async saveSession(hash: string, key: string, ttlMs: number): Promise<void> {
    this.#sessions.set(hash, { key, expires: Date.now() + ttlMs });
    if (this.#sessions.size >= this.#sweepAt) {
      const now = Date.now();
      for (const [h, session] of this.#sessions)
        if (session.expires <= now) this.#sessions.delete(h);
      this.#sweepAt = Math.max(1024, this.#sessions.size * 2);
    }
  }

  async useSession(hash: string, ttlMs: number): Promise<string | null> {
    const session = this.#sessions.get(hash);
    if (!session) return null;
    const now = Date.now();
    if (session.expires <= now) {
      this.#sessions.delete(hash);
      return null;
    }
    session.expires = now + ttlMs;
    return session.key;
  }

  async dropSession(hash: string): Promise<void> {
    this.#sessions.delete(hash);
  }

  async close(): Promise<void> {}
}

/** Whether two password records are the same hash of the same salt. */
function sameRecord(a: PasswordRecord, b: PasswordRecord): boolean {
  return a.salt === b.salt && a.hash === b.hash && a.iterations === b.iterations;
}

/** The index of the first message of a log (sorted by id) whose id is `id` or after it. */
function firstAtOrAfter(log: ChatMessage[], id: string): number {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((log[mid] as ChatMessage).id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The index of the first message of a log (sorted by id) whose id is after `id`. */
function firstAfter(log: ChatMessage[], id: string): number {
  const i = firstAtOrAfter(log, id);
  return log[i]?.id === id ? i + 1 : i;
}

/** Puts a message in its place in a log sorted by id, unless its id is there already. */
function insert(log: ChatMessage[], message: ChatMessage): void {
  const last = log[log.length - 1];
  // Messages come in the order they were accepted: almost always after the last one.
  if (last === undefined || byId(last, message) < 0) {
    log.push(message);
    return;
  }
  const i = firstAtOrAfter(log, message.id);
  if (log[i]?.id !== message.id) log.splice(i, 0, message);
}
