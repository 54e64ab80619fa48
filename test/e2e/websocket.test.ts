import { describe, expect, test } from "vitest";
import { WsClient, wsUser } from "../support/client.ts";
import { tcpAndWebSocketChat, webSocketFraming } from "../support/scenarios.ts";
import { startRelay } from "../support/server.ts";

describe("WebSocket on Node", () => {
  test("a TCP user and a WebSocket user chat both ways", async () => {
    const relay = await startRelay();
    await tcpAndWebSocketChat(relay.tcpPort as number, relay.httpPort);
  });

  test("text and binary frames, size limit", async () => {
    const relay = await startRelay();
    await webSocketFraming(relay.httpPort);
  });

  test("JSON over WebSocket: one reply per command, in order, with re", async () => {
    const relay = await startRelay();
    const a = await wsUser(relay.httpPort, "a1");
    a.sendJson({ type: "rooms", id: "r" }, { type: "who", id: "w" }, { type: "nope", id: "n" });
    expect(await a.json()).toEqual({ type: "rooms", re: "r", rooms: [] });
    expect(await a.json()).toEqual({ type: "who", re: "w", users: ["a1"] });
    expect(await a.json()).toMatchObject({ type: "error", re: "n", code: "bad_command" });
    a.close();
  });

  test("a message larger than the socket layer accepts closes only that socket", async () => {
    const relay = await startRelay();
    const big = await WsClient.open(relay.httpPort);
    big.send("y".repeat(2 * 1024 * 1024));
    await big.end();
    const fine = await wsUser(relay.httpPort, "fine");
    fine.close();
  });

  test("frames of every header size arrive whole and in order", async () => {
    const relay = await startRelay({ RELAY_RATE_LIMIT: "0", RELAY_MAX_FRAME_BYTES: "65536" });
    const to = await wsUser(relay.httpPort, "to");
    const from = await wsUser(relay.httpPort, "from");
    await to.json(); // from's presence
    // Short, 126 to 65535 bytes (two-byte length), and a batch of both in one flush.
    const texts = ["x", "é".repeat(100), "😀".repeat(4000), "y".repeat(125)];
    from.sendJson(...texts.map((text) => ({ type: "msg", to: "to", text })));
    for (const text of texts) expect((await to.json()).text).toBe(text);
    to.close();
    from.close();
  });
});
