import type { AtomicLike, KvKey, KvLike } from "./kv-like.ts";

// Deno KV refuses a commit of more than 1000 mutations, 800 KiB in all or 80 KiB of keys;
// a batch is split into commits that stay well inside those, by a generous estimate.
const COMMIT_MUTATIONS = 500;
/** The bytes of one commit, at most (by the estimate of `Commits`). */
export const COMMIT_BYTES = 400 * 1024;
const COMMIT_KEY_BYTES = 40 * 1024;

/**
 * Writes gathered into as few atomic commits as Deno KV's limits allow.
 *
 * @example
 * const writes = new Commits(kv);
 * for (const [key, value] of pairs) writes.set(key, value);
 * await writes.flush(); // one commit, or several when they pass a limit
 */
export class Commits {
  readonly #kv: KvLike;
  #op: AtomicLike | undefined;
  #mutations = 0;
  #bytes = 0;
  #keyBytes = 0;
  readonly #done: Promise<{ ok: boolean }>[] = [];

  constructor(kv: KvLike) {
    this.#kv = kv;
  }

  /** Sets a key in the next commit; `bytes`: more than the value takes serialized. */
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
