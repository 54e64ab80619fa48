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
});
