import { describe, expect, test } from "vitest";
import { LineClient, textUser } from "../support/client.ts";
import { spawnRelay } from "../support/process.ts";
import { tcpAndWebSocketChat, webSocketFraming } from "../support/scenarios.ts";

describe.each(["node", "deno"] as const)("the relay process on %s", (runtime) => {
  test("a TCP user and a WebSocket user chat both ways", async () => {
    const relay = await spawnRelay(runtime);
    await tcpAndWebSocketChat(relay.tcpPort, relay.httpPort);
  });

  test("WebSocket framing: text mode, binary, size limit", async () => {
    const relay = await spawnRelay(runtime);
    await webSocketFraming(relay.httpPort);
  });

  test("TCP: long lines, bad UTF-8 and abrupt disconnects leave the server serving", async () => {
    const relay = await spawnRelay(runtime);
    const a = await textUser(relay.tcpPort, "ann");
    const b = await textUser(relay.tcpPort, "ben");
    await a.line(); // ben is online
    a.socket.write("q".repeat(300_000));
    a.socket.write(Buffer.from([0x0a, 0xfe, 0x0a]));
    expect(await a.lines(2)).toEqual([
      "! too_long: a line is at most 8192 bytes",
      "! bad_utf8: the line is not valid UTF-8",
    ]);
    b.socket.resetAndDestroy();
    expect(await a.line()).toBe("* ben is offline");
    const c = await LineClient.open(relay.tcpPort);
    c.send("/login cy", "/who");
    expect(await c.lines(2)).toEqual(["* welcome, cy! online: ann", "* online: ann, cy"]);
    a.close();
    c.close();
  });

  test("TCP: a burst of commands in one write is answered in order", async () => {
    const relay = await spawnRelay(runtime, { RELAY_RATE_LIMIT: "0" });
    const c = await LineClient.open(relay.tcpPort);
    const ids = Array.from({ length: 2000 }, (_, i) => `p${i}`);
    c.sendJson(...ids.map((id) => ({ type: "ping", id })));
    const answered: unknown[] = [];
    for (const _ of ids) answered.push((await c.json()).re);
    expect(answered).toEqual(ids);
    c.close();
  });

  test("a Redis that cannot be reached stops the start with a clear message", async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const start = spawnRelay(runtime, { RELAY_STORE: "redis://127.0.0.1:1" });
    await expect(start).rejects.toThrow(
      /exited with 1; stderr: .*cannot reach Redis at redis:\/\/127\.0\.0\.1:1/s,
    );
  });

  test("a bad setting stops the start with a message that names it", async () => {
    const start = spawnRelay(runtime, { RELAY_BUS: "carrier-pigeon" });
    await expect(start).rejects.toThrow(/exited with 2; stderr: relay: RELAY_BUS: local or redis/);
  });

  test("SIGTERM says bye shutdown to everyone and exits 0", async () => {
    const relay = await spawnRelay(runtime);
    const a = await textUser(relay.tcpPort, "sam");
    const code = await relay.kill("SIGTERM");
    expect(await a.end()).toEqual(["* bye: shutdown"]);
    expect(code).toBe(0);
  });
});
