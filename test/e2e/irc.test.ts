import irc, { type Client } from "irc-framework";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { jsonUser, LineClient } from "../support/client.ts";
import { type RelayProcess, spawnSharedRelay } from "../support/process.ts";

/** An IRC client (irc-framework) whose events are kept, to be waited for in order. */
class IrcUser {
  readonly client: Client;
  readonly events: { name: string; event: Record<string, unknown> }[] = [];
  #seen = 0;

  constructor() {
    this.client = new irc.Client();
    for (const name of [
      "registered",
      "privmsg",
      "notice",
      "action",
      "join",
      "part",
      "quit",
      "userlist",
      "irc error",
      "sasl failed",
      "loggedin",
      "nick in use",
      "wholist",
      "channel list",
      "ping",
      "close",
      "raw",
    ]) {
      this.client.on(name, (event) => {
        if (name !== "raw") this.events.push({ name, event });
        else if (!event.from_server) return;
        else this.events.push({ name, event });
      });
    }
  }

  /** Connects as `nick` (with SASL PLAIN when `account` is given). */
  connect(
    port: number,
    nick: string,
    account?: { account: string; password: string },
    echo = false,
  ): this {
    this.client.connect({
      host: "127.0.0.1",
      port,
      nick,
      username: nick,
      gecos: nick,
      auto_reconnect: false,
      enable_echomessage: echo,
      ...(account && { account }),
    });
    return this;
  }

  /** The next event called `name` that `match` accepts, after those already waited for. */
  async next(
    name: string,
    match: (event: Record<string, unknown>) => boolean = () => true,
    ms = 8000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      for (let i = this.#seen; i < this.events.length; i++) {
        const e = this.events[i] as { name: string; event: Record<string, unknown> };
        if (e.name === name && match(e.event)) {
          this.events.splice(i, 1);
          return e.event;
        }
      }
      if (Date.now() > deadline) {
        throw new Error(`no ${name}; got ${JSON.stringify(this.events.map((e) => e.name))}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Connects and waits for registration. */
  static async registered(port: number, nick: string): Promise<IrcUser> {
    const user = new IrcUser().connect(port, nick);
    await user.next("registered");
    return user;
  }

  /** A raw line the server sent, matching `pattern`. */
  async line(pattern: RegExp, ms = 8000): Promise<string> {
    const e = await this.next("raw", (e) => pattern.test(String(e.line).trimEnd()), ms);
    return String(e.line).trimEnd();
  }

  quit(): void {
    if (this.client.connected) this.client.quit("bye");
  }
}

const users: IrcUser[] = [];
const lines: LineClient[] = [];

function track<T extends IrcUser | LineClient>(c: T): T {
  if (c instanceof IrcUser) users.push(c);
  else lines.push(c as LineClient);
  return c;
}

afterAll(() => {
  for (const u of users.splice(0)) u.quit();
  for (const l of lines.splice(0)) l.close();
});

/** Reads JSON frames until one matches. */
async function until(
  c: LineClient,
  match: (m: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  for (;;) {
    const m = await c.json();
    if (match(m)) return m;
  }
}

let unique = 0;
/** A fresh name for each test, so that the tests of one relay do not meet. */
function fresh(base: string): string {
  return `${base}${unique++}`;
}

describe.each(["node", "deno"] as const)("the IRC gateway on %s", (runtime) => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await spawnSharedRelay(runtime, {
      RELAY_IRC_PORT: "0",
      RELAY_ADMIN_TOKEN: "irc-test-token-0123456789",
      RELAY_RATE_LIMIT: "0",
      // Silent clients are pinged after 2 s (and dropped 2 s later).
      RELAY_IRC_PING: "2",
    });
  });
  afterAll(async () => {
    await relay?.kill("SIGKILL");
  });

  test("an IRC user and a JSON user chat in a room, both ways", async () => {
    const room = `#${fresh("dev")}`;
    const bobName = fresh("bob");
    const bob = track(await jsonUser(relay.tcpPort, bobName));
    bob.sendJson({ type: "join", room });
    await until(bob, (m) => m.type === "ok");
    const alice = track(await IrcUser.registered(relay.ircPort, fresh("alice")));
    const nick = alice.client.user.nick;
    alice.client.join(room);
    const names = await alice.next("userlist", (e) => e.channel === room);
    expect((names.users as { nick: string }[]).map((u) => u.nick).sort()).toEqual(
      [nick, bobName].sort(),
    );
    expect(await until(bob, (m) => m.type === "joined")).toMatchObject({ room, name: nick });

    bob.sendJson({ type: "msg", to: room, text: "hello from json" });
    const got = await alice.next("privmsg", (e) => e.target === room);
    expect(got).toMatchObject({ nick: bobName, message: "hello from json" });
    // server-time and msgid, as negotiated by irc-framework.
    const tags = got.tags as Record<string, string>;
    expect(tags.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(tags.msgid).toMatch(/^[0-9a-z]+$/);

    alice.client.say(room, "hello from irc");
    expect(await until(bob, (m) => m.type === "message")).toMatchObject({
      from: nick,
      to: room,
      text: "hello from irc",
    });
    alice.client.action(room, "waves");
    expect(await until(bob, (m) => m.type === "message")).toMatchObject({ text: "/me waves" });
    bob.sendJson({ type: "msg", to: room, text: "/me waves back" });
    expect(await alice.next("action", (e) => e.target === room)).toMatchObject({
      nick: bobName,
      message: "waves back",
    });
  });

  test("private messages both ways, a long one split and whole again, errors as numerics", async () => {
    const bobName = fresh("bob");
    const bob = track(await jsonUser(relay.tcpPort, bobName));
    const alice = track(await IrcUser.registered(relay.ircPort, fresh("alice")));
    const nick = alice.client.user.nick;
    alice.client.say(bobName, "psst");
    expect(await until(bob, (m) => m.type === "message")).toMatchObject({
      from: nick,
      to: bobName,
      text: "psst",
    });
    const long = Array.from({ length: 400 }, (_, i) => `wörd${i}`).join(" ");
    bob.sendJson({ type: "msg", to: nick, text: long });
    let joined = "";
    while (joined.length < long.length) {
      const part = await alice.next("privmsg", (e) => e.nick === bobName);
      expect(part.target).toBe(nick);
      joined += part.message;
    }
    expect(joined).toBe(long);
    alice.client.say("nobody_here", "hello?");
    expect(await alice.next("irc error")).toMatchObject({ error: "no_such_nick" });
    alice.client.say("#nowhere", "hello?");
    await alice.line(/ 403 \S+ #nowhere /);
    alice.client.raw("FROB");
    await alice.line(/ 421 \S+ FROB /);
    alice.client.raw("JOIN");
    await alice.line(/ 461 \S+ JOIN /);
    expect(alice.client.connected).toBe(true);
  });

  test("SASL logs in to a protected name; a wrong password fails", async () => {
    const carol = fresh("carol");
    const first = track(await passwordUser(relay.tcpPort, carol, "s3cret-pw"));
    first.sendJson({ type: "quit" });
    await first.end();

    const ok = track(
      new IrcUser().connect(relay.ircPort, carol, { account: carol, password: "s3cret-pw" }),
    );
    await ok.next("loggedin");
    await ok.next("registered");
    expect(ok.client.user.nick).toBe(carol);
    ok.quit();
    await ok.next("close");

    const bad = track(
      new IrcUser().connect(relay.ircPort, carol, { account: carol, password: "wrong" }),
    );
    await bad.next("sasl failed");
    // Without a password the protected nick is refused as in use; the client stays connected.
    await bad.next("nick in use");
    expect(bad.client.connected).toBe(true);
  });

  test("PASS carries the password, and a session secret works as one", async () => {
    const dora = fresh("dora");
    const first = track(await passwordUser(relay.tcpPort, dora, "pw-of-dora"));
    const welcome = first.welcome;
    first.sendJson({ type: "quit" });
    await first.end();
    const byPass = track(new IrcUser());
    byPass.client.connect({
      host: "127.0.0.1",
      port: relay.ircPort,
      nick: dora,
      password: "pw-of-dora",
      auto_reconnect: false,
    });
    await byPass.next("registered");
    byPass.quit();
    await byPass.next("close");
    const bySession = track(new IrcUser());
    bySession.client.connect({
      host: "127.0.0.1",
      port: relay.ircPort,
      nick: dora,
      password: welcome.session,
      auto_reconnect: false,
    });
    await bySession.next("registered");
    expect(bySession.client.user.nick).toBe(dora);
  });

  test("presence: a member going offline is a QUIT, coming back a JOIN; history plays on join", async () => {
    const room = `#${fresh("ops")}`;
    const bobName = fresh("bob");
    const bob = track(await jsonUser(relay.tcpPort, bobName));
    bob.sendJson({ type: "join", room });
    await until(bob, (m) => m.type === "ok");
    for (const text of ["one", "two", "three"]) {
      bob.sendJson({ type: "msg", to: room, text });
      await until(bob, (m) => m.type === "ok");
    }
    const alice = track(await IrcUser.registered(relay.ircPort, fresh("alice")));
    alice.client.join(room);
    await alice.next("userlist", (e) => e.channel === room);
    const played: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await alice.next("privmsg", (e) => e.target === room);
      expect((m.tags as Record<string, string>).time).toBeDefined();
      played.push(String(m.message));
    }
    expect(played).toEqual(["one", "two", "three"]);

    bob.close();
    expect(await alice.next("quit", (e) => e.nick === bobName)).toBeDefined();
    const back = track(await jsonUser(relay.tcpPort, bobName));
    expect(await alice.next("join", (e) => e.nick === bobName)).toMatchObject({ channel: room });
    back.sendJson({ type: "leave", room });
    expect(await alice.next("part", (e) => e.nick === bobName)).toMatchObject({ channel: room });
  });

  test("a broadcast is a NOTICE to $*; an announcement a NOTICE from the server", async () => {
    const alice = track(await IrcUser.registered(relay.ircPort, fresh("alice")));
    const bob = track(await jsonUser(relay.tcpPort, fresh("bob")));
    bob.sendJson({ type: "msg", to: "*", text: "hear ye" });
    await alice.line(/NOTICE \$\* :hear ye$/);
    const res = await fetch(`http://127.0.0.1:${relay.httpPort}/admin/announce`, {
      method: "POST",
      headers: {
        authorization: "Bearer irc-test-token-0123456789",
        "content-type": "application/json",
      },
      body: JSON.stringify({ text: "maintenance at noon" }),
    });
    expect(res.status).toBe(200);
    const notice = await alice.next("notice", (e) => e.message === "maintenance at noon");
    expect(notice.from_server).toBe(true);
  });

  test("draft/chathistory: no playback on JOIN; CHATHISTORY answers in a batch", async () => {
    const room = `#${fresh("log")}`;
    const bob = track(await jsonUser(relay.tcpPort, fresh("bob")));
    bob.sendJson({ type: "join", room });
    await until(bob, (m) => m.type === "ok");
    for (const text of ["first", "second", "third"]) {
      bob.sendJson({ type: "msg", to: room, text });
      await until(bob, (m) => m.type === "ok");
    }
    const alice = track(new IrcUser());
    alice.client.requestCap(["batch", "draft/chathistory"]);
    alice.connect(relay.ircPort, fresh("alice"));
    await alice.next("registered");
    expect(alice.client.network.cap.enabled).toContain("draft/chathistory");
    alice.client.join(room);
    await alice.next("userlist", (e) => e.channel === room);
    alice.client.raw(`CHATHISTORY LATEST ${room} * 2`);
    const start = await alice.line(/BATCH \+\S+ chathistory /);
    const batch = (/BATCH \+(\S+)/.exec(start) as RegExpExecArray)[1];
    const first = await alice.next("privmsg", (e) => e.target === room);
    const second = await alice.next("privmsg", (e) => e.target === room);
    expect([first.message, second.message]).toEqual(["second", "third"]);
    expect((first.tags as Record<string, string>).batch).toBe(batch);
    await alice.line(new RegExp(`BATCH -${batch}$`));
    // Nothing was played back by the JOIN itself: "first" never came.
    expect(alice.events.some((e) => e.name === "privmsg" && e.event.message === "first")).toBe(
      false,
    );
  });

  test("PART, NAMES, WHO and LIST; NOTICE to a nick and a channel is a relay message", async () => {
    const room = `#${fresh("hall")}`;
    const bobName = fresh("bob");
    const bob = track(await jsonUser(relay.tcpPort, bobName));
    bob.sendJson({ type: "join", room });
    await until(bob, (m) => m.type === "ok");
    const alice = track(await IrcUser.registered(relay.ircPort, fresh("alice")));
    const nick = alice.client.user.nick;
    alice.client.join(room);
    await alice.next("userlist", (e) => e.channel === room);
    alice.client.raw(`NAMES ${room}`);
    const names = await alice.next("userlist", (e) => e.channel === room);
    expect((names.users as { nick: string }[]).map((u) => u.nick).sort()).toEqual(
      [nick, bobName].sort(),
    );
    alice.client.raw(`WHO ${room}`);
    const who = await alice.next("wholist", (e) => e.target === room);
    expect((who.users as { nick: string }[]).map((u) => u.nick).sort()).toEqual(
      [nick, bobName].sort(),
    );
    alice.client.raw(`LIST ${room}`);
    const listed = await alice.next("channel list");
    expect(listed).toEqual([expect.objectContaining({ channel: room, num_users: 2 })]);

    alice.client.notice(room, "a notice to the room");
    expect(await until(bob, (m) => m.type === "message")).toMatchObject({
      from: nick,
      to: room,
      text: "a notice to the room",
    });
    alice.client.notice(bobName, "a notice to bob");
    expect(await until(bob, (m) => m.type === "message")).toMatchObject({
      from: nick,
      to: bobName,
      text: "a notice to bob",
    });

    alice.client.part(room, "bye all");
    expect(await alice.next("part", (e) => e.nick === nick)).toMatchObject({ channel: room });
    expect(await until(bob, (m) => m.type === "left")).toMatchObject({ room, name: nick });
    // Membership ended: the room is not hers any more.
    alice.client.say(room, "still here?");
    await alice.line(new RegExp(` 404 \\S+ ${room} `));
  });

  test("NICK after registration is 447 and the nick stays; TARGMAX, long lines and bad UTF-8 get numerics, the connection stays", async () => {
    const alice = track(await IrcUser.registered(relay.ircPort, fresh("alice")));
    const nick = alice.client.user.nick;
    alice.client.raw(`NICK ${fresh("zed")}`);
    await alice.line(new RegExp(` 447 ${nick} `));
    alice.client.raw("PRIVMSG a,b,c,d,e :too many");
    await alice.line(/ 407 \S+ a,b,c,d,e :Too many recipients/);
    alice.client.raw(`PRIVMSG ${nick} :${"x".repeat(9000)}`);
    await alice.line(/ 417 /);
    alice.client.raw("PING :alive");
    await alice.line(/PONG \S+ :alive$/);
    // Bytes that are not UTF-8, from a client of our own.
    const raw = track(await LineClient.open(relay.ircPort));
    const rawNick = fresh("raw");
    raw.send(`NICK ${rawNick}\r`, `USER ${rawNick} 0 * :R\r`);
    await raw.until(/ 376 /);
    raw.socket.write(Buffer.from([0x50, 0xff, 0x0d, 0x0a]));
    expect(await raw.until(/NOTICE/)).toMatch(/^:irc\.relay NOTICE \S+ :\*\*\* bad_utf8: /);
    raw.send("PING :alive\r");
    await raw.until(/PONG irc\.relay :alive/);
    expect(alice.client.connected).toBe(true);
    expect(alice.client.user.nick).toBe(nick);
  });

  test("echo-message: your own message comes back with its msgid once it is kept", async () => {
    const bobName = fresh("bob");
    const bob = track(await jsonUser(relay.tcpPort, bobName));
    const alice = track(new IrcUser().connect(relay.ircPort, fresh("alice"), undefined, true));
    await alice.next("registered");
    expect(alice.client.network.cap.enabled).toContain("echo-message");
    const nick = alice.client.user.nick;
    alice.client.say(bobName, "echo me");
    const got = await until(bob, (m) => m.type === "message");
    const echo = await alice.next("privmsg", (e) => e.nick === nick && e.target === bobName);
    expect(echo.message).toBe("echo me");
    expect((echo.tags as Record<string, string>).msgid).toBe(got.id);
  });

  test("the server pings a silent client: irc-framework answers and stays, a mute one is dropped", async () => {
    const alice = track(await IrcUser.registered(relay.ircPort, fresh("alice")));
    const mute = track(await LineClient.open(relay.ircPort));
    const name = fresh("mute");
    mute.send(`NICK ${name}\r`, `USER ${name} 0 * :M\r`);
    await mute.until(/ 376 /);
    expect(await mute.until(/^PING /, 10_000)).toBe("PING :irc.relay\r");
    expect(await mute.until(/^ERROR /, 10_000)).toBe(
      `ERROR :Closing Link: ${name} (Ping timeout)\r`,
    );
    await mute.end();
    // As silent all along, but it answered its pings: still here.
    await alice.next("ping");
    alice.client.raw("PING :still-here");
    await alice.line(/PONG \S+ :still-here$/);
    expect(alice.client.connected).toBe(true);
  });

  test("held messages come after 001 when SASL logs in before CAP END, in order", async () => {
    const carol = fresh("carol");
    const first = track(await passwordUser(relay.tcpPort, carol, "carol-pw"));
    first.sendJson({ type: "quit" });
    await first.end();
    const bobName = fresh("bob");
    const bob = track(await jsonUser(relay.tcpPort, bobName));
    for (const text of ["one", "two", "three"]) {
      bob.sendJson({ type: "msg", to: carol, text });
      expect(await until(bob, (m) => m.type === "ok")).toMatchObject({ queued: true });
    }
    const back = track(
      new IrcUser().connect(relay.ircPort, carol, { account: carol, password: "carol-pw" }),
    );
    await back.next("loggedin");
    await back.next("registered");
    const got: string[] = [];
    for (let i = 0; i < 3; i++) {
      got.push(String((await back.next("privmsg", (e) => e.nick === bobName)).message));
    }
    expect(got).toEqual(["one", "two", "three"]);
  });

  test("rooms a user is back in are joined at login", async () => {
    const room = `#${fresh("home")}`;
    const nick = fresh("eve");
    const first = track(await IrcUser.registered(relay.ircPort, nick));
    first.client.join(room);
    await first.next("userlist", (e) => e.channel === room);
    first.quit();
    await first.next("close");
    const again = track(await IrcUser.registered(relay.ircPort, nick));
    expect(await again.next("join", (e) => e.nick === nick)).toMatchObject({ channel: room });
    await again.next("userlist", (e) => e.channel === room);
  });
});

/** A JSON user logged in with a password (which registers it); keeps its welcome. */
async function passwordUser(
  port: number,
  name: string,
  password: string,
): Promise<LineClient & { welcome: Record<string, unknown> }> {
  const c = (await LineClient.open(port)) as LineClient & { welcome: Record<string, unknown> };
  c.sendJson({ type: "login", name, password });
  c.welcome = await c.json();
  if (c.welcome.type !== "welcome") throw new Error(JSON.stringify(c.welcome));
  return c;
}
