import { describe, expect, test } from "vitest";
import {
  type ChatMessage,
  type Effect,
  HEARD_WINDOW_MS,
  idAt,
  nameKey,
  privateConversation,
} from "../../src/core/mod.ts";
import { errors, to, World } from "./world.ts";

const A = 1;
const B = 2;
const C = 3;

function message(id: string, from: string, to: string, text = id): ChatMessage {
  return { type: "message", id, from, to, text, ts: "2026-01-02T03:04:05.000Z" };
}

/** The index of the first effect of a type, and of the first `send` of a message type. */
function indexOf(effects: Effect[], what: string): number {
  return effects.findIndex(
    (e) =>
      e.type === what ||
      (e.type === "send" && e.msg.type === what) ||
      (e.type === "fanout" && e.msg.type === what),
  );
}

describe("the log behind every message", () => {
  test("a message is appended to its conversation's log before its ok and its deliveries", () => {
    const w = new World();
    w.login(A, "alice");
    w.login(B, "bob");
    w.cmd(A, { type: "join", room: "#dev" });
    w.cmd(B, { type: "join", room: "#dev" });
    for (const [to, conv] of [
      ["bob", "@alice|bob"],
      ["#dev", "#dev"],
      ["*", "*"],
    ]) {
      const effects = w.cmd(A, { type: "msg", to: to as string, text: "hi" }, "m");
      expect(effects[0]).toMatchObject({ type: "append", entry: { conv } });
      expect(indexOf(effects, "append")).toBeLessThan(indexOf(effects, "ok"));
      expect(indexOf(effects, "append")).toBeLessThan(indexOf(effects, "message"));
    }
  });

  test("a private message names both users, so each finds the conversation", () => {
    const w = new World();
    w.login(A, "Zoe");
    w.login(B, "adam");
    const [append] = w.cmd(A, { type: "msg", to: "adam", text: "hi" });
    const [zoe, adam] = [nameKey("Zoe"), nameKey("adam")];
    expect(append).toMatchObject({
      entry: { conv: privateConversation(zoe, adam), users: [zoe, adam] },
    });
    expect(privateConversation(zoe, adam)).toBe(privateConversation(adam, zoe));
  });

  test("with the log off (RELAY_HISTORY=0) nothing is appended", () => {
    const w = new World({ log: false });
    w.login(A, "alice");
    w.login(B, "bob");
    const effects = w.cmd(A, { type: "msg", to: "bob", text: "hi" });
    expect(effects.filter((e) => e.type === "append")).toEqual([]);
    expect(to(B, effects)).toMatchObject([{ type: "message", text: "hi" }]);
  });

  test("a message for an offline user enters the log only once it is held", () => {
    const w = new World();
    w.login(A, "alice");
    const asked = w.cmd(A, { type: "msg", to: "bob", text: "later" }, "m");
    expect(asked.map((e) => e.type)).toEqual(["hold"]);
    const unknown = w.input({ type: "held", conn: A, result: "no_such_user", now: w.now });
    expect(unknown.filter((e) => e.type === "append")).toEqual([]);
    w.cmd(A, { type: "msg", to: "bob", text: "later" }, "n");
    const held = w.input({ type: "held", conn: A, result: "held", now: w.now });
    expect(held[0]).toMatchObject({ type: "append", entry: { conv: "@alice|bob" } });
    expect(to(A, held)).toMatchObject([{ type: "ok", re: "n", queued: true }]);
  });
});

describe("history", () => {
  test("asks the log for the conversation with a user, a room of yours, or everyone", () => {
    const w = new World();
    w.login(A, "alice");
    w.login(B, "bob");
    w.cmd(A, { type: "join", room: "#dev" });
    expect(w.cmd(A, { type: "history", with: "BOB", limit: 5 }, "h")).toEqual([
      { type: "loadHistory", conn: A, conv: "@alice|bob", limit: 5 },
    ]);
    w.input({ type: "historyLoaded", conn: A, page: { messages: [], more: false }, now: w.now });
    expect(w.cmd(A, { type: "history", with: "#dev", before: "x" })).toEqual([
      { type: "loadHistory", conn: A, conv: "#dev", before: "x", limit: 50 },
    ]);
    w.input({ type: "historyLoaded", conn: A, page: { messages: [], more: false }, now: w.now });
    expect(w.cmd(A, { type: "history", with: "*" })).toMatchObject([{ conv: "*" }]);
  });

  test("a room you are not in is not_in_room; an unknown room no_such_room", () => {
    const w = new World();
    w.login(A, "alice");
    w.login(B, "bob");
    w.cmd(B, { type: "join", room: "#ops" });
    expect(errors(A, w.cmd(A, { type: "history", with: "#ops" }))).toEqual(["not_in_room"]);
    expect(errors(A, w.cmd(A, { type: "history", with: "#nope" }))).toEqual(["no_such_room"]);
  });

  test("a name offline is checked with the store; never logged in is no_such_user", () => {
    const w = new World();
    w.login(A, "alice");
    expect(w.cmd(A, { type: "history", with: "carol" }, "h")).toMatchObject([
      { type: "loadHistory", conv: "@alice|carol", user: "carol" },
    ]);
    const answer = w.input({ type: "historyLoaded", conn: A, page: null, now: w.now });
    expect(errors(A, answer)).toEqual(["no_such_user"]);
  });

  test("the reply carries the page, oldest first, and waits behind nothing else", () => {
    const w = new World();
    w.login(A, "alice");
    w.login(B, "bob");
    w.cmd(A, { type: "history", with: "bob" }, "h");
    expect(w.cmd(A, { type: "ping" }, "p")).toEqual([]);
    const page = [message("1", "bob", "alice"), message("2", "alice", "bob")];
    const answer = w.input({
      type: "historyLoaded",
      conn: A,
      page: { messages: page, more: true },
      now: w.now,
    });
    expect(to(A, answer)).toEqual([
      { type: "history", re: "h", with: "bob", messages: page, more: true },
      { type: "pong", re: "p" },
    ]);
  });

  test("a page too big for one reply keeps its newest messages and says more", () => {
    const w = new World({ maxHistoryBytes: 50_000 });
    w.login(A, "alice");
    w.login(B, "bob");
    w.cmd(A, { type: "history", with: "bob", limit: 200 });
    const page = Array.from({ length: 100 }, (_, i) =>
      message(String(i).padStart(3, "0"), "bob", "alice", "x".repeat(4000)),
    );
    const [reply] = to(
      A,
      w.input({
        type: "historyLoaded",
        conn: A,
        page: { messages: page, more: false },
        now: w.now,
      }),
    );
    if (reply?.type !== "history") throw new Error("no history reply");
    expect(reply.more).toBe(true);
    expect(reply.messages.length).toBeGreaterThan(0);
    expect(reply.messages.length).toBeLessThan(5);
    expect(reply.messages.at(-1)?.id).toBe("099");
  });
});

describe("resume with since", () => {
  test("a login with since loads what was missed in the user's conversations", () => {
    const w = new World();
    w.input({ type: "memberships", rooms: [{ room: "#dev", members: ["alice", "bob"] }] });
    w.open(A);
    w.cmd(A, { type: "login", name: "alice", since: "0005" });
    expect(w.authed(A, "ok")).toEqual([
      { type: "load", conn: A, key: "alice", since: "0005", rooms: ["#dev"] },
    ]);
  });

  test("welcome says how many are replayed; they follow marked replay, held ones once", () => {
    const w = new World();
    w.login(B, "bob");
    w.open(A);
    w.cmd(A, { type: "login", name: "alice", since: "0005" }, "l");
    w.authed(A, "ok");
    const held = [message("0008", "bob", "alice")];
    const missed = [message("0006", "bob", "*"), message("0008", "bob", "alice")];
    const effects = w.loaded(A, held, { messages: missed, gap: true });
    const got = to(A, effects);
    expect(got[0]).toMatchObject({ type: "welcome", re: "l", replayed: 2, gap: true, queued: 1 });
    expect(got.slice(1)).toEqual([
      { ...missed[0], replay: true },
      { ...missed[1], replay: true, queued: true },
    ]);
    // The held message leaves the store once written out, not before.
    expect(effects.find((e) => e.type === "stream")).toMatchObject({
      drop: { key: "alice", ids: ["0008"] },
      report: true,
    });
  });

  test("held messages count toward RELAY_RESUME_MAX: the newest go, the rest are a gap", () => {
    const w = new World({ resumeMax: 3 });
    w.open(A);
    w.cmd(A, { type: "login", name: "alice", since: "0" });
    w.authed(A, "ok");
    const held = [message("01", "bob", "alice"), message("04", "bob", "alice")];
    const missed = [
      message("02", "bob", "*"),
      message("03", "bob", "*"),
      message("04", "bob", "alice"),
    ];
    const effects = w.loaded(A, held, { messages: missed, gap: false });
    const got = to(A, effects);
    expect(got[0]).toMatchObject({ type: "welcome", replayed: 3, gap: true, queued: 1 });
    expect(got.slice(1).map((m) => (m.type === "message" ? m.id : m.type))).toEqual([
      "02",
      "03",
      "04",
    ]);
    // Both held ones leave the store: the one left out is in the log, behind the gap.
    expect(effects.find((e) => e.type === "stream")).toMatchObject({
      drop: { key: "alice", ids: ["01", "04"] },
    });
  });

  test("messages accepted while the replay is written come after it, none twice", () => {
    const w = new World();
    w.login(B, "bob");
    w.open(A);
    w.cmd(A, { type: "login", name: "alice", since: "0" }, "l");
    w.authed(A, "ok");
    // Bob writes while alice's replay is loading: live, and in the log the load reads.
    const live = w.cmd(B, { type: "msg", to: "alice", text: "during" });
    const id = (live.find((e) => e.type === "append") as { entry: { message: ChatMessage } }).entry
      .message.id;
    expect(to(A, live)).toEqual([]);
    const replay = [
      message("00001", "bob", "alice", "before"),
      message(id, "bob", "alice", "during"),
    ];
    const loaded = w.relay.handle({
      type: "loaded",
      conn: A,
      held: [],
      replay: { messages: replay, gap: false },
      now: w.now,
    });
    // Still streaming: later commands wait, and so do later messages.
    expect(w.cmd(A, { type: "ping" }, "p")).toEqual([]);
    expect(to(A, w.cmd(B, { type: "msg", to: "alice", text: "after" }))).toEqual([]);
    const done = w.input({ type: "streamed", conn: A, now: w.now });
    const texts = [...to(A, loaded), ...to(A, done)].map((m) =>
      m.type === "message" ? m.text : m.type,
    );
    expect(texts).toEqual(["welcome", "before", "during", "after", "pong"]);
  });

  test("a message replayed and then heard from another node is not delivered twice", () => {
    const w = new World({ clustered: true, node: "b" });
    w.input({ type: "memberships", rooms: [{ room: "#dev", members: ["alice", "zed"] }] });
    w.open(A);
    w.cmd(A, { type: "login", name: "alice", since: "0" });
    w.authed(A, "ok");
    const late = message("00002a", "zed", "#dev", "late");
    w.loaded(A, [], { messages: [late], gap: false });
    const bus = (m: ChatMessage) =>
      w.input({
        type: "bus",
        event: { kind: "message", node: "a", scope: "room", message: m },
        now: w.now,
      });
    expect(to(A, bus(late))).toEqual([]);
    const fresh = message("00003a", "zed", "#dev", "fresh");
    expect(to(A, bus(fresh))).toEqual([fresh]);
  });

  test("too much arriving while a login streams makes it a slow reader", () => {
    const w = new World({ maxDeferred: 3 });
    w.login(B, "bob");
    w.open(A);
    w.cmd(A, { type: "login", name: "alice", since: "0" });
    w.authed(A, "ok");
    w.relay.handle({
      type: "loaded",
      conn: A,
      held: [],
      replay: { messages: [message("00001", "bob", "alice")], gap: false },
      now: w.now,
    });
    for (let i = 0; i < 5; i++) w.cmd(B, { type: "msg", to: "alice", text: `m${i}` });
    const done = w.input({ type: "streamed", conn: A, now: w.now });
    expect(to(A, done)).toEqual([{ type: "bye", reason: "slow_consumer" }]);
    expect(done).toContainEqual({ type: "close", conn: A });
  });
});

describe("sessions", () => {
  test("welcome carries the secret the host gave; quit with forget ends it", () => {
    const w = new World();
    w.open(A);
    w.cmd(A, { type: "login", name: "alice", session: "s3cret" });
    w.relay.handle({
      type: "authenticated",
      conn: A,
      key: "alice",
      result: "verified",
      session: "s3cret",
      now: w.now,
    });
    expect(to(A, w.loaded(A))[0]).toMatchObject({ type: "welcome", session: "s3cret" });
    const quit = w.cmd(A, { type: "quit", forget: true }, "q");
    expect(quit).toContainEqual({ type: "forgetSession", secret: "s3cret" });
  });

  test("a session proves the name: it may take over a name online", () => {
    const w = new World();
    w.login(A, "alice");
    w.open(B);
    expect(w.cmd(B, { type: "login", name: "alice", session: "s" })).toMatchObject([
      { type: "authenticate", session: "s" },
    ]);
    expect(to(A, w.authed(B, "verified"))).toEqual([{ type: "bye", reason: "replaced" }]);
  });

  test("quit without forget keeps the session", () => {
    const w = new World();
    w.login(A, "alice");
    expect(w.cmd(A, { type: "quit" }).filter((e) => e.type === "forgetSession")).toEqual([]);
  });
});

describe("rooms you stay in", () => {
  test("memberships read at start put a user back in their rooms at login", () => {
    const w = new World();
    w.input({ type: "memberships", rooms: [{ room: "#Dev", members: ["Alice", "bob"] }] });
    expect(to(A, w.login(A, "alice"))[0]).toMatchObject({ rooms: ["#Dev"] });
    w.login(B, "carol");
    expect(to(B, w.cmd(B, { type: "rooms" }))).toEqual([
      { type: "rooms", re: null, rooms: [{ room: "#Dev", members: 2, online: 1 }] },
    ]);
    expect(to(B, w.cmd(B, { type: "who", room: "#dev" }))).toMatchObject([{ users: ["alice"] }]);
  });

  test("join and leave are recorded in the store; the last leave ends the room", () => {
    const w = new World();
    w.login(A, "alice");
    const joined = w.cmd(A, { type: "join", room: "#x" });
    expect(joined).toContainEqual({
      type: "membership",
      room: { key: "#x", name: "#x" },
      user: { key: "alice", name: "alice" },
      member: true,
    });
    // Joining again changes nothing.
    expect(w.cmd(A, { type: "join", room: "#x" }).filter((e) => e.type === "membership")).toEqual(
      [],
    );
    const left = w.cmd(A, { type: "leave", room: "#x" });
    expect(left).toContainEqual(expect.objectContaining({ type: "membership", member: false }));
    expect(errors(A, w.cmd(A, { type: "history", with: "#x" }))).toEqual(["no_such_room"]);
  });

  test("a member offline still receives nothing live, but the room keeps them", () => {
    const w = new World();
    w.login(A, "alice");
    w.login(B, "bob");
    w.login(C, "carol");
    for (const c of [A, B]) w.cmd(c, { type: "join", room: "#x" });
    w.relay.handle({ type: "close", conn: B, now: w.now });
    const said = w.cmd(A, { type: "msg", to: "#x", text: "hi" });
    expect(to(B, said)).toEqual([]);
    expect(to(A, w.cmd(A, { type: "join", room: "#x" }))).toMatchObject([
      { type: "ok", users: ["alice", "bob"] },
    ]);
    expect(errors(C, w.cmd(C, { type: "msg", to: "#x", text: "x" }))).toEqual(["not_in_room"]);
  });
});

describe("a node whose bus was cut", () => {
  /** Node b with alice online in #dev, having heard one message of node a. */
  function cutNode() {
    const w = new World({ clustered: true, node: "b" });
    w.input({ type: "memberships", rooms: [{ room: "#dev", members: ["alice", "zed"] }] });
    w.login(A, "alice");
    const heard = message(`${idAt(w.now)}0000a`, "zed", "#dev", "heard");
    w.input({
      type: "bus",
      event: { kind: "message", node: "a", scope: "room", message: heard },
      now: w.now,
    });
    return { w, heard };
  }

  test("reads the logs of its users' rooms and * from before the last message it heard, then what is held for them", () => {
    const { w } = cutNode();
    const synced = w.input({ type: "sync", now: w.now + 60_000 });
    expect(synced).toContainEqual({
      type: "catchUp",
      convs: ["*", "#dev"],
      since: idAt(w.now - HEARD_WINDOW_MS),
      held: ["alice"],
    });
    // One read answers both: no separate one for what is held.
    expect(synced.filter((e) => e.type === "recheckHeld")).toEqual([]);
  });

  test("delivers what it had not heard, once, and nothing it had or accepted itself", () => {
    const { w, heard } = cutNode();
    const missed = message(`${idAt(w.now + 10)}0000a`, "zed", "#dev", "missed");
    const all = message(`${idAt(w.now + 20)}0000a`, "zed", "*", "to all");
    const own = message(`${idAt(w.now + 30)}0000b`, "alice", "#dev", "own");
    w.input({ type: "sync", now: w.now });
    // While the logs are read, what the bus brings waits, to go out in id order.
    const later = message(`${idAt(w.now + 40)}0000a`, "zed", "#dev", "later");
    const bus = (m: ChatMessage) =>
      w.input({
        type: "bus",
        event: { kind: "message", node: "a", scope: "room", message: m },
        now: w.now,
      });
    expect(to(A, bus(later))).toEqual([]);
    // Said before alice logged in: not hers to get live.
    const early = message(`${idAt(w.now - 1000)}0000a`, "zed", "#dev", "early");
    const caught = w.input({
      type: "caughtUp",
      messages: [all, own, heard, missed, early],
      held: [{ key: "alice", messages: [] }],
      now: w.now,
    });
    expect(to(A, caught)).toEqual([missed, all, later]);
    // The bus brings one of them after all: not twice.
    expect(to(A, bus(missed))).toEqual([]);
  });
});
