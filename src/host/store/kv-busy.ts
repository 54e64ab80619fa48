import type { AtomicLike, KvKey, KvLike, KvListSelector } from "./kv-like.ts";

/**
 * Waits between the tries of a commit that found the SQLite file busy (ms): about 3 s in
 * all, each wait drawn between half and all of its figure, so that connections that
 * collided do not collide again in step.
 */
const WAITS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 500, 500, 500, 500, 500];

/**
 * Whether an error is SQLite's "database is locked" (SQLITE_BUSY), as Deno KV on a local
 * file throws it (on Deno and through `@deno/kv` on Node alike): a commit with checks (an atomic
 * read-then-write) cannot take the write lock because another connection to the same file
 * wrote since it read. Nothing was written; the commit may be tried again.
 *
 * @example
 * isBusy(new TypeError("database is locked")); // true
 */
export function isBusy(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /database (table )?is (locked|busy)|SQLITE_BUSY/i.test(message);
}

/** What an atomic operation was asked to do, to do it again on a fresh one. */
type Step =
  | { op: "check"; checks: { key: KvKey; versionstamp: string | null }[] }
  | { op: "set"; key: KvKey; value: unknown; options?: { expireIn?: number } }
  | { op: "delete"; key: KvKey };

/**
 * A Deno KV whose commits are tried again while the SQLite file is busy: when several
 * connections share one file (processes, or a Deno Deploy deployment's isolates run
 * locally), a checked commit can fail with "database is locked" although nothing is wrong.
 * Each try is a fresh atomic operation with the same checks and mutations, so checks that
 * now fail make it `{ ok: false }`, as they would have. After 2 to 3 s of tries the error is
 * thrown as it came: the store is not usable for now, and the caller says so.
 *
 * @example
 * const store = new KvStore(await openKv("./data/relay.kv")); // wraps its KV in this
 */
export class RetryWhenBusy implements KvLike {
  readonly #kv: KvLike;
  readonly #waits: readonly number[];

  constructor(kv: KvLike, waits: readonly number[] = WAITS) {
    this.#kv = kv;
    this.#waits = waits;
  }

  get<T = unknown>(key: KvKey): Promise<{ value: T | null; versionstamp: string | null }> {
    return this.#kv.get<T>(key);
  }

  list<T = unknown>(
    selector: KvListSelector,
    options?: { reverse?: boolean; limit?: number; batchSize?: number },
  ): AsyncIterable<{ key: readonly unknown[]; value: T; versionstamp: string }> {
    return this.#kv.list<T>(selector, options);
  }

  atomic(): AtomicLike {
    return new RetriedAtomic(this.#kv, this.#waits);
  }

  close(): void {
    this.#kv.close();
  }
}

/** An atomic operation that remembers its steps, to commit them again while busy. */
class RetriedAtomic implements AtomicLike {
  readonly #kv: KvLike;
  readonly #waits: readonly number[];
  readonly #steps: Step[] = [];

  constructor(kv: KvLike, waits: readonly number[]) {
    this.#kv = kv;
    this.#waits = waits;
  }

  check(...checks: { key: KvKey; versionstamp: string | null }[]): this {
    this.#steps.push({ op: "check", checks });
    return this;
  }

  set(key: KvKey, value: unknown, options?: { expireIn?: number }): this {
    this.#steps.push(
      options === undefined ? { op: "set", key, value } : { op: "set", key, value, options },
    );
    return this;
  }

  delete(key: KvKey): this {
    this.#steps.push({ op: "delete", key });
    return this;
  }

  async commit(): Promise<{ ok: boolean; versionstamp?: string }> {
    for (let tries = 0; ; tries++) {
      try {
        return await this.#fresh().commit();
      } catch (error) {
        const wait = this.#waits[tries];
        if (wait === undefined || !isBusy(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait * (0.5 + Math.random() / 2)));
      }
    }
  }

  /** A new atomic operation of the underlying KV, with every step. */
  #fresh(): AtomicLike {
    const op = this.#kv.atomic();
    for (const step of this.#steps) {
      if (step.op === "check") op.check(...step.checks);
      else if (step.op === "delete") op.delete(step.key);
      else if (step.options === undefined) op.set(step.key, step.value);
      else op.set(step.key, step.value, step.options);
    }
    return op;
  }
}
