// Starts the servers under test as child processes, on free loopback ports.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { startRedis } from "../test/support/redis.ts";

/** A server being measured. */
export interface Server {
  pid: number;
  tcp: string;
  /** Every node's TCP address, when the server is a cluster of several. */
  nodes?: string[];
  ws: string | null;
  /** The relay's IRC port (tcp://host:port), when it has one open. */
  irc?: string;
  stop(): Promise<void>;
}

/** Resident memory of a process, in bytes. */
export async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

function stopper(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill(signal);
    });
}

/**
 * Waits for the "tcp/irc/http listening on" lines a relay prints (or "socketio", the
 * Socket.IO server's); fails at once, saying how, if the process ends before (killed from
 * outside, or an error at start), and stops it if it has not listened within 30 s.
 */
function listening(
  child: ChildProcess,
  want: ("tcp" | "irc" | "http" | "socketio")[],
): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const found: Record<string, number> = {};
    const exited = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      reject(new Error(`server ${child.pid} ended before listening (${signal ?? `exit ${code}`})`));
    };
    const timer = setTimeout(() => {
      child.off("exit", exited);
      child.kill("SIGKILL"); // not left running after the bench
      reject(new Error("server did not start"));
    }, 30_000);
    child.once("exit", exited);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const m = /(tcp|irc|http|socketio) listening on \S+:(\d+)/.exec(line);
      if (m) found[m[1] as string] = Number(m[2]);
      if (want.every((w) => found[w] !== undefined)) {
        clearTimeout(timer);
        child.off("exit", exited);
        resolve(found);
      }
    });
  });
}

const RELAY_ENV = {
  RELAY_TCP_PORT: "0",
  RELAY_HTTP_PORT: "0",
  RELAY_STORE: "memory",
  RELAY_IRC_PORT: "0",
  RELAY_RATE_LIMIT: "0",
  RELAY_MAX_CONNECTIONS: "20000",
};

/**
 * The relay on Node or Deno, with its TCP, HTTP/WebSocket and IRC ports (the IRC one unless
 * `env` turns it off). On Node, `node.flags` go to the runtime (`--cpu-prof`) and
 * `node.stopSignal` stops it (SIGINT lets it exit cleanly and write its profile).
 */
export async function startRelay(
  runtime: "node" | "deno",
  env: Record<string, string> = {},
  node: { flags?: string[]; stopSignal?: NodeJS.Signals } = {},
): Promise<Server> {
  const command =
    runtime === "node"
      ? [process.execPath, ...(node.flags ?? []), "--import", "tsx", "adapters/node/main.ts"]
      : ["node_modules/deno/deno", "run", "-A", "--unstable-kv", "adapters/deno/main.ts"];
  const merged = { ...process.env, ...RELAY_ENV, ...env };
  const child = spawn(command[0] as string, command.slice(1), {
    env: merged,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const irc = merged.RELAY_IRC_PORT !== "off";
  const ports = await listening(child, irc ? ["tcp", "irc", "http"] : ["tcp", "http"]);
  return {
    pid: child.pid as number,
    tcp: `tcp://127.0.0.1:${ports.tcp}`,
    ws: `ws://127.0.0.1:${ports.http}/ws`,
    ...(irc ? { irc: `tcp://127.0.0.1:${ports.irc}` } : {}),
    stop: stopper(child, node.stopSignal),
  };
}

/**
 * The relay on Node with the store `npm start` uses when RELAY_STORE is not set, a Deno KV
 * file, here a fresh one in a temporary directory for each start (removed when it stops), so
 * that no run reads what an earlier one wrote and ./data is left alone.
 */
export async function startRelayKv(
  env: Record<string, string> = {},
  node: { flags?: string[]; stopSignal?: NodeJS.Signals } = {},
): Promise<Server> {
  const dir = await mkdtemp(join(tmpdir(), "bench-relay-kv-"));
  const removeDir = () => rm(dir, { recursive: true, force: true });
  let server: Server;
  try {
    server = await startRelay("node", { ...env, RELAY_STORE: join(dir, "relay.kv") }, node);
  } catch (e) {
    await removeDir();
    throw e;
  }
  return {
    ...server,
    stop: async () => {
      await server.stop();
      await removeDir();
    },
  };
}

/** Two relay nodes on Node sharing a fresh redis-server (store and bus). */
export async function startCluster(): Promise<Server> {
  const redis = await startRedis();
  const env = { RELAY_STORE: redis.url, RELAY_BUS: redis.url };
  const nodes = [await startRelay("node", env), await startRelay("node", env)];
  return {
    pid: nodes[0]?.pid as number,
    tcp: nodes[0]?.tcp as string,
    nodes: nodes.map((n) => n.tcp),
    ws: null,
    stop: async () => {
      for (const n of nodes) await n.stop();
      await redis.stop();
    },
  };
}

/** The naive Node relay of bench/naive-relay.ts. */
export async function startNaive(): Promise<Server> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/naive-relay.ts", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ports = await listening(child, ["tcp"]);
  return {
    pid: child.pid as number,
    tcp: `tcp://127.0.0.1:${ports.tcp}`,
    ws: null,
    stop: stopper(child),
  };
}

/**
 * The Socket.IO 4 server of bench/socketio-server.ts; `ws` is its address for
 * socket.io-client (ws://host:port), `tcp` is empty.
 */
export async function startSocketIo(): Promise<Server> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/socketio-server.ts", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ports = await listening(child, ["socketio"]);
  return {
    pid: child.pid as number,
    tcp: "",
    ws: `ws://127.0.0.1:${ports.socketio}`,
    stop: stopper(child),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function accepting(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("ngircd did not start");
}

/** ngircd, the C IRC server, configured to relay without throttling on loopback only. */
export async function startNgircd(): Promise<Server> {
  const dir = await mkdtemp(join(tmpdir(), "bench-ngircd-"));
  const port = await freePort();
  const conf = join(dir, "ngircd.conf");
  await writeFile(
    conf,
    `[Global]
Name = bench.local
Info = relay benchmark baseline
Listen = 127.0.0.1
Ports = ${port}
MotdPhrase = bench
PidFile = ${join(dir, "ngircd.pid")}
ServerUID = root
ServerGID = root
[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxNickLength = 32
MaxPenaltyTime = 0
PingTimeout = 600
PongTimeout = 600
[Options]
DNS = no
Ident = no
PAM = no
`,
  );
  const child = spawn("ngircd", ["-n", "-f", conf], { stdio: ["ignore", "ignore", "ignore"] });
  await accepting(port);
  return {
    pid: child.pid as number,
    tcp: `tcp://127.0.0.1:${port}`,
    ws: null,
    stop: stopper(child),
  };
}
