import { type ConnId, type Effect, type ErrorCode, type Input, Relay } from "../core/mod.ts";
import type { Decoded } from "../protocol/mod.ts";
import { type AskDeps, askStore } from "./asks.ts";
import { type AuthMode, Passwords } from "./auth.ts";
import { type Bus, LocalBus } from "./bus/bus.ts";
import { ClusterLink } from "./cluster.ts";
import { Connection } from "./connection.ts";
import { Counters } from "./counters.ts";
import { Encoded } from "./encoded.ts";
import type { HostConfig, HostDeps, Link, SessionInfo } from "./host-types.ts";
import { LogWriter, unkept } from "./log-writer.ts";
import { checkLogin, type LoginDeps } from "./login.ts";
import { Outboxes } from "./outboxes.ts";
import { secretHash } from "./secrets.ts";
import type { Store } from "./store/store.ts";
import { LOGIN_LIMITS, LoginThrottle } from "./throttle.ts";

export type { HostConfig, HostDeps, Link, SessionInfo };

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
  readonly #cluster: ClusterLink;
  readonly #loginDeps: LoginDeps;
  /** What answering the core's questions to the store takes (see `askStore`). */
  readonly #asks: AskDeps;
  readonly #auth: AuthMode;
  readonly #clock: () => number;
  readonly #log: (line: string) => void;
  readonly #conns = new Map<ConnId, Connection>();
  readonly #outboxes: Outboxes;
  readonly #schedule: (flush: () => void) => void;
  /** Session secrets being dropped (`quit` with `forget`): logins with a secret wait for them. */
  readonly #forgetting = new Set<Promise<void>>();
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
      presenceAll: config.presenceAll,
      node: this.#bus.node,
      clustered: this.#bus.clustered,
      log: config.history > 0,
      maxHistoryBytes: Math.floor(config.maxOutboxBytes / 2),
      resumeMax: config.resumeMax,
      maxRoomsPerUser: config.maxRoomsPerUser,
      maxRooms: config.maxRooms,
    });
    this.#loginDeps = {
      store: this.#store,
      bus: this.#bus,
      auth: this.#auth,
      sessionMs: config.sessionDays * DAY_MS,
      passwords: new Passwords(deps.passwords),
      throttle: new LoginThrottle(this.#store, deps.loginLimits ?? LOGIN_LIMITS, this.#clock),
      online: (key) => this.relay.isOnline(key),
      forgotten: () => Promise.all(this.#forgetting).then(() => {}),
    };
    this.#asks = {
      store: this.#store,
      bus: this.#bus,
      clock: this.#clock,
      maxQueued: config.maxQueued,
      // Without a log there is nothing to replay.
      resumeMax: config.history > 0 ? config.resumeMax : 0,
      counters: this.counters,
      failed: (what, e) => this.#failed(what, e),
    };
    this.#outboxes = new Outboxes(config.maxOutboxBytes, this.counters, this.#schedule, {
      evict: (conn) =>
        this.#run(this.relay.handle({ type: "evict", conn: conn.id, reason: "slow_consumer" })),
      streamed: (conn) => this.#later({ type: "streamed", conn: conn.id, now: this.#clock() }),
      drop: (key, ids) => this.#store.drop(key, ids).catch((e) => this.#failed("drop", e)),
    });
    this.#cluster = new ClusterLink(this.#bus, config.leaseMs, this.#clock, {
      input: (input) => this.input(input),
      heard: (input) => {
        if (this.#stopping) return;
        this.#run(this.relay.handle(input));
        this.#outboxes.requestFlush();
      },
      failed: (what, e) => this.#failed(what, e),
    });
    this.#writer =
      config.history > 0
        ? new LogWriter(
            (entries) => this.#store.append(entries, config.history),
            (effects, failed) => this.#release(effects, failed),
            this.#schedule,
            deps.logRetries,
          )
        : null;
  }

  /**
   * Reads the rooms and their members from the store, then joins the cluster (nothing to
   * do for a lone node; see `ClusterLink.start`).
   */
  async start(): Promise<void> {
    this.input({ type: "memberships", rooms: await this.#store.memberships() });
    await this.#cluster.start();
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
      link.write(
        link.mode === "irc"
          ? `ERROR :Closing Link: ${refusal[1]} (${refusal[0]})\r\n`
          : `! ${refusal[0]}: ${refusal[1]}${link.framing === "line" ? "\n" : ""}`,
      );
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

  /**
   * Says `bye shutdown` to everyone, refuses new connections, waits for the log's last
   * commit, and closes the store.
   */
  async shutdown(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#cluster.stop();
    this.input({ type: "shutdown", now: this.#clock() });
    // What was accepted is kept before the store goes, and its `ok` goes out.
    await this.#writer?.idle();
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
        unsentBytes: c.link.unsent() + (c.out?.size ?? 0),
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

  /** Asks for a flush soon (see `HostDeps.schedule`). */
  requestFlush(): void {
    this.#outboxes.requestFlush();
  }

  /** Queues lines for a connection as they are, without the core (the IRC gateway's own). */
  write(conn: Connection, lines: string): void {
    this.#outboxes.write(conn, lines);
  }

  /** Writes out everything queued for connections since the last flush. */
  flush(): void {
    this.#outboxes.flush();
  }

  /** A connection's link went away. */
  gone(conn: Connection): void {
    if (!this.#conns.delete(conn.id)) return;
    conn.stopTimer();
    this.counters.closed(conn.link.transport);
    this.input({ type: "close", conn: conn.id, now: this.#clock() });
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
      const instead = failed.size === 0 ? null : unkept(effect, failed, this.#clock());
      if (instead === null) this.#exec(effect);
      else if ("effect" in instead) this.#exec(instead.effect);
      else if ("input" in instead) this.#later(instead.input);
    }
    this.flush();
  }

  /** Feeds the core an input on a later turn (never from inside `#run`). */
  #later(input: Input): void {
    queueMicrotask(() => this.input(input));
  }

  #exec(effect: Effect): void {
    if (effect.type === "recheckHeld" && effect.afterMs !== undefined) {
      const { afterMs, ...now } = effect;
      setTimeout(() => this.#stopping || this.#exec(now), afterMs);
      return;
    }
    // The connection is logging in: its login timer has done its job.
    if (effect.type === "load") this.#conns.get(effect.conn)?.stopTimer();
    const asked = askStore(effect, this.#asks);
    if (asked) {
      asked.then((input) => this.input(input)).catch((e: unknown) => this.bug(null, e));
      return;
    }
    switch (effect.type) {
      case "send": {
        const conn = this.#conns.get(effect.conn);
        if (conn) this.#outboxes.send(conn, effect.msg);
        break;
      }
      case "fanout": {
        const encoded = new Encoded(effect.msg);
        for (const id of effect.conns) {
          const conn = this.#conns.get(id);
          if (conn) this.#outboxes.deliver(conn, effect.msg, encoded, true);
        }
        break;
      }
      case "close": {
        const conn = this.#conns.get(effect.conn);
        if (conn) this.#outboxes.close(conn);
        break;
      }
      case "authenticate": {
        const remote = this.#conns.get(effect.conn)?.link.remote ?? "";
        const login = checkLogin(effect, this.#loginDeps, remote);
        this.#await(
          login.checked,
          ({ result, name, session }) => {
            // The core takes the answer now: the login is no longer being checked.
            login.settled();
            return {
              type: "authenticated",
              conn: effect.conn,
              key: effect.key,
              result,
              ...(name !== undefined && { name }),
              ...(session !== undefined && { session }),
              now: this.#clock(),
            };
          },
          { result: "unavailable" as const },
        );
        break;
      }
      case "stream": {
        const conn = this.#conns.get(effect.conn);
        if (conn) this.#outboxes.stream(conn, effect);
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
      case "membership": {
        const { room, user, member } = effect;
        (member ? this.#store.join(room, user) : this.#store.leave(room.key, user.key)).catch((e) =>
          this.#failed("membership", e),
        );
        break;
      }
      case "forgetSession": {
        const drop = secretHash(effect.secret)
          .then((hash) => this.#store.dropSession(hash))
          .catch((e) => this.#failed("session", e))
          .finally(() => this.#forgetting.delete(drop));
        this.#forgetting.add(drop);
        break;
      }
      case "release":
        this.#bus.release(effect.key).catch((e) => this.#failed("release", e));
        break;
      case "append":
        // Only `#run` meets these; an append here would have nobody waiting for it.
        throw new Error("append outside the log writer");
    }
  }

  /** Runs a store or crypto call; its result (or `fallback` if it fails) goes to the core. */
  #await<T>(work: Promise<T>, next: (result: T) => Input, fallback: T): void {
    work
      .catch((e: unknown) => {
        this.#failed("store", e);
        return fallback;
      })
      .then((result) => this.input(next(result)))
      .catch((e: unknown) => this.bug(null, e));
  }

  /**
   * A bug of the server's met while handling a connection's frame or a store's answer: it is
   * logged with its stack (never sent to a peer), and the connection, if any, is let go.
   */
  bug(conn: Connection | null, e: unknown): void {
    this.#log(`relay: bug: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    if (!conn) return;
    try {
      this.#outboxes.close(conn);
      this.gone(conn);
    } catch (again) {
      this.#log(`relay: bug while letting go of a connection: ${String(again)}`);
    }
  }

  #failed(what: string, e: unknown): void {
    this.#log(`relay: ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;
