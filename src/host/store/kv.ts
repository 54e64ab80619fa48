import type { ChatMessage, HoldResult } from "../../core/mod.ts";
import type { PasswordRecord, Store } from "./store.ts";

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

/**
 * The part of the Deno KV API the store uses: the runtime's own `openKv()` on Deno and
 * `openKv()` from `@deno/kv` on Node both give one.
 */
export interface KvLike {
  get<T = unknown>(key: KvKey): Promise<{ value: T | null; versionstamp: string | null }>;
  list<T = unknown>(selector: { prefix: KvKey }): AsyncIterable<{ value: T }>;
  atomic(): AtomicLike;
  close(): void;
}

// Key layout:
//   ["name", key]           the name as first written: the name logged in here once
//   ["account", key]        its password record
//   ["held", key, id]       a message held for it; ids sort in the order they were accepted
//   ["held_count", key]     how many are held for it (the cap is checked against this)

/** Deletions per atomic commit, well inside Deno KV's limits. */
const BATCH = 100;

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

  async close(): Promise<void> {
    this.#kv.close();
  }
}
