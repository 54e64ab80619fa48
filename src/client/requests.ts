import type { Reply } from "../core/types.ts";
import { RelayError } from "./errors.ts";
import type { Connection } from "./transport.ts";

/** A request waiting for its reply, or, between connections, for a connection. */
export interface Waiting {
  command: object;
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

/**
 * The client's requests: those sent, by the `id` each was given, until their reply comes,
 * and those waiting for the next connection (at most `maxBacklog`, in order).
 *
 * @example
 * const requests = new Requests(100);
 * requests.transmit(conn, { command: { type: "ping" }, resolve: console.log, reject: console.error });
 * requests.answered("c1")?.resolve({ type: "pong", re: "c1" });
 */
export class Requests {
  readonly #maxBacklog: number;
  readonly #inflight = new Map<string, Waiting>();
  #backlog: Waiting[] = [];
  #seq = 0;

  constructor(maxBacklog: number) {
    this.#maxBacklog = maxBacklog;
  }

  /** Gives the request an id, remembers it until its reply, and sends it on `conn`. */
  transmit(conn: Connection | null, waiting: Waiting): void {
    const id = `c${++this.#seq}`;
    this.#inflight.set(id, waiting);
    conn?.send(JSON.stringify({ ...waiting.command, id }));
  }

  /**
   * Keeps a request for the next connection; returns the error to reject it with instead
   * when it cannot wait (`not_connected` with no backlog at all, else `backlog_full`).
   */
  hold(waiting: Waiting): RelayError | null {
    if (this.#maxBacklog === 0) return new RelayError("not_connected", "not connected");
    if (this.#backlog.length >= this.#maxBacklog) {
      return new RelayError(
        "backlog_full",
        `${this.#maxBacklog} requests already wait for a connection`,
      );
    }
    this.#backlog.push(waiting);
    return null;
  }

  /** The requests that waited for a connection, in order; none wait afterwards. */
  takeBacklog(): Waiting[] {
    const backlog = this.#backlog;
    this.#backlog = [];
    return backlog;
  }

  /**
   * The request a reply answers, no longer in flight: the one whose id is `re`, or, for a
   * reply to a frame the server could not read (`re` null), the oldest, as replies come
   * in order.
   */
  answered(re: string | null): Waiting | undefined {
    const id = re === null ? this.#inflight.keys().next().value : re;
    const waiting = id === undefined ? undefined : this.#inflight.get(id);
    if (id !== undefined && waiting !== undefined) this.#inflight.delete(id);
    return waiting;
  }

  /** The connection ended: every request in flight fails with `connection_lost`. */
  failInflight(): void {
    const lost = [...this.#inflight.values()];
    this.#inflight.clear();
    for (const waiting of lost) {
      waiting.reject(new RelayError("connection_lost", "the connection ended before the reply"));
    }
  }

  /** No connection will come: every request waiting for one fails with `error`. */
  failBacklog(error: Error): void {
    for (const waiting of this.takeBacklog()) waiting.reject(error);
  }
}
