import { idAt, idTime } from "./ids.ts";

/**
 * The messages this node heard from the others in the last minute (by id), and the newest
 * time it heard of: a message that comes twice (a publish sent again after a reconnect) is
 * dropped the second time. When the bus comes back after a cut, the node reads the logs of
 * its rooms and `*` from a little before that time, and delivers what it did not hear; a
 * message heard both ways is delivered once.
 *
 * @example
 * const heard = new HeardMessages();
 * heard.add(id); // true the first time, false after
 */
export class HeardMessages {
  readonly #ids = new Set<string>();
  /** Ids in the order heard, to forget them once they are older than the window. */
  #order: string[] = [];
  #head = 0;
  /** The newest message time heard, or the last time the node (re)joined. */
  #newest = 0;

  /** Notes a message heard; false when it was heard already. */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    this.#order.push(id);
    const time = idTime(id);
    if (time > this.#newest) this.#newest = time;
    this.#forget();
    return true;
  }

  /** Notes that the node heard the bus at time `now` (it started, or came back). */
  touch(now: number): void {
    if (now > this.#newest) this.#newest = now;
  }

  /** Whether a message was heard. */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** The id to read the logs from after a cut: a window before the newest heard. */
  since(): string {
    return idAt(this.#newest - HEARD_WINDOW_MS);
  }

  /**
   * Forgets messages heard more than a minute before the newest one (or the oldest, past a
   * count that bounds memory). A minute, not the catch-up window: a publish in flight when
   * a Redis connection dropped is sent again once it is back, and comes a second time.
   */
  #forget(): void {
    const oldest = this.#newest - REMEMBER_MS;
    while (this.#head < this.#order.length) {
      const id = this.#order[this.#head] as string;
      if (idTime(id) >= oldest && this.#ids.size <= REMEMBER_MAX) break;
      this.#ids.delete(id);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
  }
}

/**
 * How far back a node reads after a cut, before the newest message it heard: more than a
 * message takes between being accepted elsewhere and being published (its log commit).
 */
export const HEARD_WINDOW_MS = 5000;

/** How long, and how many, heard message ids are remembered to drop a second copy. */
const REMEMBER_MS = 60_000;
const REMEMBER_MAX = 500_000;
