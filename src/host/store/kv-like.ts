/** A part of a Deno KV key. */
export type KvKeyPart = string | number | bigint | boolean | Uint8Array;
/** A Deno KV key. */
export type KvKey = readonly KvKeyPart[];

/** The part of a Deno KV atomic operation the store uses. */
export interface AtomicLike {
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
 *
 * @example
 * const kv: KvLike = await openKv(":memory:"); // Deno's, or @deno/kv's
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
