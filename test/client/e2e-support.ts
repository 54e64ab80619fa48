import { mkdir, mkdtemp } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import WebSocket from "ws";
import { tcpTransport } from "../../adapters/node/client-tcp.ts";
import {
  type ChatMessage,
  type Connection,
  RelayClient,
  type RelayClientOptions,
  type Transport,
  webSocketTransport,
} from "../../src/client/mod.ts";
import { LineClient } from "../support/client.ts";

/** The two ways a program reaches the relay from Node. */
export type Via = "ws" | "tcp";

/** A transport to a relay on localhost: WebSocket with the `ws` package's class, or TCP. */
export function transportTo(via: Via, ports: { tcpPort: number | null; httpPort: number }) {
  return via === "ws"
    ? webSocketTransport(`ws://127.0.0.1:${ports.httpPort}/ws`, WebSocket)
    : tcpTransport(`tcp://127.0.0.1:${ports.tcpPort}`);
}

/**
 * A transport the test can cut like a network would: `cut()` ends every open connection
 * (the client did not ask for it), and while `blocked` no new connection is made.
 */
export class CuttableTransport implements Transport {
  blocked = false;
  /** The ids of the `message` events the server sent, as they came, duplicates included. */
  readonly messageIds: string[] = [];
  readonly #inner: Transport;
  readonly #open = new Set<Connection>();

  constructor(inner: Transport) {
    this.#inner = inner;
  }

  async open(events: Parameters<Transport["open"]>[0]): Promise<Connection> {
    if (this.blocked) throw new Error("the network is down");
    let conn: Connection | undefined;
    conn = await this.#inner.open({
      frame: (text) => {
        const frame = JSON.parse(text);
        if (frame.type === "message" && !("re" in frame)) this.messageIds.push(frame.id);
        events.frame(text);
      },
      closed: () => {
        if (conn) this.#open.delete(conn);
        events.closed();
      },
    });
    this.#open.add(conn);
    return conn;
  }

  /** Ends every connection from under the client. */
  cut(): void {
    for (const conn of this.#open) conn.close();
  }
}

const clients: RelayClient[] = [];

/** A client that is closed when the test ends (quick retries, no heartbeat). */
export function client(options: RelayClientOptions): RelayClient {
  const made = new RelayClient({
    heartbeatMs: 0,
    reconnect: { initialDelayMs: 100, maxDelayMs: 400 },
    ...options,
  });
  clients.push(made);
  return made;
}

/** Closes the clients made by {@link client}. */
export async function closeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.close()));
}

/** Collects the messages a client emits. */
export function inbox(c: RelayClient): ChatMessage[] {
  const got: ChatMessage[] = [];
  c.on("message", (m) => got.push(m));
  return got;
}

/** Waits until `ready()` holds; fails after `ms`. */
export async function until(ready: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The next time `c` emits `open` (a login). */
export function nextOpen(c: RelayClient): Promise<void> {
  return new Promise((resolve) => {
    const off = c.on("open", () => {
      off();
      resolve();
    });
  });
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A fresh KV file under ./data, where the Deno task may read and write. */
export async function kvFile(): Promise<string> {
  await mkdir("data", { recursive: true });
  return join(await mkdtemp("data/test-"), "relay.kv");
}

/** Sends a JSON command with an id over `c` and waits for its reply, skipping events. */
async function ask(c: LineClient, command: object, id: string): Promise<Record<string, unknown>> {
  c.sendJson({ ...command, id });
  for (;;) {
    const reply = await c.json(20_000);
    if (reply.re === id) return reply;
  }
}

/**
 * Logs `names` in over TCP in JSON mode, 100 at a time; they stay online until closed.
 * With `room`, each becomes a member of it first, 50 at a time logging in, joining and
 * quitting: a join is told to the members online, so a thousand joining while all are
 * online would make half a million events.
 */
export async function logInCrowd(
  port: number,
  names: string[],
  room?: string,
): Promise<LineClient[]> {
  const batches = (size: number) =>
    Array.from({ length: Math.ceil(names.length / size) }, (_, i) =>
      names.slice(i * size, (i + 1) * size),
    );
  const login = async (name: string) => {
    const c = await LineClient.open(port);
    const welcome = await ask(c, { type: "login", name }, "login");
    if (welcome.type !== "welcome") throw new Error(`${name}: ${JSON.stringify(welcome)}`);
    return c;
  };
  if (room !== undefined) {
    for (const batch of batches(50)) {
      await Promise.all(
        batch.map(async (name) => {
          const c = await login(name);
          const ok = await ask(c, { type: "join", room }, "join");
          if (ok.type !== "ok") throw new Error(`${name} joining ${room}: ${JSON.stringify(ok)}`);
          await ask(c, { type: "quit" }, "quit");
          c.close();
        }),
      );
    }
  }
  const online: LineClient[] = [];
  for (const batch of batches(100)) online.push(...(await Promise.all(batch.map(login))));
  return online;
}

/**
 * Names in the order `who` lists them: by lower case, then by code unit (docs/protocol.md §12).
 *
 * @example
 * byWhoOrder(["bo", "Ann", "ann"]); // ["Ann", "ann", "bo"]
 */
export function byWhoOrder(names: string[]): string[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...names].sort((a, b) => cmp(a.toLowerCase(), b.toLowerCase()) || cmp(a, b));
}
