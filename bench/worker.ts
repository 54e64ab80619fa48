// A load-generator worker process: holds a share of the clients, sends at the rate it is
// told, and reports how many messages arrived and how late (a latency histogram).
import { connect, type Socket } from "node:net";
import WebSocket from "ws";
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

interface Client {
  /** WebSocket: one frame per line. */
  frames: boolean;
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
        frames: false,
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
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const client: Client = {
        frames: true,
        write: (d) => ws.send(d),
        close: () => ws.terminate(),
      };
      ws.on("message", (data) => handle(client, data.toString()));
      ws.once("open", () => {
        clients[index] = client;
        for (const frame of dialect.login(name, room).split("\n")) if (frame) ws.send(frame);
      });
      ws.once("error", reject);
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
        if (!client.frames) {
          client.write(data);
          continue;
        }
        for (const frame of data.split("\n")) if (frame) client.write(frame);
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
