import { utf8Length } from "./frames.ts";

/**
 * One IRC message (RFC 1459/2812, with IRCv3 message tags): `@tags :source COMMAND params`.
 * The last parameter may hold spaces (it is then sent as the "trailing" one, after `:`).
 */
export interface IrcMessage {
  /** IRCv3 tags; a tag without a value has the value `""`. */
  tags?: Record<string, string>;
  /** Who sent it (`nick!user@host` or a server name); absent from clients. */
  source?: string;
  command: string;
  params: string[];
}

/** The most bytes of a line, its `\r\n` included, tags left out (RFC 1459 §2.3). */
export const IRC_LINE_BYTES = 512;

/**
 * Parses one IRC line (without its line ending); null when it holds no command. Lenient
 * where clients differ: several spaces count as one, and leading spaces are skipped.
 *
 * @example
 * parseIrc("@time=x :bob!b@h PRIVMSG #dev :hi there");
 * // { tags: { time: "x" }, source: "bob!b@h", command: "PRIVMSG", params: ["#dev", "hi there"] }
 */
export function parseIrc(line: string): IrcMessage | null {
  let at = skipSpaces(line, 0);
  const msg: IrcMessage = { command: "", params: [] };
  if (line[at] === "@") {
    const end = wordEnd(line, at);
    msg.tags = parseTags(line.slice(at + 1, end));
    at = skipSpaces(line, end);
  }
  if (line[at] === ":") {
    const end = wordEnd(line, at);
    msg.source = line.slice(at + 1, end);
    at = skipSpaces(line, end);
  }
  const end = wordEnd(line, at);
  msg.command = line.slice(at, end);
  if (msg.command === "") return null;
  at = skipSpaces(line, end);
  while (at < line.length) {
    if (line[at] === ":") {
      msg.params.push(line.slice(at + 1));
      break;
    }
    const paramEnd = wordEnd(line, at);
    msg.params.push(line.slice(at, paramEnd));
    at = skipSpaces(line, paramEnd);
  }
  return msg;
}

function skipSpaces(line: string, at: number): number {
  while (line[at] === " ") at++;
  return at;
}

function wordEnd(line: string, at: number): number {
  const space = line.indexOf(" ", at);
  return space === -1 ? line.length : space;
}

function parseTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const tag of text.split(";")) {
    if (tag === "") continue;
    const eq = tag.indexOf("=");
    if (eq === -1) tags[tag] = "";
    else tags[tag.slice(0, eq)] = unescapeTag(tag.slice(eq + 1));
  }
  return tags;
}

const UNESCAPED: Record<string, string> = { ":": ";", s: " ", r: "\r", n: "\n" };
const ESCAPED: Record<string, string> = {
  ";": "\\:",
  " ": "\\s",
  "\\": "\\\\",
  "\r": "\\r",
  "\n": "\\n",
};

/** A tag value as IRCv3 escapes it: `\:` is `;`, `\s` a space, a lone `\` at the end nothing. */
function unescapeTag(value: string): string {
  return value.replace(/\\(.?)/gs, (_, c: string) => UNESCAPED[c] ?? c);
}

function escapeTag(value: string): string {
  return value.replace(/[; \\\r\n]/g, (c) => ESCAPED[c] as string);
}

/**
 * Writes one IRC message as a line, without its line ending. The last parameter goes after
 * `:` when it must (it is empty, holds a space or starts with `:`), or always with `trailing`.
 * Parameters before it must be non-empty words that do not start with `:`.
 *
 * @example
 * formatIrc({ source: "relay", command: "001", params: ["alice", "Welcome"] });
 * // ":relay 001 alice Welcome"
 */
export function formatIrc(msg: IrcMessage, trailing = false): string {
  let line = "";
  if (msg.tags) {
    const tags = Object.entries(msg.tags)
      .map(([key, value]) => (value === "" ? key : `${key}=${escapeTag(value)}`))
      .join(";");
    if (tags !== "") line += `@${tags} `;
  }
  if (msg.source !== undefined) line += `:${msg.source} `;
  line += msg.command;
  const last = msg.params.length - 1;
  for (let i = 0; i < last; i++) line += ` ${msg.params[i]}`;
  if (last >= 0) {
    const param = msg.params[last] as string;
    const colon = trailing || param === "" || param.includes(" ") || param.startsWith(":");
    line += colon ? ` :${param}` : ` ${param}`;
  }
  return line;
}

/** The bytes of a line that count against `IRC_LINE_BYTES`: all but its tags, plus `\r\n`. */
export function ircLineBytes(line: string): number {
  const body = line.startsWith("@") ? line.slice(line.indexOf(" ") + 1) : line;
  return utf8Length(body) + 2;
}

/**
 * Cuts a text into pieces of at most `maxBytes` bytes of UTF-8, after the last space that
 * fits (the space stays at the end of the first piece), or where no space fits, between
 * two grapheme clusters (an accent stays with its letter, a flag or an emoji sequence
 * whole), or between two code points when one cluster alone is longer: never inside a
 * character. The pieces joined are the text. `maxBytes` must be at least 4 (one code point).
 *
 * @example
 * splitText("hello wide world", 11); // ["hello wide ", "world"]
 */
export function splitText(text: string, maxBytes: number): string[] {
  if (maxBytes < 4) throw new RangeError("a piece must fit one code point (4 bytes)");
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let bytes = 0;
    let at = start;
    let lastSpace = -1;
    while (at < text.length) {
      const code = text.codePointAt(at) as number;
      const size = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
      if (bytes + size > maxBytes) break;
      bytes += size;
      at += code >= 0x10000 ? 2 : 1;
      if (code === 0x20) lastSpace = at;
    }
    const end =
      at >= text.length ? at : lastSpace > start ? lastSpace : clusterCut(text, start, at);
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

/**
 * Code points a grapheme cluster may go on with or be joined by (UAX #29: marks, variation
 * selectors among them, the zero width joiner, emoji modifiers and tags, regional
 * indicators, Hangul jamo): only next to one of them may a cut between code points fall
 * inside a cluster.
 */
const JOINING =
  /\u200d|[\p{M}\u1100-\u11ff\u{1f1e6}-\u{1f1ff}\u{1f3fb}-\u{1f3ff}\u{e0020}-\u{e007f}]/u;
let clusters: Intl.Segmenter | undefined;

/**
 * Where to cut `text`, which must be cut at or before `end` (`start` is a cluster boundary):
 * `end` when it falls between two clusters, else the last boundary before it, else (one
 * cluster longer than the piece) `end`.
 */
function clusterCut(text: string, start: number, end: number): number {
  const before = text.codePointAt(end - 1) as number;
  const last = before >= 0xdc00 && before < 0xe000 ? text.slice(end - 2, end) : text[end - 1];
  const next = String.fromCodePoint(text.codePointAt(end) as number);
  if (!JOINING.test(last as string) && !JOINING.test(next)) return end;
  // Rare (the cut is next to a joining code point), and a piece is short: segment it.
  clusters ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  let cut = start;
  for (const { index } of clusters.segment(text.slice(start, end + 64))) {
    if (start + index > end) break;
    cut = start + index;
  }
  return cut > start ? cut : end;
}

/**
 * A text message (`PRIVMSG`, `NOTICE`) as lines that each fit `IRC_LINE_BYTES`: the text
 * is split (see `splitText`) and each piece sent with the same tags, source and target,
 * inside `wrap` when given (a CTCP action's `\x01ACTION ` and `\x01`).
 *
 * @example
 * textLines({ source: "bob!bob@relay", command: "PRIVMSG", params: ["#dev"] }, "hi");
 * // [":bob!bob@relay PRIVMSG #dev :hi"]
 */
export function textLines(
  head: IrcMessage,
  text: string,
  wrap: [string, string] = ["", ""],
): string[] {
  if (text === "") return [];
  // Most texts fit one line: it is made once, and measured only when it might not fit
  // (3 bytes of UTF-8 per code unit at most).
  const whole = formatIrc(
    { ...head, params: [...head.params, `${wrap[0]}${text}${wrap[1]}`] },
    true,
  );
  if (whole.length * 3 + 2 <= IRC_LINE_BYTES || ircLineBytes(whole) <= IRC_LINE_BYTES) {
    return [whole];
  }
  const empty = formatIrc({ ...head, tags: undefined, params: [...head.params, wrap.join("")] });
  const room = IRC_LINE_BYTES - 2 - utf8Length(empty);
  return splitText(text, Math.max(room, 4)).map((piece) =>
    formatIrc({ ...head, params: [...head.params, `${wrap[0]}${piece}${wrap[1]}`] }, true),
  );
}

/**
 * Words (nicks, say) packed into as few lines as fit `IRC_LINE_BYTES`, each line `head`
 * followed by a trailing parameter of words separated by spaces.
 *
 * @example
 * packLines({ source: "relay", command: "353", params: ["me", "=", "#dev"] }, ["ann", "bo"]);
 * // [":relay 353 me = #dev :ann bo"]
 */
export function packLines(head: IrcMessage, words: string[]): string[] {
  const room =
    IRC_LINE_BYTES - 2 - utf8Length(formatIrc({ ...head, params: [...head.params, ""] }));
  const lines: string[] = [];
  let run = "";
  for (const word of words) {
    if (run !== "" && utf8Length(run) + 1 + utf8Length(word) > room) {
      lines.push(formatIrc({ ...head, params: [...head.params, run] }, true));
      run = "";
    }
    run = run === "" ? word : `${run} ${word}`;
  }
  if (run !== "") lines.push(formatIrc({ ...head, params: [...head.params, run] }, true));
  return lines;
}

/** mIRC formatting (bold, colours, italics, ...) and the other control characters but tab. */
const FORMATTING =
  /\x03(\d{1,2}(,\d{1,2})?)?|\x04([0-9a-fA-F]{6}(,[0-9a-fA-F]{6})?)?|[\x00-\x08\x0a-\x1f\x7f]/g;
/** A CTCP message: `\x01COMMAND args\x01`. */
const CTCP = /^\x01([A-Za-z]+)(?: ([^\x01]*))?\x01?$/;
/** What a relay text starts with to be an action (`/me waves`), both ways. */
const ACTION = "/me ";

/**
 * What an IRC text says, as relay text: a CTCP action becomes `/me ...`, formatting and
 * control characters go (relay text holds none but tab); null for other CTCP requests,
 * which no relay user can answer.
 *
 * @example
 * relayTextOf("\x01ACTION waves\x01"); // "/me waves"
 * relayTextOf("\x02bold\x02 \x0304red"); // "bold red"
 */
export function relayTextOf(ircText: string): string | null {
  let text = ircText;
  if (text.startsWith("\x01")) {
    const ctcp = CTCP.exec(text);
    if (ctcp?.[1]?.toUpperCase() !== "ACTION") return null;
    text = `${ACTION}${ctcp[2] ?? ""}`;
  }
  return text.replace(FORMATTING, "");
}

/**
 * A relay text as IRC lines of `head` (see `textLines`), after `date` (for clients that
 * cannot show a message's time); a text that starts with `/me ` is a CTCP action again.
 *
 * @example
 * ircTextLines({ source: "bob!bob@relay", command: "PRIVMSG", params: ["#dev"] }, "/me waves");
 * // [":bob!bob@relay PRIVMSG #dev :\x01ACTION waves\x01"]
 */
export function ircTextLines(head: IrcMessage, text: string, date = ""): string[] {
  if (!text.startsWith(ACTION)) return textLines(head, `${date}${text}`);
  return textLines(head, `${date}${text.slice(ACTION.length)}`, ["\x01ACTION ", "\x01"]);
}

/**
 * The credentials of a SASL PLAIN message (RFC 4616): the base64 of
 * `authzid\0authcid\0password`, where the authzid is empty or the authcid; null when
 * `data` is not that.
 *
 * @example
 * saslPlain(btoa("\0alice\0secret")); // { name: "alice", password: "secret" }
 */
export function saslPlain(data: string): { name: string; password: string } | null {
  let text: string;
  try {
    const binary = atob(data);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  const parts = text.split("\0");
  if (parts.length !== 3) return null;
  const [authzid, name, password] = parts as [string, string, string];
  if (name === "" || password === "" || (authzid !== "" && authzid !== name)) return null;
  return { name, password };
}
