import { connect } from "node:net";
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
    expect(await a.json()).toEqual({ type: "who", re: "w", online: 1, users: ["a1"] });
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

  test("text that is not UTF-8 is bad_utf8 and the socket stays, before and after the mode is fixed", async () => {
    const relay = await startRelay();
    const c = await WsClient.open(relay.httpPort);
    const notUtf8 = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]); // {"\xff\xfe"}
    c.ws.send(notUtf8, { binary: false });
    expect(await c.line()).toBe("! bad_utf8: the message is not valid UTF-8");
    c.sendJson({ type: "ping", id: "p" });
    expect(await c.json()).toEqual({ type: "pong", re: "p" });
    c.ws.send(notUtf8, { binary: false });
    expect(await c.json()).toEqual({
      type: "error",
      re: null,
      code: "bad_utf8",
      message: "the message is not valid UTF-8",
    });
    c.ws.send(Buffer.from(`{"type":"login","name":"é${"x".repeat(8192)}"}`), { binary: false });
    expect(await c.json()).toMatchObject({ code: "too_long" });
    c.sendJson({ type: "login", name: "still" });
    expect(await c.json()).toMatchObject({ type: "welcome", name: "still" });
    c.close();
  });

  test("a message in the same packet as the upgrade request is answered once", async () => {
    const relay = await startRelay();
    const socket = connect(relay.httpPort, "127.0.0.1");
    const frames: string[] = [];
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        expect(buffer.subarray(0, 12).toString()).toBe("HTTP/1.1 101");
        upgraded = true;
        buffer = buffer.subarray(end + 4);
      }
      // Server frames here are short, unmasked text: 0x81, a length under 126, the text.
      while (buffer.length >= 2 && buffer.length >= 2 + (buffer[1] as number)) {
        frames.push(buffer.subarray(2, 2 + (buffer[1] as number)).toString());
        buffer = buffer.subarray(2 + (buffer[1] as number));
      }
    });
    const masked = (text: string) => {
      const payload = Buffer.from(text);
      const mask = Buffer.from([1, 2, 3, 4]);
      const body = payload.map((b, i) => b ^ (mask[i % 4] as number));
      return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, body]);
    };
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(
      Buffer.concat([
        Buffer.from(
          "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        ),
        masked('{"type":"ping","id":"early"}'),
      ]),
    );
    await expect.poll(() => frames.length).toBe(1);
    socket.write(masked('{"type":"ping","id":"late"}'));
    await expect.poll(() => frames.length).toBe(2);
    expect(frames.map((f) => JSON.parse(f))).toEqual([
      { type: "pong", re: "early" },
      { type: "pong", re: "late" },
    ]);
    socket.destroy();
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
