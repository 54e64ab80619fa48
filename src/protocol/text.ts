import type { ChatMessage, Command, ServerMessage } from "../core/mod.ts";
import { type Decoded, refused } from "./decoded.ts";
import { HISTORY_MAX } from "./schema.ts";

const COMMAND_LINE = /^\/(\S*)(?:\s+([\s\S]*))?$/;
const TO_PREFIX = /^to:(\S+)$/;

/**
 * Decodes one text-mode line (docs/protocol.md §4): `/command args`, `//` for a line starting
 * with `/`, `to:<name>`, a bare `quit`/`exit`, or a plain line, which is chat once logged
 * in and a login with that name before.
 *
 * @example
 * decodeText("/msg bob hi", true); // { ok: true, command: { type: "msg", to: "bob", text: "hi" }, re: null }
 * decodeText("alice", false); // { ok: true, command: { type: "login", name: "alice" }, re: null }
 */
export function decodeText(line: string, loggedIn: boolean): Decoded {
  if (line.startsWith("//")) return ok({ type: "say", text: line.slice(1) });
  if (line.startsWith("/")) return decodeSlash(line);
  const bare = line.trim();
  const lower = bare.toLowerCase();
  if (lower === "quit" || lower === "exit") return ok({ type: "quit" });
  const to = TO_PREFIX.exec(bare);
  if (to) return ok({ type: "to", name: to[1] as string });
  return ok(loggedIn ? { type: "say", text: line } : { type: "login", name: bare });
}

function decodeSlash(line: string): Decoded {
  const match = COMMAND_LINE.exec(line.trimEnd()) as RegExpExecArray;
  const word = (match[1] as string).toLowerCase();
  const rest = match[2] ?? "";
  const args = rest === "" ? [] : rest.split(/\s+/);
  switch (word) {
    case "login":
      if (args.length < 1 || args.length > 2) return usage("/login <name> [password]");
      return ok(
        args[1] === undefined
          ? { type: "login", name: args[0] as string }
          : { type: "login", name: args[0] as string, password: args[1] },
      );
    case "to":
      if (args.length !== 1) return usage("/to <name or #room>");
      return ok({ type: "to", name: args[0] as string });
    case "msg": {
      const space = rest.search(/\s/);
      if (space === -1) return usage("/msg <name, #room or *> <text>");
      return ok({ type: "msg", to: rest.slice(0, space), text: rest.slice(space).trimStart() });
    }
    case "all":
      if (rest === "") return usage("/all <text>");
      return ok({ type: "msg", to: "*", text: rest });
    case "join":
    case "leave":
      if (args.length !== 1) return usage(`/${word} <#room>`);
      return ok({ type: word, room: asRoom(args[0] as string) });
    case "who":
      return decodeWho(args);
    case "history":
      return decodeHistory(args);
    case "rooms":
      if (args.length > 1) return usage("/rooms [the room to list after]");
      return ok(args[0] === undefined ? { type: "rooms" } : { type: "rooms", after: args[0] });
    case "ping":
    case "help":
      return ok({ type: word });
    case "quit":
      return ok(rest === "" ? { type: "quit" } : { type: "quit", reason: rest });
    default:
      return refused("unknown_command", `unknown command /${word}; /help lists the commands`);
  }
}

/**
 * `/who [#room or *] [after]`: everyone online (`*`, or nothing) or a room's members online,
 * a page of them after the name `after` when given (the hint of the page before says which).
 */
function decodeWho(args: string[]): Decoded {
  const [where, after] = args;
  if (args.length > 2) return usage("/who [#room or *] [the name to list after]");
  const room = where === undefined || where === "*" ? undefined : asRoom(where);
  return ok({
    type: "who",
    ...(room !== undefined && { room }),
    ...(after !== undefined && { after }),
  });
}

const HISTORY_USAGE = `/history <name, #room or *> [n], n from 1 to ${HISTORY_MAX}`;

/**
 * `/history <with> [n]`. Unlike `/join`, a bare word is a user's name: a conversation may
 * be private, so a room needs its `#`.
 */
function decodeHistory(args: string[]): Decoded {
  const [with_, n] = args;
  if (with_ === undefined || args.length > 2) return usage(HISTORY_USAGE);
  if (n === undefined) return ok({ type: "history", with: with_ });
  const limit = /^\d{1,3}$/.test(n) ? Number(n) : 0;
  if (limit < 1 || limit > HISTORY_MAX) return usage(HISTORY_USAGE);
  return ok({ type: "history", with: with_, limit });
}

/** At a terminal `/join general` means `#general`. */
function asRoom(arg: string): string {
  return arg.startsWith("#") ? arg : `#${arg}`;
}

function ok(command: Command): Decoded {
  return { ok: true, command, re: null };
}

function usage(form: string): Decoded {
  return refused("bad_command", `usage: ${form}`);
}

/** The `/help` text, one line per command. */
export const HELP_LINES = [
  "* commands:",
  "*   /login <name> [password]   log in (a password protects the name from then on)",
  "*   /to <name or #room>        choose who your plain lines go to",
  "*   /msg <name|#room|*> <text> send one message",
  "*   /all <text>                send to everyone online",
  "*   /join <#room>              join (or create) a room",
  "*   /leave <#room>             leave a room",
  "*   /who [#room|*] [after]     who is online (*), or in a room; the page after a name",
  "*   /history <with> [n]        the last n (default 50) messages with a name, #room or *",
  "*   /rooms [after]             list the rooms; the page after a room",
  "*   /ping                      check the connection",
  "*   /quit [reason]             leave (or type quit)",
  "*   //text                     send a line that starts with /",
  "* a private message makes its sender your partner: just type to answer",
];

/**
 * Renders a reply or event for people at a terminal (docs/protocol.md §5, text mode), as one
 * or more lines without a final line ending; null for replies that carry nothing a person
 * needs.
 *
 * @example
 * encodeText({ type: "error", re: null, code: "no_target", message: "choose who to talk to" });
 * // "! no_target: choose who to talk to"
 */
export function encodeText(msg: ServerMessage): string | null {
  switch (msg.type) {
    case "message":
      return messageLine(msg, msg.queued === true || msg.replay === true);
    case "welcome":
      return welcomeLine(msg);
    case "history":
      return historyLines(msg);
    case "ok":
      if (msg.queued) return `* ${msg.to ?? "they"} is offline; the message is held for them`;
      if (msg.users) return `* you joined ${msg.room}: ${msg.users.join(", ")}`;
      if (msg.room) return `* you left ${msg.room}`;
      return null;
    case "who":
      return `* ${msg.room ?? "online"}: ${msg.users.join(", ") || "nobody"}${msg.next === undefined ? "" : ` (more: /who ${msg.room ?? "*"} ${msg.next})`}`;
    case "rooms":
      return msg.rooms.length === 0
        ? "* no rooms yet; /join #name makes one"
        : `* rooms: ${msg.rooms.map((r) => `${r.room} (${r.online} of ${r.members} online)`).join(", ")}${msg.next === undefined ? "" : ` (more: /rooms ${msg.next})`}`;
    case "pong":
      return "* pong";
    case "help":
      return HELP_LINES.join("\n");
    case "bye":
      return `* bye: ${msg.reason}`;
    case "error":
      return `! ${msg.code}: ${msg.message}`;
    case "presence":
      return `* ${msg.name} is ${msg.status}`;
    case "joined":
      return `* ${msg.name} joined ${msg.room}`;
    case "left":
      return `* ${msg.name} left ${msg.room}`;
    case "announce":
      return `*** ${msg.text}`;
  }
}

/**
 * A chat message as one line: `[HH:MM:SS]`, or `[YYYY-MM-DD HH:MM:SS]` when `dated` (it
 * waited, was replayed or comes from history), then `#room ` or `* ` for a room or a
 * broadcast, then `from: text`.
 */
function messageLine(msg: ChatMessage, dated: boolean): string {
  const when = dated
    ? `[${msg.ts.slice(0, 10)} ${msg.ts.slice(11, 19)}]`
    : `[${msg.ts.slice(11, 19)}]`;
  const where = msg.to === "*" ? "* " : msg.to.startsWith("#") ? `${msg.to} ` : "";
  return `${when} ${where}${msg.from}: ${msg.text}`;
}

/**
 * `* welcome, alice! online: bob, carol; you are in #dev, #ops; 2 messages waited for
 * you; 12 messages replayed`. The relay names at most 100 users: the others online are
 * counted (`online: bob, carol and 998 more`), so the line always tells how many are on.
 */
function welcomeLine(msg: Extract<ServerMessage, { type: "welcome" }>): string {
  const parts = [`* welcome, ${msg.name}! ${othersOnline(msg.users, msg.online)}`];
  if (msg.rooms.length > 0) parts.push(`you are in ${msg.rooms.join(", ")}`);
  if (msg.queued > 0) parts.push(`${count(msg.queued, "message")} waited for you`);
  if (msg.replayed !== undefined) {
    const replayed =
      msg.replayed === 0 ? "you missed nothing" : `${count(msg.replayed, "message")} replayed`;
    parts.push(msg.gap ? `${replayed}, older ones left out (/history has them)` : replayed);
  }
  return parts.join("; ");
}

/** The users the welcome names, and how many more are online (`online` counts you). */
function othersOnline(users: string[], online: number): string {
  const unnamed = Math.max(0, online - 1 - users.length);
  if (users.length === 0) {
    return unnamed === 0 ? "nobody else is online" : `online: ${count(unnamed, "other")}`;
  }
  return `online: ${users.join(", ")}${unnamed > 0 ? ` and ${unnamed} more` : ""}`;
}

/**
 * Each message dated, oldest first, then `* end of history with X`, which says how to see
 * older messages when there are some.
 */
function historyLines(msg: Extract<ServerMessage, { type: "history" }>): string {
  let end = `* end of history with ${msg.with}`;
  if (msg.more) {
    end +=
      msg.messages.length < HISTORY_MAX
        ? ` (older messages: /history ${msg.with} ${HISTORY_MAX})`
        : ` (older messages too; ${HISTORY_MAX} is the most /history shows)`;
  }
  return [...msg.messages.map((m) => messageLine(m, true)), end].join("\n");
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
