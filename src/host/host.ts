import {
  type AuthResult,
  type ChatMessage,
  type ConnId,
  type Effect,
  type ErrorCode,
  type Input,
  Relay,
  type ServerMessage,
  type Transport,
} from "../core/mod.ts";
import type { Decoded } from "../protocol/mod.ts";
import { type AuthMode, authenticate } from "./auth.ts";
import { type Bus, type BusMessage, LocalBus } from "./bus/bus.ts";
import type { RelayConfig } from "./config.ts";
import { Connection } from "./connection.ts";
import { Counters } from "./counters.ts";
import { Encoded } from "./encoded.ts";
import { LogWriter } from "./log-writer.ts";
import { newSecret, secretHash } from "./secrets.ts";
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
  | "history"
  | "resumeMax"
  | "sessionDays"
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
  /** Null when the log is off (`RELAY_HISTORY=0`). */
  readonly #writer: LogWriter | null;

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
      log: config.history > 0,
      maxHistoryBytes: Math.floor(config.maxOutboxBytes / 2),
    });
    this.#writer =
      config.history > 0
        ? new LogWriter(
            (entries) => this.#store.append(entries, config.history),
            (effects, failed) => this.#release(effects, failed),
            this.#schedule,
          )
        : null;
  }

  /**
   * Reads the rooms and their members from the store, then joins the cluster (nothing to
   * do for a lone node): takes this node's lease, listens to
   * the others, asks them what they hold, and from then on renews the lease and watches
   * for nodes that fall silent.
   */
  async start(): Promise<void> {
    this.input({ type: "memberships", rooms: await this.#store.memberships() });
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
    conn.written += conn.out.size;
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

  /** Runs effects in order; behind messages not yet in the log, they wait for it. */
  #run(effects: Effect[]): void {
    const writer = this.#writer;
    for (const effect of effects) {
      if (effect.type === "append") writer?.add(effect.entry);
      else if (writer?.holding) writer.hold(effect);
      else this.#exec(effect);
    }
  }

  /**
   * Effects that waited for a log commit. Messages the store failed to keep are not
   * confirmed nor delivered: their sender is told the store could not keep them.
   */
  #release(effects: Effect[], failed: ReadonlySet<string>): void {
    if (failed.size > 0) this.#failed("log append", `${failed.size} messages not kept`);
    for (const effect of effects) {
      if (failed.size === 0) {
        this.#exec(effect);
        continue;
      }
      const lost = lostMessage(effect);
      if (lost === null || !failed.has(lost)) {
        this.#exec(effect);
      } else if (effect.type === "send" && effect.msg.type === "ok") {
        this.#exec({
          ...effect,
          msg: { type: "error", re: effect.msg.re, code: "queue_full", message: NOT_KEPT },
        });
      } else if (effect.type === "hold") {
        this.#later({ type: "held", conn: effect.conn, result: "unavailable", now: this.#clock() });
      } else if (effect.type === "handOver") {
        this.#later({
          type: "handedOver",
          conn: effect.conn,
          result: "unavailable",
          now: this.#clock(),
        });
      }
    }
    this.flush();
  }

  /** Feeds the core an input on a later turn (never from inside `#run`). */
  #later(input: Input): void {
    queueMicrotask(() => this.input(input));
  }

  #exec(effect: Effect): void {
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
          ({ result, name, session }) => ({
            type: "authenticated",
            conn: effect.conn,
            key: effect.key,
            result,
            ...(name !== undefined && { name }),
            ...(session !== undefined && { session }),
            now: this.#clock(),
          }),
          { result: "unavailable" as const },
        );
        break;
      case "load":
        // The connection is logging in: its login timer has done its job.
        this.#conns.get(effect.conn)?.stopTimer();
        this.#await(
          this.#load(effect),
          ({ held, replay }) => ({
            type: "loaded",
            conn: effect.conn,
            held,
            replay,
            now: this.#clock(),
          }),
          { held: [], replay: effect.since === undefined ? null : { messages: [], gap: true } },
        );
        break;
      case "stream": {
        const conn = this.#conns.get(effect.conn);
        if (conn) this.#stream(conn, effect);
        break;
      }
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
      case "loadHistory": {
        const { conn, conv, before, limit, user } = effect;
        const page = (async () =>
          user !== undefined && !(await this.#store.known(user))
            ? null
            : this.#store.page(conv, before, limit))();
        this.#await(page, (page) => ({ type: "historyLoaded", conn, page, now: this.#clock() }), {
          messages: [],
          more: true,
        });
        break;
      }
      case "keep":
        this.#store
          .hold(effect.key, effect.message, this.#config.maxQueued)
          .then((result) => {
            if (result === "held") this.counters.held++;
            else this.#log(`relay: a message for ${effect.message.to} was not held: ${result}`);
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
            sent ? ("sent" as const) : this.#store.hold(key, event.message, this.#config.maxQueued),
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
      case "membership": {
        const { room, user, member } = effect;
        (member ? this.#store.join(room, user) : this.#store.leave(room.key, user.key)).catch((e) =>
          this.#failed("membership", e),
        );
        break;
      }
      case "forgetSession":
        secretHash(effect.secret)
          .then((hash) => this.#store.dropSession(hash))
          .catch((e) => this.#failed("session", e));
        break;
      case "release":
        this.#bus.release(effect.key).catch((e) => this.#failed("release", e));
        break;
      case "append":
        // Only `#run` meets these; an append here would have nobody waiting for it.
        throw new Error("append outside the log writer");
    }
  }

  /** What a login brings: the held messages and, with `since`, what the user missed. */
  async #load(
    effect: Extract<Effect, { type: "load" }>,
  ): Promise<{ held: ChatMessage[]; replay: { messages: ChatMessage[]; gap: boolean } | null }> {
    const held = await this.#store.held(effect.key);
    if (effect.since === undefined || this.#writer === null) return { held, replay: null };
    const convs = [...(await this.#store.conversations(effect.key)), ...effect.rooms, "*"];
    const replay = await this.#store.since(convs, effect.since, this.#config.resumeMax);
    return { held, replay };
  }

  /**
   * Writes messages to a connection no faster than it reads them: a piece at a time that
   * keeps its outbox under half its budget. Whatever else the connection is sent meanwhile
   * queues behind, in order. Held messages are let go in the store once their bytes have
   * left the outbox.
   */
  #stream(conn: Connection, effect: Extract<Effect, { type: "stream" }>): void {
    conn.stream ??= [];
    const queue = conn.stream;
    for (const msg of effect.messages) queue.push(msg);
    queue.push({ type: "mark", drop: effect.drop, report: effect.report });
    this.#pump(conn);
  }

  #pump(conn: Connection): void {
    conn.pumping = undefined;
    if (conn.closing) return;
    const budget = this.#config.maxOutboxBytes / 2;
    const queue = conn.stream ?? [];
    let i = 0;
    while (i < queue.length && conn.link.unsent() + conn.out.size < budget) {
      const item = queue[i++] as StreamItem;
      if (item.type !== "mark") {
        this.#deliver(conn, item, new Encoded(item), false, true);
        continue;
      }
      // What came before the mark is queued: its bytes are gone once this much was taken.
      if (item.drop) conn.drops.push({ at: conn.written + conn.out.size, ...item.drop });
      if (item.report) this.#later({ type: "streamed", conn: conn.id, now: this.#clock() });
    }
    queue.splice(0, i);
    if (queue.length === 0) conn.stream = null;
    if (conn.out.size > 0) this.#writeOut(conn);
    this.#dropTaken(conn);
    if (conn.stream || conn.drops.length > 0) {
      conn.pumping = setTimeout(() => this.#pump(conn), PUMP_MS);
    }
  }

  /** Lets go of held messages whose bytes the peer has taken. */
  #dropTaken(conn: Connection): void {
    const taken = conn.written - conn.link.unsent();
    while (conn.drops.length > 0 && (conn.drops[0]?.at ?? 0) <= taken) {
      const { key, ids } = conn.drops.shift() as { key: string; ids: string[] };
      this.#store.drop(key, ids).catch((e) => this.#failed("drop", e));
    }
  }

  /** Checks a login's credentials and, when they pass, remembers the name. */
  async #login(
    effect: Extract<Effect, { type: "authenticate" }>,
  ): Promise<{ result: AuthResult; name?: string; session?: string }> {
    // As for a name online here: without a password, token or session, a name online on
    // another node is taken, whatever the store would say of the credentials.
    const proof =
      effect.password !== undefined || effect.token !== undefined || effect.session !== undefined;
    if (!proof && (await this.#bus.heldElsewhere(effect.key))) return { result: "taken" };
    const ttl = this.#config.sessionDays * DAY_MS;
    let result: AuthResult;
    if (effect.session !== undefined) {
      const owner = await this.#store.useSession(await secretHash(effect.session), ttl);
      result = owner === effect.key ? "verified" : "auth_failed";
    } else {
      result = await authenticate(effect, this.#auth, this.#store);
    }
    if (result === "auth_failed") return { result };
    if (!(await this.#bus.claim(effect.key, result === "verified"))) return { result: "taken" };
    const name = await this.#store.remember(effect.key, effect.name);
    let session = effect.session;
    if (session === undefined) {
      session = newSecret();
      await this.#store.saveSession(await secretHash(session), effect.key, ttl);
    }
    return { result, name, session };
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

  /**
   * Queues a message for a connection; `shared`: the same message goes to many. Behind a
   * stream it waits its turn, unless it is part of the stream (`streamed`).
   */
  #deliver(
    conn: Connection,
    msg: ServerMessage,
    encoded: Encoded,
    shared: boolean,
    streamed = false,
  ): void {
    if (conn.closing) return;
    if (conn.stream && !streamed) {
      if (conn.stream.length >= MAX_STREAM_ITEMS) return this.#overflow(conn);
      conn.stream.push(msg);
      return;
    }
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
    conn.stream = null;
    conn.drops = [];
    clearTimeout(conn.pumping);
    conn.link.close();
  }
}

/** A stream's end: what to let go in the store, and whether the core waits to hear of it. */
export type StreamItem =
  | ServerMessage
  | { type: "mark"; drop: { key: string; ids: string[] } | null; report: boolean };

/** How often a stream looks whether its reader took what it was given. */
const PUMP_MS = 10;

/** Messages a connection may have waiting behind a stream before it is a slow reader. */
const MAX_STREAM_ITEMS = 20_000;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Why a message was refused when the log could not keep it. */
const NOT_KEPT = "the server could not keep this message (its store failed); send it again";

/** The id of the message an effect confirms, delivers or passes on, if any. */
function lostMessage(effect: Effect): string | null {
  switch (effect.type) {
    case "send":
    case "fanout":
      if (effect.msg.type === "message") return effect.msg.id;
      if (effect.msg.type === "ok") return effect.msg.id ?? null;
      return null;
    case "publish":
      return effect.event.kind === "message" ? effect.event.message.id : null;
    case "hold":
    case "keep":
      return effect.message.id;
    case "handOver":
      return effect.event.message.id;
    default:
      return null;
  }
}

/** How long a starting node waits at most for the others to say what they hold. */
const SYNC_WAIT_MS = 2000;
