import { describe, expect, test } from "vitest";
import { type ChatMessage, RelayClient } from "../../src/client/mod.ts";
import { FakeServer, friendly } from "./fake-server.ts";

/** A conversation of `n` messages with ids h001..hnnn, served newest page first like the relay. */
function conversationServer(n: number) {
  const log: ChatMessage[] = Array.from({ length: n }, (_, i) => ({
    type: "message",
    id: `h${String(i + 1).padStart(3, "0")}`,
    from: "ann",
    to: "#dev",
    text: `text ${i + 1}`,
    ts: "2025-01-01T00:00:00.000Z",
  }));
  const server = new FakeServer();
  server.script = (c, conn) => {
    if (c.type !== "history" || c.limit === 1) return friendly(c, conn);
    const before = typeof c.before === "string" ? c.before : undefined;
    const older = log.filter((m) => before === undefined || m.id < before);
    const limit = typeof c.limit === "number" ? c.limit : 50;
    const messages = older.slice(-limit);
    return [
      { type: "history", re: c.id, with: c.with, messages, more: older.length > messages.length },
    ];
  };
  const client = new RelayClient({ transport: server, name: "bot", heartbeatMs: 0 });
  return { server, client };
}

describe("history", () => {
  test("walks back page by page with before, newest message first, until more is false", async () => {
    const { server, client } = conversationServer(7);
    await client.connect();
    const ids: string[] = [];
    for await (const m of client.history("#dev", { pageSize: 3 })) ids.push(m.id);
    expect(ids).toEqual(["h007", "h006", "h005", "h004", "h003", "h002", "h001"]);
    const asked = server.sent("history").filter((c) => c.limit === 3);
    expect(asked.map((c) => c.before)).toEqual([undefined, "h005", "h002"]);
  });

  test("pages come newest first, each oldest first as the server sends it", async () => {
    const { client } = conversationServer(5);
    await client.connect();
    const pages: string[][] = [];
    for await (const page of client.historyPages("#dev", { pageSize: 2 })) {
      pages.push(page.messages.map((m) => m.id));
    }
    expect(pages).toEqual([["h004", "h005"], ["h002", "h003"], ["h001"]]);
  });

  test("leaving the loop early asks for no more pages", async () => {
    const { server, client } = conversationServer(100);
    await client.connect();
    let seen = 0;
    for await (const _ of client.history("#dev", { pageSize: 10 })) if (++seen === 15) break;
    expect(server.sent("history").filter((c) => c.limit === 10)).toHaveLength(2);
  });

  test("starts below `before` when given", async () => {
    const { client } = conversationServer(5);
    await client.connect();
    const ids: string[] = [];
    for await (const m of client.history("#dev", { before: "h003" })) ids.push(m.id);
    expect(ids).toEqual(["h002", "h001"]);
  });

  test("an error reply ends the iteration with its RelayError", async () => {
    const server = new FakeServer();
    server.script = (c, conn) =>
      c.type === "history" && c.with === "#secret"
        ? [{ type: "error", re: c.id, code: "not_in_room", message: "join #secret first" }]
        : friendly(c, conn);
    const client = new RelayClient({ transport: server, name: "bot", heartbeatMs: 0 });
    await client.connect();
    const walk = async () => {
      for await (const _ of client.history("#secret")) {
        // nothing
      }
    };
    await expect(walk()).rejects.toMatchObject({ code: "not_in_room" });
  });

  test("an empty page that says more (a store that could not be read) fails with unavailable", async () => {
    const server = new FakeServer();
    server.script = (c, conn) =>
      c.type === "history"
        ? [{ type: "history", re: c.id, with: c.with, messages: [], more: true }]
        : friendly(c, conn);
    const client = new RelayClient({ transport: server, name: "bot", heartbeatMs: 0 });
    await client.connect();
    const walk = async () => {
      for await (const _ of client.history("bob")) {
        // nothing
      }
    };
    await expect(walk()).rejects.toMatchObject({ code: "unavailable" });
  });
});
