import { connect, type Socket } from "node:net";

/**
 * A line-oriented TCP client for tests: what it receives is split into lines and waited for
 * with `line()`; `json()` parses the next line.
 */
export class LineClient {
  readonly socket: Socket;
  readonly #lines: string[] = [];
  #partial = "";
  #waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (data: string) => {
      const parts = (this.#partial + data).split("\n");
      this.#partial = parts.pop() ?? "";
      this.#lines.push(...parts);
      this.#wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
    socket.on("error", () => {});
  }

  /** Connects to a TCP port on loopback. */
  static open(port: number, host = "127.0.0.1"): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new LineClient(socket)));
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

  /** The next line; fails after `ms` without one, or if the connection closes first. */
  async line(ms = 5000): Promise<string> {
    const deadline = Date.now() + ms;
    while (this.#lines.length === 0) {
      if (this.closed) throw new Error("connection closed while waiting for a line");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for a line");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
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
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.#lines.splice(0);
  }

  /** Lines received and not yet read. */
  get pending(): number {
    return this.#lines.length;
  }

  close(): void {
    this.socket.destroy();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
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
  c.sendJson({ type: "login", name });
  const welcome = await c.json();
  if (welcome.type !== "welcome") throw new Error(`no welcome: ${JSON.stringify(welcome)}`);
  return c;
}
