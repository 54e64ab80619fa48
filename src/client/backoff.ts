/** How the client reconnects after a connection ends. */
export interface ReconnectOptions {
  /** The longest wait before the first attempt (default 500 ms). */
  initialDelayMs?: number;
  /** The longest wait before any attempt (default 30 s). */
  maxDelayMs?: number;
  /** Attempts in a row after which the client gives up (default: never). */
  maxAttempts?: number;
}

/** The defaults of {@link ReconnectOptions}. */
export const RECONNECT_DEFAULTS: Required<ReconnectOptions> = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/**
 * How long to wait before attempt number `attempt` (0 for the first after a drop):
 * exponential backoff with "equal jitter". The ceiling doubles from `initialDelayMs` up to
 * `maxDelayMs`, and the wait is between half the ceiling and the ceiling, so clients that
 * lost the same server do not all come back at the same instant.
 *
 * @example
 * backoffDelay(0, RECONNECT_DEFAULTS, () => 0); // 250
 * backoffDelay(0, RECONNECT_DEFAULTS, () => 1); // 500
 * backoffDelay(3, RECONNECT_DEFAULTS, () => 1); // 4000
 * backoffDelay(20, RECONNECT_DEFAULTS, () => 1); // 30000
 */
export function backoffDelay(
  attempt: number,
  options: Required<ReconnectOptions>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
