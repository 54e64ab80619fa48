import { describe, expect, test } from "vitest";
import { jsonUser, LineClient, textUser } from "../support/client.ts";
import { startRelay } from "../support/server.ts";

const TIME = "\\[\\d\\d:\\d\\d:\\d\\d\\]";

describe("text mode over TCP", () => {
  test("three users chat privately, in a room and to everyone", async () => {
    const { tcpPort } = await startRelay();
    const port = tcpPort as number;
    const alice = await textUser(port, "alice");
    const bob = await textUser(port, "bob");
    expect(await alice.line()).toBe("* bob is online");
    const carol = await LineClient.open(port);
    carol.send("/login carol");
    expect(await carol.line()).toBe("* welcome, carol! online: alice, bob");
    await alice.until(/carol is online/);
    await bob.until(/carol is online/);

    alice.send("/to bob", "hi bob");
    expect(await bob.line()).toMatch(new RegExp(`^${TIME} alice: hi bob$`));
    bob.send("hello alice"); // the reply rule: bob answers alice without /to
    expect(await alice.line()).toMatch(new RegExp(`^${TIME} bob: hello alice$`));

    alice.send("/join #dev");
    expect(await alice.line()).toBe("* you joined #dev: alice");
    carol.send("/join dev");
    expect(await carol.line()).toBe("* you joined #dev: alice, carol");
    expect(await alice.line()).toBe("* carol joined #dev");
    carol.send("/msg #dev standup?");
    expect(await alice.line()).toMatch(new RegExp(`^${TIME} #dev carol: standup\\?$`));

    bob.send("/all lunch");
    expect(await alice.line()).toMatch(new RegExp(`^${TIME} \\* bob: lunch$`));
    expect(await carol.line()).toMatch(new RegExp(`^${TIME} \\* bob: lunch$`));

    bob.send("/who", "/rooms", "/ping");
    expect(await bob.lines(3)).toEqual([
      "* online: alice, bob, carol",
      "* rooms: #dev (2 of 2 online)",
      "* pong",
    ]);

    carol.send("quit");
    expect(await carol.line()).toBe("* bye: quit");
    await carol.end();
    // v2: carol stays a member of #dev; the room sees her go offline, not leave.
    expect(await alice.line()).toBe("* carol is offline");
    for (const c of [alice, bob]) c.close();
  });

  test("the server says nothing until the client's first frame", async () => {
    const { tcpPort } = await startRelay();
    const c = await LineClient.open(tcpPort as number);
    await expect(c.line(300)).rejects.toThrow(/timed out/);
    c.close();
  });

  test("errors are one line each and never close the connection", async () => {
    const { tcpPort } = await startRelay();
    const c = await textUser(tcpPort as number, "eve");
    c.send("/frob", "/msg carol hi", "/msg #nowhere hi", "hi", "/join #a b", "/ping");
    expect(await c.lines(6)).toEqual([
      "! unknown_command: unknown command /frob; /help lists the commands",
      "! no_such_user: nobody called carol has logged in here",
      "! no_such_room: there is no room #nowhere",
      "! no_target: choose who to talk to first: /to <name>",
      "! bad_command: usage: /join <#room>",
      "* pong",
    ]);
    c.close();
  });

  test("before login: not_logged_in, bad_name, name_taken, and /help", async () => {
    const { tcpPort } = await startRelay();
    const port = tcpPort as number;
    const taken = await textUser(port, "Zoe");
    const c = await LineClient.open(port);
    c.send("/who", "server", "two words", "zoe", "/help");
    expect(await c.line()).toMatch(/^! not_logged_in: /);
    expect(await c.line()).toMatch(/^! bad_name: /);
    expect(await c.line()).toMatch(/^! bad_name: /);
    expect(await c.line()).toMatch(/^! name_taken: /);
    expect(await c.line()).toBe("* commands:");
    await c.until(/reply rule|partner/);
    c.send("zoe2");
    expect(await c.line()).toBe("* welcome, zoe2! online: Zoe");
    c.close();
    taken.close();
  });
});

describe("JSON mode over TCP", () => {
  test("replies carry re in order; events carry none", async () => {
    const { tcpPort } = await startRelay();
    const port = tcpPort as number;
    const bob = await jsonUser(port, "bob");
    const alice = await LineClient.open(port);
    alice.sendJson(
      { type: "login", name: "alice", id: "l" },
      { type: "msg", to: "bob", text: "hi", id: "m" },
      { type: "join", room: "#x", id: "j" },
      { type: "who", room: "#x", id: "w" },
      { type: "ping", id: "p" },
    );
    expect(await alice.json()).toEqual({
      type: "welcome",
      re: "l",
      name: "alice",
      users: ["bob"],
      online: 2,
      rooms: [],
      queued: 0,
      session: expect.stringMatching(/^[\w-]{43}$/),
    });
    const ok = await alice.json();
    expect(ok).toEqual({ type: "ok", re: "m", id: expect.any(String) });
    expect(await alice.json()).toMatchObject({ type: "ok", re: "j", users: ["alice"] });
    expect(await alice.json()).toEqual({
      type: "who",
      re: "w",
      room: "#x",
      users: ["alice"],
      online: 1,
    });
    expect(await alice.json()).toEqual({ type: "pong", re: "p" });
    expect(await bob.json()).toEqual({ type: "presence", name: "alice", status: "online" });
    const msg = await bob.json();
    expect(msg).toEqual({
      type: "message",
      id: ok.id,
      from: "alice",
      to: "bob",
      text: "hi",
      ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    bob.close();
    alice.close();
  });

  test("bad JSON, bad commands and unknown types are refused with the right code", async () => {
    const { tcpPort } = await startRelay();
    const c = await jsonUser(tcpPort as number, "jay");
    c.send("hello", "[]", '{"type":"dance","id":"d"}', '{"type":"msg","to":"x","id":"q"}');
    c.sendJson(
      { type: "msg", to: "jay", text: "", id: "t" },
      { type: "login", name: "jay", id: "a" },
    );
    const codes = [];
    for (let i = 0; i < 6; i++) {
      const r = await c.json();
      codes.push([r.code, r.re]);
    }
    expect(codes).toEqual([
      ["bad_json", null],
      ["bad_command", null],
      ["bad_command", "d"],
      ["bad_command", "q"],
      ["bad_text", "t"],
      ["already_logged_in", "a"],
    ]);
    c.close();
  });

  test("500 messages arrive in the order they were sent", async () => {
    const { tcpPort } = await startRelay({ RELAY_RATE_LIMIT: "0" });
    const port = tcpPort as number;
    const bob = await jsonUser(port, "bob");
    const alice = await jsonUser(port, "alice");
    await bob.json(); // alice's presence
    const commands = Array.from({ length: 500 }, (_, i) => ({
      type: "msg",
      to: "bob",
      text: `${i}`,
    }));
    alice.sendJson(...commands);
    const texts: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 500; i++) {
      const m = await bob.json();
      texts.push(m.text as string);
      ids.push(m.id as string);
    }
    expect(texts).toEqual(commands.map((c) => c.text));
    expect([...ids].sort()).toEqual(ids);
    alice.close();
    bob.close();
  });
});

describe("the remaining refusals over TCP", () => {
  test("not_in_room, no_such_room, queue_full, and bye shutdown", async () => {
    const relay = await startRelay({ RELAY_MAX_QUEUED: "2" });
    const port = relay.tcpPort as number;
    const ola = await textUser(port, "ola");
    ola.send("/join #mine", "quit");
    await ola.end();
    const pia = await textUser(port, "pia");
    pia.send("/join #other", "/leave #other", "/join #x", "/msg #y hi");
    await pia.lines(3);
    expect(await pia.line()).toMatch(/^! no_such_room: /);
    const quinn = await textUser(port, "quinn");
    quinn.send("/msg #x hi", "/leave #x");
    expect(await quinn.line()).toMatch(/^! not_in_room: /);
    expect(await quinn.line()).toMatch(/^! not_in_room: /);
    quinn.send("/msg ola 1", "/msg ola 2", "/msg ola 3");
    expect(await quinn.lines(3)).toEqual([
      "* ola is offline; the message is held for them",
      "* ola is offline; the message is held for them",
      "! queue_full: ola has too many messages waiting",
    ]);
    const late = await LineClient.open(port);
    late.send("/ping");
    expect(await late.line()).toBe("* pong");
    const stopping = relay.stop();
    expect(await late.end()).toEqual(["* bye: shutdown"]);
    await stopping;
    pia.close();
    quinn.close();
  });
});
