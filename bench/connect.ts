// The connect bench: N idle logged-in clients, and what each one costs the server in
// resident memory, for the relay over TCP and WebSocket on Node and Deno beside servers that
// do nothing but hold sockets (the floor a runtime sets) and ngircd. Loopback only; every
// server it starts is killed at the end of its row.
//
// Run alone: node --import tsx bench/connect.ts [--quick] [--only relay-node-tcp,...]
//   [--n 5000] [--repeat 3]
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { rss, type Server, startNgircd, startRelay } from "./servers.ts";

/** What a row's clients speak once connected. */
type Speech = "relay" | "irc" | "bare";

/** One server measured. */
interface Row {
  /** Short name, for `--only`. */
  id: string;
  label: string;
  transport: "tcp" | "ws";
  speech: Speech;
  /** Starts the server for `n` clients; null when it cannot run here (not installed). */
  start(n: number): Promise<Server> | null;
  /** RSS per connection the row must stay under (bytes), if it has a target. */
  target?: number;
}

/** What a row measured. */
interface Measured {
  row: Row;
  /** Time to log every client in (ms); null when the row did not run. */
  ms: number | null;
  /** Resident memory with no client (bytes, after the warm-up). */
  empty: number;
  /** Resident memory per idle logged-in connection (bytes). */
  perConn: number;
  /** Why the row did not run, or where it stopped. */
  note?: string;
}

/** Clients that log in and leave before the empty server is measured. */
const WARMUP = 200;
/** Logins under way at once. */
const PARALLEL = 100;

// The baselines: servers that only hold sockets, reading (and dropping) what comes, with one
// line (or message) in answer to the first bytes, as a login is answered.
const BARE_NODE_TCP = `
const net = require("node:net");
const server = net.createServer((socket) => {
  let first = true;
  socket.on("error", () => {});
  socket.on("data", () => { if (first) { first = false; socket.write("ok\\n"); } });
});
server.listen(0, "127.0.0.1", () => console.log("tcp listening on 127.0.0.1:" + server.address().port));
`;
const BARE_DENO_TCP = `
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log("tcp listening on 127.0.0.1:" + listener.addr.port);
const ok = new TextEncoder().encode("ok\\n");
async function serve(conn) {
  const buffer = new Uint8Array(1024);
  let first = true;
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      if (first) { first = false; await conn.write(ok); }
    }
  } catch {}
  try { conn.close(); } catch {}
}
for await (const conn of listener) serve(conn);
`;
const BARE_NODE_WS = `
const { WebSocketServer } = require("ws");
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
wss.on("connection", (ws) => ws.once("message", () => ws.send("ok")));
wss.on("listening", () => console.log("http listening on 127.0.0.1:" + wss.address().port));
`;
const BARE_DENO_WS = `
Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log("http listening on 127.0.0.1:" + port),
}, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  let first = true;
  socket.onmessage = () => { if (first) { first = false; socket.send("ok"); } };
  return response;
});
`;

/** Runs a baseline's source with `command`; resolves once it prints where it listens. */
function startBare(command: string[], source: string): Promise<Server> {
  const child = spawn(command[0] as string, [...command.slice(1), source], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("baseline did not start"));
    }, 30_000);
    child.once("exit", (code) => reject(new Error(`baseline ended (exit ${code})`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const m = /(tcp|http) listening on (\S+)/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      const at = m[2] as string;
      resolve({
        pid: child.pid as number,
        tcp: `tcp://${at}`,
        ws: `ws://${at}/ws`,
        stop: () => kill(child),
      });
    });
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

const NODE = [process.execPath, "-e"];
const DENO = ["node_modules/deno/deno", "eval"];

/** The relay for idle clients: no presence (as the old section), a memory store, room for n. */
function relay(runtime: "node" | "deno", n: number): Promise<Server> {
  return startRelay(runtime, {
    RELAY_PRESENCE: "off",
    RELAY_STORE: "memory",
    RELAY_MAX_CONNECTIONS: String(n + WARMUP + 100),
  });
}

function installed(program: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${program}`]).status === 0;
}

const ROWS: Row[] = [
  {
    id: "ngircd",
    label: "ngircd (C, IRC)",
    transport: "tcp",
    speech: "irc",
    start: () => (installed("ngircd") ? startNgircd() : null),
  },
  {
    id: "bare-node-tcp",
    label: "bare Node net server",
    transport: "tcp",
    speech: "bare",
    start: () => startBare(NODE, BARE_NODE_TCP),
  },
  {
    id: "bare-deno-tcp",
    label: "bare Deno.listen loop",
    transport: "tcp",
    speech: "bare",
    start: () => startBare(DENO, BARE_DENO_TCP),
  },
  {
    id: "relay-node-tcp",
    label: "relay (Node, TCP)",
    transport: "tcp",
    speech: "relay",
    start: (n) => relay("node", n),
    target: 5.5 * 1024,
  },
  {
    id: "relay-deno-tcp",
    label: "relay (Deno, TCP)",
    transport: "tcp",
    speech: "relay",
    start: (n) => relay("deno", n),
    target: 9 * 1024,
  },
  {
    id: "bare-node-ws",
    label: "bare ws server (Node)",
    transport: "ws",
    speech: "bare",
    start: () => startBare(NODE, BARE_NODE_WS),
  },
  {
    id: "bare-deno-ws",
    label: "bare Deno.upgradeWebSocket",
    transport: "ws",
    speech: "bare",
    start: () => startBare(DENO, BARE_DENO_WS),
  },
  {
    id: "relay-node-ws",
    label: "relay (Node, WebSocket)",
    transport: "ws",
    speech: "relay",
    start: (n) => relay("node", n),
  },
  {
    id: "relay-deno-ws",
    label: "relay (Deno, WebSocket)",
    transport: "ws",
    speech: "relay",
    start: (n) => relay("deno", n),
  },
];

/** What a client sends to log in as `name`. */
function login(speech: Speech, name: string): string {
  if (speech === "irc") return `NICK ${name}\r\nUSER ${name} 0 * :${name}\r\n`;
  if (speech === "relay") return `{"type":"login","name":"${name}"}\n`;
  return "hello\n";
}

/** Whether what a client has received so far says it is logged in. */
function loggedIn(speech: Speech, received: string): boolean {
  if (speech === "irc") return / 001 /.test(received);
  if (speech === "relay") return received.includes('"type":"welcome"');
  return received.length > 0;
}

/** A masked client text frame (zero key) for each line of `text`. */
function clientFrames(text: string): Buffer {
  const parts: Buffer[] = [];
  for (const line of text.split("\n")) {
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

function ignore(): void {}

/**
 * Opens one client and logs it in; resolves with its socket once the server answered. IRC
 * clients answer PING to stay. What arrives later is read and dropped.
 */
function open(url: string, speech: Speech, name: string): Promise<Socket> {
  const { hostname, port, pathname, protocol } = new URL(url);
  const ws = protocol === "ws:";
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = "";
    let upgraded = !ws;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${name}: no answer in 30 s`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (!upgraded) {
        const end = received.indexOf("\r\n\r\n");
        if (end === -1) return;
        if (!received.startsWith("HTTP/1.1 101")) {
          socket.destroy();
          return reject(new Error(`${name}: no upgrade: ${received.slice(0, 40)}`));
        }
        upgraded = true;
        received = received.slice(end + 4);
        socket.write(clientFrames(login(speech, name)));
      }
      if (!loggedIn(speech, received)) return;
      clearTimeout(timer);
      socket.off("data", onData);
      socket.on("data", (more: Buffer) => {
        if (speech !== "irc") return;
        const ping = /^PING (.*)$/m.exec(more.toString("latin1"));
        if (ping) socket.write(`PONG ${ping[1]}\r\n`);
      });
      resolve(socket);
    };
    socket.on("data", onData);
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.once("connect", () => {
      socket.setNoDelay(true);
      if (ws) {
        socket.write(
          `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
            `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n\r\n`,
        );
      } else {
        socket.write(login(speech, name));
      }
    });
  });
}

/** Logs in the clients `prefix0`… up to `n`, `PARALLEL` at a time; all or an error. */
async function openAll(url: string, speech: Speech, prefix: string, n: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      sockets[i] = await open(url, speech, `${prefix}${i}`);
      sockets[i]?.on("error", ignore);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, n) }, lane));
  return sockets;
}

function closeAll(sockets: (Socket | undefined)[]): void {
  for (const s of sockets) s?.destroy();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The server's RSS once it stopped moving: read each second until two agree within 1% (at most 6 s). */
async function settledRss(pid: number): Promise<number> {
  let last = await rss(pid);
  for (let i = 0; i < 6; i++) {
    await sleep(1000);
    const now = await rss(pid);
    if (Math.abs(now - last) <= last * 0.01) return now;
    last = now;
  }
  return last;
}

/**
 * Measures one row: a warm-up of `WARMUP` clients that log in and leave (so that code loaded
 * and compiled at the first login is not counted per connection), the settled RSS, `n`
 * clients logged in and idle, the settled RSS again.
 */
async function measure(row: Row, n: number): Promise<Measured> {
  const starting = row.start(n);
  if (!starting) return { row, ms: null, empty: 0, perConn: 0, note: "not installed" };
  const server = await starting;
  const url = row.transport === "tcp" ? server.tcp : (server.ws as string);
  let sockets: Socket[] = [];
  try {
    closeAll(await openAll(url, row.speech, "w", WARMUP));
    await sleep(500);
    const empty = await settledRss(server.pid);
    const started = performance.now();
    sockets = await openAll(url, row.speech, "u", n);
    const ms = performance.now() - started;
    const full = await settledRss(server.pid);
    return { row, ms, empty, perConn: (full - empty) / n };
  } catch (e) {
    return { row, ms: null, empty: 0, perConn: 0, note: `failed: ${String(e)}` };
  } finally {
    closeAll(sockets);
    await server.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function table(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const r of rows) console.log(line(r));
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/**
 * Runs the connect bench and prints its table: for each server, the time to log in `n`
 * idle clients (10,000, or 2,000 when `quick`), its RSS before, and its RSS per connection,
 * with the targets of the relay's TCP rows. `only` picks rows by id; `repeat` takes the
 * median of that many runs of each row.
 */
export async function connectBench(opts: {
  quick: boolean;
  only?: string[];
  n?: number;
  repeat?: number;
}): Promise<void> {
  const n = opts.n ?? (opts.quick ? 2000 : 10_000);
  const repeat = opts.repeat ?? 1;
  const rows = ROWS.filter((r) => !opts.only || opts.only.includes(r.id));
  const results: Measured[] = [];
  for (const row of rows) {
    const runs: Measured[] = [];
    for (let i = 0; i < repeat; i++) {
      const m = await measure(row, n);
      runs.push(m);
      if (m.ms === null) break;
    }
    const good = runs.filter((m) => m.ms !== null);
    if (good.length === 0) results.push(runs[0] as Measured);
    else
      results.push({
        row,
        ms: median(good.map((m) => m.ms as number)),
        empty: median(good.map((m) => m.empty)),
        perConn: median(good.map((m) => m.perConn)),
      });
  }
  table(
    `connect: ${n} clients log in and stay idle (after ${WARMUP} came and went)${
      repeat > 1 ? `, medians of ${repeat}` : ""
    }`,
    ["server", "time to log all in", "RSS before", "RSS per connection", "target"],
    results.map(({ row, ms, empty, perConn, note }) => {
      if (ms === null) return [row.label, note ?? "-", "-", "-", "-"];
      const target = row.target
        ? `at most ${kb(row.target)}: ${perConn <= row.target ? "met" : "NOT met"}`
        : "";
      return [
        row.label,
        `${Math.round(ms)} ms`,
        `${(empty / 1024 / 1024).toFixed(0)} MB`,
        kb(perConn),
        target,
      ];
    }),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean" },
      only: { type: "string" },
      n: { type: "string" },
      repeat: { type: "string" },
    },
  });
  await connectBench({
    quick: values.quick === true,
    ...(values.only && { only: values.only.split(",") }),
    ...(values.n && { n: Number(values.n) }),
    ...(values.repeat && { repeat: Number(values.repeat) }),
  });
}
