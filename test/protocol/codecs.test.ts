import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, test } from "vitest";
import type { ServerMessage } from "../../src/core/mod.ts";
import {
  COMMAND_SCHEMAS,
  decodeJson,
  decodeText,
  encodeJson,
  encodeText,
} from "../../src/protocol/mod.ts";

describe("text mode decoding", () => {
  test.each([
    ["/login alice", false, { type: "login", name: "alice" }],
    ["/login alice s3cret", false, { type: "login", name: "alice", password: "s3cret" }],
    ["alice", false, { type: "login", name: "alice" }],
    ["hello there", true, { type: "say", text: "hello there" }],
    ["{not json", true, { type: "say", text: "{not json" }],
    ["//etc/passwd", true, { type: "say", text: "/etc/passwd" }],
    ["/to bob", true, { type: "to", name: "bob" }],
    ["to:#dev", true, { type: "to", name: "#dev" }],
    ["/msg bob   hi  there", true, { type: "msg", to: "bob", text: "hi  there" }],
    ["/all hello all", true, { type: "msg", to: "*", text: "hello all" }],
    ["/join general", true, { type: "join", room: "#general" }],
    ["/leave #general", true, { type: "leave", room: "#general" }],
    ["/who", true, { type: "who" }],
    ["/who #dev", true, { type: "who", room: "#dev" }],
    ["/rooms", true, { type: "rooms" }],
    ["/ping", true, { type: "ping" }],
    ["/help", false, { type: "help" }],
    ["/quit gone fishing", true, { type: "quit", reason: "gone fishing" }],
    ["quit", false, { type: "quit" }],
    ["EXIT", true, { type: "quit" }],
  ] as const)("%j (logged in: %j)", (line, loggedIn, command) => {
    expect(decodeText(line, loggedIn)).toEqual({ ok: true, command, re: null });
  });

  test.each([
    ["/frob", "unknown_command"],
    ["/", "unknown_command"],
    ["/msg bob", "bad_command"],
    ["/join", "bad_command"],
    ["/login", "bad_command"],
  ])("%j is refused with %s", (line, code) => {
    const decoded = decodeText(line, true);
    expect(decoded.ok ? null : decoded.error.code).toBe(code);
  });
});

describe("JSON mode decoding", () => {
  test("a command with an id: the id becomes re; unknown fields are ignored", () => {
    expect(decodeJson('{"type":"msg","to":"bob","text":"hi","id":"7","x":1}')).toEqual({
      ok: true,
      command: { type: "msg", to: "bob", text: "hi" },
      re: "7",
    });
  });

  test.each([
    ["nope", "bad_json", null],
    ["[1,2]", "bad_command", null],
    ['"str"', "bad_command", null],
    ['{"id":"a"}', "bad_command", "a"],
    ['{"type":"fly","id":"a"}', "bad_command", "a"],
    ['{"type":"msg","to":"bob","id":"b"}', "bad_command", "b"],
    ['{"type":"ping","id":""}', "bad_command", null],
    [`{"type":"ping","id":"${"x".repeat(65)}"}`, "bad_command", null],
    ['{"type":"ping","id":5}', "bad_command", null],
  ])("%s is %s with re %j", (frame, code, re) => {
    const decoded = decodeJson(frame);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect([decoded.error.code, decoded.re]).toEqual([code, re]);
  });

  test("bad_command names the offending field", () => {
    const decoded = decodeJson('{"type":"msg","to":"bob","text":42}');
    expect(decoded.ok ? "" : decoded.error.message).toMatch(/\btext\b/);
  });

  test("help is text mode only", () => {
    expect(decodeJson('{"type":"help"}').ok).toBe(false);
  });

  test("any msg command survives encoding and decoding", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.string({ minLength: 1, maxLength: 64 }),
        (to, text, id) => {
          expect(decodeJson(JSON.stringify({ type: "msg", to, text, id }))).toEqual({
            ok: true,
            command: { type: "msg", to, text },
            re: id,
          });
        },
      ),
    );
  });
});

describe("the msg fast path", () => {
  test("gives what the msg schema gives, for any fields", () => {
    const anything = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean());
    fc.assert(
      fc.property(anything, anything, fc.dictionary(fc.string(), anything), (to, text, extra) => {
        const fields = { ...extra, type: "msg", to, text };
        const decoded = decodeJson(JSON.stringify(fields));
        const schema = v.safeParse(COMMAND_SCHEMAS.msg, JSON.parse(JSON.stringify(fields)));
        if (schema.success && !("id" in extra)) {
          expect(decoded).toEqual({ ok: true, command: schema.output, re: null });
        } else if (!schema.success) {
          expect(decoded.ok).toBe(false);
        }
      }),
    );
  });
});

describe("encoding", () => {
  const ts = "2026-03-04T05:06:07.890Z";
  test.each<[ServerMessage, string | null]>([
    [{ type: "message", id: "1", from: "bob", to: "alice", text: "hi", ts }, "[05:06:07] bob: hi"],
    [
      { type: "message", id: "1", from: "bob", to: "#dev", text: "hi", ts },
      "[05:06:07] #dev bob: hi",
    ],
    [{ type: "message", id: "1", from: "bob", to: "*", text: "hi", ts }, "[05:06:07] * bob: hi"],
    [
      { type: "message", id: "1", from: "bob", to: "al", text: "hi", ts, queued: true },
      "[2026-03-04 05:06:07] bob: hi",
    ],
    [{ type: "announce", text: "restart at noon", ts }, "*** restart at noon"],
    [
      { type: "error", re: null, code: "no_such_user", message: "nobody" },
      "! no_such_user: nobody",
    ],
    [{ type: "bye", reason: "kicked" }, "* bye: kicked"],
    [{ type: "ok", re: null, id: "1" }, null],
  ])("%j renders as %j", (msg, line) => {
    expect(encodeText(msg)).toBe(line);
  });

  test("every text-mode line starts with [, * or !", () => {
    const samples: ServerMessage[] = [
      { type: "welcome", re: null, name: "a", users: ["b"], queued: 2 },
      { type: "who", re: null, users: ["a"] },
      { type: "rooms", re: null, rooms: [] },
      { type: "pong", re: null },
      { type: "help", re: null },
      { type: "presence", name: "a", status: "online" },
      { type: "joined", room: "#x", name: "a" },
      { type: "left", room: "#x", name: "a" },
      { type: "ok", re: null, queued: true, id: "1", to: "bob" },
    ];
    for (const msg of samples) {
      for (const line of (encodeText(msg) ?? "").split("\n")) expect(line).toMatch(/^(\*|!|\[)/);
    }
  });

  test("JSON replies always carry re; events never do", () => {
    expect(JSON.parse(encodeJson({ type: "pong", re: null }))).toEqual({ type: "pong", re: null });
    expect(JSON.parse(encodeJson({ type: "bye", reason: "flood" }))).not.toHaveProperty("re");
  });
});

describe("the JSON encoding of messages", () => {
  test("is the same as JSON.stringify, for any text", () => {
    fc.assert(
      fc.property(fc.string(), fc.boolean(), (text, queued) => {
        const msg: ServerMessage = {
          type: "message",
          id: "0mwt3j2a80000",
          from: "小明",
          to: "#dev",
          text,
          ts: "2026-01-01T00:00:00.000Z",
          ...(queued && { queued: true as const }),
        };
        expect(encodeJson(msg)).toBe(JSON.stringify(msg));
      }),
    );
  });
});

test("the JSON encoding of ok replies is the same as JSON.stringify", () => {
  fc.assert(
    fc.property(fc.option(fc.string({ minLength: 1, maxLength: 64 })), (re) => {
      const ok: ServerMessage = { type: "ok", re, id: "0mwt3j2a80000" };
      expect(encodeJson(ok)).toBe(JSON.stringify(ok));
    }),
  );
});
