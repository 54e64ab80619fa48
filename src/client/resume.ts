import { RecentIds } from "./recent-ids.ts";
import type { HistoryReply } from "./types.ts";

/** The most conversations asked for a resume baseline at a login (see `baseline`). */
const BASELINE_MAX = 10;

/**
 * Where the next login resumes from (docs/protocol.md §11.4): the newest message id seen,
 * in events and in the `ok` of own sends, and the last ids emitted, so that none is
 * emitted twice.
 *
 * @example
 * const point = new ResumePoint(undefined);
 * point.fresh("m1"); // true: emit it
 * point.fresh("m1"); // false: seen already
 * point.since; // "m1"
 */
export class ResumePoint {
  readonly #recent = new RecentIds();
  #since: string | undefined;

  constructor(since: string | undefined) {
    this.#since = since;
  }

  /** The newest message id seen; undefined before any. */
  get since(): string | undefined {
    return this.#since;
  }

  /** A message event's id: whether it is new (then it is remembered), or emitted before. */
  fresh(id: string): boolean {
    if (this.#recent.has(id)) return false;
    this.#recent.add(id);
    this.#saw(id);
    return true;
  }

  /** The id of a message this client sent (its `ok`): a resume need not bring it back. */
  sent(id: string): void {
    this.#saw(id);
    this.#recent.add(id);
  }

  /**
   * Until a message id was seen there is nothing to resume from: takes the newest id of
   * these conversations (`*` and rooms), asking `history` with `limit: 1`, so that a drop
   * before the first message loses none of what follows. Asks at most 10 of them, and
   * nothing once an id is known.
   */
  baseline(
    ask: (command: { type: "history"; with: string; limit: 1 }) => Promise<HistoryReply>,
    conversations: string[],
  ): void {
    if (this.#since !== undefined) return;
    for (const conversation of conversations.slice(0, BASELINE_MAX)) {
      ask({ type: "history", with: conversation, limit: 1 }).then(
        (page) => {
          const newest = page.messages.at(-1);
          if (newest !== undefined) this.#saw(newest.id);
        },
        () => {},
      );
    }
  }

  #saw(id: string): void {
    if (this.#since === undefined || id > this.#since) this.#since = id;
  }
}
