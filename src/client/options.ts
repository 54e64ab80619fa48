import type { ReconnectOptions } from "./backoff.ts";
import type { Transport } from "./transport.ts";
import type { WebSocketConstructor } from "./websocket.ts";

/** How to reach the relay, who to be, and how to behave when the connection drops. */
export interface RelayClientOptions {
  /** `ws://host:port/ws` or `wss://...`; or give `transport` instead. */
  url?: string;
  /** The WebSocket class for `url` (default: the runtime's global one; Node 20 has none). */
  WebSocket?: WebSocketConstructor;
  /** Any other way to reach the relay, e.g. TCP (`adapters/node/client-tcp.ts`). */
  transport?: Transport;
  name: string;
  /** The name's password (registers it if the name has none, docs/protocol.md §6). */
  password?: string;
  /** A JWT, for a relay in token mode. */
  token?: string;
  /** A session secret of an earlier `welcome`, e.g. kept by a program between runs. */
  session?: string;
  /** The newest message id the program saw in an earlier run: the first login resumes after it. */
  since?: string;
  /** How to reconnect (see {@link ReconnectOptions}); `false` never reconnects. */
  reconnect?: ReconnectOptions | false;
  /**
   * How many requests may wait for a connection while there is none (default 100); past
   * that they fail with `backlog_full`. `0` fails each at once with `not_connected`.
   */
  maxBacklog?: number;
  /**
   * How often a quiet connection is checked with a `ping` (default 30 s; `0`: never). A
   * connection that answers nothing for a whole period is dropped and reconnected.
   */
  heartbeatMs?: number;
}

/** What `close` sends to the server. */
export interface CloseOptions {
  /** End the session secret on the server too (`quit` with `forget`, docs/protocol.md §11.5). */
  forget?: boolean;
  /** The `reason` of the `quit`. */
  reason?: string;
}
