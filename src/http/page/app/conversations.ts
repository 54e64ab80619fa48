// The page's model of its conversations, without the DOM: which conversation a message
// belongs to, each one's messages in id order, what is unread, what is still being sent.
import type { ChatMessage } from "../../../client/mod.ts";

/** A room, one person, or everyone online (`*`). */
export type ConversationKind = "room" | "person" | "all";

/** A message the page sent and whose `ok` has not come (yet). */
export interface Pending {
  /** The page's own number for it (not a message id). */
  seq: number;
  to: string;
  text: string;
  /** `unsure`: the connection ended before the reply; the server may have kept it. */
  state: "sending" | "failed" | "unsure";
  /** Why it failed, for people. */
  error?: string;
}

/** A line of the page's own in a timeline (a command's answer, someone joined); never stored. */
export interface Note {
  /** The newest message id when it was written: it shows after that message. */
  anchor: string;
  text: string;
  kind: "info" | "error" | "announce";
}

/**
 * The key of a conversation: targets that name the same user or room (`Bob`, `bob`) share it.
 *
 * @example
 * conversationKey("#Dev"); // "#dev"
 */
export function conversationKey(target: string): string {
  return target.normalize("NFKC").toLowerCase();
}

/**
 * What kind of conversation a target is: `#room`, `*`, or a person's name.
 *
 * @example
 * kindOf("#dev"); // "room"
 */
export function kindOf(target: string): ConversationKind {
  return target === "*" ? "all" : target.startsWith("#") ? "room" : "person";
}

/**
 * The target of the conversation a message belongs to, for the user `me`: the room, `*`,
 * or the other person of a private message (whoever sent it).
 *
 * @example
 * conversationOf({ type: "message", id: "1", from: "bo", to: "ann", text: "hi", ts: "" }, "ann"); // "bo"
 */
export function conversationOf(m: ChatMessage, me: string): string {
  if (m.to === "*" || m.to.startsWith("#")) return m.to;
  return conversationKey(m.from) === conversationKey(me) ? m.to : m.from;
}

/** The index of the first message whose id is not below `id` (ids sort by code unit). */
function lowerBound(messages: readonly ChatMessage[], id: string): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((messages[mid] as ChatMessage).id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The most notes a conversation keeps: they are for the moment, not for the record. */
const MAX_NOTES = 50;

/**
 * One conversation as the page shows it: its messages in id order (which is the order the
 * relay accepted them), each once; the messages being sent; notes; the unread count.
 *
 * @example
 * const c = new Conversation("#dev");
 * c.add([{ type: "message", id: "2", from: "bo", to: "#dev", text: "b", ts: "" }]);
 * c.latest?.text; // "b"
 */
export class Conversation {
  /** The conversation's key (see {@link conversationKey}). */
  readonly key: string;
  readonly kind: ConversationKind;
  /** Where its messages go: the name as the server last spelled it, a room or `*`. */
  target: string;
  /** Oldest first, each id once. */
  messages: ChatMessage[] = [];
  pending: Pending[] = [];
  notes: Note[] = [];
  unread = 0;
  /** Whether the server may hold messages older than the oldest here. */
  more = true;
  /** Whether its newest page was asked of the server since the page loaded. */
  loaded = false;
  /** For a room: whether the user is a member. */
  member = false;

  constructor(target: string) {
    this.target = target;
    this.key = conversationKey(target);
    this.kind = kindOf(target);
  }

  /** The newest message, if any. */
  get latest(): ChatMessage | undefined {
    return this.messages.at(-1);
  }

  /** Whether a message with this id is here. */
  has(id: string): boolean {
    const at = lowerBound(this.messages, id);
    return this.messages[at]?.id === id;
  }

  /** Adds messages in any order, each id once; returns those that were new. */
  add(messages: readonly ChatMessage[]): ChatMessage[] {
    const added: ChatMessage[] = [];
    for (const m of messages) {
      const last = this.messages.at(-1);
      // New messages almost always come last.
      if (last === undefined || last.id < m.id) {
        this.messages.push(m);
      } else {
        const at = lowerBound(this.messages, m.id);
        if (this.messages[at]?.id === m.id) continue;
        this.messages.splice(at, 0, m);
      }
      added.push(m);
    }
    return added;
  }

  /**
   * Takes the newest page of its history (oldest first). When that page does not reach
   * back to the messages already here and the server has older ones, there may be a hole
   * between them: the older ones are dropped, and scrolling up loads them again in order.
   */
  newestPage(page: readonly ChatMessage[], more: boolean): void {
    const oldest = page[0];
    const newestHere = this.messages.at(-1);
    if (oldest !== undefined && more && newestHere !== undefined && newestHere.id < oldest.id) {
      this.messages = [];
    }
    // `more` speaks of what is older than the page: it is the conversation's when nothing
    // here is older than the page.
    const first = this.messages[0];
    if (first === undefined || oldest === undefined || first.id >= oldest.id) this.more = more;
    this.add(page);
    this.loaded = true;
  }

  /** Takes a page of older messages, asked for with `before` set to the oldest id here. */
  olderPage(page: readonly ChatMessage[], more: boolean): void {
    this.add(page);
    this.more = more && page.length > 0;
  }

  /** Keeps as many messages as `keep`, the newest; the older can be asked for again. */
  trim(keep: number): void {
    if (this.messages.length <= keep) return;
    this.messages = this.messages.slice(-keep);
    this.more = true;
  }

  /** Adds a note after the newest message. */
  note(text: string, kind: Note["kind"] = "info"): void {
    this.notes.push({ anchor: this.latest?.id ?? "", text, kind });
    if (this.notes.length > MAX_NOTES) this.notes.splice(0, this.notes.length - MAX_NOTES);
  }

  /**
   * Removes the message being sent that `m` (a message from the user, e.g. sent again by
   * a resume after its reply was lost) turns out to be; returns whether there was one.
   */
  settle(m: ChatMessage): boolean {
    const at = this.pending.findIndex(
      (p) => p.text === m.text && conversationKey(p.to) === conversationKey(m.to),
    );
    if (at === -1) return false;
    this.pending.splice(at, 1);
    return true;
  }
}
