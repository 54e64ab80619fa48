/**
 * Makes message ids that are unique and sort, by code unit, in the order they were made:
 * the time in milliseconds and a counter, both fixed-width base 36, then a node tag.
 * The clock is read by the caller and passed in, so the same inputs give the same ids.
 *
 * @example
 * const ids = new MessageIds();
 * ids.next(1000) < ids.next(1000); // true
 */
export class MessageIds {
  #last = 0;
  #seq = 0;
  #prefix = "";
  readonly #node: string;

  /** `node` tells apart ids made by different processes at the same millisecond. */
  constructor(node = "") {
    this.#node = node;
  }

  /** The next id, made at time `now` (ms since the epoch); never smaller than the last. */
  next(now: number): string {
    if (now > this.#last) {
      this.#last = now;
      this.#seq = 0;
      this.#prefix = now.toString(36).padStart(9, "0");
    } else if (++this.#seq >= SEQ_LIMIT) {
      // More ids in one millisecond than the counter holds: borrow the next millisecond.
      this.#last++;
      this.#seq = 0;
      this.#prefix = this.#last.toString(36).padStart(9, "0");
    }
    return this.#prefix + this.#seq.toString(36).padStart(4, "0") + this.#node;
  }
}

const SEQ_LIMIT = 36 ** 4;

/**
 * The time (ms since the epoch) a message id was made at, as `MessageIds.next` wrote it.
 *
 * @example
 * idTime(new MessageIds().next(1000)); // 1000
 */
export function idTime(id: string): number {
  return Number.parseInt(id.slice(0, 9), 36);
}

/**
 * The smallest id made at time `ms` or later, by any node: an id that sorts before every
 * message accepted from then on.
 *
 * @example
 * idAt(1000) <= new MessageIds("a").next(1000); // true
 */
export function idAt(ms: number): string {
  return Math.max(0, Math.floor(ms)).toString(36).padStart(9, "0");
}

/** The tag of the node that made an id ("" for a lone node). */
export function idNode(id: string): string {
  return id.slice(13);
}
