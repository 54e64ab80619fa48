// A load-generator worker process: holds a share of the clients, sends at the rate it is
// told, and reports how many messages arrived and how late (a latency histogram).

import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { DIALECTS, type Dialect, type DialectName } from "./dialects.ts";
import { BIN_MS, BINS } from "./histogram.ts";

/** What the parent asks of a worker. */
export type WorkerCommand =
  | {
      cmd: "connect";
      dialect: DialectName;
      /** tcp://host:port or ws://host:port/ws */
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

interface Client {
  write(data: string): void;
  close(): void;
}

const clients: Client[] = [];
let dialect: Dialect;
let received = 0;
const histogram = new Uint32Array(BINS);

const now = () => performance.timeOrigin + performance.now();

function onLine(client: Client, line: string): void {
  const text = dialect.text(line);
  if (text !== null) {
    received++;
    const ms = now() - Number(text);
    const bin = Math.min(BINS - 1, Math.max(0, Math.floor(ms / BIN_MS)));
    histogram[bin] = (histogram[bin] as number) + 1;
    return;
  }
  const reply = dialect.keepalive(line);
  if (reply) client.write(reply);
}

function open(url: string, room: string | null, name: string, index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let ready = false;
    const handle = (client: Client, line: string) => {
      if (!ready && dialect.ready(line, room)) {
        ready = true;
        resolve();
        return;
      }
      onLine(client, line);
    };
    if (url.startsWith("tcp://")) {
      const { hostname, port } = new URL(url);
      const socket: Socket = connect(Number(port), hostname);
      const client: Client = {
        write: (d) => socket.write(d),
        close: () => socket.destroy(),
      };
      socket.setNoDelay(true);
      socket.setEncoding("utf8");
      let partial = "";
      socket.on("data", (data: string) => {
        const lines = (partial + data).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) handle(client, line.endsWith("\r") ? line.slice(0, -1) : line);
      });
      socket.once("connect", () => {
        clients[index] = client;
        socket.write(dialect.login(name, room));
      });
      socket.once("error", reject);
    } else {
      const { hostname, port, pathname } = new URL(url);
      const socket: Socket = connect(Number(port), hostname);
      socket.setNoDelay(true);
      // A WebSocket client by hand: the `ws` package costs more per frame than the server
      // under test spends relaying it, and this process shares the cores with that server.
      const client: Client = {
        write: (d) => socket.write(clientFrames(d)),
        close: () => socket.destroy(),
      };
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
          clients[index] = client;
          client.write(dialect.login(name, room));
        }
        pending = serverFrames(pending, (text) => handle(client, text));
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
  dialect = DIALECTS[c.dialect];
  const start = now();
  let next = 0;
  const lane = async () => {
    while (next < c.names.length) {
      const index = next++;
      // A server under a storm of connections may reset one: try again, a few times.
      for (let attempt = 1; ; attempt++) {
        try {
          await open(c.url, c.room, c.names[index] as string, index);
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
      // Batch what each sender owes into one write.
      const batches = new Map<number, string>();
      for (; sent < due; sent++) {
        const s = c.senders[sent % c.senders.length] as { index: number; to: string };
        const line = dialect.message(s.to, now().toFixed(3));
        batches.set(s.index, (batches.get(s.index) ?? "") + line);
      }
      for (const [index, data] of batches) {
        const client = clients[index] as Client;
        client.write(data);
      }
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
