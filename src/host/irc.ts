import type { ServerMessage } from "../core/mod.ts";
import { IrcSession } from "../protocol/mod.ts";
import type { Connection } from "./connection.ts";
import type { Host, HostConfig } from "./host.ts";

/** The name the gateway gives itself: the source of its own lines (a dot marks a server). */
const SERVER_NAME = "irc.relay";
/** How many of a channel's newest messages a JOIN plays back (docs/irc.md). */
const PLAYBACK = 50;

/**
 * The IRC side of one connection (docs/irc.md): its `IrcSession` (what IRC lines mean for
 * the core, and how the core's answers look in IRC), the lines the session answers itself,
 * the commands it asks for after an answer, and pings: a client silent for `ircPingMs` is
 * sent a `PING`, and one still silent after as long again is dropped.
 */
export class IrcGate {
  readonly #session: IrcSession;
  readonly #host: Host;
  readonly #conn: Connection;
  readonly #pingMs: number;
  #heard: number;
  #pinged = false;
  #fresh = true;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    host: Host,
    conn: Connection,
    config: Pick<HostConfig, "auth" | "ircPingMs">,
    now: number,
  ) {
    this.#host = host;
    this.#conn = conn;
    this.#pingMs = config.ircPingMs;
    this.#heard = now;
    this.#session = new IrcSession({ server: SERVER_NAME, auth: config.auth, playback: PLAYBACK });
    this.#arm(this.#pingMs);
  }

  /** Whether no line came yet (a first line that is an HTTP request is refused). */
  get fresh(): boolean {
    return this.#fresh;
  }

  /** One line from the client; `limited`: it is over the rate limit, and only answered so. */
  receive(text: string, limited: boolean): void {
    const now = this.#host.now();
    this.#fresh = false;
    this.#heard = now;
    this.#pinged = false;
    const turn = this.#session.receive(text, now, limited);
    if (turn.lines.length > 0) this.#host.write(this.#conn, `${turn.lines.join("\r\n")}\r\n`);
    for (const decoded of turn.commands) this.#host.frame(this.#conn, decoded);
  }

  /** Whether `msg` must wait: an event before registration completes (`IrcSession.waits`). */
  waits(msg: ServerMessage): boolean {
    return this.#session.waits(msg);
  }

  /** A reply or event as IRC lines, or null; what the session asks for next runs after it. */
  encode(msg: ServerMessage): string | null {
    const lines = this.#session.encode(msg);
    const followUps = this.#session.takeFollowUps();
    if (followUps.length > 0) {
      // Not now: this runs inside the core's effects, which must not be fed back into it.
      queueMicrotask(() => {
        if (this.#conn.closing) return;
        for (const decoded of followUps) this.#host.frame(this.#conn, decoded);
        this.#host.requestFlush();
      });
    }
    return lines;
  }

  /** The connection is gone: no more pings. */
  stop(): void {
    clearTimeout(this.#timer);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#check(), ms);
  }

  /** Pings a client silent for `pingMs`; drops one that stayed silent after the ping. */
  #check(): void {
    if (this.#conn.closing) return;
    const quiet = this.#host.now() - this.#heard;
    if (quiet < this.#pingMs) return this.#arm(this.#pingMs - quiet);
    if (!this.#pinged) {
      this.#pinged = true;
      this.#host.write(this.#conn, this.#session.ping());
      this.#host.flush();
      return this.#arm(this.#pingMs);
    }
    const nick = this.#session.nick ?? "*";
    this.#host.write(this.#conn, `ERROR :Closing Link: ${nick} (Ping timeout)\r\n`);
    this.#host.flush();
    // The link's end reaches the host as any close does (`Connection.closed`).
    this.#conn.closing = true;
    this.#conn.link.close();
  }
}
