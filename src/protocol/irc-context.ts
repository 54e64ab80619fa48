import type { ChatMessage, Command, ErrorCode } from "../core/mod.ts";
import type { Decoded } from "./decoded.ts";
import { formatIrc } from "./irc.ts";
import { IrcCapabilities } from "./irc-capabilities.ts";
import { IrcChannels } from "./irc-channels.ts";
import type { HistoryRequest } from "./irc-history.ts";
import { IrcReplies } from "./irc-replies.ts";

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

/** What a command sent to the core was for, found again by the reply's `re`. */
export type Purpose =
  | { kind: "login"; via: "nick" | "sasl"; name: string; secret?: string; asSession: boolean }
  | { kind: "ping"; token: string }
  | { kind: "quit" }
  | { kind: "join"; channel: string; forced: boolean }
  | { kind: "names"; channel: string; join: boolean; first: boolean }
  | { kind: "playback"; channel: string }
  | { kind: "part"; channel: string; reason: string | undefined }
  | { kind: "msg"; target: string; text: string; notice: boolean; at: number }
  | { kind: "who"; mask: string; found: number }
  | { kind: "whois"; nick: string }
  | { kind: "ison"; nicks: string[]; found: string[]; userhost: boolean }
  | { kind: "list"; only: Set<string> | null; started: boolean }
  | { kind: "limited"; command: string }
  | { kind: "chathistory"; request: HistoryRequest; read: ChatMessage[]; pages: number };

/**
 * What the parts of one IRC session share (docs/irc.md): its options, nick, capabilities,
 * channels and the server's own lines, the commands sent to the core with what each was
 * for, and the commands asked for while a reply was encoded (follow-ups).
 *
 * @example
 * const cx = new IrcContext({ server: "relay", auth: "open", playback: 50 });
 * const decoded = cx.command({ type: "ping" }, { kind: "ping", token: "t" });
 * cx.purposeOf(decoded.re); // { kind: "ping", token: "t" }
 */
export class IrcContext {
  readonly options: IrcOptions;
  /** The relay name once logged in, else the nick asked for, else null. */
  nick: string | null = null;
  readonly channels: IrcChannels;
  readonly replies: IrcReplies;
  readonly capabilities: IrcCapabilities;
  readonly #purposes = new Map<string, Purpose>();
  #nextRe = 0;
  #nextBatch = 0;
  #followUps: Decoded[] = [];

  constructor(options: IrcOptions) {
    this.options = options;
    this.channels = new IrcChannels();
    this.replies = new IrcReplies(options.server, () => this.nick);
    this.capabilities = new IrcCapabilities(this.replies);
  }

  /** A command for the core, with a `re` of its own by which its reply finds `purpose`. */
  command(command: Command, purpose: Purpose): Decoded {
    return { ok: true, command, re: this.#remember(purpose) };
  }

  /** A command refused before the core runs it; its error finds `purpose` by its `re`. */
  refuse(code: ErrorCode, message: string, purpose: Purpose): Decoded {
    return { ok: false, error: { code, message }, re: this.#remember(purpose) };
  }

  /** What the command answered by a reply with this `re` was for (asked once). */
  purposeOf(re: string | null): Purpose | undefined {
    if (re === null) return undefined;
    const purpose = this.#purposes.get(re);
    this.#purposes.delete(re);
    return purpose;
  }

  /** One command for the core, and nothing to say yet. */
  run(command: Command, purpose: Purpose): IrcTurn {
    return { lines: [], commands: [this.command(command, purpose)] };
  }

  /** Several commands for the core, and nothing to say yet. */
  all(items: { command: Command; purpose: Purpose }[]): IrcTurn {
    return { lines: [], commands: items.map((i) => this.command(i.command, i.purpose)) };
  }

  /** Commands to run once the reply being encoded is out; shows nothing now. */
  followUp(...decoded: Decoded[]): string[] {
    this.#followUps.push(...decoded);
    return [];
  }

  /** Asks the core for the next page of what `purpose` looks through. */
  more(command: Command, purpose: Purpose): string[] {
    return this.followUp(this.command(command, purpose));
  }

  /** The follow-ups asked for since last taken. */
  takeFollowUps(): Decoded[] {
    const followUps = this.#followUps;
    this.#followUps = [];
    return followUps;
  }

  /** A numeric reply line to the client. */
  numeric(code: string, ...params: string[]): string {
    return this.replies.numeric(code, ...params);
  }

  /** A numeric reply, as a turn. */
  reply(code: string, ...params: string[]): IrcTurn {
    return lines(this.numeric(code, ...params));
  }

  /** `461`: the command needs more parameters. */
  needMore(command: string): IrcTurn {
    return this.reply("461", command, "Not enough parameters");
  }

  /** An error with no IRC numeric of its own: a NOTICE that names the code. */
  error(code: ErrorCode, message: string): string[] {
    if (code === "too_long") return [this.numeric("417", "Input line was too long")];
    if (code === "not_logged_in") return [this.numeric("451", "You have not registered")];
    return [this.replies.notice(`*** ${code}: ${message}`)];
  }

  /** The client itself as the source of a line. */
  self(): string {
    return this.replies.userSource(this.nick ?? "*");
  }

  /** The tags a message carries, as far as the client asked for them. */
  tagged(id: string | undefined, ts: string): { tags?: Record<string, string> } {
    const tags: Record<string, string> = {};
    if (this.capabilities.has("server-time")) tags.time = ts;
    if (id !== undefined && this.capabilities.has("message-tags")) tags.msgid = id;
    return Object.keys(tags).length > 0 ? { tags } : {};
  }

  /** Lines inside a `BATCH` when the client asked for batches. */
  batch(type: string, params: string[], inside: string[]): string[] {
    if (!this.capabilities.has("batch")) return inside;
    const ref = `h${(this.#nextBatch++).toString(36)}`;
    const s = this.options.server;
    return [
      formatIrc({ source: s, command: "BATCH", params: [`+${ref}`, type, ...params] }),
      ...inside.map((line) => withTag(line, "batch", ref)),
      formatIrc({ source: s, command: "BATCH", params: [`-${ref}`] }),
    ];
  }

  /** An IRCv3 standard reply `FAIL`. */
  fail(command: string, code: string, ...rest: string[]): string {
    return formatIrc(
      { source: this.options.server, command: "FAIL", params: [command, code, ...rest] },
      true,
    );
  }

  #remember(purpose: Purpose): string {
    const re = `i${(this.#nextRe++).toString(36)}`;
    this.#purposes.set(re, purpose);
    return re;
  }
}

/** A turn that says and asks nothing. */
export function none(): IrcTurn {
  return { lines: [], commands: [] };
}

/** A turn of lines only. */
export function lines(...out: string[]): IrcTurn {
  return { lines: out, commands: [] };
}

/** A formatted line with one more tag. */
function withTag(line: string, key: string, value: string): string {
  return line.startsWith("@") ? `@${key}=${value};${line.slice(1)}` : `@${key}=${value} ${line}`;
}
