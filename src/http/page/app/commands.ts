// What a line typed in the page's message field asks for: chat, or one of the text-mode
// commands people know from `nc` and `relay chat` (docs/protocol.md §4).

/** What the page does with a line from its message field. */
export type PageAction =
  | { kind: "send"; to: string; text: string }
  | { kind: "open"; target: string }
  | { kind: "join"; room: string }
  | { kind: "leave"; room: string }
  | { kind: "history"; with: string; limit: number }
  | { kind: "who"; room?: string; after?: string }
  | { kind: "rooms" }
  | { kind: "ping" }
  | { kind: "help" }
  | { kind: "quit" }
  | { kind: "usage"; message: string };

/** The commands and what they do, as `/help` shows them. */
export const HELP: readonly string[] = [
  "/msg <name, #room or *> <text> — send one message",
  "/to <name, #room or *> — open that conversation",
  "/join <#room>, /leave [#room] — join (creating it) or leave a room",
  "/history [name, #room or *] [n] — load the last n (50) messages of a conversation",
  "/who [#room or *] [name], /rooms — who is online, or in a room (the page after a name); the rooms",
  "/all <text> — send to everyone online; //text sends a line that starts with /",
  "/ping — check the connection; /quit — log out",
  "Alt+↑ / Alt+↓ — previous / next conversation; Alt+Shift+↑ / ↓ — the next with unread messages",
];

/** The default and largest number of messages `/history` loads (docs/protocol.md §4). */
export const HISTORY_DEFAULT = 50;
const HISTORY_MAX = 200;

/**
 * Reads a line from the message field: a plain line goes to the current conversation,
 * `/word ...` is a command, `//text` sends `/text`. Returns a `usage` action for a line that
 * cannot be carried out as typed.
 *
 * @example
 * parseLine("hi", "#dev"); // { kind: "send", to: "#dev", text: "hi" }
 * parseLine("/join dev", null); // { kind: "join", room: "#dev" }
 * parseLine("/msg bo see you", null); // { kind: "send", to: "bo", text: "see you" }
 */
export function parseLine(line: string, current: string | null): PageAction {
  if (!line.startsWith("/") || line.startsWith("//")) {
    const text = line.startsWith("//") ? line.slice(1) : line;
    if (current === null) {
      return usage("pick a conversation on the left first, or write /msg <name> <text>");
    }
    return { kind: "send", to: current, text };
  }
  const match = /^\/(\S+)\s*([\s\S]*)$/.exec(line.trimEnd());
  const word = (match?.[1] ?? "").toLowerCase();
  const rest = match?.[2] ?? "";
  const args = rest === "" ? [] : rest.split(/\s+/);
  switch (word) {
    case "msg": {
      const space = rest.search(/\s/);
      const text = space === -1 ? "" : rest.slice(space).trimStart();
      if (space === -1 || text === "") return usage("/msg <name, #room or *> <text>");
      return { kind: "send", to: rest.slice(0, space), text };
    }
    case "all":
      return rest === "" ? usage("/all <text>") : { kind: "send", to: "*", text: rest };
    case "to":
    case "open":
      return args.length === 1
        ? { kind: "open", target: args[0] as string }
        : usage("/to <name or #room>");
    case "join":
      return args.length === 1
        ? { kind: "join", room: asRoom(args[0] as string) }
        : usage("/join <#room>");
    case "leave": {
      const room = args[0] ?? (current?.startsWith("#") ? current : undefined);
      return room && args.length <= 1
        ? { kind: "leave", room: asRoom(room) }
        : usage("/leave <#room>");
    }
    case "history":
      return history(args, current);
    case "who": {
      // As in text mode (docs/protocol.md §4): `*` is everyone, a bare word a room.
      const [where, after] = args;
      if (args.length > 2) return usage("/who [#room or *] [the name to list after]");
      return {
        kind: "who",
        ...(where !== undefined && where !== "*" && { room: asRoom(where) }),
        ...(after !== undefined && { after }),
      };
    }
    case "rooms":
      return { kind: "rooms" };
    case "ping":
      return { kind: "ping" };
    case "help":
      return { kind: "help" };
    case "quit":
      return { kind: "quit" };
    default:
      return usage(`unknown command /${word}; /help lists them`);
  }
}

function history(args: string[], current: string | null): PageAction {
  // `/history 20` means the current conversation's last 20.
  const numeric = args.length === 1 && /^\d+$/.test(args[0] as string);
  const target = numeric ? current : (args[0] ?? current);
  const count = numeric ? args[0] : args[1];
  const help = usage("/history [name, #room or *] [n]");
  if (!target || args.length > 2) return help;
  const limit = count === undefined ? HISTORY_DEFAULT : Number(count);
  if (!Number.isInteger(limit) || limit < 1 || limit > HISTORY_MAX) {
    return usage(`the number of messages is 1 to ${HISTORY_MAX}`);
  }
  return { kind: "history", with: target, limit };
}

/**
 * A page of `who` as a note (docs/protocol.md §12): the names, how many are online in all
 * when the page lists only some, and the command for the next page when there is one.
 *
 * @example
 * whoNote({ users: ["ann", "bo"], online: 1500, next: "bo" });
 * // "online: ann, bo (1500 in all; more: /who * bo)"
 */
export function whoNote(page: {
  room?: string;
  users: readonly string[];
  online?: number;
  next?: string;
}): string {
  const parts: string[] = [];
  if (page.online !== undefined && page.online !== page.users.length) {
    parts.push(`${page.online} in all`);
  }
  if (page.next !== undefined) parts.push(`more: /who ${page.room ?? "*"} ${page.next}`);
  const tail = parts.length > 0 ? ` (${parts.join("; ")})` : "";
  return `${page.room ?? "online"}: ${page.users.join(", ") || "nobody"}${tail}`;
}

/**
 * A room's name with its `#`, however it was typed.
 *
 * @example
 * asRoom("dev"); // "#dev"
 */
export function asRoom(name: string): string {
  return name.startsWith("#") ? name : `#${name}`;
}

function usage(message: string): PageAction {
  return { kind: "usage", message };
}
