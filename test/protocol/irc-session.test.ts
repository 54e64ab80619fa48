import { describe, expect, test } from "vitest";
import type { ChatMessage, Command, ServerMessage } from "../../src/core/mod.ts";
import {
  type Decoded,
  IRC_LINE_BYTES,
  type IrcOptions,
  IrcSession,
  ircLineBytes,
  parseIrc,
} from "../../src/protocol/mod.ts";

const OPTIONS: IrcOptions = { server: "relay", auth: "open", playback: 50 };
const TS = "2024-05-01T12:34:56.789Z";

/** An IRC session driven by hand: lines in, the core's answers in, IRC lines out. */
class Client {
  readonly irc: IrcSession;
  /** The commands for the core, in order, that nobody answered yet. */
  commands: Decoded[] = [];
  constructor(options: Partial<IrcOptions> = {}) {
    this.irc = new IrcSession({ ...OPTIONS, ...options });
  }

  /** Sends lines; returns what the session answered at once. */
  send(...lines: string[]): string[] {
    const out: string[] = [];
    for (const line of lines) {
      const turn = this.irc.receive(line, Date.parse(TS));
      out.push(...turn.lines);
      this.commands.push(...turn.commands);
    }
    return out;
  }

  /** The oldest command not answered yet (and its `re`). */
  next(): { command: Command; re: string } {
    const decoded = this.commands.shift();
    if (!decoded?.ok) throw new Error(`no command waits: ${JSON.stringify(decoded)}`);
    return { command: decoded.command, re: decoded.re as string };
  }

  /** What the session writes for a message of the core; follow-ups join the commands. */
  get(msg: ServerMessage): string[] {
    const text = this.irc.encode(msg);
    this.commands.push(...this.irc.takeFollowUps());
    return text === null ? [] : text.split("\r\n").slice(0, -1);
  }

  /** Answers the oldest command with `reply` (given without `re`). */
  answer(reply: Record<string, unknown>): string[] {
    const { re } = this.next();
    return this.get({ ...reply, re } as ServerMessage);
  }
}

function welcome(name: string, extra: Record<string, unknown> = {}) {
  return { type: "welcome", name, users: [], online: 1, rooms: [], queued: 0, ...extra };
}

/** A client logged in as `name`, past its welcome burst. */
function registered(name = "alice", caps: string[] = []): Client {
  const c = new Client();
  if (caps.length > 0) c.send("CAP LS 302", `CAP REQ :${caps.join(" ")}`);
  c.send(`NICK ${name}`, `USER ${name} 0 * :${name}`);
  if (caps.length > 0) c.send("CAP END");
  c.answer(welcome(name));
  return c;
}

function message(over: Partial<ChatMessage>): ChatMessage {
  return {
    type: "message",
    id: "0lvx1abc0000",
    from: "bob",
    to: "alice",
    text: "hi",
    ts: TS,
    ...over,
  };
}

/** A client in `#dev` with bob and carol as members, carol offline. */
function inDev(caps: string[] = []): Client {
  const c = registered("alice", caps);
  c.send("JOIN #dev");
  c.answer({ type: "ok", room: "#dev", users: ["alice", "bob", "carol"] });
  c.answer({ type: "who", room: "#dev", users: ["alice", "bob"] });
  c.answer({ type: "history", with: "#dev", messages: [], more: false });
  return c;
}

describe("registration", () => {
  test("NICK and USER log in; welcome is the 001-005 burst and the MOTD", () => {
    const c = new Client();
    expect(c.send("NICK alice")).toEqual([]);
    expect(c.commands).toEqual([]);
    c.send("USER alice 0 * :Alice A");
    expect(c.next().command).toEqual({ type: "login", name: "alice" });
    const c2 = new Client();
    c2.send("NICK Alice", "USER a 0 * :A");
    const burst = c2.answer(welcome("alice", { online: 3 }));
    expect(burst.map((l) => parseIrc(l)?.command)).toEqual([
      "001",
      "002",
      "003",
      "004",
      "005",
      "251",
      "375",
      "372",
      "372",
      "376",
    ]);
    // The relay name is the nick, as the store spells it.
    expect(burst[0]).toBe(":relay 001 alice :Welcome to the relay, alice");
    const isupport = parseIrc(burst[4] as string)?.params ?? [];
    for (const token of [
      "CHANTYPES=#",
      "CASEMAPPING=ascii",
      "NICKLEN=32",
      "PREFIX=",
      "NETWORK=relay",
    ]) {
      expect(isupport).toContain(token);
    }
    expect(c2.irc.registered).toBe(true);
  });

  test("CAP LS 302 suspends registration until CAP END; REQ is acknowledged whole or not at all", () => {
    const c = new Client();
    expect(c.send("CAP LS 302")).toEqual([
      ":relay CAP * LS :batch draft/chathistory echo-message message-tags sasl=PLAIN server-time",
    ]);
    c.send("NICK alice", "USER alice 0 * :A");
    expect(c.commands).toEqual([]);
    expect(c.send("CAP REQ :server-time chathistory")).toEqual([
      ":relay CAP alice NAK :server-time chathistory",
    ]);
    expect(c.send("CAP REQ :server-time message-tags")).toEqual([
      ":relay CAP alice ACK :server-time message-tags",
    ]);
    expect(c.send("CAP LIST")).toEqual([":relay CAP alice LIST :server-time message-tags"]);
    expect(c.send("CAP FLY")).toEqual([":relay 410 alice FLY :Invalid CAP command"]);
    c.send("CAP END");
    expect(c.next().command).toEqual({ type: "login", name: "alice" });
  });

  test("SASL PLAIN logs in before CAP END; what comes meanwhile waits for 001", () => {
    const c = new Client();
    c.send("CAP LS 302", "NICK alice", "USER alice 0 * :A", "CAP REQ :sasl");
    expect(c.send("AUTHENTICATE PLAIN")).toEqual(["AUTHENTICATE +"]);
    c.send(`AUTHENTICATE ${btoa("\0alice\0s3cret")}`);
    const { command, re } = c.next();
    expect(command).toEqual({ type: "login", name: "alice", password: "s3cret" });
    expect(c.get({ ...welcome("alice"), re } as ServerMessage)).toEqual([
      ":relay 900 alice alice!alice@relay alice :You are now logged in as alice",
      ":relay 903 alice :SASL authentication successful",
    ]);
    // A held message streams in before the client ended negotiation: it must wait (the host
    // keeps it), as must presence; a reply, or the bye that closes, need not.
    const held = message({ queued: true });
    expect(c.irc.waits(held)).toBe(true);
    expect(c.irc.waits({ type: "presence", name: "bob", status: "online" })).toBe(true);
    expect(c.irc.waits({ type: "pong", re: null })).toBe(false);
    expect(c.irc.waits({ type: "bye", reason: "kicked" })).toBe(false);
    const burst = c.send("CAP END");
    expect(parseIrc(burst[0] as string)?.command).toBe("001");
    expect(c.irc.waits(held)).toBe(false);
    expect(c.get(held)).toEqual([":bob!bob@relay PRIVMSG alice :[2024-05-01 12:34:56] hi"]);
  });

  test("SASL that fails is 904; an unknown mechanism is 908", () => {
    const c = new Client();
    c.send("CAP LS 302", "CAP REQ :sasl", "NICK alice", "USER alice 0 * :A");
    expect(c.send("AUTHENTICATE EXTERNAL")).toEqual([
      ":relay 908 alice PLAIN :are available SASL mechanisms",
      ":relay 904 alice :SASL authentication failed",
    ]);
    c.send("AUTHENTICATE PLAIN", `AUTHENTICATE ${btoa("alice\0alice\0wrong")}`);
    expect(c.answer({ type: "error", code: "auth_failed", message: "wrong password" })).toEqual([
      ":relay 904 alice :SASL authentication failed: wrong password",
    ]);
    expect(c.send("AUTHENTICATE PLAIN", "AUTHENTICATE ????")).toEqual([
      "AUTHENTICATE +",
      ":relay 904 alice :SASL authentication failed",
    ]);
  });

  test("a session secret works as a password: tried as a session, then as a password", () => {
    const secret = "a".repeat(43);
    const c = new Client();
    c.send(`PASS ${secret}`, "NICK alice", "USER alice 0 * :A");
    expect(c.next().command).toEqual({ type: "login", name: "alice", session: secret });
    // Not a session (the re of the first login is the one answered).
    const c2 = new Client();
    c2.send(`PASS ${secret}`, "NICK alice", "USER alice 0 * :A");
    expect(c2.answer({ type: "error", code: "auth_failed", message: "no" })).toEqual([]);
    expect(c2.next().command).toEqual({ type: "login", name: "alice", password: secret });
  });

  test("in token mode the password is the token", () => {
    const c = new Client({ auth: "token" });
    c.send("PASS a.b.c", "NICK alice", "USER alice 0 * :A");
    expect(c.next().command).toEqual({ type: "login", name: "alice", token: "a.b.c" });
  });

  test("a taken nick is 433 and another NICK tries again; a protected one says so", () => {
    const c = new Client();
    c.send("NICK bob", "USER bob 0 * :B");
    expect(c.answer({ type: "error", code: "name_taken", message: "bob is online" })).toEqual([
      ":relay 433 * bob :Nickname is already in use",
    ]);
    c.send("NICK bob_");
    expect(c.next().command).toEqual({ type: "login", name: "bob_" });
    const d = new Client();
    d.send("NICK carol", "USER c 0 * :C");
    expect(d.answer({ type: "error", code: "auth_failed", message: "no" })).toEqual([
      ":relay 433 * carol :Nickname is protected by a password: send it with PASS or SASL",
    ]);
    const e = new Client();
    e.send("PASS nope", "NICK carol", "USER c 0 * :C");
    expect(e.answer({ type: "error", code: "auth_failed", message: "wrong password" })).toEqual([
      ":relay 464 carol :Password incorrect: wrong password",
    ]);
    const f = new Client();
    f.send("NICK bad!name");
    f.send("NICK ok.but.core.says.no", "USER x 0 * :X");
    expect(f.answer({ type: "error", code: "bad_name", message: "nope" })).toEqual([
      ":relay 432 * ok.but.core.says.no :Erroneous nickname: nope",
    ]);
  });

  test("commands before registration are 451, or wait while the login is checked", () => {
    const c = new Client();
    expect(c.send("JOIN #dev")).toEqual([":relay 451 * :You have not registered"]);
    c.send("NICK alice", "USER alice 0 * :A", "JOIN #dev");
    const login = c.next();
    expect(login.command.type).toBe("login");
    c.get({ ...welcome("alice"), re: login.re } as ServerMessage);
    expect(c.next().command).toEqual({ type: "join", room: "#dev" });
  });

  test("USER and PASS after registration are 462; NICK cannot change a relay name", () => {
    const c = registered();
    expect(c.send("USER a 0 * :b")).toEqual([":relay 462 alice :You may not reregister"]);
    expect(c.send("NICK Alice")).toEqual([]);
    expect(c.send("NICK zed")).toEqual([
      ":relay 447 alice zed :relay names are fixed: reconnect to use another",
    ]);
  });

  test("the rooms a user is back in are joined, named and played back", () => {
    const c = new Client();
    c.send("NICK alice", "USER alice 0 * :A");
    const burst = c.answer(welcome("alice", { rooms: ["#dev"] }));
    expect(burst).toContain(":alice!alice@relay JOIN #dev");
    expect(c.commands.map((d) => d.ok && d.command)).toEqual([
      { type: "join", room: "#dev" },
      { type: "who", room: "#dev" },
      { type: "history", with: "#dev", limit: 50 },
    ]);
    // The join's ok adds no second JOIN line.
    expect(c.answer({ type: "ok", room: "#dev", users: ["alice", "bob"] })).toEqual([]);
    expect(c.answer({ type: "who", room: "#dev", users: ["alice"] })).toEqual([
      ":relay 353 alice = #dev :alice",
      ":relay 366 alice #dev :End of /NAMES list",
    ]);
  });
});

describe("channels", () => {
  test("JOIN joins, names who is online and plays back the newest messages", () => {
    const c = registered("alice", ["server-time", "message-tags"]);
    c.send("JOIN #dev,nochan");
    expect(c.commands.map((d) => d.ok && d.command)).toEqual([
      { type: "join", room: "#dev" },
      { type: "who", room: "#dev" },
      { type: "history", with: "#dev", limit: 50 },
    ]);
    expect(c.answer({ type: "ok", room: "#dev", users: ["alice", "bob", "carol"] })).toEqual([
      ":alice!alice@relay JOIN #dev",
    ]);
    expect(c.answer({ type: "who", room: "#dev", users: ["alice", "bob"] })).toEqual([
      ":relay 353 alice = #dev :alice bob",
      ":relay 366 alice #dev :End of /NAMES list",
    ]);
    // A message that came live before the playback is not played back again.
    c.get(message({ id: "2", to: "#dev", text: "live" }));
    const played = c.answer({
      type: "history",
      with: "#dev",
      messages: [
        message({ id: "1", to: "#dev", text: "old" }),
        message({ id: "2", to: "#dev", text: "live" }),
      ],
      more: false,
    });
    expect(played).toEqual([`@time=${TS};msgid=1 :bob!bob@relay PRIVMSG #dev :old`]);
    expect(c.send("JOIN #dev")).toEqual([]);
    expect(c.commands).toEqual([]);
  });

  test("a JOIN that fails is 403, and its names and playback say nothing", () => {
    const c = registered();
    c.send("JOIN #bad!");
    expect(c.answer({ type: "error", code: "bad_name", message: "not a room" })).toEqual([
      ":relay 403 alice #bad! :No such channel (not a room)",
    ]);
    expect(c.answer({ type: "error", code: "bad_name", message: "not a room" })).toEqual([]);
    expect(c.answer({ type: "error", code: "not_in_room", message: "no" })).toEqual([]);
  });

  test("PART leaves; a channel you are not in is 442", () => {
    const d = inDev();
    d.send("PART #dev :see you", "PART #ops");
    expect(d.commands[0]).toMatchObject({ command: { type: "leave", room: "#dev" } });
    expect(d.answer({ type: "ok", room: "#dev" })).toEqual([
      ":alice!alice@relay PART #dev :see you",
    ]);
    expect(d.answer({ type: "error", code: "not_in_room", message: "no" })).toEqual([
      ":relay 442 alice #ops :You're not on that channel",
    ]);
  });

  test("presence is JOIN and QUIT in shared channels; joined and left are JOIN and PART", () => {
    const c = inDev();
    expect(c.get({ type: "presence", name: "carol", status: "online" })).toEqual([
      ":carol!carol@relay JOIN #dev",
    ]);
    expect(c.get({ type: "presence", name: "bob", status: "offline" })).toEqual([
      ":bob!bob@relay QUIT :offline",
    ]);
    // Nobody of the channel: nothing to show.
    expect(c.get({ type: "presence", name: "zed", status: "online" })).toEqual([]);
    expect(c.get({ type: "presence", name: "zed", status: "offline" })).toEqual([]);
    expect(c.get({ type: "joined", room: "#dev", name: "dan" })).toEqual([
      ":dan!dan@relay JOIN #dev",
    ]);
    expect(c.get({ type: "left", room: "#dev", name: "dan" })).toEqual([
      ":dan!dan@relay PART #dev",
    ]);
    expect(c.get({ type: "presence", name: "dan", status: "online" })).toEqual([]);
  });

  test("NAMES, WHO, LIST and TOPIC", () => {
    const c = inDev();
    c.send("NAMES #dev");
    expect(c.answer({ type: "who", room: "#dev", users: ["alice", "bob"] })).toEqual([
      ":relay 353 alice = #dev :alice bob",
      ":relay 366 alice #dev :End of /NAMES list",
    ]);
    c.send("WHO #dev");
    expect(c.answer({ type: "who", room: "#dev", users: ["alice"] })).toEqual([
      ":relay 352 alice #dev alice relay relay alice H :0 alice",
      ":relay 315 alice #dev :End of /WHO list",
    ]);
    c.send("LIST");
    expect(c.next().command).toEqual({ type: "rooms" });
    c.send("LIST");
    expect(c.answer({ type: "rooms", rooms: [{ room: "#dev", members: 3, online: 2 }] })).toEqual([
      ":relay 321 alice Channel :Users  Name",
      ":relay 322 alice #dev 2 :[+nt] 3 members",
      ":relay 323 alice :End of /LIST",
    ]);
    expect(c.send("TOPIC #dev")).toEqual([":relay 331 alice #dev :No topic is set"]);
    expect(c.send("MODE #dev")).toEqual([":relay 324 alice #dev :+nt"]);
    expect(c.send("MODE #dev b")).toEqual([":relay 368 alice #dev :End of channel ban list"]);
  });

  test("a long list of names is cut into lines of at most 512 bytes", () => {
    const c = inDev();
    c.send("NAMES #dev");
    const users = Array.from({ length: 300 }, (_, i) => `user_with_a_long_name_${i}`);
    const lines = c.answer({ type: "who", room: "#dev", users });
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(ircLineBytes(line)).toBeLessThanOrEqual(IRC_LINE_BYTES);
  });
});

describe("messages", () => {
  test("PRIVMSG to a channel, a nick and $* are relay messages", () => {
    const c = inDev();
    c.send("PRIVMSG #dev,bob :hello all", "PRIVMSG $* :everyone");
    expect(c.commands.map((d) => d.ok && d.command)).toEqual([
      { type: "msg", to: "#dev", text: "hello all" },
      { type: "msg", to: "bob", text: "hello all" },
      { type: "msg", to: "*", text: "everyone" },
    ]);
  });

  test("relay messages become PRIVMSG; a broadcast is a NOTICE to $*; an announcement a server NOTICE", () => {
    const c = inDev();
    expect(c.get(message({ to: "#dev" }))).toEqual([":bob!bob@relay PRIVMSG #dev :hi"]);
    expect(c.get(message({}))).toEqual([":bob!bob@relay PRIVMSG alice :hi"]);
    expect(c.get(message({ to: "*" }))).toEqual([":bob!bob@relay NOTICE $* :hi"]);
    expect(c.get({ type: "announce", text: "restart at noon", ts: TS })).toEqual([
      ":relay NOTICE alice :restart at noon",
    ]);
  });

  test("with server-time and message-tags, messages carry @time and msgid", () => {
    const c = inDev(["server-time", "message-tags"]);
    expect(c.get(message({ to: "#dev" }))).toEqual([
      `@time=${TS};msgid=0lvx1abc0000 :bob!bob@relay PRIVMSG #dev :hi`,
    ]);
    // With server-time, a held message needs no date in its text.
    expect(c.get(message({ queued: true }))).toEqual([
      `@time=${TS};msgid=0lvx1abc0000 :bob!bob@relay PRIVMSG alice :hi`,
    ]);
  });

  test("a long relay message is split into PRIVMSGs of at most 512 bytes, nothing lost", () => {
    const c = inDev();
    const text = "ünïcødé 😀 words ".repeat(250).trim();
    const lines = c.get(message({ to: "#dev", text }));
    expect(lines.length).toBeGreaterThan(8);
    let back = "";
    for (const line of lines) {
      expect(ircLineBytes(line)).toBeLessThanOrEqual(IRC_LINE_BYTES);
      back += parseIrc(line)?.params[1];
    }
    expect(back).toBe(text);
  });

  test("echo-message echoes what was sent, with its msgid, once it is kept", () => {
    const c = inDev(["echo-message", "message-tags", "server-time"]);
    c.send("PRIVMSG #dev :mine");
    expect(c.answer({ type: "ok", id: "0lvx1abd0000" })).toEqual([
      `@time=${TS};msgid=0lvx1abd0000 :alice!alice@relay PRIVMSG #dev :mine`,
    ]);
    c.send("PRIVMSG carol :later");
    expect(c.answer({ type: "ok", id: "0lvx1abe0000", queued: true, to: "carol" })).toEqual([
      `@time=${TS};msgid=0lvx1abe0000 :alice!alice@relay PRIVMSG carol :later`,
      ":relay NOTICE alice :carol is offline; the message is held for them",
    ]);
  });

  test("errors are 401, 403, 404; a NOTICE never gets one", () => {
    const c = inDev();
    c.send("PRIVMSG nobody :x", "PRIVMSG #none :x", "PRIVMSG #ops :x", "NOTICE nobody :x");
    expect(c.answer({ type: "error", code: "no_such_user", message: "no" })).toEqual([
      ":relay 401 alice nobody :No such nick/channel",
    ]);
    expect(c.answer({ type: "error", code: "no_such_room", message: "no" })).toEqual([
      ":relay 403 alice #none :No such channel",
    ]);
    expect(c.answer({ type: "error", code: "not_in_room", message: "no" })).toEqual([
      ":relay 404 alice #ops :Cannot send to channel (you are not in it)",
    ]);
    expect(c.answer({ type: "error", code: "no_such_user", message: "no" })).toEqual([]);
    expect(c.send("PRIVMSG")).toEqual([":relay 411 alice :No recipient given (PRIVMSG)"]);
    expect(c.send("PRIVMSG bob")).toEqual([":relay 412 alice :No text to send"]);
  });

  test("an ACTION is /me both ways; formatting is stripped; other CTCP is not passed on", () => {
    const c = inDev();
    c.send(
      "PRIVMSG #dev :\x01ACTION waves\x01",
      "PRIVMSG #dev :\x02bold\x02 \x0304,01red\x03",
      "PRIVMSG bob :\x01VERSION\x01",
    );
    expect(c.commands.map((d) => d.ok && d.command)).toEqual([
      { type: "msg", to: "#dev", text: "/me waves" },
      { type: "msg", to: "#dev", text: "bold red" },
    ]);
    expect(c.get(message({ to: "#dev", text: "/me waves back" }))).toEqual([
      ":bob!bob@relay PRIVMSG #dev :\x01ACTION waves back\x01",
    ]);
  });
});

describe("everything else", () => {
  test("PING is answered through the core, with its token; QUIT logs out", () => {
    const c = registered();
    c.send("PING :lag-123");
    expect(c.answer({ type: "pong" })).toEqual([":relay PONG relay :lag-123"]);
    c.send("QUIT :gone fishing");
    const quit = c.next();
    expect(quit.command).toEqual({ type: "quit", reason: "gone fishing" });
    expect(c.get({ type: "bye", re: quit.re, reason: "quit" })).toEqual([
      "ERROR :Closing Link: alice (Quit)",
    ]);
    expect(c.get({ type: "bye", reason: "kicked" })).toEqual([
      "ERROR :Closing Link: alice (Kicked by an operator)",
    ]);
  });

  test("unknown commands are 421, missing parameters 461, over the rate 263", () => {
    const c = registered();
    expect(c.send("FLY away")).toEqual([":relay 421 alice FLY :Unknown command"]);
    expect(c.send("JOIN")).toEqual([":relay 461 alice JOIN :Not enough parameters"]);
    const turn = c.irc.receive("PRIVMSG bob :hi", 0, true);
    expect(turn.commands[0]).toMatchObject({ ok: false, error: { code: "rate_limited" } });
    expect(
      c.get({
        type: "error",
        re: turn.commands[0]?.re ?? null,
        code: "rate_limited",
        message: "slow down",
      }),
    ).toEqual([":relay 263 alice PRIVMSG :slow down (the command was dropped)"]);
    expect(c.get({ type: "error", re: null, code: "too_long", message: "x" })).toEqual([
      ":relay 417 alice :Input line was too long",
    ]);
  });

  test("WHOIS, ISON and USERHOST look among those online, page by page", () => {
    const c = registered();
    c.send("WHOIS bob");
    expect(c.answer({ type: "who", users: ["alice", "bob"] })).toEqual([
      ":relay 311 alice bob bob relay * :bob",
      ":relay 312 alice bob relay :relay",
      ":relay 318 alice bob :End of /WHOIS list",
    ]);
    c.send("WHOIS zed");
    expect(c.answer({ type: "who", users: ["alice"], next: "alice" })).toEqual([]);
    expect(c.commands[0]).toMatchObject({ command: { type: "who", after: "alice" } });
    expect(c.answer({ type: "who", users: ["bob"] })).toEqual([
      ":relay 401 alice zed :No such nick/channel",
      ":relay 318 alice zed :End of /WHOIS list",
    ]);
    const d = registered();
    d.send("ISON :bob zed carol");
    expect(d.answer({ type: "who", users: ["alice", "bob", "carol"] })).toEqual([
      ":relay 303 alice :bob carol",
    ]);
    d.send("USERHOST bob");
    expect(d.answer({ type: "who", users: ["bob"] })).toEqual([":relay 302 alice :bob=+bob@relay"]);
  });
});

describe("draft/chathistory", () => {
  const caps = ["batch", "draft/chathistory", "server-time", "message-tags"];
  const m = (id: string, ts: string, text = id) =>
    message({ id, to: "#dev", text, ts: `2024-05-01T12:00:0${ts}.000Z` });

  test("a client with chat history gets no playback on JOIN: it asks for what it wants", () => {
    const c = registered("alice", caps);
    c.send("JOIN #dev");
    expect(c.commands.map((d) => d.ok && d.command.type)).toEqual(["join", "who"]);
  });

  test("LATEST is the newest messages, in a batch, with their time and msgid", () => {
    const c = registered("alice", caps);
    c.send("CHATHISTORY LATEST #dev * 2");
    expect(c.commands[0]).toMatchObject({ command: { type: "history", with: "#dev", limit: 2 } });
    const out = c.answer({
      type: "history",
      with: "#dev",
      messages: [m("a", "1"), m("b", "2")],
      more: true,
    });
    expect(out).toEqual([
      ":relay BATCH +h0 chathistory #dev",
      "@batch=h0;time=2024-05-01T12:00:01.000Z;msgid=a :bob!bob@relay PRIVMSG #dev :a",
      "@batch=h0;time=2024-05-01T12:00:02.000Z;msgid=b :bob!bob@relay PRIVMSG #dev :b",
      ":relay BATCH -h0",
    ]);
    c.send("CHATHISTORY LATEST #dev msgid=a 10");
    expect(
      c.answer({
        type: "history",
        with: "#dev",
        messages: [m("a", "1"), m("b", "2")],
        more: false,
      }),
    ).toHaveLength(3);
  });

  test("BEFORE a msgid or a time is the relay's history before it", () => {
    const c = registered("alice", caps);
    c.send("CHATHISTORY BEFORE #dev msgid=0lvx1abc0000 20");
    expect(c.next().command).toEqual({
      type: "history",
      with: "#dev",
      before: "0lvx1abc0000",
      limit: 20,
    });
    c.send("CHATHISTORY BEFORE bob timestamp=2024-05-01T12:00:03.000Z 5");
    const before = Date.parse("2024-05-01T12:00:03.000Z").toString(36).padStart(9, "0");
    expect(c.next().command).toEqual({ type: "history", with: "bob", before, limit: 5 });
  });

  test("AFTER reads back page by page until it reaches the reference", () => {
    const c = registered("alice", caps);
    c.send("CHATHISTORY AFTER #dev msgid=b 2");
    expect(
      c.answer({ type: "history", with: "#dev", messages: [m("d", "4"), m("e", "5")], more: true }),
    ).toEqual([]);
    expect(c.commands[0]).toMatchObject({
      command: { type: "history", with: "#dev", before: "d", limit: 200 },
    });
    const out = c.answer({
      type: "history",
      with: "#dev",
      messages: [m("a", "1"), m("b", "2"), m("c", "3")],
      more: false,
    });
    expect(out.slice(1, -1).map((l) => parseIrc(l)?.params[1])).toEqual(["c", "d"]);
  });

  test("AROUND and BETWEEN", () => {
    const c = registered("alice", caps);
    const all = [m("a", "1"), m("b", "2"), m("c", "3"), m("d", "4"), m("e", "5")];
    c.send("CHATHISTORY AROUND #dev msgid=c 3");
    let out = c.answer({ type: "history", with: "#dev", messages: all, more: false });
    expect(out.slice(1, -1).map((l) => parseIrc(l)?.params[1])).toEqual(["b", "c", "d"]);
    c.send("CHATHISTORY BETWEEN #dev msgid=a msgid=e 10");
    expect(c.commands[0]).toMatchObject({ command: { before: "e" } });
    out = c.answer({ type: "history", with: "#dev", messages: all.slice(0, 4), more: false });
    expect(out.slice(1, -1).map((l) => parseIrc(l)?.params[1])).toEqual(["b", "c", "d"]);
  });

  test("bad requests and targets are FAIL; TARGETS is an empty list", () => {
    const c = registered("alice", caps);
    expect(c.send("CHATHISTORY SIDEWAYS #dev * 1")).toEqual([
      ":relay FAIL CHATHISTORY INVALID_PARAMS SIDEWAYS :Unknown subcommand",
    ]);
    expect(c.send("CHATHISTORY BEFORE #dev * 1")).toEqual([
      ":relay FAIL CHATHISTORY INVALID_PARAMS BEFORE :Bad message reference",
    ]);
    expect(c.send("CHATHISTORY LATEST #dev")).toEqual([
      ":relay FAIL CHATHISTORY NEED_MORE_PARAMS LATEST :Missing parameters",
    ]);
    c.send("CHATHISTORY LATEST #ops * 5");
    expect(
      c.answer({ type: "error", code: "not_in_room", message: "you are not in #ops" }),
    ).toEqual([":relay FAIL CHATHISTORY INVALID_TARGET LATEST #ops :you are not in #ops"]);
    expect(
      c.send(
        "CHATHISTORY TARGETS timestamp=2024-01-01T00:00:00Z timestamp=2025-01-01T00:00:00Z 10",
      ),
    ).toEqual([":relay BATCH +h0 draft/chathistory-targets", ":relay BATCH -h0"]);
  });
});

describe("names as the relay tells them apart", () => {
  test("WHOIS and ISON find a user by any spelling the relay takes for their name", () => {
    const c = registered();
    c.send("WHOIS STRASSE");
    expect(c.answer({ type: "who", users: ["alice", "Straße"] })).toEqual([
      ":relay 311 alice Straße Straße relay * :Straße",
      ":relay 312 alice Straße relay :relay",
      ":relay 318 alice Straße :End of /WHOIS list",
    ]);
    c.send("ISON :\u0430lice bob"); // a Cyrillic а: the relay's alice
    expect(c.answer({ type: "who", users: ["alice", "bob"] })).toEqual([
      ":relay 303 alice :alice bob",
    ]);
  });

  test("NICK with another spelling of one's own name changes nothing", () => {
    const c = registered();
    expect(c.send("NICK ＡＬＩＣＥ")).toEqual([]);
    expect(c.send("MODE ＡＬＩＣＥ")).toEqual([":relay 221 alice :+"]);
  });
});

describe("targets in one line (TARGMAX)", () => {
  test("ISUPPORT says how many targets a line may name", () => {
    const c = new Client();
    c.send("NICK alice", "USER alice 0 * :A");
    const burst = c.answer(welcome("alice"));
    const isupport = parseIrc(burst[4] as string)?.params ?? [];
    expect(isupport).toContain("TARGMAX=JOIN:10,NAMES:10,PART:10,PRIVMSG:4,NOTICE:4,WHOIS:1");
  });

  test("a PRIVMSG to more than 4 is 407 and sends nothing; a NOTICE just sends nothing", () => {
    const c = inDev();
    expect(c.send("PRIVMSG a,b,c,d,e :hi")).toEqual([
      ":relay 407 alice a,b,c,d,e :Too many recipients: at most 4 in one line; nothing was sent",
    ]);
    expect(c.send("NOTICE a,b,c,d,e :hi")).toEqual([]);
    expect(c.commands).toEqual([]);
    c.send("PRIVMSG a,b,c,d :hi");
    expect(c.commands).toHaveLength(4);
  });

  test("JOIN, PART and NAMES do the first 10 and say 407 for the rest", () => {
    const c = registered();
    const channels = Array.from({ length: 12 }, (_, i) => `#c${i}`);
    expect(c.send(`JOIN ${channels.join(",")}`)).toEqual([
      ":relay 407 alice #c10 :Too many targets: at most 10 in one JOIN; #c10 and after were left out",
    ]);
    const joined = c.commands.flatMap((d) =>
      d.ok && d.command.type === "join" ? [d.command.room] : [],
    );
    expect(joined).toEqual(channels.slice(0, 10));
    c.commands = [];
    expect(c.send(`PART ${channels.join(",")}`)).toHaveLength(1);
    expect(c.commands).toHaveLength(10);
    c.commands = [];
    expect(c.send(`NAMES ${channels.join(",")}`)).toHaveLength(1);
    expect(c.commands).toHaveLength(10);
  });
});

describe("lists of more than one page (docs/protocol.md §12)", () => {
  test("NAMES reads every page of who is in the room, and the presence of all of them shows", () => {
    const c = inDev();
    c.send("NAMES #dev");
    expect(c.answer({ type: "who", room: "#dev", users: ["alice", "bob"], next: "bob" })).toEqual([
      ":relay 353 alice = #dev :alice bob",
    ]);
    expect(c.commands[0]).toMatchObject({ command: { type: "who", room: "#dev", after: "bob" } });
    expect(c.answer({ type: "who", room: "#dev", users: ["carol"] })).toEqual([
      ":relay 353 alice = #dev :carol",
      ":relay 366 alice #dev :End of /NAMES list",
    ]);
    // carol, named on the second page, is shown as present: her going is a QUIT.
    expect(c.get({ type: "presence", name: "carol", status: "offline" })).toEqual([
      ":carol!carol@relay QUIT :offline",
    ]);
  });

  test("the names of a JOIN read every page too", () => {
    const c = registered();
    c.send("JOIN #big");
    c.answer({ type: "ok", room: "#big", users: ["alice", "bob", "carol"] });
    expect(c.answer({ type: "who", room: "#big", users: ["alice"], next: "alice" })).toEqual([
      ":relay 353 alice = #big :alice",
    ]);
    c.answer({ type: "history", with: "#big", messages: [], more: false });
    expect(c.commands[0]).toMatchObject({ command: { type: "who", room: "#big", after: "alice" } });
    expect(c.answer({ type: "who", room: "#big", users: ["bob", "carol"] })).toEqual([
      ":relay 353 alice = #big :bob carol",
      ":relay 366 alice #big :End of /NAMES list",
    ]);
  });

  test("WHO #room reads every page; WHO of a nick looks through every page of those online", () => {
    const c = inDev();
    c.send("WHO #dev");
    expect(c.answer({ type: "who", room: "#dev", users: ["alice"], next: "alice" })).toEqual([
      ":relay 352 alice #dev alice relay relay alice H :0 alice",
    ]);
    expect(c.answer({ type: "who", room: "#dev", users: ["bob"] })).toEqual([
      ":relay 352 alice #dev bob relay relay bob H :0 bob",
      ":relay 315 alice #dev :End of /WHO list",
    ]);
    c.send("WHO zed");
    expect(c.answer({ type: "who", users: ["alice", "bob"], next: "bob" })).toEqual([]);
    expect(c.commands[0]).toMatchObject({ command: { type: "who", after: "bob" } });
    expect(c.answer({ type: "who", users: ["zed"] })).toEqual([
      ":relay 352 alice * zed relay relay zed H :0 zed",
      ":relay 315 alice zed :End of /WHO list",
    ]);
  });
});

describe("a message to many is formatted once per kind of client", () => {
  test("what each client is sent is what formatting anew for it gives, whatever came before", () => {
    const kinds = [[], ["server-time"], ["message-tags"], ["server-time", "message-tags"]];
    const clients = kinds.flatMap((caps) => [inDev(caps), inDev(caps)]);
    const messages = [
      message({ id: "1", to: "#dev", text: "one" }),
      message({ id: "2", to: "*", text: "two" }),
      message({ id: "3", to: "#dev", text: "three", replay: true }),
      message({ id: "4", to: "#dev", from: "carol", text: "/me four" }),
    ];
    // Fan-outs one after the other, and one message sent again after another.
    for (const m of [...messages, messages[0] as ChatMessage]) {
      const sent = clients.map((c) => c.get(m));
      // A copy of the message was never formatted: its text is made anew for each.
      for (const [i, c] of clients.entries()) expect(sent[i]).toEqual(c.get({ ...m }));
    }
    const [plain, , timed, , tagged] = clients as [Client, Client, Client, Client, Client];
    expect(plain.get(messages[2] as ChatMessage)).toEqual([
      ":bob!bob@relay PRIVMSG #dev :[2024-05-01 12:34:56] three",
    ]);
    expect(timed.get(messages[0] as ChatMessage)).toEqual([
      `@time=${TS} :bob!bob@relay PRIVMSG #dev :one`,
    ]);
    expect(tagged.get(messages[1] as ChatMessage)).toEqual([
      "@msgid=2 :bob!bob@relay NOTICE $* :two",
    ]);
  });
});
