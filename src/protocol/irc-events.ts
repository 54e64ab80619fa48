import { type ChatMessage, type Event, nameKey } from "../core/mod.ts";
import { formatIrc, ircTextLines } from "./irc.ts";
import type { IrcContext } from "./irc-context.ts";

/**
 * An event of the core as IRC lines for one client (docs/irc.md, "The relay into IRC"): a
 * message as `PRIVMSG` (a broadcast a `NOTICE` to `$*`), presence as `JOIN`/`QUIT` where the
 * client shares a channel, `joined`/`left` as `JOIN`/`PART`, an announcement as a server
 * `NOTICE`, `bye` as `ERROR`.
 *
 * @example
 * eventLines(cx, { type: "announce", text: "restart at noon", ts });
 * // [":relay NOTICE alice :restart at noon"]
 */
export function eventLines(cx: IrcContext, msg: Event): string[] {
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
 * `server-time` sees its date in the text; a live room message is noted as shown, so the
 * channel's playback leaves it out.
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
    if (!dated) cx.channels.shownLive(m.to, m.id);
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
