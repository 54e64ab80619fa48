// One conversation's timeline: its messages by day, the page's notes among them, what is
// still being sent at the end, and a way to load older messages at the top.
import type { ChatMessage } from "../../../client/mod.ts";
import { type Conversation, conversationKey, type Note, type Pending } from "./conversations.ts";
import { clock, dayOf, el } from "./dom.ts";

/** Why the timeline is drawn again; it decides where the view scrolls. */
export type Redraw = "switch" | "update" | "older" | "mine";

/** How close to the bottom counts as "at the bottom" (px): new lines then keep it there. */
const STICKY_PX = 48;
/** Messages of one sender closer than this are drawn as one group. */
const GROUP_MS = 5 * 60_000;

/**
 * Draws the open conversation into `container` and calls `older` when the reader reaches
 * the top (by scrolling, or with the "Load older messages" button) and the server has more.
 *
 * @example
 * const timeline = new Timeline(byId("timeline"), () => app.loadOlder());
 * timeline.draw(conversation, "ann", "switch");
 */
export class Timeline {
  readonly #container: HTMLElement;
  readonly #older: () => void;
  #key: string | null = null;
  #unreadFrom: string | null = null;
  #loading = false;

  constructor(container: HTMLElement, older: () => void) {
    this.#container = container;
    this.#older = older;
    container.addEventListener("scroll", () => {
      if (container.scrollTop < 80) this.#older();
    });
  }

  /** Whether the view shows the newest line. */
  get atBottom(): boolean {
    const c = this.#container;
    return c.scrollHeight - c.scrollTop - c.clientHeight < STICKY_PX;
  }

  /** Says whether older messages are being loaded (shown at the top). */
  set loading(on: boolean) {
    this.#loading = on;
  }

  /**
   * Switches to `conversation` (before its unread count is cleared): the first message the
   * reader has not seen gets a "New messages" marker.
   */
  open(conversation: Conversation | null): void {
    this.#key = conversation?.key ?? null;
    const unread = conversation?.unread ?? 0;
    const messages = conversation?.messages ?? [];
    this.#unreadFrom = unread > 0 ? (messages[messages.length - unread]?.id ?? null) : null;
  }

  /** Draws `conversation` (or the empty state when none is open). */
  draw(conversation: Conversation | null, me: string, why: Redraw): void {
    const c = this.#container;
    const wasAtBottom = this.atBottom;
    const { scrollTop } = c;
    const fromBottom = c.scrollHeight - scrollTop;
    if ((conversation?.key ?? null) !== this.#key) this.open(conversation);
    if (conversation === null) {
      c.replaceChildren(emptyState());
      return;
    }
    // The button that loads older messages is drawn anew: the keyboard focus stays on it.
    const focused = document.activeElement;
    const onOlder =
      focused instanceof HTMLElement && c.contains(focused) && focused.matches(".older");
    c.replaceChildren(...this.#nodes(conversation, me));
    if (onOlder)
      ((c.querySelector(".older") as HTMLElement | null) ?? c).focus({ preventScroll: true });
    if (why === "switch") {
      const marker = c.querySelector(".new-marker");
      if (marker instanceof HTMLElement && !nearBottom(marker, c)) {
        c.scrollTop = marker.offsetTop - 8;
      } else {
        c.scrollTop = c.scrollHeight;
      }
    } else if (why === "mine" || (why === "update" && wasAtBottom)) {
      c.scrollTop = c.scrollHeight;
    } else if (why === "older") {
      // Older lines above what the reader is looking at: it stays in place.
      c.scrollTop = c.scrollHeight - fromBottom;
    } else {
      c.scrollTop = scrollTop;
    }
  }

  #nodes(conversation: Conversation, me: string): HTMLElement[] {
    const nodes: HTMLElement[] = [];
    const top = el("div", "timeline-top");
    if (conversation.more) {
      const button = el("button", "older", this.#loading ? "Loading…" : "Load older messages");
      button.type = "button";
      button.disabled = this.#loading;
      button.addEventListener("click", () => this.#older());
      top.append(button);
    } else {
      top.append(el("span", "start", `The start of ${describe(conversation)}`));
    }
    nodes.push(top);
    const notes = [...conversation.notes];
    let prev: ChatMessage | null = null;
    let day = "";
    const flushNotes = (upTo: string | null) => {
      while (notes.length > 0 && (upTo === null || (notes[0] as Note).anchor < upTo)) {
        nodes.push(noteNode(notes.shift() as Note));
        prev = null;
      }
    };
    for (const m of conversation.messages) {
      flushNotes(m.id);
      const d = dayOf(m.ts);
      if (d !== day) {
        day = d;
        nodes.push(el("div", "day", d));
        prev = null;
      }
      if (m.id === this.#unreadFrom) {
        nodes.push(el("div", "new-marker", "New messages"));
        prev = null;
      }
      nodes.push(messageNode(m, me, prev));
      prev = m;
    }
    flushNotes(null);
    for (const p of conversation.pending) nodes.push(pendingNode(p, me));
    return nodes;
  }
}

/** Whether `marker` is within the last screenful of `c` (the container is positioned). */
function nearBottom(marker: HTMLElement, c: HTMLElement): boolean {
  return c.scrollHeight - marker.offsetTop < c.clientHeight;
}

function describe(conversation: Conversation): string {
  if (conversation.kind === "all") return "messages to everyone";
  if (conversation.kind === "room") return conversation.target;
  return `your conversation with ${conversation.target}`;
}

function emptyState(): HTMLElement {
  const box = el("div", "empty");
  box.append(
    el("p", "", "Pick a conversation on the left, or join a room."),
    el("p", "", "Commands work here too: /msg name text, /join #room, /help."),
  );
  return box;
}

function messageNode(m: ChatMessage, me: string, prev: ChatMessage | null): HTMLElement {
  const mine = conversationKey(m.from) === conversationKey(me);
  const grouped =
    prev !== null &&
    prev.from === m.from &&
    Date.parse(m.ts) - Date.parse(prev.ts) < GROUP_MS &&
    !m.queued &&
    !m.replay;
  const node = el("div", "msg");
  node.classList.toggle("mine", mine);
  node.classList.toggle("grouped", grouped);
  node.dataset.id = m.id;
  if (!grouped) {
    const head = el("div", "msg-head");
    const time = el("time", "", clock(m.ts));
    time.dateTime = m.ts;
    head.append(el("span", "from", m.from), time);
    if (m.replay && !mine) head.append(el("span", "mark", "missed"));
    else if (m.queued) head.append(el("span", "mark", "held for you"));
    node.append(head);
  } else {
    node.title = clock(m.ts);
  }
  node.append(el("div", "text", m.text));
  return node;
}

function pendingNode(p: Pending, me: string): HTMLElement {
  const node = el("div", `msg mine pending ${p.state}`);
  const head = el("div", "msg-head");
  const state =
    p.state === "sending"
      ? "sending…"
      : p.state === "unsure"
        ? "not confirmed: the connection ended; it may have been sent"
        : `not sent: ${p.error ?? "refused"}`;
  head.append(el("span", "from", me), el("span", "mark", state));
  node.append(head, el("div", "text", p.text));
  return node;
}

function noteNode(note: Note): HTMLElement {
  return el("div", `note ${note.kind}`, note.text);
}
