import { afterEach, describe, expect, test } from "vitest";
import { RelayClient, type WhoReply } from "../../src/client/mod.ts";
import type { LineClient } from "../support/client.ts";
import { startRelay } from "../support/server.ts";
import { byWhoOrder, client, closeClients, logInCrowd, transportTo } from "./e2e-support.ts";
import { FakeServer, friendly } from "./fake-server.ts";

/** A server whose `who` pages `everyone` (sorted) `size` at a time, as the relay does. */
function whoServer(everyone: string[], size: number) {
  const server = new FakeServer();
  server.script = (c, conn) => {
    if (c.type !== "who") return friendly(c, conn);
    const after = typeof c.after === "string" ? c.after : undefined;
    const rest = after === undefined ? everyone : everyone.filter((n) => n > after);
    const users = rest.slice(0, size);
    const reply: WhoReply = {
      type: "who",
      re: c.id,
      ...(typeof c.room === "string" && { room: c.room }),
      users,
      online: everyone.length,
      ...(rest.length > size && { next: users.at(-1) }),
    };
    return [reply];
  };
  const made = new RelayClient({ transport: server, name: "bot", heartbeatMs: 0 });
  return { server, client: made };
}

const letters = "abcdefg".split("");

describe("who, page by page", () => {
  test("walks the pages with after set to each page's next, until a page has none", async () => {
    const { server, client } = whoServer(letters, 3);
    await client.connect();
    const names: string[] = [];
    for await (const name of client.who()) names.push(name);
    expect(names).toEqual(letters);
    expect(server.sent("who").map((c) => c.after)).toEqual([undefined, "c", "f"]);
  });

  test("pages carry the server's count; a room and a starting name are passed on", async () => {
    const { server, client } = whoServer(letters, 2);
    await client.connect();
    const pages: string[][] = [];
    for await (const page of client.whoPages({ room: "#dev", after: "b" })) {
      expect(page).toMatchObject({ room: "#dev", online: 7 });
      pages.push(page.users);
    }
    expect(pages).toEqual([["c", "d"], ["e", "f"], ["g"]]);
    expect(server.sent("who").map((c) => [c.room, c.after])).toEqual([
      ["#dev", "b"],
      ["#dev", "d"],
      ["#dev", "f"],
    ]);
  });

  test("leaving the loop early asks for no more pages", async () => {
    const { server, client } = whoServer(letters, 2);
    await client.connect();
    for await (const name of client.who()) if (name === "c") break;
    expect(server.sent("who")).toHaveLength(2);
  });

  test("a next that moves nothing on ends the walk instead of asking for the same page again", async () => {
    const server = new FakeServer();
    server.script = (c, conn) =>
      c.type === "who"
        ? [{ type: "who", re: c.id, users: [], online: 3, next: "x" }]
        : friendly(c, conn);
    const client = new RelayClient({ transport: server, name: "bot", heartbeatMs: 0 });
    await client.connect();
    const pages: WhoReply[] = [];
    for await (const page of client.whoPages()) pages.push(page);
    expect(pages).toHaveLength(1);
  });

  test("an error reply ends the walk with its RelayError", async () => {
    const server = new FakeServer();
    server.script = (c, conn) =>
      c.type === "who"
        ? [{ type: "error", re: c.id, code: "bad_name", message: "not a room" }]
        : friendly(c, conn);
    const client = new RelayClient({ transport: server, name: "bot", heartbeatMs: 0 });
    await client.connect();
    const walk = async () => {
      for await (const _ of client.who({ room: "#no room" })) {
        // nothing
      }
    };
    await expect(walk()).rejects.toMatchObject({ code: "bad_name" });
  });
});

describe("who on a relay with more than a page online", () => {
  let crowd: LineClient[] = [];
  afterEach(async () => {
    await closeClients();
    for (const c of crowd.splice(0)) c.close();
  });

  // Upper and lower case mixed, so that the order is the server's (case-insensitive).
  const names = Array.from({ length: 1001 }, (_, i) => `${i % 3 ? "u" : "U"}${i}`);

  test("who lists everyone online, 1000 a page, in the server's order", async () => {
    const relay = await startRelay({ RELAY_PRESENCE: "off" });
    crowd = await logInCrowd(relay.tcpPort as number, names);
    const me = client({ transport: transportTo("tcp", relay), name: "zed" });
    await me.connect();
    const pages: WhoReply[] = [];
    for await (const page of me.whoPages()) pages.push(page);
    const everyone = byWhoOrder([...names, "zed"]);
    expect(pages.map((p) => [p.users.length, p.online, p.next])).toEqual([
      [1000, 1002, everyone[999]],
      [2, 1002, undefined],
    ]);
    const listed: string[] = [];
    for await (const name of me.who()) listed.push(name);
    expect(listed).toEqual(everyone);
  }, 60_000);

  test("who #room lists the room's members online, page by page", async () => {
    const relay = await startRelay({ RELAY_PRESENCE: "off" });
    crowd = await logInCrowd(relay.tcpPort as number, names, "#crowd");
    const me = client({ transport: transportTo("ws", relay), name: "zed" });
    await me.connect();
    const listed: string[] = [];
    for await (const name of me.who({ room: "#crowd" })) listed.push(name);
    expect(listed).toEqual(byWhoOrder(names));
    // Not a member, and one more online: the room's count stays the room's.
    const first = await me.whoPages({ room: "#crowd" }).next();
    expect(first.value).toMatchObject({ room: "#crowd", online: 1001, next: listed[999] });
  }, 60_000);
});
