import { expect } from "vitest";
import { LineClient, textUser, WsClient, wsUser } from "./client.ts";

/** A netcat user and a WebSocket user chat both ways, privately and in a room. */
export async function tcpAndWebSocketChat(tcpPort: number, httpPort: number): Promise<void> {
  const nc = await textUser(tcpPort, "netcat");
  const web = await wsUser(httpPort, "browser");
  expect(await nc.line()).toBe("* browser is online");

  web.sendJson({ type: "msg", to: "netcat", text: "hello from the web", id: "1" });
  expect(await web.json()).toMatchObject({ type: "ok", re: "1" });
  expect(await nc.line()).toMatch(/^\[\d\d:\d\d:\d\d\] browser: hello from the web$/);

  nc.send("hello from the terminal"); // the reply rule
  expect(await web.json()).toMatchObject({
    type: "message",
    from: "netcat",
    to: "browser",
    text: "hello from the terminal",
  });

  nc.send("/join #both");
  expect(await nc.line()).toBe("* you joined #both: netcat");
  web.sendJson({ type: "join", room: "#both", id: "2" });
  expect(await web.json()).toMatchObject({ type: "ok", re: "2", users: ["netcat", "browser"] });
  expect(await nc.line()).toBe("* browser joined #both");
  nc.send("/msg #both in the room");
  expect(await web.json()).toMatchObject({ type: "message", to: "#both", text: "in the room" });

  web.close();
  expect(await nc.until(/offline/)).toBe("* browser is offline");
  nc.close();
}

/** WebSocket framing: text mode works per message; binary is bad_frame; big is too_long. */
export async function webSocketFraming(httpPort: number): Promise<void> {
  const text = await WsClient.open(httpPort);
  text.send("wendy", "/ping");
  expect(await text.lines(2)).toEqual(["* welcome, wendy! nobody else is online", "* pong"]);
  text.ws.send(new Uint8Array([1, 2, 3]));
  expect(await text.line()).toBe("! bad_frame: frames are text: send UTF-8 text messages");
  text.send("x".repeat(8193), "/ping");
  expect(await text.lines(2)).toEqual(["! too_long: a frame is at most 8192 bytes", "* pong"]);
  text.send("/quit");
  expect(await text.end()).toEqual(["* bye: quit"]);

  const json = await WsClient.open(httpPort);
  json.ws.send(new Uint8Array([0xff])); // before any text frame: the mode is not fixed yet
  expect(await json.line()).toBe("! bad_frame: frames are text: send UTF-8 text messages");
  json.sendJson({ type: "ping", id: "p" });
  expect(await json.json()).toEqual({ type: "pong", re: "p" });
  json.close();
}

/** Opens a TCP client; re-exported so scenario callers need one import. */
export { LineClient };
