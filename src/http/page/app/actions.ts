// What the user asks of the server from the page: lines typed in the message field (chat
// and the text-mode commands), joining and leaving rooms, and the pages of a conversation's
// history (its newest page when it opens, older ones as the reader scrolls up).
import type { ClientCommand, RelayClient, ReplyFor } from "../../../client/mod.ts";
import { HELP, type PageAction, parseLine, whoNote } from "./commands.ts";
import type { Conversation, Pending } from "./conversations.ts";
import { codeOf, describeError } from "./session.ts";
import type { Redraw } from "./timeline.ts";

/** Messages asked for per history page. */
const PAGE_SIZE = 50;

/** What the actions need of the page. */
export interface ActionHost {
  /** The client, or null when the page is not connected nor trying to. */
  client(): RelayClient | null;
  /** The user's name. */
  me(): string;
  /** The open conversation. */
  current(): Conversation | null;
  /** The conversation with `target`, made if the page has none. */
  conversation(target: string): Conversation;
  /** The conversation with `target`, if the page has one. */
  find(target: string): Conversation | undefined;
  open(target: string | null, focus: boolean): void;
  select(target: string): void;
  drop(c: Conversation): void;
  /** `c` changed: draw it (as `why` says, when it is open). */
  changed(c: Conversation, why: Redraw): void;
  render(why?: Redraw): void;
  /** A note of the page's own, in the open conversation (or above the message field). */
  note(text: string, kind?: "info" | "error" | "announce"): void;
  /** Keeps the page's state soon. */
  persistSoon(): void;
  /** Shows that older messages are being loaded, or no longer. */
  loadingOlder(on: boolean): void;
  /** `/quit`: log out and end the session. */
  quit(): void;
}

/**
 * Carries out what the user asks: a line from the message field, joining and leaving,
 * and loading history; replies update the conversations, errors become notes.
 *
 * @example
 * const actions = new PageActions(host);
 * actions.run("/join #dev");
 */
export class PageActions {
  readonly #host: ActionHost;
  #seq = 0;
  #loadingOlder = false;

  constructor(host: ActionHost) {
    this.#host = host;
  }

  /** Carries out a line typed in the message field: chat, or a command. */
  run(line: string): void {
    const host = this.#host;
    const action: PageAction = parseLine(line, host.current()?.target ?? null);
    switch (action.kind) {
      case "send":
        return this.#send(action.to, action.text);
      case "open":
        return host.select(action.target);
      case "join":
        return this.join(action.room);
      case "leave":
        return this.leave(action.room);
      case "history":
        return this.#history(action.with, action.limit);
      case "who":
        return this.#ask(
          {
            type: "who",
            ...(action.room !== undefined && { room: action.room }),
            ...(action.after !== undefined && { after: action.after }),
          },
          (r) => host.note(whoNote(r)),
        );
      case "rooms":
        return this.#ask({ type: "rooms" }, (r) => {
          const list = r.rooms.map((x) => `${x.room} (${x.members}, ${x.online} online)`);
          host.note(
            list.length > 0 ? `rooms: ${list.join(", ")}` : "no rooms yet: /join #name makes one",
          );
        });
      case "ping": {
        const sent = performance.now();
        return this.#ask({ type: "ping" }, () =>
          host.note(`pong in ${Math.round(performance.now() - sent)} ms`),
        );
      }
      case "help":
        for (const line of HELP) host.note(line);
        return host.render("update");
      case "quit":
        return host.quit();
      case "usage":
        return host.note(action.message, "error");
    }
  }

  /** Joins a room, and opens it unless `open` is false. */
  join(room: string, open = true): void {
    const host = this.#host;
    this.#ask({ type: "join", room }, (ok) => {
      const c = host.conversation(ok.room ?? room);
      c.member = true;
      if (open) host.open(c.target, true);
      else host.render();
      host.persistSoon();
    });
  }

  /** Leaves a room; its conversation goes from the list. */
  leave(room: string): void {
    const host = this.#host;
    this.#ask({ type: "leave", room }, (ok) => {
      const c = host.find(ok.room ?? room);
      if (c) host.drop(c);
      host.note(`you left ${ok.room ?? room}`);
      host.persistSoon();
    });
  }

  /** Asks for the newest page of `c`, once since the page loaded (or since a resume's gap). */
  loadNewest(c: Conversation): void {
    const host = this.#host;
    const client = host.client();
    if (client === null || c.loaded) return;
    c.loaded = true;
    client.request({ type: "history", with: c.target, limit: PAGE_SIZE }).then(
      (page) => {
        c.newestPage(page.messages, page.more);
        host.changed(c, "update");
        host.persistSoon();
      },
      (error: unknown) => {
        c.loaded = false;
        if (codeOf(error) === "connection_lost") return;
        c.more = false;
        c.note(describeError(error), "error");
        host.changed(c, "update");
      },
    );
  }

  /** Asks for the page before the oldest message of the open conversation, one at a time. */
  loadOlder(): void {
    const host = this.#host;
    const c = host.current();
    const client = host.client();
    if (c === null || client === null || !c.more || this.#loadingOlder || !client.connected) return;
    const oldest = c.messages[0];
    if (oldest === undefined) return this.loadNewest(c);
    this.#loadingOlder = true;
    host.loadingOlder(true);
    client
      .request({ type: "history", with: c.target, before: oldest.id, limit: PAGE_SIZE })
      .then(
        (page) => {
          c.olderPage(page.messages, page.more);
          host.changed(c, "older");
        },
        (error: unknown) => c.note(describeError(error), "error"),
      )
      .finally(() => {
        this.#loadingOlder = false;
        host.loadingOlder(false);
        host.changed(c, "older");
      });
  }

  /** Sends a command whose answer is a note; its error becomes one too. */
  #ask<C extends ClientCommand>(command: C, then: (reply: ReplyFor<C>) => void): void {
    const host = this.#host;
    const client = host.client();
    if (client === null) return host.note("not connected", "error");
    client
      .request(command)
      .then(then, (error: unknown) => host.note(describeError(error), "error"));
  }

  #send(to: string, text: string): void {
    const host = this.#host;
    const client = host.client();
    if (client === null) return host.note("not connected", "error");
    const c = host.conversation(to);
    const pending: Pending = { seq: ++this.#seq, to: c.target, text, state: "sending" };
    c.pending.push(pending);
    host.changed(c, "mine");
    const me = host.me();
    client.request({ type: "msg", to: c.target, text }).then(
      (ok) => {
        c.pending = c.pending.filter((p) => p !== pending);
        if (ok.id !== undefined) {
          const ts = new Date().toISOString();
          c.add([{ type: "message", id: ok.id, from: me, to: c.target, text, ts }]);
        }
        if (ok.queued) c.note(`${c.target} is offline; the message waits for them`);
        if (c !== host.current()) host.note(`sent to ${c.target}`);
        host.changed(c, "mine");
        host.persistSoon();
      },
      (error: unknown) => {
        const code = codeOf(error);
        pending.state = code === "connection_lost" ? "unsure" : "failed";
        pending.error = describeError(error);
        // A conversation that never was (a name nobody has): the error shows where the user is.
        if (c !== host.current() && c.messages.length === 0 && pending.state === "failed") {
          host.drop(c);
          host.note(`not sent to ${c.target}: ${pending.error}`, "error");
        }
        host.changed(c, "update");
      },
    );
  }

  #history(target: string, limit: number): void {
    const host = this.#host;
    host.select(target);
    const c = host.conversation(target);
    this.#ask({ type: "history", with: c.target, limit }, (page) => {
      c.newestPage(page.messages, page.more);
      c.note(`the last ${page.messages.length} message(s) with ${page.with} are shown`);
      host.changed(c, "update");
    });
  }
}
