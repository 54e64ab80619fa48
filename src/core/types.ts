import type { BusEvent } from "./bus.ts";

/** Identifies one client connection; chosen by the host, opaque to the core. */
export type ConnId = number;

/** How a connection reached the relay. */
export type Transport = "tcp" | "ws" | "irc";

/** The `re` of a reply: the command's `id`, or null. */
export type Re = string | null;

/** Every error code of docs/protocol.md §9. */
export type ErrorCode =
  | "bad_json"
  | "bad_command"
  | "bad_frame"
  | "bad_utf8"
  | "too_long"
  | "unknown_command"
  | "not_logged_in"
  | "already_logged_in"
  | "bad_name"
  | "bad_text"
  | "name_taken"
  | "auth_failed"
  | "no_such_user"
  | "no_such_room"
  | "not_in_room"
  | "no_target"
  | "queue_full"
  | "rate_limited"
  | "server_full"
  | "shutting_down"
  | "not_allowed";

/** An error as a value: a stable code and a sentence for people. */
export interface RelayError {
  code: ErrorCode;
  message: string;
}

/** Why a connection is being closed (the `reason` of `bye`). */
export type ByeReason =
  | "quit"
  | "kicked"
  | "shutdown"
  | "login_timeout"
  | "slow_consumer"
  | "flood"
  | "replaced";

/** A client command, decoded from either encoding (docs/protocol.md §4). */
export type Command =
  | {
      type: "login";
      name: string;
      password?: string;
      token?: string;
      /** A session secret from an earlier `welcome` (docs/protocol.md §11). */
      session?: string;
      /** The newest message id the client saw: replay what came after it. */
      since?: string;
    }
  | { type: "to"; name: string }
  | { type: "say"; text: string }
  | { type: "msg"; to: string; text: string }
  | { type: "join"; room: string }
  | { type: "leave"; room: string }
  | { type: "who"; room?: string; after?: string }
  | { type: "history"; with: string; before?: string; limit?: number }
  | { type: "rooms"; after?: string }
  | { type: "ping" }
  | { type: "quit"; reason?: string; forget?: boolean }
  | { type: "help" };

/** A chat message as it travels to its recipients and rests in the offline queue. */
export interface ChatMessage {
  type: "message";
  id: string;
  from: string;
  to: string;
  text: string;
  ts: string;
  queued?: true;
  /** Sent again by a resume (docs/protocol.md §11). */
  replay?: true;
}

/** Replies: exactly one per command (docs/protocol.md §5). */
export type Reply =
  | {
      type: "welcome";
      re: Re;
      name: string;
      users: string[];
      online: number;
      rooms: string[];
      queued: number;
      session?: string;
      replayed?: number;
      gap?: boolean;
    }
  | {
      type: "ok";
      re: Re;
      id?: string;
      queued?: true;
      users?: string[];
      /** The room joined or left; lets the text codec say which. */
      room?: string;
      /** The recipient of a held message; lets the text codec say who. */
      to?: string;
    }
  | { type: "who"; re: Re; room?: string; users: string[]; online?: number; next?: string }
  | { type: "history"; re: Re; with: string; messages: ChatMessage[]; more: boolean }
  | {
      type: "rooms";
      re: Re;
      rooms: { room: string; members: number; online: number }[];
      next?: string;
    }
  | { type: "pong"; re: Re }
  | { type: "help"; re: Re }
  | { type: "bye"; re: Re; reason: "quit" }
  | { type: "error"; re: Re; code: ErrorCode; message: string };

/** Events: whatever happens, unasked (no `re`). */
export type Event =
  | ChatMessage
  | { type: "presence"; name: string; status: "online" | "offline" }
  | { type: "joined"; room: string; name: string }
  | { type: "left"; room: string; name: string }
  | { type: "announce"; text: string; ts: string }
  | { type: "bye"; reason: ByeReason };

/** Anything the server sends to a client. */
export type ServerMessage = Reply | Event;

/** What the host learnt when it checked a login's credentials. */
export type AuthResult =
  /** Allowed; no password or token proved the name (open name, or just registered). */
  | "ok"
  /** Allowed; an existing password or a valid token proved the name (may take it over). */
  | "verified"
  | "auth_failed"
  /** Allowed, but the name is online on another node and nothing proved it. */
  | "taken"
  /** The store or the cluster could not be asked: nothing was checked. */
  | "unavailable"
  /** Too many password checks wait already: nothing was checked (docs/protocol.md §8). */
  | "busy"
  /**
   * Too many failed logins of the name or from the client's address: nothing was checked,
   * and in `retryMs` there is room again (docs/protocol.md §8).
   */
  | { kind: "throttled"; by: "name" | "address"; retryMs: number };

/** What the store said when asked to hold a message. */
export type HoldResult = "held" | "no_such_user" | "queue_full" | "unavailable";

/** One message for the log of its conversation (docs/protocol.md §11). */
export interface LogEntry {
  /** The conversation's key (see `privateConversation`, a room's key, or `*`). */
  conv: string;
  message: ChatMessage;
  /** For a private message: the name keys of its two users. */
  users?: [string, string];
}

/** Messages read back from the log for a resume: the newest ones, and whether any were left out. */
export interface Replay {
  messages: ChatMessage[];
  gap: boolean;
}

/** Inputs to the core: everything that can happen to it. */
export type Input =
  | { type: "open"; conn: ConnId }
  | { type: "command"; conn: ConnId; command: Command; re: Re; now: number }
  /** A frame the host could not decode: answered with `error`, in turn with the others. */
  | { type: "refuse"; conn: ConnId; error: RelayError; re: Re }
  /** The host closes a connection for misbehaving (flood, slow reader, login timeout). */
  | { type: "evict"; conn: ConnId; reason: "flood" | "login_timeout" | "slow_consumer" }
  | { type: "close"; conn: ConnId; now: number }
  /** The rooms and their members as the store keeps them, read at start. */
  | { type: "memberships"; rooms: { room: string; members: string[] }[] }
  /** `name`: the name as its user first wrote it, when the store remembers one. */
  | {
      type: "authenticated";
      conn: ConnId;
      /** The key of the name the login asked for. */
      key: string;
      result: AuthResult;
      name?: string;
      /** The session secret for `welcome` (docs/protocol.md §11), when the login passed. */
      session?: string;
      now: number;
    }
  /** What a login brings: the messages held for the user and, with `since`, what they missed. */
  | { type: "loaded"; conn: ConnId; held: ChatMessage[]; replay: Replay | null; now: number }
  /** A `stream` that asked for it has been written out. */
  | { type: "streamed"; conn: ConnId; now: number }
  | { type: "held"; conn: ConnId; result: HoldResult; now: number }
  /** How a `handOver` ended: taken by the recipient's node, or else held (or not). */
  | { type: "handedOver"; conn: ConnId; result: "sent" | HoldResult; now: number }
  /** A user online here and what the store holds for them (answers `recheckHeld`). */
  | { type: "heldFound"; key: string; messages: ChatMessage[]; sync?: boolean; now: number }
  /** What the logs hold of rooms and `*` since the bus was last heard (answers `catchUp`). */
  | {
      type: "caughtUp";
      messages: ChatMessage[];
      /** What the store holds for the users the `catchUp` named, read after the logs. */
      held: { key: string; messages: ChatMessage[] }[];
      now: number;
    }
  | { type: "userLooked"; conn: ConnId; known: boolean; now: number }
  /** A page of a conversation's log; null when the name asked about never logged in. */
  | {
      type: "historyLoaded";
      conn: ConnId;
      page: { messages: ChatMessage[]; more: boolean } | null;
      now: number;
    }
  | { type: "announce"; text: string; now: number }
  | { type: "kick"; name: string; now: number }
  | { type: "shutdown"; now: number }
  /** What another node of the cluster said. */
  | { type: "bus"; event: BusEvent; now: number }
  /** This node's bus was cut: what it hears next waits for the catch-up once it is back. */
  | { type: "busLost"; now: number }
  /** This node (re)joined its cluster: it asks the others what they hold, and says what it holds. */
  | { type: "sync"; now: number }
  /** Another node stopped answering: its users are gone. */
  | { type: "nodeDown"; node: string; now: number };

/** Effects: what the core asks its host to do, in order. */
export type Effect =
  | { type: "send"; conn: ConnId; msg: ServerMessage }
  /** One message to many connections: encode it once. */
  | { type: "fanout"; conns: ConnId[]; msg: ServerMessage }
  | { type: "close"; conn: ConnId }
  /**
   * Check a login's credentials and, unless they fail, remember that the name logged in (so
   * messages to it may be held) and give it a session secret; answer with `authenticated`.
   */
  | {
      type: "authenticate";
      conn: ConnId;
      name: string;
      key: string;
      password?: string;
      token?: string;
      session?: string;
      /** Whether a password for an unregistered name may be registered now. */
      mayRegister: boolean;
    }
  /**
   * Load what a login brings: the user's held messages and, with `since`, the messages of
   * their conversations after it (their private ones, `rooms`, and `*`); answer `loaded`.
   */
  | { type: "load"; conn: ConnId; key: string; since?: string; rooms: string[] }
  /**
   * Write these messages to the connection no faster than it reads them. Once their bytes
   * have left its outbox, forget `drop` (held messages handed over) in the store, and
   * answer `streamed` when `report` is set.
   */
  | {
      type: "stream";
      conn: ConnId;
      messages: ServerMessage[];
      drop: { key: string; ids: string[] } | null;
      report: boolean;
    }
  /** Keep a message in its conversation's log before anything that follows goes out. */
  | { type: "append"; entry: LogEntry }
  /** Hold a message for an offline user; answer with `held`. */
  | { type: "hold"; conn: ConnId; key: string; message: ChatMessage }
  /** Ask whether a name ever logged in; answer with `userLooked`. */
  | { type: "lookupUser"; conn: ConnId; key: string }
  /** Hold a message that found nobody to hand it to; nobody waits for the answer. */
  | { type: "keep"; key: string; message: ChatMessage }
  /**
   * Hand a private message to the node its recipient is on; if that node does not take it,
   * hold it as `hold` would. Answer with `handedOver`.
   */
  | {
      type: "handOver";
      conn: ConnId;
      node: string;
      key: string;
      event: Extract<BusEvent, { kind: "message" }>;
    }
  /**
   * Load what the store holds for a user online here (`afterMs` from now, when set);
   * answer with `heldFound`.
   */
  | { type: "recheckHeld"; key: string; afterMs?: number; sync?: boolean }
  /**
   * After the bus was away: read the messages of these conversations (rooms, `*`) after
   * `since`, which other nodes published while this node could not hear; answer `caughtUp`.
   */
  | { type: "catchUp"; convs: string[]; since: string; held: string[] }
  /**
   * Read a page of a conversation's log (after checking, when `user` is set, that this
   * name ever logged in); answer with `historyLoaded`.
   */
  | {
      type: "loadHistory";
      conn: ConnId;
      conv: string;
      before?: string;
      limit: number;
      user?: string;
    }
  /** Record that a user joined (`member`) or left a room. */
  | {
      type: "membership";
      room: { key: string; name: string };
      user: { key: string; name: string };
      member: boolean;
    }
  /** End a session secret (`quit` with `forget`). */
  | { type: "forgetSession"; secret: string }
  /** Tell the other nodes (one of them when `node` is set). */
  | { type: "publish"; event: BusEvent; node?: string }
  /** The name is no longer online here: let go of its cluster-wide lease. */
  | { type: "release"; key: string };
