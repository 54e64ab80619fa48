import type { RemoteUser } from "./bus.ts";
import type { ChatMessage, Command, ConnId, Re, RelayError } from "./types.ts";

/** Where a message goes: a user, a room, or everyone. */
export interface Target {
  kind: "user" | "room" | "all";
  /** As shown (NFC, as first written). */
  name: string;
  key: string;
}

/** A room: it exists while it has members, here or on other nodes. */
export interface Room {
  name: string;
  key: string;
  /** Members connected to this node, by name key, in the order they joined. */
  members: Map<string, Session>;
  /** Members connected to other nodes, by name key. */
  remote: Map<string, RemoteUser>;
}

/**
 * What a session waits for from its host. While it waits, its later commands queue in
 * `backlog`, so that every command is answered in order.
 */
export type Waiting =
  | { kind: "auth"; re: Re; name: string; key: string }
  | { kind: "queue"; re: Re; takeover: boolean }
  | { kind: "hold"; re: Re; key: string; message: ChatMessage }
  | { kind: "handover"; re: Re; key: string; message: ChatMessage }
  | { kind: "lookup"; re: Re; target: Target };

/** A command, or a refused frame, waiting for its turn to be answered. */
export type Pending = { re: Re; command: Command } | { re: Re; error: RelayError };

/** One connection's chat state. */
export interface Session {
  conn: ConnId;
  /**
   * anonymous → authenticating → admitting (name claimed, held messages loading) → online;
   * closed once gone.
   */
  phase: "anonymous" | "authenticating" | "admitting" | "online" | "closed";
  /** The name as shown, and its key; empty until the name is claimed. */
  name: string;
  key: string;
  /** This user as a destination (the partner others get when this user writes to them). */
  self: Target | null;
  /** Where a plain line goes (PROTOCOL.md §6, the reply rule). */
  partner: Target | null;
  /** The rooms joined; `NO_ROOMS` (shared, never written) until the first join. */
  rooms: Map<string, Room>;
  waiting: Waiting | null;
  backlog: Pending[];
  /** Private messages that arrived while the session was being admitted. */
  deferred: ChatMessage[];
  /** Ids of the held messages handed over at login, so none is handed over twice. */
  fromQueue: Set<string> | null;
}

/** The rooms of a session that never joined one: shared by all of them, so never written. */
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
    deferred: [],
    fromQueue: null,
  };
}
