/**
 * Everyone online, here and on the other nodes, in name order (case-insensitive), so that a
 * page of `who` costs the same however many are online: a binary search and a slice.
 *
 * @example
 * const d = new Directory();
 * d.add("bob", "Bob");
 * d.add("amy", "amy");
 * d.page(undefined, 10); // { users: ["amy", "Bob"], next: undefined }
 */
export class Directory {
  /** Names as shown, by name key. */
  readonly #names = new Map<string, string>();
  /** Sort keys and names, in order. */
  #order: { sort: string; name: string }[] = [];

  /** How many are online. */
  get size(): number {
    return this.#names.size;
  }

  /** Whether a name key is online. */
  has(key: string): boolean {
    return this.#names.has(key);
  }

  /** Someone came online (nothing changes if they were). */
  add(key: string, name: string): void {
    if (this.#names.has(key)) return;
    this.#names.set(key, name);
    const entry = { sort: sortKey(name), name };
    this.#order.splice(this.#after(entry.sort, name), 0, entry);
  }

  /** Someone went offline. */
  remove(key: string): void {
    const name = this.#names.get(key);
    if (name === undefined) return;
    this.#names.delete(key);
    const at = this.#after(sortKey(name), name) - 1;
    if (this.#order[at]?.name === name) this.#order.splice(at, 1);
  }

  /**
   * Up to `limit` names after `after` (a name from an earlier page; from the start when
   * undefined), and the name to pass as `after` for the next page when there is one.
   */
  page(after: string | undefined, limit: number): { users: string[]; next?: string } {
    const start = after === undefined ? 0 : this.#after(sortKey(after), after);
    const slice = this.#order.slice(start, start + limit);
    const users = slice.map((e) => e.name);
    const last = users.at(-1);
    return start + limit < this.#order.length && last !== undefined
      ? { users, next: last }
      : { users };
  }

  /** The names, in order, from the start, for at most `limit`. */
  first(limit: number): string[] {
    return this.#order.slice(0, limit).map((e) => e.name);
  }

  /** Where entries sorting after (sort, name) begin. */
  #after(sort: string, name: string): number {
    let lo = 0;
    let hi = this.#order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.#order[mid] as { sort: string; name: string };
      if (e.sort < sort || (e.sort === sort && e.name <= name)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function sortKey(name: string): string {
  return name.toLowerCase();
}
