import { describe, expect, test } from "vitest";
import { jsonUser, LineClient, textUser, WsClient } from "../support/client.ts";
import { startRelay } from "../support/server.ts";

describe("bad input over TCP", () => {
  test("a 1 MB line with no newline: too_long once, memory bounded, connection usable", async () => {
    const relay = await startRelay();
    const c = await textUser(relay.tcpPort as number, "big");
    const before = process.memoryUsage().rss;
    const chunk = "x".repeat(64 * 1024);
    for (let i = 0; i < 16; i++) c.socket.write(chunk);
    expect(await c.line()).toBe("! too_long: a line is at most 8192 bytes");
    c.socket.write("still the same long line\n/ping\n");
    expect(await c.line()).toBe("* pong");
    // The host holds no more than a frame of it.
    expect(relay.host.sessions()[0]?.unsentBytes).toBe(0);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    c.close();
  });

  test("invalid UTF-8 is bad_utf8 and does not fix the mode; JSON still works after it", async () => {
    const { tcpPort } = await startRelay();
    const c = await LineClient.open(tcpPort as number);
    c.socket.write(Buffer.from([0xc3, 0x28, 0x0a]));
    expect(await c.line()).toBe("! bad_utf8: the line is not valid UTF-8");
    c.sendJson({ type: "login", name: "ütf", id: "1" });
    expect(await c.json()).toMatchObject({ type: "welcome", re: "1", name: "ütf" });
    c.socket.write(Buffer.from([0xff, 0x0a]));
    expect(await c.json()).toMatchObject({ type: "error", code: "bad_utf8", re: null });
    c.close();
  });

  test("an abrupt disconnect shows the user offline to the others", async () => {
    const { tcpPort } = await startRelay();
    const port = tcpPort as number;
    const watcher = await textUser(port, "watcher");
    const gone = await textUser(port, "gone");
    expect(await watcher.line()).toBe("* gone is online");
    gone.socket.resetAndDestroy();
    expect(await watcher.line()).toBe("* gone is offline");
    watcher.send("/who");
    expect(await watcher.line()).toBe("* online: watcher");
    watcher.close();
  });

  test("a connection that never logs in is closed with bye login_timeout", async () => {
    const { tcpPort } = await startRelay({ RELAY_LOGIN_TIMEOUT: "1" });
    const c = await LineClient.open(tcpPort as number);
    c.send("/ping");
    expect(await c.line()).toBe("* pong");
    expect(await c.end(3000)).toEqual(["* bye: login_timeout"]);
  });

  test("past max connections a new one gets server_full and is closed", async () => {
    const { tcpPort } = await startRelay({ RELAY_MAX_CONNECTIONS: "2" });
    const port = tcpPort as number;
    const a = await LineClient.open(port);
    const b = await LineClient.open(port);
    const c = await LineClient.open(port);
    expect(await c.end()).toEqual(["! server_full: the server is full; try again later"]);
    b.close();
    await new Promise((r) => setTimeout(r, 100));
    const d = await textUser(port, "dee");
    a.close();
    d.close();
  });

  test("too many commands: rate_limited, then bye flood when it goes on", async () => {
    const { tcpPort } = await startRelay({ RELAY_RATE_LIMIT: "5" });
    const c = await LineClient.open(tcpPort as number);
    c.send(...Array.from({ length: 12 }, () => "/ping"));
    const lines = await c.lines(12);
    expect(lines.filter((l) => l === "* pong")).toHaveLength(10); // a burst of twice the rate
    expect(lines.filter((l) => l.startsWith("! rate_limited:"))).toHaveLength(2);
    c.send(...Array.from({ length: 100 }, () => "/ping"));
    const rest = await c.end();
    expect(rest.at(-1)).toBe("* bye: flood");
  });

  test("500 lines of 0xFF count like commands: rate_limited, then bye flood", async () => {
    const { tcpPort } = await startRelay();
    const c = await LineClient.open(tcpPort as number);
    c.socket.write(Buffer.alloc(1000, Buffer.from([0xff, 0x0a])));
    const lines = await c.end();
    // A burst of 40 (twice the default 20/s), then refusals, then the flood ends it.
    expect(lines.slice(0, 40)).toEqual(
      Array.from({ length: 40 }, () => "! bad_utf8: the line is not valid UTF-8"),
    );
    const limited = lines.filter((l) => l === "! rate_limited: too many commands; slow down");
    expect(limited.length).toBeGreaterThan(0);
    expect(lines.at(-1)).toBe("* bye: flood");
    expect(lines.length).toBeLessThan(500);
  });

  test("lines too long count like commands too, and a flood of them ends in bye flood", async () => {
    const { tcpPort } = await startRelay({ RELAY_RATE_LIMIT: "5" });
    const c = await LineClient.open(tcpPort as number);
    const long = "y".repeat(9000);
    c.send(...Array.from({ length: 12 }, () => long));
    const lines = await c.lines(12);
    expect(lines.filter((l) => l.startsWith("! too_long:"))).toHaveLength(10);
    expect(lines.filter((l) => l.startsWith("! rate_limited:"))).toHaveLength(2);
    c.send(...Array.from({ length: 100 }, () => long));
    expect((await c.end()).at(-1)).toBe("* bye: flood");
  });

  test("undecodable WebSocket messages (binary, not UTF-8, too long) count like commands", async () => {
    const { httpPort } = await startRelay({ RELAY_RATE_LIMIT: "5" });
    const c = await WsClient.open(httpPort);
    const garbage = [
      () => c.ws.send(Buffer.from([1, 2, 3]), { binary: true }),
      () => c.ws.send(Buffer.from([0xff, 0xfe]), { binary: false }),
      () => c.ws.send("z".repeat(9000)),
    ];
    for (let i = 0; i < 12; i++) garbage[i % 3]?.();
    const lines = await c.lines(12);
    expect(lines.filter((l) => /^! (bad_frame|bad_utf8|too_long):/.test(l))).toHaveLength(10);
    expect(lines.filter((l) => l.startsWith("! rate_limited:"))).toHaveLength(2);
    for (let i = 0; i < 100; i++) garbage[i % 3]?.();
    expect((await c.end()).at(-1)).toBe("* bye: flood");
  });

  test("a reader that never reads is dropped; the others are not slowed", async () => {
    const relay = await startRelay({ RELAY_RATE_LIMIT: "0" });
    const port = relay.tcpPort as number;
    const sleepy = await jsonUser(port, "sleepy");
    const awake = await jsonUser(port, "awake");
    const sender = await jsonUser(port, "sender");
    sleepy.socket.pause();
    const text = "z".repeat(4000);
    // 20 MB to each reader, far past the socket buffers and the 1 MiB outbox; the sender
    // goes no faster than the awake reader reads.
    for (let batch = 0; batch < 20; batch++) {
      sender.sendJson(...Array.from({ length: 250 }, () => ({ type: "msg", to: "*", text })));
      let got = 0;
      while (got < 250) {
        const m = await awake.json(10_000);
        if (m.type === "message") got++;
      }
    }
    const names = relay.host.sessions().map((s) => s.name);
    expect(names).not.toContain("sleepy");
    for (const s of relay.host.sessions()) expect(s.unsentBytes).toBeLessThan(1024 * 1024);
    sleepy.socket.resume();
    await sleepy.end(10_000);
    sender.close();
    awake.close();
  });
});

describe("offline messages and protected names", () => {
  test("messages to a known user who is offline are held and delivered at login, oldest first", async () => {
    const { tcpPort } = await startRelay();
    const port = tcpPort as number;
    const bob = await textUser(port, "bob");
    bob.send("quit");
    await bob.end();
    const alice = await textUser(port, "alice");
    alice.send("/msg bob one", "/msg bob two", "/msg bob three", "/msg nobody x");
    expect(await alice.lines(4)).toEqual([
      "* bob is offline; the message is held for them",
      "* bob is offline; the message is held for them",
      "* bob is offline; the message is held for them",
      "! no_such_user: nobody called nobody has logged in here",
    ]);
    const back = await LineClient.open(port);
    back.send("bob");
    expect(await back.line()).toBe("* welcome, bob! online: alice; 3 messages waited for you");
    const held = await back.lines(3);
    expect(held.map((l) => l.replace(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] /, ""))).toEqual([
      "alice: one",
      "alice: two",
      "alice: three",
    ]);
    back.send("thanks"); // the reply rule holds for held messages
    expect(await alice.until(/thanks/)).toMatch(/bob: thanks$/);
    // Once handed over, they are gone.
    back.send("quit");
    await back.end();
    const again = await LineClient.open(port);
    again.send("bob");
    expect(await again.line()).toBe("* welcome, bob! online: alice");
    again.close();
    alice.close();
  });

  test("a password registers a name; a wrong one fails; the right one takes it over", async () => {
    const { tcpPort } = await startRelay();
    const port = tcpPort as number;
    const first = await LineClient.open(port);
    first.send("/login max hunter2");
    expect(await first.line()).toMatch(/^\* welcome, max!/);
    const thief = await LineClient.open(port);
    thief.send("/login max guess", "/login max");
    expect(await thief.line()).toMatch(/^! auth_failed: /);
    expect(await thief.line()).toMatch(/^! name_taken: /);
    const again = await LineClient.open(port);
    again.send("/login MAX hunter2");
    expect(await again.line()).toMatch(/^\* welcome, max!/);
    expect(await first.end()).toEqual(["* bye: replaced"]);
    again.send("quit");
    await again.end();
    thief.send("/login max");
    expect(await thief.line()).toMatch(/^! auth_failed: /);
    thief.close();
  });
});
