import { afterEach, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { RelayError, type WebSocketConstructor } from "../../src/client/mod.ts";
import { startRelay } from "../support/server.ts";
import {
  CuttableTransport,
  client,
  closeClients,
  inbox,
  nextOpen,
  transportTo,
  until,
  type Via,
} from "./e2e-support.ts";

afterEach(closeClients);

test("the ws package's WebSocket fits the client", () => {
  const ctor: WebSocketConstructor = WebSocket;
  expect(ctor).toBe(WebSocket);
});

describe.each(["ws", "tcp"] as const)(
  "relay/client over %s on an in-process Node relay",
  (via: Via) => {
    test("login, requests and their replies, errors", async () => {
      const relay = await startRelay();
      const ann = client({ transport: transportTo(via, relay), name: "ann", password: "pw" });
      const welcome = await ann.connect();
      expect(welcome).toMatchObject({ type: "welcome", name: "ann", users: [], online: 1 });
      expect(ann.session).toMatch(/^[\w-]{43}$/);
      const joined = await ann.request({ type: "join", room: "#dev" });
      expect(joined).toMatchObject({ type: "ok", room: "#dev", users: ["ann"] });
      const who = await ann.request({ type: "who" });
      expect(who.users).toEqual(["ann"]);
      const rooms = await ann.request({ type: "rooms" });
      expect(rooms.rooms).toEqual([{ room: "#dev", members: 1, online: 1 }]);
      expect(await ann.request({ type: "ping" })).toMatchObject({ type: "pong" });
      const error = await ann.request({ type: "msg", to: "nobody", text: "hi" }).catch((e) => e);
      expect(error).toBeInstanceOf(RelayError);
      expect(error).toMatchObject({ code: "no_such_user" });
      const bad = await ann.request({ type: "join", room: "no room" }).catch((e) => e);
      expect(bad).toMatchObject({ code: "bad_name" });
    });

    test("a wrong password rejects connect with auth_failed", async () => {
      const relay = await startRelay();
      const first = client({ transport: transportTo(via, relay), name: "ida", password: "right" });
      await first.connect();
      await first.close();
      const second = client({ transport: transportTo(via, relay), name: "ida", password: "wrong" });
      await expect(second.connect()).rejects.toMatchObject({ code: "auth_failed" });
    });

    test("events: presence, joined, left, room and private messages", async () => {
      const relay = await startRelay();
      const ann = client({ transport: transportTo(via, relay), name: "ann" });
      const seen: string[] = [];
      ann.on("presence", (p) => seen.push(`${p.name} ${p.status}`));
      ann.on("joined", (j) => seen.push(`${j.name} joined ${j.room}`));
      ann.on("left", (l) => seen.push(`${l.name} left ${l.room}`));
      ann.on("message", (m) => seen.push(`${m.from} to ${m.to}: ${m.text}`));
      await ann.connect();
      await ann.request({ type: "join", room: "#dev" });
      const bob = client({ transport: transportTo(via, relay), name: "bob" });
      await bob.connect();
      await bob.request({ type: "join", room: "#dev" });
      await bob.request({ type: "msg", to: "#dev", text: "hello room" });
      await bob.request({ type: "msg", to: "ann", text: "hello ann" });
      await bob.request({ type: "leave", room: "#dev" });
      await until(() => seen.length === 5, "five events");
      expect(seen).toEqual([
        "bob online",
        "bob joined #dev",
        "bob to #dev: hello room",
        "bob to ann: hello ann",
        "bob left #dev",
      ]);
    });

    test("history walks back through a conversation, newest first", async () => {
      const relay = await startRelay();
      const ann = client({ transport: transportTo(via, relay), name: "ann" });
      await ann.connect();
      await ann.request({ type: "join", room: "#log" });
      for (let i = 1; i <= 7; i++) await ann.request({ type: "msg", to: "#log", text: `n${i}` });
      const texts: string[] = [];
      for await (const m of ann.history("#log", { pageSize: 3 })) texts.push(m.text);
      expect(texts).toEqual(["n7", "n6", "n5", "n4", "n3", "n2", "n1"]);
    });

    test("after a network drop it reconnects, resumes, and sees each message once", async () => {
      const relay = await startRelay();
      const network = new CuttableTransport(transportTo(via, relay));
      const bot = client({ transport: network, name: "bot" });
      const got = inbox(bot);
      await bot.connect();
      const session = bot.session;
      await bot.request({ type: "join", room: "#ops" });
      const ann = client({ transport: transportTo(via, relay), name: "ann" });
      await ann.connect();
      await ann.request({ type: "join", room: "#ops" });
      await ann.request({ type: "msg", to: "bot", text: "one" });
      await ann.request({ type: "msg", to: "#ops", text: "two" });
      await until(() => got.length === 2, "two messages");

      network.blocked = true;
      network.cut();
      await until(() => !bot.connected, "the drop");
      // While the bot is away: a private message and a room message.
      await ann.request({ type: "msg", to: "bot", text: "three" });
      await ann.request({ type: "msg", to: "#ops", text: "four" });
      const back = nextOpen(bot);
      network.blocked = false;
      await back;
      expect(bot.session).toBe(session);
      await ann.request({ type: "msg", to: "#ops", text: "five" });
      await until(() => got.length >= 5, "five messages");
      await new Promise((r) => setTimeout(r, 200));
      expect(got.map((m) => m.text)).toEqual(["one", "two", "three", "four", "five"]);
      expect(got.map((m) => m.replay === true)).toEqual([false, false, true, true, false]);
    });

    test("a kept session logs in again; close with forget ends it on the server", async () => {
      const relay = await startRelay();
      const first = client({ transport: transportTo(via, relay), name: "cy" });
      await first.connect();
      const session = first.session;
      await first.close();
      const kept = client({ transport: transportTo(via, relay), name: "cy", session });
      await kept.connect();
      // A login with a session keeps that secret (docs/protocol.md §11.5).
      expect(kept.session).toBe(session);
      await kept.close({ forget: true });
      expect(kept.session).toBeUndefined();
      const again = client({ transport: transportTo(via, relay), name: "cy", session });
      await again.connect();
      // The forgotten secret was refused: the client logged in as at first, with a new secret.
      expect(again.session).not.toBe(session);
    });
  },
);
