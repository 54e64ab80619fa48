import { saslPlain } from "./irc.ts";
import type { IrcReplies } from "./irc-replies.ts";

/** The IRCv3 capabilities offered (docs/irc.md). */
export const CAPS = [
  "batch",
  "draft/chathistory",
  "echo-message",
  "message-tags",
  "sasl",
  "server-time",
];

/** The longest piece of a SASL message (IRCv3 `AUTHENTICATE`). */
const SASL_PIECE = 400;

/**
 * One IRC client's capabilities (IRCv3 `CAP`: `LS`, `LIST`, `REQ`, `END`) and its SASL
 * PLAIN exchange (`AUTHENTICATE`). While the client negotiates, registration waits.
 *
 * @example
 * const caps = new IrcCapabilities(new IrcReplies("irc.relay", () => null));
 * caps.cap(["REQ", "server-time"], false).lines; // [":irc.relay CAP * ACK :server-time"]
 * caps.has("server-time"); // true
 */
export class IrcCapabilities {
  readonly #replies: IrcReplies;
  readonly #enabled = new Set<string>();
  #negotiating = false;
  #sasl: string | null = null;

  constructor(replies: IrcReplies) {
    this.#replies = replies;
  }

  /** Whether the client enabled `cap`. */
  has(cap: string): boolean {
    return this.#enabled.has(cap);
  }

  /** What the client enabled. */
  get enabled(): ReadonlySet<string> {
    return this.#enabled;
  }

  /** Whether registration waits: negotiation (`CAP LS` or `REQ` before `END`) or SASL is on. */
  get holding(): boolean {
    return this.#negotiating || this.#sasl !== null;
  }

  /** Negotiation is over, whatever the client said (registration completed). */
  end(): void {
    this.#negotiating = false;
  }

  /**
   * `CAP <sub> ...`: the lines that answer it, or null for an unknown subcommand (`410`);
   * `ended` when it was `CAP END` during registration.
   */
  cap(params: string[], registered: boolean): { lines: string[]; ended: boolean } | null {
    const sub = params[0]?.toUpperCase();
    const reply = (...rest: string[]) => ({
      lines: [this.#replies.numeric("CAP", ...rest)],
      ended: false,
    });
    switch (sub) {
      case "LS": {
        if (!registered) this.#negotiating = true;
        const v302 = Number(params[1] ?? 0) >= 302;
        return reply("LS", CAPS.map((c) => (c === "sasl" && v302 ? "sasl=PLAIN" : c)).join(" "));
      }
      case "LIST":
        return reply("LIST", [...this.#enabled].join(" "));
      case "REQ": {
        if (!registered) this.#negotiating = true;
        const asked = params[1] ?? "";
        const wanted = asked.split(" ").filter((c) => c !== "");
        // All or nothing.
        if (!wanted.every((c) => CAPS.includes(c.replace(/^-/, "")))) return reply("NAK", asked);
        for (const c of wanted) {
          if (c.startsWith("-")) this.#enabled.delete(c.slice(1));
          else this.#enabled.add(c);
        }
        return reply("ACK", asked);
      }
      case "END":
        if (registered) return { lines: [], ended: false };
        this.#negotiating = false;
        return { lines: [], ended: true };
      default:
        return null;
    }
  }

  /**
   * One `AUTHENTICATE` line of a SASL PLAIN exchange: the lines that answer it, and once the
   * message is whole, the credentials it carries (whose login answers `900`/`903` or `904`).
   */
  authenticate(arg: string): { lines: string[]; credentials?: { name: string; password: string } } {
    const fail = (code: string, text: string) => {
      this.#sasl = null;
      return { lines: [this.#replies.numeric(code, text)] };
    };
    if (this.#sasl === null) {
      if (arg.toUpperCase() !== "PLAIN") {
        return {
          lines: [
            this.#replies.numeric("908", "PLAIN", "are available SASL mechanisms"),
            this.#replies.numeric("904", "SASL authentication failed"),
          ],
        };
      }
      this.#sasl = "";
      return { lines: ["AUTHENTICATE +"] };
    }
    if (arg === "*") return fail("906", "SASL authentication aborted");
    if (arg.length > SASL_PIECE) return fail("905", "SASL message too long");
    if (arg !== "+") this.#sasl += arg;
    // A full piece: more follows (a message of a multiple of 400 ends with `+`).
    if (arg.length === SASL_PIECE) return { lines: [] };
    const credentials = saslPlain(this.#sasl);
    this.#sasl = null;
    if (credentials === null) return fail("904", "SASL authentication failed");
    return { lines: [], credentials };
  }
}
