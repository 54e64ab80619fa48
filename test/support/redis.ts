import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";

/** A real redis-server of its own, on a free loopback port, keeping nothing on disk. */
export interface RedisServer {
  url: string;
  port: number;
  /** A client of this server; closed by `stop`. */
  client(): Redis;
  stop(): Promise<void>;
}

/** A free TCP port on loopback, as the kernel picks one. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function launch(port: number): Promise<ChildProcess> {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
    child.stdout?.on("data", (d) => {
      out += d;
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve(child);
      }
    });
  });
}

/** Starts redis-server (Debian's package) on a free port; retries if the port was taken. */
export async function startRedis(): Promise<RedisServer> {
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; !child; attempt++) {
    port = await freePort();
    child = await launch(port).catch((e: unknown) => {
      if (attempt >= 4) throw e;
      return undefined;
    });
  }
  const running = child;
  const clients: Redis[] = [];
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    client() {
      const client = new Redis(port, "127.0.0.1");
      clients.push(client);
      return client;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      const exited = new Promise((resolve) => running.once("exit", resolve));
      running.kill("SIGKILL");
      await exited;
    },
  };
}
