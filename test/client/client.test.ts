import { describe, expect, test, vi } from "vitest";
import { type ChatMessage, RelayClient, RelayError } from "../../src/client/mod.ts";
import { FakeServer, settle } from "./fake-server.ts";

function setup(options: Partial<ConstructorParameters<typeof RelayClient>[0]> = {}) {
  const server = new FakeServer();
  const client = new RelayClient({ transport: server, name: "bot", heartbeatMs: 0, ...options });
  return { server, client };
}

function message(id: string, text = "hi", extra: Partial<ChatMessage> = {}): ChatMessage {
  return {
    type: "message",
    id,
    from: "ann",
    to: "bot",
    text,
    ts: "2025-01-01T00:00:00.000Z",
    ...extra,
  };
}

describe("logging in", () => {
  test("connect sends one login with the credentials and resolves with the welcome", async () => {
    const { server, client } = setup({ password: "pw" });
    const welcome = await client.connect();
    expect(welcome).toMatchObject({ type: "welcome", name: "bot", session: "secret-1" });
    expect(server.sent("login")).toEqual([
      { type: "login", name: "bot", password: "pw", id: expect.any(String) },
    ]);
    expect(client.connected).toBe(true);
    expect(client.session).toBe("secret-1");
  });

  test("a given session and since go into the first login instead of the password", async () => {
    const { server, client } = setup({ password: "pw", session: "kept", since: "m000100" });
    await client.connect();
    expect(server.sent("login")[0]).toMatchObject({ session: "kept", since: "m000100" });
    expect(server.sent("login")[0]).not.toHaveProperty("password");
  });

  test("a refused login rejects connect with its code, and the client is closed", async () => {
    const { server, client } = setup();
    server.script = (c) => [{ type: "error", re: c.id, code: "name_taken", message: "taken" }];
    const failed = client.connect();
    await expect(failed).rejects.toMatchObject({ code: "name_taken", message: "taken" });
    await expect(failed).rejects.toBeInstanceOf(RelayError);
    expect(server.last.closedByClient).toBe(true);
    await expect(client.request({ type: "ping" })).rejects.toMatchObject({ code: "closed" });
  });

  test("a connection that cannot be made rejects connect with connect_failed", async () => {
    const { server, client } = setup();
    server.refusals = 1;
    await expect(client.connect()).rejects.toMatchObject({ code: "connect_failed" });
    expect(server.opens).toBe(1);
  });

  test("a client needs a url or a transport", () => {
    expect(() => new RelayClient({ name: "x" })).toThrow(TypeError);
  });

  test("a url without a WebSocket to reach it is a TypeError at once", () => {
    vi.stubGlobal("WebSocket", undefined);
    try {
      expect(() => new RelayClient({ url: "ws://localhost:8080/ws", name: "x" })).toThrow(
        /no global WebSocket/,
      );
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe("requests and replies", () => {
  test("each request gets its own reply, matched by id, typed by command", async () => {
    const { server, client } = setup();
    await client.connect();
    // This server answers out of order: matching goes by id, not by position.
    const held: { id: string }[] = [];
    server.script = (c) => {
      held.push(c);
      return [];
    };
    const who = client.request({ type: "who" });
    const pong = client.request({ type: "ping" });
    await settle();
    const [w, p] = held as { id: string }[];
    expect(w?.id).not.toBe(p?.id);
    server.last.push({ type: "pong", re: p?.id }, { type: "who", re: w?.id, users: ["bot"] });
    expect(await pong).toEqual({ type: "pong", re: p?.id });
    expect((await who).users).toEqual(["bot"]);
  });

  test("an error reply rejects with a RelayError carrying the server's code", async () => {
    const { server, client } = setup();
    await client.connect();
    server.script = (c) => [
      { type: "error", re: c.id, code: "no_such_user", message: "nobody called zed" },
    ];
    const error = await client.request({ type: "msg", to: "zed", text: "hi" }).catch((e) => e);
    expect(error).toBeInstanceOf(RelayError);
    expect(error).toMatchObject({ code: "no_such_user", message: "nobody called zed" });
    expect(error.fromServer).toBe(true);
  });

  test("a reply without re answers the oldest request", async () => {
    const { server, client } = setup();
    await client.connect();
    server.script = () => [{ type: "error", re: null, code: "bad_json", message: "?" }];
    await expect(client.request({ type: "ping" })).rejects.toMatchObject({ code: "bad_json" });
  });

  test("login and quit are not requests", async () => {
    const { client } = setup();
    await expect(
      client.request({ type: "login", name: "x" } as unknown as { type: "ping" }),
    ).rejects.toBeInstanceOf(TypeError);
  });

  test("requests made before connect wait for the login and go out in order", async () => {
    const { server, client } = setup();
    const first = client.request({ type: "join", room: "#a" });
    const second = client.request({ type: "msg", to: "#a", text: "hello" });
    await client.connect();
    await Promise.all([first, second]);
    const order = server.sent("login", "join", "msg").map((c) => c.type);
    expect(order).toEqual(["login", "join", "msg"]);
  });

  test("the id of an own message counts as seen", async () => {
    const { client } = setup();
    await client.connect();
    const ok = await client.request({ type: "msg", to: "ann", text: "hi" });
    expect(client.since).toBe(ok.id);
  });
});

describe("events", () => {
  test("server events reach on() handlers and EventTarget listeners", async () => {
    const { server, client } = setup();
    const seen: string[] = [];
    client.on("message", (m) => seen.push(`message ${m.text}`));
    client.on("presence", (p) => seen.push(`presence ${p.name} ${p.status}`));
    client.on("joined", (j) => seen.push(`joined ${j.room} ${j.name}`));
    client.on("left", (l) => seen.push(`left ${l.room} ${l.name}`));
    client.on("announce", (a) => seen.push(`announce ${a.text}`));
    client.addEventListener("message", (e) => seen.push(`event ${e.detail.id}`));
    await client.connect();
    server.last.push(
      message("m1", "hello"),
      { type: "presence", name: "ann", status: "online" },
      { type: "joined", room: "#a", name: "ann" },
      { type: "left", room: "#a", name: "ann" },
      { type: "announce", text: "maintenance", ts: "2025-01-01T00:00:00.000Z" },
    );
    expect(seen).toEqual([
      "message hello",
      "event m1",
      "presence ann online",
      "joined #a ann",
      "left #a ann",
      "announce maintenance",
    ]);
  });

  test("open carries the welcome; on() returns a function that unsubscribes", async () => {
    const { server, client } = setup();
    const opened = vi.fn();
    client.on("open", opened);
    const texts: string[] = [];
    const off = client.on("message", (m) => texts.push(m.text));
    await client.connect();
    expect(opened).toHaveBeenCalledWith(expect.objectContaining({ type: "welcome" }));
    server.last.push(message("m1", "one"));
    off();
    server.last.push(message("m2", "two"));
    expect(texts).toEqual(["one"]);
  });

  test("a message id already emitted is not emitted again", async () => {
    const { server, client } = setup();
    const ids: string[] = [];
    client.on("message", (m) => ids.push(m.id));
    await client.connect();
    server.last.push(message("m1"), message("m2"), message("m1", "hi", { replay: true }));
    expect(ids).toEqual(["m1", "m2"]);
    expect(client.since).toBe("m2");
  });

  test("frames that are not JSON objects with a type are ignored", async () => {
    const { server, client } = setup();
    await client.connect();
    const events = vi.fn();
    client.on("message", events);
    server.last.push({ nope: 1 }, { type: "mystery" });
    expect(events).not.toHaveBeenCalled();
    expect(await client.request({ type: "ping" })).toMatchObject({ type: "pong" });
  });
});

describe("closing", () => {
  test("close sends quit with forget, resolves once closed, and stops the client", async () => {
    const { server, client } = setup();
    const closed = vi.fn();
    client.on("close", closed);
    await client.connect();
    await client.close({ forget: true, reason: "done" });
    expect(server.sent("quit")).toEqual([
      { type: "quit", reason: "done", forget: true, id: expect.any(String) },
    ]);
    expect(closed).toHaveBeenCalledTimes(1);
    expect(closed).toHaveBeenCalledWith({ reconnect: false, reason: "quit" });
    expect(client.session).toBeUndefined();
    expect(client.connected).toBe(false);
    await expect(client.request({ type: "ping" })).rejects.toMatchObject({ code: "closed" });
    expect(server.opens).toBe(1);
  });

  test("replies to requests sent before close still arrive", async () => {
    const { client } = setup();
    await client.connect();
    const pong = client.request({ type: "ping" });
    await client.close();
    expect(await pong).toMatchObject({ type: "pong" });
  });

  test("close before connect makes connect reject with closed", async () => {
    const { client } = setup();
    await client.close();
    await expect(client.connect()).rejects.toMatchObject({ code: "closed" });
  });
});
