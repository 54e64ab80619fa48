// What the chat page draws around the timeline, once per frame: the list of conversations,
// the open conversation's head, who is online beside it, the unread counts in the title; and
// which of the two screens shows (the login form or the app), with the status line.
import { type Conversation, conversationKey } from "./conversations.ts";
import type { Elements } from "./elements.ts";
import type { MemberView } from "./members.ts";
import { MembersPanel } from "./members-panel.ts";
import { notificationsSupported } from "./notify.ts";
import type { Online } from "./online.ts";
import { Sidebar, type SidebarEntry } from "./sidebar.ts";
import { type Redraw, Timeline } from "./timeline.ts";

/** The order of importance of redraws that meet in one frame. */
const REDRAW_RANK: Record<Redraw, number> = { update: 0, older: 1, mine: 2, switch: 3 };

/** What the view draws: the page's state at the time of the frame. */
export interface ViewModel {
  /** The user's name ("" when nobody is logged in). */
  me: string;
  current: Conversation | null;
  conversations: ReadonlyMap<string, Conversation>;
  online: Online;
  /** Who is online beside the open conversation, as far as it was fetched. */
  members: MemberView | null;
}

/** What the view tells the page. */
export interface ViewEvents {
  /** A conversation or a person was picked (in the list or among who is online). */
  pick(target: string): void;
  /** The reader reached the top of the timeline: load older messages. */
  older(): void;
  /** The reader reached the end of who is online: the next page. */
  more(): void;
}

/**
 * Draws the chat page from its {@link ViewModel}: whatever changed, once per animation
 * frame (or 200 ms, in a hidden tab), with the timeline scrolled as the most important
 * {@link Redraw} of the frame asks.
 *
 * @example
 * const view = new ChatView(findElements(), () => model, { pick: select, older: loadOlder });
 * view.render("update");
 */
export class ChatView {
  /** The list of conversations. */
  readonly sidebar: Sidebar;
  /** The open conversation's messages. */
  readonly timeline: Timeline;
  readonly #members: MembersPanel;
  readonly #ui: Elements;
  readonly #model: () => ViewModel;
  #redraw: Redraw | null = null;
  #frame = false;

  constructor(ui: Elements, model: () => ViewModel, events: ViewEvents) {
    this.#ui = ui;
    this.#model = model;
    this.sidebar = new Sidebar(ui.rooms, ui.people, (target) => events.pick(target));
    this.timeline = new Timeline(ui.timeline, () => events.older());
    this.#members = new MembersPanel(ui, {
      pick: (name) => events.pick(name),
      more: () => events.more(),
    });
  }

  /** Draws what changed once per frame, however many messages came in it. */
  render(why?: Redraw): void {
    if (
      why !== undefined &&
      (this.#redraw === null || REDRAW_RANK[why] > REDRAW_RANK[this.#redraw])
    ) {
      this.#redraw = why;
    }
    if (this.#frame) return;
    this.#frame = true;
    const flush = () => this.#flush();
    requestAnimationFrame(flush);
    // A hidden tab gets no frames; its title and unread counts are still kept up to date.
    setTimeout(flush, 200);
  }

  /** Shows the app (the login form goes), for the user `me`. */
  showApp(me: string): void {
    const ui = this.#ui;
    ui.login.hidden = true;
    ui.app.hidden = false;
    ui.logout.hidden = false;
    ui.me.textContent = me;
    const toggle = ui.notify.closest("label");
    if (toggle) toggle.hidden = !notificationsSupported();
  }

  /** Shows the login form with `message` (the app goes), the focus in its first empty field. */
  showLogin(message: string): void {
    const ui = this.#ui;
    ui.app.hidden = true;
    ui.logout.hidden = true;
    ui.resume.hidden = true;
    ui.login.hidden = false;
    const toggle = ui.notify.closest("label");
    if (toggle) toggle.hidden = true;
    ui.me.textContent = "";
    ui.loginError.textContent = message;
    ui.loginButton.disabled = false;
    this.status("not logged in", "offline");
    (ui.name.value ? ui.password : ui.name).focus();
  }

  /** The status line: connecting, online as, reconnecting... */
  status(text: string, kind: "online" | "offline" | "" = ""): void {
    this.#ui.status.className = kind;
    this.#ui.status.textContent = text;
  }

  #flush(): void {
    if (!this.#frame) return;
    this.#frame = false;
    const why = this.#redraw;
    this.#redraw = null;
    const model = this.#model();
    const { me, current } = model;
    this.sidebar.render(entries(model), current?.target ?? null, me);
    if (why !== null) this.timeline.draw(current, me, why);
    this.#drawHead(model);
    this.#members.draw(
      model.members,
      current?.kind === "all" ? "Online" : `Online in ${current?.target}`,
      me,
    );
    let unread = 0;
    for (const c of model.conversations.values()) unread += c.unread;
    document.title = unread > 0 ? `(${unread}) relay` : "relay";
    this.#ui.unreadTotal.textContent = unread > 0 ? String(unread) : "";
    this.#ui.unreadTotal.hidden = unread === 0;
  }

  #drawHead({ current: c, online, members }: ViewModel): void {
    const ui = this.#ui;
    ui.title.textContent = c === null ? "relay" : c.kind === "all" ? "everyone" : c.target;
    ui.leave.hidden = c?.kind !== "room";
    let subtitle = "";
    // The count of the list's last page is the newest the server gave; until it comes, the welcome's.
    if (c?.kind === "all") subtitle = `everyone online: ${members?.online ?? online.count}`;
    if (c?.kind === "room" && members?.online !== undefined) {
      subtitle = `${members.online} online here`;
    }
    if (c?.kind === "person") subtitle = online.has(c.key) ? "online" : "offline";
    ui.subtitle.textContent = subtitle;
    ui.say.classList.toggle("none", c === null);
    ui.text.placeholder =
      c === null
        ? "Pick a conversation, or type /help"
        : `Message ${c.kind === "all" ? "everyone" : c.target}`;
  }
}

/** The entries of the list of conversations: everyone and the rooms, then people. */
function entries({ me, conversations, online }: ViewModel): {
  rooms: SidebarEntry[];
  people: SidebarEntry[];
} {
  const everyone = conversations.get("*");
  const rooms: SidebarEntry[] = [
    { target: "*", label: "everyone", unread: everyone?.unread ?? 0, latest: everyone?.latest },
  ];
  const people = new Map<string, SidebarEntry>();
  for (const c of conversations.values()) {
    const entry = { target: c.target, label: c.target, unread: c.unread, latest: c.latest };
    if (c.kind === "room" && c.member) rooms.push(entry);
    if (c.kind === "person") people.set(c.key, { ...entry, online: online.has(c.key) });
  }
  const meKey = conversationKey(me);
  for (const [key, name] of online.people) {
    if (key !== meKey && !people.has(key)) {
      people.set(key, { target: name, label: name, unread: 0, online: true });
    }
  }
  const byLabel = (a: SidebarEntry, b: SidebarEntry) =>
    a.label.localeCompare(b.label, undefined, { sensitivity: "base" });
  return {
    rooms: [rooms[0] as SidebarEntry, ...rooms.slice(1).sort(byLabel)],
    people: [...people.values()].sort(byLabel),
  };
}
