/** What the heartbeat does to the connection it watches. */
export interface HeartbeatChecks {
  /** Whether the connection is still the client's: a heartbeat of an old one does nothing. */
  current(): boolean;
  /** Sends a `ping`; settles with its reply. */
  ping(): Promise<unknown>;
  /** The connection answered nothing for a whole period: drop it. */
  dead(): void;
}

/**
 * Keeps a quiet connection checked: every period without a frame from the server sends a
 * `ping`, and a ping out for a whole period with no frame since means the connection is
 * dead. A period of 0 or less checks nothing.
 *
 * @example
 * const heartbeat = new Heartbeat(30_000);
 * heartbeat.start({ current: () => true, ping: () => client.request({ type: "ping" }), dead: () => conn.close() });
 * heartbeat.heard(); // on every frame
 * heartbeat.stop();
 */
export class Heartbeat {
  readonly #periodMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #heard = false;

  constructor(periodMs: number) {
    this.#periodMs = periodMs;
  }

  /** A frame came from the server: the connection is alive. */
  heard(): void {
    this.#heard = true;
  }

  /** Starts watching a connection (and stops watching the one before). */
  start(checks: HeartbeatChecks): void {
    if (this.#periodMs <= 0) return;
    this.stop();
    let pinging = false;
    this.#heard = true;
    this.#timer = setInterval(() => {
      if (!checks.current()) return;
      // A ping out for a whole period and not a frame since: the connection is dead.
      if (pinging && !this.#heard) return checks.dead();
      this.#heard = false;
      if (pinging) return;
      pinging = true;
      checks.ping().then(
        () => {
          pinging = false;
        },
        () => {},
      );
    }, this.#periodMs);
  }

  /** Stops checking. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
