import { describe, expect, test } from "vitest";
import WebSocket from "ws";
import { LineClient, textUser, WsClient, wsUser } from "../support/client.ts";
import { spawnRelay } from "../support/process.ts";
import { startRelay } from "../support/server.ts";

/** A relay to test, and its ports. */
type Start = (env?: Record<string, string>) => Promise<{ tcpPort: number; httpPort: number }>;

const runtimes: [string, Start][] = [
  [
    "Node",
    async (env) => {
      const relay = await startRelay(env);
      return { tcpPort: relay.tcpPort as number, httpPort: relay.httpPort };
    },
  ],
  ["Deno", (env) => spawnRelay("deno", env)],
];

/**
 * Asks for a WebSocket on /ws with these request headers; resolves with the HTTP status of
 * the answer (101 when it opened).
 */
function upgrade(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
    ws.once("open", () => {
      ws.terminate();
      resolve(101);
    });
    ws.once("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("error", reject);
  });
}

describe.each(runtimes)("on %s", (_, start) => {
  describe("who may open /ws: programs, the server's own page, and origins let in", () => {
    test("another site's page is refused (403); no Origin and the same origin are let in", async () => {
      const { httpPort } = await start();
      expect(await upgrade(httpPort, { Origin: "http://evil.example" })).toBe(403);
      expect(await upgrade(httpPort, { Origin: "null" })).toBe(403);
      // The same host, another port: another origin.
      expect(await upgrade(httpPort, { Origin: `http://127.0.0.1:${httpPort + 1}` })).toBe(403);
      expect(await upgrade(httpPort, {})).toBe(101);
      expect(await upgrade(httpPort, { Origin: `http://127.0.0.1:${httpPort}` })).toBe(101);
      // The Host header decides what "own" means (a proxy's name, say), in any case.
      const named = { Host: "Chat.Example:80", Origin: "http://chat.example" };
      expect(await upgrade(httpPort, named)).toBe(101);
      // The refused one was never a connection: a program still chats.
      const c = await wsUser(httpPort, "prog");
      c.close();
    });

    test("an origin in RELAY_ALLOWED_ORIGINS is let in; the others stay out", async () => {
      const { httpPort } = await start({
        RELAY_ALLOWED_ORIGINS: "https://chat.example.com,http://localhost:3000",
      });
      expect(await upgrade(httpPort, { Origin: "https://chat.example.com" })).toBe(101);
      expect(await upgrade(httpPort, { Origin: "http://localhost:3000" })).toBe(101);
      expect(await upgrade(httpPort, { Origin: "http://chat.example.com" })).toBe(403);
      expect(await upgrade(httpPort, { Origin: "http://evil.example" })).toBe(403);
      expect(await upgrade(httpPort, { Origin: `http://127.0.0.1:${httpPort}` })).toBe(101);
      expect(await upgrade(httpPort, {})).toBe(101);
    });

    test("RELAY_ALLOWED_ORIGINS=* lets any page in", async () => {
      const { httpPort } = await start({ RELAY_ALLOWED_ORIGINS: "*" });
      expect(await upgrade(httpPort, { Origin: "http://evil.example" })).toBe(101);
    });
  });

  describe("HTTP on the TCP port", () => {
    test("a request line first: one line, closed, and nothing of it runs", async () => {
      const { tcpPort } = await start();
      const alice = await textUser(tcpPort, "alice");
      // What a page's fetch() would send: its body holds commands.
      const body = "mallory\n/msg alice hello from a web page\n";
      for (const request of [
        "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        `POST /x HTTP/1.0\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        `PUT /%2e%2e?a=b HTTP/2\r\n\r\n${body}`,
        `\r\nOPTIONS * HTTP/1.1\r\n\r\n${body}`,
      ]) {
        const c = await LineClient.open(tcpPort);
        c.socket.write(request);
        expect(await c.end()).toEqual(["! bad_frame: this is not an HTTP server"]);
      }
      alice.send("/who");
      expect(await alice.line()).toBe("* online: alice");
      alice.close();
    });

    test("a line like a request line, once the mode is fixed, is what it always was", async () => {
      const { tcpPort } = await start();
      const c = await textUser(tcpPort, "walter");
      c.send("GET / HTTP/1.1", "/ping");
      expect(await c.lines(2)).toEqual([
        "! no_target: choose who to talk to first: /to <name>",
        "* pong",
      ]);
      c.close();
      // And a first line that only mentions HTTP is a login like any other.
      const d = await LineClient.open(tcpPort);
      d.send("GET / HTTP/1.1 please");
      expect(await d.line()).toMatch(/^! bad_name:/);
      d.close();
    });
  });

  describe("big WebSocket messages", () => {
    test("a little over the frame size: too_long, the connection stays; far over: closed 1009", async () => {
      const { httpPort } = await start();
      const c = await WsClient.open(httpPort);
      const closed = new Promise<number>((resolve) => c.ws.once("close", resolve));
      // 8192 is the longest frame; 2 × 8192 + 1024 the longest message read.
      c.send("x".repeat(8193), "é".repeat(8704), "/ping");
      expect(await c.lines(3)).toEqual([
        "! too_long: a frame is at most 8192 bytes",
        "! too_long: a frame is at most 8192 bytes",
        "* pong",
      ]);
      c.send("y".repeat(17_409), "/ping");
      expect(await closed).toBe(1009);
      expect(await c.end()).toEqual([]);
    });

    test("the limit follows RELAY_MAX_FRAME_BYTES", async () => {
      const { httpPort } = await start({ RELAY_MAX_FRAME_BYTES: "65536" });
      const c = await WsClient.open(httpPort);
      const closed = new Promise<number>((resolve) => c.ws.once("close", resolve));
      c.send("x".repeat(100_000), "/ping");
      expect(await c.lines(2)).toEqual(["! too_long: a frame is at most 65536 bytes", "* pong"]);
      c.send("y".repeat(2 * 65_536 + 1025));
      expect(await closed).toBe(1009);
    });
  });
});
