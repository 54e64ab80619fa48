import type * as v from "valibot";
import type { ChatMessage, Event, Reply } from "../core/types.ts";
import type { COMMAND_SCHEMAS } from "../protocol/schema.ts";

export type { ByeReason, ChatMessage, ErrorCode } from "../core/types.ts";

type Schemas = typeof COMMAND_SCHEMAS;

/**
 * A JSON command of docs/protocol.md §4 by its `type`, as the server's valibot schema
 * accepts it (without `id`: the client assigns ids).
 *
 * @example
 * const send: CommandOf<"msg"> = { type: "msg", to: "#dev", text: "hello" };
 */
export type CommandOf<T extends keyof Schemas> = v.InferInput<Schemas[T]>;

/**
 * A command a program sends with `client.request`: every JSON command but `login` and
 * `quit`, which the client sends itself (`connect`, reconnecting, `close`).
 *
 * @example
 * const commands: ClientCommand[] = [
 *   { type: "join", room: "#dev" },
 *   { type: "msg", to: "#dev", text: "hi all" },
 *   { type: "history", with: "#dev", limit: 20 },
 * ];
 */
export type ClientCommand = {
  [T in Exclude<keyof Schemas, "login" | "quit">]: CommandOf<T>;
}[Exclude<keyof Schemas, "login" | "quit">];

/**
 * A reply of docs/protocol.md §5 by its `type`.
 *
 * @example
 * const pong: ReplyOf<"pong"> = { type: "pong", re: "7" };
 */
export type ReplyOf<T extends Reply["type"]> = Extract<Reply, { type: T }>;

/** The reply to `login`: who you are, who is online, your rooms, your session secret. */
export type Welcome = ReplyOf<"welcome">;
/** The reply to `to`, `say`, `msg`, `join` and `leave`; `id` is a sent message's id. */
export type OkReply = ReplyOf<"ok">;
/** The reply to `who`. */
export type WhoReply = ReplyOf<"who">;
/** The reply to `history`: one page of a conversation, oldest first. */
export type HistoryReply = ReplyOf<"history">;
/** The reply to `rooms`. */
export type RoomsReply = ReplyOf<"rooms">;
/** The reply to `ping`. */
export type PongReply = ReplyOf<"pong">;

/** Which reply answers which command (docs/protocol.md §5). */
interface ReplyTypes {
  to: "ok";
  say: "ok";
  msg: "ok";
  join: "ok";
  leave: "ok";
  who: "who";
  history: "history";
  rooms: "rooms";
  ping: "pong";
}

// Every command a program may send has its reply: the two lists cannot drift apart.
type _Covered = ReplyTypes[ClientCommand["type"]];

/**
 * The success reply to a command (an `error` reply rejects instead).
 *
 * @example
 * const reply: ReplyFor<{ type: "ping" }> = { type: "pong", re: "1" };
 */
export type ReplyFor<C extends ClientCommand> = ReplyOf<ReplyTypes[C["type"]]>;

/** Someone came online or went offline (docs/protocol.md §12). */
export type PresenceEvent = Extract<Event, { type: "presence" }>;
/** Someone joined one of your rooms. */
export type JoinedEvent = Extract<Event, { type: "joined" }>;
/** Someone left one of your rooms. */
export type LeftEvent = Extract<Event, { type: "left" }>;
/** An operator's announcement. */
export type AnnounceEvent = Extract<Event, { type: "announce" }>;
/** The server is closing this connection, and why. */
export type ByeEvent = Extract<Event, { type: "bye" }>;

/** What the `close` event says. */
export interface CloseInfo {
  /** Whether the client will connect and log in again by itself. */
  reconnect: boolean;
  /** The reason of the server's `bye`, when it said one. */
  reason?: ByeEvent["reason"];
  /** Why the client stopped, when it gave up (a failed login, too many attempts). */
  error?: Error;
}

/** What the `reconnecting` event says: the next attempt starts after `delayMs`. */
export interface ReconnectingInfo {
  /** 1 for the first attempt after a connection ended, then 2, 3, ... */
  attempt: number;
  delayMs: number;
  /** Why the previous attempt failed, if there was one. */
  error?: Error;
}

/**
 * The events of a {@link RelayClient}, by name, with what each carries (the `detail` of
 * the `CustomEvent`, or the argument of an `on` handler).
 *
 * - `message`, `presence`, `joined`, `left`, `announce`, `bye`: the server's events (§5).
 * - `open`: a login succeeded (at `connect()`, and after each reconnect); carries the welcome.
 * - `close`: a logged-in connection ended, or the client stopped trying.
 * - `reconnecting`: the client waits before its next attempt to connect.
 */
export interface RelayClientEvents {
  message: ChatMessage;
  presence: PresenceEvent;
  joined: JoinedEvent;
  left: LeftEvent;
  announce: AnnounceEvent;
  bye: ByeEvent;
  open: Welcome;
  close: CloseInfo;
  reconnecting: ReconnectingInfo;
}
