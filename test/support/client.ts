import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import WebSocket from "ws";

/** Lines (or messages) received, waited for in order; shared by the TCP and WebSocket clients. */
export class Inbox {
  readonly #lines: string[] = [];
  #waiters: (() => void)[] = [];
  closed = false;

  /** Adds received lines. */
  push(...lines: string[]): void {
    this.#lines.push(...lines);
    this.#wake();
  }

  /** Marks the connection closed. */
  close(): void {
    this.closed = true;
    this.#wake();
  }

  /** The next line; fails after `ms` without one, or if the connection closes first. */
  async line(ms = 5000): Promise<string> {
    const deadline = Date.now() + ms;
    while (this.#lines.length === 0) {
      if (this.closed) throw new Error("connection closed while waiting for a line");
      if (Date.now() >= deadline) throw new Error("timed out waiting for a line");
      await this.#wait(deadline - Date.now());
    }
    return this.#lines.shift() as string;
  }

  /** The next `n` lines. */
  async lines(n: number, ms = 5000): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await this.line(ms));
    return out;
  }

  /** The next line, parsed as JSON. */
  async json(ms = 5000): Promise<Record<string, unknown>> {
    return JSON.parse(await this.line(ms));
  }

  /** Skips lines until one matches; returns it. */
  async until(pattern: RegExp, ms = 5000): Promise<string> {
    for (;;) {
      const line = await this.line(ms);
      if (pattern.test(line)) return line;
    }
  }

  /** Resolves once the server has closed the connection; returns the lines left unread. */
  async end(ms = 5000): Promise<string[]> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("the connection stayed open");
      await this.#wait(50);
    }
    return this.#lines.splice(0);
  }

  #wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** A line-oriented TCP client for tests. */
export class LineClient extends Inbox {
  readonly socket: Socket;
  #partial = "";

  private constructor(socket: Socket) {
    super();
    this.socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (data: string) => {
      const parts = (this.#partial + data).split("\n");
      this.#partial = parts.pop() ?? "";
      this.push(...parts);
    });
    socket.on("close", () => super.close());
    socket.on("error", () => {});
  }

  /** Connects to a TCP port on loopback. */
  static open(port: number, host = "127.0.0.1"): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new LineClient(socket)));
      socket.once("error", reject);
    });
  }

  /**
   * Connects over TLS (docs/protocol.md §13) to a TCP port on loopback, trusting the
   * certificate `ca` (PEM); resolves once the handshake is done.
   */
  static openTls(port: number, ca: string, host = "127.0.0.1"): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = connectTls({ port, host, ca }, () => resolve(new LineClient(socket)));
      socket.once("error", reject);
    });
  }

  /** Sends lines, each ended by \n. */
  send(...lines: string[]): void {
    this.socket.write(lines.map((l) => `${l}\n`).join(""));
  }

  /** Sends JSON commands, one per line. */
  sendJson(...commands: object[]): void {
    this.send(...commands.map((c) => JSON.stringify(c)));
  }

  override close(): void {
    this.socket.destroy();
  }
}

/** A WebSocket client for tests: each message received is one entry of the inbox. */
export class WsClient extends Inbox {
  readonly ws: WebSocket;

  private constructor(ws: WebSocket) {
    super();
    this.ws = ws;
    ws.on("message", (data, isBinary) => {
      if (!isBinary) this.push(data.toString());
    });
    ws.on("close", () => super.close());
    ws.on("error", () => {});
  }

  /** Opens a WebSocket to /ws on a loopback HTTP port. */
  static open(port: number): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      ws.once("open", () => resolve(new WsClient(ws)));
      ws.once("error", reject);
    });
  }

  /** Opens a WebSocket to /ws over TLS (`wss://`) on a loopback HTTPS port, trusting `ca` (PEM). */
  static openTls(port: number, ca: string): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, { ca });
      ws.once("open", () => resolve(new WsClient(ws)));
      ws.once("error", reject);
    });
  }

  /** Sends text messages, one frame each. */
  send(...frames: string[]): void {
    for (const f of frames) this.ws.send(f);
  }

  /** Sends JSON commands, one frame each. */
  sendJson(...commands: object[]): void {
    this.send(...commands.map((c) => JSON.stringify(c)));
  }

  override close(): void {
    this.ws.terminate();
  }
}

/** Logs in over text mode and reads the welcome line. */
export async function textUser(port: number, name: string): Promise<LineClient> {
  const c = await LineClient.open(port);
  c.send(name);
  const welcome = await c.line();
  if (!welcome.startsWith(`* welcome, ${name}!`)) throw new Error(`no welcome: ${welcome}`);
  return c;
}

/** Logs in over JSON mode and reads the welcome reply. */
export async function jsonUser(port: number, name: string): Promise<LineClient> {
  const c = await LineClient.open(port);
  await loginJson(c, name);
  return c;
}

/** Logs in a WebSocket client in JSON mode and reads the welcome reply. */
export async function wsUser(port: number, name: string): Promise<WsClient> {
  const c = await WsClient.open(port);
  await loginJson(c, name);
  return c;
}

async function loginJson(c: LineClient | WsClient, name: string): Promise<void> {
  c.sendJson({ type: "login", name });
  const welcome = await c.json();
  if (welcome.type !== "welcome") throw new Error(`no welcome: ${JSON.stringify(welcome)}`);
}

/**
 * Asks `who` (of everyone, or of a room) until the answer lists `name`: for what crosses a
 * cluster's bus, which arrives on the other nodes a little later. JSON mode only; what
 * else arrives meanwhile is skipped.
 */
export async function seen(
  c: LineClient | WsClient,
  name: string,
  room?: string,
  ms = 5000,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    c.sendJson(
      room === undefined ? { type: "who", id: "seen" } : { type: "who", room, id: "seen" },
    );
    let reply = await c.json();
    while (reply.re !== "seen") reply = await c.json();
    if (Array.isArray(reply.users) && reply.users.includes(name)) return;
    if (Date.now() > deadline) throw new Error(`${name} never showed up: ${JSON.stringify(reply)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
