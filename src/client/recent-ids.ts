/**
 * The last `capacity` message ids the client emitted: a safety net that keeps a message
 * from being emitted twice if a server ever replays one (dedupe across a resume is the
 * server's job, docs/protocol.md §11.4). Memory stays bounded: the oldest id goes first.
 *
 * @example
 * const seen = new RecentIds(2);
 * seen.add("a"); seen.add("b"); seen.add("c");
 * seen.has("a"); // false: forgotten
 * seen.has("c"); // true
 */
export class RecentIds {
  readonly #ids = new Set<string>();
  readonly #capacity: number;

  constructor(capacity = 1000) {
    this.#capacity = capacity;
  }

  /** Whether `id` is among the last ones added. */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Remembers `id`, forgetting the oldest when full. */
  add(id: string): void {
    if (this.#ids.has(id)) return;
    this.#ids.add(id);
    // A Set iterates in insertion order: its first id is the oldest.
    if (this.#ids.size > this.#capacity) {
      for (const oldest of this.#ids) {
        this.#ids.delete(oldest);
        break;
      }
    }
  }
}
