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
    ["/who dev", true, { type: "who", room: "#dev" }],
    ["/who *", true, { type: "who" }],
    ["/who * Bob", true, { type: "who", after: "Bob" }],
    ["/who #dev bob", true, { type: "who", room: "#dev", after: "bob" }],
    ["/rooms", true, { type: "rooms" }],
    ["/ping", true, { type: "ping" }],
    ["/help", false, { type: "help" }],
    ["/quit gone fishing", true, { type: "quit", reason: "gone fishing" }],
    ["quit", false, { type: "quit" }],
    ["EXIT", true, { type: "quit" }],
    ["/history bob", true, { type: "history", with: "bob" }],
    ["/history #dev 20", true, { type: "history", with: "#dev", limit: 20 }],
    ["/history * 5", true, { type: "history", with: "*", limit: 5 }],
    ["/history general", true, { type: "history", with: "general" }],
    ["/history bob 1", true, { type: "history", with: "bob", limit: 1 }],
    ["/history bob 200", true, { type: "history", with: "bob", limit: 200 }],
  ] as const)("%j (logged in: %j)", (line, loggedIn, command) => {
    expect(decodeText(line, loggedIn)).toEqual({ ok: true, command, re: null });
  });

  test.each([
    ["/frob", "unknown_command"],
    ["/", "unknown_command"],
    ["/msg bob", "bad_command"],
    ["/join", "bad_command"],
    ["/login", "bad_command"],
    ["/history", "bad_command"],
    ["/history bob 0", "bad_command"],
    ["/history bob 201", "bad_command"],
    ["/history bob 1.5", "bad_command"],
    ["/history bob x", "bad_command"],
    ["/history bob -5", "bad_command"],
    ["/history bob 5 6", "bad_command"],
    ["/who #dev bob carol", "bad_command"],
  ])("%j is refused with %s", (line, code) => {
    const decoded = decodeText(line, true);
    expect(decoded.ok ? null : decoded.error.code).toBe(code);
  });

  test("a /history without what to read answers with its usage", () => {
    const decoded = decodeText("/history", true);
    expect(decoded.ok ? "" : decoded.error.message).toMatch(/^usage: \/history /);
  });

  test("/help lists /history", () => {
    expect(encodeText({ type: "help", re: null })).toMatch(/^\* {3}\/history /m);
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

  test.each([
    [
      '{"type":"login","name":"alice","session":"s3","since":"0mwt3j2a80000"}',
      { type: "login", name: "alice", session: "s3", since: "0mwt3j2a80000" },
    ],
    ['{"type":"who","after":"bob"}', { type: "who", after: "bob" }],
    ['{"type":"who","room":"#dev","after":"bob"}', { type: "who", room: "#dev", after: "bob" }],
    ['{"type":"history","with":"bob"}', { type: "history", with: "bob" }],
    [
      '{"type":"history","with":"#dev","before":"0mwt3j2a80000","limit":200}',
      { type: "history", with: "#dev", before: "0mwt3j2a80000", limit: 200 },
    ],
    ['{"type":"history","with":"*","limit":1}', { type: "history", with: "*", limit: 1 }],
    ['{"type":"quit","forget":true}', { type: "quit", forget: true }],
    [
      '{"type":"quit","reason":"bye","forget":false}',
      { type: "quit", reason: "bye", forget: false },
    ],
  ])("%s decodes", (frame, command) => {
    expect(decodeJson(frame)).toEqual({ ok: true, command, re: null });
  });

  test.each([
    ['{"type":"history","with":"bob","limit":0}', "limit"],
    ['{"type":"history","with":"bob","limit":201}', "limit"],
    ['{"type":"history","with":"bob","limit":1.5}', "limit"],
    ['{"type":"history","with":"bob","limit":"x"}', "limit"],
    ['{"type":"history","with":"bob","limit":null}', "limit"],
    ['{"type":"history","with":"bob","limit":1e400}', "limit"],
    ['{"type":"history","with":"bob","before":""}', "before"],
    [`{"type":"history","with":"bob","before":"${"x".repeat(65)}"}`, "before"],
    ['{"type":"history","with":"bob","before":7}', "before"],
    ['{"type":"history","limit":5}', "with"],
    ['{"type":"history","with":["bob"]}', "with"],
    ['{"type":"login","name":"alice","since":""}', "since"],
    [`{"type":"login","name":"alice","since":"${"x".repeat(65)}"}`, "since"],
    [`{"type":"login","name":"alice","session":"${"x".repeat(4097)}"}`, "session"],
    ['{"type":"login","name":"alice","session":1}', "session"],
    ['{"type":"who","after":3}', "after"],
    ['{"type":"quit","forget":"yes"}', "forget"],
  ])("%s is bad_command naming %s", (frame, field) => {
    const decoded = decodeJson(`${frame.slice(0, -1)},"id":"r"}`);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect([decoded.error.code, decoded.re]).toEqual(["bad_command", "r"]);
      expect(decoded.error.message).toMatch(new RegExp(`^field ${field}: `));
    }
  });

  test("an unknown type is quoted back only when it is a short string", () => {
    const message = (frame: string) => {
      const decoded = decodeJson(frame);
      return decoded.ok ? "" : decoded.error.message;
    };
    expect(message('{"type":"fly"}')).toBe('field type: unknown command "fly"');
    expect(message(`{"type":"${"f".repeat(33)}"}`)).toBe("field type: expected a command name");
    expect(message('{"type":{"a":1}}')).toBe("field type: expected a command name");
    expect(message('{"type":7}')).toBe("field type: expected a command name");
    expect(message("{}")).toBe("field type: expected a command name");
  });

  test("a type nested 100000 arrays deep is bad_command, and nothing throws", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    for (const frame of [
      `{"type":${deep},"id":"d"}`,
      `{"type":"history","with":${deep},"id":"d"}`,
      `{"type":"login","name":"a","session":${deep},"id":"d"}`,
      `{"type":"msg","to":"bob","text":${deep},"id":"d"}`,
    ]) {
      const decoded = decodeJson(frame);
      expect(decoded.ok ? null : [decoded.error.code, decoded.re]).toEqual(["bad_command", "d"]);
    }
    expect(decodeJson(`{"id":${deep}}`).ok).toBe(false);
    expect(decodeJson(deep).ok).toBe(false);
  });

  test("never throws, for any string", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary" }),
          fc.json(),
          fc.json().map((json) => `{"type":${json}}`),
          fc.json().map((json) => `{"type":"history","with":"bob","limit":${json}`),
        ),
        (frame) => {
          expect(typeof decodeJson(frame).ok).toBe("boolean");
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("never throws, for any JSON value, alone or as any field of a command", () => {
    const type = fc.oneof(fc.constantFrom(...Object.keys(COMMAND_SCHEMAS), "help"), fc.jsonValue());
    const fields = fc.dictionary(
      fc.oneof(
        fc.constantFrom("id", "name", "to", "text", "room", "with", "before", "limit", "since"),
        fc.constantFrom("session", "after", "forget", "reason", "password", "token"),
        fc.string(),
      ),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(fc.jsonValue(), type, fields, (value, type, fields) => {
        expect(typeof decodeJson(JSON.stringify(value) ?? "null").ok).toBe("boolean");
        expect(typeof decodeJson(JSON.stringify({ ...fields, type })).ok).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
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
  const ts2 = "2026-03-05T23:59:59.999Z";
  const welcome = { type: "welcome", re: null, name: "alice" } as const;
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
    [
      { type: "message", id: "1", from: "bob", to: "#dev", text: "hi", ts, replay: true },
      "[2026-03-04 05:06:07] #dev bob: hi",
    ],
    [
      { type: "message", id: "1", from: "bob", to: "*", text: "hi", ts, replay: true },
      "[2026-03-04 05:06:07] * bob: hi",
    ],
    [
      { type: "error", re: null, code: "not_allowed", message: "that conversation is not yours" },
      "! not_allowed: that conversation is not yours",
    ],
    [
      { type: "welcome", re: null, name: "alice", users: [], online: 1, rooms: [], queued: 0 },
      "* welcome, alice! nobody else is online",
    ],
    [
      { ...welcome, users: ["bob", "carol"], online: 3, rooms: [], queued: 2 },
      "* welcome, alice! online: bob, carol; 2 messages waited for you",
    ],
    [
      { ...welcome, users: ["bob", "carol"], online: 3, rooms: ["#dev", "#ops"], queued: 0 },
      "* welcome, alice! online: bob, carol; you are in #dev, #ops",
    ],
    [
      { ...welcome, users: ["bob"], online: 1000, rooms: ["#dev"], queued: 0, replayed: 12 },
      "* welcome, alice! online: bob and 998 more; you are in #dev; 12 messages replayed",
    ],
    [
      { ...welcome, users: [], online: 5, rooms: [], queued: 0 },
      "* welcome, alice! online: 4 others",
    ],
    [
      { ...welcome, users: [], online: 2, rooms: [], queued: 0 },
      "* welcome, alice! online: 1 other",
    ],
    [
      { ...welcome, users: [], online: 1, rooms: [], queued: 0, replayed: 0, gap: false },
      "* welcome, alice! nobody else is online; you missed nothing",
    ],
    [
      { ...welcome, users: [], online: 1, rooms: [], queued: 0, replayed: 1000, gap: true },
      "* welcome, alice! nobody else is online; 1000 messages replayed, older ones left out (/history has them)",
    ],
    [
      { ...welcome, users: [], online: 1, rooms: [], queued: 1, session: "secret" },
      "* welcome, alice! nobody else is online; 1 message waited for you",
    ],
    [
      {
        type: "rooms",
        re: null,
        rooms: [
          { room: "#dev", members: 3, online: 2 },
          { room: "#ops", members: 1, online: 0 },
        ],
      },
      "* rooms: #dev (2 of 3 online), #ops (0 of 1 online)",
    ],
    [{ type: "who", re: null, users: ["amy", "Bob"], online: 2 }, "* online: amy, Bob"],
    [{ type: "who", re: null, room: "#dev", users: [], online: 0 }, "* #dev: nobody"],
    [
      { type: "who", re: null, users: ["amy", "Bob"], online: 2500, next: "Bob" },
      "* online: amy, Bob (more: /who * Bob)",
    ],
    [
      { type: "who", re: null, room: "#dev", users: ["amy", "Bob"], online: 1001, next: "Bob" },
      "* #dev: amy, Bob (more: /who #dev Bob)",
    ],
    [
      {
        type: "history",
        re: null,
        with: "bob",
        messages: [
          { type: "message", id: "1", from: "alice", to: "bob", text: "hi", ts },
          { type: "message", id: "2", from: "bob", to: "alice", text: "hello", ts: ts2 },
        ],
        more: false,
      },
      "[2026-03-04 05:06:07] alice: hi\n[2026-03-05 23:59:59] bob: hello\n* end of history with bob",
    ],
    [
      {
        type: "history",
        re: null,
        with: "#dev",
        messages: [{ type: "message", id: "1", from: "bob", to: "#dev", text: "hi", ts }],
        more: true,
      },
      "[2026-03-04 05:06:07] #dev bob: hi\n* end of history with #dev (older messages: /history #dev 200)",
    ],
    [
      {
        type: "history",
        re: null,
        with: "*",
        messages: [{ type: "message", id: "1", from: "bob", to: "*", text: "hi", ts }],
        more: false,
      },
      "[2026-03-04 05:06:07] * bob: hi\n* end of history with *",
    ],
    [
      { type: "history", re: null, with: "carol", messages: [], more: false },
      "* end of history with carol",
    ],
  ])("%j renders as %j", (msg, line) => {
    expect(encodeText(msg)).toBe(line);
  });

  test("every text-mode line starts with [, * or !", () => {
    const samples: ServerMessage[] = [
      { type: "welcome", re: null, name: "a", users: ["b"], online: 2, rooms: ["#x"], queued: 2 },
      {
        type: "history",
        re: null,
        with: "b",
        messages: [{ type: "message", id: "1", from: "b", to: "a", text: "hi", ts }],
        more: true,
      },
      { type: "rooms", re: null, rooms: [{ room: "#x", members: 2, online: 1 }] },
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

  test("a history of 200 with older ones says /history shows no more, on its last line", () => {
    const messages = Array.from({ length: 200 }, (_, i) => ({
      type: "message" as const,
      id: String(i),
      from: "bob",
      to: "alice",
      text: `m${i}`,
      ts,
    }));
    const lines = (
      encodeText({ type: "history", re: null, with: "bob", messages, more: true }) ?? ""
    ).split("\n");
    expect(lines).toHaveLength(201);
    expect(lines[0]).toBe("[2026-03-04 05:06:07] bob: m0");
    expect(lines[200]).toBe(
      "* end of history with bob (older messages too; 200 is the most /history shows)",
    );
  });

  test("JSON history replies carry their messages as message events", () => {
    const reply: ServerMessage = {
      type: "history",
      re: "h",
      with: "bob",
      messages: [{ type: "message", id: "1", from: "bob", to: "alice", text: "hi", ts }],
      more: true,
    };
    expect(JSON.parse(encodeJson(reply))).toEqual(reply);
  });

  test("JSON replies always carry re; events never do", () => {
    expect(JSON.parse(encodeJson({ type: "pong", re: null }))).toEqual({ type: "pong", re: null });
    expect(JSON.parse(encodeJson({ type: "bye", reason: "flood" }))).not.toHaveProperty("re");
  });
});

describe("the JSON encoding of messages", () => {
  test("is the same as JSON.stringify, for any text", () => {
    fc.assert(
      fc.property(fc.string(), fc.boolean(), fc.boolean(), (text, queued, replay) => {
        const msg: ServerMessage = {
          type: "message",
          id: "0mwt3j2a80000",
          from: "小明",
          to: "#dev",
          text,
          ts: "2026-01-01T00:00:00.000Z",
          ...(queued && { queued: true as const }),
          ...(replay && { replay: true as const }),
        };
        expect(encodeJson(msg)).toBe(JSON.stringify(msg));
      }),
    );
  });

  test("carries replay and queued: JSON.parse gives back the same message", () => {
    fc.assert(
      fc.property(fc.string(), fc.boolean(), fc.boolean(), (text, queued, replay) => {
        const msg: ServerMessage = {
          type: "message",
          id: "0mwt3j2a80000",
          from: "bob",
          to: "alice",
          text,
          ts: "2026-01-01T00:00:00.000Z",
          ...(queued && { queued: true as const }),
          ...(replay && { replay: true as const }),
        };
        const back = JSON.parse(encodeJson(msg));
        expect(back).toEqual(msg);
        expect([back.queued, back.replay]).toEqual([
          queued ? true : undefined,
          replay ? true : undefined,
        ]);
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
