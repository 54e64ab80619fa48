import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { RedisStore } from "../../src/host/mod.ts";
import { jsonUser, LineClient, seen, textUser, wsUser } from "../support/client.ts";
import { type RelayProcess, spawnRelay } from "../support/process.ts";
import { type RedisServer, startRedis } from "../support/redis.ts";

const LEASE_SECONDS = 2;

let redis: RedisServer;
beforeEach(async () => {
  redis = await startRedis();
});
afterEach(() => redis.stop());

/** A node of the cluster: a relay process on one runtime, sharing this test's redis-server. */
function node(runtime: "node" | "deno"): Promise<RelayProcess> {
  return spawnRelay(runtime, {
    RELAY_STORE: redis.url,
    RELAY_BUS: redis.url,
    RELAY_LEASE: String(LEASE_SECONDS),
    RELAY_RATE_LIMIT: "0",
  });
}

/** Waits until this many relay nodes listen on the cluster's bus. */
async function subscribers(n: number): Promise<void> {
  const client = redis.client();
  for (let i = 0; i < 200; i++) {
    const [, count] = (await client.call("PUBSUB", "NUMSUB", "relay:bus")) as [string, number];
    if (count === n) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the bus never had ${n} subscribers`);
}

describe("two relay processes, Node and Deno, on one redis-server", () => {
  test("a TCP user on node A and a WebSocket user on node B chat privately and in a room", async () => {
    const a = await node("node");
    const b = await node("deno");
    await subscribers(2);
    // Whatever else is published on the bus is ignored.
    const other = redis.client();
    await other.publish("relay:bus", "{not json");
    await other.publish("relay:bus", JSON.stringify({ kind: "online", node: "x" }));
    const alice = await jsonUser(a.tcpPort, "alice");
    const bob = await wsUser(b.httpPort, "bob");
    expect(await alice.json()).toEqual({ type: "presence", name: "bob", status: "online" });
    await seen(bob, "alice");

    alice.sendJson({ type: "msg", to: "bob", text: "hi from A", id: "m1" });
    const ok = await alice.json();
    expect(ok).toMatchObject({ type: "ok", re: "m1" });
    expect(ok).not.toHaveProperty("queued");
    expect(await bob.json()).toMatchObject({
      type: "message",
      id: ok.id,
      from: "alice",
      to: "bob",
      text: "hi from A",
    });
    bob.sendJson({ type: "say", text: "hello from B" });
    expect(await bob.json()).toMatchObject({ type: "ok" });
    expect(await alice.json()).toMatchObject({ from: "bob", to: "alice", text: "hello from B" });

    alice.sendJson({ type: "join", room: "#ops" });
    expect(await alice.json()).toMatchObject({ type: "ok", room: "#ops", users: ["alice"] });
    await seen(bob, "alice", "#ops");
    bob.sendJson({ type: "join", room: "#OPS" });
    // Members, online or not, in the order they joined.
    expect(await bob.json()).toMatchObject({ type: "ok", room: "#ops", users: ["alice", "bob"] });
    expect(await alice.json()).toEqual({ type: "joined", room: "#ops", name: "bob" });
    bob.sendJson({ type: "msg", to: "#ops", text: "standup?" });
    expect(await bob.json()).toMatchObject({ type: "ok" });
    expect(await alice.json()).toMatchObject({ from: "bob", to: "#ops", text: "standup?" });

    alice.sendJson({ type: "who", room: "#ops" }, { type: "rooms" }, { type: "who" });
    expect(await alice.json()).toMatchObject({ users: ["alice", "bob"] });
    expect(await alice.json()).toMatchObject({ rooms: [{ room: "#ops", members: 2 }] });
    expect(await alice.json()).toMatchObject({ users: ["alice", "bob"] });

    alice.sendJson({ type: "msg", to: "*", text: "everyone" });
    expect(await alice.json()).toMatchObject({ type: "ok" });
    expect(await bob.json()).toMatchObject({ to: "*", text: "everyone" });

    // In order: many messages from one sender arrive as sent, none twice.
    const texts = Array.from({ length: 200 }, (_, i) => `n${i}`);
    alice.sendJson(...texts.map((text) => ({ type: "msg", to: "bob", text })));
    const got: string[] = [];
    while (got.length < texts.length) got.push((await bob.json()).text as string);
    expect(got).toEqual(texts);
    for (const _ of texts) expect(await alice.json()).toMatchObject({ type: "ok" });

    bob.sendJson({ type: "leave", room: "#ops" });
    expect(await alice.json()).toEqual({ type: "left", room: "#ops", name: "bob" });
    bob.sendJson({ type: "quit" });
    await bob.end();
    expect(await alice.until(/presence/)).toBe(
      JSON.stringify({ type: "presence", name: "bob", status: "offline" }),
    );
  });

  test("a node started later learns who is online and in which rooms", async () => {
    const a = await node("node");
    const alice = await textUser(a.tcpPort, "alice");
    alice.send("/join #ops");
    expect(await alice.line()).toMatch(/joined #ops/);
    const b = await node("deno");
    await subscribers(2);
    const bob = await LineClient.open(b.tcpPort);
    bob.send("bob", "/rooms", "/who #ops");
    expect(await bob.lines(3)).toEqual([
      "* welcome, bob! online: alice",
      "* rooms: #ops (1 of 1 online)",
      "* #ops: alice",
    ]);
  });

  test("a name online on one node is refused on the other, unless its password proves it", async () => {
    const a = await node("node");
    const b = await node("deno");
    const first = await LineClient.open(a.tcpPort);
    first.send("/login ida s3cret-pw");
    expect(await first.line()).toMatch(/^\* welcome, ida!/);
    const other = await LineClient.open(b.tcpPort);
    other.send("IDA", "/login ida wrong-pw");
    expect(await other.line()).toMatch(/^! name_taken: /);
    expect(await other.line()).toMatch(/^! auth_failed: /);
    const watcher = await textUser(b.tcpPort, "wes");
    other.send("/login ida s3cret-pw");
    expect(await other.line()).toMatch(/^\* welcome, ida!/);
    expect(await first.lines(2)).toEqual(["* wes is online", "* bye: replaced"]);
    // For the others, ida never went offline: no presence, and listed once.
    watcher.send("/who");
    expect(await watcher.line()).toBe("* online: ida, wes");
  });

  test("node A killed: its users go offline on B, their names free up, and messages wait", async () => {
    const a = await node("node");
    const b = await node("deno");
    await subscribers(2);
    const alice = await textUser(a.tcpPort, "alice");
    const bob = await wsUser(b.httpPort, "bob");
    expect(await alice.line()).toBe("* bob is online");
    alice.send("/join #ops");
    expect(await alice.line()).toMatch(/joined #ops/);
    await seen(bob, "alice", "#ops");
    bob.sendJson({ type: "join", room: "#ops" });
    expect(await bob.json()).toMatchObject({ users: ["alice", "bob"] });

    await a.kill("SIGKILL");
    const killedAt = Date.now();
    await subscribers(1);
    // Node B still counts alice online, but node A does not take the message: it waits.
    bob.sendJson({ type: "msg", to: "alice", text: "are you there?" });
    expect(await bob.json()).toMatchObject({ type: "ok", queued: true, to: "alice" });

    // Alice stays a member of #ops (docs/protocol.md §11): bob sees her go offline, not leave.
    expect(await bob.json(LEASE_SECONDS * 3000)).toEqual({
      type: "presence",
      name: "alice",
      status: "offline",
    });
    const noticed = Date.now() - killedAt;
    expect(noticed).toBeGreaterThanOrEqual(LEASE_SECONDS * 1000 - 100);

    bob.sendJson({ type: "msg", to: "alice", text: "see you later" });
    expect(await bob.json()).toMatchObject({ type: "ok", queued: true });

    const back = await LineClient.open(b.tcpPort);
    back.send("alice");
    expect(await back.line()).toBe(
      "* welcome, alice! online: bob; you are in #ops; 2 messages waited for you",
    );
    const held = (await back.lines(2)).map((l) => l.replace(/^\[[^\]]+\] /, ""));
    expect(held).toEqual(["bob: are you there?", "bob: see you later"]);
  });

  test("when Redis drops the nodes' bus connections, they reconnect and catch up", async () => {
    const a = await node("node");
    const b = await node("deno");
    await subscribers(2);
    const alice = await textUser(a.tcpPort, "alice");
    const bob = await textUser(b.tcpPort, "bob");
    expect(await alice.line()).toBe("* bob is online");
    await redis.client().call("CLIENT", "KILL", "TYPE", "pubsub");
    await subscribers(2);
    const ann = await textUser(a.tcpPort, "ann");
    expect(await bob.line()).toBe("* ann is online");
    bob.send("/msg ann hello after the cut", "/who");
    expect(await bob.line()).toBe("* online: alice, ann, bob");
    expect(await ann.line()).toMatch(/bob: hello after the cut$/);
  });

  test("what was held for a user while their node was cut from the bus reaches them after", async () => {
    const a = await node("node");
    const b = await node("deno");
    await subscribers(2);
    const bob = await jsonUser(b.tcpPort, "bob");
    // As node A does when node B's bus connection is down: the message goes to the store.
    const store = new RedisStore(redis.client());
    const message = {
      type: "message" as const,
      id: "0000000000001a",
      from: "alice",
      to: "bob",
      text: "sent while your node was cut off",
      ts: new Date().toISOString(),
    };
    expect(await store.hold("bob", message, 10)).toBe("held");
    await redis.client().call("CLIENT", "KILL", "TYPE", "pubsub");
    expect(await bob.json()).toEqual({ ...message, queued: true });
    // Handed over once, and gone from the store.
    await expect.poll(() => store.held("bob")).toEqual([]);
    bob.sendJson({ type: "ping", id: "p" });
    expect(await bob.json()).toEqual({ type: "pong", re: "p" });
    await a.kill("SIGTERM");
  });

  test("a node stops cleanly even when Redis is gone", async () => {
    const a = await node("node");
    const b = await node("deno");
    const alice = await textUser(a.tcpPort, "alice");
    await redis.stop();
    const [codeA, codeB] = await Promise.all([a.kill("SIGTERM"), b.kill("SIGTERM")]);
    expect([codeA, codeB]).toEqual([0, 0]);
    expect(await alice.end()).toContain("* bye: shutdown");
    redis = await startRedis(); // for afterEach
  });

  test("a node that stops cleanly lets its users' names go at once", async () => {
    const a = await node("deno");
    const b = await node("node");
    await subscribers(2);
    await textUser(a.tcpPort, "alice");
    const bob = await textUser(b.tcpPort, "bob");
    await a.kill("SIGTERM");
    expect(await bob.line()).toBe("* alice is offline");
    const again = await textUser(b.tcpPort, "alice");
    again.send("/who");
    expect(await again.line()).toBe("* online: alice, bob");
  });
});
