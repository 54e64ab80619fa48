import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, test } from "vitest";
import { startRelay } from "../support/server.ts";
import { client, closeClients, inbox, transportTo, until } from "./e2e-support.ts";

const running: ChildProcess[] = [];

afterEach(async () => {
  await closeClients();
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

/** The command lines that run the example as docs/client.md says. */
const commands = {
  node: [process.execPath, "--import", "tsx"],
  deno: ["./node_modules/deno/deno", "run", "--allow-net"],
};

/** Starts examples/echo-bot.ts; resolves once it says it is in its room. */
async function startBot(runtime: "node" | "deno", url: string) {
  const [command, ...args] = commands[runtime];
  const child = spawn(command as string, [...args, "examples/echo-bot.ts", url, "#echo"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  running.push(child);
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bot said nothing: ${stderr}`)), 20_000);
    exited.then((code) => reject(new Error(`the bot exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      if (line === "echo is in #echo") {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { child, exited };
}

test("docs/client.md shows examples/echo-bot.ts as it is", () => {
  const bot = readFileSync("examples/echo-bot.ts", "utf8");
  expect(readFileSync("docs/client.md", "utf8")).toContain(`\`\`\`ts\n${bot}\`\`\``);
});

describe.each(["node", "deno"] as const)("examples/echo-bot.ts on %s", (runtime) => {
  test("answers in its room and in private, and leaves cleanly on SIGTERM", async () => {
    const relay = await startRelay();
    const bot = await startBot(runtime, `ws://127.0.0.1:${relay.httpPort}/ws`);
    const ann = client({ transport: transportTo("ws", relay), name: "ann" });
    const got = inbox(ann);
    const gone: string[] = [];
    ann.on("presence", (p) => {
      if (p.status === "offline") gone.push(p.name);
    });
    await ann.connect();
    await ann.request({ type: "join", room: "#echo" });
    await ann.request({ type: "msg", to: "#echo", text: "hello room" });
    await ann.request({ type: "msg", to: "echo", text: "hello bot" });
    await until(() => got.length === 2, "two answers");
    expect(got.map((m) => `${m.from} to ${m.to}: ${m.text}`)).toEqual([
      "echo to #echo: ann said: hello room",
      "echo to ann: ann said: hello bot",
    ]);
    bot.child.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
    await until(() => gone.includes("echo"), "the bot to go offline");
  }, 40_000);
});
