import type { ErrorCode } from "../core/types.ts";

/**
 * Codes of failures the client itself detects, beside the server's codes of
 * docs/protocol.md §9:
 *
 * - `connect_failed`: no connection could be made (or reconnecting gave up).
 * - `connection_lost`: the connection ended while the request waited for its reply; the
 *   server may or may not have carried it out (a `msg` it kept comes back in the resume
 *   replay, with your own name as `from`).
 * - `not_connected`: the client is between connections and `maxBacklog` is 0.
 * - `backlog_full`: the client is between connections and `maxBacklog` requests wait already.
 * - `closed`: `close()` was called, or the server ended the session for good (`bye kicked`
 *   or `bye replaced`), or reconnecting gave up.
 * - `unavailable`: the server could not read the history it was asked for.
 */
export type ClientErrorCode =
  | "connect_failed"
  | "connection_lost"
  | "not_connected"
  | "backlog_full"
  | "closed"
  | "unavailable";

/** Every code a {@link RelayError} may carry: the server's (§9) and the client's own. */
export type RelayErrorCode = ErrorCode | ClientErrorCode;

/**
 * A request or a connection that failed, with a stable `code`: an `error` reply of the
 * server (`code` from docs/protocol.md §9), or a {@link ClientErrorCode}.
 *
 * @example
 * try {
 *   await client.request({ type: "msg", to: "nobody", text: "hi" });
 * } catch (e) {
 *   if (e instanceof RelayError && e.code === "no_such_user") console.log(e.message);
 * }
 */
export class RelayError extends Error {
  /** What went wrong, for programs. */
  readonly code: RelayErrorCode;

  /**
   * @example
   * new RelayError("closed", "the client was closed");
   */
  constructor(code: RelayErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RelayError";
    this.code = code;
  }

  /**
   * Whether the server sent this error (an `error` reply), rather than the client.
   *
   * @example
   * new RelayError("no_such_user", "nobody called bob").fromServer; // true
   * new RelayError("closed", "the client was closed").fromServer; // false
   */
  get fromServer(): boolean {
    return !CLIENT_CODES.has(this.code);
  }
}

const CLIENT_CODES: ReadonlySet<RelayErrorCode> = new Set<ClientErrorCode>([
  "connect_failed",
  "connection_lost",
  "not_connected",
  "backlog_full",
  "closed",
  "unavailable",
]);
