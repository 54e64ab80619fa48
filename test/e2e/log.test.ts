/**
 * PROTOCOL.md §11, black box: the log behind every message (`ok` carries its id), history,
 * rooms you stay in, resume with `since`, session secrets, durability across a restart of
 * a KV-file store, and flow control of held and replayed messages. Each runtime runs a real
 * relay process; each bullet runs over TCP and WebSocket, and in text mode where it has a
 * text form. One relay per runtime (and per special setting) serves a describe's tests, so
 * names and rooms are unique per test.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { LineClient, WsClient } from "../support/client.ts";
import { type RelayProcess, spawnRelay, spawnSharedRelay } from "../support/process.ts";

type Runtime = "node" | "deno";
type Transport = "tcp" | "ws";
type Client = LineClient | WsClient;
type Frame = Record<string, unknown> & { type: string };

const RUNTIMES: Runtime[] = ["node", "deno"];
const TRANSPORTS: Transport[] = ["tcp", "ws"];

const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const DATED = String.raw`\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]`;
const TIMED = String.raw`\[\d\d:\d\d:\d\d\]`;

let counter = 0;
/** A name (or, with `#`, a room) no other test of this file uses. */
function unique(base: string): string {
  counter++;
  return `${base}${counter}`;
}

const opened: Client[] = [];
afterEach(() => {
  for (const c of opened.splice(0)) c.close();
});

async function open(relay: RelayProcess, transport: Transport): Promise<Client> {
  const c =
    transport === "tcp"
      ? await LineClient.open(relay.tcpPort)
      : await WsClient.open(relay.httpPort);
  opened.push(c);
  return c;
}

function pause(c: Client): void {
  if (c instanceof LineClient) c.socket.pause();
  else c.ws.pause();
}

function resume(c: Client): void {
  if (c instanceof LineClient) c.socket.resume();
  else c.ws.resume();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let nextId = 0;

/**
 * A JSON-mode connection. Frames read while waiting for another one stay pending, in order,
 * for a later `next`; `log` keeps every frame read, to check what did NOT arrive.
 */
class Json {
  readonly log: Frame[] = [];
  readonly #pending: Frame[] = [];

  constructor(readonly c: Client) {}

  send(...commands: object[]): void {
    this.c.sendJson(...commands);
  }

  /** The next frame (pending first) that `pred` accepts. */
  async next(pred: (f: Frame) => boolean, ms = 5000): Promise<Frame> {
    const i = this.#pending.findIndex(pred);
    if (i !== -1) return this.#pending.splice(i, 1)[0] as Frame;
    const deadline = Date.now() + ms;
    for (;;) {
      const f = (await this.c.json(Math.max(1, deadline - Date.now()))) as Frame;
      this.log.push(f);
      if (pred(f)) return f;
      this.#pending.push(f);
    }
  }

  /** Sends a command with a fresh id; resolves with its reply. */
  async call(command: Record<string, unknown>, ms = 5000): Promise<Frame> {
    const id = `c${++nextId}`;
    this.send({ ...command, id });
    return this.next((f) => f.re === id, ms);
  }

  /** The next `n` message events, in the order they came. */
  async messages(n: number, ms = 5000): Promise<Frame[]> {
    const out: Frame[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next(isMessage, ms));
    return out;
  }

  /** A ping round trip; returns every frame not yet taken, pending or new, before the pong. */
  async sync(): Promise<Frame[]> {
    await this.call({ type: "ping" });
    return this.#pending.splice(0);
  }

  /**
   * Sends commands keeping at most `window` unanswered; resolves with their replies, in
   * order.
   */
  async pipeline(commands: Record<string, unknown>[], window = 50, ms = 10_000): Promise<Frame[]> {
    const ids = commands.map(() => `p${++nextId}`);
    const replies: Frame[] = [];
    let sent = 0;
    while (replies.length < commands.length) {
      const batch: object[] = [];
      while (sent < commands.length && sent - replies.length < window) {
        batch.push({ ...commands[sent], id: ids[sent] });
        sent++;
      }
      if (batch.length > 0) this.send(...batch);
      const want = ids[replies.length];
      replies.push(await this.next((f) => f.re === want, ms));
    }
    return replies;
  }

  close(): void {
    this.c.close();
  }
}

const isMessage = (f: Frame) => f.type === "message";

/** Opens a JSON connection and logs in; fails unless the answer is `welcome`. */
async function login(
  relay: RelayProcess,
  transport: Transport,
  fields: Record<string, unknown>,
): Promise<{ j: Json; welcome: Frame }> {
  const j = new Json(await open(relay, transport));
  const welcome = await j.call({ type: "login", ...fields });
  expect(welcome, JSON.stringify(welcome)).toMatchObject({ type: "welcome" });
  return { j, welcome };
}

/** Logs a name in once and out again (with `quit`, so it is surely offline after). */
async function register(relay: RelayProcess, transport: Transport, name: string): Promise<void> {
  const { j } = await login(relay, transport, { name });
  expect(await j.call({ type: "quit" })).toMatchObject({ type: "bye" });
  j.close();
}

/** Opens a JSON connection and sends a login that must fail; returns the error. */
async function refusedLogin(
  relay: RelayProcess,
  transport: Transport,
  fields: Record<string, unknown>,
): Promise<Frame> {
  const j = new Json(await open(relay, transport));
  const reply = await j.call({ type: "login", ...fields });
  j.close();
  return reply;
}

/** A text-mode connection; presence lines of other users are kept aside like Json's pending. */
class Text {
  readonly log: string[] = [];
  readonly #pending: string[] = [];
  readonly #split: string[] = [];

  constructor(readonly c: Client) {}

  send(...lines: string[]): void {
    this.c.send(...lines);
  }

  async next(pattern: RegExp, ms = 5000): Promise<string> {
    const i = this.#pending.findIndex((l) => pattern.test(l));
    if (i !== -1) return this.#pending.splice(i, 1)[0] as string;
    const deadline = Date.now() + ms;
    for (;;) {
      const line = await this.#line(Math.max(1, deadline - Date.now()));
      this.log.push(line);
      if (pattern.test(line)) return line;
      this.#pending.push(line);
    }
  }

  /**
   * The next line received. A reply of several lines (history) may come as one WebSocket
   * message: its lines are taken one by one.
   */
  async #line(ms: number): Promise<string> {
    if (this.#split.length === 0) this.#split.push(...(await this.c.line(ms)).split("\n"));
    return this.#split.shift() as string;
  }

  /** The next `n` lines that are not presence lines, in order. */
  async lines(n: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next(/^(?!\* \S+ is (online|offline)$)/));
    return out;
  }

  /** `/ping` round trip; returns the lines not yet taken that came before `* pong`. */
  async sync(): Promise<string[]> {
    this.send("/ping");
    await this.next(/^\* pong$/);
    return this.#pending.splice(0);
  }
}

async function textLogin(relay: RelayProcess, transport: Transport, name: string): Promise<Text> {
  const t = new Text(await open(relay, transport));
  t.send(name);
  expect(await t.next(/^/)).toMatch(new RegExp(`^\\* welcome, ${name}!`));
  return t;
}

/** A fresh KV file under ./data, where the Deno process may read and write. */
const kvDirs: string[] = [];
async function kvFile(): Promise<string> {
  await mkdir("data", { recursive: true });
  const dir = await mkdtemp("data/test-log-");
  kvDirs.push(dir);
  return join(dir, "relay.kv");
}
afterAll(async () => {
  await Promise.all(kvDirs.map((d) => rm(d, { recursive: true, force: true })));
});

function sortedIds(frames: Frame[]): string[] {
  return frames.map((f) => f.id as string).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function seqOf(f: Frame): number {
  return Number(/^seq (\d+)\b/.exec(f.text as string)?.[1] ?? Number.NaN);
}

describe.each(RUNTIMES)("§11 on %s", (runtime) => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await spawnSharedRelay(runtime, { RELAY_RATE_LIMIT: "0" });
  });
  afterAll(async () => {
    await relay?.kill("SIGKILL");
  });

  describe.each(TRANSPORTS)("JSON over %s", (transport) => {
    test("ok to msg and say carries a message id; ids sort in the order accepted", async () => {
      const a = unique("ann");
      const b = unique("bob");
      const { j: bob } = await login(relay, transport, { name: b });
      const { j: ann } = await login(relay, transport, { name: a });
      const oks = [
        await ann.call({ type: "msg", to: b, text: "one" }),
        await ann.call({ type: "msg", to: "*", text: "two" }),
      ];
      expect(await ann.call({ type: "to", name: b })).toMatchObject({ type: "ok" });
      oks.push(await ann.call({ type: "say", text: "three" }));
      for (const ok of oks) {
        expect(ok.type).toBe("ok");
        expect(typeof ok.id).toBe("string");
        expect((ok.id as string).length).toBeGreaterThan(0);
      }
      const ids = oks.map((o) => o.id as string);
      expect(new Set(ids).size).toBe(3);
      expect(sortedIds(oks)).toEqual(ids);
      // The ids the recipient sees are the ids the sender was given.
      const got = await bob.messages(3);
      expect(got.map((m) => m.id)).toEqual(ids);
      expect(got.map((m) => m.text)).toEqual(["one", "two", "three"]);
    });

    test("history with a user: both parties read the same log, oldest first", async () => {
      const a = unique("ann");
      const b = unique("bob");
      const { j: bob } = await login(relay, transport, { name: b });
      const { j: ann } = await login(relay, transport, { name: a });
      const o1 = await ann.call({ type: "msg", to: b, text: "hi bob" });
      const o2 = await bob.call({ type: "msg", to: a, text: "hi ann" });
      const o3 = await ann.call({ type: "msg", to: b, text: "how are you" });
      const fromAnn = await ann.call({ type: "history", with: b });
      expect(fromAnn).toMatchObject({ type: "history", with: b, more: false });
      const messages = fromAnn.messages as Frame[];
      expect(messages.map((m) => [m.id, m.from, m.to, m.text])).toEqual([
        [o1.id, a, b, "hi bob"],
        [o2.id, b, a, "hi ann"],
        [o3.id, a, b, "how are you"],
      ]);
      for (const m of messages) {
        expect(m.type).toBe("message");
        expect(m.ts).toMatch(TS);
      }
      const fromBob = await bob.call({ type: "history", with: a });
      expect(fromBob).toMatchObject({ type: "history", with: a, more: false });
      expect((fromBob.messages as Frame[]).map((m) => m.id)).toEqual(messages.map((m) => m.id));
      // Someone who logged in but never talked with ann: an empty conversation.
      const c = unique("cy");
      await register(relay, transport, c);
      expect(await ann.call({ type: "history", with: c })).toMatchObject({
        type: "history",
        messages: [],
        more: false,
      });
    });

    test("history limit, and paging back with before and more", async () => {
      const a = unique("ann");
      const b = unique("bob");
      await register(relay, transport, b);
      const { j: ann } = await login(relay, transport, { name: a });
      const oks = await ann.pipeline(
        [1, 2, 3, 4, 5].map((n) => ({ type: "msg", to: b, text: `m${n}` })),
      );
      const ids = oks.map((o) => o.id as string);
      const page1 = await ann.call({ type: "history", with: b, limit: 2 });
      expect(page1.more).toBe(true);
      expect((page1.messages as Frame[]).map((m) => m.id)).toEqual([ids[3], ids[4]]);
      const page2 = await ann.call({ type: "history", with: b, limit: 2, before: ids[3] });
      expect(page2.more).toBe(true);
      expect((page2.messages as Frame[]).map((m) => m.text)).toEqual(["m2", "m3"]);
      const page3 = await ann.call({ type: "history", with: b, limit: 2, before: ids[1] });
      expect(page3.more).toBe(false);
      expect((page3.messages as Frame[]).map((m) => m.text)).toEqual(["m1"]);
      const all = await ann.call({ type: "history", with: b, limit: 5 });
      expect(all.more).toBe(false);
      expect((all.messages as Frame[]).map((m) => m.id)).toEqual(ids);
      // limit is 1 to 200
      for (const limit of [0, 201]) {
        expect(await ann.call({ type: "history", with: b, limit })).toMatchObject({
          type: "error",
          code: "bad_command",
        });
      }
    });

    test("history of a room you are in and of *; not_in_room, no_such_room, no_such_user", async () => {
      const a = unique("ann");
      const b = unique("bob");
      const room = unique("#room");
      const theirs = unique("#theirs");
      const { j: ann } = await login(relay, transport, { name: a });
      const { j: bob } = await login(relay, transport, { name: b });
      await ann.call({ type: "join", room });
      await bob.call({ type: "join", room });
      await bob.call({ type: "join", room: theirs });
      const r1 = await ann.call({ type: "msg", to: room, text: "r1" });
      const r2 = await bob.call({ type: "msg", to: room, text: "r2" });
      const r3 = await ann.call({ type: "msg", to: room, text: "r3" });
      await bob.call({ type: "msg", to: theirs, text: "secret" });
      const h = await ann.call({ type: "history", with: room });
      expect(h).toMatchObject({ type: "history", with: room, more: false });
      expect((h.messages as Frame[]).map((m) => [m.id, m.from, m.to, m.text])).toEqual([
        [r1.id, a, room, "r1"],
        [r2.id, b, room, "r2"],
        [r3.id, a, room, "r3"],
      ]);

      const s1 = await ann.call({ type: "msg", to: "*", text: `${a} s1` });
      const s2 = await bob.call({ type: "msg", to: "*", text: `${b} s2` });
      const s3 = await ann.call({ type: "msg", to: "*", text: `${a} s3` });
      const star = await bob.call({ type: "history", with: "*", limit: 3 });
      expect(star).toMatchObject({ type: "history", with: "*" });
      expect((star.messages as Frame[]).map((m) => [m.id, m.to, m.text])).toEqual([
        [s1.id, "*", `${a} s1`],
        [s2.id, "*", `${b} s2`],
        [s3.id, "*", `${a} s3`],
      ]);

      expect(await ann.call({ type: "history", with: theirs })).toMatchObject({
        type: "error",
        code: "not_in_room",
      });
      expect(await ann.call({ type: "history", with: unique("#nosuch") })).toMatchObject({
        type: "error",
        code: "no_such_room",
      });
      expect(await ann.call({ type: "history", with: unique("nobody") })).toMatchObject({
        type: "error",
        code: "no_such_user",
      });
    });

    test("rooms you stay in: presence not left, back in the room at login, leave ends it", async () => {
      const a = unique("ann");
      const b = unique("bob");
      const room = unique("#stay");
      const { j: ann } = await login(relay, transport, { name: a });
      const { j: bob } = await login(relay, transport, { name: b });
      expect(await ann.call({ type: "join", room })).toMatchObject({ type: "ok", users: [a] });
      expect(await bob.call({ type: "join", room })).toMatchObject({ type: "ok", users: [a, b] });
      expect(await ann.next((f) => f.type === "joined")).toMatchObject({ room, name: b });

      bob.c.close(); // a disconnection, not a leave
      await ann.next((f) => f.type === "presence" && f.name === b && f.status === "offline");
      await ann.sync();
      expect(ann.log.filter((f) => f.type === "left")).toEqual([]);
      const rooms = await ann.call({ type: "rooms" });
      expect((rooms.rooms as Frame[]).find((r) => r.room === room)).toEqual({
        room,
        members: 2,
        online: 1,
      });
      expect(await ann.call({ type: "who", room })).toMatchObject({ type: "who", users: [a] });

      const { j: back, welcome } = await login(relay, transport, { name: b });
      expect(welcome.rooms).toEqual([room]);
      await ann.next((f) => f.type === "presence" && f.name === b && f.status === "online");
      await ann.call({ type: "msg", to: room, text: "welcome back" });
      expect(await back.next(isMessage)).toMatchObject({ from: a, to: room, text: "welcome back" });
      const again = await ann.call({ type: "rooms" });
      expect((again.rooms as Frame[]).find((r) => r.room === room)).toEqual({
        room,
        members: 2,
        online: 2,
      });
      await ann.sync();
      expect(ann.log.filter((f) => f.type === "joined" && f.name === b)).toHaveLength(1);

      expect(await back.call({ type: "leave", room })).toMatchObject({ type: "ok" });
      expect(await ann.next((f) => f.type === "left")).toMatchObject({ room, name: b });
      const after = await ann.call({ type: "rooms" });
      expect((after.rooms as Frame[]).find((r) => r.room === room)).toEqual({
        room,
        members: 1,
        online: 1,
      });
      await ann.call({ type: "msg", to: room, text: "gone?" });
      expect((await back.sync()).filter(isMessage)).toEqual([]);
    });

    test("a room whose members are all offline still exists", async () => {
      const a = unique("ann");
      const room = unique("#empty");
      const { j: ann } = await login(relay, transport, { name: a });
      await ann.call({ type: "join", room });
      await ann.call({ type: "quit" });
      const { j: other } = await login(relay, transport, { name: unique("cy") });
      const rooms = await other.call({ type: "rooms" });
      expect((rooms.rooms as Frame[]).find((r) => r.room === room)).toEqual({
        room,
        members: 1,
        online: 0,
      });
      // It exists, so it is not_in_room (not no_such_room) for a non-member.
      expect(await other.call({ type: "history", with: room })).toMatchObject({
        code: "not_in_room",
      });
    });

    test("resume: exactly the missed messages (private, own, room, *), replay: true, then live", async () => {
      const c = unique("cat");
      const s = unique("sam");
      const room = unique("#res");
      const { j: sam } = await login(relay, transport, { name: s });
      const { j: cat } = await login(relay, transport, { name: c });
      await cat.call({ type: "join", room });
      await sam.call({ type: "join", room });
      await sam.call({ type: "msg", to: c, text: "p0" });
      await sam.call({ type: "msg", to: room, text: "r0" });
      await sam.call({ type: "msg", to: "*", text: `${s} b0` });
      const seen = await cat.messages(3);
      const since = sortedIds(seen).at(-1) as string;
      cat.close();
      await sam.next((f) => f.type === "presence" && f.name === c && f.status === "offline");

      // cat, on another connection, writes twice, then goes away again.
      const { j: other } = await login(relay, transport, { name: c });
      const own = [
        await other.call({ type: "msg", to: s, text: "from cat" }),
        await other.call({ type: "msg", to: room, text: "cat in room" }),
      ];
      await other.call({ type: "quit" });
      await sam.next((f) => f.type === "presence" && f.name === c && f.status === "offline");

      const p1 = await sam.call({ type: "msg", to: c, text: "p1" });
      const p2 = await sam.call({ type: "msg", to: c, text: "p2" });
      expect(p1.queued).toBe(true);
      const missed = [
        ...own,
        p1,
        p2,
        await sam.call({ type: "msg", to: room, text: "r1" }),
        await sam.call({ type: "msg", to: room, text: "r2" }),
        await sam.call({ type: "msg", to: "*", text: `${s} b1` }),
        await sam.call({ type: "msg", to: "*", text: `${s} b2` }),
      ];
      const { j: back, welcome } = await login(relay, transport, { name: c, since });
      expect(welcome).toMatchObject({ replayed: 8, gap: false, rooms: [room] });
      const replay = await back.messages(8);
      expect(replay.map((m) => m.id)).toEqual(sortedIds(missed));
      expect(replay.map((m) => m.replay)).toEqual(Array(8).fill(true));
      expect(replay.map((m) => m.text)).toEqual([
        "from cat",
        "cat in room",
        "p1",
        "p2",
        "r1",
        "r2",
        `${s} b1`,
        `${s} b2`,
      ]);
      await sam.call({ type: "msg", to: c, text: "live" });
      await sam.call({ type: "msg", to: room, text: "live room" });
      const live = await back.messages(2);
      expect(live.map((m) => [m.text, m.replay])).toEqual([
        ["live", undefined],
        ["live room", undefined],
      ]);
      expect((await back.sync()).filter(isMessage)).toEqual([]);
    });

    test("resume while the sender blasts: every message once, in order, no gap", async () => {
      const c = unique("cat");
      const s = unique("sam");
      const room = unique("#blast");
      const { j: sam } = await login(relay, transport, { name: s });
      const { j: cat } = await login(relay, transport, { name: c });
      await cat.call({ type: "join", room });
      await sam.call({ type: "join", room });
      await sam.call({ type: "msg", to: c, text: "start" });
      const since = (await cat.next(isMessage)).id as string;
      cat.close();
      await sam.next((f) => f.type === "presence" && f.name === c && f.status === "offline");

      const TOTAL = 600;
      const BEFORE = 300;
      const command = (i: number) => ({
        type: "msg",
        to: i % 2 === 0 ? c : room,
        text: `seq ${i}`,
      });
      let resumed: Promise<{ j: Json; welcome: Frame }> | undefined;
      for (let i = 0; i < TOTAL; i += 5) {
        if (i === BEFORE) resumed = login(relay, transport, { name: c, since });
        // Five at a time, at the server's pace: the blast goes on while the replay is sent.
        await sam.pipeline(
          [0, 1, 2, 3, 4].map((k) => command(i + k)),
          5,
        );
      }
      const { j: back, welcome } = await (resumed as Promise<{ j: Json; welcome: Frame }>);
      expect(welcome.gap).toBe(false);
      const got = await back.messages(TOTAL, 10_000);
      expect(got.map(seqOf)).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
      const flags = got.map((m) => m.replay === true);
      const replayed = flags.filter(Boolean).length;
      expect(replayed).toBe(welcome.replayed);
      expect(replayed).toBeGreaterThanOrEqual(BEFORE);
      // replayed ones first, then live ones
      expect(flags).toEqual(flags.map((_, i) => i < replayed));
      expect(sortedIds(got)).toEqual(got.map((m) => m.id));
      expect((await back.sync()).filter(isMessage)).toEqual([]);
    });

    test("sessions: a secret logs in instead of the password; wrong, other name, forgotten", async () => {
      const n = unique("ida");
      const password = "correct-horse";
      const { j: first, welcome } = await login(relay, transport, { name: n, password });
      const session = welcome.session;
      expect(typeof session).toBe("string");
      expect((session as string).length).toBeGreaterThanOrEqual(22);
      await first.call({ type: "quit" });

      // The name is protected: no password, no entry; the session is enough.
      expect(await refusedLogin(relay, transport, { name: n })).toMatchObject({
        code: "auth_failed",
      });
      const { j: second, welcome: w2 } = await login(relay, transport, { name: n, session });
      expect(w2.name).toBe(n);
      await second.call({ type: "quit" });

      expect(
        await refusedLogin(relay, transport, { name: n, session: `${session}x` }),
      ).toMatchObject({ code: "auth_failed" });
      expect(await refusedLogin(relay, transport, { name: unique("eve"), session })).toMatchObject({
        code: "auth_failed",
      });

      const { j: third } = await login(relay, transport, { name: n, session });
      expect(await third.call({ type: "quit", forget: true })).toMatchObject({
        type: "bye",
        reason: "quit",
      });
      expect(await refusedLogin(relay, transport, { name: n, session })).toMatchObject({
        code: "auth_failed",
      });
      // The password still works.
      await login(relay, transport, { name: n, password });
    });

    test("300 held messages of 4000 characters all arrive at login, no slow_consumer", async () => {
      const b = unique("bob");
      const a = unique("ann");
      await register(relay, transport, b);
      const { j: ann } = await login(relay, transport, { name: a });
      const oks = await ann.pipeline(
        Array.from({ length: 300 }, (_, i) => ({
          type: "msg",
          to: b,
          text: `seq ${i} `.padEnd(4000, "x"),
        })),
      );
      expect(oks.every((o) => o.type === "ok" && o.queued === true)).toBe(true);
      const { j: bob, welcome } = await login(relay, transport, { name: b });
      expect(welcome.queued).toBe(300);
      const got = await bob.messages(300, 10_000);
      expect(got.map(seqOf)).toEqual(Array.from({ length: 300 }, (_, i) => i));
      expect(got.every((m) => m.queued === true && (m.text as string).length === 4000)).toBe(true);
      await bob.sync();
      expect(bob.log.filter((f) => f.type === "bye")).toEqual([]);
    });

    /**
     * 300 held messages of 4000 characters for `b`, who logs in, reads 100, stops reading
     * for a moment (the server keeps writing into the socket) and disconnects. Returns the
     * sequence numbers this connection received (read or not) and the newest id among them.
     */
    async function cutOff(
      b: string,
    ): Promise<{ received: Set<number>; newest: string; sender: string }> {
      const a = unique("ann");
      await register(relay, transport, b);
      const { j: ann } = await login(relay, transport, { name: a });
      await ann.pipeline(
        Array.from({ length: 300 }, (_, i) => ({
          type: "msg",
          to: b,
          text: `seq ${i} `.padEnd(4000, "x"),
        })),
      );
      const { j: bob, welcome } = await login(relay, transport, { name: b });
      expect(welcome.queued).toBe(300);
      const got = await bob.messages(100, 10_000);
      pause(bob.c);
      await sleep(300);
      bob.c.close();
      // What reached this client before it closed, read or not.
      for (const line of await bob.c.end()) {
        const f = JSON.parse(line) as Frame;
        if (isMessage(f)) got.push(f);
      }
      await ann.next((f) => f.type === "presence" && f.name === b && f.status === "offline");
      ann.close();
      return {
        received: new Set(got.map(seqOf)),
        newest: sortedIds(got).at(-1) as string,
        sender: a,
      };
    }

    const missingFrom = (received: Set<number>) =>
      Array.from({ length: 300 }, (_, i) => i).filter((i) => !received.has(i));

    test("held messages: cut off while receiving them, none is lost: held again or in history", async () => {
      const b = unique("bob");
      const { received, sender } = await cutOff(b);
      expect(received.size).toBeLessThan(300); // it was cut off in the middle
      // What had not left the server is held again; what the peer's socket had taken but the
      // client never read (§7: handed to the connection) is in the log.
      const { j: again, welcome } = await login(relay, transport, { name: b });
      const rest = await again.messages(welcome.queued as number, 10_000);
      expect(rest.every((m) => m.queued === true)).toBe(true);
      for (const m of rest) received.add(seqOf(m));
      // A page holds what fits half an outbox (about 40 of these): page back to the start.
      let before: string | undefined;
      for (let more = true; more; ) {
        const page = await again.call({
          type: "history",
          with: sender,
          limit: 200,
          ...(before !== undefined && { before }),
        });
        const messages = page.messages as Frame[];
        for (const m of messages) received.add(seqOf(m));
        before = messages[0]?.id as string | undefined;
        more = page.more === true && before !== undefined;
      }
      expect(missingFrom(received), `queued at the new login: ${welcome.queued}`).toEqual([]);
      expect((await again.sync()).filter(isMessage)).toEqual([]);
    });

    test("held messages: cut off while receiving them, a resume with since gets the rest once", async () => {
      const b = unique("bob");
      const { received, newest } = await cutOff(b);
      expect(received.size).toBeLessThan(300);
      const { j: again, welcome } = await login(relay, transport, { name: b, since: newest });
      expect(welcome.gap).toBe(false);
      const rest = await again.messages(welcome.replayed as number, 10_000);
      const seqs = rest.map(seqOf);
      expect(new Set(seqs).size).toBe(seqs.length);
      for (const n of seqs) received.add(n);
      expect(missingFrom(received), `replayed: ${welcome.replayed}`).toEqual([]);
      expect((await again.sync()).filter(isMessage)).toEqual([]);
    });

    test("resume of 1000 messages of ~7900 bytes, read slowly: all arrive", async () => {
      const b = unique("bob");
      const a = unique("ann");
      const { j: ann } = await login(relay, transport, { name: a });
      const { j: bob } = await login(relay, transport, { name: b });
      await ann.call({ type: "msg", to: b, text: "hello" });
      const since = (await bob.next(isMessage)).id as string;
      bob.close();
      await ann.next((f) => f.type === "presence" && f.name === b && f.status === "offline");
      const pad = "é".repeat(3945); // 2 bytes each in UTF-8
      const oks = await ann.pipeline(
        Array.from({ length: 1000 }, (_, i) => ({
          type: "msg",
          to: b,
          text: `seq ${String(i).padStart(4, "0")} ${pad}`,
        })),
        50,
        20_000,
      );
      expect(oks.every((o) => o.type === "ok")).toBe(true);
      const { j: back, welcome } = await login(relay, transport, { name: b, since });
      expect(welcome).toMatchObject({ replayed: 1000, gap: false });
      const first = await back.messages(100, 10_000);
      pause(back.c);
      await sleep(1000);
      resume(back.c);
      const rest = await back.messages(900, 15_000);
      const got = [...first, ...rest];
      expect(got.map(seqOf)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
      expect(got.map((m) => m.id)).toEqual(oks.map((o) => o.id));
      expect(got.every((m) => m.replay === true)).toBe(true);
      expect((await back.sync()).filter(isMessage)).toEqual([]);
      expect(back.log.filter((f) => f.type === "bye")).toEqual([]);
    }, 40_000);
  });

  describe.each(TRANSPORTS)("text over %s", (transport) => {
    test("/history prints dated lines then * end of history with X; errors", async () => {
      const a = unique("ann");
      const b = unique("bob");
      const room = unique("#txt");
      const bob = await textLogin(relay, transport, b);
      const ann = await textLogin(relay, transport, a);
      ann.send(`/msg ${b} one`);
      bob.send(`/msg ${a} two`);
      await ann.next(new RegExp(`^${TIMED} ${b}: two$`));
      ann.send(`/msg ${b} three`);
      await bob.next(/three$/);
      await ann.sync();
      await bob.sync();
      ann.send(`/history ${b} 2`);
      expect(await ann.lines(3)).toEqual([
        expect.stringMatching(new RegExp(`^${DATED} ${b}: two$`)),
        expect.stringMatching(new RegExp(`^${DATED} ${a}: three$`)),
        expect.stringMatching(new RegExp(`^\\* end of history with ${b}\\b`)),
      ]);
      bob.send(`/history ${a}`);
      expect(await bob.lines(4)).toEqual([
        expect.stringMatching(new RegExp(`^${DATED} ${a}: one$`)),
        expect.stringMatching(new RegExp(`^${DATED} ${b}: two$`)),
        expect.stringMatching(new RegExp(`^${DATED} ${a}: three$`)),
        `* end of history with ${a}`,
      ]);

      ann.send(`/join ${room}`, `/msg ${room} in the room`, "/all to everyone");
      ann.send(`/history ${room}`, "/history * 1");
      expect(await ann.lines(5)).toEqual([
        `* you joined ${room}: ${a}`,
        expect.stringMatching(new RegExp(`^${DATED} ${room} ${a}: in the room$`)),
        `* end of history with ${room}`,
        expect.stringMatching(new RegExp(`^${DATED} \\* ${a}: to everyone$`)),
        expect.stringMatching(/^\* end of history with \*/),
      ]);

      await bob.sync();
      bob.send(`/history ${room}`, `/history ${unique("#nosuch")}`, `/history ${unique("nobody")}`);
      expect(await bob.lines(3)).toEqual([
        expect.stringMatching(/^! not_in_room: /),
        expect.stringMatching(/^! no_such_room: /),
        expect.stringMatching(/^! no_such_user: /),
      ]);
    });

    test("rooms you stay in: offline not left, back at login, /rooms counts, /leave", async () => {
      const a = unique("ann");
      const b = unique("bob");
      const room = unique("#stay");
      const ann = await textLogin(relay, transport, a);
      const bob = await textLogin(relay, transport, b);
      ann.send(`/join ${room}`);
      expect(await ann.lines(1)).toEqual([`* you joined ${room}: ${a}`]);
      bob.send(`/join ${room}`);
      expect(await bob.lines(1)).toEqual([`* you joined ${room}: ${a}, ${b}`]);
      expect(await ann.lines(1)).toEqual([`* ${b} joined ${room}`]);

      bob.send("quit");
      expect(await bob.next(/^\* bye/)).toBe("* bye: quit");
      expect(await ann.next(new RegExp(`^\\* ${b} is offline$`))).toBeTruthy();
      const between = await ann.sync();
      expect([...ann.log, ...between].filter((l) => l.includes(" left "))).toEqual([]);
      ann.send("/rooms");
      expect(await ann.next(/^\* rooms: /)).toContain(`${room} (1 of 2 online)`);

      const back = new Text(await open(relay, transport));
      back.send(b);
      expect(await back.next(/^\* welcome/)).toMatch(
        new RegExp(`^\\* welcome, ${b}!.*; you are in ${room}(;|$)`),
      );
      ann.send(`/msg ${room} welcome back`);
      expect(await back.lines(1)).toEqual([
        expect.stringMatching(new RegExp(`^${TIMED} ${room} ${a}: welcome back$`)),
      ]);
      ann.send("/rooms");
      expect(await ann.next(/^\* rooms: /)).toContain(`${room} (2 of 2 online)`);

      back.send(`/leave ${room}`);
      expect(await back.lines(1)).toEqual([`* you left ${room}`]);
      expect(await ann.next(/ left /)).toBe(`* ${b} left ${room}`);
      ann.send("/rooms");
      expect(await ann.next(/^\* rooms: /)).toContain(`${room} (1 of 1 online)`);
    });
  });

  describe("with RELAY_RESUME_MAX=5", () => {
    let small: RelayProcess;
    beforeAll(async () => {
      small = await spawnSharedRelay(runtime, { RELAY_RATE_LIMIT: "0", RELAY_RESUME_MAX: "5" });
    });
    afterAll(async () => {
      await small?.kill("SIGKILL");
    });

    test.each(TRANSPORTS)(
      "over %s: 8 missed in a room and * → gap: true, the 5 newest",
      async (transport) => {
        const c = unique("cat");
        const s = unique("sam");
        const room = unique("#gap");
        const { j: sam } = await login(small, transport, { name: s });
        const { j: cat } = await login(small, transport, { name: c });
        await cat.call({ type: "join", room });
        await sam.call({ type: "join", room });
        await sam.call({ type: "msg", to: room, text: "first" });
        const since = (await cat.next(isMessage)).id as string;
        cat.close();
        await sam.next((f) => f.type === "presence" && f.name === c && f.status === "offline");
        const oks = await sam.pipeline(
          [room, "*", room, "*", room, room, "*", room].map((to, i) => ({
            type: "msg",
            to,
            text: `seq ${i}`,
          })),
        );
        const { j: back, welcome } = await login(small, transport, { name: c, since });
        expect(welcome).toMatchObject({ replayed: 5, gap: true });
        const got = await back.messages(5);
        expect(got.map((m) => m.id)).toEqual(oks.slice(3).map((o) => o.id));
        expect(got.every((m) => m.replay === true)).toBe(true);
        expect((await back.sync()).filter(isMessage)).toEqual([]);
      },
    );

    test.each(TRANSPORTS)(
      "over %s: 8 missed, 3 of them held → gap: true and the 5 newest",
      async (transport) => {
        const c = unique("cat");
        const s = unique("sam");
        const room = unique("#gap");
        const { j: sam } = await login(small, transport, { name: s });
        const { j: cat } = await login(small, transport, { name: c });
        await cat.call({ type: "join", room });
        await sam.call({ type: "join", room });
        await sam.call({ type: "msg", to: c, text: "first" });
        const since = (await cat.next(isMessage)).id as string;
        cat.close();
        await sam.next((f) => f.type === "presence" && f.name === c && f.status === "offline");
        const oks = await sam.pipeline(
          [c, room, c, "*", room, c, "*", room].map((to, i) => ({
            type: "msg",
            to,
            text: `seq ${i}`,
          })),
        );
        const { j: back, welcome } = await login(small, transport, { name: c, since });
        expect(welcome).toMatchObject({ replayed: 5, gap: true });
        const got = await back.messages(5);
        expect(got.map((m) => m.id)).toEqual(oks.slice(3).map((o) => o.id));
        expect(got.map(seqOf)).toEqual([3, 4, 5, 6, 7]);
        expect(got.every((m) => m.replay === true)).toBe(true);
        await sam.call({ type: "msg", to: c, text: "live" });
        expect(await back.next(isMessage)).toMatchObject({ text: "live" });
        expect((await back.sync()).filter(isMessage)).toEqual([]);
        // The left-out ones are in history.
        const h = await back.call({ type: "history", with: s });
        expect((h.messages as Frame[]).map((m) => m.text)).toEqual([
          "first",
          "seq 0",
          "seq 2",
          "seq 5",
          "live",
        ]);
      },
    );
  });

  describe.each([
    ["SIGTERM", "tcp", "ws"],
    ["SIGKILL", "ws", "tcp"],
  ] as const)("a KV file store across %s (before over %s, after over %s)", (signal, t1, t2) => {
    test("the acknowledged message, room membership, session and resume survive", async () => {
      const store = await kvFile();
      const env = { RELAY_STORE: store, RELAY_RATE_LIMIT: "0" };
      const one = await spawnRelay(runtime, env);
      const a = unique("ann");
      const b = unique("bob");
      const room = unique("#kept");
      const { j: bob, welcome } = await login(one, t1, { name: b, password: "bobs-secret" });
      const session = welcome.session as string;
      const { j: ann } = await login(one, t1, { name: a });
      await bob.call({ type: "join", room });
      await ann.call({ type: "join", room });
      await ann.call({ type: "msg", to: b, text: "before" });
      const since = (await bob.next(isMessage)).id as string;
      bob.close();
      await ann.next((f) => f.type === "presence" && f.name === b && f.status === "offline");
      const roomOk = await ann.call({ type: "msg", to: room, text: "kept in the room" });
      const lastOk = await ann.call({ type: "msg", to: b, text: "kept for bob" });
      expect(lastOk).toMatchObject({ type: "ok", queued: true });
      const code = await one.kill(signal); // right after the ok
      if (signal === "SIGTERM") expect(code).toBe(0);

      const two = await spawnRelay(runtime, env);
      const { j: back, welcome: w2 } = await login(two, t2, { name: b, session, since });
      expect(w2).toMatchObject({ rooms: [room], replayed: 2, gap: false });
      const replay = await back.messages(2);
      expect(replay.map((m) => [m.id, m.text, m.replay])).toEqual([
        [roomOk.id, "kept in the room", true],
        [lastOk.id, "kept for bob", true],
      ]);
      expect((await back.sync()).filter(isMessage)).toEqual([]);

      const { j: ann2, welcome: w3 } = await login(two, t2, { name: a });
      expect(w3.rooms).toEqual([room]);
      const h = await ann2.call({ type: "history", with: b });
      expect((h.messages as Frame[]).map((m) => [m.text, m.id])).toEqual([
        ["before", since],
        ["kept for bob", lastOk.id],
      ]);
      const hr = await ann2.call({ type: "history", with: room });
      expect((hr.messages as Frame[]).map((m) => m.id)).toEqual([roomOk.id]);
      // The room still works without a new join.
      await ann2.call({ type: "msg", to: room, text: "after the restart" });
      expect(await back.next(isMessage)).toMatchObject({ to: room, text: "after the restart" });
    });
  });
});
