import {
  type AuthResult,
  type ConnId,
  type Effect,
  type ErrorCode,
  type Input,
  Relay,
  type ServerMessage,
  type Transport,
} from "../core/mod.ts";
import {
  type Decoded,
  decodeJson,
  decodeText,
  decodeUtf8,
  encodeJson,
  encodeText,
  LineFramer,
  type RawFrame,
  utf8Length,
} from "../protocol/mod.ts";
import { type AuthMode, authenticate } from "./auth.ts";
import { type Bus, type BusMessage, LocalBus } from "./bus/bus.ts";
import type { RelayConfig } from "./config.ts";
import { Counters } from "./counters.ts";
import { Outbox } from "./outbox.ts";
import { CommandLimit } from "./rate.ts";
import type { Store } from "./store/store.ts";

/**
 * One client connection as an adapter sees it: somewhere to write text, and a way to
 * close. `framing` says whether a frame is a line of a byte stream (TCP) or one message
 * (WebSocket).
 */
export interface Link {
  readonly transport: Transport;
  readonly remote: string;
  readonly framing: "line" | "message";
  /** Queues data for the peer: a run of encoded lines, or one text message. */
  write(data: string | Uint8Array): void;
  /** Bytes queued for the peer and not yet taken by it. */
  unsent(): number;
  /** Sends what is queued, then closes. */
  close(): void;
  /**
   * Writes several text frames (message framing), given as UTF-8 bytes, in one go, where
   * the runtime can; the host then hands over bytes instead of strings.
   */
  writeFrames?(frames: Uint8Array[]): void;
}

/** The part of the configuration the host uses. */
export type HostConfig = Pick<
  RelayConfig,
  | "presence"
  | "rateLimit"
  | "maxFrameBytes"
  | "maxQueued"
  | "maxOutboxBytes"
  | "maxConnections"
  | "loginTimeoutMs"
  | "leaseMs"
>;

/** What an operator sees of one connection. */
export interface SessionInfo {
  name: string | null;
  transport: Transport;
  remote: string;
  connectedAt: string;
  rooms: string[];
  unsentBytes: number;
}

/** The host's collaborators. */
export interface HostDeps {
  store: Store;
  auth: AuthMode;
  /** How this node reaches the others of its cluster; a lone node's by default. */
  bus?: Bus;
  /** Milliseconds since the epoch; `Date.now` unless a test sets the time. */
  clock?: () => number;
  /** Where the host reports what it cannot answer to a client (store failures). */
  log?: (line: string) => void;
  /**
   * Runs the flush of the outboxes soon: after every connection with bytes waiting has been
   * read, so that one write carries all that a connection is sent meanwhile. Node passes
   * `setImmediate`; the default is `setTimeout(…, 0)`.
   */
  schedule?: (flush: () => void) => void;
}

/**
 * The imperative shell around the relay core, shared by every adapter: it decodes frames,
 * limits rates and time to log in, runs the core's effects (bounded outboxes, the store,
 * password checks) and feeds their results back.
 */
export class Host {
  readonly relay: Relay;
  readonly counters = new Counters();
  readonly #config: HostConfig;
  readonly #store: Store;
  readonly #bus: Bus;
  /** The other nodes heard from, and when they were last heard. */
  readonly #peers = new Map<string, number>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  /** While starting: the nodes whose state has come, out of how many are listening. */
  #learning: { waiting: Set<string>; expected: number; done: () => void } | null = null;
  readonly #auth: AuthMode;
  readonly #clock: () => number;
  readonly #log: (line: string) => void;
  readonly #conns = new Map<ConnId, Connection>();
  #dirty: Connection[] = [];
  #flushPending = false;
  readonly #schedule: (flush: () => void) => void;
  readonly #flushNow = () => {
    this.#flushPending = false;
    this.flush();
  };
  #nextConn = 1;
  #stopping = false;

  constructor(config: HostConfig, deps: HostDeps) {
    this.#config = config;
    this.#store = deps.store;
    this.#bus = deps.bus ?? new LocalBus();
    this.#auth = deps.auth;
    this.#clock = deps.clock ?? Date.now;
    this.#log = deps.log ?? ((line) => console.error(line));
    this.#schedule = deps.schedule ?? ((flush) => setTimeout(flush, 0));
    this.relay = new Relay({
      presence: config.presence,
      node: this.#bus.node,
      clustered: this.#bus.clustered,
    });
  }

  /**
   * Joins the cluster (nothing to do for a lone node): takes this node's lease, listens to
   * the others, asks them what they hold, and from then on renews the lease and watches
   * for nodes that fall silent.
   */
  async start(): Promise<void> {
    if (!this.#bus.clustered) return;
    const { leaseMs } = this.#config;
    await this.#bus.renew(leaseMs);
    await this.#bus.start(
      (message) => this.#heard(message),
      () => this.input({ type: "sync", now: this.#clock() }),
    );
    this.#heartbeat = setInterval(() => this.#beat(), Math.max(50, Math.floor(leaseMs / 3)));
    // Before taking users, learn who is online elsewhere: wait for the others' states.
    const others = await this.#bus.peers();
    const learnt = new Promise<void>((resolve) => {
      this.#learning = { waiting: new Set(), expected: others, done: resolve };
      if (others === 0) resolve();
    });
    this.input({ type: "sync", now: this.#clock() });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([learnt, new Promise((r) => (timer = setTimeout(r, SYNC_WAIT_MS)))]);
    clearTimeout(timer);
    this.#learning = null;
  }

  #beat(): void {
    const now = this.#clock();
    this.#bus.renew(this.#config.leaseMs).catch((e) => this.#failed("lease renewal", e));
    this.#bus.publish({ kind: "alive", node: this.#bus.node });
    for (const [node, seen] of this.#peers) {
      if (now - seen <= this.#config.leaseMs) continue;
      this.#peers.delete(node);
      this.input({ type: "nodeDown", node, now });
    }
  }

  /** What another node published. */
  #heard(message: BusMessage): void {
    if (this.#stopping) return;
    const known = this.#peers.has(message.node);
    this.#peers.set(message.node, this.#clock());
    // A node met for the first time mid-stream: ask it for what it holds.
    if (!known && message.kind !== "hello" && message.kind !== "state") {
      this.#bus.publish({ kind: "hello", node: this.#bus.node }, message.node);
    }
    if (message.kind === "down") this.#peers.delete(message.node);
    if (message.kind === "alive") return;
    if (message.kind === "state" && this.#learning) {
      const { waiting, expected, done } = this.#learning;
      waiting.add(message.node);
      if (waiting.size >= expected) done();
    }
    this.#run(this.relay.handle({ type: "bus", event: message, now: this.#clock() }));
    this.requestFlush();
  }

  /**
   * Takes a new connection. Returns null, after telling the peer why and closing the link,
   * when the server is full or stopping.
   */
  connect(link: Link): Connection | null {
    const refusal: [ErrorCode, string] | null = this.#stopping
      ? ["shutting_down", "the server is shutting down"]
      : this.#conns.size >= this.#config.maxConnections
        ? ["server_full", "the server is full; try again later"]
        : null;
    if (refusal) {
      this.counters.error(refusal[0]);
      link.write(`! ${refusal[0]}: ${refusal[1]}${link.framing === "line" ? "\n" : ""}`);
      link.close();
      return null;
    }
    const conn = new Connection(this, this.#nextConn++, link, this.#config, this.#clock());
    this.#conns.set(conn.id, conn);
    this.counters.opened(link.transport);
    this.relay.handle({ type: "open", conn: conn.id });
    conn.timer = setTimeout(() => {
      if (!this.relay.isLoggedIn(conn.id))
        this.input({ type: "evict", conn: conn.id, reason: "login_timeout" });
    }, this.#config.loginTimeoutMs);
    return conn;
  }

  /** Sends an operator announcement to everyone online. */
  announce(text: string): void {
    this.input({ type: "announce", text, now: this.#clock() });
  }

  /** Disconnects a user with `bye kicked`; false when nobody of that name is online. */
  kick(name: string): boolean {
    if (!this.relay.isOnline(name)) return false;
    this.input({ type: "kick", name, now: this.#clock() });
    return true;
  }

  /** Says `bye shutdown` to everyone, refuses new connections, and closes the store. */
  async shutdown(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    clearInterval(this.#heartbeat);
    this.input({ type: "shutdown", now: this.#clock() });
    await this.#bus.close();
    await this.#store.close();
  }

  /** Every connection, for operators. */
  sessions(): SessionInfo[] {
    return [...this.#conns.values()].map((c) => {
      const view = this.relay.view(c.id);
      return {
        name: view?.name ?? null,
        transport: c.link.transport,
        remote: c.link.remote,
        connectedAt: new Date(c.connectedAt).toISOString(),
        rooms: view?.rooms ?? [],
        unsentBytes: c.link.unsent() + c.out.size,
      };
    });
  }

  /** How many messages wait in the store, for metrics. */
  heldCount(): Promise<number> {
    return this.#store.heldCount();
  }

  /** Feeds the core one input, runs its effects, and flushes the outboxes. */
  input(input: Input): void {
    this.#run(this.relay.handle(input));
    this.flush();
  }

  /** The time now, for connections. */
  now(): number {
    return this.#clock();
  }

  /** A decoded frame from a connection, handed to the core (no flush: see `flush`). */
  frame(conn: Connection, decoded: Decoded): void {
    const input: Input = decoded.ok
      ? {
          type: "command",
          conn: conn.id,
          command: decoded.command,
          re: decoded.re,
          now: this.#clock(),
        }
      : { type: "refuse", conn: conn.id, error: decoded.error, re: decoded.re };
    this.#run(this.relay.handle(input));
  }

  /** A connection's link went away. */
  gone(conn: Connection): void {
    if (!this.#conns.delete(conn.id)) return;
    conn.stopTimer();
    this.counters.closed(conn.link.transport);
    this.input({ type: "close", conn: conn.id, now: this.#clock() });
  }

  /** Asks for a flush soon (see `HostDeps.schedule`). */
  requestFlush(): void {
    if (this.#flushPending) return;
    this.#flushPending = true;
    this.#schedule(this.#flushNow);
  }

  /** Writes out everything queued for connections since the last flush. */
  flush(): void {
    while (this.#dirty.length > 0) {
      const dirty = this.#dirty;
      this.#dirty = [];
      for (const conn of dirty) {
        conn.queued = false;
        if (conn.out.size === 0 || conn.closing) continue;
        if (conn.link.unsent() + conn.out.size > this.#config.maxOutboxBytes) {
          this.#overflow(conn);
        } else {
          this.#writeOut(conn);
        }
      }
    }
  }

  /** Hands a connection's outbox to its link: one write of lines, or its frames together. */
  #writeOut(conn: Connection): void {
    const { link } = conn;
    if (link.writeFrames && conn.out.framing === "message") {
      link.writeFrames(conn.out.takeFrames() as Uint8Array[]);
    } else {
      conn.out.drain((data) => link.write(data));
    }
  }

  /** A reader too slow for what it is sent: drop what waits, say why if it fits, close. */
  #overflow(conn: Connection): void {
    conn.out.clear();
    conn.overflowed = true;
    this.#run(this.relay.handle({ type: "evict", conn: conn.id, reason: "slow_consumer" }));
  }

  #run(effects: Effect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case "send": {
          const conn = this.#conns.get(effect.conn);
          if (conn) this.#deliver(conn, effect.msg, new Encoded(effect.msg), false);
          break;
        }
        case "fanout": {
          const encoded = new Encoded(effect.msg);
          for (const id of effect.conns) {
            const conn = this.#conns.get(id);
            if (conn) this.#deliver(conn, effect.msg, encoded, true);
          }
          break;
        }
        case "close": {
          const conn = this.#conns.get(effect.conn);
          if (conn) this.#close(conn);
          break;
        }
        case "authenticate":
          this.#await(
            this.#login(effect),
            ({ result, name }) => ({
              type: "authenticated",
              conn: effect.conn,
              key: effect.key,
              result,
              ...(name !== undefined && { name }),
              now: this.#clock(),
            }),
            { result: "unavailable" as const },
          );
          break;
        case "loadQueue":
          // The connection is logging in: its login timer has done its job.
          this.#conns.get(effect.conn)?.stopTimer();
          this.#await(
            this.#store.held(effect.key),
            (messages) => ({
              type: "queueLoaded",
              conn: effect.conn,
              messages,
              now: this.#clock(),
            }),
            [],
          );
          break;
        case "hold":
          this.#await(
            this.#store.hold(effect.key, effect.message, this.#config.maxQueued),
            (result) => {
              if (result === "held") this.counters.held++;
              return { type: "held", conn: effect.conn, result, now: this.#clock() };
            },
            "unavailable" as const,
          );
          break;
        case "lookupUser":
          this.#await(
            this.#store.known(effect.key),
            (known) => ({ type: "userLooked", conn: effect.conn, known, now: this.#clock() }),
            false,
          );
          break;
        case "dropQueued":
          this.#store.drop(effect.key, effect.ids).catch((e) => this.#failed("drop", e));
          break;
        case "keep":
          this.#store
            .hold(effect.key, effect.message, this.#config.maxQueued)
            .then((result) => {
              if (result === "held") this.counters.held++;
              else this.#log(`relay: a message for ${effect.message.to} was lost: ${result}`);
            })
            .catch((e) => this.#failed("hold", e));
          break;
        case "publish":
          this.#bus.publish(effect.event, effect.node);
          break;
        case "handOver": {
          const { conn, node, key, event } = effect;
          // A node that does not take the message (gone, or cut from the bus): the store does.
          const handed = this.#bus
            .publish(event, node)
            .then((sent) =>
              sent
                ? ("sent" as const)
                : this.#store.hold(key, event.message, this.#config.maxQueued),
            );
          this.#await(
            handed,
            (result) => {
              if (result === "held") this.counters.held++;
              return { type: "handedOver", conn, result, now: this.#clock() };
            },
            "unavailable" as const,
          );
          break;
        }
        case "recheckHeld":
          this.#await(
            this.#store.held(effect.key),
            (messages) => ({ type: "heldFound", key: effect.key, messages, now: this.#clock() }),
            [],
          );
          break;
        case "release":
          this.#bus.release(effect.key).catch((e) => this.#failed("release", e));
          break;
      }
    }
  }

  /** Checks a login's credentials and, when they pass, remembers the name. */
  async #login(
    effect: Extract<Effect, { type: "authenticate" }>,
  ): Promise<{ result: AuthResult; name?: string }> {
    // As for a name online here: without a password or token, a name online on another
    // node is taken, whatever the store would say of the credentials.
    const proof = effect.password !== undefined || effect.token !== undefined;
    if (!proof && (await this.#bus.heldElsewhere(effect.key))) return { result: "taken" };
    const result = await authenticate(effect, this.#auth, this.#store);
    if (result === "auth_failed") return { result };
    if (!(await this.#bus.claim(effect.key, result === "verified"))) return { result: "taken" };
    return { result, name: await this.#store.remember(effect.key, effect.name) };
  }

  /** Runs a store or crypto call; its result (or `fallback` if it fails) goes to the core. */
  #await<T>(work: Promise<T>, next: (result: T) => Input, fallback: T): void {
    work
      .catch((e: unknown) => {
        this.#failed("store", e);
        return fallback;
      })
      .then((result) => this.input(next(result)));
  }

  #failed(what: string, e: unknown): void {
    this.#log(`relay: ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
  }

  /** Queues a message for a connection; `shared`: the same message goes to many. */
  #deliver(conn: Connection, msg: ServerMessage, encoded: Encoded, shared: boolean): void {
    if (conn.closing) return;
    if (msg.type === "message") this.counters.delivered++;
    else if (msg.type === "error") this.counters.error(msg.code);
    const json = conn.mode === "json";
    if (conn.link.framing === "line") {
      // Bytes encoded once for many recipients; a string for one, encoded with the rest.
      const line = shared
        ? json
          ? encoded.jsonLine()
          : encoded.textLine()
        : json
          ? `${encoded.json()}\n`
          : encoded.textLines();
      if (line === null) return;
      conn.out.addLine(line);
    } else if (conn.link.writeFrames) {
      const frame = json ? encoded.jsonFrame() : encoded.textFrame();
      if (frame === null) return;
      conn.out.addFrame(frame);
    } else {
      const frame = json ? encoded.json() : encoded.text();
      if (frame === null) return;
      conn.out.addFrame(frame);
    }
    if (!conn.queued) {
      conn.queued = true;
      this.#dirty.push(conn);
    }
  }

  #close(conn: Connection): void {
    if (conn.closing) return;
    // What is queued goes out first (the bye among it), unless the reader is too slow for it.
    if (!conn.overflowed || conn.link.unsent() + conn.out.size <= this.#config.maxOutboxBytes) {
      this.#writeOut(conn);
    }
    conn.out.clear();
    conn.closing = true;
    conn.link.close();
  }
}

/** A server message, encoded at most once per encoding however many receive it. */
class Encoded {
  readonly #msg: ServerMessage;
  #json: string | undefined;
  #text: string | null | undefined;
  #jsonLine: Uint8Array | undefined;
  #textLine: Uint8Array | null | undefined;
  #jsonFrame: Uint8Array | undefined;
  #textFrame: Uint8Array | null | undefined;

  constructor(msg: ServerMessage) {
    this.#msg = msg;
  }

  json(): string {
    if (this.#json === undefined) this.#json = encodeJson(this.#msg);
    return this.#json;
  }

  text(): string | null {
    if (this.#text === undefined) this.#text = encodeText(this.#msg);
    return this.#text;
  }

  /** The JSON form as a UTF-8 line; the same bytes go to every recipient. */
  jsonLine(): Uint8Array {
    if (this.#jsonLine === undefined) this.#jsonLine = utf8.encode(`${this.json()}\n`);
    return this.#jsonLine;
  }

  /** The JSON form's UTF-8 bytes without the line ending: one WebSocket frame for all. */
  jsonFrame(): Uint8Array {
    if (this.#jsonFrame === undefined) {
      const line = this.jsonLine();
      this.#jsonFrame = line.subarray(0, line.length - 1);
    }
    return this.#jsonFrame;
  }

  /** The text form's UTF-8 bytes without the last line ending, or null (see `textLine`). */
  textFrame(): Uint8Array | null {
    if (this.#textFrame === undefined) {
      const line = this.textLine();
      this.#textFrame = line === null ? null : line.subarray(0, line.length - 1);
    }
    return this.#textFrame;
  }

  /** The text form with its line ending, or null when there is nothing to print. */
  textLines(): string | null {
    const text = this.text();
    return text === null ? null : `${text}\n`;
  }

  /** The text form as UTF-8 lines, or null when there is nothing to print. */
  textLine(): Uint8Array | null {
    if (this.#textLine === undefined) {
      const text = this.text();
      this.#textLine = text === null ? null : utf8.encode(`${text}\n`);
    }
    return this.#textLine;
  }
}

const utf8 = new TextEncoder();

/** How long a starting node waits at most for the others to say what they hold. */
const SYNC_WAIT_MS = 2000;

/** One client connection inside the host: its mode, framing, limits and outbox. */
export class Connection {
  readonly id: ConnId;
  readonly link: Link;
  readonly connectedAt: number;
  /** Fixed by the first non-empty frame; null until then. */
  mode: "json" | "text" | null = null;
  /** What waits to be written at the next flush. */
  readonly out: Outbox;
  queued = false;
  closing = false;
  overflowed = false;
  timer: ReturnType<typeof setTimeout> | undefined;

  /** Clears the login timer, and lets go of it. */
  stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
  readonly #host: Host;
  readonly #framer: LineFramer;
  readonly #limit: CommandLimit | null;
  readonly #maxFrameBytes: number;

  constructor(host: Host, id: ConnId, link: Link, config: HostConfig, now: number) {
    this.#host = host;
    this.id = id;
    this.link = link;
    this.connectedAt = now;
    this.out = new Outbox(link.framing);
    this.#maxFrameBytes = config.maxFrameBytes;
    this.#framer = new LineFramer(config.maxFrameBytes);
    this.#limit = config.rateLimit > 0 ? new CommandLimit(config.rateLimit, now) : null;
  }

  /** Bytes from a byte stream (TCP): cut into lines, each handled as a frame. */
  receiveBytes(chunk: Uint8Array): void {
    this.#framer.push(chunk, (frame) => this.#rawFrame(frame));
    this.#host.requestFlush();
  }

  /** One text message (WebSocket). */
  receiveText(text: string): void {
    if (text.length * 3 > this.#maxFrameBytes && utf8Length(text) > this.#maxFrameBytes) {
      this.#refuse("too_long", `a frame is at most ${this.#maxFrameBytes} bytes`);
    } else {
      this.#text(text);
    }
    this.#host.requestFlush();
  }

  /** One text message (WebSocket) as the bytes that came, which may not be UTF-8. */
  receiveTextBytes(bytes: Uint8Array): void {
    if (bytes.length > this.#maxFrameBytes) {
      this.#refuse("too_long", `a frame is at most ${this.#maxFrameBytes} bytes`);
    } else {
      const text = decodeUtf8(bytes);
      if (text === null) this.#refuse("bad_utf8", "the message is not valid UTF-8");
      else this.#text(text);
    }
    this.#host.requestFlush();
  }

  /** One binary message (WebSocket): never a frame of this protocol. */
  receiveBinary(): void {
    this.#refuse("bad_frame", "frames are text: send UTF-8 text messages");
    this.#host.requestFlush();
  }

  /** The transport closed, whoever closed it. */
  closed(): void {
    this.#host.gone(this);
  }

  #rawFrame(frame: RawFrame): void {
    if (this.closing) return;
    if (frame === null) {
      return this.#refuse("too_long", `a line is at most ${this.#maxFrameBytes} bytes`);
    }
    const text = decodeUtf8(frame);
    if (text === null) return this.#refuse("bad_utf8", "the line is not valid UTF-8");
    this.#text(text);
  }

  #text(text: string): void {
    if (this.closing || text.trim() === "") return;
    if (this.mode === null) this.mode = text.trimStart().startsWith("{") ? "json" : "text";
    const decoded =
      this.mode === "json"
        ? decodeJson(text)
        : decodeText(text, this.#host.relay.isLoggedIn(this.id));
    const verdict = this.#limit?.check(this.#host.now()) ?? "pass";
    if (verdict === "flood") {
      this.#host.input({ type: "evict", conn: this.id, reason: "flood" });
    } else if (verdict === "limited") {
      this.#host.frame(this, {
        ok: false,
        error: { code: "rate_limited", message: "too many commands; slow down" },
        re: decoded.re,
      });
    } else {
      this.#host.frame(this, decoded);
    }
  }

  #refuse(code: ErrorCode, message: string): void {
    if (this.closing) return;
    this.#host.frame(this, { ok: false, error: { code, message }, re: null });
  }
}
