/**
 * Fuzzing on the wire: fast-check throws arbitrary bytes, arbitrary JSON and arbitrary
 * sequences of well-shaped commands at a real relay (the in-process Node host, over real
 * TCP sockets and WebSockets) and checks that the process never throws, that every frame of
 * a JSON connection gets exactly one reply, in order, that memory stays bounded, and that the
 * relay's state still adds up afterwards.
 *
 * `npm test` runs a quick version; `npm run fuzz` runs the same properties with
 * `FUZZ_RUNS` runs each (and `FUZZ_SEED` replays a reported failure).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import type { NodeRelay } from "../../adapters/node/main.ts";
import { maxMessageBytes } from "../../src/http/websocket.ts";
import { type Inbox, LineClient, WsClient } from "../support/client.ts";
import { startRelay } from "../support/server.ts";

// ---------------------------------------------------------------------------------------
// How long to fuzz

const LONG_RUNS = Number(process.env.FUZZ_RUNS ?? "") || null;
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

/** fast-check's parameters: `quick` runs in `npm test`, FUZZ_RUNS in `npm run fuzz`. */
function params(quick: number): { numRuns: number; seed?: number } {
  return { numRuns: LONG_RUNS ?? quick, ...(SEED !== undefined && { seed: SEED }) };
}

/** A property's time budget: the quick runs fit in a few seconds; long ones scale. */
const BUDGET_MS = LONG_RUNS === null ? 20_000 : Math.max(60_000, LONG_RUNS * 3_000);

const MAX_FRAME_BYTES = 8192;
/** How much more heap a property may leave behind (after GC), server state included. */
const HEAP_GROWTH_BOUND = 128 * 1024 * 1024;

// ---------------------------------------------------------------------------------------
// What must never happen, whatever the input: the process sees it

const problems: string[] = [];
const onUncaught = (e: unknown) => problems.push(`uncaught exception: ${describeError(e)}`);
const onRejection = (e: unknown) => problems.push(`unhandled rejection: ${describeError(e)}`);

beforeAll(() => {
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onRejection);
  // The host logs what it could not do (a failed store call): with a memory store, never.
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    problems.push(`console.error: ${args.map(String).join(" ")}`);
  });
});

afterAll(() => {
  process.off("uncaughtException", onUncaught);
  process.off("unhandledRejection", onRejection);
  vi.restoreAllMocks();
});

function describeError(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

/** Fails the current run if the process saw an exception or the host logged a failure. */
function expectNoProblems(): void {
  expect(problems.splice(0)).toEqual([]);
}

/**
 * One run of a property: forgets what earlier runs left, runs `body`, and fails with what the
 * process saw (an exception, a logged failure) rather than with what it led to (a timeout).
 */
function watched<A extends unknown[]>(
  body: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args) => {
    problems.length = 0;
    let failed = false;
    let failure: unknown;
    try {
      await body(...args);
    } catch (e) {
      failed = true;
      failure = e;
    }
    const seen = problems.splice(0);
    if (seen.length > 0) throw new Error(`the process saw:\n${seen.join("\n")}`);
    if (failed) throw failure;
  };
}

/** The garbage collector, if the runtime lets us have it (`--expose-gc`, or the V8 flag). */
const gc: (() => void) | null = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return null;
  }
})();

function heapUsed(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

// ---------------------------------------------------------------------------------------
// Clients on both transports

type Transport = "tcp" | "ws";
type Encoding = "json" | "text";

/** One client connection, whichever transport: frames, raw bytes, and what came back. */
interface Wire {
  inbox: Inbox;
  /** One frame: a line on TCP, a text message on WebSocket. */
  frame(text: string): void;
  /** Bytes as they are: on TCP into the stream, on WebSocket as one text message. */
  bytes(data: Uint8Array): void;
  /** A binary WebSocket message (on TCP, just bytes). */
  binary(data: Uint8Array): void;
  close(): void;
}

async function connect(relay: NodeRelay, transport: Transport): Promise<Wire> {
  if (transport === "tcp") {
    const c = await LineClient.open(relay.tcpPort as number);
    return {
      inbox: c,
      frame: (text) => c.socket.write(`${text}\n`),
      bytes: (data) => c.socket.write(data),
      binary: (data) => c.socket.write(data),
      close: () => c.close(),
    };
  }
  const c = await WsClient.open(relay.httpPort);
  return {
    inbox: c,
    frame: (text) => c.ws.send(text),
    bytes: (data) => c.ws.send(data, { binary: false }),
    binary: (data) => c.ws.send(data, { binary: true }),
    close: () => c.close(),
  };
}

/** What came before `done` matched, or before the server closed the connection. */
interface Read {
  lines: string[];
  closed: boolean;
}

async function readUntil(inbox: Inbox, done: (line: string) => boolean, ms = 5000): Promise<Read> {
  const lines: string[] = [];
  for (;;) {
    let line: string;
    try {
      line = await inbox.line(ms);
    } catch (e) {
      if (inbox.closed) return { lines, closed: true };
      throw new Error(`${(e as Error).message}; last lines: ${JSON.stringify(lines.slice(-5))}`);
    }
    lines.push(line);
    if (done(line)) return { lines, closed: false };
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const utf8 = new TextEncoder();

// ---------------------------------------------------------------------------------------
// What any answer must look like

/** docs/protocol.md §9. */
const ERROR_CODES = new Set([
  "bad_json",
  "bad_command",
  "bad_frame",
  "bad_utf8",
  "too_long",
  "unknown_command",
  "not_logged_in",
  "already_logged_in",
  "bad_name",
  "bad_text",
  "name_taken",
  "auth_failed",
  "no_such_user",
  "no_such_room",
  "not_in_room",
  "no_target",
  "queue_full",
  "rate_limited",
  "server_full",
  "shutting_down",
  "not_allowed",
]);

/** The success reply each command may get (docs/protocol.md §5); anything may get `error`. */
const REPLY_TO: Record<string, string> = {
  login: "welcome",
  to: "ok",
  say: "ok",
  msg: "ok",
  join: "ok",
  leave: "ok",
  who: "who",
  history: "history",
  rooms: "rooms",
  ping: "pong",
  quit: "bye",
};

const EVENTS = new Set(["message", "presence", "joined", "left", "announce", "bye"]);
const STACK_TRACE = /\bat .+:\d+:\d+/;

type Json = Record<string, unknown>;

function parseJson(line: string): Json {
  const value = JSON.parse(line) as unknown;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`the server sent a JSON frame that is not an object: ${line}`);
  }
  return value as Json;
}

/** One line the server sent, in either encoding, checked for the shape §5 gives it. */
function expectWellFormed(line: string): void {
  if (line.startsWith("{")) {
    const msg = parseJson(line);
    expect(typeof msg.type).toBe("string");
    if (msg.type === "error") {
      expect(ERROR_CODES, line).toContain(msg.code);
      expect(msg.message, line).toEqual(expect.any(String));
      expect(msg.message, line).not.toMatch(STACK_TRACE);
    }
    if (!("re" in msg)) expect(EVENTS, line).toContain(msg.type);
    return;
  }
  // Text mode: every line starts with a fixed character (§5, text mode output).
  expect(line, line).toMatch(/^(\[|\* |\*\*\* |! )/);
  const error = /^! (\w+): (.*)$/.exec(line);
  if (error) {
    expect(ERROR_CODES, line).toContain(error[1]);
    expect(error[2], line).not.toMatch(STACK_TRACE);
  }
}

function isBye(line: string): boolean {
  return line.startsWith("* bye: ") || (line.startsWith("{") && parseJson(line).type === "bye");
}

// ---------------------------------------------------------------------------------------
// Inputs: bytes, JSON, commands

/** Names that may log in, some of them the same name to the relay (case, NFC, NFKC, confusables). */
const GOOD_NAMES = [
  "ann",
  "Ann",
  "аnn", // Cyrillic а: confusable with ann
  "bob",
  "Bob_2",
  "cy",
  "дима",
  "小明",
  "e\u0301", // é, decomposed
  "é",
  "ﬀ", // NFKC: ff
  "ff",
];
const NAMES = [
  ...GOOD_NAMES,
  "server",
  "Admin",
  "",
  " ",
  "x".repeat(33),
  "bad name",
  "-dash",
  "\u3164", // a filler
  "a\u0000b",
  "{",
  "\ud800",
];
const ROOMS = ["#a", "#A", "#b", "#开发", "#", "#bad room", "a", `#${"r".repeat(40)}`, "#ann"];
const TARGETS = [...NAMES, ...ROOMS, "*"];
const TEXTS = [
  "hi",
  "héllo wörld",
  "tab\there",
  "",
  "   ",
  "x".repeat(4000),
  "y".repeat(4001),
  "😀".repeat(10),
  "\u0000",
  "\u001b[31mred",
  "a\u202eb",
  "line\nbreak",
  "cr\ronly",
  '{"type":"ping"}',
  "/ping",
  "//slash",
  "quit",
  "\ud83d",
];

/** Almost never: a password costs a PBKDF2 hash (a tenth of a second) on the server. */
function rarely<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: 19, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

function maybe<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined });
}

const name = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...GOOD_NAMES) },
  { weight: 2, arbitrary: fc.constantFrom(...NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const room = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ROOMS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => `#${s}`) },
);
const target = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...TARGETS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const text = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TEXTS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40, unit: "grapheme" }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20, unit: "binary" }) },
);

/** A command in the JSON shape of §4, with fields of the right types (mostly). */
type Command = { type: string } & Record<string, unknown>;

const login: fc.Arbitrary<Command> = fc.record({
  type: fc.constant("login"),
  name,
  password: rarely(fc.constantFrom("pw-one", "pw-two")),
  session: rarely(fc.string({ maxLength: 30 })),
  since: rarely(fc.constantFrom("0", "zzzzzzzz", "0000000000-00")),
});

const command: fc.Arbitrary<Command> = fc.oneof(
  login,
  fc.record({ type: fc.constant("msg"), to: target, text }),
  fc.record({ type: fc.constant("say"), text }),
  fc.record({ type: fc.constant("to"), name: target }),
  fc.record({ type: fc.constant("join"), room }),
  fc.record({ type: fc.constant("leave"), room }),
  fc.record({ type: fc.constant("who"), room: maybe(room), after: rarely(name) }),
  fc.record({
    type: fc.constant("history"),
    with: target,
    limit: maybe(fc.oneof(fc.integer({ min: 1, max: 200 }), fc.constantFrom(0, 201, -1))),
    before: rarely(fc.constantFrom("0", "zzzzzzzz")),
  }),
  fc.constant({ type: "rooms" }),
  fc.constant({ type: "ping" }),
  fc.record({
    type: fc.constant("quit"),
    reason: maybe(fc.constantFrom("bye now", "")),
    forget: rarely(fc.boolean()),
  }),
);

/** A command as a JSON frame, with its id. */
function jsonFrame(cmd: Command, id: string): string {
  return JSON.stringify({ ...cmd, id });
}

/** A command as a person types it (§4, text form); a line never holds a line break. */
function textFrame(cmd: Command): string {
  const s = (key: string) => String(cmd[key] ?? "");
  let line: string;
  switch (cmd.type) {
    case "login":
      line =
        cmd.password === undefined ? `/login ${s("name")}` : `/login ${s("name")} ${s("password")}`;
      break;
    case "msg":
      line = cmd.to === "*" ? `/all ${s("text")}` : `/msg ${s("to")} ${s("text")}`;
      break;
    case "say":
      line = s("text");
      break;
    case "to":
      line = `to:${s("name")}`;
      break;
    case "who":
      line = cmd.room === undefined ? "/who" : `/who ${s("room")}`;
      break;
    case "history":
      line =
        cmd.limit === undefined ? `/history ${s("with")}` : `/history ${s("with")} ${s("limit")}`;
      break;
    case "quit":
      line = cmd.reason ? `/quit ${s("reason")}` : "quit";
      break;
    case "join":
    case "leave":
      line = `/${cmd.type} ${s("room")}`;
      break;
    default:
      line = `/${cmd.type}`;
  }
  // A line starting with "{" would make a first frame choose JSON.
  line = line.replace(/[\r\n]/g, " ");
  return line.trimStart().startsWith("{") ? `x${line}` : line;
}

/** Whether a text-mode line is a `/ping` (and so gets `* pong`, unless refused). */
function isTextPing(line: string): boolean {
  return /^\/ping(\s|$)/i.test(line.trimEnd());
}

const INVALID_UTF8 = [
  [0xff],
  [0xfe, 0xff],
  [0xc3],
  [0xc3, 0x28],
  [0xc0, 0xaf], // overlong "/"
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80], // a surrogate
  [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
  [0xe2, 0x82], // cut short
  [0x80],
].map((b) => Uint8Array.from(b));

const SPECIAL_LINES = [
  "\n",
  "\r",
  "\r\n",
  "\r\r\n",
  "\0",
  "\0\n",
  " \n",
  "\t\n",
  "{",
  "{\n",
  "}\n",
  "/",
  "/\n",
  "//\n",
  "\n\n\n",
  "/ping\n",
  "/help\n",
  "/who\n",
  "/rooms\n",
  "ann\n",
  '{"type":"ping","id":"x"}\n',
  '{"type":"login","name":"ann","id":"l"}\n',
  "\ufeff/ping\n",
  "\u2028\n",
].map((s) => utf8.encode(s));

/** One large line of one byte (or its start, when no newline ends it), up to `max` bytes. */
const largeLine = (max: number) =>
  fc
    .tuple(
      fc.integer({ min: MAX_FRAME_BYTES - 2, max }),
      fc.constantFrom(0x78, 0xff, 0x00, 0x0d, 0x7b),
      fc.boolean(),
    )
    .map(([n, byte, ended]) => {
      const line = new Uint8Array(n + (ended ? 1 : 0)).fill(byte);
      if (ended) line[n] = 0x0a;
      return line;
    });

const hugeLine = largeLine(80_000);

/**
 * WebSocket messages past twice the frame limit (and 1 KiB) close the connection (1009)
 * while their bytes arrive (docs/protocol.md §1): the fuzzer stays under that.
 */
const hugeMessage = largeLine(maxMessageBytes(MAX_FRAME_BYTES) - 1);

const validLine = fc
  .tuple(command, fc.boolean())
  .map(([cmd, json]) => utf8.encode(`${json ? jsonFrame(cmd, "v") : textFrame(cmd)}\n`));

/** 500 lines of 0xFF: a flood, which ends the connection with `bye flood`. */
const FLOOD = Uint8Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? 0xff : 0x0a));

/** Pieces of a TCP byte stream. */
const chunk: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(FLOOD) },
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 2, arbitrary: fc.constantFrom(...INVALID_UTF8) },
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_LINES) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }).map((s) => utf8.encode(s)) },
  { weight: 3, arbitrary: validLine },
  { weight: 1, arbitrary: hugeLine },
);

/** One WebSocket message of any kind. */
type WsMessage = { kind: "text"; data: string } | { kind: "bytes" | "binary"; data: Uint8Array };

const wsMessage: fc.Arbitrary<WsMessage> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.string({ unit: "binary", maxLength: 60 }).map((data) => ({
      kind: "text" as const,
      data,
    })),
  },
  {
    weight: 3,
    arbitrary: fc
      .oneof(validLine, fc.constantFrom(...SPECIAL_LINES))
      .map((data) => ({ kind: "bytes" as const, data: data.subarray(0, data.length - 1) })),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(fc.uint8Array({ maxLength: 40 }), fc.constantFrom(...INVALID_UTF8))
      .map((data) => ({ kind: "bytes" as const, data })),
  },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ maxLength: 40 }).map((data) => ({ kind: "binary" as const, data })),
  },
  {
    weight: 1,
    arbitrary: hugeMessage.map((data) => ({ kind: "bytes" as const, data })),
  },
);

// ---------------------------------------------------------------------------------------
// The relay's state afterwards

let probes = 0;

/** A fresh JSON client, logged in under a name the fuzzers never use. */
async function probe(relay: NodeRelay): Promise<{ c: LineClient; name: string; online: number }> {
  const name = `probe${++probes}`;
  const c = await LineClient.open(relay.tcpPort as number);
  c.sendJson({ type: "login", name, id: "hello" });
  const { lines } = await readUntil(c, (l) => parseJson(l).re === "hello");
  const welcome = parseJson(lines.at(-1) as string);
  expect(welcome).toMatchObject({ type: "welcome", name });
  return { c, name, online: welcome.online as number };
}

async function ask(c: LineClient, cmd: Command): Promise<Json> {
  const id = `ask${Math.random()}`;
  c.sendJson({ ...cmd, id });
  const { lines, closed } = await readUntil(c, (l) => parseJson(l).re === id);
  expect(closed).toBe(false);
  return parseJson(lines.at(-1) as string);
}

type RoomCount = { room: string; members: number; online: number };

/**
 * Checks, through a fresh client, that `who` lists exactly `online` (and the probe) and that
 * the rooms' counts add up: members at least one, online ones at most the members, and
 * exactly those `who #room` lists.
 */
async function expectState(relay: NodeRelay, online: string[]): Promise<void> {
  const p = await probe(relay);
  try {
    const expected = [...online, p.name];
    expect(p.online).toBe(expected.length);
    const who = await ask(p.c, { type: "who" });
    expect(who.type).toBe("who");
    expect([...(who.users as string[])].sort()).toEqual([...expected].sort());
    expect(who.online).toBe(expected.length);
    const rooms = await ask(p.c, { type: "rooms" });
    expect(rooms.type).toBe("rooms");
    for (const r of rooms.rooms as RoomCount[]) {
      expect(r.members, r.room).toBeGreaterThanOrEqual(1);
      expect(r.online, r.room).toBeGreaterThanOrEqual(0);
      expect(r.online, r.room).toBeLessThanOrEqual(r.members);
      const members = await ask(p.c, { type: "who", room: r.room });
      expect(members.type, r.room).toBe("who");
      expect((members.users as string[]).length, r.room).toBe(r.online);
      for (const user of members.users as string[]) expect(expected).toContain(user);
    }
  } finally {
    p.c.sendJson({ type: "quit" });
    await p.c.end();
  }
}

/** Waits until the host holds no connection at all, then checks that nobody is online. */
async function expectAllGone(relay: NodeRelay): Promise<void> {
  const deadline = Date.now() + 5000;
  while (relay.host.sessions().length > 0) {
    if (Date.now() > deadline) {
      throw new Error(`connections left behind: ${JSON.stringify(relay.host.sessions())}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await expectState(relay, []);
}

/** The end of every property: nothing thrown, nothing left, memory bounded. */
async function expectClean(relay: NodeRelay, heapBefore: number): Promise<void> {
  await expectAllGone(relay);
  expectNoProblems();
  const growth = heapUsed() - heapBefore;
  expect(growth, `heap grew by ${Math.round(growth / 1048576)} MiB`).toBeLessThan(
    HEAP_GROWTH_BOUND,
  );
}

// ---------------------------------------------------------------------------------------
// Ending a run: one last probe, answered or refused, or a connection closed with a bye

const PROBE_ID = "fuzz-probe";

/**
 * Sends `/ping` and then a JSON ping: whichever mode the connection is in, one of them is
 * answered with a pong. Returns what came before it, or everything if the server closed the
 * connection, which it may only do after a `bye`.
 */
async function expectAlive(wire: Wire): Promise<Read> {
  wire.frame("");
  wire.frame("/ping");
  wire.frame(JSON.stringify({ type: "ping", id: PROBE_ID }));
  const read = await readUntil(
    wire.inbox,
    (l) => l === "* pong" || (l.startsWith("{") && parseJson(l).re === PROBE_ID),
  );
  for (const line of read.lines) expectWellFormed(line);
  if (read.closed) expect(read.lines.at(-1), "closed without a bye").toSatisfy(isBye);
  return read;
}

// ---------------------------------------------------------------------------------------
// The properties

describe("fuzzing a live relay", () => {
  test(
    "arbitrary bytes over TCP: no throw, every line well formed, the connection lives or ends with bye",
    async () => {
      const relay = await startRelay();
      const heapBefore = heapUsed();
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(chunk, fc.boolean()), { maxLength: 30, size: "medium" }),
          watched(async (chunks) => {
            const wire = await connect(relay, "tcp");
            try {
              let lines = 0;
              for (const [bytes, pause] of chunks) {
                wire.bytes(bytes);
                lines += bytes.filter((b) => b === 0x0a).length;
                if (pause) await tick();
              }
              // Past a burst of 40 commands the probe could be refused (rate_limited): let
              // the limit (20/s) give it room first.
              if (lines > 36) await new Promise((r) => setTimeout(r, 100));
              await expectAlive(wire);
            } finally {
              wire.close();
            }
          }),
        ),
        params(30),
      );
      await expectClean(relay, heapBefore);
    },
    BUDGET_MS,
  );

  test(
    "arbitrary WebSocket messages (text, not UTF-8, binary, huge): the same",
    async () => {
      const relay = await startRelay();
      const heapBefore = heapUsed();
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(wsMessage, fc.boolean()), { maxLength: 30, size: "medium" }),
          watched(async (messages) => {
            const wire = await connect(relay, "ws");
            try {
              for (const [m, pause] of messages) {
                if (m.kind === "text") wire.frame(m.data);
                else if (m.kind === "bytes") wire.bytes(m.data);
                else wire.binary(m.data);
                if (pause) await tick();
              }
              await expectAlive(wire);
            } finally {
              wire.close();
            }
          }),
        ),
        params(40),
      );
      await expectClean(relay, heapBefore);
    },
    BUDGET_MS,
  );

  test(
    "arbitrary JSON in JSON mode: exactly one reply per frame, in order, with the right re",
    async () => {
      const relay = await startRelay();
      const heapBefore = heapUsed();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<Transport>("tcp", "ws"),
          fc.option(login, { freq: 4, nil: undefined }),
          fc.array(fc.tuple(jsonFrameArb, fc.boolean()), { maxLength: 30, size: "medium" }),
          watched(async (transport, first, frames) => {
            const wire = await connect(relay, transport);
            try {
              const sent: JsonSent[] = [
                { text: '{"type":"ping","id":"mode"}', re: "mode" },
                ...(first ? [shapeFrame({ value: first }, true, -1)] : []),
                ...frames.map(([frame, withId], i) => shapeFrame(frame, withId, i)),
              ];
              for (const f of sent) wire.frame(f.text);
              await settleJson(wire, sent);
            } finally {
              wire.close();
            }
          }),
        ),
        { ...params(40), examples: [PIPELINED_AFTER_LOGIN] },
      );
      await expectClean(relay, heapBefore);
    },
    BUDGET_MS,
  );

  test(
    "text mode: a line means the same whether or not the client waited for the welcome before it",
    async () => {
      const relay = await startRelay();
      const heapBefore = heapUsed();
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<Transport>("tcp", "ws"),
          chatLine,
          watched(async (transport, line) => {
            n++;
            const waited = await afterLogin(relay, transport, `waited${n}`, line, false);
            const piped = await afterLogin(relay, transport, `piped${n}`, line, true);
            expect(piped).toEqual(waited);
          }),
        ),
        { ...params(10), examples: [["tcp", "hello"]] },
      );
      await expectClean(relay, heapBefore);
    },
    BUDGET_MS,
  );

  test(
    "sequences of commands from several clients, both encodings, both transports: one reply each, and the state adds up",
    async () => {
      // A short log and queue, so that long runs measure leaks rather than the log's size.
      const relay = await startRelay({ RELAY_HISTORY: "20", RELAY_MAX_QUEUED: "50" });
      const heapBefore = heapUsed();
      const client = fc.record({
        transport: fc.constantFrom<Transport>("tcp", "ws"),
        encoding: fc.constantFrom<Encoding>("json", "text"),
        // Mostly a login first, or little else would be allowed.
        first: fc.option(login, { freq: 5, nil: undefined }),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(client, { minLength: 1, maxLength: 4 }),
          // At most 33 commands and two barriers: within one connection's burst of 40.
          fc.array(fc.record({ who: fc.nat(), cmd: command, pause: fc.boolean() }), {
            maxLength: 32,
            size: "medium",
          }),
          watched(async (clients, actions) => {
            const wires = await Promise.all(clients.map((c) => connect(relay, c.transport)));
            try {
              const sessions = clients.map((c, k) => new Session(wires[k] as Wire, c.encoding));
              sessions.forEach((s, k) => {
                const first = clients[k]?.first;
                if (first) s.send(first, `first${k}`);
              });
              for (const [i, action] of actions.entries()) {
                (sessions[action.who % sessions.length] as Session).send(action.cmd, `c${i}`);
                if (action.pause) await tick();
              }
              // Two barriers: after the first, every login has been answered (a takeover
              // included); after the second, whoever it replaced has heard so.
              for (const round of [1, 2]) {
                await Promise.all(sessions.map((s) => s.settle(`barrier${round}`)));
              }
              const online = sessions.flatMap((s) => (s.closed || s.name === null ? [] : [s.name]));
              await expectState(relay, online);
            } finally {
              for (const w of wires) w.close();
            }
            await expectAllGone(relay);
          }),
        ),
        params(25),
      );
      await expectClean(relay, heapBefore);
    },
    BUDGET_MS,
  );
});

// ---------------------------------------------------------------------------------------
// Counterexamples found, kept as examples so that their properties fail until they are fixed

/**
 * A login and, right behind it (sent before its welcome came), one message of 4,000
 * characters, the longest a text may be: the relay answers `bye flood` and closes, with no
 * welcome and no reply to the message. The core lets 4 KiB of commands wait behind a login
 * (`maxBacklogBytesBeforeLogin`) and evicts past that; two frames are no flood (§8), and
 * bad or big input never closes a connection but as §8 says.
 */
const PIPELINED_AFTER_LOGIN: [Transport, Command | undefined, [JsonInput, boolean][]] = [
  "tcp",
  { type: "login", name: "ann" },
  [[{ value: { type: "msg", to: "*", text: "y".repeat(4000) } }, true]],
];

// ---------------------------------------------------------------------------------------
// Text mode: the same line, sent before or after the welcome came

/** A plain chat line (§4): no command, no quit or exit, no `to:`; any text after that. */
const chatLine = fc.string({ minLength: 1, maxLength: 30, unit: "grapheme" }).filter((line) => {
  const bare = line.trim().toLowerCase();
  return (
    bare !== "" &&
    !/[\r\n]/.test(line) &&
    !line.startsWith("/") &&
    bare !== "quit" &&
    bare !== "exit" &&
    !/^to:\S+$/.test(bare)
  );
});

/**
 * Logs in as `name` in text mode and sends `line` right behind the login (`piped`) or once
 * the welcome came; returns what answers `line`, up to the pong of a `/ping` after it, and
 * quits.
 */
async function afterLogin(
  relay: NodeRelay,
  transport: Transport,
  name: string,
  line: string,
  piped: boolean,
): Promise<string[]> {
  const wire = await connect(relay, transport);
  try {
    wire.frame(name);
    if (!piped) expect(await wire.inbox.line()).toMatch(/^\* welcome, /);
    wire.frame(line);
    wire.frame("/ping");
    const { lines, closed } = await readUntil(wire.inbox, (l) => l === "* pong");
    expect(closed).toBe(false);
    for (const l of lines) expectWellFormed(l);
    wire.frame("/quit");
    await wire.inbox.end();
    return lines.filter((l) => !l.startsWith("* welcome, ") && l !== "* pong");
  } finally {
    wire.close();
  }
}

// ---------------------------------------------------------------------------------------
// JSON frames and their replies

/** A frame of the JSON property: a JSON value, or raw text a JSON client might send. */
type JsonInput = { value: unknown } | { raw: string };

const commandShaped = fc.record(
  {
    type: fc.oneof(
      fc.constantFrom(
        ...Object.keys(REPLY_TO),
        "help",
        "nope",
        "",
        "PING",
        "__proto__",
        "constructor",
        "toString",
        "hasOwnProperty",
        "x".repeat(100),
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    name: fc.oneof(name, fc.jsonValue({ maxDepth: 1 })),
    to: fc.oneof(target, fc.jsonValue({ maxDepth: 1 })),
    text: fc.oneof(text, fc.jsonValue({ maxDepth: 1 })),
    room: fc.oneof(room, fc.jsonValue({ maxDepth: 1 })),
    with: fc.oneof(target, fc.jsonValue({ maxDepth: 1 })),
    limit: fc.oneof(fc.integer({ min: -5, max: 300 }), fc.double(), fc.jsonValue({ maxDepth: 1 })),
    before: fc.jsonValue({ maxDepth: 1 }),
    after: fc.jsonValue({ maxDepth: 1 }),
    since: fc.jsonValue({ maxDepth: 1 }),
    reason: fc.oneof(fc.string({ maxLength: 250 }), fc.jsonValue({ maxDepth: 1 })),
    forget: fc.jsonValue({ maxDepth: 1 }),
    password: rarely(fc.string({ maxLength: 10 })),
    session: fc.jsonValue({ maxDepth: 1 }),
    token: fc.jsonValue({ maxDepth: 1 }),
    id: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: ["type"] },
);

const RAW_JSON_FRAMES = [
  "/ping",
  "hello",
  "{",
  '{"type":',
  '{"type":"ping"',
  '{"type":"ping"}}',
  '{"type":"ping","id":"a","id":"b"}',
  '{"__proto__":{"type":"ping"},"type":"ping"}',
  `${"[".repeat(4000)}${"]".repeat(4000)}`,
  `${'{"a":'.repeat(1300)}1${"}".repeat(1300)}`,
  "NaN",
  "1e999",
  "",
  "   ",
  "\t",
  "\u0000",
  "{}",
  "[]",
  "null",
];

const jsonFrameArb: fc.Arbitrary<JsonInput> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => ({ value })) },
  { weight: 4, arbitrary: commandShaped.map((value) => ({ value })) },
  { weight: 3, arbitrary: command.map((value) => ({ value })) },
  { weight: 1, arbitrary: fc.constantFrom(...RAW_JSON_FRAMES).map((raw) => ({ raw })) },
);

/** A frame as sent, and the `re` its reply must carry (`"none"`: no reply, it is blank). */
type JsonSent = { text: string; re: string | null | "none" };

function shapeFrame(input: JsonInput, withId: boolean, i: number): JsonSent {
  let text: string;
  if ("raw" in input) {
    text = input.raw;
  } else {
    const v = input.value;
    const isObject = typeof v === "object" && v !== null && !Array.isArray(v);
    text = JSON.stringify(isObject && withId ? { ...(v as object), id: `j${i}` } : v);
  }
  return { text, re: expectedRe(text) };
}

/**
 * The `re` of a frame's reply (§5): its `id` when it is a JSON object with a valid one
 * (a string of 1 to 64 characters), else null; a blank frame gets no reply at all.
 */
function expectedRe(text: string): string | null | "none" {
  if (text.trim() === "") return "none";
  if (utf8.encode(text).length > MAX_FRAME_BYTES) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const id = (value as { id?: unknown }).id;
  return Object.hasOwn(value, "id") && typeof id === "string" && id.length >= 1 && id.length <= 64
    ? id
    : null;
}

/**
 * Why a connection may close under a well-behaved client: it quit (its bye is the reply to
 * the quit), or a login with its password took its name over (`bye replaced`). A flood
 * cannot be one: no run sends more than a burst of commands on one connection.
 */
const FAIR_ENDS = new Set(["quit", "replaced"]);

/**
 * Sends a barrier ping after `sent` and reads until its reply (or the close), then checks
 * that the replies, the messages that carry `re`, are exactly one per non-blank frame, in
 * order, each with the `re` it must have and of a type that answers its command; and that a
 * closed connection ended with a bye for a reason in `FAIR_ENDS`, every frame before a quit
 * answered.
 */
async function settleJson(wire: Wire, sent: JsonSent[], barrier = "barrier"): Promise<Read> {
  wire.frame(JSON.stringify({ type: "ping", id: barrier }));
  const read = await readUntil(wire.inbox, (l) => parseJson(l).re === barrier);
  for (const line of read.lines) expectWellFormed(line);
  const expected = sent.filter((f) => f.re !== "none");
  const replies = read.lines.map(parseJson).filter((m) => "re" in m);
  const res = replies.map((r) => r.re);
  if (read.closed) {
    const last = read.lines.at(-1);
    expect(last, "closed without a bye").toSatisfy(isBye);
    const bye = parseJson(last as string);
    expect(FAIR_ENDS, `closed after ${JSON.stringify(expected.map((f) => f.text))}`).toContain(
      bye.reason,
    );
    expect(res).toEqual(expected.slice(0, res.length).map((f) => f.re));
    if ("re" in bye) {
      // Closed by a quit: every frame up to it has its answer.
      expect(jsonType(expected[res.length - 1]?.text ?? "")).toBe("quit");
    }
  } else {
    expect(res).toEqual([...expected.map((f) => f.re), barrier]);
  }
  replies.forEach((reply, i) => {
    const frame = expected[i];
    if (frame === undefined || reply.type === "error") return; // the barrier, or refused
    const type = jsonType(frame.text);
    const answer = Object.hasOwn(REPLY_TO, type) ? REPLY_TO[type] : "error";
    expect(reply.type, frame.text.slice(0, 200)).toBe(answer);
  });
  return read;
}

/** The `type` a JSON frame names, or "" when it names none. */
function jsonType(text: string): string {
  try {
    const type = (JSON.parse(text) as { type?: unknown } | null)?.type;
    return typeof type === "string" ? type : "";
  } catch {
    return "";
  }
}

// ---------------------------------------------------------------------------------------
// One client of the command property: what it sent, what it got, who it is

class Session {
  readonly #wire: Wire;
  readonly #encoding: Encoding;
  /** JSON mode: the frames sent since the last barrier. */
  #sent: JsonSent[] = [];
  /** Text mode: how many `/ping`s were sent since the last barrier. */
  #pings = 0;
  closed = false;
  name: string | null = null;

  constructor(wire: Wire, encoding: Encoding) {
    this.#wire = wire;
    this.#encoding = encoding;
  }

  send(cmd: Command, id: string): void {
    if (this.#encoding === "json") {
      const text = jsonFrame(cmd, id);
      this.#sent.push({ text, re: expectedRe(text) });
      this.#wire.frame(text);
    } else {
      const line = textFrame(cmd);
      if (isTextPing(line)) this.#pings++;
      this.#wire.frame(line);
    }
  }

  /** Waits for the answer to a barrier (or the close), checking every reply on the way. */
  async settle(barrier: string): Promise<void> {
    if (this.closed) return;
    let read: Read;
    if (this.#encoding === "json") {
      read = await settleJson(this.#wire, this.#sent, barrier);
      for (const line of read.lines) {
        const m = parseJson(line);
        if (m.type === "welcome" && "re" in m) this.name = m.name as string;
      }
    } else {
      // Every /ping is answered, in order: the barrier's pong is the last of them.
      this.#wire.frame("/ping");
      let pongs = this.#pings + 1;
      read = await readUntil(this.#wire.inbox, (l) => l === "* pong" && --pongs === 0);
      for (const line of read.lines) {
        expectWellFormed(line);
        const welcome = /^\* welcome, (.+?)! /.exec(line);
        if (welcome) this.name = welcome[1] as string;
      }
      if (read.closed) {
        const last = read.lines.at(-1) ?? "";
        expect(last, "closed without a bye").toSatisfy(isBye);
        expect(FAIR_ENDS, `closed: ${last}`).toContain(last.slice("* bye: ".length));
      }
    }
    this.#sent = [];
    this.#pings = 0;
    this.closed = read.closed;
  }
}
