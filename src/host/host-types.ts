import type { Transport } from "../core/mod.ts";
import type { AuthMode, PasswordOptions } from "./auth.ts";
import type { Bus } from "./bus/bus.ts";
import type { RelayConfig } from "./config.ts";
import type { Store } from "./store/store.ts";
import type { LoginLimits } from "./throttle.ts";

/**
 * One client connection as an adapter sees it: somewhere to write text, and a way to
 * close. `framing` says whether a frame is a line of a byte stream (TCP) or one message
 * (WebSocket).
 */
export interface Link {
  readonly transport: Transport;
  readonly remote: string;
  readonly framing: "line" | "message";
  /** `irc`: the connection speaks IRC from its first line (the IRC port); else its first frame decides. */
  readonly mode?: "irc";
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
  | "presenceAll"
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
  | "auth"
  | "ircPingMs"
  | "maxRoomsPerUser"
  | "maxRooms"
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
  /** Waits between the tries of a failed log commit (ms); tests shorten them. */
  logRetries?: readonly number[];
  /** Where the host reports what it cannot answer to a client (store failures). */
  log?: (line: string) => void;
  /**
   * Runs the flush of the outboxes soon: after every connection with bytes waiting has been
   * read, so that one write carries all that a connection is sent meanwhile. Node passes
   * `setImmediate`; the default is `setTimeout(…, 0)`.
   */
  schedule?: (flush: () => void) => void;
  /** How passwords are hashed: PBKDF2 rounds (tests use fewer) and the queue of checks. */
  passwords?: PasswordOptions;
  /** Failed logins let through per name and per address (docs/protocol.md §8). */
  loginLimits?: LoginLimits;
}
