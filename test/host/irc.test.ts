import fc from "fast-check";
import { afterEach, describe, expect, test } from "vitest";
import { type Connection, Host, type Link, MemoryStore, parseConfig } from "../../src/host/mod.ts";
import { IRC_LINE_BYTES, ircLineBytes } from "../../src/protocol/mod.ts";
import { Inbox } from "../support/client.ts";

/** A connection to the IRC port as the host sees it; what the host writes is read as lines. */
class IrcLink extends Inbox implements Link {
  readonly transport = "irc" as const;
  readonly framing = "line" as const;
  readonly mode = "irc" as const;
  readonly remote: string;
  unsentBytes = 0;
  closedByHost = false;
  #partial = "";

  constructor(remote: string) {
    super();
    this.remote = remote;
  }

  /** Every line received, read or not. */
  readonly received: string[] = [];

  write(data: string | Uint8Array): void {
    const text = this.#partial + (typeof data === "string" ? data : decoder.decode(data));
    const parts = text.split("\r\n");
    this.#partial = parts.pop() ?? "";
    this.received.push(...parts);
    this.push(...parts);
  }

  unsent(): number {
    return this.unsentBytes;
  }

  override close(): void {
    this.closedByHost = true;
    super.close();
  }
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown()));
});

function relay(env: Record<string, string> = {}): Host {
  const parsed = parseConfig({ RELAY_STORE: "memory", RELAY_RATE_LIMIT: "0", ...env });
  if (!parsed.ok) throw new Error(parsed.errors.join());
  const host = new Host(parsed.config, {
    store: new MemoryStore(),
    auth: { mode: "open" },
    log: () => {},
    passwords: { iterations: 1000 },
  });
  hosts.push(host);
  return host;
}

let port = 1000;
/** An IRC client of the host. */
function ircClient(host: Host, address = "192.0.2.1") {
  const link = new IrcLink(`${address}:${port++}`);
  const conn = host.connect(link) as Connection | null;
  return {
    link,
    conn,
    send(...lines: string[]) {
      conn?.receiveBytes(encoder.encode(lines.map((l) => `${l}\r\n`).join("")));
    },
  };
}

/** Registers `nick` and reads up to the end of the MOTD. */
async function registered(host: Host, nick: string, pass?: string) {
  const c = ircClient(host);
  if (pass) c.send(`PASS ${pass}`);
  c.send(`NICK ${nick}`, `USER ${nick} 0 * :${nick}`);
  await c.link.until(/ 376 /);
  return c;
}

describe("the IRC port in the host", () => {
  test("a connection speaks IRC from its first line and is counted as irc", async () => {
    const host = relay();
    const c = await registered(host, "alice");
    expect(c.conn?.mode).toBe("irc");
    expect(host.counters.connections.irc).toBe(1);
    expect(host.sessions()[0]).toMatchObject({ name: "alice", transport: "irc" });
  });

  test("over the rate limit a line gets 263; a flood is an ERROR and a close", async () => {
    const host = relay({ RELAY_RATE_LIMIT: "2" });
    const c = await registered(host, "alice");
    c.send(...Array.from({ length: 6 }, () => "PRIVMSG alice :x"));
    await c.link.until(/ 263 alice PRIVMSG :too many commands/);
    expect(c.link.closedByHost).toBe(false);
    c.send(...Array.from({ length: 60 }, () => "PRIVMSG alice :x"));
    await c.link.until(/^ERROR :Closing Link: alice \(Excess flood\)$/);
    await c.link.end();
  });

  test("a line over the frame size is 417, bad UTF-8 a NOTICE; the connection stays", async () => {
    const host = relay({ RELAY_MAX_FRAME_BYTES: "600" });
    const c = await registered(host, "alice");
    c.send(`PRIVMSG alice :${"x".repeat(700)}`);
    expect(await c.link.line()).toBe(":irc.relay 417 alice :Input line was too long");
    c.conn?.receiveBytes(new Uint8Array([0x50, 0xff, 0x0d, 0x0a]));
    expect(await c.link.line()).toMatch(/^:irc\.relay NOTICE alice :\*\*\* bad_utf8: /);
    c.send("PING :still-here");
    expect(await c.link.line()).toBe(":irc.relay PONG irc.relay :still-here");
  });

  test("a silent client is pinged, and dropped when it stays silent", async () => {
    const host = relay({ RELAY_IRC_PING: "1" });
    const c = await registered(host, "alice");
    await c.link.until(/^PING :irc\.relay$/, 3000);
    c.send("PONG :irc.relay");
    // Answered: pinged again later, not dropped.
    await c.link.until(/^PING :irc\.relay$/, 3000);
    expect(c.link.closedByHost).toBe(false);
    await c.link.until(/^ERROR :Closing Link: alice \(Ping timeout\)$/, 3000);
    expect(c.link.closedByHost).toBe(true);
  });

  test("registering too slowly is an ERROR", async () => {
    const host = relay({ RELAY_LOGIN_TIMEOUT: "1" });
    const c = ircClient(host);
    c.send("NICK alice");
    await c.link.until(/^ERROR :Closing Link: alice \(Registration timed out\)$/, 3000);
  });

  test("a full server says so in IRC and closes", async () => {
    const host = relay({ RELAY_MAX_CONNECTIONS: "1" });
    await registered(host, "alice");
    const c = ircClient(host);
    expect(c.conn).toBeNull();
    expect(await c.link.line()).toBe(
      "ERROR :Closing Link: the server is full; try again later (server_full)",
    );
  });

  test("failed logins are throttled per name, as on the other transports", async () => {
    const host = relay();
    const owner = await registered(host, "carol", "right-one");
    owner.send("QUIT");
    await owner.link.end();
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) {
      const c = ircClient(host);
      c.send("PASS wrong", "NICK carol", "USER carol 0 * :carol");
      answers.push(await c.link.until(/ 464 /));
    }
    expect(answers[0]).toMatch(/Password incorrect: wrong password/);
    expect(answers[5]).toMatch(/Password incorrect: .*too many failed logins/);
  });

  test("failed logins are throttled per client address, as on the other transports", async () => {
    const host = relay();
    for (let i = 0; i < 5; i++) {
      const owner = await registered(host, `owner${i}`, "right-one");
      owner.send("QUIT");
      await owner.link.end();
    }
    // 20 failures from one address, 4 on each of 5 names (under the 5 per name).
    for (let i = 0; i < 20; i++) {
      const c = ircClient(host, "192.0.2.9");
      c.send("PASS wrong", `NICK owner${i % 5}`, `USER x 0 * :x`);
      expect(await c.link.until(/ 464 /)).toMatch(/Password incorrect: wrong password/);
    }
    const next = ircClient(host, "192.0.2.9");
    next.send("PASS right-one", "NICK owner0", "USER x 0 * :x");
    expect(await next.link.until(/ 464 /)).toMatch(/Password incorrect: .*too many failed logins/);
    // Another address is not held back.
    const elsewhere = ircClient(host, "192.0.2.10");
    elsewhere.send("PASS right-one", "NICK owner0", "USER x 0 * :x");
    await elsewhere.link.until(/ 001 owner0 /);
  });

  test("NAMES of a channel with more than a page of members online (§12) names them all", async () => {
    const host = relay({ RELAY_MAX_CONNECTIONS: "2000", RELAY_PRESENCE: "off" });
    const many = 1000;
    for (let i = 0; i < many; i++) {
      // Members that read nothing: only the count matters here.
      const link: Link = {
        transport: "irc",
        framing: "line",
        mode: "irc",
        remote: `192.0.2.${i % 200}:${i}`,
        write: () => {},
        unsent: () => 0,
        close: () => {},
      };
      host
        .connect(link)
        ?.receiveBytes(encoder.encode(`NICK u${i}\r\nUSER u 0 * :u\r\nJOIN #big\r\n`));
    }
    const me = await registered(host, "observer");
    me.send("JOIN #big");
    await me.link.until(/ 366 observer #big /, 20_000);
    // Wait until every member's JOIN went through.
    for (;;) {
      me.send("LIST #big");
      const listed = await me.link.until(/ 322 /);
      if (listed.includes(` #big ${many + 1} `)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    me.send("NAMES #big");
    const named = new Set<string>();
    for (;;) {
      const line = await me.link.until(/ (353|366) /);
      if (/ 366 /.test(line)) break;
      for (const nick of line.split(" :")[1]?.split(" ") ?? []) named.add(nick);
    }
    expect(named.size).toBe(many + 1);
  });

  test("a reader too slow for what it is sent is let go", async () => {
    const host = relay({ RELAY_MAX_OUTBOX_BYTES: "16384" });
    const alice = await registered(host, "alice");
    const bob = await registered(host, "bob");
    alice.link.unsentBytes = 20_000;
    bob.send(`PRIVMSG alice :${"x".repeat(400)}`);
    await alice.link.end();
    expect(alice.link.closedByHost).toBe(true);
  });

  test("an HTTP request sent to the IRC port runs nothing and is closed", async () => {
    const host = relay();
    const c = ircClient(host);
    c.send("POST /x HTTP/1.1", "Host: localhost", "", "NICK eve", "USER eve 0 * :eve");
    expect(await c.link.end()).toEqual([]);
    expect(c.link.closedByHost).toBe(true);
    expect(host.relay.isOnline("eve")).toBe(false);
  });
});

describe("RELAY_IRC_PORT and RELAY_IRC_PING", () => {
  test("6667 by default, off, 0 for any free port; pings after 120 s by default", () => {
    const config = (env: Record<string, string>) => {
      const parsed = parseConfig(env);
      return parsed.ok ? parsed.config : parsed.errors;
    };
    expect(config({})).toMatchObject({ ircPort: 6667, ircPingMs: 120_000 });
    expect(config({ RELAY_IRC_PORT: "off" })).toMatchObject({ ircPort: null });
    expect(config({ RELAY_IRC_PORT: "0", RELAY_IRC_PING: "30" })).toMatchObject({
      ircPort: 0,
      ircPingMs: 30_000,
    });
    expect(config({ RELAY_IRC_PORT: "irc" })).toEqual([expect.stringMatching(/^RELAY_IRC_PORT: /)]);
    expect(config({ RELAY_IRC_PING: "0" })).toEqual([expect.stringMatching(/^RELAY_IRC_PING: /)]);
  });
});

describe("whatever an IRC client sends", () => {
  const word = fc.stringMatching(/^[#$*:@!a-zA-Z0-9_.\-\u00e9\u5c0f]{0,12}$/);
  const command = fc.constantFrom(
    "NICK",
    "USER",
    "PASS",
    "CAP",
    "AUTHENTICATE",
    "JOIN",
    "PART",
    "PRIVMSG",
    "NOTICE",
    "NAMES",
    "WHO",
    "WHOIS",
    "ISON",
    "USERHOST",
    "LIST",
    "TOPIC",
    "MODE",
    "PING",
    "PONG",
    "AWAY",
    "MOTD",
    "KICK",
    "TAGMSG",
    "FROB",
    "cap",
    "join",
  );
  const line = fc.oneof(
    fc
      .tuple(
        fc.option(fc.constantFrom("@a=b;c ", "@+typing=active ", ":me!u@h "), { nil: "" }),
        command,
        fc.array(word, { maxLength: 5 }),
        fc.option(fc.string({ unit: "grapheme", maxLength: 600 }), { nil: undefined }),
      )
      .map(([pre, cmd, params, trailing]) =>
        `${pre}${cmd} ${params.join(" ")}${trailing === undefined ? "" : ` :${trailing}`}`.replace(
          /[\r\n]/g,
          " ",
        ),
      ),
    fc.string({ maxLength: 80 }).map((s) => s.replace(/[\r\n]/g, " ")),
  );

  test("never closes the connection nor throws, and every line it sends fits 512 bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 25 }), async (lines) => {
        const host = relay();
        const c = ircClient(host);
        c.send("NICK fuzz", "USER fuzz 0 * :fuzz");
        await c.link.until(/ 376 /);
        c.send("JOIN #fuzz");
        c.send(...lines);
        c.send("PING :done");
        await c.link.until(/PONG irc\.relay :done$/);
        expect(c.link.closedByHost).toBe(false);
        for (const l of c.link.received)
          expect(ircLineBytes(l)).toBeLessThanOrEqual(IRC_LINE_BYTES);
        await host.shutdown();
      }),
      { numRuns: 60 },
    );
  });
});

describe("between a SASL login and CAP END", () => {
  /** Logs in with SASL PLAIN and stops before CAP END, once `903` came. */
  async function saslNoEnd(host: Host, nick: string, password: string) {
    const c = ircClient(host);
    c.send("CAP LS 302", `NICK ${nick}`, `USER ${nick} 0 * :${nick}`, "CAP REQ :sasl");
    await c.link.until(/ ACK :sasl$/);
    c.send("AUTHENTICATE PLAIN");
    await c.link.until(/^AUTHENTICATE \+$/);
    c.send(`AUTHENTICATE ${btoa(`\0${nick}\0${password}`)}`);
    await c.link.until(/ 903 /);
    return c;
  }

  /** The texts of the PRIVMSGs among `lines`, by sender, pieces of one message joined. */
  function texts(lines: string[], from: string): string[] {
    const out: string[] = [];
    for (const line of lines) {
      const m = /^:(\S+)!\S+ PRIVMSG \S+ :(.*)$/.exec(line);
      if (m?.[1] === from) out.push(m[2] as string);
    }
    return out;
  }

  /** carol, protected by a password, offline with `n` messages from bob held for her. */
  async function heldForCarol(host: Host, n: number, text: (i: number) => string) {
    const carol = await registered(host, "carol", "carol-pw");
    carol.send("QUIT");
    await carol.link.end();
    const bob = await registered(host, "bob");
    // A few at a time: a sender that does not wait for its answers is a flood (§8).
    for (let i = 0; i < n; i += 10) {
      for (let j = i; j < Math.min(n, i + 10); j++) bob.send(`PRIVMSG carol :${text(j)}`);
      bob.send(`PING :sent${i}`);
      await bob.link.until(new RegExp(`PONG irc\\.relay :sent${i}$`));
    }
    expect(await host.heldCount()).toBe(n);
    return bob;
  }

  test("held messages stay in the store until the client took them: gone before CAP END, they come next time", async () => {
    const host = relay();
    await heldForCarol(host, 3, (i) => `held ${i}`);
    const early = await saslNoEnd(host, "carol", "carol-pw");
    await new Promise((r) => setTimeout(r, 100));
    // The client goes away without CAP END: it was shown nothing of them.
    expect(texts(early.link.received, "bob")).toEqual([]);
    early.conn?.closed();
    const again = await registered(host, "carol", "carol-pw");
    again.send("PING :done");
    await again.link.until(/PONG irc\.relay :done$/);
    expect(texts(again.link.received, "bob").map((t) => t.replace(/^\[[^\]]*\] /, ""))).toEqual([
      "held 0",
      "held 1",
      "held 2",
    ]);
  });

  test("however many lines wait for CAP END, none is lost", async () => {
    const host = relay();
    const long = (i: number) => `${i} ${"wörds and more ".repeat(250)}`.trim();
    await heldForCarol(host, 300, long);
    const carol = await saslNoEnd(host, "carol", "carol-pw");
    await new Promise((r) => setTimeout(r, 100));
    carol.send("CAP END");
    await carol.link.until(/ 001 /);
    carol.send("PING :done");
    await carol.link.until(/PONG irc\.relay :done$/, 10_000);
    const pieces = texts(carol.link.received, "bob");
    const whole = pieces.join("").replace(/\[[^\]]*\] /g, "");
    const expected = Array.from({ length: 300 }, (_, i) => long(i)).join("");
    expect(whole.length).toBe(expected.length);
    expect(whole).toBe(expected);
    expect(await host.heldCount()).toBe(0);
  });

  test("a room message said meanwhile comes once, after 001, and the playback leaves it out", async () => {
    const host = relay();
    const carol = await registered(host, "carol", "carol-pw");
    carol.send("JOIN #dev");
    await carol.link.until(/ 366 carol #dev /);
    carol.send("QUIT");
    await carol.link.end();
    const bob = await registered(host, "bob");
    bob.send("JOIN #dev", "PRIVMSG #dev :before");
    await bob.link.until(/ 366 bob #dev /);
    const back = await saslNoEnd(host, "carol", "carol-pw");
    bob.send("PRIVMSG #dev :meanwhile", "PING :said");
    await bob.link.until(/PONG irc\.relay :said$/);
    await new Promise((r) => setTimeout(r, 50));
    back.send("CAP END", "PING :done");
    await back.link.until(/PONG irc\.relay :done$/);
    const said = texts(back.link.received, "bob").map((t) => t.replace(/^\[[^\]]*\] /, ""));
    expect(said.sort()).toEqual(["before", "meanwhile"]);
    const welcome = back.link.received.findIndex((l) => / 001 /.test(l));
    const meanwhile = back.link.received.findIndex((l) => /:meanwhile$/.test(l));
    expect(meanwhile).toBeGreaterThan(welcome);
  });
});
