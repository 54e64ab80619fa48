import type { ChatMessage, HoldResult, LogEntry } from "../../core/mod.ts";

export type { LogEntry } from "../../core/mod.ts";

/** A registered name's password, as stored: a salted PBKDF2-SHA-256 hash. */
export interface PasswordRecord {
  salt: string;
  hash: string;
  iterations: number;
}

/**
 * Where the relay keeps what outlives a connection: the names that ever logged in, their
 * password hashes, and the messages held for them while offline. Keys are name keys
 * (NFC, lower case). Methods reject only when the store itself fails.
 */
export interface Store {
  /** The password record of a name, or null when it has none. */
  account(key: string): Promise<PasswordRecord | null>;
  /** Registers a password for a name unless it has one; false when it already had one. */
  register(key: string, record: PasswordRecord): Promise<boolean>;
  /**
   * Replaces a name's password record by `next` (the same password, hashed anew) if it is
   * still `current`; false, writing nothing, when it is not (it changed meanwhile).
   */
  rehash(key: string, current: PasswordRecord, next: PasswordRecord): Promise<boolean>;
  /**
   * Counts a failed login of a name (docs/protocol.md §8): the store keeps the newest `keep`
   * of its failures of the last `windowMs`, for every node that shares it.
   */
  fail(key: string, windowMs: number, keep: number): Promise<void>;
  /**
   * The failed logins of a name kept from the last `windowMs`, oldest first: for each, how
   * many ms until it leaves that window.
   */
  failures(key: string, windowMs: number): Promise<number[]>;
  /**
   * Records that a name logged in, so that messages to it may be held; returns the name as
   * it was first written.
   */
  remember(key: string, name: string): Promise<string>;
  /** Whether a name ever logged in. */
  known(key: string): Promise<boolean>;
  /** Holds a message for a known name, unless `max` are held for it already. */
  hold(key: string, message: ChatMessage, max: number): Promise<HoldResult>;
  /** The messages held for a name, oldest first. */
  held(key: string): Promise<ChatMessage[]>;
  /** Forgets held messages that were handed over. */
  drop(key: string, ids: string[]): Promise<void>;
  /**
   * Appends messages to the logs of their conversations, all in one commit, and trims each
   * log it touched to its newest `keep` messages. A private message is also recorded as a
   * conversation of both its users (see `conversations`).
   */
  append(entries: LogEntry[], keep: number): Promise<void>;
  /**
   * The newest `limit` messages of a conversation with ids before `before` (all, when
   * undefined), oldest first; `more` when older ones are kept.
   */
  page(conv: string, before: string | undefined, limit: number): Promise<LogPage>;
  /**
   * The messages of these conversations with ids after `since`: the newest `max` of them,
   * oldest first; `gap` when more than `max` were there, or when some after `since` were
   * trimmed away (see `append`): each log remembers the newest id it trimmed away.
   */
  since(
    convs: string[],
    since: string,
    max: number,
  ): Promise<{ messages: ChatMessage[]; gap: boolean }>;
  /** The private conversations (keys as `conversationOf` makes them) a user has had. */
  conversations(key: string): Promise<string[]>;
  /** Records that a user is a member of a room (`name`s as shown), until `leave`. */
  join(room: { key: string; name: string }, user: { key: string; name: string }): Promise<void>;
  /** Records that a user left a room. */
  leave(roomKey: string, userKey: string): Promise<void>;
  /** Every room with its members, as shown. */
  memberships(): Promise<Membership[]>;
  /** Keeps a session: the SHA-256 of its secret (hex) maps to a name key for `ttlMs`. */
  saveSession(hash: string, key: string, ttlMs: number): Promise<void>;
  /** The name key of a live session, its life renewed for `ttlMs`; null when none. */
  useSession(hash: string, ttlMs: number): Promise<string | null>;
  /** Ends a session. */
  dropSession(hash: string): Promise<void>;
  /** How many messages are held in all (for metrics). */
  heldCount(): Promise<number>;
  /** Lets go of the store's resources; pending writes are flushed first. */
  close(): Promise<void>;
}

/** A page of a conversation's log. */
export interface LogPage {
  messages: ChatMessage[];
  more: boolean;
}

/** A room and its members, online or not. */
export interface Membership {
  room: string;
  members: string[];
}
