import { type Command, type ErrorCode, nameKey, type ServerMessage } from "../core/mod.ts";
import type { Decoded } from "./decoded.ts";
import { formatIrc } from "./irc.ts";
import { joinCommands } from "./irc-commands.ts";
import { type IrcContext, type IrcTurn, lines, none, type Purpose } from "./irc-context.ts";

type Welcome = Extract<ServerMessage, { type: "welcome" }>;

/** A session secret (docs/protocol.md §11.5): 43 characters of base64url. */
const SESSION_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** Lines kept while a login is checked, to run once it passes (clients that do not wait). */
const WAITING_MAX = 64;

/**
 * An IRC client's registration (docs/irc.md): `NICK`, `USER` and `PASS`, capability
 * negotiation (`CAP`) and SASL PLAIN (`AUTHENTICATE`), the login they make, and the welcome
 * burst once it passed and negotiation is over. The client's commands that arrive between
 * a login and `001` wait, and run once it passes.
 *
 * @example
 * const registration = new IrcRegistration(cx, (line, now) => session.receive(line, now));
 * registration.nick(["alice"]);
 * registration.user(["alice", "0", "*", "Alice"]).commands; // the login
 */
export class IrcRegistration {
  readonly #cx: IrcContext;
  /** Runs a line the client sent while the login was checked. */
  readonly #rerun: (line: string, now: number) => IrcTurn;
  #user = false;
  #password: string | null = null;
  #loggingIn = false;
  #welcome: Welcome | null = null;
  #registered = false;
  /** Lines sent before `001` while the login was checked. */
  #waiting: { line: string; now: number }[] = [];

  constructor(cx: IrcContext, rerun: (line: string, now: number) => IrcTurn) {
    this.#cx = cx;
    this.#rerun = rerun;
  }

  /** Whether registration is complete (`001` was sent). */
  get registered(): boolean {
    return this.#registered;
  }

  /** `CAP <sub> ...`; `CAP END` may complete registration. */
  cap(params: string[]): IrcTurn {
    const sub = params[0];
    if (sub === undefined) return this.#cx.needMore("CAP");
    const answer = this.#cx.capabilities.cap(params, this.#registered);
    if (answer === null) return this.#cx.reply("410", sub.toUpperCase(), "Invalid CAP command");
    return answer.ended ? this.#register() : lines(...answer.lines);
  }

  /** `NICK`: the name to log in with; after registration, a relay name cannot change. */
  nick(params: string[]): IrcTurn {
    const nick = params[0];
    const cx = this.#cx;
    if (!nick) return cx.reply("431", "No nickname given");
    if (this.#registered) {
      if (nameKey(nick) === nameKey(cx.nick ?? "")) return none();
      return cx.reply("447", nick, "relay names are fixed: reconnect to use another");
    }
    if (!/^[^#&$:,*?!@\s.-][^,*?!@\s]{0,31}$/u.test(nick)) {
      return cx.reply("432", nick, "Erroneous nickname");
    }
    cx.nick = nick;
    return this.#register();
  }

  /** `USER`: once with `NICK`, the login. */
  user(params: string[]): IrcTurn {
    if (params.length < 4) return this.#cx.needMore("USER");
    if (this.#registered) return this.#cx.reply("462", "You may not reregister");
    this.#user = true;
    return this.#register();
  }

  /** `PASS`: the password (or session secret, or token) the login carries. */
  pass(params: string[]): IrcTurn {
    if (params[0] === undefined) return this.#cx.needMore("PASS");
    if (this.#registered) return this.#cx.reply("462", "You may not reregister");
    this.#password = params[0];
    return this.#register();
  }

  /** One `AUTHENTICATE` line; a whole SASL PLAIN message logs in. */
  authenticate(params: string[]): IrcTurn {
    const arg = params[0];
    const cx = this.#cx;
    if (arg === undefined) return cx.needMore("AUTHENTICATE");
    if (this.#registered || this.#welcome) {
      return cx.reply("907", "You have already authenticated using SASL");
    }
    if (this.#loggingIn) return cx.reply("904", "SASL authentication failed: a login is under way");
    const { lines: out, credentials } = cx.capabilities.authenticate(arg);
    if (!credentials) return lines(...out);
    return this.#login("sasl", credentials.name, credentials.password);
  }

  /**
   * A command other than registration's before `001`: it waits while a login is checked (or
   * passed, before `CAP END`), to run once registration completes; else `451`.
   */
  early(line: string, now: number): IrcTurn {
    const pending = this.#loggingIn || this.#welcome !== null;
    if (pending && this.#waiting.length < WAITING_MAX) {
      this.#waiting.push({ line, now });
      return none();
    }
    return this.#cx.reply("451", "You have not registered");
  }

  /** The login passed: `900`/`903` for SASL, and the welcome if negotiation is over. */
  welcomed(welcome: Welcome, purpose: Extract<Purpose, { kind: "login" }>): string[] {
    const cx = this.#cx;
    this.#loggingIn = false;
    this.#welcome = welcome;
    const out: string[] = [];
    if (purpose.via === "sasl") {
      const me = welcome.name;
      out.push(
        cx.numeric("900", `${me}!${me}@${cx.options.server}`, me, `You are now logged in as ${me}`),
        cx.numeric("903", "SASL authentication successful"),
      );
    }
    if (!cx.capabilities.holding && cx.nick !== null && this.#user) {
      const turn = this.#complete();
      out.push(...turn.lines);
      cx.followUp(...turn.commands);
    }
    return out;
  }

  /** The login failed: the numeric that says why (`433`, `432`, `464`, `904`...). */
  loginFailed(
    code: ErrorCode,
    message: string,
    purpose: Extract<Purpose, { kind: "login" }>,
  ): string[] {
    const cx = this.#cx;
    this.#loggingIn = false;
    // A session-shaped secret that is no session may still be a password.
    if (code === "auth_failed" && purpose.asSession && cx.options.auth === "open") {
      const turn = this.#login(purpose.via, purpose.name, purpose.secret, true);
      return cx.followUp(...turn.commands);
    }
    const out: string[] = [];
    if (this.#waiting.length > 0) {
      this.#waiting = [];
      out.push(cx.numeric("451", "You have not registered"));
    }
    if (purpose.via === "sasl") {
      out.push(cx.numeric("904", `SASL authentication failed: ${message}`));
      return out;
    }
    const nick = purpose.name;
    if (code === "name_taken" || (code === "auth_failed" && purpose.secret === undefined)) {
      const why =
        code === "name_taken"
          ? "Nickname is already in use"
          : "Nickname is protected by a password: send it with PASS or SASL";
      if (cx.nick !== null && nameKey(cx.nick) === nameKey(nick)) cx.nick = null;
      out.push(cx.numeric("433", nick, why));
    } else if (code === "bad_name") {
      if (cx.nick !== null && nameKey(cx.nick) === nameKey(nick)) cx.nick = null;
      out.push(cx.numeric("432", nick, `Erroneous nickname: ${message}`));
    } else if (code === "auth_failed" || code === "rate_limited") {
      out.push(cx.numeric("464", `Password incorrect: ${message}`));
    } else {
      out.push(...cx.error(code, message));
    }
    // Another NICK came while this login was checked: try that one.
    if (cx.nick !== null && nameKey(cx.nick) !== nameKey(nick)) {
      const turn = this.#register();
      out.push(...turn.lines);
      cx.followUp(...turn.commands);
    }
    return out;
  }

  /** Logs in once NICK and USER came and capability negotiation is over. */
  #register(): IrcTurn {
    const cx = this.#cx;
    if (this.#registered || this.#loggingIn || cx.capabilities.holding) return none();
    if (cx.nick === null || !this.#user) return none();
    if (this.#welcome) return this.#complete();
    return this.#login("nick", cx.nick, this.#password ?? undefined);
  }

  #login(via: "nick" | "sasl", name: string, secret: string | undefined, retry = false): IrcTurn {
    this.#loggingIn = true;
    const command: Extract<Command, { type: "login" }> = { type: "login", name };
    const asSession = secret !== undefined && !retry && SESSION_SHAPE.test(secret);
    if (secret !== undefined) {
      if (asSession) command.session = secret;
      else if (this.#cx.options.auth === "token") command.token = secret;
      else command.password = secret;
    }
    const purpose: Purpose = {
      kind: "login",
      via,
      name,
      asSession,
      ...(secret !== undefined && { secret }),
    };
    return this.#cx.run(command, purpose);
  }

  /** Registration completes: the welcome burst, the rooms the user is back in, what waited. */
  #complete(): IrcTurn {
    const cx = this.#cx;
    const welcome = this.#welcome as Welcome;
    this.#registered = true;
    cx.capabilities.end();
    cx.nick = welcome.name;
    const me = welcome.name;
    const out = cx.replies.welcome(welcome);
    const commands: Decoded[] = [];
    for (const room of welcome.rooms) {
      cx.channels.enter(room, [], me);
      out.push(formatIrc({ source: cx.self(), command: "JOIN", params: [room] }));
      commands.push(...joinCommands(cx, room, true));
    }
    for (const { line, now } of this.#waiting.splice(0)) {
      const turn = this.#rerun(line, now);
      out.push(...turn.lines);
      commands.push(...turn.commands);
    }
    return { lines: out, commands };
  }
}
