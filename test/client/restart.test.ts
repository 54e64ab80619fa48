import { afterEach, describe, expect, test } from "vitest";
import { spawnRelay } from "../support/process.ts";
import {
  CuttableTransport,
  client,
  closeClients,
  freePort,
  inbox,
  kvFile,
  nextOpen,
  transportTo,
  until,
  type Via,
} from "./e2e-support.ts";

afterEach(closeClients);

// Each runtime and transport, with the process killed at once or stopped gracefully.
const cases = [
  ["deno", "ws", "SIGTERM"],
  ["deno", "tcp", "SIGKILL"],
  ["node", "ws", "SIGKILL"],
  ["node", "tcp", "SIGTERM"],
] as const;

describe.each(cases)(
  "relay/client against a relay process on %s, over %s",
  (runtime, via: Via, signal) => {
    test(`across a restart (${signal}) with a KV store it resumes, and sees each message exactly once`, async () => {
      const ports = { tcpPort: await freePort(), httpPort: await freePort() };
      const env = {
        RELAY_STORE: await kvFile(),
        RELAY_TCP_PORT: String(ports.tcpPort),
        RELAY_HTTP_PORT: String(ports.httpPort),
      };
      let relay = await spawnRelay(runtime, env);
      // The bot's network can be held down, so that messages come while it is away.
      const network = new CuttableTransport(transportTo(via, ports));
      const bot = client({ transport: network, name: "bot", password: "bot-pw" });
      const got = inbox(bot);
      const closes: string[] = [];
      bot.on("close", (c) => closes.push(`${c.reconnect} ${c.reason ?? "-"}`));
      const welcome = await bot.connect();
      const session = bot.session;
      expect(welcome.name).toBe("bot");
      await bot.request({ type: "join", room: "#ops" });
      const ann = client({ transport: transportTo(via, ports), name: "ann" });
      await ann.connect();
      await ann.request({ type: "join", room: "#ops" });
      await ann.request({ type: "msg", to: "bot", text: "before 1" });
      await ann.request({ type: "msg", to: "#ops", text: "before 2" });
      await until(() => got.length === 2, "the messages before the restart");

      network.blocked = true;
      const annBack = nextOpen(ann);
      expect(await relay.kill(signal)).toBe(signal === "SIGTERM" ? 0 : null);
      relay = await spawnRelay(runtime, env);
      await annBack;
      // After the restart, while the bot is still away: held for it, and in its room's log.
      await ann.request({ type: "msg", to: "bot", text: "after 1" });
      await ann.request({ type: "msg", to: "#ops", text: "after 2" });
      const botBack = nextOpen(bot);
      network.blocked = false;
      await botBack;
      // The session and the room outlived the process.
      expect(bot.session).toBe(session);
      await ann.request({ type: "msg", to: "#ops", text: "live 1" });
      await ann.request({ type: "msg", to: "bot", text: "live 2" });
      await until(() => got.length >= 6, "six messages");
      await new Promise((r) => setTimeout(r, 300));

      expect(got.map((m) => m.text)).toEqual([
        "before 1",
        "before 2",
        "after 1",
        "after 2",
        "live 1",
        "live 2",
      ]);
      // Each came once from the server itself: the client's safety net had nothing to catch.
      expect(network.messageIds).toEqual(got.map((m) => m.id));
      expect(closes).toEqual([signal === "SIGTERM" ? "true shutdown" : "true -"]);
      expect(got.map((m) => m.replay === true)).toEqual([false, false, true, true, false, false]);

      const room: string[] = [];
      for await (const m of bot.history("#ops", { pageSize: 2 })) room.push(m.text);
      expect(room).toEqual(["live 1", "after 2", "before 2"]);
    }, 60_000);
  },
);
