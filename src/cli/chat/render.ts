import type { ChatMessage, ServerMessage } from "../../core/mod.ts";

/** How lines are drawn: with ANSI colours or plain. */
export interface Style {
  color: boolean;
}

const CODES = {
  private: "36", // cyan
  room: "32", // green
  all: "35", // magenta
  info: "2", // dim
  error: "31", // red
  announce: "1;33", // bold yellow
  name: "1", // bold
} as const;

function paint(style: Style, kind: keyof typeof CODES, text: string): string {
  return style.color ? `\u001b[${CODES[kind]}m${text}\u001b[0m` : text;
}

function clock(ts: string, withDate: boolean): string {
  return withDate ? `${ts.slice(0, 10)} ${ts.slice(11, 19)}` : ts.slice(11, 19);
}

/**
 * Draws one chat message as a terminal line. `dated` shows the day as well as the time
 * (for messages that waited, were replayed or come from history); a private message that
 * `me` sent reads `me → them`.
 *
 * @example
 * renderChat({ type: "message", id: "1", from: "bo", to: "#x", text: "hi", ts: "2026-05-06T07:08:09.000Z" }, { color: false }, true);
 * // "[2026-05-06 07:08:09] #x bo: hi"
 */
export function renderChat(msg: ChatMessage, style: Style, dated: boolean, me?: string): string {
  const kind = msg.to === "*" ? "all" : msg.to.startsWith("#") ? "room" : "private";
  const where = kind === "all" ? "* " : kind === "room" ? `${msg.to} ` : "";
  const when = `[${clock(msg.ts, dated)}]`;
  const who =
    kind === "private" && me !== undefined && msg.from === me
      ? `${paint(style, "name", msg.from)} → ${paint(style, "private", msg.to)}`
      : paint(style, "name", msg.from);
  return `${paint(style, "info", when)} ${paint(style, kind, where)}${who}: ${msg.text}`;
}

/**
 * Draws one reply or event from the server as a terminal line (or a few, separated by
 * `\n`), or null when there is nothing to show. Messages that waited (`queued`) or were
 * replayed after a reconnect (`replay`) carry their date; `me` is the user's own name, so
 * that their own private messages read `me → them`. Pure: the same input gives the same text.
 *
 * @example
 * renderMessage({ type: "presence", name: "bob", status: "online" }, { color: false });
 * // "* bob is online"
 */
export function renderMessage(msg: ServerMessage, style: Style, me?: string): string | null {
  switch (msg.type) {
    case "message":
      return renderChat(msg, style, msg.queued === true || msg.replay === true, me);
    case "history":
      return [
        ...msg.messages.map((m) => renderChat(m, style, true, me)),
        paint(style, "info", `* end of history with ${msg.with}`),
      ].join("\n");
    case "welcome": {
      const others =
        msg.users.length > 0 ? `online: ${msg.users.join(", ")}` : "nobody else is online";
      const rooms = (msg.rooms?.length ?? 0) > 0 ? `; rooms: ${msg.rooms.join(", ")}` : "";
      // With `since`, held messages come in the replay (docs/protocol.md §11): count them once.
      const held =
        msg.replayed === undefined && msg.queued > 0
          ? `; ${msg.queued} held message(s) follow`
          : "";
      const replayed =
        msg.replayed !== undefined && msg.replayed > 0
          ? `; ${msg.replayed} missed message(s) follow`
          : "";
      const gap = msg.gap ? " (older ones were left out: /history <name> shows them)" : "";
      return paint(
        style,
        "info",
        `* logged in as ${msg.name}; ${others}${rooms}${held}${replayed}${gap}`,
      );
    }
    case "ok":
      if (msg.queued)
        return paint(style, "info", `* ${msg.to ?? "they"} is offline; held for them`);
      if (msg.users)
        return paint(style, "info", `* you joined ${msg.room}: ${msg.users.join(", ")}`);
      if (msg.room) return paint(style, "info", `* you left ${msg.room}`);
      return null;
    case "who":
      return paint(
        style,
        "info",
        `* ${msg.room ?? "online"}: ${msg.users.join(", ") || "nobody"}${whoTail(msg)}`,
      );
    case "rooms":
      return paint(
        style,
        "info",
        msg.rooms.length === 0
          ? "* no rooms yet; /join #name makes one"
          : `* rooms: ${msg.rooms.map((r) => `${r.room} (${r.members})`).join(", ")}`,
      );
    case "pong":
      return paint(style, "info", "* pong");
    case "help":
      return null;
    case "bye":
      return paint(style, "error", `* disconnected: ${msg.reason}`);
    case "error":
      return renderError(msg.code, msg.message, style);
    case "presence":
      return paint(style, "info", `* ${msg.name} is ${msg.status}`);
    case "joined":
      return paint(style, "info", `* ${msg.name} joined ${msg.room}`);
    case "left":
      return paint(style, "info", `* ${msg.name} left ${msg.room}`);
    case "announce":
      return paint(style, "announce", `*** ${msg.text}`);
  }
}

/**
 * What follows the names of a `who` page (docs/protocol.md §12): how many are online in all
 * when the page lists only some of them, and, when more pages follow, the command that
 * prints the next one (as text mode's hint, §5). The client prints one page at a time.
 *
 * @example
 * whoTail({ type: "who", re: "1", users: ["ann", "bo"], online: 1500, next: "bo" });
 * // " (1500 in all; more: /who * bo)"
 */
function whoTail(msg: Extract<ServerMessage, { type: "who" }>): string {
  const parts: string[] = [];
  if (msg.online !== undefined && msg.online !== msg.users.length) {
    parts.push(`${msg.online} in all`);
  }
  if (msg.next !== undefined) parts.push(`more: /who ${msg.room ?? "*"} ${msg.next}`);
  return parts.length > 0 ? ` (${parts.join("; ")})` : "";
}

/**
 * Draws an error as a terminal line: one the server sent (its code, docs/protocol.md §9), or
 * one the client library found itself (`connection_lost`, `closed`, ...).
 *
 * @example
 * renderError("no_such_user", "nobody called carol has logged in here", { color: false });
 * // "! no_such_user: nobody called carol has logged in here"
 */
export function renderError(code: string, message: string, style: Style): string {
  return paint(style, "error", `! ${code}: ${message}`);
}

/**
 * The input prompt: who you are and where a plain line goes.
 *
 * @example
 * prompt("alice", "bob", { color: false }); // "alice → bob> "
 */
export function prompt(name: string, partner: string | null, style: Style): string {
  if (!name) return "> ";
  return `${paint(style, "name", name)}${partner ? ` → ${paint(style, partner.startsWith("#") ? "room" : "private", partner)}` : ""}> `;
}

/** The commands the client understands, for `/help` and completion. */
export const COMMANDS = [
  "/to",
  "/msg",
  "/all",
  "/join",
  "/leave",
  "/who",
  "/rooms",
  "/history",
  "/ping",
  "/help",
  "/quit",
] as const;

/** What completion can offer: the users and rooms the client knows of. */
export interface Known {
  users: Iterable<string>;
  rooms: Iterable<string>;
}

/**
 * Completes the last word of an input line: a command at the start, else a room (after
 * `#`) or a user name. Returns the candidates and the word they complete, as Node's
 * readline completer expects.
 *
 * @example
 * complete("/msg bo", { users: ["bob", "alice"], rooms: [] }); // [["bob"], "bo"]
 */
export function complete(line: string, known: Known): [string[], string] {
  const word = line.slice(line.lastIndexOf(" ") + 1);
  const atStart = !line.includes(" ");
  const pool: string[] = atStart && word.startsWith("/") ? [...COMMANDS] : [];
  if (!(atStart && word.startsWith("/"))) {
    pool.push(...known.rooms);
    if (!word.startsWith("#")) pool.push(...known.users);
  }
  const lower = word.toLowerCase();
  const hits = [...new Set(pool)].filter((c) => c.toLowerCase().startsWith(lower)).sort();
  return [hits, word];
}
