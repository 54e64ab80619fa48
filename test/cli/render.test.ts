import { describe, expect, test } from "vitest";
import { complete, prompt, renderError, renderMessage } from "../../src/cli/chat/render.ts";
import type { WhoReply } from "../../src/client/mod.ts";

const plain = { color: false };
const ts = "2026-05-06T07:08:09.000Z";

describe("rendering", () => {
  test.each([
    [{ type: "message", id: "1", from: "bo", to: "ann", text: "hi", ts }, "[07:08:09] bo: hi"],
    [{ type: "message", id: "1", from: "bo", to: "#x", text: "hi", ts }, "[07:08:09] #x bo: hi"],
    [{ type: "message", id: "1", from: "bo", to: "*", text: "hi", ts }, "[07:08:09] * bo: hi"],
    [
      { type: "message", id: "1", from: "bo", to: "ann", text: "hi", ts, queued: true },
      "[2026-05-06 07:08:09] bo: hi",
    ],
    [{ type: "error", re: "1", code: "no_target", message: "pick" }, "! no_target: pick"],
    [{ type: "announce", text: "soon", ts }, "*** soon"],
    [
      { type: "message", id: "1", from: "bo", to: "#x", text: "hi", ts, replay: true },
      "[2026-05-06 07:08:09] #x bo: hi",
    ],
    [{ type: "ok", re: "1", id: "x" }, null],
  ] as const)("%j", (msg, line) => {
    expect(renderMessage(msg, plain)).toBe(line);
  });

  test("who: a page with more to come ends with the count and the command for the next", () => {
    const page: WhoReply = { type: "who", re: "1", users: ["ann", "Bo"], online: 1500 };
    expect(renderMessage({ ...page, next: "Bo" }, plain)).toBe(
      "* online: ann, Bo (1500 in all; more: /who * Bo)",
    );
    expect(renderMessage({ ...page, room: "#dev", next: "Bo" }, plain)).toBe(
      "* #dev: ann, Bo (1500 in all; more: /who #dev Bo)",
    );
    // The last of several pages still says how many; a whole list needs no count.
    expect(renderMessage(page, plain)).toBe("* online: ann, Bo (1500 in all)");
    expect(renderMessage({ ...page, online: 2 }, plain)).toBe("* online: ann, Bo");
    expect(renderMessage({ type: "who", re: "1", users: [], online: 0 }, plain)).toBe(
      "* online: nobody",
    );
  });

  test("a private message of your own names its recipient", () => {
    const mine = { type: "message", id: "1", from: "ann", to: "bo", text: "hi", ts } as const;
    expect(renderMessage({ ...mine, replay: true }, plain, "ann")).toBe(
      "[2026-05-06 07:08:09] ann → bo: hi",
    );
    expect(renderMessage(mine, plain, "bo")).toBe("[07:08:09] ann: hi");
  });

  test("history: each message dated, then where it ends", () => {
    const text = renderMessage(
      {
        type: "history",
        re: "1",
        with: "bo",
        more: false,
        messages: [
          { type: "message", id: "1", from: "bo", to: "ann", text: "one", ts },
          { type: "message", id: "2", from: "ann", to: "bo", text: "two", ts },
        ],
      },
      plain,
      "ann",
    );
    expect(text?.split("\n")).toEqual([
      "[2026-05-06 07:08:09] bo: one",
      "[2026-05-06 07:08:09] ann → bo: two",
      "* end of history with bo",
    ]);
  });

  test("a welcome after a resume says how many missed messages follow, not held ones twice", () => {
    const welcome = {
      type: "welcome" as const,
      re: "1",
      name: "ann",
      users: ["bo"],
      online: 2,
      rooms: ["#dev"],
      queued: 2,
    };
    expect(renderMessage(welcome, plain)).toBe(
      "* logged in as ann; online: bo; rooms: #dev; 2 held message(s) follow",
    );
    expect(renderMessage({ ...welcome, replayed: 3, gap: true }, plain)).toBe(
      "* logged in as ann; online: bo; rooms: #dev; 3 missed message(s) follow (older ones were left out: /history <name> shows them)",
    );
  });

  test("colours: private, room, broadcast and errors differ; none without colour", () => {
    const colored = { color: true };
    const lines = [
      renderMessage({ type: "message", id: "1", from: "a", to: "b", text: "t", ts }, colored),
      renderMessage({ type: "message", id: "1", from: "a", to: "#r", text: "t", ts }, colored),
      renderMessage({ type: "message", id: "1", from: "a", to: "*", text: "t", ts }, colored),
      renderMessage({ type: "error", re: null, code: "bad_text", message: "m" }, colored),
    ];
    expect(new Set(lines).size).toBe(4);
    for (const line of lines) expect(line).toContain("\u001b[");
    expect(renderMessage({ type: "pong", re: null }, plain)).not.toContain("\u001b");
  });

  test("the client library's own errors print as the server's do", () => {
    expect(renderError("connection_lost", "the connection ended before the reply", plain)).toBe(
      "! connection_lost: the connection ended before the reply",
    );
  });

  test("the prompt shows where a plain line goes", () => {
    expect(prompt("ann", null, plain)).toBe("ann> ");
    expect(prompt("ann", "bo", plain)).toBe("ann → bo> ");
    expect(prompt("ann", "#dev", plain)).toBe("ann → #dev> ");
    expect(prompt("", null, plain)).toBe("> ");
  });
});

describe("completion", () => {
  const known = { users: ["bob", "Bea", "carl"], rooms: ["#dev", "#design"] };

  test.each([
    ["/jo", ["/join"], "/jo"],
    ["/msg b", ["Bea", "bob"], "b"],
    ["/join #de", ["#design", "#dev"], "#de"],
    ["hello c", ["carl"], "c"],
    ["/to zz", [], "zz"],
  ] as const)("%j", (line, hits, word) => {
    expect(complete(line, known)).toEqual([hits, word]);
  });
});
