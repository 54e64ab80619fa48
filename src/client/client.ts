import type { Reply, Event as ServerEvent } from "../core/types.ts";
import { backoffDelay, RECONNECT_DEFAULTS, type ReconnectOptions } from "./backoff.ts";
import { RelayError } from "./errors.ts";
import { RelayEvents } from "./events.ts";
import { type HistoryOptions, historyMessages, historyPages } from "./history.ts";
import { RecentIds } from "./recent-ids.ts";
import type { Connection, Transport } from "./transport.ts";
import type {
  ChatMessage,
  ClientCommand,
  CommandOf,
  HistoryReply,
  RelayClientEvents,
  ReplyFor,
  Welcome,
} from "./types.ts";
import { type WebSocketConstructor, webSocketTransport } from "./websocket.ts";

/** How to reach the relay, who to be, and how to behave when the connection drops. */
export interface RelayClientOptions {
  /** `ws://host:port/ws` or `wss://...`; or give `transport` instead. */
  url?: string;
  /** The WebSocket class for `url` (default: the runtime's global one; Node 20 has none). */
  WebSocket?: WebSocketConstructor;
  /** Any other way to reach the relay, e.g. TCP (`adapters/node/client-tcp.ts`). */
  transport?: Transport;
  name: string;
  /** The name's password (registers it if the name has none, docs/protocol.md §6). */
  password?: string;
  /** A JWT, for a relay in token mode. */
  token?: string;
  /** A session secret of an earlier `welcome`, e.g. kept by a program between runs. */
  session?: string;
  /** The newest message id the program saw in an earlier run: the first login resumes after it. */
  since?: string;
  /** How to reconnect (see {@link ReconnectOptions}); `false` never reconnects. */
  reconnect?: ReconnectOptions | false;
  /**
   * How many requests may wait for a connection while there is none (default 100); past
   * that they fail with `backlog_full`. `0` fails each at once with `not_connected`.
   */
  maxBacklog?: number;
  /**
   * How often a quiet connection is checked with a `ping` (default 30 s; `0`: never). A
   * connection that answers nothing for a whole period is dropped and reconnected.
   */
  heartbeatMs?: number;
}

/** What `close` sends to the server. */
export interface CloseOptions {
  /** End the session secret on the server too (`quit` with `forget`, docs/protocol.md §11.5). */
  forget?: boolean;
  /** The `reason` of the `quit`. */
  reason?: string;
}

/** The most conversations asked for a resume baseline at a login (see `#baseline`). */
const BASELINE_MAX = 10;

/** How long `close` waits for the server's `bye` before it drops the connection anyway. */
const CLOSE_TIMEOUT_MS = 2000;

// The server ended the session on purpose: coming back would fight the operator or the user.
const FINAL_BYES = new Set(["kicked", "replaced"]);
// A refusal a new attempt cannot cure. Not `auth_failed`: credentials that worked may fail
// while the server's store is away (docs/protocol.md §9), so that one is tried again.
const FATAL_LOGIN = new Set(["bad_name"]);

interface Waiting {
  command: object;
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

/** One connection, from `open` until it ends. */
interface Link {
  conn: Connection | null;
  ended: boolean;
  loggedIn: boolean;
}

/**
 * A client of the relay for programs: it logs in, matches each request to its reply,
 * dispatches the server's events, and reconnects by itself, logging in again with the
 * session secret of the last `welcome` and `since` the newest message id it has seen, so
 * a program sees every message once across drops and server restarts (docs/protocol.md §11).
 *
 * Requests made while there is no connection wait, in order, until the next login
 * (at most `maxBacklog` of them); a request whose connection ends before its reply fails
 * with `connection_lost`, since the server may or may not have carried it out.
 *
 * Until it has seen a message id, the client takes the newest id of `*` and of its rooms
 * (one `history` request each, `limit: 1`, at most 10) as the point to resume from, so
 * that a drop before the first message loses nothing either.
 *
 * Add listeners before `connect()`: held and replayed messages follow the welcome at once.
 *
 * @example
 * const client = new RelayClient({ url: "ws://localhost:8080/ws", name: "bot" });
 * client.on("message", (m) => console.log(`${m.from}: ${m.text}`));
 * const welcome = await client.connect();
 * await client.request({ type: "join", room: "#dev" });
 * const ok = await client.request({ type: "msg", to: "#dev", text: "hello" });
 * console.log(welcome.online, ok.id);
 * await client.close();
 */
export class RelayClient extends RelayEvents {
  readonly #transport: Transport;
  readonly #options: RelayClientOptions;
  readonly #reconnect: Required<ReconnectOptions> | null;
  readonly #maxBacklog: number;
  readonly #heartbeatMs: number;
  readonly #recent = new RecentIds();
  readonly #inflight = new Map<string, Waiting>();
  #backlog: Waiting[] = [];
  #link: Link | null = null;
  #name: string;
  #session: string | undefined;
  #since: string | undefined;
  #seq = 0;
  #connecting: Promise<Welcome> | null = null;
  #closing: Promise<void> | null = null;
  #stopped = false;
  #everOpen = false;
  #finished = false;
  #bye: RelayClientEvents["bye"]["reason"] | undefined;
  #sleeping: { timer: ReturnType<typeof setTimeout>; wake(): void } | null = null;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #heard = false;

  /**
   * Makes a client; nothing is sent before `connect()`. Throws a `TypeError` when neither
   * `url` nor `transport` is given, or `url` needs a WebSocket the runtime lacks.
   *
   * @example
   * import WebSocket from "ws"; // Node 20 only; elsewhere leave it out
   * const client = new RelayClient({ url: "ws://localhost:8080/ws", WebSocket, name: "bot" });
   */
  constructor(options: RelayClientOptions) {
    super();
    this.#options = options;
    if (options.transport) this.#transport = options.transport;
    else if (options.url) this.#transport = webSocketTransport(options.url, options.WebSocket);
    else throw new TypeError("RelayClient needs a `url` or a `transport`");
    this.#reconnect =
      options.reconnect === false ? null : { ...RECONNECT_DEFAULTS, ...options.reconnect };
    this.#maxBacklog = options.maxBacklog ?? 100;
    this.#heartbeatMs = options.heartbeatMs ?? 30_000;
    this.#name = options.name;
    this.#session = options.session;
    this.#since = options.since;
  }

  /** The name as the server shows it (after a login), else as given. */
  get name(): string {
    return this.#name;
  }

  /** The session secret of the last `welcome`: keep it to log in again after a restart. */
  get session(): string | undefined {
    return this.#session;
  }

  /** The newest message id seen (events and the ids of own sends): keep it with `session`. */
  get since(): string | undefined {
    return this.#since;
  }

  /** Whether the client is logged in right now. */
  get connected(): boolean {
    return this.#link?.loggedIn === true;
  }

  /**
   * Connects and logs in; resolves with the `welcome`. Rejects with a {@link RelayError}
   * when the connection cannot be made (`connect_failed`) or the login is refused (e.g.
   * `auth_failed`, `name_taken`); the client is then closed. Only after a first
   * successful login does the client reconnect by itself. Calling it again returns the
   * same promise.
   *
   * @example
   * const welcome = await client.connect();
   * console.log(`logged in as ${welcome.name}; ${welcome.online} online`);
   */
  connect(): Promise<Welcome> {
    this.#connecting ??= this.#stopped
      ? Promise.reject(closedError("the client was closed"))
      : this.#attempt().catch((error: Error) => {
          this.#stop(error);
          throw error;
        });
    return this.#connecting;
  }

  /**
   * Sends a command and resolves with its reply, typed by the command: `ok` for `msg`,
   * `say`, `to`, `join` and `leave`, `who`, `history`, `rooms`, `pong` for `ping`. An
   * `error` reply rejects with a {@link RelayError} carrying its code. Requests are sent,
   * and answered, in the order they were made.
   *
   * @example
   * const ok = await client.request({ type: "msg", to: "bob", text: "hi" });
   * if (ok.queued) console.log("bob is offline; the message waits for him");
   * const { users } = await client.request({ type: "who" });
   */
  request<C extends ClientCommand>(command: C): Promise<ReplyFor<C>> {
    const type = (command as { type: unknown }).type;
    if (type === "login" || type === "quit") {
      return Promise.reject(new TypeError(`${type} is the client's own: use connect() or close()`));
    }
    return new Promise<Reply>((resolve, reject) => {
      const waiting: Waiting = { command, resolve, reject };
      const link = this.#link;
      if (link?.loggedIn) return this.#transmit(link, waiting);
      if (this.#stopped) return reject(closedError("the client was closed"));
      if (this.#maxBacklog === 0) return reject(new RelayError("not_connected", "not connected"));
      if (this.#backlog.length >= this.#maxBacklog) {
        return reject(
          new RelayError(
            "backlog_full",
            `${this.#maxBacklog} requests already wait for a connection`,
          ),
        );
      }
      this.#backlog.push(waiting);
    }) as Promise<ReplyFor<C>>;
  }

  /**
   * The messages of a conversation (a name, a `#room` or `*`) from the newest back to the
   * oldest, fetched a page at a time with `before` until the server has no more. Leaving
   * the loop early stops asking.
   *
   * @example
   * for await (const m of client.history("#dev", { pageSize: 100 })) {
   *   console.log(m.ts, m.from, m.text);
   * }
   */
  history(conversation: string, options: HistoryOptions = {}): AsyncGenerator<ChatMessage, void> {
    return historyMessages(this.#historyRequest, conversation, options);
  }

  /**
   * The pages of a conversation, newest page first; each page lists its messages oldest
   * first, as the server sends them (see {@link history}).
   *
   * @example
   * for await (const page of client.historyPages("bob")) console.log(page.messages.length);
   */
  historyPages(
    conversation: string,
    options: HistoryOptions = {},
  ): AsyncGenerator<HistoryReply, void> {
    return historyPages(this.#historyRequest, conversation, options);
  }

  readonly #historyRequest = (command: CommandOf<"history">) => this.request(command);

  /**
   * Logs out (`quit`, with `forget` to end the session secret on the server) and stops
   * reconnecting; resolves once the connection is closed. Replies to requests sent before
   * still arrive; requests waiting for a connection fail with `closed`.
   *
   * @example
   * await client.close({ forget: true });
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#shutdown(options);
    return this.#closing;
  }

  /** One attempt: open a connection and log in on it. */
  async #attempt(): Promise<Welcome> {
    const link: Link = { conn: null, ended: false, loggedIn: false };
    try {
      link.conn = await this.#transport.open({
        frame: (text) => {
          if (this.#link === link) this.#frame(text);
        },
        closed: () => {
          link.ended = true;
          if (this.#link === link) this.#ended(link);
        },
      });
    } catch (cause) {
      throw new RelayError("connect_failed", `cannot connect: ${describe(cause)}`, { cause });
    }
    if (this.#stopped || link.ended) {
      link.conn.close();
      throw this.#stopped
        ? closedError("the client was closed")
        : new RelayError("connection_lost", "the connection ended before the login");
    }
    this.#link = link;
    this.#bye = undefined;
    try {
      const welcome = await this.#logIn(link);
      this.#welcomed(link, welcome);
      return welcome;
    } catch (error) {
      this.#drop(link);
      if (this.#stopped) throw closedError("the client was closed");
      throw error;
    }
  }

  async #logIn(link: Link): Promise<Welcome> {
    const withSession = this.#session !== undefined;
    try {
      return await this.#send(link, this.#loginCommand());
    } catch (error) {
      // The session ended (expired, forgotten, or a store that was lost): log in as at first.
      if (!(withSession && error instanceof RelayError && error.code === "auth_failed"))
        throw error;
      this.#session = undefined;
      return await this.#send(link, this.#loginCommand());
    }
  }

  #loginCommand(): CommandOf<"login"> {
    const { name, password, token } = this.#options;
    const session = this.#session;
    return {
      type: "login",
      name,
      ...(session !== undefined ? { session } : { password, token }),
      ...(this.#since !== undefined && { since: this.#since }),
    };
  }

  #welcomed(link: Link, welcome: Welcome): void {
    link.loggedIn = true;
    this.#everOpen = true;
    this.#name = welcome.name;
    if (welcome.session !== undefined) this.#session = welcome.session;
    this.#startHeartbeat(link);
    const backlog = this.#backlog;
    this.#backlog = [];
    for (const waiting of backlog) this.#transmit(link, waiting);
    this.#baseline(link, ["*", ...welcome.rooms]);
    this.emit("open", welcome);
  }

  /**
   * Until a message id was seen there is nothing to resume from: take the newest id of
   * these conversations (`*` and rooms), so that a drop before the first message loses
   * none of what follows. Asks at most {@link BASELINE_MAX} of them, once an id is known never.
   */
  #baseline(link: Link, conversations: string[]): void {
    if (this.#since !== undefined) return;
    for (const conversation of conversations.slice(0, BASELINE_MAX)) {
      this.#send<HistoryReply>(link, { type: "history", with: conversation, limit: 1 }).then(
        (page) => {
          const newest = page.messages.at(-1);
          if (newest !== undefined) this.#saw(newest.id);
        },
        () => {},
      );
    }
  }

  /** Sends a command of the client's own (login, ping, quit) on `link`, logged in or not. */
  #send<R extends Reply>(link: Link, command: object): Promise<R> {
    return new Promise<Reply>((resolve, reject) => {
      this.#transmit(link, { command, resolve, reject });
    }) as Promise<R>;
  }

  #transmit(link: Link, waiting: Waiting): void {
    const id = `c${++this.#seq}`;
    this.#inflight.set(id, waiting);
    link.conn?.send(JSON.stringify({ ...waiting.command, id }));
  }

  #frame(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (
      typeof msg !== "object" ||
      msg === null ||
      typeof (msg as { type?: unknown }).type !== "string"
    ) {
      return;
    }
    this.#heard = true;
    // Replies carry `re`; events never do (docs/protocol.md §5).
    if ("re" in msg) this.#reply(msg as Reply);
    else this.#event(msg as ServerEvent);
  }

  #reply(reply: Reply): void {
    // Replies come in order: one whose frame the server could not read (`re` null)
    // answers the oldest request.
    const id = reply.re === null ? this.#inflight.keys().next().value : reply.re;
    const waiting = id === undefined ? undefined : this.#inflight.get(id);
    if (id === undefined || waiting === undefined) return;
    this.#inflight.delete(id);
    if (reply.type === "ok" && reply.id !== undefined) {
      this.#saw(reply.id);
      this.#recent.add(reply.id);
    }
    if (reply.type === "bye") this.#bye = reply.reason;
    if (reply.type === "ok" && reply.users !== undefined && reply.room !== undefined) {
      const link = this.#link;
      if (link !== null) this.#baseline(link, [reply.room]);
    }
    if (reply.type === "error") waiting.reject(new RelayError(reply.code, reply.message));
    else waiting.resolve(reply);
  }

  #event(event: ServerEvent): void {
    switch (event.type) {
      case "message":
        if (typeof event.id !== "string" || this.#recent.has(event.id)) return;
        this.#recent.add(event.id);
        this.#saw(event.id);
        return this.emit("message", event);
      case "presence":
        return this.emit("presence", event);
      case "joined":
        return this.emit("joined", event);
      case "left":
        return this.emit("left", event);
      case "announce":
        return this.emit("announce", event);
      case "bye":
        this.#bye = event.reason;
        if (FINAL_BYES.has(event.reason)) {
          this.#stop(closedError(`the server ended the session: ${event.reason}`));
        }
        return this.emit("bye", event);
    }
  }

  #saw(id: string): void {
    if (this.#since === undefined || id > this.#since) this.#since = id;
  }

  /** The current connection ended (the peer closed it, or the client dropped it). */
  #ended(link: Link): void {
    this.#link = null;
    clearInterval(this.#heartbeat);
    const lost = [...this.#inflight.values()];
    this.#inflight.clear();
    for (const waiting of lost) {
      waiting.reject(new RelayError("connection_lost", "the connection ended before the reply"));
    }
    // An attempt that had not logged in yet fails through its login's rejection.
    if (!link.loggedIn) return;
    const reason = this.#bye;
    if (this.#stopped || this.#reconnect === null) {
      this.#stop(closedError("the connection ended"));
      return this.#finish({ reason });
    }
    this.emit("close", { reconnect: true, ...(reason !== undefined && { reason }) });
    void this.#reconnectLoop(this.#reconnect);
  }

  async #reconnectLoop(options: Required<ReconnectOptions>): Promise<void> {
    let error: Error | undefined;
    for (let attempt = 0; !this.#stopped; attempt++) {
      if (attempt >= options.maxAttempts) {
        const cause = error;
        return this.#giveUp(
          new RelayError("connect_failed", `gave up after ${attempt} attempts to reconnect`, {
            cause,
          }),
        );
      }
      const delayMs = backoffDelay(attempt, options);
      this.emit("reconnecting", { attempt: attempt + 1, delayMs, ...(error && { error }) });
      await this.#sleep(delayMs);
      if (this.#stopped) return;
      try {
        await this.#attempt();
        return;
      } catch (e) {
        error = e instanceof Error ? e : new Error(String(e));
        if (this.#stopped) return;
        if (e instanceof RelayError && FATAL_LOGIN.has(e.code)) return this.#giveUp(e);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.#sleeping = null;
        resolve();
      };
      this.#sleeping = { timer: setTimeout(wake, ms), wake };
    });
  }

  #giveUp(error: Error): void {
    this.#stop(error);
    this.#finish({ error });
  }

  /** No more connections: requests waiting for one fail; timers stop. */
  #stop(cause: Error): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    if (this.#sleeping) {
      clearTimeout(this.#sleeping.timer);
      this.#sleeping.wake();
    }
    const backlog = this.#backlog;
    this.#backlog = [];
    const error =
      cause instanceof RelayError && cause.code === "closed"
        ? cause
        : closedError(`the client stopped: ${cause.message}`, cause);
    for (const waiting of backlog) waiting.reject(error);
  }

  /** The client is done for good: says so once, if it ever was logged in. */
  #finish(info: { reason?: RelayClientEvents["close"]["reason"]; error?: Error }): void {
    if (this.#finished || !this.#everOpen) return;
    this.#finished = true;
    this.emit("close", {
      reconnect: false,
      ...(info.reason !== undefined && { reason: info.reason }),
      ...(info.error !== undefined && { error: info.error }),
    });
  }

  #drop(link: Link): void {
    link.conn?.close();
    link.ended = true;
    if (this.#link === link) this.#ended(link);
  }

  #startHeartbeat(link: Link): void {
    if (this.#heartbeatMs <= 0) return;
    clearInterval(this.#heartbeat);
    let pinging = false;
    this.#heard = true;
    this.#heartbeat = setInterval(() => {
      if (this.#link !== link) return;
      // A ping out for a whole period and not a frame since: the connection is dead.
      if (pinging && !this.#heard) return this.#drop(link);
      this.#heard = false;
      if (pinging) return;
      pinging = true;
      this.#send(link, { type: "ping" }).then(
        () => {
          pinging = false;
        },
        () => {},
      );
    }, this.#heartbeatMs);
  }

  async #shutdown(options: CloseOptions): Promise<void> {
    const link = this.#link;
    this.#stop(closedError("the client was closed"));
    if (link?.loggedIn && !link.ended) {
      const quit = this.#send(link, {
        type: "quit",
        ...(options.reason !== undefined && { reason: options.reason }),
        ...(options.forget && { forget: true }),
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      });
      await Promise.race([quit.catch(() => {}), late]);
      clearTimeout(timer);
    }
    if (options.forget) this.#session = undefined;
    if (link !== null) this.#drop(link);
    this.#finish({});
  }
}

function closedError(message: string, cause?: Error): RelayError {
  return new RelayError("closed", message, cause ? { cause } : undefined);
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
