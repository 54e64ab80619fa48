// The pure core alone, no sockets: how fast it routes.
import { Relay } from "../src/core/mod.ts";

function loggedIn(n: number, room: string | null): Relay {
  const relay = new Relay({ presence: "off", log: false });
  for (let conn = 0; conn < n; conn++) {
    relay.handle({ type: "open", conn });
    relay.handle({
      type: "command",
      conn,
      command: { type: "login", name: `u${conn}` },
      re: null,
      now: 0,
    });
    relay.handle({ type: "authenticated", conn, key: `u${conn}`, result: "ok", now: 0 });
    relay.handle({ type: "loaded", conn, held: [], replay: null, now: 0 });
    if (room)
      relay.handle({ type: "command", conn, command: { type: "join", room }, re: null, now: 0 });
  }
  return relay;
}

/** Private messages routed per second by the core, single-threaded, among `n` users. */
export function corePrivate(n = 10_000, messages = 2_000_000): number {
  const relay = loggedIn(n, null);
  const commands = Array.from({ length: n }, (_, i) => ({
    type: "msg" as const,
    to: `u${(i + 1) % n}`,
    text: "hello",
  }));
  const start = performance.now();
  for (let i = 0; i < messages; i++) {
    const conn = i % n;
    relay.handle({
      type: "command",
      conn,
      command: commands[conn] as (typeof commands)[0],
      re: null,
      now: 1 + (i >> 10),
    });
  }
  return messages / ((performance.now() - start) / 1000);
}

/** Room deliveries per second by the core, single-threaded, in a room of `n`. */
export function coreFanout(n = 200, messages = 50_000): number {
  const relay = loggedIn(n, "#bench");
  const command = { type: "msg" as const, to: "#bench", text: "hello" };
  const start = performance.now();
  for (let i = 0; i < messages; i++) {
    relay.handle({ type: "command", conn: i % n, command, re: null, now: 1 + (i >> 10) });
  }
  return (messages * (n - 1)) / ((performance.now() - start) / 1000);
}
