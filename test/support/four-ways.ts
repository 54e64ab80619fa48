import { LineClient, WsClient } from "./client.ts";

/** One of the four ways a client speaks to the relay: a transport and an encoding. */
export interface Way {
  transport: "tcp" | "ws";
  encoding: "json" | "text";
}

/** TCP and WebSocket, each in JSON and in text mode (docs/protocol.md §1, §2). */
export const FOUR_WAYS: readonly Way[] = [
  { transport: "tcp", encoding: "json" },
  { transport: "tcp", encoding: "text" },
  { transport: "ws", encoding: "json" },
  { transport: "ws", encoding: "text" },
];

/** The ports of a running relay. */
export interface Ports {
  tcpPort: number;
  httpPort: number;
}

/** What a welcome says, in either encoding. */
export interface Welcome {
  name: string;
  users: string[];
  online: number;
  rooms: string[];
}

/** What a `who` reply says; text mode prints no `online`, and `next` as a hint. */
export interface Who {
  room?: string;
  users: string[];
  online?: number;
  next?: string;
}

/**
 * An event or reply as a test compares it, the same in both encodings: JSON frames of an
 * unexpected shape, and text lines of an unknown form, come as `other` with what came.
 */
export type Received =
  | { kind: "presence"; name: string; status: "online" | "offline" }
  | { kind: "message"; from: string; to: string; text: string }
  | { kind: "joined"; room: string; name: string }
  | { kind: "pong" }
  | { kind: "other"; raw: string };

/**
 * A logged-in user over any of the four ways, with the few commands the presence tests
 * need. Every read is strict: what arrives is parsed as the encoding says, in order.
 */
export class User {
  readonly name: string;
  readonly way: Way;
  readonly welcome: Welcome;
  readonly #client: LineClient | WsClient;
  #ids = 0;

  private constructor(name: string, way: Way, client: LineClient | WsClient, welcome: Welcome) {
    this.name = name;
    this.way = way;
    this.#client = client;
    this.welcome = welcome;
  }

  /** Connects the way given and logs in as `name`; fails unless the first answer is a welcome. */
  static async login(ports: Ports, way: Way, name: string): Promise<User> {
    const client =
      way.transport === "tcp"
        ? await LineClient.open(ports.tcpPort)
        : await WsClient.open(ports.httpPort);
    if (way.encoding === "json") client.sendJson({ type: "login", name, id: "login" });
    else client.send(`/login ${name}`);
    const first = await client.line();
    const welcome = way.encoding === "json" ? jsonWelcome(first) : textWelcome(first);
    return new User(name, way, client, welcome);
  }

  /** The next event or reply. */
  async next(): Promise<Received> {
    const line = await this.#client.line();
    return this.way.encoding === "json" ? fromJson(line) : fromText(line, this.name);
  }

  /**
   * Resolves once the relay has sent this user nothing since the last read: a `ping` is
   * answered by the very next line.
   */
  async nothingNew(): Promise<void> {
    const got = await this.#ask({ type: "ping" }, "/ping");
    const seen = this.way.encoding === "json" ? fromJson(got) : fromText(got, this.name);
    if (seen.kind !== "pong") throw new Error(`${this.name} got ${JSON.stringify(seen)}`);
  }

  /** `who`, of everyone or of a room, a page after `after` when given. */
  async who(options: { after?: string; room?: string } = {}): Promise<Who> {
    const { after, room } = options;
    const text =
      after === undefined ? `/who ${room ?? ""}`.trimEnd() : `/who ${room ?? "*"} ${after}`;
    const line = await this.#ask(
      {
        type: "who",
        ...(room !== undefined && { room }),
        ...(after !== undefined && { after }),
      },
      text,
    );
    return this.way.encoding === "json" ? jsonWho(line) : textWho(line);
  }

  /** Joins a room; resolves with its members as the `ok` lists them. */
  async join(room: string): Promise<string[]> {
    const line = await this.#ask({ type: "join", room }, `/join ${room}`);
    if (this.way.encoding === "json") {
      const reply = JSON.parse(line);
      if (reply.type !== "ok") throw new Error(`join: ${line}`);
      return reply.users;
    }
    const said = `* you joined ${room}: `;
    if (!line.startsWith(said)) throw new Error(`join: ${line}`);
    return line.slice(said.length).split(", ");
  }

  /** Sends a private message to someone online; resolves once it was accepted. */
  async tell(to: string, text: string): Promise<void> {
    const command = { type: "msg", to, text };
    if (this.way.encoding === "json") {
      const line = await this.#ask(command, "");
      const reply = JSON.parse(line);
      if (reply.type !== "ok" || reply.queued) throw new Error(`msg: ${line}`);
      return;
    }
    // Text mode prints no `ok`: the pong right after it says the message went through.
    this.#send(command, `/msg ${to} ${text}`);
    await this.nothingNew();
  }

  /** Sends a private message to someone offline; resolves once the relay says it is held. */
  async tellOffline(to: string, text: string): Promise<void> {
    const line = await this.#ask({ type: "msg", to, text }, `/msg ${to} ${text}`);
    const held =
      this.way.encoding === "json"
        ? JSON.parse(line).queued === true
        : line === `* ${to} is offline; the message is held for them`;
    if (!held) throw new Error(`msg to ${to}, offline: ${line}`);
  }

  /**
   * Quits, and resolves at the `bye`, the last thing the relay says (it has forgotten the
   * user by then); the connection is dropped without waiting for the server's close, which
   * over WebSocket lingers a quarter of a second (src/http/websocket.ts).
   */
  async quit(): Promise<void> {
    const id = this.#send({ type: "quit" }, "/quit");
    const bye = (line: string) =>
      this.way.encoding === "json"
        ? sameJson(line, { type: "bye", re: id, reason: "quit" })
        : line === "* bye: quit";
    while (!bye(await this.#client.line()));
    this.#client.close();
  }

  /** Drops the connection without a word (a no-op once it is closed). */
  close(): void {
    this.#client.close();
  }

  /** Sends a command in this user's encoding (JSON with a fresh `id`); returns the id. */
  #send(command: Record<string, unknown>, text: string): string {
    const id = `c${++this.#ids}`;
    if (this.way.encoding === "json") this.#client.sendJson({ ...command, id });
    else this.#client.send(text);
    return id;
  }

  /** Sends a command; returns the next line, and in JSON mode checks it answers the command. */
  async #ask(command: Record<string, unknown>, text: string): Promise<string> {
    const id = this.#send(command, text);
    const line = await this.#client.line();
    if (this.way.encoding === "json" && JSON.parse(line).re !== id)
      throw new Error(`${this.name} sent ${JSON.stringify(command)} and got ${line}`);
    return line;
  }
}

/** A JSON `welcome`, answering the login. */
function jsonWelcome(line: string): Welcome {
  const w = JSON.parse(line);
  if (w.type !== "welcome" || w.re !== "login") throw new Error(`no welcome: ${line}`);
  return { name: w.name, users: w.users, online: w.online, rooms: w.rooms };
}

/**
 * `* welcome, amy! online: bob, cat and 998 more; you are in #dev`: who is named, how many
 * are online (those named, those counted, and you), your rooms.
 */
function textWelcome(line: string): Welcome {
  const m = /^\* welcome, (\S+)! (.*)$/.exec(line);
  if (!m) throw new Error(`no welcome: ${line}`);
  const [others, ...rest] = (m[2] as string).split("; ");
  let users: string[] = [];
  let more = 0;
  if (others !== "nobody else is online") {
    const o = /^online: (?:(\d+) others?|(.+?)(?: and (\d+) more)?)$/.exec(others ?? "");
    if (!o) throw new Error(`welcome without who is online: ${line}`);
    if (o[1] !== undefined) more = Number(o[1]);
    else {
      users = (o[2] as string).split(", ");
      more = Number(o[3] ?? 0);
    }
  }
  const rooms = rest.find((p) => p.startsWith("you are in "));
  return {
    name: m[1] as string,
    users,
    online: 1 + users.length + more,
    rooms: rooms === undefined ? [] : rooms.slice("you are in ".length).split(", "),
  };
}

/** A JSON `who` reply, without its type and `re`. */
function jsonWho(line: string): Who {
  const { type, re: _, ...who } = JSON.parse(line);
  if (type !== "who") throw new Error(`not a who reply: ${line}`);
  return who;
}

/**
 * `* online: amy, bob` or `* #room: amy` (`nobody` when empty), and when more follow
 * ` (more: /who * bob)` or ` (more: /who #room amy)`, whose last word is `next`.
 */
function textWho(line: string): Who {
  const m = /^\* (online|#\S+): (.*?)(?: \(more: \/who (\*|#\S+) (\S+)\))?$/.exec(line);
  if (!m) throw new Error(`not a who line: ${line}`);
  const [, where, names, hintWhere, next] = m as unknown as (string | undefined)[];
  if (hintWhere !== undefined && hintWhere !== (where === "online" ? "*" : where))
    throw new Error(`a who line whose hint names another list: ${line}`);
  const users = names === "nobody" ? [] : (names as string).split(", ");
  return {
    ...(where !== "online" && { room: where as string }),
    users,
    ...(next !== undefined && { next }),
  };
}

/** An event or reply in JSON mode; anything but the exact fields of its type is `other`. */
function fromJson(line: string): Received {
  const f = JSON.parse(line);
  const keys = Object.keys(f).sort().join(",");
  if (f.type === "presence" && keys === "name,status,type")
    return { kind: "presence", name: f.name, status: f.status };
  if (f.type === "message") return { kind: "message", from: f.from, to: f.to, text: f.text };
  if (f.type === "joined" && keys === "name,room,type")
    return { kind: "joined", room: f.room, name: f.name };
  if (f.type === "pong" && keys === "re,type") return { kind: "pong" };
  return { kind: "other", raw: line };
}

/** An event or reply in text mode, as docs/protocol.md §5 prints it; `me` is the reader. */
function fromText(line: string, me: string): Received {
  const presence = /^\* (\S+) is (online|offline)$/.exec(line);
  if (presence)
    return {
      kind: "presence",
      name: presence[1] as string,
      status: presence[2] as "online" | "offline",
    };
  // `[HH:MM:SS]` live, `[YYYY-MM-DD HH:MM:SS]` when it waited or was replayed.
  const message = /^\[(?:\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d\] (?:(#\S+|\*) )?(\S+): (.*)$/.exec(line);
  if (message)
    return {
      kind: "message",
      from: message[2] as string,
      to: message[1] ?? me,
      text: message[3] as string,
    };
  const joined = /^\* (\S+) joined (#\S+)$/.exec(line);
  if (joined) return { kind: "joined", room: joined[2] as string, name: joined[1] as string };
  if (line === "* pong") return { kind: "pong" };
  return { kind: "other", raw: line };
}

/** Whether a JSON frame has exactly these fields and values. */
function sameJson(line: string, want: Record<string, unknown>): boolean {
  try {
    const got = JSON.parse(line);
    const keys = Object.keys(got);
    return keys.length === Object.keys(want).length && keys.every((k) => got[k] === want[k]);
  } catch {
    return false;
  }
}
