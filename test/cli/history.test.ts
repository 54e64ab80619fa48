import { describe, expect, test } from "vitest";
import { parseHistory } from "../../src/cli/chat/history.ts";

describe("/history in the terminal client", () => {
  test.each([
    ["/history bo", null, { type: "history", with: "bo" }],
    ["/history #dev 20", null, { type: "history", with: "#dev", limit: 20 }],
    ["/history * 200", null, { type: "history", with: "*", limit: 200 }],
    ["/HISTORY bo 1", null, { type: "history", with: "bo", limit: 1 }],
    ["/history", "#dev", { type: "history", with: "#dev" }],
  ] as const)("%j (partner %j)", (line, partner, command) => {
    expect(parseHistory(line, partner)).toEqual(command);
  });

  test.each([
    ["/history", null],
    ["/history bo 0", null],
    ["/history bo 201", null],
    ["/history bo two", null],
    ["/history bo 2 3", null],
  ] as const)("%j is refused with a sentence", (line, partner) => {
    expect(parseHistory(line, partner)).toHaveProperty("error");
  });

  test("other lines are not history lines", () => {
    expect(parseHistory("/historyx bo", null)).toBeNull();
    expect(parseHistory("history bo", null)).toBeNull();
    expect(parseHistory("/msg bo /history", null)).toBeNull();
  });
});
