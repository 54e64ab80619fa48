import { busLost, heldCaught, logCaught } from "./catchup.ts";
import { forgetNode, heard, sync } from "./cluster.ts";
import { Context, isoTime, type RelayOptions } from "./context.ts";
import { detach, kickOut } from "./departure.ts";
import { history, historyLoaded } from "./log.ts";
import { admitted, authenticated, loaded, login, quit } from "./login.ts";
import { choose, choosePartner, held, sendMessage } from "./messages.ts";
import { nameKey } from "./names.ts";
import { join, leave, listRooms, loadMemberships, whoInRoom } from "./rooms.ts";
import { newSession, type Pending, type Session, type Waiting, type WaitingOf } from "./state.ts";
import type { AuthResult, ConnId, Effect, Input, Re } from "./types.ts";

export type { RelayOptions } from "./context.ts";

/** What the operator sees of one connection's chat state. */
export interface SessionView {
  name: string | null;
  rooms: string[];
}

/**
 * The relay: a state machine with no I/O. Feed it inputs with `handle`; it returns the
 * effects its host must carry out, in order. Time and the results of store lookups come in
 * as inputs, so the same inputs always give the same effects. Each concept lives in its own
 * module (login, messages, rooms, presence, log, cluster); this class only dispatches.
 *
 * @example
 * const relay = new Relay();
 * relay.handle({ type: "open", conn: 1 });
 * relay.handle({ type: "command", conn: 1, command: { type: "ping" }, re: "p", now: 0 });
 * // [{ type: "send", conn: 1, msg: { type: "pong", re: "p" } }]
 */
export class Relay {
  readonly #cx: Context;

  constructor(options: Partial<RelayOptions> = {}) {
    this.#cx = new Context(options);
  }

  /** Feeds one input to the relay and returns the effects it asks for. */
  handle(input: Input): Effect[] {
    const cx = this.#cx;
    cx.out = [];
    switch (input.type) {
      case "open":
        if (!cx.sessions.has(input.conn)) cx.sessions.set(input.conn, newSession(input.conn));
        break;
      case "command": {
        const s = cx.sessions.get(input.conn);
        if (s) this.#command(s, { command: input.command, re: input.re }, input.now);
        break;
      }
      case "refuse": {
        const s = cx.sessions.get(input.conn);
        if (s) this.#command(s, { error: input.error, re: input.re }, 0);
        break;
      }
      case "evict": {
        const s = cx.sessions.get(input.conn);
        if (s) kickOut(cx, s, input.reason, "gone");
        break;
      }
      case "close": {
        const s = cx.sessions.get(input.conn);
        if (s) detach(cx, s, "gone");
        break;
      }
      case "memberships":
        loadMemberships(cx, input.rooms);
        break;
      case "authenticated": {
        const waiting = cx.sessions.get(input.conn)?.waiting;
        if (waiting?.kind !== "auth") {
          // The connection went away while its name was being claimed: let the name go.
          if (claimed(input.result) && !cx.users.has(input.key)) cx.release(input.key);
          break;
        }
        this.#continue(input.conn, "auth", input.now, (s, w) =>
          authenticated(cx, s, w, input.result, input.name, input.session),
        );
        break;
      }
      case "loaded":
        this.#continue(input.conn, "load", input.now, (s, w) =>
          loaded(cx, s, w, input.held, input.replay, input.now),
        );
        break;
      case "streamed":
        this.#continue(input.conn, "stream", input.now, (s) => admitted(cx, s));
        break;
      case "held":
        this.#continue(input.conn, "hold", input.now, (s, w) => held(cx, s, w, input.result));
        break;
      case "handedOver":
        this.#continue(input.conn, "handover", input.now, (s, w) =>
          input.result === "sent"
            ? cx.send(s.conn, { type: "ok", re: w.re, id: w.message.id })
            : held(cx, s, w, input.result),
        );
        break;
      case "heldFound":
        heldCaught(cx, input.key, input.messages, input.sync === true);
        break;
      case "userLooked":
        this.#continue(input.conn, "lookup", input.now, (s, w) =>
          input.known
            ? choosePartner(cx, s, w.re, w.target)
            : cx.error(
                s,
                w.re,
                "no_such_user",
                `nobody called ${w.target.name} has logged in here`,
              ),
        );
        break;
      case "historyLoaded":
        this.#continue(input.conn, "history", input.now, (s, w) =>
          historyLoaded(cx, s, w, input.page),
        );
        break;
      case "announce": {
        const ts = isoTime(input.now);
        cx.toEveryone(null, { type: "announce", text: input.text, ts });
        cx.publish({ kind: "announce", node: cx.node, text: input.text, ts });
        break;
      }
      case "kick": {
        const key = nameKey(input.name.normalize("NFC"));
        const s = cx.users.get(key);
        if (s) kickOut(cx, s, "kicked", "gone");
        const remote = cx.remote.get(key);
        if (remote) cx.publish({ kind: "kick", node: cx.node, name: remote.name }, remote.node);
        break;
      }
      case "shutdown":
        cx.publish({ kind: "down", node: cx.node });
        cx.shuttingDown = true;
        for (const s of [...cx.sessions.values()]) kickOut(cx, s, "shutdown", "stopping");
        break;
      case "bus":
        if (input.event.node !== cx.node) heard(cx, input.event);
        break;
      case "busLost":
        busLost(cx);
        break;
      case "sync":
        sync(cx, input.now);
        break;
      case "caughtUp":
        logCaught(cx, input.messages, input.held);
        break;
      case "nodeDown":
        forgetNode(cx, input.node, true);
        break;
    }
    return cx.out;
  }

  /** Whether the connection has logged in (its text lines are chat, not logins). */
  isLoggedIn(conn: ConnId): boolean {
    const phase = this.#cx.sessions.get(conn)?.phase;
    return phase === "online" || phase === "admitting";
  }

  /**
   * Whether the connection's plain text lines are chat rather than a login: it logged in, or
   * a login is under way (so a script's `name` then `hello` sends `hello`, whatever the timing).
   */
  isChatting(conn: ConnId): boolean {
    const phase = this.#cx.sessions.get(conn)?.phase;
    return phase !== undefined && phase !== "anonymous" && phase !== "closed";
  }

  /** Whether a user of this name is online (or logging in), here or on another node. */
  isOnline(name: string): boolean {
    const key = nameKey(name.normalize("NFC"));
    return this.#cx.users.has(key) || this.#cx.remote.has(key);
  }

  /** How many users are logged in here. */
  get userCount(): number {
    return this.#cx.users.size;
  }

  /** The chat state of one connection, for operators. */
  view(conn: ConnId): SessionView | null {
    const s = this.#cx.sessions.get(conn);
    if (!s) return null;
    return {
      name: s.phase === "online" || s.phase === "admitting" ? s.name : null,
      rooms: [...s.rooms.values()].map((r) => r.name),
    };
  }

  #command(s: Session, pending: Pending, now: number): void {
    const cx = this.#cx;
    if (s.waiting) {
      const bytes = s.backlogBytes + sizeOf(pending);
      const most =
        s.phase === "online" ? cx.options.maxBacklogBytes : cx.options.maxBacklogBytesBeforeLogin;
      if (s.backlog.length >= cx.options.maxBacklog || bytes > most) {
        kickOut(cx, s, "flood", "gone");
      } else {
        s.backlog.push(pending);
        s.backlogBytes = bytes;
      }
      return;
    }
    const { re } = pending;
    if ("error" in pending) return cx.error(s, re, pending.error.code, pending.error.message);
    const { command } = pending;
    switch (command.type) {
      case "ping":
        return cx.send(s.conn, { type: "pong", re });
      case "help":
        return cx.send(s.conn, { type: "help", re });
      case "quit":
        return quit(cx, s, command, re);
      case "login":
        if (s.phase === "online") {
          return cx.error(s, re, "already_logged_in", `you are logged in as ${s.name}`);
        }
        return login(cx, s, command, re);
    }
    if (s.phase !== "online") {
      return cx.error(s, re, "not_logged_in", "log in first: /login <name>");
    }
    switch (command.type) {
      case "to":
        return choose(cx, s, command.name, re);
      case "say":
        if (!s.partner) {
          return cx.error(s, re, "no_target", "choose who to talk to first: /to <name>");
        }
        return sendMessage(cx, s, s.partner.name, command.text, re, now);
      case "msg":
        return sendMessage(cx, s, command.to, command.text, re, now);
      case "join":
        return join(cx, s, command.room, re);
      case "leave":
        return leave(cx, s, command.room, re);
      case "who":
        return command.room === undefined
          ? this.#who(s, command.after, re)
          : whoInRoom(cx, s, command.room, re, command.after);
      case "history":
        return history(cx, s, command, re);
      case "rooms":
        return listRooms(cx, s, command.after, re);
    }
  }

  /** `who`: a page of everyone online, in name order (docs/protocol.md §12). */
  #who(s: Session, after: string | undefined, re: Re): void {
    const cx = this.#cx;
    const page = cx.directory.page(after, WHO_PAGE);
    cx.send(s.conn, { type: "who", re, ...page, online: cx.online });
  }

  /** Runs a waiting session's continuation, then the commands that queued behind it. */
  #continue<K extends Waiting["kind"]>(
    conn: ConnId,
    kind: K,
    now: number,
    then: (s: Session, w: WaitingOf<K>) => void,
  ): void {
    const s = this.#cx.sessions.get(conn);
    if (!s || s.waiting?.kind !== kind) return;
    const w = s.waiting as WaitingOf<K>;
    s.waiting = null;
    then(s, w);
    while (!s.waiting && s.backlog.length > 0 && this.#cx.sessions.has(conn)) {
      const next = s.backlog.shift() as Pending;
      s.backlogBytes -= sizeOf(next);
      this.#command(s, next, now);
    }
  }
}

/** The most names one `who` page lists. */
const WHO_PAGE = 1000;

/** About the bytes a waiting command holds: its strings, and a little for the rest. */
function sizeOf(pending: Pending): number {
  let n = 64 + (pending.re?.length ?? 0);
  const fields = "command" in pending ? pending.command : pending.error;
  for (const value of Object.values(fields)) if (typeof value === "string") n += value.length;
  return n;
}

/** Whether a login's credentials check took the name for this node. */
function claimed(result: AuthResult): boolean {
  return result === "ok" || result === "verified";
}
