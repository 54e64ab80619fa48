import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, test } from "vitest";
import { seen, WsClient, wsUser } from "../support/client.ts";

const LEASE_SECONDS = 2;
const DENO = "./node_modules/deno/deno";

let running: ChildProcess | null = null;
afterEach(() => {
  running?.kill("SIGKILL");
  running = null;
});

/**
 * Two isolates of the edge entry (Workers in one Deno process, with the permissions of
 * `deno task deploy`, but reading anywhere, as a Worker loads its modules) sharing a fresh
 * KV file; resolves to their HTTP ports.
 */
async function isolates(): Promise<{ ports: number[]; stop: (i: number) => void }> {
  await mkdir("data", { recursive: true });
  const store = join(await mkdtemp("data/test-deploy-"), "relay.kv");
  const flags = ["--unstable-kv", "--allow-net", "--allow-env", "--allow-read"];
  const child = spawn(
    DENO,
    ["run", ...flags, "--allow-write=./data", "test/support/deploy-isolates.ts", "2"],
    {
      env: {
        ...process.env,
        RELAY_STORE: store,
        RELAY_HTTP_PORT: "0",
        RELAY_LEASE: String(LEASE_SECONDS),
        NO_COLOR: "1",
      },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  running = child;
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const ports = await new Promise<number[]>((resolve, reject) => {
    const found: number[] = [];
    const timer = setTimeout(() => reject(new Error(`isolates did not listen: ${stderr}`)), 30_000);
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const m = /http listening on \S+:(\d+)/.exec(line);
      if (m) found.push(Number(m[1]));
      if (found.length === 2) {
        clearTimeout(timer);
        resolve(found);
      }
    });
  });
  return { ports, stop: (i) => child.stdin?.write(`stop ${i}\n`) };
}

describe("the edge entry: two isolates sharing a BroadcastChannel and one KV file", () => {
  test("users on different isolates chat privately and in rooms; names are unique", async () => {
    const { ports } = await isolates();
    const [one, two] = ports as [number, number];
    const alice = await wsUser(one, "alice");
    const bob = await WsClient.open(two);
    bob.sendJson({ type: "login", name: "Alice" }, { type: "login", name: "bob" });
    expect(await bob.json()).toMatchObject({ type: "error", code: "name_taken" });
    expect(await bob.json()).toMatchObject({ type: "welcome" });
    expect(await alice.json()).toEqual({ type: "presence", name: "bob", status: "online" });
    await seen(bob, "alice");

    alice.sendJson({ type: "msg", to: "bob", text: "over the channel" });
    expect(await alice.json()).toMatchObject({ type: "ok" });
    expect(await bob.json()).toMatchObject({ from: "alice", text: "over the channel" });
    bob.sendJson({ type: "say", text: "and back" });
    expect(await bob.json()).toMatchObject({ type: "ok" });
    expect(await alice.json()).toMatchObject({ from: "bob", text: "and back" });

    alice.sendJson({ type: "join", room: "#edge" });
    expect(await alice.json()).toMatchObject({ type: "ok", users: ["alice"] });
    await seen(bob, "alice", "#edge");
    bob.sendJson({ type: "join", room: "#edge" }, { type: "msg", to: "#edge", text: "hi room" });
    expect(await bob.json()).toMatchObject({ type: "ok", users: ["alice", "bob"] });
    expect(await alice.json()).toEqual({ type: "joined", room: "#edge", name: "bob" });
    expect(await alice.json()).toMatchObject({ from: "bob", to: "#edge", text: "hi room" });
  });

  test("an isolate that dies: its users go offline, their names free up, messages wait", async () => {
    const { ports, stop } = await isolates();
    const [one, two] = ports as [number, number];
    const alice = await wsUser(one, "alice");
    alice.sendJson({ type: "quit" });
    await alice.end();
    const again = await wsUser(one, "alice");
    const bob = await wsUser(two, "bob");
    expect(await again.json()).toMatchObject({ type: "presence", name: "bob" });
    await seen(bob, "alice");

    stop(0);
    expect(await bob.json(LEASE_SECONDS * 3000)).toEqual({
      type: "presence",
      name: "alice",
      status: "offline",
    });
    bob.sendJson({ type: "msg", to: "alice", text: "held at the edge" });
    expect(await bob.json()).toMatchObject({ type: "ok", queued: true });
    const back = await WsClient.open(two);
    back.sendJson({ type: "login", name: "alice" });
    expect(await back.json()).toMatchObject({ type: "welcome", users: ["bob"], queued: 1 });
    expect(await back.json()).toMatchObject({
      from: "bob",
      text: "held at the edge",
      queued: true,
    });
  });
});
