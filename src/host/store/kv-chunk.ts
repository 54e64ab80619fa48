import type { ChatMessage } from "../../core/mod.ts";
import type { KvKey, KvLike, KvListSelector } from "./kv-like.ts";

/**
 * The messages one append adds to a log are written together, in chunks: one write for
 * many messages, where each costs about as much as a chunk. A chunk holds messages whose
 * ids start with the same CHUNK_PREFIX code units (the relay's: made within the same 36
 * ms), so that a chunk under a later key that holds messages before some id is found near
 * that id: reads depend on it (see `KvLog.page`, `LogTrims`). At most CHUNK_MESSAGES per
 * chunk, of at most CHUNK_BYTES (Deno KV takes values of up to 64 KiB).
 */
const CHUNK_PREFIX = 8;
/** The messages of one chunk, at most. */
export const CHUNK_MESSAGES = 64;
/** The bytes of one chunk, at most (UTF-8, its ids included). */
export const CHUNK_BYTES = 24 * 1024;

/**
 * The bucket of an id: its first CHUNK_PREFIX code units. A chunk's ids share one, the
 * bucket of the id its key ends with.
 *
 * @example
 * bucketOf("0mk2f3a1-0001-n1") === bucketOf("0mk2f3a1-0002-n1"); // true
 */
export function bucketOf(id: string): string {
  return id.slice(0, CHUNK_PREFIX);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A chunk as written: UTF-8 of its ids as JSON, a newline, and its messages as JSON, in the
 * same order (`jsons`: each message as JSON). Bytes, so that Deno KV hands them over as they
 * are: a trim reads the ids alone, and a read decodes only the chunks it returns messages of.
 *
 * @example
 * kv.atomic().set(["log", conv, message.id], chunkValue([message.id], [JSON.stringify(message)]));
 */
export function chunkValue(ids: string[], jsons: string[]): Uint8Array {
  return encoder.encode(`${JSON.stringify(ids)}\n[${jsons.join(",")}]`);
}

/**
 * A chunk of a log as read (a message alone, as an object, is one written before chunks).
 *
 * @example
 * for await (const entry of kv.list({ prefix: ["log", conv] })) new Chunk(entry.key, entry.value).ids;
 */
export class Chunk {
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

/**
 * Chunks read per batch to find the newest `n` messages of a log.
 *
 * @example
 * kv.list(selector, { reverse: true, batchSize: batchFor(100) });
 */
export function batchFor(n: number): number {
  return Math.min(100, Math.max(4, Math.ceil((n + 1) / 8)));
}

/**
 * Gathers the newest messages of a log in a range (after `after`, before `before`) from its
 * chunks, read newest key first, until the newest `n + 1` of them are surely gathered: a
 * chunk's messages are at or before its key's id, so once `n + 1` gathered ones are after
 * a chunk's key, neither that chunk nor those read after it hold any of the newest.
 *
 * @example
 * const newest = new Newest(50, since);
 * await readNewest(kv, { prefix: ["log", conv] }, newest, batchFor(50));
 * newest.messages(newest.ids().slice(-50));
 */
export class Newest {
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

  /** How many ids are gathered. */
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

  /** Gathers a chunk's ids in the range (each id once: the first chunk read that has it). */
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

/**
 * Reads a log's chunks, newest key first, into `newest` until it has enough. Resolves to
 * the chunks read, and the key of the first it did not need (undefined: it read all).
 *
 * @example
 * const { chunks, next } = await readNewest(kv, { prefix: ["log", conv] }, newest, 100);
 */
export async function readNewest(
  kv: KvLike,
  selector: KvListSelector,
  newest: Newest,
  batchSize: number,
): Promise<{ chunks: Chunk[]; next: KvKey | undefined }> {
  const chunks: Chunk[] = [];
  for await (const entry of kv.list(selector, { reverse: true, batchSize })) {
    const key = entry.key as KvKey;
    if (newest.enough(key[2] as string)) return { chunks, next: key };
    const chunk = new Chunk(key, entry.value);
    newest.add(chunk);
    chunks.push(chunk);
  }
  return { chunks, next: undefined };
}
