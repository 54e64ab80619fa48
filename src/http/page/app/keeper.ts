// When and what the page writes to the storage: a burst of changes makes one write, a
// little later; the most recently active conversations are kept, with the state.
import type { Conversation } from "./conversations.ts";
import { type SavedConversation, type SavedState, save } from "./saved.ts";

/** The most conversations kept for a reload (the most recently active). */
const KEEP_CONVERSATIONS = 50;
/** Many changes in a burst make one write to the storage, this much later. */
const SAVE_DELAY_MS = 200;

/** What there is to keep, at the time of a write; null when nothing is to be written. */
export interface Keepable {
  state: SavedState;
  conversations: Iterable<Conversation>;
  current: Conversation | null;
}

/**
 * The conversations worth keeping: those with messages, the rooms the user is in and the
 * open one, the most recently active first, at most 50.
 *
 * @example
 * keptConversations(conversations.values(), current).length <= 50; // true
 */
export function keptConversations(
  conversations: Iterable<Conversation>,
  current: Conversation | null,
): SavedConversation[] {
  const newest = (c: Conversation) => c.latest?.id ?? "";
  return [...conversations]
    .filter((c) => c.messages.length > 0 || c.member || c === current)
    .sort((a, b) => (newest(a) < newest(b) ? 1 : -1))
    .slice(0, KEEP_CONVERSATIONS)
    .map((c) => ({
      target: c.target,
      unread: c.unread,
      member: c.member,
      messages: c.messages,
    }));
}

/**
 * Writes the page's state and conversations to the storage (saved.ts), now or soon: `what`
 * says what there is to keep at the time of the write (null: nothing, e.g. logged out).
 *
 * @example
 * const keeper = new Keeper(() => (state ? { state, conversations, current } : null));
 * keeper.soon();
 */
export class Keeper {
  readonly #what: () => Keepable | null;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(what: () => Keepable | null) {
    this.#what = what;
  }

  /** Writes once, a little later, however many changes come meanwhile. */
  soon(): void {
    this.#timer ??= setTimeout(() => this.now(), SAVE_DELAY_MS);
  }

  /** Writes now (and not again for the changes before). */
  now(): void {
    this.cancel();
    const what = this.#what();
    if (what === null) return;
    save(what.state, keptConversations(what.conversations, what.current));
  }

  /** Forgets a write that was to come. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
