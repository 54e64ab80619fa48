import { backoffDelay, type ReconnectOptions } from "./backoff.ts";
import { RelayError } from "./errors.ts";
import type { ReconnectingInfo } from "./types.ts";

// A refusal a new attempt cannot cure. Not `auth_failed`: credentials that worked may fail
// while the server's store is away (docs/protocol.md §9), so that one is tried again.
const FATAL_LOGIN = new Set(["bad_name"]);

/** What the reconnecting loop asks of the client. */
export interface ReconnectSteps {
  /** Whether the client stopped: the loop ends without a word. */
  stopped(): boolean;
  /** One attempt to connect and log in; rejects when it fails. */
  attempt(): Promise<unknown>;
  /** The loop waits `delayMs` before its next attempt. */
  reconnecting(info: ReconnectingInfo): void;
  /** The loop gives up: too many attempts, or a login no attempt can cure. */
  giveUp(error: RelayError): void;
}

/**
 * Tries to connect again after a connection ended: waits (backoff with jitter, see
 * {@link backoffDelay}), attempts, and again, until an attempt succeeds, the client stops,
 * `maxAttempts` attempts failed or a login is refused for good (`bad_name`).
 *
 * @example
 * const reconnector = new Reconnector();
 * void reconnector.run(options, steps);
 * reconnector.wake(); // the client stopped: end the wait at once
 */
export class Reconnector {
  #sleeping: { timer: ReturnType<typeof setTimeout>; wake(): void } | null = null;

  /** Runs the loop until it succeeds, gives up or the client stops. */
  async run(options: Required<ReconnectOptions>, steps: ReconnectSteps): Promise<void> {
    let error: Error | undefined;
    for (let attempt = 0; !steps.stopped(); attempt++) {
      if (attempt >= options.maxAttempts) {
        const cause = error;
        return steps.giveUp(
          new RelayError("connect_failed", `gave up after ${attempt} attempts to reconnect`, {
            cause,
          }),
        );
      }
      const delayMs = backoffDelay(attempt, options);
      steps.reconnecting({ attempt: attempt + 1, delayMs, ...(error && { error }) });
      await this.#sleep(delayMs);
      if (steps.stopped()) return;
      try {
        await steps.attempt();
        return;
      } catch (e) {
        error = e instanceof Error ? e : new Error(String(e));
        if (steps.stopped()) return;
        if (e instanceof RelayError && FATAL_LOGIN.has(e.code)) return steps.giveUp(e);
      }
    }
  }

  /** Ends the current wait at once (the client stopped). */
  wake(): void {
    if (this.#sleeping === null) return;
    clearTimeout(this.#sleeping.timer);
    this.#sleeping.wake();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.#sleeping = null;
        resolve();
      };
      this.#sleeping = { timer: setTimeout(wake, ms), wake };
    });
  }
}
