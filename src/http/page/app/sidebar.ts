// The list of conversations: rooms (and everyone), then people, each with its unread count
// and latest line. Entries are kept per conversation and updated in place, so that a click
// or the keyboard focus is not lost when a message arrives.
import type { ChatMessage } from "../../../client/mod.ts";
import { conversationKey } from "./conversations.ts";
import { el } from "./dom.ts";

/** One entry of the list. */
export interface SidebarEntry {
  target: string;
  /** What the entry is called (`everyone` for `*`). */
  label: string;
  unread: number;
  latest?: ChatMessage | undefined;
  /** For people: whether they are online. */
  online?: boolean;
}

interface Row {
  li: HTMLLIElement;
  button: HTMLButtonElement;
  name: HTMLSpanElement;
  badge: HTMLSpanElement;
  last: HTMLSpanElement;
  dot: HTMLSpanElement | null;
}

/**
 * Draws the conversations into two lists (rooms, people) and calls `pick` with the target
 * of the one clicked.
 *
 * @example
 * const sidebar = new Sidebar(byId("rooms"), byId("people"), (target) => app.select(target));
 * sidebar.render({ rooms: [], people: [] }, null, "ann");
 */
export class Sidebar {
  readonly #lists: { rooms: HTMLElement; people: HTMLElement };
  readonly #pick: (target: string) => void;
  readonly #rows = new Map<string, Row>();
  #order: string[] = [];

  constructor(rooms: HTMLElement, people: HTMLElement, pick: (target: string) => void) {
    this.#lists = { rooms, people };
    this.#pick = pick;
  }

  /** The targets in the order shown: rooms first, then people. */
  get order(): readonly string[] {
    return this.#order;
  }

  /** Shows these entries; `current` is the open conversation's target, `me` the user's name. */
  render(
    entries: { rooms: SidebarEntry[]; people: SidebarEntry[] },
    current: string | null,
    me: string,
  ): void {
    const currentKey = current === null ? null : conversationKey(current);
    const seen = new Set<string>();
    this.#order = [];
    for (const section of ["rooms", "people"] as const) {
      const list = this.#lists[section];
      const rows: HTMLLIElement[] = [];
      for (const entry of entries[section]) {
        const key = conversationKey(entry.target);
        if (seen.has(key)) continue;
        seen.add(key);
        this.#order.push(entry.target);
        const row = this.#row(key, section === "people");
        this.#fill(row, entry, key === currentKey, me);
        rows.push(row.li);
      }
      // Moving a focused element would drop its focus: the lists are rebuilt only when
      // their order changed.
      const same =
        list.children.length === rows.length && rows.every((li, i) => list.children[i] === li);
      if (!same) list.replaceChildren(...rows);
    }
    for (const [key, row] of this.#rows) {
      if (!seen.has(key)) {
        row.li.remove();
        this.#rows.delete(key);
      }
    }
  }

  /** Moves the keyboard focus to the entry of `target`, if shown. */
  focus(target: string): void {
    this.#rows.get(conversationKey(target))?.button.focus();
  }

  #row(key: string, person: boolean): Row {
    const found = this.#rows.get(key);
    if (found && (found.dot !== null) === person) return found;
    const li = el("li");
    const button = el("button", "conv");
    button.type = "button";
    const top = el("span", "conv-top");
    const dot = person ? el("span", "dot") : null;
    const name = el("span", "conv-name");
    const badge = el("span", "badge");
    const last = el("span", "conv-last");
    if (dot) top.append(dot);
    top.append(name, badge);
    button.append(top, last);
    li.append(button);
    const row: Row = { li, button, name, badge, last, dot };
    button.addEventListener("click", () => this.#pick(button.dataset.target ?? ""));
    this.#rows.set(key, row);
    return row;
  }

  #fill(row: Row, entry: SidebarEntry, current: boolean, me: string): void {
    row.button.dataset.target = entry.target;
    row.button.classList.toggle("current", current);
    row.button.classList.toggle("unread", entry.unread > 0);
    if (current) row.button.setAttribute("aria-current", "true");
    else row.button.removeAttribute("aria-current");
    setText(row.name, entry.label);
    setText(row.badge, entry.unread > 0 ? String(entry.unread) : "");
    row.badge.hidden = entry.unread === 0;
    const line = latestLine(entry, me);
    setText(row.last, line);
    row.last.hidden = line === "";
    if (row.dot) {
      row.dot.classList.toggle("online", entry.online === true);
      row.dot.title = entry.online ? "online" : "offline";
    }
    const parts = [entry.label];
    if (entry.online !== undefined) parts.push(entry.online ? "online" : "offline");
    if (entry.unread > 0) parts.push(`${entry.unread} unread`);
    row.button.setAttribute("aria-label", parts.join(", ") + (line ? `. ${line}` : ""));
  }
}

/**
 * The target `delta` entries (1 down, -1 up) from the entry with key `current` in `order`,
 * going round, skipping those `wanted` refuses; from the top (or the bottom, going up)
 * when none is current. Undefined when no entry is wanted.
 *
 * @example
 * stepFrom(["*", "#dev", "bo"], "#dev", 1, () => true); // "bo"
 */
export function stepFrom(
  order: readonly string[],
  current: string | null,
  delta: 1 | -1,
  wanted: (target: string) => boolean,
): string | undefined {
  if (order.length === 0) return undefined;
  const at =
    current !== null
      ? order.findIndex((t) => conversationKey(t) === current)
      : delta === 1
        ? -1
        : order.length;
  for (let i = 1; i <= order.length; i++) {
    const target = order[(((at + delta * i) % order.length) + order.length) % order.length];
    if (target !== undefined && wanted(target)) return target;
  }
  return undefined;
}

/** The latest line of a conversation, short: who said it (in rooms, or "you") and what. */
function latestLine(entry: SidebarEntry, me: string): string {
  const m = entry.latest;
  if (m === undefined) return "";
  const text = m.text.length > 160 ? `${m.text.slice(0, 160)}…` : m.text;
  if (conversationKey(m.from) === conversationKey(me)) return `you: ${text}`;
  return entry.target.startsWith("#") || entry.target === "*" ? `${m.from}: ${text}` : text;
}

function setText(node: HTMLElement, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}
