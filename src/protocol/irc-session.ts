import type { ServerMessage } from "../core/mod.ts";
import type { Decoded } from "./decoded.ts";
import { parseIrc } from "./irc.ts";
import { answerLines } from "./irc-answers.ts";
import { registeredCommand } from "./irc-commands.ts";
import { IrcContext, type IrcOptions, type IrcTurn, none } from "./irc-context.ts";
import { eventText, joinLines } from "./irc-events.ts";
import { IrcRegistration } from "./irc-registration.ts";

export type { IrcOptions, IrcTurn } from "./irc-context.ts";

/** The longest `QUIT` reason passed on (docs/protocol.md §4). */
const QUIT_REASON_MAX = 200;

/**
 * One IRC client's view of the relay (docs/irc.md): registration (NICK, USER, PASS, CAP,
 * SASL: irc-registration.ts), then IRC commands into core commands (irc-commands.ts), and
 * the core's replies (irc-answers.ts) and events (irc-events.ts) into IRC lines. Pure: no
 * I/O and no clock (times come in); the host writes what it returns.
 *
 * @example
 * const irc = new IrcSession({ server: "relay", auth: "open", playback: 50 });
 * irc.receive("NICK alice", 0);
 * irc.receive("USER alice 0 * :Alice", 0).commands; // [{ ok: true, command: { type: "login", name: "alice" }, re: "i0" }]
 */
export class IrcSession {
  readonly #cx: IrcContext;
  readonly #registration: IrcRegistration;

  constructor(options: IrcOptions) {
    this.#cx = new IrcContext(options);
    this.#registration = new IrcRegistration(this.#cx, (line, now) => this.receive(line, now));
  }

  /** Whether registration is complete (`001` was sent). */
  get registered(): boolean {
    return this.#registration.registered;
  }

  /** The relay name once logged in, else the nick asked for, else null. */
  get nick(): string | null {
    return this.#cx.nick;
  }

  /** The capabilities the client enabled. */
  get caps(): ReadonlySet<string> {
    return this.#cx.capabilities.enabled;
  }

  /** A `PING` for a client that has been silent (the host decides when). */
  ping(): string {
    return `PING :${this.#cx.options.server}\r\n`;
  }

  /**
   * One line from the client, at `now`: the lines answered at once and the commands for the
   * core. `limited`: the line is over the rate limit and is refused (`263`).
   */
  receive(line: string, now: number, limited = false): IrcTurn {
    const msg = parseIrc(line);
    if (msg === null) return none();
    const command = msg.command.toUpperCase();
    const cx = this.#cx;
    const registration = this.#registration;
    if (limited) {
      if (command === "PONG") return none();
      const refused = cx.refuse("rate_limited", "too many commands; slow down", {
        kind: "limited",
        command,
      });
      return { lines: [], commands: [refused] };
    }
    switch (command) {
      case "CAP":
        return registration.cap(msg.params);
      case "NICK":
        return registration.nick(msg.params);
      case "USER":
        return registration.user(msg.params);
      case "PASS":
        return registration.pass(msg.params);
      case "AUTHENTICATE":
        return registration.authenticate(msg.params);
      case "PING":
        if (!msg.params[0]) return cx.reply("409", "No origin specified");
        return cx.run({ type: "ping" }, { kind: "ping", token: msg.params[0] });
      case "PONG":
      case "TAGMSG":
        // Liveness is the host's to note; client-only tags (typing...) are not relayed.
        return none();
      case "QUIT": {
        const reason = msg.params[0]?.slice(0, QUIT_REASON_MAX);
        return cx.run(reason ? { type: "quit", reason } : { type: "quit" }, { kind: "quit" });
      }
    }
    if (!registration.registered) return registration.early(line, now);
    return registeredCommand(cx, command, msg, now);
  }

  /**
   * Whether `msg` must wait before it is encoded: an event (but `bye`) before registration
   * completes, which an IRC client must not be shown before `001`. The host keeps it until
   * this says no (SASL logs in before `CAP END`: held messages and presence may come then).
   */
  waits(msg: ServerMessage): boolean {
    return !this.#registration.registered && !("re" in msg) && msg.type !== "bye";
  }

  /**
   * A reply or event from the core as IRC lines (each ended by `\r\n`), or null when it
   * shows nothing. Events that `waits` holds back are given only once it lets them go.
   */
  encode(msg: ServerMessage): string | null {
    if (!("re" in msg)) return eventText(this.#cx, msg);
    const lines = answerLines(this.#cx, this.#registration, msg);
    return lines.length === 0 ? null : joinLines(lines);
  }

  /** The commands the session asked for while encoding (playback, the names of rooms rejoined). */
  takeFollowUps(): Decoded[] {
    return this.#cx.takeFollowUps();
  }
}
