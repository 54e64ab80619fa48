import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import {
  type ChatMessage,
  type CloseInfo,
  type ReconnectingInfo,
  RelayClient,
  type RelayClientOptions,
} from "../../src/client/mod.ts";
import { FakeServer, friendly } from "./fake-server.ts";

beforeEach(() => {
  vi.useFakeTimers();
  // The jitter at its top: each wait is exactly the backoff ceiling.
  vi.spyOn(Math, "random").mockReturnValue(1);
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

function setup(options: Partial<RelayClientOptions> = {}) {
  const server = new FakeServer();
  const client = new RelayClient({ transport: server, name: "bot", heartbeatMs: 0, ...options });
  const log: string[] = [];
  client.on("close", (c: CloseInfo) =>
    log.push(`close ${c.reconnect}${c.reason ? ` ${c.reason}` : ""}`),
  );
  client.on("reconnecting", (r: ReconnectingInfo) =>
    log.push(`reconnecting ${r.attempt} ${r.delayMs}`),
  );
  client.on("open", () => log.push("open"));
  return { server, client, log };
}

function message(id: string): ChatMessage {
  return { type: "message", id, from: "ann", to: "bot", text: id, ts: "2025-01-01T00:00:00.000Z" };
}

describe("reconnecting", () => {
  test("after a drop it logs in again with the session and the newest id seen, own sends included", async () => {
    const { server, client, log } = setup({ password: "pw" });
    await client.connect();
    server.last.push(message("m000010"));
    const ok = await client.request({ type: "msg", to: "ann", text: "hi" });
    server.last.drop();
    expect(log).toEqual(["open", "close true", "reconnecting 1 500"]);
    await vi.advanceTimersByTimeAsync(499);
    expect(server.opens).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.opens).toBe(2);
    expect(server.last.sent[0]).toEqual({
      type: "login",
      name: "bot",
      session: "secret-1",
      since: ok.id,
      id: expect.any(String),
    });
    expect(log.at(-1)).toBe("open");
    expect(client.connected).toBe(true);
  });

  test("failed attempts back off exponentially, and a login resets the backoff", async () => {
    const { server, log } = await connected();
    server.refusals = 3;
    server.last.drop();
    await vi.advanceTimersByTimeAsync(500 + 1000 + 2000 + 3999);
    expect(server.opens).toBe(4); // the first, then three refused
    await vi.advanceTimersByTimeAsync(1);
    expect(server.opens).toBe(5);
    expect(log).toEqual([
      "open",
      "close true",
      "reconnecting 1 500",
      "reconnecting 2 1000",
      "reconnecting 3 2000",
      "reconnecting 4 4000",
      "open",
    ]);
    server.last.drop();
    expect(log.at(-1)).toBe("reconnecting 1 500");
  });

  test("the jitter keeps each wait between half the ceiling and the ceiling", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const { server, log } = await connected({ reconnect: { initialDelayMs: 1000 } });
    server.last.drop();
    expect(log.at(-1)).toBe("reconnecting 1 500");
    await vi.advanceTimersByTimeAsync(500);
    expect(server.opens).toBe(2);
  });

  test("the backoff stops growing at maxDelayMs", async () => {
    const { server, log } = await connected({ reconnect: { maxDelayMs: 1500 } });
    server.refusals = 3;
    server.last.drop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(log.filter((l) => l.startsWith("reconnecting"))).toEqual([
      "reconnecting 1 500",
      "reconnecting 2 1000",
      "reconnecting 3 1500",
      "reconnecting 4 1500",
    ]);
  });

  test("after maxAttempts failures it gives up: close without reconnect, with the error", async () => {
    const { server, client } = await connected({ reconnect: { maxAttempts: 2 } });
    const closes: CloseInfo[] = [];
    client.on("close", (c) => closes.push(c));
    server.refusals = 5;
    server.last.drop();
    const waiting = client.request({ type: "ping" });
    const failed = expect(waiting).rejects.toMatchObject({ code: "closed" });
    await vi.advanceTimersByTimeAsync(60_000);
    await failed;
    expect(server.opens).toBe(3);
    expect(closes.map((c) => c.reconnect)).toEqual([true, false]);
    expect(closes[1]?.error).toMatchObject({ code: "connect_failed" });
  });

  test("a request in flight when the connection drops fails with connection_lost", async () => {
    const { server, client } = await connected();
    server.script = () => [];
    const lost = client.request({ type: "msg", to: "ann", text: "hi" });
    await vi.advanceTimersByTimeAsync(0);
    server.last.drop();
    await expect(lost).rejects.toMatchObject({ code: "connection_lost" });
  });

  test("requests made while disconnected wait and go out, in order, after the next login", async () => {
    const { server, client } = await connected();
    server.last.drop();
    const join = client.request({ type: "join", room: "#a" });
    const send = client.request({ type: "msg", to: "#a", text: "back" });
    await vi.advanceTimersByTimeAsync(500);
    await Promise.all([join, send]);
    expect(server.last.sent.map((c) => c.type).filter((t) => t !== "history")).toEqual([
      "login",
      "join",
      "msg",
    ]);
  });

  test("the wait for a connection is bounded: past maxBacklog a request fails with backlog_full", async () => {
    const { server, client } = await connected({ maxBacklog: 2 });
    server.last.drop();
    const kept = [client.request({ type: "ping" }), client.request({ type: "ping" })];
    await expect(client.request({ type: "ping" })).rejects.toMatchObject({ code: "backlog_full" });
    await vi.advanceTimersByTimeAsync(500);
    await Promise.all(kept);
  });

  test("with maxBacklog 0 a request while disconnected fails at once with not_connected", async () => {
    const { server, client } = await connected({ maxBacklog: 0 });
    server.last.drop();
    await expect(client.request({ type: "ping" })).rejects.toMatchObject({
      code: "not_connected",
    });
  });

  test("a session the server refuses falls back to the password on the same connection", async () => {
    const { server, client } = await connected({ password: "pw" });
    server.script = (c, conn) =>
      c.type === "login" && c.session
        ? [{ type: "error", re: c.id, code: "auth_failed", message: "the session ended" }]
        : friendly(c, conn);
    server.last.drop();
    await vi.advanceTimersByTimeAsync(500);
    expect(server.last.sent.filter((c) => c.type === "login")).toEqual([
      { type: "login", name: "bot", session: "secret-1", since: "m000000", id: expect.any(String) },
      { type: "login", name: "bot", password: "pw", since: "m000000", id: expect.any(String) },
    ]);
    expect(client.connected).toBe(true);
  });

  test("a login refused on reconnect (auth_failed) is tried again, and each refusal is reported", async () => {
    const { server, client, log } = await connected({ password: "pw" });
    const errors: unknown[] = [];
    client.on("reconnecting", (r) => errors.push(r.error));
    let refusals = 3; // the session, then the password, then the password again
    server.script = (c, conn) =>
      c.type === "login" && refusals-- > 0
        ? [{ type: "error", re: c.id, code: "auth_failed", message: "the store is away" }]
        : friendly(c, conn);
    server.last.drop();
    await vi.advanceTimersByTimeAsync(500 + 1000 + 2000);
    expect(errors).toEqual([
      undefined,
      expect.objectContaining({ code: "auth_failed" }),
      expect.objectContaining({ code: "auth_failed" }),
    ]);
    expect(log.at(-1)).toBe("open");
    expect(client.connected).toBe(true);
  });

  test("a refusal no attempt can cure (bad_name) stops reconnecting", async () => {
    const { server, client, log } = await connected();
    server.script = (c) => [{ type: "error", re: c.id, code: "bad_name", message: "no" }];
    server.last.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.opens).toBe(2);
    expect(log.slice(-2)).toEqual(["reconnecting 1 500", "close false"]);
    await expect(client.request({ type: "ping" })).rejects.toMatchObject({ code: "closed" });
  });

  test("a name still taken (the old connection lingers) is tried again later", async () => {
    const { server, client } = await connected();
    let taken = 1;
    server.script = (c, conn) =>
      c.type === "login" && taken-- > 0
        ? [{ type: "error", re: c.id, code: "name_taken", message: "taken" }]
        : friendly(c, conn);
    server.last.drop();
    await vi.advanceTimersByTimeAsync(500 + 1000);
    expect(server.opens).toBe(3);
    expect(client.connected).toBe(true);
  });

  test("bye shutdown reconnects; bye kicked and bye replaced do not", async () => {
    const { server, client, log } = await connected();
    const byes: string[] = [];
    client.on("bye", (b) => byes.push(b.reason));
    server.last.push({ type: "bye", reason: "shutdown" });
    server.last.drop();
    expect(log.slice(-2)).toEqual(["close true shutdown", "reconnecting 1 500"]);
    await vi.advanceTimersByTimeAsync(500);
    server.last.push({ type: "bye", reason: "kicked" });
    server.last.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(byes).toEqual(["shutdown", "kicked"]);
    expect(log.at(-1)).toBe("close false kicked");
    expect(server.opens).toBe(2);
  });

  test("close while waiting to reconnect stops for good", async () => {
    const { server, client, log } = await connected();
    server.last.drop();
    await client.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.opens).toBe(1);
    expect(log.at(-1)).toBe("close false");
  });

  test("reconnect: false stops at the first drop", async () => {
    const { server, log } = await connected({ reconnect: false });
    server.last.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.opens).toBe(1);
    expect(log).toEqual(["open", "close false"]);
  });
});

describe("resuming", () => {
  test("a message replayed by the server after a reconnect is not emitted twice", async () => {
    const { server, client } = await connected();
    const ids: string[] = [];
    client.on("message", (m) => ids.push(m.id));
    server.last.push(message("m000001"), message("m000002"));
    server.last.drop();
    await vi.advanceTimersByTimeAsync(500);
    expect(server.last.sent[0]?.since).toBe("m000002");
    server.last.push(
      { ...message("m000002"), replay: true },
      { ...message("m000003"), replay: true },
    );
    expect(ids).toEqual(["m000001", "m000002", "m000003"]);
  });

  test("before any message was seen, the newest id of * and the rooms is the baseline to resume from", async () => {
    const { server, client } = setup();
    server.script = (c, conn) => {
      if (c.type === "login") {
        return [{ ...friendly(c, conn)[0], rooms: ["#a"] }];
      }
      if (c.type === "history") {
        const newest = c.with === "#a" ? "m000050" : "m000020";
        expect(c.limit).toBe(1);
        return [
          { type: "history", re: c.id, with: c.with, messages: [message(newest)], more: true },
        ];
      }
      return friendly(c, conn);
    };
    await client.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.sent("history").map((c) => c.with)).toEqual(["*", "#a"]);
    expect(client.since).toBe("m000050");
    server.last.drop();
    await vi.advanceTimersByTimeAsync(500);
    expect(server.last.sent[0]?.since).toBe("m000050");
    // Once an id is known, no baseline is asked for.
    expect(server.sent("history")).toHaveLength(2);
  });
});

describe("heartbeat", () => {
  test("a connection that answers no ping for a whole period is dropped and reconnected", async () => {
    const { server, client, log } = await connected({ heartbeatMs: 10_000 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(server.last.sent.at(-1)?.type).toBe("ping"); // answered: all is well
    server.script = () => []; // the server goes silent
    await vi.advanceTimersByTimeAsync(20_000);
    expect(server.connections[0]?.closedByClient).toBe(true);
    expect(log).toContain("close true");
    server.script = friendly;
    await vi.advanceTimersByTimeAsync(500);
    expect(client.connected).toBe(true);
    expect(server.opens).toBe(2);
  });
});

async function connected(options: Partial<RelayClientOptions> = {}) {
  const s = setup(options);
  await s.client.connect();
  // Known since: no resume baseline is asked for, so the scripts stay simple.
  s.server.last.push(message("m000000"));
  return s;
}
