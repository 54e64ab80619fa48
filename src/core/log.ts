import type { Context } from "./context.ts";
import { noSuchUser } from "./context.ts";
import { EVERYONE, privateConversation } from "./conversation.ts";
import { checkName, checkRoom, isError } from "./names.ts";
import type { Session, WaitingOf } from "./state.ts";
import type { ChatMessage, Command, Re } from "./types.ts";

/** How many messages `history` returns when not told. */
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

/**
 * `history`: asks the host for a page of one of the user's conversations: with a user, a
 * room they are a member of, or everyone (docs/protocol.md §11).
 */
export function history(
  cx: Context,
  s: Session,
  command: Extract<Command, { type: "history" }>,
  re: Re,
): void {
  const raw = command.with;
  let conv: string;
  let shown: string;
  let user: string | undefined;
  if (raw === "*") {
    conv = EVERYONE;
    shown = "*";
  } else if (raw.startsWith("#")) {
    const checked = checkRoom(raw);
    if (isError(checked)) return cx.error(s, re, checked.code, checked.message);
    const room = cx.rooms.get(checked.key);
    if (!room) return cx.error(s, re, "no_such_room", `there is no room ${checked.name}`);
    if (!room.all.has(s.key)) {
      return cx.error(s, re, "not_in_room", `join ${room.name} to read its history`);
    }
    conv = room.key;
    shown = room.name;
  } else {
    const checked = checkName(raw);
    if (isError(checked)) return cx.error(s, re, checked.code, checked.message);
    conv = privateConversation(s.key, checked.key);
    const online = cx.users.get(checked.key) ?? cx.remote.get(checked.key);
    shown = online?.name ?? checked.name;
    // Someone online has logged in; anyone else, the store knows.
    if (!online) user = checked.key;
  }
  const limit = Math.min(Math.max(1, command.limit ?? DEFAULT_LIMIT), MAX_LIMIT);
  if (!cx.options.log) {
    return cx.send(s.conn, { type: "history", re, with: shown, messages: [], more: false });
  }
  s.waiting = { kind: "history", re, with: shown };
  cx.push({
    type: "loadHistory",
    conn: s.conn,
    conv,
    ...(command.before !== undefined && { before: command.before }),
    limit,
    ...(user !== undefined && { user }),
  });
}

/**
 * A page of the log came: the reply carries as many of its newest messages as fit
 * `maxHistoryBytes` (so that it fits any outbox); `more` says older ones are there.
 */
export function historyLoaded(
  cx: Context,
  s: Session,
  w: WaitingOf<"history">,
  page: { messages: ChatMessage[]; more: boolean } | null,
): void {
  if (page === null) return cx.error(s, w.re, "no_such_user", noSuchUser(w.with));
  let { messages, more } = page;
  let bytes = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    bytes += encodedSize(messages[i] as ChatMessage);
    if (bytes > cx.options.maxHistoryBytes) {
      messages = messages.slice(i + 1);
      more = true;
      break;
    }
  }
  cx.send(s.conn, { type: "history", re: w.re, with: w.with, messages, more });
}

/** At least the bytes a message takes on the wire (UTF-8 takes at most 3 per UTF-16 unit). */
function encodedSize(m: ChatMessage): number {
  return 3 * (m.text.length + m.from.length + m.to.length + m.id.length) + 100;
}
