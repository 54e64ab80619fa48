/**
 * Everyone online, here and on the other nodes, in name order (case-insensitive), so that a
 * login, a logout and a page of `who` cost about the same however many are online.
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
  /**
   * The entries in order, cut in blocks of `BLOCK / 4` to `2 * BLOCK` (the only one may be
   * shorter), none empty: an add or a remove moves the entries of one block and, now and
   * then, the list of blocks, never all the entries (one sorted array took 0.4-0.75 ms to
   * add and remove a name with 100,000 online).
   */
  readonly #blocks: Entry[][] = [];

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
    const b = this.#blockOf(entry.sort, name);
    const block = this.#blocks[b];
    if (block === undefined) {
      this.#blocks.push([entry]);
      return;
    }
    block.splice(after(block, entry.sort, name), 0, entry);
    if (block.length > 2 * BLOCK) this.#blocks.splice(b + 1, 0, block.splice(BLOCK));
  }

  /** Someone went offline. */
  remove(key: string): void {
    const name = this.#names.get(key);
    if (name === undefined) return;
    this.#names.delete(key);
    const sort = sortKey(name);
    const b = this.#blockOf(sort, name);
    const block = this.#blocks[b];
    if (block === undefined) return;
    const at = after(block, sort, name) - 1;
    if (block[at]?.name === name) block.splice(at, 1);
    if (block.length === 0) this.#blocks.splice(b, 1);
    else if (block.length < BLOCK / 4) this.#merge(b);
  }

  /**
   * Up to `limit` names after `after` (a name from an earlier page; from the start when
   * undefined), and the name to pass as `after` for the next page when there is one.
   */
  page(after: string | undefined, limit: number): { users: string[]; next?: string } {
    let [b, i] = after === undefined ? [0, 0] : this.#positionAfter(sortKey(after), after);
    const users: string[] = [];
    for (; b < this.#blocks.length && users.length < limit; b++, i = 0) {
      const block = this.#blocks[b] as Entry[];
      const end = Math.min(block.length, i + limit - users.length);
      for (; i < end; i++) users.push((block[i] as Entry).name);
      if (i < block.length) break;
    }
    const more = b < this.#blocks.length;
    const last = users.at(-1);
    return more && last !== undefined ? { users, next: last } : { users };
  }

  /** The names, in order, from the start, for at most `limit`. */
  first(limit: number): string[] {
    return this.page(undefined, limit).users;
  }

  /** The block an entry (sort, name) is in or goes in: the last one starting at or before it. */
  #blockOf(sort: string, name: string): number {
    let lo = 0;
    let hi = this.#blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const first = (this.#blocks[mid] as Entry[])[0] as Entry;
      if (atOrBefore(first, sort, name)) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(0, lo - 1);
  }

  /**
   * Merges a block grown small with a neighbour (then cut in two halves if too big), so that
   * blocks stay at least `BLOCK / 4` long whatever the comings and goings.
   */
  #merge(b: number): void {
    const lo = b + 1 < this.#blocks.length ? b : b - 1;
    if (lo < 0) return;
    const merged = (this.#blocks[lo] as Entry[]).concat(this.#blocks[lo + 1] as Entry[]);
    if (merged.length <= 2 * BLOCK) this.#blocks.splice(lo, 2, merged);
    else this.#blocks.splice(lo, 2, merged.slice(0, BLOCK), merged.slice(BLOCK));
  }

  /** Where the entries sorting after (sort, name) begin: a block and an index in it. */
  #positionAfter(sort: string, name: string): [number, number] {
    const b = this.#blockOf(sort, name);
    const block = this.#blocks[b];
    if (block === undefined) return [0, 0];
    const i = after(block, sort, name);
    return i < block.length ? [b, i] : [b + 1, 0];
  }
}

/** A name online, with the key it sorts by. */
interface Entry {
  sort: string;
  name: string;
}

/** Half the most entries a block holds. */
const BLOCK = 256;

/** Whether an entry sorts at or before (sort, name). */
function atOrBefore(e: Entry, sort: string, name: string): boolean {
  return e.sort < sort || (e.sort === sort && e.name <= name);
}

/** Where the entries of a block sorting after (sort, name) begin. */
function after(block: Entry[], sort: string, name: string): number {
  let lo = 0;
  let hi = block.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (atOrBefore(block[mid] as Entry, sort, name)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sortKey(name: string): string {
  return name.toLowerCase();
}
