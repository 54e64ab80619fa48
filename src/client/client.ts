import type { Reply, Event as ServerEvent } from "../core/types.ts";
import { RECONNECT_DEFAULTS, type ReconnectOptions } from "./backoff.ts";
import { RelayError } from "./errors.ts";
import { RelayEvents } from "./events.ts";
import { Heartbeat } from "./heartbeat.ts";
import { type HistoryOptions, historyMessages, historyPages } from "./history.ts";
import { readFrame } from "./incoming.ts";
import { type Link, openLink } from "./link.ts";
import { logIn, logOut } from "./login.ts";
import type { CloseOptions, RelayClientOptions } from "./options.ts";
import { Reconnector } from "./reconnect.ts";
import { Requests, type Waiting } from "./requests.ts";
import { ResumePoint } from "./resume.ts";
import type { Transport } from "./transport.ts";
import type {
  ChatMessage,
  ClientCommand,
  CommandOf,
  HistoryReply,
  RelayClientEvents,
  ReplyFor,
  Welcome,
  WhoReply,
} from "./types.ts";
import { webSocketTransport } from "./websocket.ts";
import { type WhoOptions, whoNames, whoPages } from "./who.ts";

// The server ended the session on purpose: coming back would fight the operator or the user.
const FINAL_BYES = new Set(["kicked", "replaced"]);

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
  readonly #requests: Requests;
  readonly #heartbeat: Heartbeat;
  readonly #reconnector = new Reconnector();
  readonly #resume: ResumePoint;
  #link: Link | null = null;
  #name: string;
  #session: string | undefined;
  #connecting: Promise<Welcome> | null = null;
  #closing: Promise<void> | null = null;
  #stopped = false;
  #everOpen = false;
  #finished = false;
  #bye: RelayClientEvents["bye"]["reason"] | undefined;

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
    this.#requests = new Requests(options.maxBacklog ?? 100);
    this.#heartbeat = new Heartbeat(options.heartbeatMs ?? 30_000);
    this.#name = options.name;
    this.#session = options.session;
    this.#resume = new ResumePoint(options.since);
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
    return this.#resume.since;
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
      const refused = this.#requests.hold(waiting);
      if (refused !== null) reject(refused);
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

  /**
   * The names of who is online, or with `room` of that room's members online, in the
   * server's name order, fetched 1000 a page with `after` until the last page. Leaving the
   * loop early stops asking.
   *
   * @example
   * for await (const name of client.who({ room: "#dev" })) console.log(name);
   */
  who(options: WhoOptions = {}): AsyncGenerator<string, void> {
    return whoNames(this.#whoRequest, options);
  }

  /**
   * The pages of who is online (see {@link who}); each says `online`, how many in all.
   *
   * @example
   * const first = await client.whoPages().next();
   * if (!first.done) console.log(`${first.value.users.length} of ${first.value.online} online`);
   */
  whoPages(options: WhoOptions = {}): AsyncGenerator<WhoReply, void> {
    return whoPages(this.#whoRequest, options);
  }

  readonly #historyRequest = (command: CommandOf<"history">) => this.request(command);
  readonly #whoRequest = (command: CommandOf<"who">) => this.request(command);

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
    const link = await openLink(this.#transport, {
      frame: (link, text) => {
        if (this.#link === link) this.#frame(text);
      },
      closed: (link) => {
        if (this.#link === link) this.#ended(link);
      },
    });
    if (this.#stopped || link.ended) {
      link.conn?.close();
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

  /** Logs in on `link` (see {@link logIn}). */
  #logIn(link: Link): Promise<Welcome> {
    const { name, password, token } = this.#options;
    return logIn(
      (command) => this.#send<Welcome>(link, command),
      { name, password, token, session: this.#session, since: this.#resume.since },
      () => {
        this.#session = undefined;
      },
    );
  }

  #welcomed(link: Link, welcome: Welcome): void {
    link.loggedIn = true;
    this.#everOpen = true;
    this.#name = welcome.name;
    if (welcome.session !== undefined) this.#session = welcome.session;
    this.#heartbeat.start({
      current: () => this.#link === link,
      ping: () => this.#send(link, { type: "ping" }),
      dead: () => this.#drop(link),
    });
    for (const waiting of this.#requests.takeBacklog()) this.#transmit(link, waiting);
    this.#baseline(link, ["*", ...welcome.rooms]);
    this.emit("open", welcome);
  }

  /** Takes a resume point from `conversations` while none is known (see {@link ResumePoint}). */
  #baseline(link: Link, conversations: string[]): void {
    this.#resume.baseline((command) => this.#send<HistoryReply>(link, command), conversations);
  }

  /** Sends a command of the client's own (login, ping, quit) on `link`, logged in or not. */
  #send<R extends Reply>(link: Link, command: object): Promise<R> {
    return new Promise<Reply>((resolve, reject) => {
      this.#transmit(link, { command, resolve, reject });
    }) as Promise<R>;
  }

  #transmit(link: Link, waiting: Waiting): void {
    this.#requests.transmit(link.conn, waiting);
  }

  #frame(text: string): void {
    const incoming = readFrame(text);
    if (incoming === null) return;
    this.#heartbeat.heard();
    if ("reply" in incoming) this.#reply(incoming.reply);
    else this.#event(incoming.event);
  }

  #reply(reply: Reply): void {
    const waiting = this.#requests.answered(reply.re);
    if (waiting === undefined) return;
    if (reply.type === "ok" && reply.id !== undefined) this.#resume.sent(reply.id);
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
        if (typeof event.id !== "string" || !this.#resume.fresh(event.id)) return;
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

  /** The current connection ended (the peer closed it, or the client dropped it). */
  #ended(link: Link): void {
    this.#link = null;
    this.#heartbeat.stop();
    this.#requests.failInflight();
    // An attempt that had not logged in yet fails through its login's rejection.
    if (!link.loggedIn) return;
    const reason = this.#bye;
    if (this.#stopped || this.#reconnect === null) {
      this.#stop(closedError("the connection ended"));
      return this.#finish({ reason });
    }
    this.emit("close", { reconnect: true, ...(reason !== undefined && { reason }) });
    void this.#reconnector.run(this.#reconnect, {
      stopped: () => this.#stopped,
      attempt: () => this.#attempt(),
      reconnecting: (info) => this.emit("reconnecting", info),
      giveUp: (error) => this.#giveUp(error),
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
    this.#heartbeat.stop();
    this.#reconnector.wake();
    this.#requests.failBacklog(
      cause instanceof RelayError && cause.code === "closed"
        ? cause
        : closedError(`the client stopped: ${cause.message}`, cause),
    );
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

  async #shutdown(options: CloseOptions): Promise<void> {
    const link = this.#link;
    this.#stop(closedError("the client was closed"));
    if (link?.loggedIn && !link.ended) {
      await logOut((command) => this.#send(link, command), options);
    }
    if (options.forget) this.#session = undefined;
    if (link !== null) this.#drop(link);
    this.#finish({});
  }
}

function closedError(message: string, cause?: Error): RelayError {
  return new RelayError("closed", message, cause ? { cause } : undefined);
}
