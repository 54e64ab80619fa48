import type { Connection, ConnectionEvents, Transport } from "../../src/client/mod.ts";

/** A command as the fake server received it. */
export type Sent = { type: string; id: string } & Record<string, unknown>;

/** What the fake server answers to a command: frames to send back, in order. */
export type Script = (command: Sent, conn: FakeConnection) => object[];

let messageSeq = 0;

/**
 * The id of a message the fake server accepted: they sort in order, and after the
 * `m...` ids tests give to the messages they push.
 */
export function nextMessageId(): string {
  return `ok${String(++messageSeq).padStart(6, "0")}`;
}

/** Answers as a friendly relay would: every login welcomed, every command answered. */
export const friendly: Script = (c) => {
  switch (c.type) {
    case "login":
      return [
        {
          type: "welcome",
          re: c.id,
          name: c.name,
          users: [],
          online: 1,
          rooms: [],
          queued: 0,
          session: "secret-1",
        },
      ];
    case "msg":
    case "say":
      return [{ type: "ok", re: c.id, id: nextMessageId() }];
    case "join":
      return [{ type: "ok", re: c.id, room: c.room, users: ["x"] }];
    case "ping":
      return [{ type: "pong", re: c.id }];
    case "history":
      return [{ type: "history", re: c.id, with: c.with, messages: [], more: false }];
    case "who":
      return [{ type: "who", re: c.id, users: [] }];
    case "quit":
      return [{ type: "bye", re: c.id, reason: "quit" }];
    default:
      return [{ type: "ok", re: c.id }];
  }
};

/**
 * An in-memory relay for unit tests: each `open` is a {@link FakeConnection} whose
 * commands are answered by `script` (asynchronously, as over a network), and which the
 * test can push events to or drop.
 */
export class FakeServer implements Transport {
  readonly connections: FakeConnection[] = [];
  script: Script = friendly;
  /** How many of the next `open`s fail. */
  refusals = 0;
  opens = 0;

  open(events: ConnectionEvents): Promise<Connection> {
    this.opens++;
    if (this.refusals > 0) {
      this.refusals--;
      return Promise.reject(new Error("connection refused"));
    }
    const conn = new FakeConnection(this, events);
    this.connections.push(conn);
    return Promise.resolve(conn);
  }

  /** The newest connection. */
  get last(): FakeConnection {
    const conn = this.connections.at(-1);
    if (!conn) throw new Error("no connection yet");
    return conn;
  }

  /** Every command of every connection, in order (optionally only these types). */
  sent(...types: string[]): Sent[] {
    const all = this.connections.flatMap((c) => c.sent);
    return types.length ? all.filter((c) => types.includes(c.type)) : all;
  }
}

/** One connection to the fake server. */
export class FakeConnection implements Connection {
  readonly sent: Sent[] = [];
  ended = false;
  /** Whether the client closed it (rather than the server dropping it). */
  closedByClient = false;
  readonly #server: FakeServer;
  readonly #events: ConnectionEvents;

  constructor(server: FakeServer, events: ConnectionEvents) {
    this.#server = server;
    this.#events = events;
  }

  send(frame: string): void {
    if (this.ended) return;
    const command = JSON.parse(frame) as Sent;
    this.sent.push(command);
    const replies = this.#server.script(command, this);
    queueMicrotask(() => {
      this.push(...replies);
      if (command.type === "quit") this.drop();
    });
  }

  close(): void {
    if (this.ended) return;
    this.closedByClient = true;
    this.drop();
  }

  /** Sends frames to the client (events, or replies a script left out). */
  push(...frames: object[]): void {
    for (const frame of frames) if (!this.ended) this.#events.frame(JSON.stringify(frame));
  }

  /** Ends the connection from the server's side. */
  drop(): void {
    if (this.ended) return;
    this.ended = true;
    this.#events.closed();
  }
}

/** Lets pending promise callbacks and microtasks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
