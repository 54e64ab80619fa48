// The chat page's controller: one RelayClient (src/client) for the protocol — login, resume
// with session and since, reconnecting, requests, events, history — and the page's state
// around it: conversations, who is online, what is kept for a reload.
import {
  type ChatMessage,
  type ClientCommand,
  type JoinedEvent,
  type LeftEvent,
  type PresenceEvent,
  RelayClient,
  type RelayClientEvents,
  RelayError,
  type ReplyFor,
  type Welcome,
} from "../../../client/mod.ts";
import { asRoom, HELP, type PageAction, parseLine } from "./commands.ts";
import { Conversation, conversationKey, conversationOf, type Pending } from "./conversations.ts";
import { el } from "./dom.ts";
import type { Elements } from "./elements.ts";
import { Notifier, notificationsSupported } from "./notify.ts";
import {
  forgetAll,
  forgottenElsewhere,
  loadConversations,
  loadState,
  type SavedState,
  save,
} from "./saved.ts";
import { Sidebar, type SidebarEntry } from "./sidebar.ts";
import { type Redraw, Timeline } from "./timeline.ts";

/** Messages asked for per history page. */
const PAGE_SIZE = 50;
/** The most conversations kept for a reload (the most recently active). */
const KEEP_CONVERSATIONS = 50;
/** How often a quiet connection is checked with a ping. */
const HEARTBEAT_MS = 25_000;
/** Many changes in a burst make one write to the storage, this much later. */
const SAVE_DELAY_MS = 200;
/** The order of importance of redraws that meet in one frame. */
const REDRAW_RANK: Record<Redraw, number> = { update: 0, older: 1, mine: 2, switch: 3 };

/** The WebSocket URL of the relay that served this page: `/ws` beside it. */
function socketUrl(): string {
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.search = "";
  url.hash = "";
  return url.href;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function codeOf(error: unknown): string {
  return error instanceof RelayError ? error.code : "";
}

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
  readonly #sidebar: Sidebar;
  readonly #timeline: Timeline;
  readonly #notifier: Notifier;
  #client: RelayClient | null = null;
  /** Who is logged in here; null when nobody is. */
  #state: SavedState | null = null;
  /** Kept in memory only, for as long as the page lives: never stored. */
  #password: string | undefined;
  #conversations = new Map<string, Conversation>();
  #current: Conversation | null = null;
  #online = new Map<string, string>();
  #onlineCount = 0;
  /** Who is online in the open room (by key), as `who` and events tell. */
  #members: { room: string; names: Map<string, string> } | null = null;
  #seq = 0;
  #opens = 0;
  #retries = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  #whoTimer: ReturnType<typeof setTimeout> | undefined;
  #loadingOlder = false;
  /** The session went to another tab or device: this page stops writing the storage. */
  #replaced = false;
  #redraw: Redraw | null = null;
  #frame = false;

  constructor(ui: Elements) {
    this.#ui = ui;
    this.#sidebar = new Sidebar(ui.rooms, ui.people, (target) => this.select(target));
    this.#timeline = new Timeline(ui.timeline, () => this.#loadOlder());
    this.#notifier = new Notifier(ui.notify, {
      changed: (on) => {
        if (this.#state) this.#state.notify = on || undefined;
        this.#persist();
      },
      open: (target) => this.select(target),
      say: (text) => this.#note(text, "error"),
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
      this.#showApp();
      this.#open(saved.current ?? null, false);
      this.#connect();
    } else {
      this.#showLogin("");
    }
  }

  /** Opens the conversation with `target` (a name, a `#room` or `*`) and puts the focus on the message field. */
  select(target: string): void {
    const key = conversationKey(target);
    const known = this.#conversations.get(key);
    if (target.startsWith("#") && !known?.member) return this.#join(target);
    this.#open(target, true);
  }

  /** Opens the previous (-1) or next (1) conversation of the sidebar, or the next with unread messages. */
  step(delta: 1 | -1, unreadOnly: boolean): void {
    const order = this.#sidebar.order;
    if (order.length === 0) return;
    const at = this.#current
      ? order.findIndex((t) => conversationKey(t) === this.#current?.key)
      : delta === 1
        ? -1
        : order.length;
    for (let i = 1; i <= order.length; i++) {
      const target = order[(((at + delta * i) % order.length) + order.length) % order.length];
      if (target === undefined) continue;
      const unread = this.#conversations.get(conversationKey(target))?.unread ?? 0;
      if (!unreadOnly || unread > 0) return this.select(target);
    }
  }

  /** Shows the list of conversations instead of the timeline (on a phone-sized screen). */
  showList(): void {
    this.#ui.app.classList.add("list");
    if (this.#current) this.#sidebar.focus(this.#current.target);
    else this.#ui.room.focus();
  }

  // ---- logging in and out ----

  #bind(): void {
    const ui = this.#ui;
    ui.login.addEventListener("submit", (e) => {
      e.preventDefault();
      this.#logIn(ui.name.value.trim(), ui.password.value);
    });
    ui.say.addEventListener("submit", (e) => {
      e.preventDefault();
      const line = ui.text.value;
      if (line.trim() === "") return;
      ui.text.value = "";
      this.#run(line);
    });
    ui.join.addEventListener("submit", (e) => {
      e.preventDefault();
      const room = ui.room.value.trim();
      if (room === "") return;
      ui.room.value = "";
      this.#join(asRoom(room));
    });
    ui.leave.addEventListener("click", () => {
      if (this.#current?.kind === "room") this.#leave(this.#current.target);
    });
    ui.logout.addEventListener("click", () => this.#logOut(true, ""));
    ui.resume.addEventListener("click", () => this.#connect());
    ui.back.addEventListener("click", () => this.showList());
    addEventListener("pagehide", () => this.#persist());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") return this.#persist();
      if (this.#current && this.#current.unread > 0) {
        this.#current.unread = 0;
        this.#render();
        this.#persistSoon();
      }
    });
    // Another tab of this page logged out: this one is logged out too.
    addEventListener("storage", (e) => {
      if (this.#state && forgottenElsewhere(e)) this.#logOut(false, "Logged out in another tab.");
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
    const state = this.#state;
    if (state === null) return;
    clearTimeout(this.#retryTimer);
    this.#ui.resume.hidden = true;
    void this.#client?.close();
    const client = new RelayClient({
      url: socketUrl(),
      name: state.name,
      ...(this.#password !== undefined && { password: this.#password }),
      ...(state.session !== undefined && { session: state.session }),
      ...(state.since !== undefined && { since: state.since }),
      heartbeatMs: HEARTBEAT_MS,
    });
    this.#client = client;
    this.#opens = 0;
    // Events of a client this page has let go of are not its concern any more.
    const on = <K extends keyof RelayClientEvents>(
      type: K,
      handler: (detail: RelayClientEvents[K]) => void,
    ) =>
      client.on(type, (detail) => {
        if (this.#client === client) handler(detail);
      });
    on("open", (w) => this.#opened(w));
    on("message", (m) => this.#message(m));
    on("presence", (p) => this.#presence(p));
    on("joined", (e) => this.#joinedOrLeft(e, true));
    on("left", (e) => this.#joinedOrLeft(e, false));
    on("announce", (a) => this.#note(`📣 ${a.text}`, "announce"));
    on("bye", (b) => {
      if (b.reason === "replaced") {
        // Another tab or device has the session now: what it keeps is newer than ours.
        this.#replaced = true;
        this.#stopped("logged in elsewhere", "Use this tab");
      } else if (b.reason === "kicked") {
        this.#stopped("removed by an operator", "Log in again");
      }
    });
    on("reconnecting", (r) => {
      this.#status(`reconnecting in ${Math.max(1, Math.round(r.delayMs / 1000))}s`);
    });
    on("close", (info) => {
      this.#persistSoon();
      if (info.reconnect) this.#status("reconnecting…");
      else if (info.reason !== "replaced" && info.reason !== "kicked") {
        this.#stopped("disconnected", "Connect again");
      }
    });
    this.#status("connecting…");
    const withSession = state.session !== undefined;
    client.connect().catch((error: unknown) => {
      if (this.#client === client) this.#refused(error, withSession);
    });
  }

  /** The first login of a client failed. */
  #refused(error: unknown, withSession: boolean): void {
    const code = codeOf(error);
    const state = this.#state;
    this.#client = null;
    this.#ui.loginButton.disabled = false;
    if (state === null || code === "closed") return;
    if (code === "connect_failed" && state.session !== undefined) {
      // The kept session waits for the server to come back.
      const delay = Math.min(30_000, 1000 * 2 ** this.#retries++);
      this.#status(`cannot reach the server; trying again in ${Math.round(delay / 1000)}s`);
      this.#retryTimer = setTimeout(() => this.#connect(), delay);
      return;
    }
    if (code === "auth_failed" && withSession) {
      delete state.session;
      this.#persist();
      return this.#showLogin("Your session has ended; please log in again.");
    }
    this.#showLogin(
      code === "connect_failed"
        ? "Cannot reach the server; try again in a moment."
        : describeError(error),
    );
  }

  /** The server ended this page's session (or the client gave up): offer to come back. */
  #stopped(why: string, action: string): void {
    this.#status(why, "offline");
    this.#ui.resume.textContent = action;
    this.#ui.resume.hidden = false;
  }

  #logOut(forget: boolean, message: string): void {
    const client = this.#client;
    this.#client = null;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#saveTimer);
    forgetAll();
    const name = this.#state?.name ?? "";
    this.#state = null;
    this.#replaced = false;
    this.#password = undefined;
    this.#conversations.clear();
    this.#current = null;
    this.#online.clear();
    this.#members = null;
    this.#ui.password.value = "";
    this.#ui.name.value = name;
    this.#showLogin(message);
    this.#status("logged out", "offline");
    void client?.close(forget ? { forget: true } : {});
  }

  // ---- what the server says ----

  #opened(welcome: Welcome): void {
    const state = this.#state;
    const client = this.#client;
    if (state === null || client === null) return;
    const again = this.#opens++ > 0;
    this.#replaced = false;
    this.#retries = 0;
    state.name = welcome.name;
    if (client.session !== undefined) state.session = client.session;
    this.#ui.loginButton.disabled = false;
    this.#online = new Map(welcome.users.map((n) => [conversationKey(n), n]));
    this.#online.set(conversationKey(welcome.name), welcome.name);
    this.#onlineCount = welcome.online;
    // The server says which rooms the user is in. Rooms it forgot while this page was
    // connected (it restarted without a durable store) are joined again.
    const kept = new Set(welcome.rooms.map(conversationKey));
    for (const room of welcome.rooms) this.#conversation(room).member = true;
    for (const c of [...this.#conversations.values()]) {
      if (c.kind !== "room" || kept.has(c.key)) continue;
      if (again && c.member) this.#join(c.target, false);
      else this.#drop(c);
    }
    // A resume that left messages out: each conversation asks for its newest page again.
    if (welcome.gap) for (const c of this.#conversations.values()) c.loaded = false;
    this.#showApp();
    this.#status(`online as ${welcome.name}`, "online");
    const missed = welcome.replayed ?? welcome.queued;
    if (missed > 0) {
      this.#note(`${missed} message${missed === 1 ? "" : "s"} came while you were away`);
    }
    const current = this.#current;
    if (current && !current.loaded) this.#loadNewest(current);
    // Just logged in (the form is gone): the keyboard goes where one writes, or picks.
    if (
      !again &&
      (document.activeElement === document.body || this.#ui.login.contains(document.activeElement))
    ) {
      (current ? this.#ui.text : this.#ui.room).focus();
    }
    this.#refreshMembers();
    this.#render("update");
    this.#persist(); // the session secret is kept at once
  }

  #message(m: ChatMessage): void {
    const me = this.#state?.name ?? "";
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
    const key = conversationKey(p.name);
    if (p.status === "online") {
      if (!this.#online.has(key)) this.#onlineCount++;
      this.#online.set(key, p.name);
      // Whether they are in the open room, only the server knows.
      if (this.#current?.kind === "room") {
        clearTimeout(this.#whoTimer);
        this.#whoTimer = setTimeout(() => this.#refreshMembers(), 300);
      }
    } else {
      if (this.#online.delete(key)) this.#onlineCount = Math.max(1, this.#onlineCount - 1);
      this.#members?.names.delete(key);
    }
    this.#render();
  }

  #joinedOrLeft(e: JoinedEvent | LeftEvent, joined: boolean): void {
    const c = this.#conversations.get(conversationKey(e.room));
    if (c === undefined) return;
    c.note(`${e.name} ${joined ? "joined" : "left"} ${e.room}`);
    if (this.#members?.room === c.key) {
      if (joined) this.#members.names.set(conversationKey(e.name), e.name);
      else this.#members.names.delete(conversationKey(e.name));
    }
    this.#changed(c, "update");
  }

  // ---- what the user does ----

  #run(line: string): void {
    const action: PageAction = parseLine(line, this.#current?.target ?? null);
    switch (action.kind) {
      case "send":
        return this.#send(action.to, action.text);
      case "open":
        return this.select(action.target);
      case "join":
        return this.#join(action.room);
      case "leave":
        return this.#leave(action.room);
      case "history":
        return this.#history(action.with, action.limit);
      case "who":
        return this.#ask(
          action.room ? { type: "who", room: action.room } : { type: "who" },
          (r) => {
            const more = r.next ? ` and more (${r.online ?? "?"} in all)` : "";
            this.#note(`${r.room ?? "online"}: ${r.users.join(", ") || "nobody"}${more}`);
          },
        );
      case "rooms":
        return this.#ask({ type: "rooms" }, (r) => {
          const list = r.rooms.map((x) => `${x.room} (${x.members}, ${x.online} online)`);
          this.#note(
            list.length > 0 ? `rooms: ${list.join(", ")}` : "no rooms yet: /join #name makes one",
          );
        });
      case "ping": {
        const sent = performance.now();
        return this.#ask({ type: "ping" }, () =>
          this.#note(`pong in ${Math.round(performance.now() - sent)} ms`),
        );
      }
      case "help":
        for (const line of HELP) this.#note(line);
        return this.#render("update");
      case "quit":
        return this.#logOut(true, "");
      case "usage":
        return this.#note(action.message, "error");
    }
  }

  /** Sends a command whose answer is a note; its error becomes one too. */
  #ask<C extends ClientCommand>(command: C, then: (reply: ReplyFor<C>) => void): void {
    const client = this.#client;
    if (client === null) return this.#note("not connected", "error");
    client
      .request(command)
      .then(then, (error: unknown) => this.#note(describeError(error), "error"));
  }

  #send(to: string, text: string): void {
    const client = this.#client;
    if (client === null) return this.#note("not connected", "error");
    const c = this.#conversation(to);
    const pending: Pending = { seq: ++this.#seq, to: c.target, text, state: "sending" };
    c.pending.push(pending);
    this.#changed(c, "mine");
    const me = this.#state?.name ?? "";
    client.request({ type: "msg", to: c.target, text }).then(
      (ok) => {
        c.pending = c.pending.filter((p) => p !== pending);
        if (ok.id !== undefined) {
          const ts = new Date().toISOString();
          c.add([{ type: "message", id: ok.id, from: me, to: c.target, text, ts }]);
        }
        if (ok.queued) c.note(`${c.target} is offline; the message waits for them`);
        if (c !== this.#current) this.#note(`sent to ${c.target}`);
        this.#changed(c, "mine");
        this.#persistSoon();
      },
      (error: unknown) => {
        const code = codeOf(error);
        pending.state = code === "connection_lost" ? "unsure" : "failed";
        pending.error = describeError(error);
        // A conversation that never was (a name nobody has): the error shows where the user is.
        if (c !== this.#current && c.messages.length === 0 && pending.state === "failed") {
          this.#drop(c);
          this.#note(`not sent to ${c.target}: ${pending.error}`, "error");
        }
        this.#changed(c, "update");
      },
    );
  }

  #join(room: string, open = true): void {
    this.#ask({ type: "join", room }, (ok) => {
      const c = this.#conversation(ok.room ?? room);
      c.member = true;
      if (open) this.#open(c.target, true);
      else this.#render();
      this.#persistSoon();
    });
  }

  #leave(room: string): void {
    this.#ask({ type: "leave", room }, (ok) => {
      const c = this.#conversations.get(conversationKey(ok.room ?? room));
      if (c) this.#drop(c);
      this.#note(`you left ${ok.room ?? room}`);
      this.#persistSoon();
    });
  }

  #history(target: string, limit: number): void {
    this.select(target);
    const c = this.#conversation(target);
    this.#ask({ type: "history", with: c.target, limit }, (page) => {
      c.newestPage(page.messages, page.more);
      c.note(`the last ${page.messages.length} message(s) with ${page.with} are shown`);
      this.#changed(c, "update");
    });
  }

  #loadNewest(c: Conversation): void {
    const client = this.#client;
    if (client === null || c.loaded) return;
    c.loaded = true;
    client.request({ type: "history", with: c.target, limit: PAGE_SIZE }).then(
      (page) => {
        c.newestPage(page.messages, page.more);
        this.#changed(c, "update");
        this.#persistSoon();
      },
      (error: unknown) => {
        c.loaded = false;
        if (codeOf(error) === "connection_lost") return;
        c.more = false;
        c.note(describeError(error), "error");
        this.#changed(c, "update");
      },
    );
  }

  #loadOlder(): void {
    const c = this.#current;
    const client = this.#client;
    if (c === null || client === null || !c.more || this.#loadingOlder || !client.connected) return;
    const oldest = c.messages[0];
    if (oldest === undefined) return this.#loadNewest(c);
    this.#loadingOlder = true;
    this.#timeline.loading = true;
    client
      .request({ type: "history", with: c.target, before: oldest.id, limit: PAGE_SIZE })
      .then(
        (page) => {
          c.olderPage(page.messages, page.more);
          this.#changed(c, "older");
        },
        (error: unknown) => c.note(describeError(error), "error"),
      )
      .finally(() => {
        this.#loadingOlder = false;
        this.#timeline.loading = false;
        this.#changed(c, "older");
      });
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
    this.#render();
  }

  /** Whether the reader sees `c` now: open, in a visible tab. */
  #seen(c: Conversation): boolean {
    return c === this.#current && document.visibilityState === "visible";
  }

  #open(target: string | null, focus: boolean): void {
    const c = target === null ? null : this.#conversation(target);
    this.#current = c;
    if (this.#state) this.#state.current = c?.target;
    this.#timeline.open(c);
    if (c && this.#seen(c)) c.unread = 0;
    this.#ui.notice.replaceChildren();
    this.#ui.notice.hidden = true;
    this.#ui.app.classList.toggle("list", c === null);
    this.#members = null;
    if (c && !c.loaded) this.#loadNewest(c);
    this.#refreshMembers();
    this.#render("switch");
    this.#persistSoon();
    if (focus) this.#ui.text.focus();
  }

  #refreshMembers(): void {
    const c = this.#current;
    const client = this.#client;
    if (c?.kind !== "room" || client === null) return;
    client.request({ type: "who", room: c.target }).then(
      (reply) => {
        if (this.#current !== c) return;
        this.#members = {
          room: c.key,
          names: new Map(reply.users.map((n) => [conversationKey(n), n])),
        };
        this.#render();
      },
      () => {},
    );
  }

  /** A note of the page's own, in the open conversation (or above the message field). */
  #note(text: string, kind: "info" | "error" | "announce" = "info"): void {
    const c = this.#current;
    if (c) {
      c.note(text, kind);
      return this.#render("update");
    }
    this.#ui.notice.hidden = false;
    this.#ui.notice.append(el("p", `note ${kind}`, text));
    while (this.#ui.notice.children.length > 12) this.#ui.notice.firstElementChild?.remove();
  }

  #persistSoon(): void {
    this.#saveTimer ??= setTimeout(() => this.#persist(), SAVE_DELAY_MS);
  }

  /** Keeps the state and the conversations; `since` and the messages agree (see saved.ts). */
  #persist(): void {
    clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    const state = this.#state;
    if (state === null || this.#replaced) return;
    const client = this.#client;
    if (client?.since !== undefined) state.since = client.since;
    if (client?.session !== undefined) state.session = client.session;
    const newest = (c: Conversation) => c.latest?.id ?? "";
    const kept = [...this.#conversations.values()]
      .filter((c) => c.messages.length > 0 || c.member || c === this.#current)
      .sort((a, b) => (newest(a) < newest(b) ? 1 : -1))
      .slice(0, KEEP_CONVERSATIONS)
      .map((c) => ({
        target: c.target,
        unread: c.unread,
        member: c.member,
        messages: c.messages,
      }));
    save(state, kept);
  }

  // ---- drawing ----

  #changed(c: Conversation, why: Redraw): void {
    this.#render(c === this.#current ? why : undefined);
  }

  /** Draws what changed once per frame, however many messages came in it. */
  #render(why?: Redraw): void {
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

  #flush(): void {
    if (!this.#frame) return;
    this.#frame = false;
    const why = this.#redraw;
    this.#redraw = null;
    const me = this.#state?.name ?? "";
    const current = this.#current;
    this.#sidebar.render(this.#entries(me), current?.target ?? null, me);
    if (why !== null) this.#timeline.draw(current, me, why);
    this.#drawHead(current);
    this.#drawMembers(current, me);
    let unread = 0;
    for (const c of this.#conversations.values()) unread += c.unread;
    document.title = unread > 0 ? `(${unread}) relay` : "relay";
    this.#ui.unreadTotal.textContent = unread > 0 ? String(unread) : "";
    this.#ui.unreadTotal.hidden = unread === 0;
  }

  #entries(me: string): { rooms: SidebarEntry[]; people: SidebarEntry[] } {
    const everyone = this.#conversations.get("*");
    const rooms: SidebarEntry[] = [
      { target: "*", label: "everyone", unread: everyone?.unread ?? 0, latest: everyone?.latest },
    ];
    const people = new Map<string, SidebarEntry>();
    for (const c of this.#conversations.values()) {
      const entry = { target: c.target, label: c.target, unread: c.unread, latest: c.latest };
      if (c.kind === "room" && c.member) rooms.push(entry);
      if (c.kind === "person") people.set(c.key, { ...entry, online: this.#online.has(c.key) });
    }
    const meKey = conversationKey(me);
    for (const [key, name] of this.#online) {
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

  #drawHead(c: Conversation | null): void {
    const ui = this.#ui;
    ui.title.textContent = c === null ? "relay" : c.kind === "all" ? "everyone" : c.target;
    ui.leave.hidden = c?.kind !== "room";
    let subtitle = "";
    if (c?.kind === "all") subtitle = `everyone online: ${this.#onlineCount}`;
    if (c?.kind === "room" && this.#members) subtitle = `${this.#members.names.size} online here`;
    if (c?.kind === "person") subtitle = this.#online.has(c.key) ? "online" : "offline";
    ui.subtitle.textContent = subtitle;
    ui.say.classList.toggle("none", c === null);
    ui.text.placeholder =
      c === null
        ? "Pick a conversation, or type /help"
        : `Message ${c.kind === "all" ? "everyone" : c.target}`;
  }

  #drawMembers(c: Conversation | null, me: string): void {
    const ui = this.#ui;
    const names =
      c?.kind === "all"
        ? [...this.#online.values()]
        : c?.kind === "room" && this.#members
          ? [...this.#members.names.values()]
          : null;
    ui.members.hidden = names === null;
    if (names === null) return;
    ui.membersTitle.textContent = c?.kind === "all" ? "Online" : `Online in ${c?.target}`;
    names.sort((a, b) => a.localeCompare(b, undefined, { sensitivity: "base" }));
    const meKey = conversationKey(me);
    ui.membersList.replaceChildren(
      ...names.map((name) => {
        const li = el("li");
        if (conversationKey(name) === meKey) {
          li.append(el("span", "member me", `${name} (you)`));
        } else {
          const button = el("button", "member", name);
          button.type = "button";
          button.title = `Talk to ${name}`;
          button.addEventListener("click", () => this.select(name));
          li.append(button);
        }
        return li;
      }),
    );
  }

  #showApp(): void {
    const ui = this.#ui;
    ui.login.hidden = true;
    ui.app.hidden = false;
    ui.logout.hidden = false;
    ui.me.textContent = this.#state?.name ?? "";
    const toggle = ui.notify.closest("label");
    if (toggle) toggle.hidden = !notificationsSupported();
  }

  #showLogin(message: string): void {
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
    this.#status("not logged in", "offline");
    (ui.name.value ? ui.password : ui.name).focus();
  }

  #status(text: string, kind: "online" | "offline" | "" = ""): void {
    this.#ui.status.className = kind;
    this.#ui.status.textContent = text;
  }
}
