import {
  type AuthResult,
  type ChatMessage,
  type Command,
  type ConnId,
  type Effect,
  type Input,
  Relay,
  type RelayOptions,
  type Replay,
  type ServerMessage,
} from "../../src/core/mod.ts";

/** A relay core with helpers that play the host's part, step by step, in tests. */
export class World {
  readonly relay: Relay;
  now = Date.UTC(2026, 0, 2, 3, 4, 5);

  constructor(options: Partial<RelayOptions> = {}) {
    this.relay = new Relay(options);
  }

  open(conn: ConnId): void {
    this.relay.handle({ type: "open", conn });
  }

  /** The key each connection's last login asked to authenticate. */
  readonly #asked = new Map<ConnId, string>();

  cmd(conn: ConnId, command: Command, re: string | null = null): Effect[] {
    return this.#seen(this.relay.handle({ type: "command", conn, command, re, now: this.now }));
  }

  /** Feeds any input, noting which names logins ask to authenticate. */
  input(input: Input): Effect[] {
    return this.#seen(this.relay.handle(input));
  }

  #seen(effects: Effect[]): Effect[] {
    for (const e of effects) if (e.type === "authenticate") this.#asked.set(e.conn, e.key);
    return effects;
  }

  /** Opens `conn` and logs it in as `name`, answering the host's steps with `held`. */
  login(conn: ConnId, name: string, held: ChatMessage[] = []): Effect[] {
    this.open(conn);
    const asked = this.cmd(conn, { type: "login", name });
    if (asked[0]?.type !== "authenticate")
      throw new Error(`login not asked: ${JSON.stringify(asked)}`);
    this.authed(conn, "ok");
    return this.loaded(conn, held);
  }

  /**
   * Answers a login's `load` with these held messages (and a replay, for `since`), and,
   * when the core streams them, says they were written out.
   */
  loaded(conn: ConnId, held: ChatMessage[] = [], replay: Replay | null = null): Effect[] {
    const effects = this.relay.handle({ type: "loaded", conn, held, replay, now: this.now });
    if (!effects.some((e) => e.type === "stream" && e.report)) return effects;
    return [...effects, ...this.relay.handle({ type: "streamed", conn, now: this.now })];
  }

  authed(conn: ConnId, result: AuthResult): Effect[] {
    const key = this.#asked.get(conn) ?? "";
    return this.#seen(
      this.relay.handle({ type: "authenticated", conn, key, result, now: this.now }),
    );
  }
}

/** The messages each connection is sent by these effects, in order. */
export function sent(effects: Effect[]): Map<ConnId, ServerMessage[]> {
  const by = new Map<ConnId, ServerMessage[]>();
  const add = (conn: ConnId, msg: ServerMessage) => {
    const list = by.get(conn) ?? [];
    list.push(msg);
    by.set(conn, list);
  };
  for (const e of effects) {
    if (e.type === "send") add(e.conn, e.msg);
    if (e.type === "fanout") for (const c of e.conns) add(c, e.msg);
    if (e.type === "stream") for (const m of e.messages) add(e.conn, m);
  }
  return by;
}

/** The messages one connection is sent by these effects. */
export function to(conn: ConnId, effects: Effect[]): ServerMessage[] {
  return sent(effects).get(conn) ?? [];
}

/** The held messages these effects let go in the store (once written out), by user key. */
export function dropped(effects: Effect[]): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const e of effects) {
    if (e.type === "stream" && e.drop)
      by.set(e.drop.key, [...(by.get(e.drop.key) ?? []), ...e.drop.ids]);
  }
  return by;
}

/** The error codes one connection is sent. */
export function errors(conn: ConnId, effects: Effect[]): string[] {
  return to(conn, effects).flatMap((m) => (m.type === "error" ? [m.code] : []));
}
