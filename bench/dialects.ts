/** How the load generator speaks to one kind of server. */
export interface Dialect {
  /** What a client sends to log in (and join the room, when `room` is set). */
  login(name: string, room: string | null): string;
  /** Whether this received line means the client is ready (logged in, and in the room). */
  ready(line: string, room: string | null): boolean;
  /** One chat message line to a room or a user, carrying `text`. */
  message(to: string, text: string): string;
  /** The text of a chat message in a received line, or null if the line is something else. */
  text(line: string): string | null;
  /** A reply the client must send to stay connected (IRC PING), or null. */
  keepalive(line: string): string | null;
}

/** The relay's JSON mode. */
export const relayDialect: Dialect = {
  login: (name, room) =>
    `{"type":"login","name":"${name}"}\n${room ? `{"type":"join","room":"${room}"}\n` : ""}`,
  ready: (line, room) =>
    room
      ? line.startsWith('{"type":"ok"') && line.includes('"users"')
      : line.startsWith('{"type":"welcome"'),
  message: (to, text) => `{"type":"msg","to":"${to}","text":"${text}"}\n`,
  text: (line) => {
    if (!line.startsWith('{"type":"message"')) return null;
    const at = line.indexOf('"text":"') + 8;
    return line.slice(at, line.indexOf('"', at));
  },
  keepalive: () => null,
};

/**
 * IRC, as ngircd and the relay's IRC port speak it (no CAP: neither sends tags then, nor
 * echoes a client's own messages).
 */
export const ircDialect: Dialect = {
  login: (name, room) =>
    `NICK ${name}\r\nUSER ${name} 0 * :${name}\r\n${room ? `JOIN ${room}\r\n` : ""}`,
  ready: (line, room) => (room ? / 366 /.test(line) : / 001 /.test(line)),
  message: (to, text) => `PRIVMSG ${to} :${text}\r\n`,
  text: (line) => {
    const at = line.indexOf(" PRIVMSG ");
    if (at === -1) return null;
    return line.slice(line.indexOf(" :", at) + 2).trimEnd();
  },
  keepalive: (line) => (line.startsWith("PING ") ? `PONG ${line.slice(5)}\r\n` : null),
};

/** The naive Node relay of bench/naive-relay.ts. */
export const naiveDialect: Dialect = {
  login: (name) => `${name}\n`,
  ready: (line) => line === "welcome",
  message: (to, text) => `${to === "#bench" ? "*" : to} ${text}\n`,
  text: (line) => {
    const space = line.indexOf(" ");
    return space === -1 ? null : line.slice(space + 1);
  },
  keepalive: () => null,
};

/** The line dialects by name. */
export const DIALECTS = { relay: relayDialect, irc: ircDialect, naive: naiveDialect };
/** A line dialect's name. */
export type LineDialectName = keyof typeof DIALECTS;
/**
 * How a load-generator client speaks: one of the line dialects (over TCP, or one line per
 * WebSocket text frame), or `socketio`, Socket.IO's events with socket.io-client, as
 * bench/socketio-server.ts takes them (bench/socketio-client.ts).
 */
export type DialectName = LineDialectName | "socketio";
