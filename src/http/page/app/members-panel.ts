// The panel beside the timeline that shows who is online there (members.ts): a button per
// name to talk to them, and at the end a button for the next page, pressed by itself when
// the reader scrolls down to it.
import { conversationKey } from "./conversations.ts";
import { el } from "./dom.ts";
import type { Elements } from "./elements.ts";
import { MAX_MEMBER_PAGES, type MemberView } from "./members.ts";

/** What the panel tells the page. */
export interface MembersPanelEvents {
  /** A name was picked: talk to them. */
  pick(name: string): void;
  /** The next page is wanted (the button, or the reader scrolled down to it). */
  more(): void;
}

/**
 * Draws a {@link MemberView} into the page's `#members` panel, only when it changed; the
 * entries are kept per name, so that the focus stays where it was.
 *
 * @example
 * const panel = new MembersPanel(findElements(), { pick: select, more: () => members.more() });
 * panel.draw(members.view, "Online in #dev", "ann");
 */
export class MembersPanel {
  readonly #ui: Elements;
  readonly #events: MembersPanelEvents;
  #rows = new Map<string, HTMLLIElement>();
  /** What was drawn last: the same again draws nothing. */
  #drawn = "";

  constructor(ui: Elements, events: MembersPanelEvents) {
    this.#ui = ui;
    this.#events = events;
    ui.membersMore.addEventListener("click", () => events.more());
    // Scrolling down to the end asks for the next page, as the button would.
    new IntersectionObserver((entries) => {
      const inView = entries.some((e) => e.isIntersecting);
      if (inView && !ui.membersMore.hidden && !ui.membersMore.disabled) events.more();
    }).observe(ui.membersMore);
  }

  /** Shows `view` under `title` (`me` is the user: not a button), or hides the panel for null. */
  draw(view: MemberView | null, title: string, me: string): void {
    const ui = this.#ui;
    ui.members.hidden = view === null;
    if (view === null) {
      this.#drawn = "";
      return;
    }
    const drawn = `${view.target}\n${view.version}\n${title}\n${me}`;
    if (drawn === this.#drawn) return;
    const fresh = !this.#drawn.startsWith(`${view.target}\n`);
    if (fresh) this.#rows.clear();
    this.#drawn = drawn;
    ui.membersTitle.textContent = title;
    const meKey = conversationKey(me);
    const kept = new Map<string, HTMLLIElement>();
    const rows = view.names.map((name) => this.#row(kept, name, conversationKey(name) === meKey));
    this.#rows = kept;
    const same =
      ui.membersList.children.length === rows.length &&
      rows.every((li, i) => ui.membersList.children[i] === li);
    if (!same) ui.membersList.replaceChildren(...rows);
    // Another conversation's list starts at its top, not where the last one was scrolled to
    // (which would also ask for its next page at once).
    if (fresh) ui.members.scrollTop = 0;
    this.#drawEnd(view);
  }

  /** The end of the list: the button for the next page, or how many are not shown. */
  #drawEnd(view: MemberView): void {
    const ui = this.#ui;
    const rest = view.online === undefined ? 0 : Math.max(0, view.online - view.names.length);
    const capped = view.more && !view.canLoadMore && !view.loading;
    ui.membersMore.hidden = !view.more || capped;
    ui.membersMore.disabled = view.loading;
    ui.membersMore.textContent = view.loading ? "Loading…" : `Show more (${rest} more online)`;
    ui.membersRest.hidden = !capped;
    ui.membersRest.textContent = capped
      ? `and ${rest} more online (the first ${MAX_MEMBER_PAGES * 1000} are shown)`
      : "";
  }

  /** The entry of `name`, made or the one drawn before, kept in `kept`. */
  #row(kept: Map<string, HTMLLIElement>, name: string, me: boolean): HTMLLIElement {
    const id = `${me ? "me" : "other"}\n${name}`;
    const found = this.#rows.get(id);
    if (found) {
      kept.set(id, found);
      return found;
    }
    const li = el("li");
    if (me) {
      li.append(el("span", "member me", `${name} (you)`));
    } else {
      const button = el("button", "member", name);
      button.type = "button";
      button.title = `Talk to ${name}`;
      button.addEventListener("click", () => this.#events.pick(name));
      li.append(button);
    }
    kept.set(id, li);
    return li;
  }
}
