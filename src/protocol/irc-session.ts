import type { ChatMessage, Command, ErrorCode, Reply, ServerMessage } from "../core/mod.ts";
import type { Decoded } from "./decoded.ts";
import { formatIrc, type IrcMessage, ircTextLines, parseIrc, relayTextOf } from "./irc.ts";
import { IrcCapabilities } from "./irc-capabilities.ts";
import { IrcChannels } from "./irc-channels.ts";
import {
  firstPage,
  HISTORY_PAGES,
  type HistoryRequest,
  parseHistory,
  readEnough,
  selectHistory,
} from "./irc-history.ts";
import { IrcReplies } from "./irc-replies.ts";
import { HISTORY_MAX } from "./schema.ts";

/** How an IRC connection is set up (docs/irc.md). */
export interface IrcOptions {
  /** The server's name, the source of its own lines. */
  server: string;
  /** How credentials are read: as passwords (`open`) or as JWTs (`token`). */
  auth: "open" | "token";
  /** How many of a channel's newest messages are played back on JOIN; 0: none. */
  playback: number;
}

/** What one line from the client becomes: lines answered at once, and commands for the core. */
export interface IrcTurn {
  lines: string[];
  commands: Decoded[];
}

/** A session secret (docs/protocol.md §11.5): 43 characters of base64url. */
const SESSION_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** Lines held back before registration completes (SASL logs in before `CAP END`). */
const EARLY_MAX = 2000;
/** Lines kept while a login is checked, to run once it passes (clients that do not wait). */
const WAITING_MAX = 64;
/** The longest `QUIT` reason passed on (docs/protocol.md §4). */
const QUIT_REASON_MAX = 200;

/** What a command sent to the core was for, found again by the reply's `re`. */
type Context =
  | { kind: "login"; via: "nick" | "sasl"; name: string; secret?: string; asSession: boolean }
  | { kind: "ping"; token: string }
  | { kind: "quit" }
  | { kind: "join"; channel: string; forced: boolean }
  | { kind: "names"; channel: string; join: boolean }
  | { kind: "playback"; channel: string }
  | { kind: "part"; channel: string; reason: string | undefined }
  | { kind: "msg"; target: string; text: string; notice: boolean; at: number }
  | { kind: "who"; mask: string }
  | { kind: "whois"; nick: string }
  | { kind: "ison"; nicks: string[]; found: string[]; userhost: boolean }
  | { kind: "list"; only: Set<string> | null; started: boolean }
  | { kind: "limited"; command: string }
  | { kind: "chathistory"; request: HistoryRequest; read: ChatMessage[]; pages: number };

/**
 * One IRC client's view of the relay (docs/irc.md): registration (NICK, USER, PASS, CAP,
 * SASL), then IRC commands into core commands, and the core's replies and events into IRC
 * lines. Pure: no I/O and no clock (times come in); the host writes what it returns.
 *
 * @example
 * const irc = new IrcSession({ server: "relay", auth: "open", playback: 50 });
 * irc.receive("NICK alice", 0);
 * irc.receive("USER alice 0 * :Alice", 0).commands; // [{ ok: true, command: { type: "login", name: "alice" }, re: "i0" }]
 */
export class IrcSession {
  readonly #options: IrcOptions;
  #nick: string | null = null;
  #user = false;
  #password: string | null = null;
  #loggingIn = false;
  #welcome: Extract<ServerMessage, { type: "welcome" }> | null = null;
  #registered = false;
  #early: string[] = [];
  /** Lines sent before `001` while the login was checked. */
  #waiting: { line: string; now: number }[] = [];
  readonly #contexts = new Map<string, Context>();
  #nextRe = 0;
  #nextBatch = 0;
  readonly #channels: IrcChannels;
  readonly #replies: IrcReplies;
  readonly #capabilities: IrcCapabilities;
  #followUps: Decoded[] = [];

  constructor(options: IrcOptions) {
    this.#options = options;
    this.#channels = new IrcChannels(options.playback > 0);
    this.#replies = new IrcReplies(options.server, () => this.#nick);
    this.#capabilities = new IrcCapabilities(this.#replies);
  }

  /** Whether registration is complete (`001` was sent). */
  get registered(): boolean {
    return this.#registered;
  }

  /** The relay name once logged in, else the nick asked for, else null. */
  get nick(): string | null {
    return this.#nick;
  }

  /** The capabilities the client enabled. */
  get caps(): ReadonlySet<string> {
    return this.#capabilities.enabled;
  }

  /** A `PING` for a client that has been silent (the host decides when). */
  ping(): string {
    return `PING :${this.#options.server}\r\n`;
  }

  /**
   * One line from the client, at `now`: the lines answered at once and the commands for the
   * core. `limited`: the line is over the rate limit and is refused (`263`).
   */
  receive(line: string, now: number, limited = false): IrcTurn {
    const msg = parseIrc(line);
    if (msg === null) return none();
    const command = msg.command.toUpperCase();
    if (limited) {
      if (command === "PONG") return none();
      return {
        lines: [],
        commands: [
          this.#refuse("rate_limited", "too many commands; slow down", {
            kind: "limited",
            command,
          }),
        ],
      };
    }
    switch (command) {
      case "CAP":
        return this.#cap(msg.params);
      case "NICK":
        return this.#nickCommand(msg.params);
      case "USER":
        if (msg.params.length < 4) return this.#needMore("USER");
        if (this.#registered) return this.#reply("462", "You may not reregister");
        this.#user = true;
        return this.#register();
      case "PASS":
        if (msg.params[0] === undefined) return this.#needMore("PASS");
        if (this.#registered) return this.#reply("462", "You may not reregister");
        this.#password = msg.params[0];
        return this.#register();
      case "AUTHENTICATE":
        return this.#authenticate(msg.params);
      case "PING":
        if (!msg.params[0]) return this.#reply("409", "No origin specified");
        return this.#run({ type: "ping" }, { kind: "ping", token: msg.params[0] });
      case "PONG":
      case "TAGMSG":
        // Liveness is the host's to note; client-only tags (typing...) are not relayed.
        return none();
      case "QUIT": {
        const reason = msg.params[0]?.slice(0, QUIT_REASON_MAX);
        return this.#run(reason ? { type: "quit", reason } : { type: "quit" }, { kind: "quit" });
      }
    }
    if (!this.#registered) {
      // Sent without waiting for 001 while the login is checked (or passed, before CAP END):
      // run once registration completes.
      const pending = this.#loggingIn || this.#welcome !== null;
      if (pending && this.#waiting.length < WAITING_MAX) {
        this.#waiting.push({ line, now });
        return none();
      }
      return this.#reply("451", "You have not registered");
    }
    return this.#registeredCommand(command, msg, now);
  }

  #registeredCommand(command: string, msg: IrcMessage, now: number): IrcTurn {
    const p = msg.params;
    switch (command) {
      case "JOIN":
        if (p[0] === undefined) return this.#needMore("JOIN");
        return this.#join(p[0]);
      case "PART":
        if (p[0] === undefined) return this.#needMore("PART");
        return this.#part(p[0].split(","), p[1]);
      case "PRIVMSG":
      case "NOTICE":
        return this.#privmsg(command === "NOTICE", p, now);
      case "NAMES":
        if (p[0] === undefined) return this.#reply("366", "*", "End of /NAMES list");
        return this.#all(
          p[0].split(",").map((channel) => ({
            command: { type: "who", room: channel } as Command,
            context: { kind: "names", channel, join: false } as Context,
          })),
        );
      case "WHO":
        return this.#who(p[0] ?? "*");
      case "WHOIS": {
        const nick = p[p.length - 1]?.split(",")[0];
        if (!nick) return this.#reply("431", "No nickname given");
        return this.#run({ type: "who" }, { kind: "whois", nick });
      }
      case "ISON":
      case "USERHOST": {
        const nicks = p.flatMap((param) => param.split(" ")).filter((n) => n !== "");
        if (nicks.length === 0) return this.#needMore(command);
        const userhost = command === "USERHOST";
        const asked = userhost ? nicks.slice(0, 5) : nicks;
        return this.#run({ type: "who" }, { kind: "ison", nicks: asked, found: [], userhost });
      }
      case "LIST": {
        const only = p[0] ? new Set(p[0].split(",").map(lower)) : null;
        return this.#run({ type: "rooms" }, { kind: "list", only, started: false });
      }
      case "TOPIC":
        if (p[0] === undefined) return this.#needMore("TOPIC");
        if (p.length > 1) return this.#reply("482", p[0], "relay rooms have no topic to set");
        return this.#reply("331", p[0], "No topic is set");
      case "MODE":
        return this.#mode(p);
      case "CHATHISTORY":
        return this.#chathistory(p);
      case "AWAY":
        return p[0]
          ? this.#reply("306", "You have been marked as being away")
          : this.#reply("305", "You are no longer marked as being away");
      case "MOTD":
        return { lines: this.#replies.motd(), commands: [] };
      case "VERSION":
        return this.#reply("351", "relay-2", this.#options.server, "the relay's IRC gateway");
      case "KICK":
      case "INVITE":
        return this.#reply("482", p[0] ?? "*", "relay rooms have no channel operators");
      case "OPER":
        return this.#reply("491", "relay has no IRC operators");
      default:
        return this.#reply("421", command, "Unknown command");
    }
  }

  /**
   * A reply or event from the core as IRC lines (each ended by `\r\n`), or null when it
   * shows nothing. Before registration completes, events wait and come after `001`.
   */
  encode(msg: ServerMessage): string | null {
    const lines = this.#lines(msg);
    if (lines.length === 0) return null;
    const early = !this.#registered && isEvent(msg) && msg.type !== "bye";
    if (early) {
      if (this.#early.length + lines.length <= EARLY_MAX) this.#early.push(...lines);
      return null;
    }
    return `${lines.join("\r\n")}\r\n`;
  }

  /** The commands the session asked for while encoding (playback, the names of rooms rejoined). */
  takeFollowUps(): Decoded[] {
    const followUps = this.#followUps;
    this.#followUps = [];
    return followUps;
  }

  // ---- registration ----

  #cap(params: string[]): IrcTurn {
    const sub = params[0];
    if (sub === undefined) return this.#needMore("CAP");
    const answer = this.#capabilities.cap(params, this.#registered);
    if (answer === null) return this.#reply("410", sub.toUpperCase(), "Invalid CAP command");
    return answer.ended ? this.#register() : { lines: answer.lines, commands: [] };
  }

  #nickCommand(params: string[]): IrcTurn {
    const nick = params[0];
    if (!nick) return this.#reply("431", "No nickname given");
    if (this.#registered) {
      if (lower(nick) === lower(this.#nick ?? "")) return none();
      return this.#reply("447", nick, "relay names are fixed: reconnect to use another");
    }
    if (!/^[^#&$:,*?!@\s.-][^,*?!@\s]{0,31}$/u.test(nick)) {
      return this.#reply("432", nick, "Erroneous nickname");
    }
    this.#nick = nick;
    return this.#register();
  }

  /** Logs in once NICK and USER came and capability negotiation is over. */
  #register(): IrcTurn {
    if (this.#registered || this.#loggingIn || this.#capabilities.holding) return none();
    if (this.#nick === null || !this.#user) return none();
    if (this.#welcome) return this.#complete();
    return this.#login("nick", this.#nick, this.#password ?? undefined);
  }

  #login(via: "nick" | "sasl", name: string, secret: string | undefined, retry = false): IrcTurn {
    this.#loggingIn = true;
    const command: Extract<Command, { type: "login" }> = { type: "login", name };
    const asSession = secret !== undefined && !retry && SESSION_SHAPE.test(secret);
    if (secret !== undefined) {
      if (asSession) command.session = secret;
      else if (this.#options.auth === "token") command.token = secret;
      else command.password = secret;
    }
    const context: Context = {
      kind: "login",
      via,
      name,
      asSession,
      ...(secret !== undefined && { secret }),
    };
    return { lines: [], commands: [this.#command(command, context)] };
  }

  #authenticate(params: string[]): IrcTurn {
    const arg = params[0];
    if (arg === undefined) return this.#needMore("AUTHENTICATE");
    if (this.#registered || this.#welcome) {
      return this.#reply("907", "You have already authenticated using SASL");
    }
    if (this.#loggingIn)
      return this.#reply("904", "SASL authentication failed: a login is under way");
    const { lines: out, credentials } = this.#capabilities.authenticate(arg);
    if (!credentials) return { lines: out, commands: [] };
    return this.#login("sasl", credentials.name, credentials.password);
  }

  /** Registration completes: the welcome burst, the rooms the user is back in, what waited. */
  #complete(): IrcTurn {
    const welcome = this.#welcome as Extract<ServerMessage, { type: "welcome" }>;
    this.#registered = true;
    this.#capabilities.end();
    this.#nick = welcome.name;
    const me = welcome.name;
    const out = this.#replies.welcome(welcome);
    const commands: Decoded[] = [];
    for (const room of welcome.rooms) {
      this.#channels.enter(room, [], me);
      out.push(formatIrc({ source: this.#self(), command: "JOIN", params: [room] }));
      commands.push(...this.#joinCommands(room, true));
    }
    out.push(...this.#early);
    this.#early = [];
    for (const { line, now } of this.#waiting.splice(0)) {
      const turn = this.receive(line, now);
      out.push(...turn.lines);
      commands.push(...turn.commands);
    }
    return { lines: out, commands };
  }

  // ---- commands once registered ----

  #join(list: string): IrcTurn {
    if (list === "0") return this.#part(this.#channels.names(), undefined);
    const turn = none();
    for (const channel of list.split(",")) {
      if (!channel.startsWith("#")) {
        turn.lines.push(this.#numeric("403", channel, "No such channel"));
        continue;
      }
      if (this.#channels.has(channel)) continue;
      this.#channels.joining(channel);
      turn.commands.push(...this.#joinCommands(channel, false));
    }
    return turn;
  }

  /** Join, then the names of who is there, then the newest messages. */
  #joinCommands(channel: string, forced: boolean): Decoded[] {
    const commands = [
      this.#command({ type: "join", room: channel }, { kind: "join", channel, forced }),
      this.#command({ type: "who", room: channel }, { kind: "names", channel, join: true }),
    ];
    // A client with chat history asks for what it wants itself.
    const own = this.#capabilities.has("draft/chathistory");
    const limit = own ? 0 : Math.min(this.#options.playback, HISTORY_MAX);
    if (limit > 0) {
      commands.push(
        this.#command({ type: "history", with: channel, limit }, { kind: "playback", channel }),
      );
    }
    return commands;
  }

  #part(channels: string[], reason: string | undefined): IrcTurn {
    return this.#all(
      channels.map((channel) => ({
        command: { type: "leave", room: channel } as Command,
        context: { kind: "part", channel, reason } as Context,
      })),
    );
  }

  #privmsg(notice: boolean, params: string[], now: number): IrcTurn {
    const [targets, raw] = params;
    const command = notice ? "NOTICE" : "PRIVMSG";
    if (!targets) return notice ? none() : this.#reply("411", `No recipient given (${command})`);
    if (raw === undefined || raw === "")
      return notice ? none() : this.#reply("412", "No text to send");
    const text = relayTextOf(raw);
    if (text === null) return none();
    if (text.trim() === "") return notice ? none() : this.#reply("412", "No text to send");
    return this.#all(
      targets.split(",").map((target) => ({
        command: { type: "msg", to: target === "$*" ? "*" : target, text } as Command,
        context: { kind: "msg", target, text, notice, at: now } as Context,
      })),
    );
  }

  #who(mask: string): IrcTurn {
    if (mask.startsWith("#")) return this.#run({ type: "who", room: mask }, { kind: "who", mask });
    return this.#run({ type: "who" }, { kind: "who", mask });
  }

  #mode(params: string[]): IrcTurn {
    const [target, modes] = params;
    if (target === undefined) return this.#needMore("MODE");
    if (target.startsWith("#")) {
      if (modes === undefined) return this.#reply("324", target, "+nt");
      const list = modes.replace(/^\+/, "");
      const ends: Record<string, [string, string]> = {
        b: ["368", "End of channel ban list"],
        e: ["349", "End of channel exception list"],
        I: ["347", "End of channel invite list"],
      };
      const end = ends[list];
      if (end && params.length === 2) return this.#reply(end[0], target, end[1]);
      return this.#reply("482", target, "relay rooms have no channel operators");
    }
    if (lower(target) !== lower(this.#nick ?? "")) {
      return this.#reply("502", "Can't change mode for other users");
    }
    return modes === undefined ? this.#reply("221", "+") : none();
  }

  /** `CHATHISTORY` (IRCv3 `draft/chathistory`): pages of the relay's `history`, in a batch. */
  #chathistory(params: string[]): IrcTurn {
    const request = parseHistory(params);
    if (request === "TARGETS") {
      // The relay lists no conversations by their last message: an empty list.
      return { lines: this.#batch("draft/chathistory-targets", [], []), commands: [] };
    }
    if (Array.isArray(request)) {
      const [code, ...rest] = request as [string, ...string[]];
      return lines(this.#fail("CHATHISTORY", code, ...rest));
    }
    const context: Context = { kind: "chathistory", request, read: [], pages: 0 };
    return this.#run(firstPage(request), context);
  }

  /** A page of history for `CHATHISTORY`: read further back, or answer. */
  #historyPage(
    context: Extract<Context, { kind: "chathistory" }>,
    page: ChatMessage[],
    more: boolean,
  ): string[] {
    context.read = [...page, ...context.read];
    context.pages++;
    const oldest = context.read[0];
    const enough = readEnough(context.request, context.read);
    if (!enough && more && oldest && context.pages < HISTORY_PAGES) {
      const command: Command = {
        type: "history",
        with: context.request.target,
        before: oldest.id,
        limit: HISTORY_MAX,
      };
      return this.#more(command, context);
    }
    const chosen = selectHistory(context.request, context.read);
    const shown = chosen.flatMap((m) => this.#messageLines(m, true));
    return this.#batch("chathistory", [context.request.target], shown);
  }

  /** Lines inside a `BATCH` when the client asked for batches. */
  #batch(type: string, params: string[], inside: string[]): string[] {
    if (!this.#capabilities.has("batch")) return inside;
    const ref = `h${(this.#nextBatch++).toString(36)}`;
    const s = this.#options.server;
    return [
      formatIrc({ source: s, command: "BATCH", params: [`+${ref}`, type, ...params] }),
      ...inside.map((line) => withTag(line, "batch", ref)),
      formatIrc({ source: s, command: "BATCH", params: [`-${ref}`] }),
    ];
  }

  /** An IRCv3 standard reply `FAIL`. */
  #fail(command: string, code: string, ...rest: string[]): string {
    return formatIrc(
      { source: this.#options.server, command: "FAIL", params: [command, code, ...rest] },
      true,
    );
  }

  // ---- replies and events ----

  #lines(msg: ServerMessage): string[] {
    if ("re" in msg) return this.#answer(msg);
    switch (msg.type) {
      case "message":
        return this.#messageLines(msg, msg.queued === true || msg.replay === true);
      case "presence":
        return this.#presence(msg.name, msg.status);
      case "joined":
      case "left":
        return this.#membership(msg.type, msg.room, msg.name);
      case "announce":
        return [this.#replies.notice(msg.text, this.#tagged(undefined, msg.ts).tags)];
      case "bye":
        return [this.#replies.closing(msg.reason)];
    }
  }

  /** A reply, by what its command was for. */
  #answer(msg: Reply): string[] {
    const context = msg.re === null ? undefined : this.#contexts.get(msg.re);
    if (msg.re !== null) this.#contexts.delete(msg.re);
    if (msg.type === "error") return this.#error(msg.code, msg.message, context);
    if (context === undefined) return [];
    switch (context.kind) {
      case "login":
        return msg.type === "welcome" ? this.#welcomed(msg, context) : [];
      case "ping":
        return [
          formatIrc(
            {
              source: this.#options.server,
              command: "PONG",
              params: [this.#options.server, context.token],
            },
            true,
          ),
        ];
      case "quit":
        return msg.type === "bye" ? [this.#replies.closing("quit")] : [];
      case "join":
        return msg.type === "ok"
          ? this.#joined(msg.room ?? context.channel, msg.users ?? [], context.forced)
          : [];
      case "part":
        return msg.type === "ok" ? this.#parted(msg.room ?? context.channel, context.reason) : [];
      case "msg":
        return msg.type === "ok" ? this.#sent(msg, context) : [];
      case "names":
        return msg.type === "who"
          ? this.#names(msg.room ?? context.channel, msg.users, context.join)
          : [];
      case "playback":
        return msg.type === "history" ? this.#playback(context.channel, msg.messages) : [];
      case "who":
        return msg.type === "who" ? this.#replies.who(context.mask, msg.users) : [];
      case "whois":
      case "ison":
        return msg.type === "who" ? this.#lookup(context, msg.users, msg.next) : [];
      case "list":
        return msg.type === "rooms" ? this.#list(context, msg.rooms, msg.next) : [];
      case "limited":
        return [];
      case "chathistory":
        return msg.type === "history" ? this.#historyPage(context, msg.messages, msg.more) : [];
    }
  }

  #welcomed(
    welcome: Extract<ServerMessage, { type: "welcome" }>,
    context: Extract<Context, { kind: "login" }>,
  ): string[] {
    this.#loggingIn = false;
    this.#welcome = welcome;
    const out: string[] = [];
    if (context.via === "sasl") {
      const me = welcome.name;
      out.push(
        this.#numeric(
          "900",
          `${me}!${me}@${this.#options.server}`,
          me,
          `You are now logged in as ${me}`,
        ),
        this.#numeric("903", "SASL authentication successful"),
      );
    }
    if (!this.#capabilities.holding && this.#nick !== null && this.#user) {
      const turn = this.#complete();
      out.push(...turn.lines);
      this.#followUps.push(...turn.commands);
    }
    return out;
  }

  #joined(room: string, members: string[], forced: boolean): string[] {
    const fresh = this.#channels.enter(room, members, this.#nick ?? "*");
    if (!fresh || forced) return [];
    return [formatIrc({ source: this.#self(), command: "JOIN", params: [room] })];
  }

  #parted(room: string, reason: string | undefined): string[] {
    this.#channels.leave(room);
    const params = reason ? [room, reason] : [room];
    return [formatIrc({ source: this.#self(), command: "PART", params })];
  }

  #sent(
    ok: Extract<ServerMessage, { type: "ok" }>,
    context: Extract<Context, { kind: "msg" }>,
  ): string[] {
    const out: string[] = [];
    if (ok.queued && !context.notice) {
      const to = ok.to ?? context.target;
      out.push(this.#replies.notice(`${to} is offline; the message is held for them`));
    }
    if (this.#capabilities.has("echo-message")) {
      const head = {
        ...this.#tagged(ok.id, new Date(context.at).toISOString()),
        source: this.#self(),
        command: context.notice ? "NOTICE" : "PRIVMSG",
        params: [context.target],
      };
      out.unshift(...ircTextLines(head, context.text));
    }
    return out;
  }

  #names(room: string, users: string[], join: boolean): string[] {
    if (!this.#channels.present(room, users) && join) return [];
    return this.#replies.names(room, users);
  }

  #playback(room: string, messages: ChatMessage[]): string[] {
    const fresh = this.#channels.playback(room, messages);
    return fresh === null ? [] : fresh.flatMap((m) => this.#messageLines(m, true));
  }

  /** WHOIS, ISON and USERHOST: looks for nicks among those online, a page at a time. */
  #lookup(
    context: Extract<Context, { kind: "whois" | "ison" }>,
    users: string[],
    next: string | undefined,
  ): string[] {
    const wanted = new Set(
      context.kind === "whois" ? [lower(context.nick)] : context.nicks.map(lower),
    );
    const found = users.filter((u) => wanted.has(lower(u)));
    if (context.kind === "whois") {
      if (found[0] === undefined && next !== undefined) {
        return this.#more({ type: "who", after: next }, context);
      }
      return this.#replies.whois(context.nick, found[0]);
    }
    context.found.push(...found);
    if (next !== undefined && context.found.length < wanted.size) {
      return this.#more({ type: "who", after: next }, context);
    }
    return [this.#replies.online(context.found, context.userhost)];
  }

  #list(
    context: Extract<Context, { kind: "list" }>,
    rooms: { room: string; members: number; online: number }[],
    next: string | undefined,
  ): string[] {
    const out: string[] = [];
    if (!context.started) {
      context.started = true;
      out.push(this.#numeric("321", "Channel", "Users  Name"));
    }
    for (const r of rooms) {
      if (context.only && !context.only.has(lower(r.room))) continue;
      out.push(this.#numeric("322", r.room, String(r.online), `[+nt] ${r.members} members`));
    }
    if (next !== undefined) return [...out, ...this.#more({ type: "rooms", after: next }, context)];
    out.push(this.#numeric("323", "End of /LIST"));
    return out;
  }

  /** Asks the core for the next page of what `context` looks through. */
  #more(command: Command, context: Context): string[] {
    this.#followUps.push(this.#command(command, context));
    return [];
  }

  #messageLines(m: ChatMessage, dated: boolean): string[] {
    const me = lower(this.#nick ?? "");
    const date =
      dated && !this.#capabilities.has("server-time")
        ? `[${m.ts.slice(0, 10)} ${m.ts.slice(11, 19)}] `
        : "";
    let target: string;
    let command = "PRIVMSG";
    if (m.to === "*") {
      target = "$*";
      command = "NOTICE";
    } else if (m.to.startsWith("#")) {
      target = m.to;
      if (!dated) this.#channels.shownLive(m.to, m.id);
    } else {
      target = lower(m.from) === me ? m.to : (this.#nick ?? m.to);
    }
    const head = {
      ...this.#tagged(m.id, m.ts),
      source: this.#userSource(m.from),
      command,
      params: [target],
    };
    return ircTextLines(head, m.text, date);
  }

  #presence(name: string, status: "online" | "offline"): string[] {
    const source = this.#userSource(name);
    if (status === "online") {
      return this.#channels
        .cameOnline(name)
        .map((room) => formatIrc({ source, command: "JOIN", params: [room] }));
    }
    if (!this.#channels.wentOffline(name)) return [];
    return [formatIrc({ source, command: "QUIT", params: ["offline"] }, true)];
  }

  #membership(kind: "joined" | "left", room: string, name: string): string[] {
    const shown =
      kind === "joined" ? this.#channels.joined(room, name) : this.#channels.left(room, name);
    if (shown === null) return [];
    const command = kind === "joined" ? "JOIN" : "PART";
    return [formatIrc({ source: this.#userSource(name), command, params: [shown] })];
  }

  /** An error reply, as the numeric its command's IRC form expects. */
  #error(code: ErrorCode, message: string, context: Context | undefined): string[] {
    if (context === undefined) return this.#generic(code, message);
    switch (context.kind) {
      case "login":
        return this.#loginFailed(code, message, context);
      case "join":
        this.#channels.failed(context.channel);
        if (code === "bad_name" || code === "no_such_room") {
          return [this.#numeric("403", context.channel, `No such channel (${message})`)];
        }
        if (code === "not_allowed") return [this.#numeric("405", context.channel, message)];
        return this.#generic(code, message);
      case "part":
        if (code === "not_in_room")
          return [this.#numeric("442", context.channel, "You're not on that channel")];
        if (code === "no_such_room" || code === "bad_name") {
          return [this.#numeric("403", context.channel, "No such channel")];
        }
        return this.#generic(code, message);
      case "msg":
        if (context.notice) return [];
        return this.#sendFailed(code, message, context.target);
      case "names":
        if (context.join) return [];
        return [this.#numeric("366", context.channel, "End of /NAMES list")];
      case "who":
        return [this.#numeric("315", context.mask, "End of /WHO list")];
      case "playback":
        this.#channels.noPlayback(context.channel);
        return [];
      case "limited":
        return [this.#numeric("263", context.command, `${message} (the command was dropped)`)];
      case "chathistory": {
        const { sub, target } = context.request;
        const bad = ["not_in_room", "no_such_user", "no_such_room", "bad_name", "not_allowed"];
        const code_ = bad.includes(code) ? "INVALID_TARGET" : "MESSAGE_ERROR";
        return [this.#fail("CHATHISTORY", code_, sub, target, message)];
      }
      default:
        return this.#generic(code, message);
    }
  }

  #loginFailed(
    code: ErrorCode,
    message: string,
    context: Extract<Context, { kind: "login" }>,
  ): string[] {
    this.#loggingIn = false;
    // A session-shaped secret that is no session may still be a password.
    if (code === "auth_failed" && context.asSession && this.#options.auth === "open") {
      const turn = this.#login(context.via, context.name, context.secret, true);
      this.#followUps.push(...turn.commands);
      return [];
    }
    const out: string[] = [];
    if (this.#waiting.length > 0) {
      this.#waiting = [];
      out.push(this.#numeric("451", "You have not registered"));
    }
    if (context.via === "sasl") {
      out.push(this.#numeric("904", `SASL authentication failed: ${message}`));
      return out;
    }
    const nick = context.name;
    if (code === "name_taken" || (code === "auth_failed" && context.secret === undefined)) {
      const why =
        code === "name_taken"
          ? "Nickname is already in use"
          : "Nickname is protected by a password: send it with PASS or SASL";
      if (this.#nick !== null && lower(this.#nick) === lower(nick)) this.#nick = null;
      out.push(this.#numeric("433", nick, why));
    } else if (code === "bad_name") {
      if (this.#nick !== null && lower(this.#nick) === lower(nick)) this.#nick = null;
      out.push(this.#numeric("432", nick, `Erroneous nickname: ${message}`));
    } else if (code === "auth_failed" || code === "rate_limited") {
      out.push(this.#numeric("464", `Password incorrect: ${message}`));
    } else {
      out.push(...this.#generic(code, message));
    }
    // Another NICK came while this login was checked: try that one.
    if (this.#nick !== null && lower(this.#nick) !== lower(nick)) {
      const turn = this.#register();
      out.push(...turn.lines);
      this.#followUps.push(...turn.commands);
    }
    return out;
  }

  #sendFailed(code: ErrorCode, message: string, target: string): string[] {
    switch (code) {
      case "no_such_user":
      case "bad_name":
        return [this.#numeric("401", target, "No such nick/channel")];
      case "no_such_room":
        return [this.#numeric("403", target, "No such channel")];
      case "not_in_room":
        return [this.#numeric("404", target, "Cannot send to channel (you are not in it)")];
      default:
        return [this.#numeric("404", target, `Cannot send (${code}: ${message})`)];
    }
  }

  /** An error with no IRC numeric of its own: a NOTICE that names the code. */
  #generic(code: ErrorCode, message: string): string[] {
    if (code === "too_long") return [this.#numeric("417", "Input line was too long")];
    if (code === "not_logged_in") return [this.#numeric("451", "You have not registered")];
    return [this.#replies.notice(`*** ${code}: ${message}`)];
  }

  // ---- helpers ----

  #command(command: Command, context: Context): Decoded {
    const re = `i${(this.#nextRe++).toString(36)}`;
    this.#contexts.set(re, context);
    return { ok: true, command, re };
  }

  #refuse(code: ErrorCode, message: string, context: Context): Decoded {
    const re = `i${(this.#nextRe++).toString(36)}`;
    this.#contexts.set(re, context);
    return { ok: false, error: { code, message }, re };
  }

  #run(command: Command, context: Context): IrcTurn {
    return { lines: [], commands: [this.#command(command, context)] };
  }

  #all(items: { command: Command; context: Context }[]): IrcTurn {
    return { lines: [], commands: items.map((i) => this.#command(i.command, i.context)) };
  }

  #numeric(code: string, ...params: string[]): string {
    return this.#replies.numeric(code, ...params);
  }

  #reply(code: string, ...params: string[]): IrcTurn {
    return lines(this.#numeric(code, ...params));
  }

  #needMore(command: string): IrcTurn {
    return this.#reply("461", command, "Not enough parameters");
  }

  #self(): string {
    return this.#userSource(this.#nick ?? "*");
  }

  #userSource(name: string): string {
    return this.#replies.userSource(name);
  }

  /** The tags a message carries, as far as the client asked for them. */
  #tagged(id: string | undefined, ts: string): { tags?: Record<string, string> } {
    const tags: Record<string, string> = {};
    if (this.#capabilities.has("server-time")) tags.time = ts;
    if (id !== undefined && this.#capabilities.has("message-tags")) tags.msgid = id;
    return Object.keys(tags).length > 0 ? { tags } : {};
  }
}

function none(): IrcTurn {
  return { lines: [], commands: [] };
}

function lines(...out: string[]): IrcTurn {
  return { lines: out, commands: [] };
}

function lower(name: string): string {
  return name.toLowerCase();
}

function isEvent(msg: ServerMessage): boolean {
  return !("re" in msg);
}

/** A formatted line with one more tag. */
function withTag(line: string, key: string, value: string): string {
  return line.startsWith("@") ? `@${key}=${value};${line.slice(1)}` : `@${key}=${value} ${line}`;
}
