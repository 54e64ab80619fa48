import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { afterEach } from "vitest";

/** A relay running in its own process, as a user would start it. */
export interface RelayProcess {
  child: ChildProcess;
  tcpPort: number;
  httpPort: number;
  /** The IRC port, when `env` turned it on (`RELAY_IRC_PORT: "0"`); else 0. */
  ircPort: number;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Sends a signal and resolves with the exit code. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code once the process ends by itself. */
  exited: Promise<number | null>;
}

/**
 * The command line that starts the relay on a runtime: what `npm start` runs, and the
 * `deno task start` line of deno.json run directly (so a signal reaches the server itself),
 * with the permissions that task asks for.
 */
export function relayCommand(runtime: "node" | "deno"): string[] {
  if (runtime === "node") return [process.execPath, "--import", "tsx", "adapters/node/main.ts"];
  const tasks = JSON.parse(readFileSync("deno.json", "utf8")).tasks as Record<string, string>;
  return (tasks.start as string).split(" ");
}

const running: RelayProcess[] = [];

/**
 * Starts a relay process on free ports and waits for its listening lines. The IRC port is
 * off unless `env` asks for it (`RELAY_IRC_PORT: "0"`).
 */
export async function spawnRelay(
  runtime: "node" | "deno",
  env: Record<string, string> = {},
): Promise<RelayProcess> {
  const relay = await launch(runtime, env);
  running.push(relay);
  return relay;
}

/**
 * Like {@link spawnRelay}, but the relay outlives each test: for a `beforeAll` that shares
 * one process among a describe's tests. The caller stops it (`kill`) in its `afterAll`.
 */
export function spawnSharedRelay(
  runtime: "node" | "deno",
  env: Record<string, string> = {},
): Promise<RelayProcess> {
  return launch(runtime, env);
}

async function launch(
  runtime: "node" | "deno",
  env: Record<string, string>,
): Promise<RelayProcess> {
  const [command, ...args] = relayCommand(runtime);
  const child = spawn(command as string, args, {
    env: {
      ...process.env,
      RELAY_TCP_PORT: "0",
      RELAY_HTTP_PORT: "0",
      RELAY_STORE: "memory",
      RELAY_IRC_PORT: "off",
      NO_COLOR: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const wantIrc = env.RELAY_IRC_PORT !== undefined && env.RELAY_IRC_PORT !== "off";
  const ports = await new Promise<{ tcp: number; http: number; irc: number }>((resolve, reject) => {
    const found: { tcp?: number; http?: number; irc?: number } = {};
    const timer = setTimeout(
      () => reject(new Error(`no listening lines; stderr: ${stderr}`)),
      30_000,
    );
    exited.then((code) => reject(new Error(`exited with ${code}; stderr: ${stderr}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const m = /(tcp|http|irc) listening on \S+:(\d+)/.exec(line);
      if (m) found[m[1] as "tcp" | "http" | "irc"] = Number(m[2]);
      if (
        found.http !== undefined &&
        (found.tcp !== undefined || env.RELAY_TCP_PORT === "off") &&
        (found.irc !== undefined || !wantIrc)
      ) {
        clearTimeout(timer);
        resolve({ tcp: found.tcp ?? 0, http: found.http, irc: found.irc ?? 0 });
      }
    });
  });
  const relay: RelayProcess = {
    child,
    tcpPort: ports.tcp,
    httpPort: ports.http,
    ircPort: ports.irc,
    stderr: () => stderr,
    exited,
    kill: (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  return relay;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.kill("SIGKILL")));
});
