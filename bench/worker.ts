// A load-generator worker process: holds a share of the clients, sends at the rate it is
// told, and reports how many messages arrived and how late (a latency histogram).

import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { DIALECTS, type Dialect, type DialectName } from "./dialects.ts";
import { BIN_MS, BINS } from "./histogram.ts";
import { type BenchClient, openSocketIo } from "./socketio-client.ts";

/** What the parent asks of a worker. */
export type WorkerCommand =
  | {
      cmd: "connect";
      dialect: DialectName;
      /** tcp://host:port or ws://host:port/ws (ws://host:port for Socket.IO) */
      url: string;
      names: string[];
      room: string | null;
      /** How many connections may be logging in at once. */
      parallel: number;
    }
  | {
      cmd: "run";
      /** For each sending client (by index in `names`): where its messages go. */
      senders: { index: number; to: string }[];
      /** Messages per second, all this worker's senders together. */
      rate: number;
      durationMs: number;
    }
  | { cmd: "close" };

/** What a worker answers. */
export type WorkerReply =
  | { kind: "connected"; ms: number }
  | { kind: "ran"; sent: number; received: number; histogram: [number, number][] }
  | { kind: "error"; message: string };

/**
 * Client frames for each line of `lines`: text frames, masked with a zero key (a valid key
 * that leaves the payload as it is, which is all a load generator needs).
 */
function clientFrames(lines: string): Buffer {
  const parts: Buffer[] = [];
  for (const line of lines.split("\n")) {
    if (!line) continue;
    const payload = Buffer.from(line);
    const n = payload.length;
    const header = Buffer.alloc(n < 126 ? 6 : 8);
    header[0] = 0x81;
    if (n < 126) header[1] = 0x80 | n;
    else {
      header[1] = 0x80 | 126;
      header.writeUInt16BE(n, 2);
    }
    parts.push(header, payload);
  }
  return Buffer.concat(parts);
}

/** Reads whole server frames from `data`, hands text ones to `text`; returns the rest. */
function serverFrames(data: Buffer, text: (t: string) => void): Buffer {
  let at = 0;
  for (;;) {
    if (data.length - at < 2) break;
    const opcode = (data[at] as number) & 0x0f;
    let n = (data[at + 1] as number) & 0x7f;
    let start = at + 2;
    if (n === 126) {
      if (data.length - at < 4) break;
      n = data.readUInt16BE(at + 2);
      start = at + 4;
    } else if (n === 127) {
      if (data.length - at < 10) break;
      n = Number(data.readBigUInt64BE(at + 2));
      start = at + 10;
    }
    if (data.length < start + n) break;
    if (opcode === 1) text(data.toString("utf8", start, start + n));
    at = start + n;
  }
  return data.subarray(at);
}

const clients: BenchClient[] = [];
let dialect: Dialect;
let received = 0;
const histogram = new Uint32Array(BINS);

const now = () => performance.timeOrigin + performance.now();

/** Counts a chat message that arrived, by how late it is (its text is when it was sent). */
function arrived(text: string): void {
  received++;
  const ms = now() - Number(text);
  const bin = Math.min(BINS - 1, Math.max(0, Math.floor(ms / BIN_MS)));
  histogram[bin] = (histogram[bin] as number) + 1;
}

function onLine(line: string, write: (data: string) => void): void {
  const text = dialect.text(line);
  if (text !== null) return arrived(text);
  const reply = dialect.keepalive(line);
  if (reply) write(reply);
}

/** A client of a line dialect: what `send` queues goes out in one write at `flush`. */
function lineClient(write: (data: string) => void, close: () => void): BenchClient {
  let queued = "";
  return {
    send: (to, text) => {
      queued += dialect.message(to, text);
    },
    flush: () => {
      if (queued) write(queued);
      queued = "";
    },
    close,
  };
}

/**
 * Opens one line-dialect client over TCP (tcp://) or WebSocket (ws://), logs it in and
 * resolves with it once the dialect says it is ready.
 */
function open(url: string, room: string | null, name: string): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    let ready = false;
    const handle = (client: BenchClient, line: string, write: (data: string) => void) => {
      if (!ready && dialect.ready(line, room)) {
        ready = true;
        resolve(client);
        return;
      }
      onLine(line, write);
    };
    if (url.startsWith("tcp://")) {
      const { hostname, port } = new URL(url);
      const socket: Socket = connect(Number(port), hostname);
      const write = (d: string) => void socket.write(d);
      const client = lineClient(write, () => socket.destroy());
      socket.setNoDelay(true);
      socket.setEncoding("utf8");
      let partial = "";
      socket.on("data", (data: string) => {
        const lines = (partial + data).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines)
          handle(client, line.endsWith("\r") ? line.slice(0, -1) : line, write);
      });
      socket.once("connect", () => {
        socket.write(dialect.login(name, room));
      });
      socket.once("error", reject);
    } else {
      const { hostname, port, pathname } = new URL(url);
      const socket: Socket = connect(Number(port), hostname);
      socket.setNoDelay(true);
      // A WebSocket client by hand: the `ws` package costs more per frame than the server
      // under test spends relaying it, and this process shares the cores with that server.
      const write = (d: string) => void socket.write(clientFrames(d));
      const client = lineClient(write, () => socket.destroy());
      let upgraded = false;
      let pending: Buffer = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        if (!upgraded) {
          const end = pending.indexOf("\r\n\r\n");
          if (end === -1) return;
          if (!pending.subarray(0, 12).toString().includes(" 101"))
            return reject(new Error("no upgrade"));
          upgraded = true;
          pending = pending.subarray(end + 4);
          write(dialect.login(name, room));
        }
        pending = serverFrames(pending, (text) => handle(client, text, write));
      });
      socket.once("connect", () => {
        socket.write(
          `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
            `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n\r\n`,
        );
      });
      socket.once("error", reject);
    }
  });
}

async function connectAll(c: Extract<WorkerCommand, { cmd: "connect" }>): Promise<WorkerReply> {
  if (c.dialect !== "socketio") dialect = DIALECTS[c.dialect];
  const start = now();
  let next = 0;
  const lane = async () => {
    while (next < c.names.length) {
      const index = next++;
      // A server under a storm of connections may reset one: try again, a few times.
      for (let attempt = 1; ; attempt++) {
        try {
          const name = c.names[index] as string;
          clients[index] =
            c.dialect === "socketio"
              ? await openSocketIo(c.url, name, c.room, arrived)
              : await open(c.url, c.room, name);
          break;
        } catch (e) {
          if (attempt === 5) throw e;
          await new Promise((r) => setTimeout(r, 100 * attempt));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: c.parallel }, lane));
  return { kind: "connected", ms: now() - start };
}

async function run(c: Extract<WorkerCommand, { cmd: "run" }>): Promise<WorkerReply> {
  received = 0;
  histogram.fill(0);
  const start = now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = now() - start;
      const due = Math.floor((c.rate * Math.min(elapsed, c.durationMs)) / 1000);
      // What each sender owes goes out in one write (for a line dialect).
      const touched = new Set<BenchClient>();
      for (; sent < due; sent++) {
        const s = c.senders[sent % c.senders.length] as { index: number; to: string };
        const client = clients[s.index] as BenchClient;
        client.send(s.to, now().toFixed(3));
        touched.add(client);
      }
      for (const client of touched) client.flush();
      if (elapsed >= c.durationMs) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  // Drain: wait until nothing more arrives for half a second (at most 5 s).
  const drainEnd = now() + 5000;
  let last = -1;
  while (received !== last && now() < drainEnd) {
    last = received;
    await new Promise((r) => setTimeout(r, 500));
  }
  const bins: [number, number][] = [];
  histogram.forEach((n, i) => {
    if (n > 0) bins.push([i, n]);
  });
  return { kind: "ran", sent, received, histogram: bins };
}

process.on("message", async (c: WorkerCommand) => {
  try {
    if (c.cmd === "connect") process.send?.(await connectAll(c));
    else if (c.cmd === "run") process.send?.(await run(c));
    else {
      for (const client of clients) client.close();
      process.exit(0);
    }
  } catch (e) {
    process.send?.({ kind: "error", message: String(e) });
  }
});
