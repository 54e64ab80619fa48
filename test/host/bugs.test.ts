import type { Server } from "node:net";
import { afterEach, expect, test } from "vitest";
import { listenTcp } from "../../adapters/node/tcp.ts";
import { Host, MemoryStore, parseConfig } from "../../src/host/mod.ts";
import { jsonUser, LineClient } from "../support/client.ts";

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

test("a bug met while handling a frame closes that connection only, and is logged, not sent", async () => {
  const parsed = parseConfig({ RELAY_STORE: "memory", RELAY_RATE_LIMIT: "0" });
  if (!parsed.ok) throw new Error(parsed.errors.join());
  let broken = false;
  const logged: string[] = [];
  const host = new Host(parsed.config, {
    store: new MemoryStore(),
    auth: { mode: "open" },
    // A clock that fails stands for any bug on the path of a frame.
    clock: () => {
      if (broken) throw new Error("the clock broke");
      return Date.now();
    },
    log: (line) => logged.push(line),
  });
  await host.start();
  const server = await listenTcp(host, "127.0.0.1", 0);
  servers.push(server);
  const port = (server.address() as { port: number }).port;
  const bob = await jsonUser(port, "bob");
  const victim = await LineClient.open(port);
  broken = true;
  victim.send('{"type":"ping","id":"p"}');
  const unread = await victim.end();
  broken = false;
  expect(unread.join("\n")).not.toMatch(/clock broke|at .*\.ts/);
  expect(logged.join("\n")).toMatch(/relay: bug: Error: the clock broke/);
  // The server goes on: the other connection still gets answers, and new ones come.
  bob.sendJson({ type: "ping", id: "b" });
  expect(await bob.json()).toEqual({ type: "pong", re: "b" });
  const carol = await jsonUser(port, "carol");
  carol.close();
  bob.close();
});
