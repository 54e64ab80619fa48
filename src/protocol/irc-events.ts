import { type ChatMessage, type Event, nameKey } from "../core/mod.ts";
import { formatIrc, ircTextLines } from "./irc.ts";
import type { IrcContext } from "./irc-context.ts";

/**
 * An event of the core as the text one IRC client is sent (docs/irc.md, "The relay into
 * IRC"), its lines each ended by `\r\n`, or null when it shows nothing: a message as
 * `PRIVMSG` (a broadcast a `NOTICE` to `$*`), presence as `JOIN`/`QUIT` where the client
 * shares a channel, `joined`/`left` as `JOIN`/`PART`, an announcement as a server `NOTICE`,
 * `bye` as `ERROR`. A room message or a broadcast reads the same to every client with the
 * same capabilities: a fan-out formats it once for each kind of client, not per recipient.
 *
 * @example
 * eventText(cx, { type: "announce", text: "restart at noon", ts });
 * // ":relay NOTICE alice :restart at noon\r\n"
 */
export function eventText(cx: IrcContext, msg: Event): string | null {
  if (msg.type === "message" && (msg.to === "*" || msg.to.startsWith("#"))) {
    const dated = msg.queued === true || msg.replay === true;
    // The channel's playback leaves out what was shown live.
    if (!dated && msg.to !== "*") cx.channels.shownLive(msg.to, msg.id);
    return sharedText(cx, msg, dated);
  }
  const lines = eventLines(cx, msg);
  return lines.length === 0 ? null : joinLines(lines);
}

/** Lines as the text of one write: each ended by `\r\n`. */
export function joinLines(lines: string[]): string {
  return `${lines.join("\r\n")}\r\n`;
}

/**
 * The last message formatted for everyone alike, and its text for each kind of client
 * (by `kindOf`): the recipients of one fan-out come one after the other, so one entry is
 * enough, and nothing is kept past the next such message.
 */
let lastShared: { message: ChatMessage; server: string; texts: (string | undefined)[] } | null =
  null;

function sharedText(cx: IrcContext, m: ChatMessage, dated: boolean): string {
  const server = cx.options.server;
  if (lastShared?.message !== m || lastShared.server !== server) {
    lastShared = { message: m, server, texts: [] };
  }
  const kind =
    (cx.capabilities.has("server-time") ? 1 : 0) + (cx.capabilities.has("message-tags") ? 2 : 0);
  const known = lastShared.texts[kind];
  if (known !== undefined) return known;
  const text = joinLines(messageLines(cx, m, dated));
  lastShared.texts[kind] = text;
  return text;
}

function eventLines(cx: IrcContext, msg: Event): string[] {
  switch (msg.type) {
    case "message":
      return messageLines(cx, msg, msg.queued === true || msg.replay === true);
    case "presence":
      return presenceLines(cx, msg.name, msg.status);
    case "joined":
    case "left":
      return membershipLines(cx, msg.type, msg.room, msg.name);
    case "announce":
      return [cx.replies.notice(msg.text, cx.tagged(undefined, msg.ts).tags)];
    case "bye":
      return [cx.replies.closing(msg.reason)];
  }
}

/**
 * A relay message as `PRIVMSG` lines (a broadcast: `NOTICE $*`), split to fit 512 bytes.
 * `dated`: it did not arrive live (held, replayed or played back), so a client without
 * `server-time` sees its date in the text.
 */
export function messageLines(cx: IrcContext, m: ChatMessage, dated: boolean): string[] {
  const me = nameKey(cx.nick ?? "");
  const date =
    dated && !cx.capabilities.has("server-time")
      ? `[${m.ts.slice(0, 10)} ${m.ts.slice(11, 19)}] `
      : "";
  let target: string;
  let command = "PRIVMSG";
  if (m.to === "*") {
    target = "$*";
    command = "NOTICE";
  } else if (m.to.startsWith("#")) {
    target = m.to;
  } else {
    target = nameKey(m.from) === me ? m.to : (cx.nick ?? m.to);
  }
  const head = {
    ...cx.tagged(m.id, m.ts),
    source: cx.replies.userSource(m.from),
    command,
    params: [target],
  };
  return ircTextLines(head, m.text, date);
}

function presenceLines(cx: IrcContext, name: string, status: "online" | "offline"): string[] {
  const source = cx.replies.userSource(name);
  if (status === "online") {
    return cx.channels
      .cameOnline(name)
      .map((room) => formatIrc({ source, command: "JOIN", params: [room] }));
  }
  if (!cx.channels.wentOffline(name)) return [];
  return [formatIrc({ source, command: "QUIT", params: ["offline"] }, true)];
}

function membershipLines(
  cx: IrcContext,
  kind: "joined" | "left",
  room: string,
  name: string,
): string[] {
  const shown = kind === "joined" ? cx.channels.joined(room, name) : cx.channels.left(room, name);
  if (shown === null) return [];
  const command = kind === "joined" ? "JOIN" : "PART";
  return [formatIrc({ source: cx.replies.userSource(name), command, params: [shown] })];
}
