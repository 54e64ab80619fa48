import type { ChatMessage, HoldResult } from "../../core/mod.ts";

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
  /** How many messages are held in all (for metrics). */
  heldCount(): Promise<number>;
  /** Lets go of the store's resources; pending writes are flushed first. */
  close(): Promise<void>;
}
