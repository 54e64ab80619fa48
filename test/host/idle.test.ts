import type { Server } from "node:net";
import { afterEach, expect, test } from "vitest";
import { listenTcp } from "../../adapters/node/tcp.ts";
import { type Connection, Host, type Link, MemoryStore, parseConfig } from "../../src/host/mod.ts";
import { jsonUser, LineClient } from "../support/client.ts";

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A relay on Node TCP whose connections the test can look at, in the order they came. */
async function relay(): Promise<{ port: number; conns: Connection[] }> {
  const parsed = parseConfig({ RELAY_STORE: "memory", RELAY_RATE_LIMIT: "0" });
  if (!parsed.ok) throw new Error(parsed.errors.join());
  const host = new Host(parsed.config, { store: new MemoryStore(), auth: { mode: "open" } });
  await host.start();
  const conns: Connection[] = [];
  const connect = (link: Link) => {
    const conn = host.connect(link);
    if (conn) conns.push(conn);
    return conn;
  };
  const server = await listenTcp({ connect }, "127.0.0.1", 0);
  servers.push(server);
  return { port: (server.address() as { port: number }).port, conns };
}

/** Waits (for at most 2 s) until `ok()` holds. */
async function until(ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error("never");
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("a connection holds the start of an unfinished line only until the line ends", async () => {
  const { port, conns } = await relay();
  const alice = await LineClient.open(port);
  alice.socket.write('{"type":"login","na');
  await until(() => conns[0]?.idle === false);
  alice.socket.write('me":"alice"}\n');
  expect(await alice.json()).toMatchObject({ type: "welcome", name: "alice" });
  await until(() => conns[0]?.idle === true);
  alice.close();
});

test("once its replies and held messages are written and taken, a connection holds nothing", async () => {
  const { port, conns } = await relay();
  const first = await jsonUser(port, "alice");
  first.close();
  const bob = await jsonUser(port, "bob");
  for (let i = 0; i < 3; i++) {
    bob.sendJson({ type: "msg", to: "alice", text: `m${i}`, id: `b${i}` });
    expect(await bob.json()).toMatchObject({ type: "ok", re: `b${i}`, queued: true });
  }
  // Her held messages come as a stream, let go in the store once she has taken them.
  const alice = await jsonUser(port, "alice");
  for (let i = 0; i < 3; i++) expect(await alice.json()).toMatchObject({ text: `m${i}` });
  const conn = conns[2] as Connection;
  await until(() => conn.idle);
  expect(conn.out).toBeNull();
  expect(conn.stream).toBeNull();
  // And what comes later is written as before.
  bob.sendJson({ type: "msg", to: "alice", text: "later", id: "b9" });
  expect(await alice.json()).toMatchObject({ type: "message", from: "bob", text: "later" });
  await until(() => conn.idle);
  alice.close();
  bob.close();
});
