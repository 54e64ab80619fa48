import {
  type ChatMessage,
  type Command,
  type ErrorCode,
  nameKey,
  type Reply,
  type ServerMessage,
} from "../core/mod.ts";
import { formatIrc, ircTextLines } from "./irc.ts";
import type { IrcContext, Purpose } from "./irc-context.ts";
import { messageLines } from "./irc-events.ts";
import { HISTORY_PAGES, readEnough, selectHistory } from "./irc-history.ts";
import type { IrcRegistration } from "./irc-registration.ts";
import { HISTORY_MAX } from "./schema.ts";

type Ok = Extract<ServerMessage, { type: "ok" }>;

/**
 * A reply of the core as IRC lines, by what its command was for (docs/irc.md): `JOIN` and
 * names for a join, `PONG` for a ping, the echo of a message, `353`, `352`, `322`... lists,
 * a `chathistory` batch; an error as the numeric its IRC command expects. Lists read page by
 * page ask for their next page as a follow-up.
 *
 * @example
 * answerLines(cx, registration, { type: "pong", re: "i4" }); // [":relay PONG relay :lag-1"]
 */
export function answerLines(cx: IrcContext, registration: IrcRegistration, msg: Reply): string[] {
  const purpose = cx.purposeOf(msg.re);
  if (msg.type === "error") return errorLines(cx, registration, msg.code, msg.message, purpose);
  if (purpose === undefined) return [];
  switch (purpose.kind) {
    case "login":
      return msg.type === "welcome" ? registration.welcomed(msg, purpose) : [];
    case "ping": {
      const server = cx.options.server;
      const params = [server, purpose.token];
      return [formatIrc({ source: server, command: "PONG", params }, true)];
    }
    case "quit":
      return msg.type === "bye" ? [cx.replies.closing("quit")] : [];
    case "join":
      return msg.type === "ok"
        ? joined(cx, msg.room ?? purpose.channel, msg.users ?? [], purpose.forced)
        : [];
    case "part":
      return msg.type === "ok" ? parted(cx, msg.room ?? purpose.channel, purpose.reason) : [];
    case "msg":
      return msg.type === "ok" ? sent(cx, msg, purpose) : [];
    case "names":
      return msg.type === "who"
        ? names(cx, purpose, msg.room ?? purpose.channel, msg.users, msg.next)
        : [];
    case "playback":
      return msg.type === "history" ? playback(cx, purpose.channel, msg.messages) : [];
    case "who":
      return msg.type === "who" ? who(cx, purpose, msg.users, msg.next) : [];
    case "whois":
    case "ison":
      return msg.type === "who" ? lookup(cx, purpose, msg.users, msg.next) : [];
    case "list":
      return msg.type === "rooms" ? list(cx, purpose, msg.rooms, msg.next) : [];
    case "limited":
      return [];
    case "chathistory":
      return msg.type === "history" ? historyPage(cx, purpose, msg.messages, msg.more) : [];
  }
}

function joined(cx: IrcContext, room: string, members: string[], forced: boolean): string[] {
  const fresh = cx.channels.enter(room, members, cx.nick ?? "*");
  if (!fresh || forced) return [];
  return [formatIrc({ source: cx.self(), command: "JOIN", params: [room] })];
}

function parted(cx: IrcContext, room: string, reason: string | undefined): string[] {
  cx.channels.leave(room);
  const params = reason ? [room, reason] : [room];
  return [formatIrc({ source: cx.self(), command: "PART", params })];
}

/** A message was kept: its echo (`echo-message`), and a notice when it is held. */
function sent(cx: IrcContext, ok: Ok, purpose: Extract<Purpose, { kind: "msg" }>): string[] {
  const out: string[] = [];
  if (ok.queued && !purpose.notice) {
    const to = ok.to ?? purpose.target;
    out.push(cx.replies.notice(`${to} is offline; the message is held for them`));
  }
  if (cx.capabilities.has("echo-message")) {
    const head = {
      ...cx.tagged(ok.id, new Date(purpose.at).toISOString()),
      source: cx.self(),
      command: purpose.notice ? "NOTICE" : "PRIVMSG",
      params: [purpose.target],
    };
    out.unshift(...ircTextLines(head, purpose.text));
  }
  return out;
}

/** A page of who is in a room: `353` lines, then the next page, or `366`. */
function names(
  cx: IrcContext,
  purpose: Extract<Purpose, { kind: "names" }>,
  room: string,
  users: string[],
  next: string | undefined,
): string[] {
  const first = purpose.first;
  purpose.first = false;
  if (!cx.channels.present(room, users, first) && purpose.join) return [];
  const out = cx.replies.names(room, users, next === undefined);
  if (next === undefined) return out;
  return [...out, ...cx.more({ type: "who", room, after: next }, purpose)];
}

/** The most users a `WHO` of a mask shows (a room's `WHO` shows every member online). */
const WHO_MATCHES = 1000;

/**
 * A page of `WHO`: `352` lines, then the next page, or `315`. A mask reads on through those
 * online until it has shown `WHO_MATCHES`.
 */
function who(
  cx: IrcContext,
  purpose: Extract<Purpose, { kind: "who" }>,
  users: string[],
  next: string | undefined,
): string[] {
  const room = purpose.mask.startsWith("#") ? purpose.mask : undefined;
  const shown = cx.replies.who(purpose.mask, users, false);
  purpose.found += shown.length;
  if (next !== undefined && (room !== undefined || purpose.found < WHO_MATCHES)) {
    const command: Command = room
      ? { type: "who", room, after: next }
      : { type: "who", after: next };
    return [...shown, ...cx.more(command, purpose)];
  }
  return [...shown, cx.numeric("315", purpose.mask, "End of /WHO list")];
}

function playback(cx: IrcContext, room: string, messages: ChatMessage[]): string[] {
  const fresh = cx.channels.playback(room, messages);
  return fresh === null ? [] : fresh.flatMap((m) => messageLines(cx, m, true));
}

/** WHOIS, ISON and USERHOST: looks for nicks among those online, a page at a time. */
function lookup(
  cx: IrcContext,
  purpose: Extract<Purpose, { kind: "whois" | "ison" }>,
  users: string[],
  next: string | undefined,
): string[] {
  const wanted = new Set(
    purpose.kind === "whois" ? [nameKey(purpose.nick)] : purpose.nicks.map(nameKey),
  );
  const found = users.filter((u) => wanted.has(nameKey(u)));
  if (purpose.kind === "whois") {
    if (found[0] === undefined && next !== undefined) {
      return cx.more({ type: "who", after: next }, purpose);
    }
    return cx.replies.whois(purpose.nick, found[0]);
  }
  purpose.found.push(...found);
  if (next !== undefined && purpose.found.length < wanted.size) {
    return cx.more({ type: "who", after: next }, purpose);
  }
  return [cx.replies.online(purpose.found, purpose.userhost)];
}

function list(
  cx: IrcContext,
  purpose: Extract<Purpose, { kind: "list" }>,
  rooms: { room: string; members: number; online: number }[],
  next: string | undefined,
): string[] {
  const out: string[] = [];
  if (!purpose.started) {
    purpose.started = true;
    out.push(cx.numeric("321", "Channel", "Users  Name"));
  }
  for (const r of rooms) {
    if (purpose.only && !purpose.only.has(nameKey(r.room))) continue;
    out.push(cx.numeric("322", r.room, String(r.online), `[+nt] ${r.members} members`));
  }
  if (next !== undefined) return [...out, ...cx.more({ type: "rooms", after: next }, purpose)];
  out.push(cx.numeric("323", "End of /LIST"));
  return out;
}

/** A page of history for `CHATHISTORY`: read further back, or answer. */
function historyPage(
  cx: IrcContext,
  purpose: Extract<Purpose, { kind: "chathistory" }>,
  page: ChatMessage[],
  more: boolean,
): string[] {
  purpose.read = [...page, ...purpose.read];
  purpose.pages++;
  const oldest = purpose.read[0];
  const enough = readEnough(purpose.request, purpose.read);
  if (!enough && more && oldest && purpose.pages < HISTORY_PAGES) {
    const command: Command = {
      type: "history",
      with: purpose.request.target,
      before: oldest.id,
      limit: HISTORY_MAX,
    };
    return cx.more(command, purpose);
  }
  const chosen = selectHistory(purpose.request, purpose.read);
  const shown = chosen.flatMap((m) => messageLines(cx, m, true));
  return cx.batch("chathistory", [purpose.request.target], shown);
}

/** An error reply, as the numeric its command's IRC form expects. */
function errorLines(
  cx: IrcContext,
  registration: IrcRegistration,
  code: ErrorCode,
  message: string,
  purpose: Purpose | undefined,
): string[] {
  if (purpose === undefined) return cx.error(code, message);
  switch (purpose.kind) {
    case "login":
      return registration.loginFailed(code, message, purpose);
    case "join":
      cx.channels.failed(purpose.channel);
      if (code === "bad_name" || code === "no_such_room") {
        return [cx.numeric("403", purpose.channel, `No such channel (${message})`)];
      }
      if (code === "not_allowed") return [cx.numeric("405", purpose.channel, message)];
      return cx.error(code, message);
    case "part":
      if (code === "not_in_room") {
        return [cx.numeric("442", purpose.channel, "You're not on that channel")];
      }
      if (code === "no_such_room" || code === "bad_name") {
        return [cx.numeric("403", purpose.channel, "No such channel")];
      }
      return cx.error(code, message);
    case "msg":
      if (purpose.notice) return [];
      return sendFailed(cx, code, message, purpose.target);
    case "names":
      if (purpose.join) return [];
      return [cx.numeric("366", purpose.channel, "End of /NAMES list")];
    case "who":
      return [cx.numeric("315", purpose.mask, "End of /WHO list")];
    case "playback":
      cx.channels.noPlayback(purpose.channel);
      return [];
    case "limited":
      return [cx.numeric("263", purpose.command, `${message} (the command was dropped)`)];
    case "chathistory": {
      const { sub, target } = purpose.request;
      const bad = ["not_in_room", "no_such_user", "no_such_room", "bad_name", "not_allowed"];
      const why = bad.includes(code) ? "INVALID_TARGET" : "MESSAGE_ERROR";
      return [cx.fail("CHATHISTORY", why, sub, target, message)];
    }
    default:
      return cx.error(code, message);
  }
}

function sendFailed(cx: IrcContext, code: ErrorCode, message: string, target: string): string[] {
  switch (code) {
    case "no_such_user":
    case "bad_name":
      return [cx.numeric("401", target, "No such nick/channel")];
    case "no_such_room":
      return [cx.numeric("403", target, "No such channel")];
    case "not_in_room":
      return [cx.numeric("404", target, "Cannot send to channel (you are not in it)")];
    default:
      return [cx.numeric("404", target, `Cannot send (${code}: ${message})`)];
  }
}
