/** Width of a latency bin, in milliseconds. */
export const BIN_MS = 0.05;
/** Bins: up to 5 s; later arrivals count in the last one. */
export const BINS = 100_000;

/**
 * The latency (ms) below which `fraction` of the samples fall, from merged histogram bins.
 *
 * @example
 * percentile(new Map([[0, 1], [20, 1]]), 0.5); // 0.05
 */
export function percentile(bins: Map<number, number>, fraction: number): number {
  let total = 0;
  for (const n of bins.values()) total += n;
  if (total === 0) return Number.NaN;
  const goal = total * fraction;
  let seen = 0;
  for (const [bin, n] of [...bins].sort((a, b) => a[0] - b[0])) {
    seen += n;
    if (seen >= goal) return (bin + 1) * BIN_MS;
  }
  return BINS * BIN_MS;
}
