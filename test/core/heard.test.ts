import { describe, expect, test } from "vitest";
import { HEARD_WINDOW_MS, HeardMessages, idAt, MessageIds } from "../../src/core/mod.ts";

describe("messages heard from the bus", () => {
  test("a message heard again within a minute is a second copy", () => {
    const ids = new MessageIds("a");
    const heard = new HeardMessages();
    const t0 = Date.UTC(2026, 0, 1);
    const first = ids.next(t0);
    expect(heard.add(first)).toBe(true);
    // Ten seconds of other messages later (past the catch-up window), the resent publish.
    for (let t = t0; t < t0 + 10_000; t += 100) heard.add(ids.next(t));
    expect(heard.add(first)).toBe(false);
  });

  test("after a minute it is forgotten, so memory stays bounded", () => {
    const ids = new MessageIds("a");
    const heard = new HeardMessages();
    const t0 = Date.UTC(2026, 0, 1);
    const first = ids.next(t0);
    heard.add(first);
    heard.add(ids.next(t0 + 61_000));
    expect(heard.has(first)).toBe(false);
  });

  test("a catch-up reads from the window before the newest message heard", () => {
    const heard = new HeardMessages();
    const t0 = Date.UTC(2026, 0, 1);
    heard.add(new MessageIds("a").next(t0));
    expect(heard.since()).toBe(idAt(t0 - HEARD_WINDOW_MS));
    heard.touch(t0 + 60_000);
    expect(heard.since()).toBe(idAt(t0 + 60_000 - HEARD_WINDOW_MS));
  });
});
