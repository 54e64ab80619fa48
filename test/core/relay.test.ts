import { describe, expect, test } from "vitest";
import type { ChatMessage } from "../../src/core/mod.ts";
import { dropped, errors, sent, to, World } from "./world.ts";

const A = 1;
const B = 2;
const C = 3;

describe("login", () => {
  test("welcome names the others online, and they see the newcomer come", () => {
    const w = new World();
    w.login(A, "alice");
    const effects = w.login(B, "Bob");
    expect(to(B, effects)).toEqual([
      { type: "welcome", re: null, name: "Bob", users: ["alice"], online: 2, rooms: [], queued: 0 },
    ]);
    expect(to(A, effects)).toEqual([{ type: "presence", name: "Bob", status: "online" }]);
  });

  test("names are unique case-insensitively, and the refused user may pick another", () => {
    const w = new World();
    w.login(A, "Alice");
    w.open(B);
    expect(errors(B, w.cmd(B, { type: "login", name: "ALICE" }, "l1"))).toEqual(["name_taken"]);
    expect(to(B, w.login(B, "alicia"))[0]).toMatchObject({ type: "welcome", name: "alicia" });
  });

  test("names are compared after NFC normalisation", () => {
    const w = new World();
    w.login(A, "Jos\u00e9");
    w.open(B);
    expect(errors(B, w.cmd(B, { type: "login", name: "Jose\u0301" }))).toEqual(["name_taken"]);
  });

  test.each([["server"], ["ADMIN"], [""], ["-dash"], ["a b"], ["x".repeat(33)], ["#room"]])(
    "%j is not a name",
    (name) => {
      const w = new World();
      w.open(A);
      expect(errors(A, w.cmd(A, { type: "login", name }))).toEqual(["bad_name"]);
    },
  );

  test.each([["小明"], ["Bob_2"], ["_x"], ["a.b-c"], ["x".repeat(32)]])("%j is a name", (name) => {
    const w = new World();
    expect(to(A, w.login(A, name))[0]).toMatchObject({ type: "welcome", name });
  });

  test("only login, ping, quit and help before login; the rest is not_logged_in", () => {
    const w = new World();
    w.open(A);
    expect(to(A, w.cmd(A, { type: "ping" }, "p"))).toEqual([{ type: "pong", re: "p" }]);
    expect(errors(A, w.cmd(A, { type: "who" }))).toEqual(["not_logged_in"]);
    expect(errors(A, w.cmd(A, { type: "msg", to: "*", text: "x" }))).toEqual(["not_logged_in"]);
  });

  test("a second login on a logged-in connection is already_logged_in", () => {
    const w = new World();
    w.login(A, "alice");
    expect(errors(A, w.cmd(A, { type: "login", name: "other" }))).toEqual(["already_logged_in"]);
  });

  test("a failed password check leaves the connection free to try again", () => {
    const w = new World();
    w.open(A);
    w.cmd(A, { type: "login", name: "alice", password: "x" });
    expect(errors(A, w.authed(A, "auth_failed"))).toEqual(["auth_failed"]);
    expect(w.relay.isOnline("alice")).toBe(false);
    expect(to(A, w.login(A, "alice"))[0]).toMatchObject({ type: "welcome" });
  });

  test("two logins racing for one name: one welcome, one name_taken", () => {
    const w = new World();
    w.open(A);
    w.open(B);
    w.cmd(A, { type: "login", name: "zed", password: "pw" });
    w.cmd(B, { type: "login", name: "zed", password: "pw" });
    w.authed(A, "ok"); // A registered the password
    expect(errors(B, w.authed(B, "ok"))).toEqual(["name_taken"]);
  });

  test("the right password takes a name over: the old connection gets bye replaced", () => {
    const w = new World();
    w.login(A, "alice");
    w.login(C, "carol");
    w.open(B);
    const asked = w.cmd(B, { type: "login", name: "alice", password: "pw" });
    expect(asked[0]).toMatchObject({ type: "authenticate", mayRegister: false });
    const effects = w.authed(B, "verified");
    expect(to(A, effects)).toEqual([{ type: "bye", reason: "replaced" }]);
    expect(effects).toContainEqual({ type: "close", conn: A });
    // Carol is not told alice left: alice never went offline.
    expect(to(C, effects)).toEqual([]);
    const admitted = w.loaded(B, []);
    expect(to(B, admitted)[0]).toMatchObject({ type: "welcome", name: "alice" });
    expect(to(C, admitted)).toEqual([]);
  });

  test("a login with only a password for a name online elsewhere, unverified, is name_taken", () => {
    const w = new World();
    w.login(A, "alice");
    w.open(B);
    w.cmd(B, { type: "login", name: "alice", password: "guess" });
    expect(errors(B, w.authed(B, "ok"))).toEqual(["name_taken"]);
  });

  test("held messages follow welcome, oldest first, marked queued, and are then dropped", () => {
    const w = new World();
    const held: ChatMessage[] = [1, 2, 3].map((n) => ({
      type: "message",
      id: `id${n}`,
      from: "alice",
      to: "bob",
      text: `m${n}`,
      ts: "2026-01-01T00:00:00.000Z",
    }));
    const effects = w.login(B, "bob", held);
    const got = to(B, effects);
    expect(got[0]).toMatchObject({ type: "welcome", queued: 3 });
    expect(got.slice(1).map((m) => (m.type === "message" ? [m.text, m.queued] : m))).toEqual([
      ["m1", true],
      ["m2", true],
      ["m3", true],
    ]);
    expect(dropped(effects)).toEqual(new Map([["bob", ["id1", "id2", "id3"]]]));
    // The reply rule holds for held messages too.
    expect(w.cmd(B, { type: "say", text: "back" })[0]).toMatchObject({
      type: "hold",
      key: "alice",
    });
  });

  test("commands sent while a login is checked are answered after it, in order", () => {
    const w = new World();
    w.open(A);
    w.cmd(A, { type: "login", name: "alice" }, "1");
    expect(w.cmd(A, { type: "ping" }, "2")).toEqual([]);
    expect(w.cmd(A, { type: "who" }, "3")).toEqual([]);
    w.authed(A, "ok");
    const effects = w.loaded(A, []);
    expect(to(A, effects).map((m) => [m.type, "re" in m ? m.re : undefined])).toEqual([
      ["welcome", "1"],
      ["pong", "2"],
      ["who", "3"],
    ]);
  });
});

describe("commands waiting behind a login", () => {
  test("are bounded in bytes, tightly before login: past it, bye flood", () => {
    const w = new World();
    w.open(A);
    w.cmd(A, { type: "login", name: "alice" });
    // About 32 KiB may wait before the login is through: eight 4,000-character lines fit.
    const text = "x".repeat(4000);
    for (let i = 0; i < 8; i++) expect(w.cmd(A, { type: "msg", to: "bob", text })).toEqual([]);
    const third = w.cmd(A, { type: "msg", to: "bob", text });
    expect(to(A, third)).toEqual([{ type: "bye", reason: "flood" }]);
    expect(third).toContainEqual({ type: "close", conn: A });
  });

  test("once logged in, a waiting command's bytes are let go when it is answered", () => {
    const w = new World({ maxBacklogBytes: 10_000 });
    w.login(A, "alice");
    const text = "x".repeat(3000);
    // Each message waits for the store (bob is offline), then is answered: the budget frees.
    for (let i = 0; i < 10; i++) {
      w.cmd(A, { type: "msg", to: "bob", text });
      w.cmd(A, { type: "msg", to: "bob", text });
      const answered = w.input({ type: "held", conn: A, result: "held", now: w.now });
      expect(to(A, answered).map((m) => m.type)).not.toContain("bye");
      w.input({ type: "held", conn: A, result: "held", now: w.now });
    }
  });
});

describe("messages", () => {
  function three() {
    const w = new World();
    w.login(A, "alice");
    w.login(B, "bob");
    w.login(C, "carol");
    return w;
  }

  test("a private message reaches its recipient only, and the sender gets ok with its id", () => {
    const w = three();
    const effects = w.cmd(A, { type: "msg", to: "BOB", text: "hi" }, "m");
    const [ok] = to(A, effects);
    const [msg] = to(B, effects);
    expect(msg).toEqual({
      type: "message",
      id: expect.any(String),
      from: "alice",
      to: "bob",
      text: "hi",
      ts: "2026-01-02T03:04:05.000Z",
    });
    expect(ok).toEqual({ type: "ok", re: "m", id: (msg as ChatMessage).id });
    expect(to(C, effects)).toEqual([]);
  });

  test("a private message makes the sender the recipient's partner (the reply rule)", () => {
    // given alice talking to carol, when bob writes to alice,
    // then alice's next plain line goes to bob
    const w = three();
    w.cmd(A, { type: "to", name: "carol" });
    w.cmd(B, { type: "msg", to: "alice", text: "psst" });
    const effects = w.cmd(A, { type: "say", text: "yes?" });
    expect(to(B, effects)).toMatchObject([{ type: "message", text: "yes?", to: "bob" }]);
    expect(to(C, effects)).toEqual([]);
  });

  test("say without a partner is no_target", () => {
    const w = three();
    expect(errors(A, w.cmd(A, { type: "say", text: "hello?" }))).toEqual(["no_target"]);
  });

  test("a broadcast reaches everyone online but the sender", () => {
    const w = three();
    const effects = w.cmd(A, { type: "msg", to: "*", text: "all" });
    expect([...sent(effects).keys()].sort()).toEqual([A, B, C]);
    expect(to(A, effects)).toMatchObject([{ type: "ok" }]);
    expect(to(B, effects)).toMatchObject([{ type: "message", to: "*", text: "all" }]);
  });

  test.each([[""], ["a\nb"], ["bell\u0007"], ["x".repeat(4001)], ["😀".repeat(4001)]])(
    "text %# is bad_text",
    (text) => {
      const w = three();
      expect(errors(A, w.cmd(A, { type: "msg", to: "bob", text }))).toEqual(["bad_text"]);
    },
  );

  test("4000 code points (even astral) and tabs are fine", () => {
    const w = three();
    expect(errors(A, w.cmd(A, { type: "msg", to: "bob", text: "😀".repeat(4000) }))).toEqual([]);
    expect(errors(A, w.cmd(A, { type: "msg", to: "bob", text: "a\tb" }))).toEqual([]);
  });

  test("message ids are unique and sort in the order messages were accepted", () => {
    const w = three();
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      if (i === 25) w.now += 1;
      const ok = to(A, w.cmd(A, { type: "msg", to: "bob", text: `${i}` }))[0];
      ids.push((ok as { id: string }).id);
    }
    expect(new Set(ids).size).toBe(50);
    expect([...ids].sort()).toEqual(ids);
  });

  test("a message to an offline user is held, and ok says queued", () => {
    const w = three();
    w.cmd(B, { type: "quit" });
    const asked = w.cmd(A, { type: "msg", to: "bob", text: "later" }, "h");
    expect(asked).toMatchObject([{ type: "hold", key: "bob", message: { text: "later" } }]);
    const effects = w.relay.handle({ type: "held", conn: A, result: "held", now: w.now });
    expect(to(A, effects)).toMatchObject([{ type: "ok", re: "h", queued: true }]);
  });

  test.each([
    ["no_such_user", "no_such_user"],
    ["queue_full", "queue_full"],
  ] as const)("a store answering %s refuses the message", (result, code) => {
    const w = three();
    w.cmd(A, { type: "msg", to: "nobody", text: "x" });
    const effects = w.relay.handle({ type: "held", conn: A, result, now: w.now });
    expect(errors(A, effects)).toEqual([code]);
  });

  test("to a name that never logged in is no_such_user; to a known offline name is ok", () => {
    const w = three();
    expect(w.cmd(A, { type: "to", name: "dave" })).toMatchObject([{ type: "lookupUser" }]);
    const no = w.relay.handle({ type: "userLooked", conn: A, known: false, now: w.now });
    expect(errors(A, no)).toEqual(["no_such_user"]);
    w.cmd(A, { type: "to", name: "erin" });
    const yes = w.relay.handle({ type: "userLooked", conn: A, known: true, now: w.now });
    expect(to(A, yes)).toEqual([{ type: "ok", re: null }]);
    expect(w.cmd(A, { type: "say", text: "hi" })).toMatchObject([{ type: "hold", key: "erin" }]);
  });

  test("messages sent while the recipient logs in arrive right after welcome", () => {
    const w = three();
    w.open(4);
    w.cmd(4, { type: "login", name: "dora" });
    w.authed(4, "ok"); // dora is now loading her queue
    expect(to(4, w.cmd(A, { type: "msg", to: "dora", text: "one" }))).toEqual([]);
    expect(to(4, w.cmd(A, { type: "msg", to: "dora", text: "two" }))).toEqual([]);
    const effects = w.loaded(4, []);
    expect(to(4, effects).map((m) => (m.type === "message" ? m.text : m.type))).toEqual([
      "welcome",
      "one",
      "two",
    ]);
  });

  test("a message held while its recipient logs in is delivered once, and then dropped", () => {
    const w = three();
    w.cmd(B, { type: "quit" });
    const [hold] = w.cmd(A, { type: "msg", to: "bob", text: "late" });
    const message = (hold as { message: ChatMessage }).message;
    w.open(4);
    w.cmd(4, { type: "login", name: "bob" });
    w.authed(4, "ok"); // bob is loading his queue while the store holds the message
    const held = w.relay.handle({ type: "held", conn: A, result: "held", now: w.now });
    expect(to(4, held)).toEqual([]);
    // The store's answer already had it: it is handed over once, and dropped once.
    const effects = w.loaded(4, [message]);
    expect(to(4, effects).map((m) => m.type)).toEqual(["welcome", "message"]);
    expect(dropped(effects)).toEqual(new Map([["bob", [message.id]]]));
  });

  test("a message held after its recipient's queue was loaded is handed over at once", () => {
    const w = three();
    w.cmd(B, { type: "quit" });
    const [hold] = w.cmd(A, { type: "msg", to: "bob", text: "later" });
    const message = (hold as { message: ChatMessage }).message;
    w.login(4, "bob"); // the queue loaded before the message was stored
    const effects = w.relay.handle({ type: "held", conn: A, result: "held", now: w.now });
    expect(to(4, effects)).toMatchObject([{ type: "message", text: "later", queued: true }]);
    expect(dropped(effects)).toEqual(new Map([["bob", [message.id]]]));
  });
});

describe("rooms", () => {
  test("join creates a room; members see each other join, message and leave", () => {
    const w = new World();
    w.login(A, "alice");
    w.login(B, "bob");
    w.login(C, "carol");
    expect(to(A, w.cmd(A, { type: "join", room: "#Dev" }))).toEqual([
      { type: "ok", re: null, room: "#Dev", users: ["alice"] },
    ]);
    const joined = w.cmd(B, { type: "join", room: "#dev" });
    expect(to(A, joined)).toEqual([{ type: "joined", room: "#Dev", name: "bob" }]);
    expect(to(B, joined)).toEqual([
      { type: "ok", re: null, room: "#Dev", users: ["alice", "bob"] },
    ]);
    const said = w.cmd(A, { type: "msg", to: "#dev", text: "hey" });
    expect(to(B, said)).toMatchObject([{ type: "message", to: "#Dev", from: "alice" }]);
    expect(to(C, said)).toEqual([]);
    expect(errors(C, w.cmd(C, { type: "msg", to: "#dev", text: "x" }))).toEqual(["not_in_room"]);
    expect(errors(C, w.cmd(C, { type: "msg", to: "#nope", text: "x" }))).toEqual(["no_such_room"]);
    expect(to(C, w.cmd(C, { type: "rooms" }))).toEqual([
      { type: "rooms", re: null, rooms: [{ room: "#Dev", members: 2, online: 2 }] },
    ]);
    expect(to(C, w.cmd(C, { type: "who", room: "#DEV" }))).toEqual([
      { type: "who", re: null, room: "#Dev", users: ["alice", "bob"], online: 2 },
    ]);
    const left = w.cmd(B, { type: "leave", room: "#dev" });
    expect(to(A, left)).toEqual([{ type: "left", room: "#Dev", name: "bob" }]);
    expect(errors(B, w.cmd(B, { type: "leave", room: "#dev" }))).toEqual(["not_in_room"]);
  });

  test("a room exists while it has members", () => {
    const w = new World();
    w.login(A, "alice");
    w.cmd(A, { type: "join", room: "#tmp" });
    w.cmd(A, { type: "leave", room: "#tmp" });
    expect(to(A, w.cmd(A, { type: "rooms" }))).toEqual([{ type: "rooms", re: null, rooms: [] }]);
    expect(errors(A, w.cmd(A, { type: "leave", room: "#tmp" }))).toEqual(["no_such_room"]);
  });

  test("a room name must be # and a name", () => {
    const w = new World();
    w.login(A, "alice");
    expect(errors(A, w.cmd(A, { type: "join", room: "dev" }))).toEqual(["bad_name"]);
    expect(errors(A, w.cmd(A, { type: "join", room: "#a b" }))).toEqual(["bad_name"]);
  });
});

describe("leaving", () => {
  test("a closed connection goes offline for the others, but stays in its rooms", () => {
    const w = new World();
    w.login(A, "alice");
    w.login(B, "bob");
    w.cmd(A, { type: "join", room: "#x" });
    w.cmd(B, { type: "join", room: "#x" });
    const effects = w.relay.handle({ type: "close", conn: A, now: w.now });
    expect(to(B, effects)).toEqual([{ type: "presence", name: "alice", status: "offline" }]);
    expect(w.relay.isOnline("alice")).toBe(false);
    expect(to(B, w.cmd(B, { type: "rooms" }))).toMatchObject([
      { rooms: [{ room: "#x", members: 2, online: 1 }] },
    ]);
    // Back, alice is in #x again, and the room hears what she says.
    expect(to(A, w.login(A, "alice"))[0]).toMatchObject({ type: "welcome", rooms: ["#x"] });
    expect(to(B, w.cmd(A, { type: "msg", to: "#x", text: "back" }))).toMatchObject([
      { type: "message", from: "alice", to: "#x", text: "back" },
    ]);
  });

  test("quit says bye and closes", () => {
    const w = new World();
    w.login(A, "alice");
    expect(w.cmd(A, { type: "quit" }, "q")).toEqual([
      { type: "send", conn: A, msg: { type: "bye", re: "q", reason: "quit" } },
      { type: "close", conn: A },
    ]);
  });

  test("presence off: nobody is told who comes and goes", () => {
    const w = new World({ presence: "off" });
    w.login(A, "alice");
    expect(to(A, w.login(B, "bob"))).toEqual([]);
    expect(to(A, w.cmd(B, { type: "quit" }))).toEqual([]);
  });

  test("kick and shutdown say why, and a stopping relay refuses logins", () => {
    const w = new World();
    w.login(A, "alice");
    w.login(B, "bob");
    w.open(C);
    const kicked = w.relay.handle({ type: "kick", name: "ALICE", now: w.now });
    expect(to(A, kicked)).toEqual([{ type: "bye", reason: "kicked" }]);
    expect(to(B, kicked)).toEqual([{ type: "presence", name: "alice", status: "offline" }]);
    const down = w.relay.handle({ type: "shutdown", now: w.now });
    expect(to(B, down)).toEqual([{ type: "bye", reason: "shutdown" }]);
    expect(to(C, down)).toEqual([{ type: "bye", reason: "shutdown" }]);
    w.open(4);
    expect(errors(4, w.cmd(4, { type: "login", name: "late" }))).toEqual(["shutting_down"]);
  });

  test("announce reaches everyone online", () => {
    const w = new World();
    w.login(A, "alice");
    w.login(B, "bob");
    w.open(C);
    const effects = w.relay.handle({ type: "announce", text: "maintenance", now: w.now });
    expect(sent(effects).get(A)).toEqual([
      { type: "announce", text: "maintenance", ts: "2026-01-02T03:04:05.000Z" },
    ]);
    expect(sent(effects).has(C)).toBe(false);
  });

  test("a refused frame is answered in turn with the commands around it", () => {
    const w = new World();
    w.open(A);
    w.cmd(A, { type: "login", name: "alice" }, "1");
    w.relay.handle({
      type: "refuse",
      conn: A,
      error: { code: "bad_json", message: "x" },
      re: null,
    });
    w.authed(A, "ok");
    const effects = w.loaded(A, []);
    expect(to(A, effects).map((m) => m.type)).toEqual(["welcome", "error"]);
  });
});

describe("a store that cannot be reached", () => {
  test("a login is refused with a reason that is not the user's, and may be retried", () => {
    const w = new World();
    w.open(A);
    w.cmd(A, { type: "login", name: "alice", password: "pw" });
    const refused = to(A, w.authed(A, "unavailable"));
    expect(refused).toMatchObject([{ type: "error", code: "auth_failed" }]);
    expect((refused[0] as { message: string }).message).toMatch(/cannot reach its store/);
    expect(w.relay.isLoggedIn(A)).toBe(false);
    expect(to(A, w.login(A, "alice"))[0]).toMatchObject({ type: "welcome" });
  });

  test("a message for an offline user is refused, not reported held", () => {
    const w = new World();
    w.login(A, "alice");
    w.cmd(A, { type: "msg", to: "bob", text: "hi" }, "m");
    const refused = to(
      A,
      w.relay.handle({ type: "held", conn: A, result: "unavailable", now: w.now }),
    );
    expect(refused).toMatchObject([{ type: "error", re: "m", code: "queue_full" }]);
    expect((refused[0] as { message: string }).message).toMatch(/cannot reach its store/);
  });
});
