// The connect bench: N idle logged-in clients, and what each one costs the server in
// resident memory, for the relay over TCP and WebSocket on Node and Deno beside servers that
// do nothing but hold sockets (the floor a runtime sets) and ngircd. Node and Deno servers
// run with their inspector on a loopback port, through which the bench asks for a full
// garbage collection before it reads the RSS "after GC". Loopback only; every server it
// starts is killed at the end of its row.
//
// Run alone: node --import tsx bench/connect.ts [--quick] [--only relay-node-tcp,...]
//   [--n 5000] [--repeat 3] [--env RELAY_RATE_LIMIT=20,...]
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import { rss, startNgircd } from "./servers.ts";

/** What a row's clients speak once connected. */
type Speech = "relay" | "irc" | "bare";

/** A server under measure. */
interface Running {
  pid: number;
  /** Where clients connect: tcp://host:port or ws://host:port/ws. */
  url: string;
  /** The inspector's WebSocket, to ask for a garbage collection; null for ngircd. */
  inspector: string | null;
  stop(): Promise<void>;
}

/** One server measured. */
interface Row {
  /** Short name, for `--only`. */
  id: string;
  label: string;
  speech: Speech;
  /**
   * Starts the server for `n` clients (`env`: more settings for the relay); null when it
   * cannot run here (not installed).
   */
  start(n: number, env: Record<string, string>): Promise<Running> | null;
  /** RSS per connection the row must stay under (bytes), if it has a target. */
  target?: number;
}

/** What a row measured. */
interface Measured {
  row: Row;
  /** Time to log every client in (ms); null when the row did not run. */
  ms: number | null;
  /** Resident memory with no client (bytes), after the warm-up and a garbage collection. */
  empty: number;
  /** Resident memory per connection 1 s after the last login (bytes). */
  prompt: number;
  /** Resident memory per connection after a full garbage collection (bytes). */
  collected: number;
  /** The JS heap in use per connection after a full garbage collection (bytes); null for ngircd. */
  heap: number | null;
  /** Why the row did not run, or where it stopped. */
  note?: string;
}

/** The servers started and not yet stopped (stopped too when the bench is interrupted). */
const running = new Set<Running>();

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

const INSPECT = "--inspect=127.0.0.1:0";
const NODE = [process.execPath, INSPECT, "-e"];
const DENO = ["node_modules/deno/deno", "eval", INSPECT];

/**
 * Starts a server with its inspector on; resolves once it printed where `want` listens and
 * where its inspector does.
 */
function startServer(
  command: string[],
  env: Record<string, string>,
  want: "tcp" | "http",
): Promise<Running> {
  const child = spawn(command[0] as string, command.slice(1), {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let at: string | null = null;
    let inspector: string | null = null;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("server did not start"));
    }, 30_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server ended (exit ${code})`));
    });
    const ready = () => {
      if (at === null || inspector === null) return;
      clearTimeout(timer);
      const url = want === "tcp" ? `tcp://${at}` : `ws://${at}/ws`;
      resolve({ pid: child.pid as number, url, inspector, stop: () => kill(child) });
    };
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const m = new RegExp(`${want} listening on (\\S+)`).exec(line);
      if (m) at = m[1] as string;
      ready();
    });
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => {
      const m = /Debugger listening on (ws:\S+)/.exec(line);
      if (m) inspector = m[1] as string;
      // The inspector's own news (listening, attached, help) is not the server's.
      else if (!/^Debugger |inspector|chrome:\/\/inspect/.test(line)) console.error(line);
      ready();
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

/**
 * The relay for idle clients, as bench/servers.ts starts it (no rate limit, a memory
 * store), with no presence (as the old connect section) and room for `n` clients.
 */
function relay(
  runtime: "node" | "deno",
  want: "tcp" | "http",
  n: number,
  env: Record<string, string>,
): Promise<Running> {
  const command =
    runtime === "node"
      ? [process.execPath, INSPECT, "--import", "tsx", "adapters/node/main.ts"]
      : ["node_modules/deno/deno", "run", "-A", "--unstable-kv", INSPECT, "adapters/deno/main.ts"];
  const settings = {
    RELAY_TCP_PORT: "0",
    RELAY_HTTP_PORT: "0",
    RELAY_IRC_PORT: "off",
    RELAY_STORE: "memory",
    RELAY_RATE_LIMIT: "0",
    RELAY_PRESENCE: "off",
    RELAY_MAX_CONNECTIONS: String(n + WARMUP + 100),
    ...env,
  };
  return startServer(command, settings, want);
}

async function ngircd(): Promise<Running> {
  const server = await startNgircd();
  return { pid: server.pid, url: server.tcp, inspector: null, stop: server.stop };
}

function installed(program: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${program}`]).status === 0;
}

const ROWS: Row[] = [
  {
    id: "ngircd",
    label: "ngircd (C, IRC)",
    speech: "irc",
    start: () => (installed("ngircd") ? ngircd() : null),
  },
  {
    id: "bare-node-tcp",
    label: "bare Node net server",
    speech: "bare",
    start: () => startServer([...NODE, BARE_NODE_TCP], {}, "tcp"),
  },
  {
    id: "bare-deno-tcp",
    label: "bare Deno.listen loop",
    speech: "bare",
    start: () => startServer([...DENO, BARE_DENO_TCP], {}, "tcp"),
  },
  {
    id: "relay-node-tcp",
    label: "relay (Node, TCP)",
    speech: "relay",
    start: (n, env) => relay("node", "tcp", n, env),
    target: 5.5 * 1024,
  },
  {
    id: "relay-deno-tcp",
    label: "relay (Deno, TCP)",
    speech: "relay",
    start: (n, env) => relay("deno", "tcp", n, env),
    target: 9 * 1024,
  },
  {
    id: "bare-node-ws",
    label: "bare ws server (Node)",
    speech: "bare",
    start: () => startServer([...NODE, BARE_NODE_WS], {}, "http"),
  },
  {
    id: "bare-deno-ws",
    label: "bare Deno.upgradeWebSocket",
    speech: "bare",
    start: () => startServer([...DENO, BARE_DENO_WS], {}, "http"),
  },
  {
    id: "relay-node-ws",
    label: "relay (Node, WebSocket)",
    speech: "relay",
    start: (n, env) => relay("node", "http", n, env),
  },
  {
    id: "relay-deno-ws",
    label: "relay (Deno, WebSocket)",
    speech: "relay",
    start: (n, env) => relay("deno", "http", n, env),
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
      // A server under a storm of connections may reset one: try again, a few times.
      for (let attempt = 1; ; attempt++) {
        try {
          sockets[i] = await open(url, speech, `${prefix}${i}`);
          break;
        } catch (e) {
          if (attempt === 5) throw e;
          await sleep(100 * attempt);
        }
      }
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

/** The JS heap in use, as the runtime tells it (Node and Deno alike). */
const HEAP_USED = '(typeof Deno === "object" ? Deno : process).memoryUsage().heapUsed';

/**
 * Asks a server, through its inspector, for a full garbage collection (twice: what the
 * first frees may let more go), gives it half a second to hand pages back, and returns
 * its JS heap in use; null for a server without an inspector (ngircd).
 */
async function collectGarbage(inspector: string | null): Promise<number | null> {
  if (inspector === null) return null;
  const ws = new WebSocket(inspector);
  let next = 0;
  const ask = (method: string, params: object = {}) => {
    const id = ++next;
    const answer = new Promise<unknown>((resolve) =>
      ws.on("message", (data) => {
        const reply = JSON.parse(String(data)) as { id?: number; result?: unknown };
        if (reply.id === id) resolve(reply.result);
      }),
    );
    ws.send(JSON.stringify({ id, method, params }));
    return answer;
  };
  try {
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    await ask("HeapProfiler.collectGarbage");
    await ask("HeapProfiler.collectGarbage");
    await sleep(500);
    const used = (await ask("Runtime.evaluate", { expression: HEAP_USED })) as {
      result: { value: number };
    };
    return used.result.value;
  } finally {
    ws.close();
  }
}

/**
 * Measures one row: a warm-up of `WARMUP` clients that log in and leave (so that code loaded
 * and compiled at the first login is not counted per connection), the RSS empty after a
 * garbage collection, `n` clients logged in and idle, the RSS 1 s later, and again after a
 * garbage collection.
 */
async function measure(row: Row, n: number, env: Record<string, string>): Promise<Measured> {
  const none = { row, ms: null, empty: 0, prompt: 0, collected: 0, heap: null };
  const starting = row.start(n, env);
  if (!starting) return { ...none, note: "not installed" };
  const server = await starting;
  running.add(server);
  let sockets: Socket[] = [];
  try {
    closeAll(await openAll(server.url, row.speech, "w", WARMUP));
    await sleep(1000);
    const heapEmpty = await collectGarbage(server.inspector);
    const empty = await rss(server.pid);
    const started = performance.now();
    sockets = await openAll(server.url, row.speech, "u", n);
    const ms = performance.now() - started;
    await sleep(1000);
    const prompt = (await rss(server.pid)) - empty;
    const heapFull = await collectGarbage(server.inspector);
    const collected = (await rss(server.pid)) - empty;
    const heap = heapFull === null || heapEmpty === null ? null : (heapFull - heapEmpty) / n;
    return { row, ms, empty, prompt: prompt / n, collected: collected / n, heap };
  } catch (e) {
    return { ...none, note: `failed: ${String(e)}` };
  } finally {
    closeAll(sockets);
    await server.stop();
    running.delete(server);
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

/** The median of each figure over the runs of a row that ran; the first run if none did. */
function medians(runs: Measured[]): Measured {
  const good = runs.filter((m) => m.ms !== null);
  if (good.length === 0) return runs[0] as Measured;
  return {
    row: (good[0] as Measured).row,
    ms: median(good.map((m) => m.ms as number)),
    empty: median(good.map((m) => m.empty)),
    prompt: median(good.map((m) => m.prompt)),
    collected: median(good.map((m) => m.collected)),
    heap: good.some((m) => m.heap === null) ? null : median(good.map((m) => m.heap as number)),
  };
}

/** Whether a row meets its target, 1 s after the logins and after a garbage collection. */
function verdict(m: Measured): string {
  const target = m.row.target;
  if (!target) return "";
  const says = (x: number) => (x <= target ? "met" : "NOT met");
  return `at most ${kb(target)}: ${says(m.prompt)} at 1 s, ${says(m.collected)} after GC`;
}

/**
 * Runs the connect bench and prints its table: for each server, the time to log in `n`
 * idle clients (10,000, or 2,000 when `quick`), its RSS before, and its RSS per connection
 * 1 s after the logins and after a full garbage collection, with the targets of the relay's
 * TCP rows. `only` picks rows by id; `repeat` takes the median of that many runs of each
 * row; `env` adds settings to the relay's.
 */
export async function connectBench(opts: {
  quick: boolean;
  only?: string[];
  n?: number;
  repeat?: number;
  env?: Record<string, string>;
}): Promise<void> {
  const n = opts.n ?? (opts.quick ? 2000 : 10_000);
  const repeat = opts.repeat ?? 1;
  const rows = ROWS.filter((r) => !opts.only || opts.only.includes(r.id));
  const results: Measured[] = [];
  for (const row of rows) {
    const runs: Measured[] = [];
    for (let i = 0; i < repeat; i++) {
      const m = await measure(row, n, opts.env ?? {});
      runs.push(m);
      if (m.ms === null) break;
    }
    results.push(medians(runs));
  }
  const settings = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
  table(
    `connect: ${n} clients log in and stay idle (after ${WARMUP} came and went)${
      repeat > 1 ? `, medians of ${repeat}` : ""
    }${settings.length > 0 ? `; relay with ${settings.join(" ")}` : ""}`,
    [
      "server",
      "time to log all in",
      "RSS before",
      "RSS per connection, 1 s after",
      "after GC",
      "JS heap after GC",
      "target",
    ],
    results.map((m) => {
      if (m.ms === null) return [m.row.label, m.note ?? "-", "-", "-", "-", "-", "-"];
      return [
        m.row.label,
        `${Math.round(m.ms)} ms`,
        `${(m.empty / 2 ** 20).toFixed(0)} MB`,
        kb(m.prompt),
        kb(m.collected),
        m.heap === null ? "-" : kb(m.heap),
        verdict(m),
      ];
    }),
  );
  console.log(
    '\n"after GC": after a full garbage collection, asked of the server through its inspector (not ngircd)',
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, async () => {
      await Promise.all([...running].map((server) => server.stop()));
      process.exit(130);
    });
  }
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean" },
      only: { type: "string" },
      n: { type: "string" },
      repeat: { type: "string" },
      env: { type: "string" },
    },
  });
  await connectBench({
    quick: values.quick === true,
    ...(values.only && { only: values.only.split(",") }),
    ...(values.n && { n: Number(values.n) }),
    ...(values.repeat && { repeat: Number(values.repeat) }),
    ...(values.env && {
      env: Object.fromEntries(values.env.split(",").map((kv) => kv.split("=", 2))),
    }),
  });
}
