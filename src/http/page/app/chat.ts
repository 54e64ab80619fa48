// The chat page's controller: the page's state (who is logged in, the conversations, the
// open one, who is online, what is kept for a reload) and what changes it: the session's
// events (session.ts), the user's actions (actions.ts), drawn by the view (view.ts).
import type {
  ChatMessage,
  JoinedEvent,
  LeftEvent,
  PresenceEvent,
  Welcome,
} from "../../../client/mod.ts";
import { PageActions } from "./actions.ts";
import { asRoom } from "./commands.ts";
import { bindControls } from "./controls.ts";
import { Conversation, conversationKey, conversationOf } from "./conversations.ts";
import { el } from "./dom.ts";
import type { Elements } from "./elements.ts";
import { Keeper } from "./keeper.ts";
import { Members } from "./members.ts";
import { Notifier } from "./notify.ts";
import { Online } from "./online.ts";
import { forgetAll, loadConversations, loadState, type SavedState } from "./saved.ts";
import { PageSession } from "./session.ts";
import { stepFrom } from "./sidebar.ts";
import type { Redraw } from "./timeline.ts";
import { ChatView } from "./view.ts";

/**
 * The chat page: log in (or come back with the kept session), the conversations in a
 * sidebar with unread counts, one timeline each, older messages on scrolling up, who is
 * online, rooms to join and leave, and the text-mode commands in the message field.
 *
 * @example
 * new ChatApp(findElements()).start();
 */
export class ChatApp {
  readonly #ui: Elements;
  readonly #view: ChatView;
  readonly #notifier: Notifier;
  readonly #session: PageSession;
  readonly #actions: PageActions;
  /** Who is logged in here; null when nobody is. */
  #state: SavedState | null = null;
  /** Kept in memory only, for as long as the page lives: never stored. */
  #password: string | undefined;
  #conversations = new Map<string, Conversation>();
  #current: Conversation | null = null;
  readonly #online = new Online();
  readonly #members = new Members(
    () => this.#session.client,
    () => this.#view.render(),
  );
  readonly #keeper = new Keeper(() => this.#keepable());
  /** The session went to another tab or device: this page stops writing the storage. */
  #replaced = false;

  constructor(ui: Elements) {
    this.#ui = ui;
    this.#view = new ChatView(
      ui,
      () => ({
        me: this.#me,
        current: this.#current,
        conversations: this.#conversations,
        online: this.#online,
        members: this.#members.view,
      }),
      {
        pick: (target) => this.select(target),
        older: () => this.#actions.loadOlder(),
        more: () => this.#members.more(),
      },
    );
    this.#notifier = new Notifier(ui.notify, {
      changed: (on) => {
        if (this.#state) this.#state.notify = on || undefined;
        this.#persist();
      },
      open: (target) => this.select(target),
      say: (text) => this.#note(text, "error"),
    });
    this.#session = new PageSession(
      { state: () => this.#state, password: () => this.#password },
      {
        opened: (w, again) => this.#opened(w, again),
        message: (m) => this.#message(m),
        presence: (p) => this.#presence(p),
        joined: (e) => this.#joinedOrLeft(e, true),
        left: (e) => this.#joinedOrLeft(e, false),
        announce: (text) => this.#note(`📣 ${text}`, "announce"),
        replaced: () => {
          this.#replaced = true;
        },
        stopped: (why, action) => {
          this.#view.status(why, "offline");
          this.#ui.resume.textContent = action;
          this.#ui.resume.hidden = false;
        },
        status: (text, kind) => this.#view.status(text, kind),
        closed: () => this.#persistSoon(),
        failed: () => {
          this.#ui.loginButton.disabled = false;
        },
        sessionEnded: () => {
          if (this.#state) delete this.#state.session;
          this.#persist();
          this.#view.showLogin("Your session has ended; please log in again.");
        },
        refused: (message) => this.#view.showLogin(message),
      },
    );
    this.#actions = new PageActions({
      client: () => this.#session.client,
      me: () => this.#me,
      current: () => this.#current,
      conversation: (target) => this.#conversation(target),
      find: (target) => this.#conversations.get(conversationKey(target)),
      open: (target, focus) => this.#open(target, focus),
      select: (target) => this.select(target),
      drop: (c) => this.#drop(c),
      changed: (c, why) => this.#changed(c, why),
      render: (why) => this.#view.render(why),
      note: (text, kind) => this.#note(text, kind),
      persistSoon: () => this.#persistSoon(),
      loadingOlder: (on) => {
        this.#view.timeline.loading = on;
      },
      quit: () => this.#logOut(true, ""),
    });
  }

  /** Starts: with a kept session, logs in by itself and shows what was kept; else the form. */
  start(): void {
    this.#bind();
    const saved = loadState();
    if (saved) {
      this.#state = saved;
      this.#ui.name.value = saved.name;
      this.#notifier.restore(saved.notify === true);
      for (const kept of loadConversations()) {
        const c = this.#conversation(kept.target);
        c.add(kept.messages);
        c.unread = kept.unread;
        c.member = kept.member === true;
      }
    }
    if (saved?.session) {
      this.#view.showApp(this.#me);
      this.#open(saved.current ?? null, false);
      this.#connect();
    } else {
      this.#view.showLogin("");
    }
  }

  /** Opens the conversation with `target` (a name, a `#room` or `*`) and puts the focus on the message field. */
  select(target: string): void {
    const key = conversationKey(target);
    const known = this.#conversations.get(key);
    if (target.startsWith("#") && !known?.member) return this.#actions.join(target);
    this.#open(target, true);
  }

  /** Opens the previous (-1) or next (1) conversation of the sidebar, or the next with unread messages. */
  step(delta: 1 | -1, unreadOnly: boolean): void {
    const target = stepFrom(this.#view.sidebar.order, this.#current?.key ?? null, delta, (t) =>
      unreadOnly ? (this.#conversations.get(conversationKey(t))?.unread ?? 0) > 0 : true,
    );
    if (target !== undefined) this.select(target);
  }

  /** Shows the list of conversations instead of the timeline (on a phone-sized screen). */
  showList(): void {
    this.#ui.app.classList.add("list");
    if (this.#current) this.#view.sidebar.focus(this.#current.target);
    else this.#ui.room.focus();
  }

  get #me(): string {
    return this.#state?.name ?? "";
  }

  // ---- logging in and out ----

  #bind(): void {
    bindControls(this.#ui, {
      logIn: (name, password) => this.#logIn(name, password),
      line: (text) => this.#actions.run(text),
      join: (room) => this.#actions.join(asRoom(room)),
      leave: () => {
        if (this.#current?.kind === "room") this.#actions.leave(this.#current.target);
      },
      logOut: () => this.#logOut(true, ""),
      resume: () => this.#connect(),
      back: () => this.showList(),
      hidden: () => this.#persist(),
      shown: () => {
        if (this.#current && this.#current.unread > 0) {
          this.#current.unread = 0;
          this.#view.render();
          this.#persistSoon();
        }
      },
      // Another tab of this page logged out: this one is logged out too.
      loggedOutElsewhere: () => {
        if (this.#state) this.#logOut(false, "Logged out in another tab.");
      },
    });
  }

  #logIn(name: string, password: string): void {
    if (name === "") return;
    const before = this.#state;
    if (before === null || conversationKey(before.name) !== conversationKey(name)) {
      // Someone else on this browser: what was kept belongs to the previous name.
      forgetAll();
      this.#conversations.clear();
      this.#current = null;
      this.#state = { name };
    } else {
      this.#state = { ...before, name };
      delete this.#state.session;
    }
    this.#password = password === "" ? undefined : password;
    this.#ui.loginError.textContent = "";
    this.#ui.loginButton.disabled = true;
    this.#connect();
  }

  #connect(): void {
    if (this.#state === null) return;
    this.#ui.resume.hidden = true;
    this.#session.connect();
  }

  #logOut(forget: boolean, message: string): void {
    this.#keeper.cancel();
    forgetAll();
    const name = this.#me;
    this.#state = null;
    this.#replaced = false;
    this.#password = undefined;
    this.#conversations.clear();
    this.#current = null;
    this.#online.clear();
    this.#members.show(null);
    this.#ui.password.value = "";
    this.#ui.name.value = name;
    this.#view.showLogin(message);
    this.#view.status("logged out", "offline");
    this.#session.end(forget);
  }

  // ---- what the server says ----

  #opened(welcome: Welcome, again: boolean): void {
    const state = this.#state;
    const client = this.#session.client;
    if (state === null || client === null) return;
    this.#replaced = false;
    state.name = welcome.name;
    if (client.session !== undefined) state.session = client.session;
    this.#ui.loginButton.disabled = false;
    this.#online.welcome(welcome);
    // The server says which rooms the user is in. Rooms it forgot while this page was
    // connected (it restarted without a durable store) are joined again.
    const kept = new Set(welcome.rooms.map(conversationKey));
    for (const room of welcome.rooms) this.#conversation(room).member = true;
    for (const c of [...this.#conversations.values()]) {
      if (c.kind !== "room" || kept.has(c.key)) continue;
      if (again && c.member) this.#actions.join(c.target, false);
      else this.#drop(c);
    }
    // A resume that left messages out: each conversation asks for its newest page again.
    if (welcome.gap) for (const c of this.#conversations.values()) c.loaded = false;
    this.#view.showApp(this.#me);
    this.#view.status(`online as ${welcome.name}`, "online");
    const missed = welcome.replayed ?? welcome.queued;
    if (missed > 0) {
      this.#note(`${missed} message${missed === 1 ? "" : "s"} came while you were away`);
    }
    const current = this.#current;
    if (current && !current.loaded) this.#actions.loadNewest(current);
    // Just logged in (the form is gone): the keyboard goes where one writes, or picks.
    if (
      !again &&
      (document.activeElement === document.body || this.#ui.login.contains(document.activeElement))
    ) {
      (current ? this.#ui.text : this.#ui.room).focus();
    }
    this.#members.refresh();
    this.#view.render("update");
    this.#persist(); // the session secret is kept at once
  }

  #message(m: ChatMessage): void {
    const me = this.#me;
    const mine = conversationKey(m.from) === conversationKey(me);
    const c = this.#conversation(conversationOf(m, me));
    if (c.kind === "person" && !mine) c.target = m.from;
    if (c.kind === "room") c.member = true;
    const settled = mine && c.settle(m);
    if (c.add([m]).length === 0 && !settled) return;
    if (!mine) {
      if (!this.#seen(c)) c.unread++;
      // The timeline is drawn anew on changes: the live region reads only what is new.
      if (c === this.#current) this.#ui.announcer.textContent = `${m.from}: ${m.text}`;
      if (c.kind === "person") this.#notifier.privateMessage(m, c.target);
      // Nothing open yet: a private message opens its conversation (the reply rule).
      if (this.#current === null && c.kind === "person") this.#open(c.target, false);
    }
    this.#changed(c, "update");
    this.#persistSoon();
  }

  #presence(p: PresenceEvent): void {
    this.#online.presence(p);
    this.#members.presence(p);
    this.#view.render();
  }

  #joinedOrLeft(e: JoinedEvent | LeftEvent, joined: boolean): void {
    const c = this.#conversations.get(conversationKey(e.room));
    if (c === undefined) return;
    c.note(`${e.name} ${joined ? "joined" : "left"} ${e.room}`);
    this.#members.joinedOrLeft(e.room, e.name, joined);
    this.#changed(c, "update");
  }

  // ---- the page's state ----

  #conversation(target: string): Conversation {
    const key = conversationKey(target);
    let c = this.#conversations.get(key);
    if (c === undefined) {
      c = new Conversation(target);
      this.#conversations.set(key, c);
    }
    return c;
  }

  #drop(c: Conversation): void {
    this.#conversations.delete(c.key);
    if (this.#current === c) this.#open(null, false);
    this.#view.render();
  }

  /** Whether the reader sees `c` now: open, in a visible tab. */
  #seen(c: Conversation): boolean {
    return c === this.#current && document.visibilityState === "visible";
  }

  #open(target: string | null, focus: boolean): void {
    const c = target === null ? null : this.#conversation(target);
    this.#current = c;
    if (this.#state) this.#state.current = c?.target;
    this.#view.timeline.open(c);
    if (c && this.#seen(c)) c.unread = 0;
    this.#ui.notice.replaceChildren();
    this.#ui.notice.hidden = true;
    this.#ui.app.classList.toggle("list", c === null);
    if (c && !c.loaded) this.#actions.loadNewest(c);
    this.#members.show(c?.target ?? null);
    this.#view.render("switch");
    this.#persistSoon();
    if (focus) this.#ui.text.focus();
  }

  /** A note of the page's own, in the open conversation (or above the message field). */
  #note(text: string, kind: "info" | "error" | "announce" = "info"): void {
    const c = this.#current;
    if (c) {
      c.note(text, kind);
      return this.#view.render("update");
    }
    this.#ui.notice.hidden = false;
    this.#ui.notice.append(el("p", `note ${kind}`, text));
    while (this.#ui.notice.children.length > 12) this.#ui.notice.firstElementChild?.remove();
  }

  #persistSoon(): void {
    this.#keeper.soon();
  }

  #persist(): void {
    this.#keeper.now();
  }

  /** What is kept; `since` and the messages agree (see saved.ts). Nothing once replaced. */
  #keepable() {
    const state = this.#state;
    if (state === null || this.#replaced) return null;
    const client = this.#session.client;
    if (client?.since !== undefined) state.since = client.since;
    if (client?.session !== undefined) state.session = client.session;
    return { state, conversations: this.#conversations.values(), current: this.#current };
  }

  #changed(c: Conversation, why: Redraw): void {
    this.#view.render(c === this.#current ? why : undefined);
  }
}
