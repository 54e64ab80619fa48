import { describe, expect, test } from "vitest";
import { backoffDelay, RECONNECT_DEFAULTS, RecentIds } from "../../src/client/mod.ts";

describe("backoffDelay", () => {
  test.each([
    [0, 0, 250],
    [0, 1, 500],
    [1, 1, 1000],
    [3, 0.5, 3000],
    [5, 1, 16_000],
    [6, 1, 30_000],
    [40, 0, 15_000],
  ])("attempt %i with random %f waits %i ms", (attempt, random, delay) => {
    expect(backoffDelay(attempt, RECONNECT_DEFAULTS, () => random)).toBe(delay);
  });

  test("stays within half the ceiling and the ceiling", () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(30_000, 500 * 2 ** attempt);
      const delay = backoffDelay(attempt, RECONNECT_DEFAULTS);
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });
});

describe("RecentIds", () => {
  test("remembers the last ids up to its capacity, forgetting the oldest first", () => {
    const ids = new RecentIds(3);
    for (const id of ["a", "b", "c", "a", "d"]) ids.add(id);
    expect(["a", "b", "c", "d"].map((id) => ids.has(id))).toEqual([false, true, true, true]);
  });
});
