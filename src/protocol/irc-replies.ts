import type { ServerMessage } from "../core/mod.ts";
import { formatIrc, packLines } from "./irc.ts";

/**
 * The most targets one line may name (ISUPPORT `TARGMAX`): each target is a relay command
 * of its own, while the line costs one against the rate limit (docs/protocol.md §8).
 */
export const TARGETS_MAX = { JOIN: 10, NAMES: 10, PART: 10, PRIVMSG: 4, NOTICE: 4 } as const;

/** What `005` (ISUPPORT) says of this server (docs/irc.md). */
const ISUPPORT = [
  "AWAYLEN=200",
  "CASEMAPPING=ascii",
  "CHANMODES=,,,nt",
  "CHANNELLEN=33",
  "CHANTYPES=#",
  "CHATHISTORY=200",
  "MSGREFTYPES=msgid,timestamp",
  "NETWORK=relay",
  "NICKLEN=32",
  "PREFIX=",
  `TARGMAX=${Object.entries(TARGETS_MAX)
    .map(([command, most]) => `${command}:${most}`)
    .join(",")},WHOIS:1`,
  "UTF8ONLY",
];

/** Why a connection is closed, as its `ERROR` line says it. */
const CLOSING: Record<string, string> = {
  quit: "Quit",
  kicked: "Kicked by an operator",
  shutdown: "Server shutting down",
  login_timeout: "Registration timed out",
  slow_consumer: "Too slow reading what it was sent (slow_consumer)",
  flood: "Excess flood",
  replaced: "Logged in again elsewhere (replaced)",
};

/**
 * The lines the gateway itself sends one IRC client: numerics addressed to its nick (or `*`
 * before it has one), notices from the server, the welcome burst, lists (names, who, whois).
 *
 * @example
 * const replies = new IrcReplies("irc.relay", () => "alice");
 * replies.numeric("331", "#dev", "No topic is set"); // ":irc.relay 331 alice #dev :No topic is set"
 */
export class IrcReplies {
  readonly server: string;
  readonly #nick: () => string | null;

  constructor(server: string, nick: () => string | null) {
    this.server = server;
    this.#nick = nick;
  }

  /** A numeric reply to the client; its last parameter is trailing. */
  numeric(code: string, ...params: string[]): string {
    return formatIrc(
      { source: this.server, command: code, params: [this.#nick() ?? "*", ...params] },
      true,
    );
  }

  /** A NOTICE from the server to the client. */
  notice(text: string, tags?: Record<string, string>): string {
    return formatIrc(
      {
        ...(tags && { tags }),
        source: this.server,
        command: "NOTICE",
        params: [this.#nick() ?? "*", text],
      },
      true,
    );
  }

  /** `nick!nick@server`: how a relay user appears as the source of a line. */
  userSource(name: string): string {
    return `${name}!${name}@${this.server}`;
  }

  /** `001` to `005`, how many are online, and the MOTD. */
  welcome(welcome: Extract<ServerMessage, { type: "welcome" }>): string[] {
    const me = welcome.name;
    const s = this.server;
    return [
      this.numeric("001", `Welcome to the relay, ${me}`),
      this.numeric("002", `Your host is ${s}, running relay-2`),
      this.numeric("003", "This server speaks the relay protocol, version 2"),
      formatIrc({ source: s, command: "004", params: [me, s, "relay-2", "i", "nt"] }),
      formatIrc(
        { source: s, command: "005", params: [me, ...ISUPPORT, "are supported by this server"] },
        true,
      ),
      this.numeric("251", `Users online: ${welcome.online}`),
      ...this.motd(welcome.queued),
    ];
  }

  /** The message of the day, which says how many private messages waited (`queued`). */
  motd(queued = 0): string[] {
    const text = [
      "relay: #channels are relay rooms, nicks are relay names.",
      "Rooms last until you PART them; a broadcast comes as a NOTICE to $*.",
    ];
    if (queued > 0) text.push(`${queued} private messages waited for you.`);
    return [
      this.numeric("375", `- ${this.server} Message of the day -`),
      ...text.map((line) => this.numeric("372", `- ${line}`)),
      this.numeric("376", "End of /MOTD command"),
    ];
  }

  /** The `ERROR` line that tells the client why it is being disconnected. */
  closing(reason: string): string {
    const why = CLOSING[reason] ?? reason;
    return formatIrc(
      { command: "ERROR", params: [`Closing Link: ${this.#nick() ?? "*"} (${why})`] },
      true,
    );
  }

  /** `353` lines of at most 512 bytes, then (`end`: the last page) `366`. */
  names(room: string, users: string[], end = true): string[] {
    const head = { source: this.server, command: "353", params: [this.#nick() ?? "*", "=", room] };
    const lines = packLines(head, users);
    return end ? [...lines, this.numeric("366", room, "End of /NAMES list")] : lines;
  }

  /** `352` for each user `mask` matches (a channel: all of them), then (`end`) `315`. */
  who(mask: string, users: string[], end = true): string[] {
    const s = this.server;
    const channel = mask.startsWith("#") ? mask : "*";
    const match = channel === "*" ? globMatcher(mask) : () => true;
    const out = users
      .filter(match)
      .map((name) => this.numeric("352", channel, name, s, s, name, "H", `0 ${name}`));
    if (end) out.push(this.numeric("315", mask, "End of /WHO list"));
    return out;
  }

  /** WHOIS of a user online (`found`), or of a nick nobody online has. */
  whois(asked: string, found: string | undefined): string[] {
    if (found === undefined) {
      return [
        this.numeric("401", asked, "No such nick/channel"),
        this.numeric("318", asked, "End of /WHOIS list"),
      ];
    }
    return [
      this.numeric("311", found, found, this.server, "*", found),
      this.numeric("312", found, this.server, "relay"),
      this.numeric("318", found, "End of /WHOIS list"),
    ];
  }

  /** USERHOST (`302`) or ISON (`303`) of the users online among those asked. */
  online(found: string[], userhost: boolean): string {
    if (!userhost) return this.numeric("303", found.join(" "));
    return this.numeric("302", found.map((n) => `${n}=+${n}@${this.server}`).join(" "));
  }
}

/** A WHO mask (`*`, `0`, `a*`, a nick) as a test of names. */
function globMatcher(mask: string): (name: string) => boolean {
  if (mask === "*" || mask === "0" || mask === "") return () => true;
  const pattern = new RegExp(
    `^${mask
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  );
  return (name) => pattern.test(name);
}
