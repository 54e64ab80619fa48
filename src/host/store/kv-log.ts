import type { ChatMessage } from "../../core/mod.ts";
import {
  batchFor,
  bucketOf,
  CHUNK_BYTES,
  CHUNK_MESSAGES,
  Chunk,
  chunkValue,
  Newest,
  readNewest,
} from "./kv-chunk.ts";
import { Commits } from "./kv-commits.ts";
import type { KvKey, KvLike } from "./kv-like.ts";
import { LogTrims, type Touch } from "./kv-trims.ts";
import { newestOf, trimmedAfter } from "./log.ts";
import type { LogEntry, LogPage } from "./store.ts";

/** Private conversations known to be recorded (the oldest are forgotten past this). */
const RECORDED_CONVERSATIONS = 100_000;

/**
 * The conversations' logs on Deno KV (docs/protocol.md §11): `KvStore`'s `append`, `page`,
 * `since` and `conversations`. A log is chunks under `["log", conv, id]`, `id` the newest in
 * the chunk (see kv-chunk.ts), trimmed behind the appends (see kv-trims.ts).
 *
 * @example
 * const log = new KvLog(kv);
 * await log.append([{ conv: "#dev", message }], 1000);
 * (await log.page("#dev", undefined, 50)).messages;
 */
export class KvLog {
  readonly #kv: KvLike;
  readonly #trims: LogTrims;
  /**
   * Private conversations this store recorded for both their users (so that it does not
   * write them again): a conversation's key names its two users, the same every time.
   */
  readonly #recorded = new Set<string>();

  constructor(kv: KvLike) {
    this.#kv = kv;
    this.#trims = new LogTrims(kv);
  }

  /** See `Store.append`. */
  async append(entries: LogEntry[], keep: number): Promise<void> {
    const writes = new Commits(this.#kv);
    const touched = new Map<string, Touch>();
    const recorded = new Set<string>();
    for (const { conv, message, users } of entries) {
      let touch = touched.get(conv);
      if (touch === undefined) {
        const state = this.#trims.log(conv);
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
    for (const touch of touched.values()) this.#trims.appended(touch, keep);
  }

  /** See `Store.page`. */
  async page(conv: string, before: string | undefined, limit: number): Promise<LogPage> {
    await this.#trims.trimmed([conv]);
    const n = Math.max(0, limit);
    const prefix = ["log", conv];
    const newest = new Newest(n, undefined, before);
    if (before !== undefined) {
      // A chunk under a later key may hold messages before `before`: only one whose key
      // starts like `before` does (see `bucketOf`), and those come first from `before` on.
      const bucket = bucketOf(before);
      const start = [...prefix, before];
      for await (const entry of this.#kv.list({ prefix, start }, { batchSize: 16 })) {
        if (bucketOf(entry.key[2] as string) !== bucket) break;
        newest.add(new Chunk(entry.key as KvKey, entry.value));
      }
    }
    const selector = before === undefined ? { prefix } : { prefix, end: [...prefix, before] };
    await readNewest(this.#kv, selector, newest, batchFor(n));
    const all = newest.ids();
    return {
      messages: newest.messages(all.slice(Math.max(0, all.length - n))),
      more: all.length > n,
    };
  }

  /** See `Store.since`. */
  async since(
    convs: string[],
    since: string,
    max: number,
  ): Promise<{ messages: ChatMessage[]; gap: boolean }> {
    const n = Math.max(0, max);
    // "\u0000" after `since`: the first key after the id `since` itself (`start` is inclusive).
    // Each log's "trimmed up to" marker is read along with it.
    const unique = [...new Set(convs)];
    await this.#trims.trimmed(unique);
    const [tails, trimmed] = await Promise.all([
      Promise.all(
        unique.map(async (conv) => {
          const newest = new Newest(n, since);
          const selector = { prefix: ["log", conv], start: ["log", conv, `${since}\u0000`] };
          await readNewest(this.#kv, selector, newest, batchFor(n));
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

  /** See `Store.conversations`. */
  async conversations(key: string): Promise<string[]> {
    const convs: string[] = [];
    for await (const entry of this.#kv.list({ prefix: ["conv", key] })) {
      convs.push(entry.key[2] as string);
    }
    return convs;
  }

  /** Resolves once the trims still to run are done. */
  async close(): Promise<void> {
    await this.#trims.done();
  }
}

/** Forgets the `n` oldest entries of a set (the first inserted). */
function forgetOldest(set: Set<string>, n: number): void {
  let left = n;
  for (const item of set) {
    if (left-- <= 0) return;
    set.delete(item);
  }
}
