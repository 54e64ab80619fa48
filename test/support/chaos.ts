/**
 * Support for the chaos test of a cluster (test/system/chaos.test.ts): a redis-server that
 * keeps its data across restarts, relay processes that can be SIGKILLed and started again,
 * JSON clients that reconnect and resume (PROTOCOL.md §11), and the bookkeeping that says
 * which accepted message reached whom, how often and in which order.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { relayCommand } from "./process.ts";

// --- small tools ---

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A seeded pseudo-random generator (mulberry32), so that a run's choices can be replayed. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A whole number in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }

  /** A shuffled copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
}

/** A free TCP port on loopback, as the kernel picks one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Keeps the last `n` lines of a stream, and never lets the stream block its writer. */
function tail(stream: NodeJS.ReadableStream | null, n: number, onLine?: (line: string) => void) {
  const lines: string[] = [];
  if (stream) {
    createInterface({ input: stream }).on("line", (line) => {
      lines.push(line);
      if (lines.length > n) lines.shift();
      onLine?.(line);
    });
  }
  return lines;
}

// --- Redis, spoken directly (RESP) so that no client library reconnects behind our back ---

export type Resp = string | number | null | Error | Resp[];

/** Parses one RESP value at `at`; undefined while the buffer holds only part of it. */
function parseResp(buf: Buffer, at: number): [Resp, number] | undefined {
  const eol = buf.indexOf("\r\n", at);
  if (eol < 0) return undefined;
  const head = buf.toString("utf8", at + 1, eol);
  const next = eol + 2;
  switch (String.fromCharCode(buf[at] as number)) {
    case "+":
      return [head, next];
    case "-":
      return [new Error(head), next];
    case ":":
      return [Number(head), next];
    case "$": {
      const len = Number(head);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return undefined;
      return [buf.toString("utf8", next, next + len), next + len + 2];
    }
    case "*": {
      const len = Number(head);
      if (len < 0) return [null, next];
      const items: Resp[] = [];
      let pos = next;
      for (let i = 0; i < len; i++) {
        const item = parseResp(buf, pos);
        if (!item) return undefined;
        items.push(item[0]);
        pos = item[1];
      }
      return [items, pos];
    }
    default:
      throw new Error(`not RESP: ${buf.toString("utf8", at, eol)}`);
  }
}

/** Sends one command to a redis-server on its own connection and returns the reply. */
export function redisCommand(port: number, ...args: string[]): Promise<Resp> {
  const frame = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis ${args.join(" ")}: no reply`));
    }, 5000);
    socket.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const parsed = parseResp(buf, 0);
      if (!parsed) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(parsed[0]);
    });
    socket.write(frame);
  });
}

/**
 * A redis-server that keeps every write on disk before it answers (`appendonly yes`,
 * `appendfsync always`), so that stopping it (SIGTERM) and starting it again on the same
 * port and directory loses nothing.
 */
export class DurableRedis {
  readonly dir = mkdtempSync(join(tmpdir(), "relay-chaos-redis-"));
  port = 0;
  #child: ChildProcess | undefined;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts on a free port the first time, then on the same port (and directory) again. */
  async start(): Promise<void> {
    const first = this.port === 0;
    for (let attempt = 0; ; attempt++) {
      if (first) this.port = await freePort();
      try {
        this.#child = await this.#launch();
        return;
      } catch (e) {
        if (attempt >= 20) throw e;
        await sleep(250);
      }
    }
  }

  #launch(): Promise<ChildProcess> {
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--save",
      "",
      "--daemonize",
      "no",
    ];
    const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    return new Promise((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`redis-server did not start: ${out}`));
      }, 15_000);
      child.once("error", reject);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
      child.stdout?.on("data", (d) => {
        if (out.length < 20_000) out += d;
        if (out.includes("Ready to accept connections")) {
          clearTimeout(timer);
          child.stdout?.removeAllListeners("data");
          child.stdout?.resume();
          resolve(child);
        }
      });
      child.stderr?.resume();
    });
  }

  /** Stops it the way an operator does (SIGTERM: the append-only file is flushed first). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }

  /** For the end of the test: gone at once, and its directory with it. */
  async destroy(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Sends one command. */
  command(...args: string[]): Promise<Resp> {
    return redisCommand(this.port, ...args);
  }
}

// --- relay processes ---

/** One relay process of the cluster. */
export interface RelayNode {
  label: string;
  runtime: "node" | "deno";
  child: ChildProcess;
  tcpPort: number;
  exited: Promise<number | null>;
  /** The last lines it wrote to stderr. */
  stderr: string[];
  alive(): boolean;
  /** Sends a signal and resolves once it exited. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

const children = new Set<ChildProcess>();

/** Starts a relay on free ports and resolves once it listens; a failed start leaves nothing running. */
export async function startRelay(
  runtime: "node" | "deno",
  label: string,
  env: Record<string, string>,
): Promise<RelayNode> {
  const [command, ...args] = relayCommand(runtime);
  const child = spawn(command as string, args, {
    env: {
      ...process.env,
      RELAY_TCP_PORT: "0",
      RELAY_HTTP_PORT: "0",
      RELAY_IRC_PORT: "off",
      NO_COLOR: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  const kill = (signal: NodeJS.Signals = "SIGKILL") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  const stderr = tail(child.stderr, 40);
  let tcp: number | undefined;
  let http: number | undefined;
  const listening = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no listening lines in 30 s")), 30_000);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}`));
    });
    tail(child.stdout, 40, (line) => {
      const m = /(tcp|http) listening on \S+:(\d+)/.exec(line);
      if (m?.[1] === "tcp") tcp = Number(m[2]);
      if (m?.[1] === "http") http = Number(m[2]);
      if (tcp !== undefined && http !== undefined) {
        clearTimeout(timer);
        resolve(tcp);
      }
    });
  });
  try {
    const tcpPort = await listening;
    return {
      label: `${label}:${tcpPort}`,
      runtime,
      child,
      tcpPort,
      exited,
      stderr,
      alive: () => child.exitCode === null && child.signalCode === null,
      kill,
    };
  } catch (e) {
    await kill("SIGKILL");
    throw new Error(
      `${label} (${runtime}) did not start: ${(e as Error).message}; stderr: ${stderr.join("\n")}`,
    );
  }
}

/** SIGKILLs every relay process started here that still runs. */
export async function killAllRelays(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    ),
  );
}

// --- clients ---

type Frame = Record<string, unknown>;

/** A JSON-mode TCP connection: replies go to whoever waits for them, the rest to `onEvent`. */
class Wire {
  closed = false;
  readonly done: Promise<void>;
  #partial = "";
  #pending: { re: string; resolve: (reply: Frame | "closed" | "timeout") => void } | undefined;

  private constructor(
    readonly socket: Socket,
    readonly conn: number,
    onEvent: (frame: Frame, wire: Wire) => void,
  ) {
    socket.setEncoding("utf8");
    socket.setNoDelay(true);
    socket.on("data", (data: string) => {
      const parts = (this.#partial + data).split("\n");
      this.#partial = parts.pop() ?? "";
      for (const part of parts) {
        if (part.trim() === "") continue;
        let frame: Frame;
        try {
          frame = JSON.parse(part);
        } catch {
          frame = { type: "unparsable", line: part };
        }
        const pending = this.#pending;
        if (pending && typeof frame.re === "string" && frame.re === pending.re) {
          this.#pending = undefined;
          pending.resolve(frame);
        } else {
          onEvent(frame, this);
        }
      }
    });
    this.done = new Promise((resolve) => {
      socket.on("close", () => {
        this.closed = true;
        const pending = this.#pending;
        this.#pending = undefined;
        pending?.resolve("closed");
        resolve();
      });
    });
    socket.on("error", () => {});
  }

  /** Connects to a TCP port on loopback, giving up after `ms`. */
  static open(
    port: number,
    conn: number,
    onEvent: (frame: Frame, wire: Wire) => void,
    ms = 3000,
  ): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error("connect timed out"));
      }, ms);
      socket.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        resolve(new Wire(socket, conn, onEvent));
      });
    });
  }

  /** Sends one command and waits for its reply (one at a time). */
  request(command: Frame & { id: string }, ms: number): Promise<Frame | "closed" | "timeout"> {
    if (this.closed) return Promise.resolve("closed");
    if (this.#pending) throw new Error("one request at a time");
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.#pending?.re === command.id) this.#pending = undefined;
        resolve("timeout");
      }, ms);
      this.#pending = {
        re: command.id,
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
      };
      this.socket.write(`${JSON.stringify(command)}\n`);
    });
  }

  /** Closes at once: from now on the connection counts as gone (its close event comes later). */
  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }
}

/** Where a client may connect: a live relay's TCP port. */
export interface Target {
  port: number;
  label: string;
}

/** A `message` event as one client got it. */
export interface Delivery {
  id: string;
  from: string;
  to: string;
  text: string;
  how: "live" | "queued" | "replay";
  conn: number;
  /** Seconds since the chaos began. */
  at: number;
}

/** A message a client sent, and what became of it as far as the sender knows. */
export interface Sent {
  from: string;
  seq: number;
  to: string;
  text: string;
  /** ok: its `ok` came; error: refused; unknown: the connection went before the reply. */
  status: "pending" | "ok" | "error" | "unknown";
  id?: string;
  queued?: boolean;
  error?: string;
  node: string;
  conn: number;
  at: number;
  repliedAt?: number;
}

/** One logged-in connection of a client. */
export interface ConnRecord {
  conn: number;
  node: string;
  at: number;
  how: "password" | "session";
  since?: string;
  replayed?: unknown;
  gap?: unknown;
  rooms: string[];
  closedAt?: number;
}

/** How long a command may wait for its reply before the client gives up on the connection. */
const REPLY_MS = 15_000;

/**
 * A chat user that keeps talking through faults: sends one message at a time, records every
 * message it gets, and when its connection goes, logs in again elsewhere with its session
 * and `since` (PROTOCOL.md §11), falling back to its password.
 */
export class ChaosClient {
  readonly deliveries: Delivery[] = [];
  readonly sent: Sent[] = [];
  readonly conns: ConnRecord[] = [];
  readonly stats = {
    sessionLogins: 0,
    passwordLogins: 0,
    passwordFallbacks: 0,
    loginFailures: {} as Record<string, number>,
    stalls: 0,
    gaps: 0,
    roomsMissing: 0,
    byes: {} as Record<string, number>,
    strayFrames: 0,
    /** Messages that came with an id below one already seen (a resume would skip such). */
    idInversions: 0,
  };
  session: string | undefined;
  /** The newest (greatest) message id seen: what `since` says at the next login. */
  newest: string | undefined;
  /** Ends every loop of this client (the test is over). */
  stopped = false;
  /** The node the client is on (label), for the reports. */
  node = "";
  #wire: Wire | undefined;
  #conns = 0;
  #seq = 0;

  constructor(
    readonly name: string,
    readonly password: string,
    readonly rooms: readonly string[],
    readonly rng: Rng,
    /** Seconds since the chaos began. */
    readonly clock: () => number,
  ) {}

  get online(): boolean {
    return this.#wire !== undefined && !this.#wire.closed;
  }

  /** Notes an id seen (a message, or the `ok` of the client's own message before the chaos). */
  see(id: string): void {
    if (this.newest === undefined || id > this.newest) this.newest = id;
  }

  #onEvent(frame: Frame, wire: Wire): void {
    if (frame.type === "message" && typeof frame.id === "string") {
      this.deliveries.push({
        id: frame.id,
        from: String(frame.from),
        to: String(frame.to),
        text: String(frame.text),
        how: frame.replay === true ? "replay" : frame.queued === true ? "queued" : "live",
        conn: wire.conn,
        at: this.clock(),
      });
      if (this.newest !== undefined && frame.id < this.newest) this.stats.idInversions++;
      this.see(frame.id);
    } else if (frame.type === "bye") {
      const reason = String(frame.reason);
      this.stats.byes[reason] = (this.stats.byes[reason] ?? 0) + 1;
    } else if (!["presence", "joined", "left", "announce"].includes(String(frame.type))) {
      this.stats.strayFrames++;
    }
  }

  #fail(code: string): void {
    this.stats.loginFailures[code] = (this.stats.loginFailures[code] ?? 0) + 1;
  }

  /**
   * Logs in (again) while `keepGoing()` holds: to a node `pick` chooses, with the session and
   * `since` once it has them. Resolves with whether the client is online.
   */
  async connect(pick: () => Target | undefined, keepGoing: () => boolean): Promise<boolean> {
    let backoff = 100;
    while (!this.online) {
      if (this.stopped || !keepGoing()) return false;
      const target = pick();
      if (target && (await this.#login(target))) return true;
      await sleep(backoff + this.rng.int(0, backoff));
      backoff = Math.min(backoff * 2, 2000);
    }
    return true;
  }

  async #login(target: Target): Promise<boolean> {
    const conn = ++this.#conns;
    let wire: Wire;
    try {
      wire = await Wire.open(target.port, conn, (f, w) => this.#onEvent(f, w));
    } catch {
      this.#fail("connect");
      return false;
    }
    if (this.stopped) {
      wire.destroy();
      return false;
    }
    const since = this.newest;
    const login = (credential: { session: string } | { password: string }) =>
      wire.request(
        { type: "login", id: "login", name: this.name, ...credential, ...(since ? { since } : {}) },
        10_000,
      );
    let how: "session" | "password" = "password";
    let reply: Frame | "closed" | "timeout";
    if (this.session !== undefined) {
      how = "session";
      reply = await login({ session: this.session });
      if (
        typeof reply === "object" &&
        reply.type === "error" &&
        reply.code === "auth_failed" &&
        !/store|try again/i.test(String(reply.message))
      ) {
        // The session was refused as such: the password still proves who we are.
        this.stats.passwordFallbacks++;
        how = "password";
        reply = await login({ password: this.password });
      }
    } else {
      reply = await login({ password: this.password });
    }
    if (typeof reply === "object" && reply.type === "welcome") {
      if (typeof reply.session === "string") this.session = reply.session;
      if (how === "session") this.stats.sessionLogins++;
      else this.stats.passwordLogins++;
      const rooms = Array.isArray(reply.rooms) ? reply.rooms.map(String) : [];
      const missing = this.rooms.some(
        (r) => !rooms.some((got) => got.toLowerCase() === r.toLowerCase()),
      );
      // (The first login comes before the joins.)
      if (this.conns.length > 0 && missing) {
        this.stats.roomsMissing++;
      }
      if (reply.gap === true) this.stats.gaps++;
      const record: ConnRecord = {
        conn,
        node: target.label,
        at: this.clock(),
        how,
        ...(since ? { since } : {}),
        replayed: reply.replayed,
        gap: reply.gap,
        rooms,
      };
      this.conns.push(record);
      this.node = target.label;
      this.#wire = wire;
      wire.done.then(() => {
        record.closedAt = this.clock();
      });
      return true;
    }
    this.#fail(typeof reply === "object" ? String(reply.code ?? reply.type) : reply);
    wire.destroy();
    return false;
  }

  /** Sends one command on the current connection and waits for its reply. */
  async command(command: Frame & { id: string }): Promise<Frame | "closed" | "timeout"> {
    const wire = this.#wire;
    if (!wire) return "closed";
    return wire.request(command, REPLY_MS);
  }

  /** Sends `<name>#<seq>` to a user or a room and waits for the reply (or the loss of the connection). */
  async send(to: string): Promise<Sent | undefined> {
    const wire = this.#wire;
    if (!wire || wire.closed) return undefined;
    const seq = ++this.#seq;
    const text = `${this.name}#${seq}`;
    const sent: Sent = {
      from: this.name,
      seq,
      to,
      text,
      status: "pending",
      node: this.node,
      conn: wire.conn,
      at: this.clock(),
    };
    this.sent.push(sent);
    const reply = await wire.request({ type: "msg", id: `m${seq}`, to, text }, REPLY_MS);
    sent.repliedAt = this.clock();
    if (reply === "closed") {
      sent.status = "unknown";
    } else if (reply === "timeout") {
      sent.status = "unknown";
      this.stats.stalls++;
      wire.destroy();
    } else if (reply.type === "ok" && typeof reply.id === "string") {
      sent.status = "ok";
      sent.id = reply.id;
      if (reply.queued === true) sent.queued = true;
    } else if (reply.type === "error") {
      sent.status = "error";
      sent.error = String(reply.code);
    } else {
      sent.status = "error";
      sent.error = `unexpected reply ${JSON.stringify(reply)}`;
    }
    return sent;
  }

  /**
   * The ids of the client's conversation with `withWhom` (a user or a room) as `history`
   * gives them, paging back until `downTo` is covered (or the log's start, `oldest`, since
   * a log keeps only its newest RELAY_HISTORY messages); or what went wrong.
   */
  async historyIds(
    withWhom: string,
    downTo: string,
  ): Promise<{ ids: Set<string>; oldest: string } | string> {
    const ids = new Set<string>();
    let reached = "~";
    let before: string | undefined;
    for (let page = 0; page < 20; page++) {
      const reply = await this.command({
        type: "history",
        id: "history",
        with: withWhom,
        limit: 200,
        ...(before ? { before } : {}),
      });
      if (typeof reply !== "object") return reply;
      if (reply.type !== "history" || !Array.isArray(reply.messages)) {
        return String(reply.code ?? reply.type);
      }
      const messages = reply.messages as Frame[];
      for (const m of messages) if (typeof m.id === "string") ids.add(m.id);
      const oldest = messages[0]?.id;
      if (typeof oldest === "string" && oldest < reached) reached = oldest;
      if (reply.more !== true || typeof oldest !== "string" || oldest <= downTo) break;
      before = oldest;
    }
    return { ids, oldest: reached };
  }

  /** Drops the connection, as a network fault would (no quit). */
  drop(): void {
    this.#wire?.destroy();
  }

  /** Ends everything this client does. */
  close(): void {
    this.stopped = true;
    this.drop();
  }
}

// --- the verdict ---

/** One (message, recipient) that should have arrived and did not. */
export interface Lost {
  message: Sent;
  recipient: string;
  /**
   * Whether the recipient's `history` holds it (kept, but never delivered); a string when
   * that cannot be told (the log no longer reaches back so far, or history failed).
   */
  inHistory?: boolean | string;
}

/** Asks each recipient's `history` whether its lost messages were kept in the log after all. */
export async function checkHistory(clients: ChaosClient[], lost: Lost[]): Promise<void> {
  const byPair = new Map<string, Lost[]>();
  for (const l of lost) {
    const withWhom = l.message.to.startsWith("#") ? l.message.to : l.message.from;
    const key = `${l.recipient} ${withWhom}`;
    byPair.set(key, [...(byPair.get(key) ?? []), l]);
  }
  for (const [key, list] of byPair) {
    const [recipient, withWhom] = key.split(" ") as [string, string];
    const client = clients.find((c) => c.name === recipient);
    const downTo = list.map((l) => l.message.id ?? "~").sort()[0] ?? "~";
    const log = client ? await client.historyIds(withWhom, downTo) : "no such client";
    for (const l of list) {
      const id = l.message.id ?? "";
      if (typeof log === "string") l.inHistory = log;
      else if (log.ids.has(id)) l.inHistory = true;
      else l.inHistory = id < log.oldest ? "older than the log reaches" : false;
    }
  }
}

export interface Doubled {
  recipient: string;
  text: string;
  ids: string[];
  hows: string[];
}

/** A message that came after a later one of the same sender. */
export interface Disorder {
  recipient: string;
  sender: string;
  seq: number;
  after: number;
  /** The late delivery, and the earlier delivery of the later message. */
  late: Delivery;
  earlier: Delivery | undefined;
}

export interface Analysis {
  sent: number;
  ok: number;
  queued: number;
  unknown: number;
  errors: Record<string, number>;
  /** (ok message, recipient) pairs that should be delivered. */
  expected: number;
  delivered: number;
  lost: Lost[];
  doubled: Doubled[];
  outOfOrder: Disorder[];
  /** Deliveries of messages the sender never got an answer for (allowed, once). */
  unknownDelivered: number;
  /** Deliveries that break something else: wrong recipient, id other than the ok's, a refused message. */
  anomalies: string[];
}

const CHAOS_TEXT = /^([a-z]+)#(\d+)$/;

/**
 * What the clients' records say: every ok'd message must have reached each of its recipients
 * (the user; every member of the room but the sender) exactly once, and each recipient must
 * have got each sender's messages in the order sent.
 */
export function analyze(clients: ChaosClient[], members: Map<string, Set<string>>): Analysis {
  const sentByText = new Map<string, Sent>();
  for (const c of clients) for (const s of c.sent) sentByText.set(s.text, s);
  const recipientsOf = (s: Sent): string[] =>
    s.to.startsWith("#") ? [...(members.get(s.to) ?? [])].filter((n) => n !== s.from) : [s.to];

  const a: Analysis = {
    sent: 0,
    ok: 0,
    queued: 0,
    unknown: 0,
    errors: {},
    expected: 0,
    delivered: 0,
    lost: [],
    doubled: [],
    outOfOrder: [],
    unknownDelivered: 0,
    anomalies: [],
  };
  for (const s of sentByText.values()) {
    a.sent++;
    if (s.status === "ok") a.ok++;
    if (s.queued) a.queued++;
    if (s.status === "unknown" || s.status === "pending") a.unknown++;
    if (s.status === "error") a.errors[s.error ?? "?"] = (a.errors[s.error ?? "?"] ?? 0) + 1;
  }

  // Per recipient: the deliveries of each chaos message, in order of arrival.
  const got = new Map<string, Map<string, Delivery[]>>();
  for (const c of clients) {
    const mine = new Map<string, Delivery[]>();
    got.set(c.name, mine);
    const lastSeq = new Map<string, number>();
    const lastOf = new Map<string, Delivery>();
    for (const d of c.deliveries) {
      const m = CHAOS_TEXT.exec(d.text);
      if (!m) continue; // the message of the setup
      if (d.from === c.name) continue; // one's own message, replayed by a resume
      const sender = m[1] as string;
      const seq = Number(m[2]);
      const list = mine.get(d.text) ?? [];
      list.push(d);
      mine.set(d.text, list);
      if (list.length > 1) continue; // counted as doubled below
      const s = sentByText.get(d.text);
      if (!s || sender !== d.from) {
        a.anomalies.push(`${c.name} got ${d.text} (id ${d.id}) from ${d.from}, never sent so`);
        continue;
      }
      if (!recipientsOf(s).includes(c.name) || s.to !== d.to) {
        a.anomalies.push(`${c.name} got ${d.text} (id ${d.id}, to ${d.to}) meant for ${s.to}`);
      }
      if (s.status === "ok" && s.id !== d.id) {
        a.anomalies.push(`${c.name} got ${d.text} as id ${d.id}; its ok said ${s.id}`);
      }
      if (s.status === "error") {
        a.anomalies.push(`${c.name} got ${d.text} (id ${d.id}), refused with ${s.error}`);
      }
      if (s.status === "unknown") {
        // Its sender never learnt whether it was kept (the node died before answering):
        // it may come, late or never, and orders nothing.
        a.unknownDelivered++;
        continue;
      }
      const last = lastSeq.get(sender) ?? 0;
      if (seq < last) {
        a.outOfOrder.push({
          recipient: c.name,
          sender,
          seq,
          after: last,
          late: d,
          earlier: lastOf.get(sender),
        });
      } else {
        lastSeq.set(sender, seq);
        lastOf.set(sender, d);
      }
    }
    for (const [text, list] of mine) {
      if (list.length > 1) {
        a.doubled.push({
          recipient: c.name,
          text,
          ids: list.map((d) => d.id),
          hows: list.map((d) => `${d.how}@conn${d.conn}/${d.at.toFixed(1)}s`),
        });
      }
    }
  }

  for (const s of sentByText.values()) {
    if (s.status !== "ok") continue;
    for (const r of recipientsOf(s)) {
      a.expected++;
      if (got.get(r)?.has(s.text)) a.delivered++;
      else a.lost.push({ message: s, recipient: r });
    }
  }
  a.lost.sort((x, y) => x.message.at - y.message.at);
  return a;
}
