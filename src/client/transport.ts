/**
 * What a {@link Transport} tells the client about one connection.
 */
export interface ConnectionEvents {
  /** One frame from the server: a JSON object as text (one TCP line without its `\n`). */
  frame(text: string): void;
  /** The connection ended, whoever ended it. Called at most once, and never before `open` resolved. */
  closed(): void;
}

/** One open connection to a relay, in JSON mode. */
export interface Connection {
  /** Sends one frame (a JSON command as text; a TCP transport adds the `\n`). */
  send(frame: string): void;
  /** Ends the connection; the peer may be gone already. */
  close(): void;
}

/**
 * How the client reaches a relay: each `open` makes a new connection (the client opens
 * one per attempt, so reconnecting needs nothing else). It rejects when the connection
 * cannot be made, and then never calls `events.closed`. The library gives
 * `webSocketTransport`; `adapters/node/client-tcp.ts` gives a TCP one for Node. Anything
 * that carries frames both ways fits, e.g. a scripted fake in tests.
 *
 * @example
 * // A transport that refuses every attempt.
 * const offline: Transport = {
 *   open: () => Promise.reject(new Error("offline")),
 * };
 */
export interface Transport {
  open(events: ConnectionEvents): Promise<Connection>;
}
