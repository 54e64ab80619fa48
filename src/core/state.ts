import type { RemoteUser } from "./bus.ts";
import type { ChatMessage, Command, ConnId, Re, RelayError, ServerMessage } from "./types.ts";

/** Where a message goes: a user, a room, or everyone. */
export interface Target {
  kind: "user" | "room" | "all";
  /** As shown (NFC, as first written). */
  name: string;
  key: string;
}

/**
 * A room: it exists while it has members, online or not (docs/protocol.md §11), here or on
 * other nodes.
 */
export interface Room {
  name: string;
  key: string;
  /** Every member, online or not, anywhere: name as shown, by name key. */
  all: Map<string, string>;
  /** Members online on this node, by name key, in the order they came. */
  members: Map<string, Session>;
  /** Members online on other nodes, by name key. */
  remote: Map<string, RemoteUser>;
}

/**
 * What a session waits for from its host. While it waits, its later commands queue in
 * `backlog`, so that every command is answered in order.
 */
export type Waiting =
  | { kind: "auth"; re: Re; name: string; key: string; since: string | undefined }
  | { kind: "load"; re: Re; takeover: boolean; since: string | undefined }
  /** Held or replayed messages are being written out at the pace the reader takes them. */
  | { kind: "stream" }
  | { kind: "hold"; re: Re; key: string; message: ChatMessage; conv: string | null }
  | { kind: "handover"; re: Re; key: string; message: ChatMessage }
  | { kind: "lookup"; re: Re; target: Target }
  | { kind: "history"; re: Re; with: string };

/** A command, or a refused frame, waiting for its turn to be answered. */
export type Pending = { re: Re; command: Command } | { re: Re; error: RelayError };

/** One connection's chat state. */
export interface Session {
  conn: ConnId;
  /**
   * anonymous → authenticating → admitting (name claimed, held or missed messages loading
   * and being written out) → online; closed once gone.
   */
  phase: "anonymous" | "authenticating" | "admitting" | "online" | "closed";
  /** The name as shown, and its key; empty until the name is claimed. */
  name: string;
  key: string;
  /** This user as a destination (the partner others get when this user writes to them). */
  self: Target | null;
  /** Where a plain line goes (docs/protocol.md §6, the reply rule). */
  partner: Target | null;
  /** The rooms this session is in; `NO_ROOMS` (shared, never written) until it has one. */
  rooms: Map<string, Room>;
  waiting: Waiting | null;
  backlog: Pending[];
  /** About how many bytes the commands in `backlog` hold. */
  backlogBytes: number;
  /** What arrived while the session was being admitted, in arrival order. */
  deferred: ServerMessage[];
  /** More arrived while it was admitted than it may keep: it goes as a slow reader. */
  overflowed: boolean;
  /** Ids of the held or replayed messages written out, so none is written twice. */
  fromQueue: Set<string> | null;
  /** The session secret this login holds (docs/protocol.md §11), given by the host. */
  secret: string | null;
  /** Messages with ids up to this one the session knew of, or did not need (`floorOf`). */
  floor: string;
  /** The users (keys) it exchanged a private message with since it logged in. */
  contacts: Set<string> | null;
}

/** The rooms of a session that is in none: shared by all of them, so never written. */
export const NO_ROOMS: ReadonlyMap<string, Room> = new Map();

/** A fresh, anonymous session. */
export function newSession(conn: ConnId): Session {
  return {
    conn,
    phase: "anonymous",
    name: "",
    key: "",
    self: null,
    partner: null,
    rooms: NO_ROOMS as Map<string, Room>,
    waiting: null,
    backlog: [],
    backlogBytes: 0,
    deferred: [],
    overflowed: false,
    fromQueue: null,
    secret: null,
    floor: "",
    contacts: null,
  };
}

/** A waiting state of one kind. */
export type WaitingOf<K extends Waiting["kind"]> = Extract<Waiting, { kind: K }>;
