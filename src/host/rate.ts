/**
 * A token bucket: `rate` tokens a second, holding at most `burst`. Time comes in as an
 * argument (ms), so the bucket is deterministic.
 *
 * @example
 * const bucket = new TokenBucket(20, 40, 0);
 * bucket.take(0); // true, 39 tokens left
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  constructor(rate: number, burst: number, now: number) {
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = burst;
    this.#at = now;
  }

  /** Takes one token if there is one; false when the bucket is empty. */
  take(now: number): boolean {
    if (now > this.#at) {
      this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) * this.#rate) / 1000);
      this.#at = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** What the rate limit says about one command. */
export type RateVerdict = "pass" | "limited" | "flood";

/**
 * The per-connection command limit of docs/protocol.md §8: `rate` commands a second in bursts of
 * twice that; a command over the limit is `limited`, and so many of those that even a
 * second, slower bucket of refusals runs dry is a `flood`.
 *
 * @example
 * const limit = new CommandLimit(20, 0);
 * limit.check(0); // "pass"
 */
export class CommandLimit {
  readonly #commands: TokenBucket;
  readonly #refusals: TokenBucket;

  /** `rate` commands a second; 0 turns the limit off. */
  constructor(rate: number, now: number) {
    this.#commands = new TokenBucket(rate, rate * 2, now);
    // Tolerates sending a quarter above the rate for ever; far more soon counts as a flood.
    this.#refusals = new TokenBucket(rate / 4, rate * 2, now);
  }

  /** Counts one command at `now` (ms) and says whether it may run. */
  check(now: number): RateVerdict {
    if (this.#commands.take(now)) return "pass";
    return this.#refusals.take(now) ? "limited" : "flood";
  }
}
