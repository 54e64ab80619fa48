import { type Command, nameKey } from "../core/mod.ts";
import type { Decoded } from "./decoded.ts";
import { type IrcMessage, relayTextOf } from "./irc.ts";
import { type IrcContext, type IrcTurn, lines, none } from "./irc-context.ts";
import { firstPage, parseHistory } from "./irc-history.ts";
import { TARGETS_MAX } from "./irc-replies.ts";
import { HISTORY_MAX } from "./schema.ts";

/**
 * A command of a registered client (`JOIN`, `PRIVMSG`, `WHO`, `LIST`, `CHATHISTORY`...) as
 * commands for the core, or as the lines the gateway answers itself (`TOPIC`, `MODE`,
 * `421`...), as docs/irc.md maps them. `command` is upper case.
 *
 * @example
 * registeredCommand(cx, "PRIVMSG", parseIrc("PRIVMSG #dev :hi"), now).commands;
 * // [{ ok: true, command: { type: "msg", to: "#dev", text: "hi" }, re: "i3" }]
 */
export function registeredCommand(
  cx: IrcContext,
  command: string,
  msg: IrcMessage,
  now: number,
): IrcTurn {
  const p = msg.params;
  switch (command) {
    case "JOIN":
      if (p[0] === undefined) return cx.needMore("JOIN");
      return join(cx, p[0]);
    case "PART":
      if (p[0] === undefined) return cx.needMore("PART");
      return capped(cx, "PART", p[0].split(","), (channels) => part(cx, channels, p[1]));
    case "PRIVMSG":
    case "NOTICE":
      return privmsg(cx, command === "NOTICE", p, now);
    case "NAMES":
      if (p[0] === undefined) return cx.reply("366", "*", "End of /NAMES list");
      return capped(cx, "NAMES", p[0].split(","), (channels) =>
        cx.all(
          channels.map((channel) => ({
            command: { type: "who", room: channel },
            purpose: { kind: "names", channel, join: false, first: true },
          })),
        ),
      );
    case "WHO":
      return who(cx, p[0] ?? "*");
    case "WHOIS": {
      const nick = p[p.length - 1]?.split(",")[0];
      if (!nick) return cx.reply("431", "No nickname given");
      return cx.run({ type: "who" }, { kind: "whois", nick });
    }
    case "ISON":
    case "USERHOST": {
      const nicks = p.flatMap((param) => param.split(" ")).filter((n) => n !== "");
      if (nicks.length === 0) return cx.needMore(command);
      const userhost = command === "USERHOST";
      const asked = userhost ? nicks.slice(0, 5) : nicks;
      return cx.run({ type: "who" }, { kind: "ison", nicks: asked, found: [], userhost });
    }
    case "LIST": {
      const only = p[0] ? new Set(p[0].split(",").map(nameKey)) : null;
      return cx.run({ type: "rooms" }, { kind: "list", only, started: false });
    }
    case "TOPIC":
      if (p[0] === undefined) return cx.needMore("TOPIC");
      if (p.length > 1) return cx.reply("482", p[0], "relay rooms have no topic to set");
      return cx.reply("331", p[0], "No topic is set");
    case "MODE":
      return mode(cx, p);
    case "CHATHISTORY":
      return chathistory(cx, p);
    case "AWAY":
      return p[0]
        ? cx.reply("306", "You have been marked as being away")
        : cx.reply("305", "You are no longer marked as being away");
    case "MOTD":
      return lines(...cx.replies.motd());
    case "VERSION":
      return cx.reply("351", "relay-2", cx.options.server, "the relay's IRC gateway");
    case "KICK":
    case "INVITE":
      return cx.reply("482", p[0] ?? "*", "relay rooms have no channel operators");
    case "OPER":
      return cx.reply("491", "relay has no IRC operators");
    default:
      return cx.reply("421", command, "Unknown command");
  }
}

/**
 * Joining a channel: `join`, then `who` for the names of who is there, then (unless the
 * client asks for history itself, `draft/chathistory`) `history` for the playback.
 * `forced`: the login put the user back in the room; the client was already shown its JOIN.
 */
export function joinCommands(cx: IrcContext, channel: string, forced: boolean): Decoded[] {
  const commands = [
    cx.command({ type: "join", room: channel }, { kind: "join", channel, forced }),
    cx.command({ type: "who", room: channel }, { kind: "names", channel, join: true, first: true }),
  ];
  // A client with chat history asks for what it wants itself.
  const own = cx.capabilities.has("draft/chathistory");
  const limit = own ? 0 : Math.min(cx.options.playback, HISTORY_MAX);
  if (limit > 0) {
    cx.channels.awaitPlayback(channel);
    commands.push(
      cx.command({ type: "history", with: channel, limit }, { kind: "playback", channel }),
    );
  }
  return commands;
}

/**
 * A command on the first targets a line may name (`TARGETS_MAX`); `407` names the first
 * one left out.
 */
function capped(
  cx: IrcContext,
  command: "JOIN" | "PART" | "NAMES",
  targets: string[],
  run: (targets: string[]) => IrcTurn,
): IrcTurn {
  const most = TARGETS_MAX[command];
  const turn = run(targets.slice(0, most));
  const first = targets[most];
  if (first !== undefined) {
    const why = `Too many targets: at most ${most} in one ${command}; ${first} and after were left out`;
    turn.lines.push(cx.numeric("407", first, why));
  }
  return turn;
}

function join(cx: IrcContext, list: string): IrcTurn {
  if (list === "0") return part(cx, cx.channels.names(), undefined);
  return capped(cx, "JOIN", list.split(","), (channels) => joinEach(cx, channels));
}

function joinEach(cx: IrcContext, channels: string[]): IrcTurn {
  const turn = none();
  for (const channel of channels) {
    if (!channel.startsWith("#")) {
      turn.lines.push(cx.numeric("403", channel, "No such channel"));
      continue;
    }
    if (cx.channels.has(channel)) continue;
    cx.channels.joining(channel);
    turn.commands.push(...joinCommands(cx, channel, false));
  }
  return turn;
}

function part(cx: IrcContext, channels: string[], reason: string | undefined): IrcTurn {
  return cx.all(
    channels.map((channel) => ({
      command: { type: "leave", room: channel },
      purpose: { kind: "part", channel, reason },
    })),
  );
}

function privmsg(cx: IrcContext, notice: boolean, params: string[], now: number): IrcTurn {
  const [targets, raw] = params;
  const command = notice ? "NOTICE" : "PRIVMSG";
  if (!targets) return notice ? none() : cx.reply("411", `No recipient given (${command})`);
  if (raw === undefined || raw === "") return notice ? none() : cx.reply("412", "No text to send");
  const text = relayTextOf(raw);
  if (text === null) return none();
  if (text.trim() === "") return notice ? none() : cx.reply("412", "No text to send");
  const list = targets.split(",");
  if (list.length > TARGETS_MAX[command]) {
    // One message to all or to none: a line is one command against the rate limit.
    const why = `Too many recipients: at most ${TARGETS_MAX[command]} in one line; nothing was sent`;
    return notice ? none() : cx.reply("407", targets, why);
  }
  return cx.all(
    list.map((target) => ({
      command: { type: "msg", to: target === "$*" ? "*" : target, text },
      purpose: { kind: "msg", target, text, notice, at: now },
    })),
  );
}

function who(cx: IrcContext, mask: string): IrcTurn {
  const command: Command = mask.startsWith("#") ? { type: "who", room: mask } : { type: "who" };
  return cx.run(command, { kind: "who", mask, found: 0 });
}

function mode(cx: IrcContext, params: string[]): IrcTurn {
  const [target, modes] = params;
  if (target === undefined) return cx.needMore("MODE");
  if (target.startsWith("#")) {
    if (modes === undefined) return cx.reply("324", target, "+nt");
    const list = modes.replace(/^\+/, "");
    const ends: Record<string, [string, string]> = {
      b: ["368", "End of channel ban list"],
      e: ["349", "End of channel exception list"],
      I: ["347", "End of channel invite list"],
    };
    const end = ends[list];
    if (end && params.length === 2) return cx.reply(end[0], target, end[1]);
    return cx.reply("482", target, "relay rooms have no channel operators");
  }
  if (nameKey(target) !== nameKey(cx.nick ?? "")) {
    return cx.reply("502", "Can't change mode for other users");
  }
  return modes === undefined ? cx.reply("221", "+") : none();
}

/** `CHATHISTORY` (IRCv3 `draft/chathistory`): its first page of the relay's `history`. */
function chathistory(cx: IrcContext, params: string[]): IrcTurn {
  const request = parseHistory(params);
  if (request === "TARGETS") {
    // The relay lists no conversations by their last message: an empty list.
    return lines(...cx.batch("draft/chathistory-targets", [], []));
  }
  if (Array.isArray(request)) {
    const [code, ...rest] = request as [string, ...string[]];
    return lines(cx.fail("CHATHISTORY", code, ...rest));
  }
  return cx.run(firstPage(request), { kind: "chathistory", request, read: [], pages: 0 });
}
