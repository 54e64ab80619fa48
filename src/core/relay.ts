import type { BusEvent, RemoteUser } from "./bus.ts";
import { MessageIds } from "./ids.ts";
import { checkName, checkRoom, checkText, isError, nameKey } from "./names.ts";
import type { Pending, Room, Session, Target } from "./state.ts";
import { NO_ROOMS, newSession } from "./state.ts";
import type {
  AuthResult,
  ByeReason,
  ChatMessage,
  ConnId,
  Effect,
  ErrorCode,
  HoldResult,
  Input,
  Re,
  RelayError,
  ServerMessage,
} from "./types.ts";

/** Settings of the core; the host reads them from its configuration. */
export interface RelayOptions {
  /** Whether users online see others come and go. */
  presence: "all" | "off";
  /** Commands a connection may have waiting behind a slow one before it counts as a flood. */
  maxBacklog: number;
  /**
   * This node's name in its cluster; it is also appended to message ids, to keep them
   * unique across processes.
   */
  node: string;
  /** Whether other nodes share the users, rooms and messages (effects `publish`). */
  clustered: boolean;
}

const DEFAULTS: RelayOptions = { presence: "all", maxBacklog: 256, node: "", clustered: false };

/** How a session leaves: what the others are told, and whether its name is let go. */
type Departure =
  /** Gone: others see it go offline; its name is released. */
  | "gone"
  /** The server stops: the other nodes hear it once (`down`); its name is released. */
  | "stopping"
  /** Its user logged in again elsewhere: nothing to tell, and the name stays taken. */
  | "moved";

/** What the operator sees of one connection's chat state. */
export interface SessionView {
  name: string | null;
  rooms: string[];
}

/**
 * The relay: a state machine with no I/O. Feed it inputs with `handle`; it returns the
 * effects its host must carry out, in order. Time and the results of store lookups come in
 * as inputs, so the same inputs always give the same effects.
 *
 * @example
 * const relay = new Relay();
 * relay.handle({ type: "open", conn: 1 });
 * relay.handle({ type: "command", conn: 1, command: { type: "ping" }, re: "p", now: 0 });
 * // [{ type: "send", conn: 1, msg: { type: "pong", re: "p" } }]
 */
export class Relay {
  readonly #options: RelayOptions;
  readonly #ids: MessageIds;
  readonly #sessions = new Map<ConnId, Session>();
  /** Claimed names (logging in or online), by key. */
  readonly #users = new Map<string, Session>();
  readonly #rooms = new Map<string, Room>();
  /** Users online on other nodes, by key. */
  readonly #remote = new Map<string, RemoteUser>();
  #shuttingDown = false;
  #out: Effect[] = [];

  constructor(options: Partial<RelayOptions> = {}) {
    this.#options = { ...DEFAULTS, ...options };
    this.#ids = new MessageIds(this.#options.node);
  }

  /** Feeds one input to the relay and returns the effects it asks for. */
  handle(input: Input): Effect[] {
    this.#out = [];
    switch (input.type) {
      case "open":
        if (!this.#sessions.has(input.conn)) {
          this.#sessions.set(input.conn, newSession(input.conn));
        }
        break;
      case "command": {
        const s = this.#sessions.get(input.conn);
        if (s) this.#command(s, { command: input.command, re: input.re }, input.now);
        break;
      }
      case "refuse": {
        const s = this.#sessions.get(input.conn);
        if (s) this.#command(s, { error: input.error, re: input.re }, 0);
        break;
      }
      case "evict": {
        const s = this.#sessions.get(input.conn);
        if (s) this.#kickOut(s, input.reason, "gone");
        break;
      }
      case "close": {
        const s = this.#sessions.get(input.conn);
        if (s) this.#detach(s, "gone");
        break;
      }
      case "authenticated": {
        const waiting = this.#sessions.get(input.conn)?.waiting;
        if (waiting?.kind !== "auth") {
          // The connection went away while its name was being claimed: let the name go.
          if (claimed(input.result) && !this.#users.has(input.key)) this.#release(input.key);
          break;
        }
        this.#resume(input.conn, "auth", input.now, (s, w) =>
          this.#authenticated(s, w, input.result, input.name),
        );
        break;
      }
      case "queueLoaded":
        this.#resume(input.conn, "queue", input.now, (s, w) => this.#admit(s, w, input.messages));
        break;
      case "held":
        this.#resume(input.conn, "hold", input.now, (s, w) => this.#held(s, w, input.result));
        break;
      case "handedOver":
        this.#resume(input.conn, "handover", input.now, (s, w) =>
          input.result === "sent"
            ? this.#send(s.conn, { type: "ok", re: w.re, id: w.message.id })
            : this.#held(s, w, input.result),
        );
        break;
      case "heldFound": {
        const s = this.#users.get(input.key);
        if (s?.phase !== "online") break;
        for (const m of input.messages) this.#receiveHeld(s, { ...m, queued: true });
        break;
      }
      case "userLooked":
        this.#resume(input.conn, "lookup", input.now, (s, w) =>
          input.known
            ? this.#choosePartner(s, w.re, w.target)
            : this.#error(s, w.re, "no_such_user", noSuchUser(w.target.name)),
        );
        break;
      case "announce": {
        const ts = isoTime(input.now);
        this.#fanout(this.#onlineConns(null), { type: "announce", text: input.text, ts });
        this.#publish({ kind: "announce", node: this.#node, text: input.text, ts });
        break;
      }
      case "kick": {
        const key = nameKey(input.name.normalize("NFC"));
        const s = this.#users.get(key);
        if (s) this.#kickOut(s, "kicked", "gone");
        const remote = this.#remote.get(key);
        if (remote)
          this.#publish({ kind: "kick", node: this.#node, name: remote.name }, remote.node);
        break;
      }
      case "shutdown":
        this.#publish({ kind: "down", node: this.#node });
        this.#shuttingDown = true;
        for (const s of [...this.#sessions.values()]) this.#kickOut(s, "shutdown", "stopping");
        break;
      case "bus":
        if (input.event.node !== this.#node) this.#bus(input.event);
        break;
      case "sync":
        this.#publish({ kind: "hello", node: this.#node });
        this.#publish(this.#state());
        // While the bus was away, messages for users here were held instead: look for them.
        for (const u of this.#users.values()) {
          if (u.phase === "online") this.#out.push({ type: "recheckHeld", key: u.key });
        }
        break;
      case "nodeDown":
        this.#forgetNode(input.node, true);
        break;
    }
    return this.#out;
  }

  /** Whether the connection has logged in (its text lines are chat, not logins). */
  isLoggedIn(conn: ConnId): boolean {
    const phase = this.#sessions.get(conn)?.phase;
    return phase === "online" || phase === "admitting";
  }

  /** Whether a user of this name is online (or logging in), here or on another node. */
  isOnline(name: string): boolean {
    const key = nameKey(name.normalize("NFC"));
    return this.#users.has(key) || this.#remote.has(key);
  }

  /** How many users are logged in here. */
  get userCount(): number {
    return this.#users.size;
  }

  /** The chat state of one connection, for operators. */
  view(conn: ConnId): SessionView | null {
    const s = this.#sessions.get(conn);
    if (!s) return null;
    return {
      name: s.phase === "online" || s.phase === "admitting" ? s.name : null,
      rooms: [...s.rooms.values()].map((r) => r.name),
    };
  }

  // --- commands ---

  #command(s: Session, pending: Pending, now: number): void {
    if (s.waiting) {
      if (s.backlog.length >= this.#options.maxBacklog) {
        this.#kickOut(s, "flood", "gone");
      } else {
        s.backlog.push(pending);
      }
      return;
    }
    const { re } = pending;
    if ("error" in pending) return this.#error(s, re, pending.error.code, pending.error.message);
    const { command } = pending;
    const loggedIn = s.phase === "online";
    switch (command.type) {
      case "ping":
        return this.#send(s.conn, { type: "pong", re });
      case "help":
        return this.#send(s.conn, { type: "help", re });
      case "quit":
        this.#send(s.conn, { type: "bye", re, reason: "quit" });
        this.#close(s, "gone");
        return;
      case "login":
        if (loggedIn) {
          return this.#error(s, re, "already_logged_in", `you are logged in as ${s.name}`);
        }
        return this.#login(s, command, re);
    }
    if (!loggedIn) {
      return this.#error(s, re, "not_logged_in", "log in first: /login <name>");
    }
    switch (command.type) {
      case "to":
        return this.#to(s, command.name, re);
      case "say":
        if (!s.partner) {
          return this.#error(s, re, "no_target", "choose who to talk to first: /to <name>");
        }
        return this.#message(s, s.partner.name, command.text, re, now);
      case "msg":
        return this.#message(s, command.to, command.text, re, now);
      case "join":
        return this.#join(s, command.room, re);
      case "leave":
        return this.#leave(s, command.room, re);
      case "who":
        return this.#who(s, command.room, re);
      case "rooms":
        return this.#send(s.conn, {
          type: "rooms",
          re,
          rooms: [...this.#rooms.values()]
            .map((r) => ({ room: r.name, members: r.members.size + r.remote.size }))
            .sort((a, b) => compareNames(a.room, b.room)),
        });
    }
  }

  #login(s: Session, command: { name: string; password?: string; token?: string }, re: Re) {
    if (this.#shuttingDown) {
      return this.#error(s, re, "shutting_down", "the server is shutting down");
    }
    const checked = checkName(command.name);
    if (isError(checked)) return this.#error(s, re, checked.code, checked.message);
    const holder = this.#users.get(checked.key) ?? this.#remote.get(checked.key);
    if (holder && command.password === undefined && command.token === undefined) {
      return this.#error(s, re, "name_taken", nameTaken(checked.name));
    }
    s.phase = "authenticating";
    s.waiting = { kind: "auth", re, name: checked.name, key: checked.key };
    this.#out.push({
      type: "authenticate",
      conn: s.conn,
      name: checked.name,
      key: checked.key,
      ...(command.password !== undefined && { password: command.password }),
      ...(command.token !== undefined && { token: command.token }),
      mayRegister: holder === undefined,
    });
  }

  #authenticated(s: Session, w: Waiting<"auth">, result: AuthResult, shown?: string): void {
    if (result === "auth_failed" || result === "unavailable") {
      s.phase = "anonymous";
      const why = result === "unavailable" ? UNAVAILABLE : "wrong password or token";
      return this.#error(s, w.re, "auth_failed", why);
    }
    const holder = this.#users.get(w.key);
    if (result === "taken" || (holder && result !== "verified")) {
      s.phase = "anonymous";
      return this.#error(s, w.re, "name_taken", nameTaken(w.name));
    }
    // The rightful owner came back: the old connection makes way, silently for others.
    if (holder) this.#kickOut(holder, "replaced", "moved");
    // The cluster let this node have the name: whoever had it elsewhere moves here.
    const moved = this.#remote.has(w.key);
    if (moved) this.#forgetRemote(w.key, null, false);
    const takeover = holder !== undefined || moved;
    s.name = shown !== undefined && nameKey(shown) === w.key ? shown : w.name;
    s.key = w.key;
    s.self = { kind: "user", name: s.name, key: s.key };
    s.phase = "admitting";
    this.#users.set(w.key, s);
    s.waiting = { kind: "queue", re: w.re, takeover };
    this.#out.push({ type: "loadQueue", conn: s.conn, key: w.key });
  }

  #admit(s: Session, w: Waiting<"queue">, held: ChatMessage[]): void {
    s.phase = "online";
    const users: string[] = [];
    for (const u of this.#users.values()) if (u !== s && u.phase === "online") users.push(u.name);
    for (const u of this.#remote.values()) users.push(u.name);
    this.#send(s.conn, {
      type: "welcome",
      re: w.re,
      name: s.name,
      users,
      queued: held.length,
    });
    const fromQueue = new Set<string>();
    for (const m of held) {
      fromQueue.add(m.id);
      this.#receive(s, { ...m, queued: true });
    }
    if (held.length > 0) {
      this.#out.push({ type: "dropQueued", key: s.key, ids: [...fromQueue] });
    }
    // Messages that arrived while the queue was loading, in arrival order.
    const late: string[] = [];
    for (const m of s.deferred) {
      if (fromQueue.has(m.id)) continue;
      this.#receive(s, m);
      if (m.queued) late.push(m.id);
    }
    s.deferred = [];
    if (late.length > 0) this.#out.push({ type: "dropQueued", key: s.key, ids: late });
    s.fromQueue = fromQueue.size > 0 ? fromQueue : null;
    if (!w.takeover) this.#presence(s, "online");
    this.#publish({ kind: "online", node: this.#node, name: s.name, quiet: w.takeover });
  }

  #to(s: Session, raw: string, re: Re): void {
    const target = this.#target(s, raw, re);
    if (!target) return;
    if (target.kind !== "user" || this.#users.has(target.key) || this.#remote.has(target.key)) {
      return this.#choosePartner(s, re, target);
    }
    s.waiting = { kind: "lookup", re, target };
    this.#out.push({ type: "lookupUser", conn: s.conn, key: target.key });
  }

  #choosePartner(s: Session, re: Re, target: Target): void {
    s.partner = target;
    this.#send(s.conn, { type: "ok", re });
  }

  /** Resolves a destination, answering the command with an error when it is not one. */
  #target(s: Session, raw: string, re: Re): Target | null {
    if (raw === "*") return { kind: "all", name: "*", key: "*" };
    if (raw.startsWith("#")) {
      const room = checkRoom(raw);
      if (isError(room)) return this.#refuse(s, re, room);
      const existing = this.#rooms.get(room.key);
      if (!existing) {
        return this.#refuse(s, re, {
          code: "no_such_room",
          message: `there is no room ${room.name}`,
        });
      }
      if (!s.rooms.has(room.key)) {
        return this.#refuse(s, re, { code: "not_in_room", message: `join ${room.name} first` });
      }
      return { kind: "room", name: existing.name, key: room.key };
    }
    const user = checkName(raw);
    if (isError(user)) return this.#refuse(s, re, user);
    return { kind: "user", ...user };
  }

  #message(s: Session, to: string, text: string, re: Re, now: number): void {
    const target = this.#target(s, to, re);
    if (!target) return;
    const bad = checkText(text);
    if (bad) return this.#error(s, re, bad.code, bad.message);
    const recipient = target.kind === "user" ? this.#users.get(target.key) : undefined;
    const remote = target.kind === "user" && !recipient ? this.#remote.get(target.key) : undefined;
    const message: ChatMessage = {
      type: "message",
      id: this.#ids.next(now),
      from: s.name,
      to: recipient ? recipient.name : remote ? remote.name : target.name,
      text,
      ts: isoTime(now),
    };
    if (target.kind === "all") {
      this.#fanout(this.#onlineConns(s), message);
      this.#publish({ kind: "message", node: this.#node, scope: "all", message });
    } else if (target.kind === "room") {
      const room = this.#rooms.get(target.key) as Room;
      this.#fanout(this.#memberConns(room, s), message);
      if (room.remote.size > 0) {
        this.#publish({ kind: "message", node: this.#node, scope: "room", message });
      }
    } else if (recipient) {
      this.#receive(recipient, message, s.self ?? undefined);
    } else if (remote) {
      // The sender's `ok` waits until the recipient's node took the message, or the store.
      s.waiting = { kind: "handover", re, key: target.key, message };
      const event = { kind: "message", node: this.#node, scope: "user", message } as const;
      this.#out.push({ type: "handOver", conn: s.conn, node: remote.node, key: target.key, event });
      return;
    } else {
      s.waiting = { kind: "hold", re, key: target.key, message };
      this.#out.push({ type: "hold", conn: s.conn, key: target.key, message });
      return;
    }
    this.#send(s.conn, { type: "ok", re, id: message.id });
  }

  #held(s: Session, w: Waiting<"hold" | "handover">, result: HoldResult): void {
    const { message } = w;
    if (result === "no_such_user") {
      return this.#error(s, w.re, "no_such_user", noSuchUser(message.to));
    }
    if (result === "queue_full") {
      return this.#error(s, w.re, "queue_full", `${message.to} has too many messages waiting`);
    }
    if (result === "unavailable") return this.#error(s, w.re, "queue_full", UNAVAILABLE);
    this.#send(s.conn, { type: "ok", re: w.re, id: message.id, queued: true, to: message.to });
    // The recipient may have logged in, here or elsewhere, while the message was stored.
    const queued: ChatMessage = { ...message, queued: true };
    const recipient = this.#users.get(w.key);
    if (recipient) return this.#receiveHeld(recipient, queued);
    const remote = this.#remote.get(w.key);
    if (remote) {
      this.#publish(
        { kind: "message", node: this.#node, scope: "user", message: queued },
        remote.node,
      );
    }
  }

  /** Hands over a message that is also in the store, unless it was handed over already. */
  #receiveHeld(recipient: Session, queued: ChatMessage): void {
    if (recipient.phase === "admitting") {
      recipient.deferred.push(queued);
    } else if (!recipient.fromQueue?.has(queued.id)) {
      // Noted as handed over: the store may still hold it for a moment.
      recipient.fromQueue ??= new Set();
      recipient.fromQueue.add(queued.id);
      this.#receive(recipient, queued);
      this.#out.push({ type: "dropQueued", key: recipient.key, ids: [queued.id] });
    }
  }

  /**
   * Hands a private message to its recipient, who will answer its sender by default.
   * `from` is the sender, when known; held messages name theirs only by `message.from`.
   */
  #receive(recipient: Session, message: ChatMessage, from?: Target): void {
    if (recipient.phase === "admitting") {
      recipient.deferred.push(message);
      return;
    }
    this.#send(recipient.conn, message);
    if (from) {
      recipient.partner = from;
      return;
    }
    const checked = checkName(message.from);
    if (!isError(checked)) recipient.partner = { kind: "user", ...checked };
  }

  #join(s: Session, raw: string, re: Re): void {
    const checked = checkRoom(raw);
    if (isError(checked)) return this.#error(s, re, checked.code, checked.message);
    const room = this.#room(checked.name, checked.key);
    if (!room.members.has(s.key)) {
      this.#fanout(this.#memberConns(room, s), { type: "joined", room: room.name, name: s.name });
      room.members.set(s.key, s);
      if (s.rooms === NO_ROOMS) s.rooms = new Map();
      s.rooms.set(room.key, room);
      this.#publish({ kind: "joined", node: this.#node, room: room.name, name: s.name });
    }
    this.#send(s.conn, { type: "ok", re, room: room.name, users: memberNames(room) });
  }

  /** The room of this key, made (named as given) if nobody is in it. */
  #room(name: string, key: string): Room {
    let room = this.#rooms.get(key);
    if (!room) {
      room = { name, key, members: new Map(), remote: new Map() };
      this.#rooms.set(key, room);
    }
    return room;
  }

  #leave(s: Session, raw: string, re: Re): void {
    const checked = checkRoom(raw);
    if (isError(checked)) return this.#error(s, re, checked.code, checked.message);
    const room = this.#rooms.get(checked.key);
    if (!room) return this.#error(s, re, "no_such_room", `there is no room ${checked.name}`);
    if (!s.rooms.has(room.key)) {
      return this.#error(s, re, "not_in_room", `you are not in ${room.name}`);
    }
    this.#leaveRoom(s, room);
    this.#send(s.conn, { type: "ok", re, room: room.name });
  }

  #leaveRoom(s: Session, room: Room): void {
    room.members.delete(s.key);
    s.rooms.delete(room.key);
    this.#left(room, s.name);
    if (!this.#shuttingDown) {
      this.#publish({ kind: "left", node: this.#node, room: room.name, name: s.name });
    }
  }

  /** Someone left the room: the members here are told, and an empty room goes. */
  #left(room: Room, name: string): void {
    if (room.members.size === 0 && room.remote.size === 0) {
      this.#rooms.delete(room.key);
    } else {
      this.#fanout(this.#memberConns(room, null), { type: "left", room: room.name, name });
    }
  }

  #who(s: Session, raw: string | undefined, re: Re): void {
    if (raw === undefined) {
      const users: string[] = [];
      for (const u of this.#users.values()) if (u.phase === "online") users.push(u.name);
      for (const u of this.#remote.values()) users.push(u.name);
      return this.#send(s.conn, { type: "who", re, users });
    }
    const checked = checkRoom(raw);
    if (isError(checked)) return this.#error(s, re, checked.code, checked.message);
    const room = this.#rooms.get(checked.key);
    if (!room) return this.#error(s, re, "no_such_room", `there is no room ${checked.name}`);
    this.#send(s.conn, { type: "who", re, room: room.name, users: memberNames(room) });
  }

  // --- the cluster ---

  get #node(): string {
    return this.#options.node;
  }

  #publish(event: BusEvent, node?: string): void {
    if (!this.#options.clustered) return;
    this.#out.push(
      node === undefined ? { type: "publish", event } : { type: "publish", event, node },
    );
  }

  #release(key: string): void {
    if (this.#options.clustered) this.#out.push({ type: "release", key });
  }

  /** What another node said. */
  #bus(e: BusEvent): void {
    switch (e.kind) {
      case "hello":
        return this.#publish(this.#state(), e.node);
      case "state":
        this.#forgetNode(e.node, false);
        for (const name of e.users) {
          // Both nodes think the name theirs (the bus was cut for longer than a lease):
          // the session here stays; the first to leave lets the name go.
          if (!this.#users.has(nameKey(name))) this.#remoteOnline(e.node, name, true);
        }
        for (const { room, members } of e.rooms) {
          for (const name of members) this.#remoteJoined(e.node, room, name, true);
        }
        return;
      case "online":
        return this.#remoteOnline(e.node, e.name, e.quiet);
      case "offline":
        return this.#forgetRemote(nameKey(e.name), e.node, !e.quiet);
      case "joined":
        return this.#remoteJoined(e.node, e.room, e.name, false);
      case "left": {
        const room = this.#rooms.get(nameKey(e.room));
        const key = nameKey(e.name);
        if (room?.remote.get(key)?.node !== e.node) return;
        room.remote.delete(key);
        return this.#left(room, e.name);
      }
      case "message":
        return this.#remoteMessage(e.scope, e.message);
      case "announce":
        return this.#fanout(this.#onlineConns(null), { type: "announce", text: e.text, ts: e.ts });
      case "kick": {
        const s = this.#users.get(nameKey(e.name));
        if (s) this.#kickOut(s, "kicked", "gone");
        return;
      }
      case "down":
        return this.#forgetNode(e.node, true);
    }
  }

  /** Everything this node holds, for a node that asks. */
  #state(): BusEvent {
    const users: string[] = [];
    for (const u of this.#users.values()) if (u.phase === "online") users.push(u.name);
    const rooms: { room: string; members: string[] }[] = [];
    for (const room of this.#rooms.values()) {
      if (room.members.size === 0) continue;
      rooms.push({ room: room.name, members: [...room.members.values()].map((m) => m.name) });
    }
    return { kind: "state", node: this.#node, users, rooms };
  }

  #remoteOnline(node: string, name: string, quiet: boolean): void {
    const key = nameKey(name);
    // The user logged in there again: the session here makes way.
    const here = this.#users.get(key);
    if (here) this.#kickOut(here, "replaced", "moved");
    const known = this.#remote.has(key) || here !== undefined;
    this.#remote.set(key, { name, node });
    if (!quiet && !known && this.#options.presence === "all") {
      this.#fanout(this.#onlineConns(null), { type: "presence", name, status: "online" });
    }
  }

  #remoteJoined(node: string, roomName: string, name: string, quiet: boolean): void {
    const key = nameKey(name);
    const room = this.#room(roomName, nameKey(roomName));
    if (room.remote.has(key) || room.members.has(key)) return;
    if (!quiet) {
      this.#fanout(this.#memberConns(room, null), { type: "joined", room: room.name, name });
    }
    room.remote.set(key, { name, node });
  }

  /** Forgets a user of another node (of `node` only, when given), and their rooms. */
  #forgetRemote(key: string, node: string | null, presence: boolean): void {
    const user = this.#remote.get(key);
    if (!user || (node !== null && user.node !== node)) return;
    this.#remote.delete(key);
    for (const room of [...this.#rooms.values()]) {
      if (room.remote.get(key)?.node !== user.node) continue;
      room.remote.delete(key);
      this.#left(room, user.name);
    }
    if (presence && this.#options.presence === "all") {
      this.#fanout(this.#onlineConns(null), {
        type: "presence",
        name: user.name,
        status: "offline",
      });
    }
  }

  /** Forgets every user of a node: it stopped, died, or is about to say what it holds. */
  #forgetNode(node: string, presence: boolean): void {
    for (const [key, user] of [...this.#remote]) {
      if (user.node === node) this.#forgetRemote(key, node, presence);
    }
  }

  #remoteMessage(scope: "user" | "room" | "all", message: ChatMessage): void {
    if (scope === "all") return this.#fanout(this.#onlineConns(null), message);
    const key = nameKey(message.to);
    if (scope === "room") {
      const room = this.#rooms.get(key);
      if (room) this.#fanout(this.#memberConns(room, null), message);
      return;
    }
    const recipient = this.#users.get(key);
    if (recipient && message.queued) return this.#receiveHeld(recipient, message);
    if (recipient) return this.#receive(recipient, message);
    // The recipient left meanwhile: the message waits for them like any other.
    if (!message.queued) this.#out.push({ type: "keep", key, message });
  }

  // --- sessions ---

  /** Runs a waiting session's continuation, then the commands that queued behind it. */
  #resume<K extends Waiting["kind"]>(
    conn: ConnId,
    kind: K,
    now: number,
    then: (s: Session, w: Waiting<K>) => void,
  ): void {
    const s = this.#sessions.get(conn);
    if (!s || s.waiting?.kind !== kind) return;
    const w = s.waiting as Waiting<K>;
    s.waiting = null;
    then(s, w);
    while (!s.waiting && s.backlog.length > 0 && this.#sessions.has(conn)) {
      this.#command(s, s.backlog.shift() as Pending, now);
    }
  }

  /** Says goodbye to a session and closes it. */
  #kickOut(s: Session, reason: Exclude<ByeReason, "quit">, how: Departure) {
    this.#send(s.conn, { type: "bye", reason });
    this.#close(s, how);
  }

  #close(s: Session, how: Departure): void {
    this.#out.push({ type: "close", conn: s.conn });
    this.#detach(s, how);
  }

  /** Forgets a session: its name, its rooms, and tells the others as `how` says. */
  #detach(s: Session, how: Departure): void {
    this.#sessions.delete(s.conn);
    const wasOnline = s.phase === "online";
    s.phase = "closed";
    s.waiting = null;
    s.backlog = [];
    for (const room of [...s.rooms.values()]) this.#leaveRoom(s, room);
    if (!s.key || this.#users.get(s.key) !== s) return;
    this.#users.delete(s.key);
    if (how !== "moved") this.#release(s.key);
    if (how === "gone" && wasOnline) {
      this.#presence(s, "offline");
      this.#publish({ kind: "offline", node: this.#node, name: s.name, quiet: false });
    }
  }

  #presence(s: Session, status: "online" | "offline"): void {
    if (this.#options.presence === "off") return;
    this.#fanout(this.#onlineConns(s), { type: "presence", name: s.name, status });
  }

  #onlineConns(except: Session | null): ConnId[] {
    const conns: ConnId[] = [];
    for (const u of this.#users.values()) {
      if (u !== except && u.phase === "online") conns.push(u.conn);
    }
    return conns;
  }

  #memberConns(room: Room, except: Session | null): ConnId[] {
    const conns: ConnId[] = [];
    for (const m of room.members.values()) if (m !== except) conns.push(m.conn);
    return conns;
  }

  #send(conn: ConnId, msg: ServerMessage): void {
    this.#out.push({ type: "send", conn, msg });
  }

  #fanout(conns: ConnId[], msg: ServerMessage): void {
    if (conns.length === 1) this.#out.push({ type: "send", conn: conns[0] as ConnId, msg });
    else if (conns.length > 1) this.#out.push({ type: "fanout", conns, msg });
  }

  #error(s: Session, re: Re, code: ErrorCode, message: string): void {
    this.#send(s.conn, { type: "error", re, code, message });
  }

  /** Answers with an error; returns null, for lookups that found nothing to go on. */
  #refuse(s: Session, re: Re, error: RelayError): null {
    this.#error(s, re, error.code, error.message);
    return null;
  }
}

type Waiting<K extends string = string> = Extract<Session["waiting"] & {}, { kind: K }>;

let lastNow = Number.NaN;
let lastIso = "";

/** The ISO 8601 form of a time; messages in one millisecond share one string. */
function isoTime(now: number): string {
  if (now !== lastNow) {
    lastNow = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

/** What a user is told when the store cannot be reached: a failure of the server's. */
const UNAVAILABLE = "the server cannot reach its store right now; try again later";

/** Whether a login's credentials check took the name for this node. */
function claimed(result: AuthResult): boolean {
  return result === "ok" || result === "verified";
}

/** A room's members, here and elsewhere. */
function memberNames(room: Room): string[] {
  const names = [...room.members.values()].map((m) => m.name);
  for (const m of room.remote.values()) names.push(m.name);
  return names;
}

function compareNames(a: string, b: string): number {
  const ka = nameKey(a);
  const kb = nameKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function nameTaken(name: string): string {
  return `${name} is already online; pick another name`;
}

function noSuchUser(name: string): string {
  return `nobody called ${name} has logged in here`;
}
