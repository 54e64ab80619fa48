import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { WsClient, wsUser } from "../support/client.ts";
import { spawnRelay } from "../support/process.ts";
import { Terminal } from "../support/terminal.ts";

// The real IRC clients of Debian (irssi, WeeChat) in tmux, on the relay's IRC port, with a
// netcat user on the TCP port and a WebSocket user: .ci/run installs irssi, weechat-curses,
// netcat-openbsd and tmux.

const terminals: Terminal[] = [];
const sockets: WsClient[] = [];
const dirs: string[] = [];

function terminal(command: string): Terminal {
  const t = new Terminal(command, { TERM: "xterm-256color", LANG: "C.UTF-8" });
  terminals.push(t);
  return t;
}

/** A home directory of its own for one client, so that no user configuration is read. */
async function home(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `relay-${name}-`));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const t of terminals.splice(0)) t.kill();
  for (const s of sockets.splice(0)) s.close();
});

afterAll(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Reads JSON frames until one matches. */
async function until(
  c: WsClient,
  match: (m: Record<string, unknown>) => boolean,
  ms = 10_000,
): Promise<Record<string, unknown>> {
  for (;;) {
    const m = await c.json(ms);
    if (match(m)) return m;
  }
}

/**
 * Types `command` into `t` until the screen shows `pattern` (for a window that opens only
 * when a message arrives).
 */
async function retype(t: Terminal, command: string, pattern: RegExp, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    t.line(command);
    try {
      return await t.waitFor(pattern, 500);
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
}

/** irssi, connected as `nick` to the IRC port. */
async function irssi(port: number, nick: string): Promise<Terminal> {
  const t = terminal(`irssi --home=${await home(nick)} -n ${nick} -c 127.0.0.1 -p ${port}`);
  await t.waitFor(/End of \/MOTD command/);
  return t;
}

/** WeeChat, connected as `nick` to the IRC port, logging in with SASL PLAIN. */
async function weechat(port: number, nick: string, password: string): Promise<Terminal> {
  const commands = [
    `/server add relay 127.0.0.1/${port} -notls -nicks=${nick} -username=${nick}`,
    `/set irc.server.relay.sasl_username ${nick}`,
    `/set irc.server.relay.sasl_password ${password}`,
    "/connect relay",
  ].join(";");
  const t = terminal(`weechat --dir ${await home(nick)} -r '${commands}'`);
  await t.waitFor(/SASL authentication successful/);
  await t.waitFor(/End of \/MOTD command/);
  return t;
}

describe.each(["node", "deno"] as const)(
  "irssi and WeeChat on the IRC gateway on %s",
  (runtime) => {
    test("they chat in a room with a netcat user and a WebSocket user, privately too", async () => {
      const relay = await spawnRelay(runtime, { RELAY_IRC_PORT: "0" });

      // wendy's name is protected: she gave it a password over WebSocket first.
      const wendyFirst = await WsClient.open(relay.httpPort);
      sockets.push(wendyFirst);
      wendyFirst.sendJson({ type: "login", name: "wendy", password: "wendy-pw" });
      expect(await wendyFirst.json()).toMatchObject({ type: "welcome", name: "wendy" });
      wendyFirst.sendJson({ type: "quit" });
      await wendyFirst.end();

      const nat = terminal(`nc 127.0.0.1 ${relay.tcpPort}`);
      nat.line("nat");
      await nat.waitFor(/welcome, nat!/);
      nat.line("/join #lounge");
      await nat.waitFor(/you joined #lounge/);
      nat.line("/to #lounge");

      const wes = await wsUser(relay.httpPort, "wes");
      sockets.push(wes);
      wes.sendJson({ type: "join", room: "#lounge" });
      await until(wes, (m) => m.type === "ok");

      const ivy = await irssi(relay.ircPort, "ivy");
      ivy.line("/join #lounge");
      await ivy.waitFor(/Total of 3 nicks/);
      await ivy.waitFor(/\[ ivy\s*\] \[ nat\s*\] \[ wes\s*\]/);

      const wendy = await weechat(relay.ircPort, "wendy", "wendy-pw");
      wendy.line("/join #lounge");
      await wendy.waitFor(/Channel #lounge: 4 nicks/);
      await ivy.waitFor(/wendy \[wendy@irc\.relay\] has joined #lounge/);

      nat.line("hi from netcat");
      await ivy.waitFor(/< ?nat> hi from netcat/);
      await wendy.waitFor(/nat \| hi from netcat/);
      expect(await until(wes, (m) => m.type === "message")).toMatchObject({
        from: "nat",
        to: "#lounge",
        text: "hi from netcat",
      });

      ivy.line("hello from irssi, ünïcødé ok");
      await nat.waitFor(/#lounge ivy: hello from irssi, ünïcødé ok/);
      await wendy.waitFor(/ivy \| hello from irssi, ünïcødé ok/);

      wendy.line("/me waves");
      await ivy.waitFor(/\* wendy waves/);
      await nat.waitFor(/#lounge wendy: \/me waves/);
      expect(await until(wes, (m) => m.type === "message" && m.from === "wendy")).toMatchObject({
        text: "/me waves",
      });

      // Private, both ways: the WebSocket user and irssi.
      wes.sendJson({ type: "msg", to: "ivy", text: "psst ivy" });
      // irssi opens the query window when the message arrives: go there once it exists.
      await retype(ivy, "/window goto wes", /<wes> psst ivy/);
      ivy.line("/msg wes back at you");
      expect(await until(wes, (m) => m.type === "message" && m.from === "ivy")).toMatchObject({
        to: "wes",
        text: "back at you",
      });

      // Presence: the netcat user leaves, and IRC sees a QUIT in the room.
      ivy.line("/window goto #lounge");
      nat.line("/quit");
      await ivy.waitFor(/nat \[nat@irc\.relay\] has quit \[offline\]/);
      await wendy.waitFor(/nat \(nat@irc\.relay\) has quit \(offline\)/);

      // History on join: a newcomer sees what was said before, with its time.
      const ike = await irssi(relay.ircPort, "ike");
      ike.line("/join #lounge");
      await ike.waitFor(/< ?nat> hi from netcat/);
      await ike.waitFor(/< ?ivy> hello from irssi, ünïcødé ok/);
    });
  },
);
