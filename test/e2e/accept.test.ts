import { spawnSync } from "node:child_process";
import { connect, type Socket } from "node:net";
import { describe, expect, test } from "vitest";
import { LineClient } from "../support/client.ts";
import { spawnRelay } from "../support/process.ts";

/** Opens a TCP connection (the kernel completes it even when the server cannot take it). */
function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket));
    socket.on("error", reject);
  });
}

describe.each(["node", "deno"] as const)("a relay out of open files (%s)", (runtime) => {
  test("takes connections again once some close", async () => {
    const relay = await spawnRelay(runtime);
    // What the process may hold from now on: a few dozen files.
    const limited = spawnSync("prlimit", [`--pid=${relay.child.pid}`, "--nofile=48:48"]);
    expect(limited.status, String(limited.stderr)).toBe(0);
    const sockets: Socket[] = [];
    for (let i = 0; i < 80; i++) sockets.push(await open(relay.tcpPort));
    await new Promise((r) => setTimeout(r, 500));
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 500));
    const alice = await LineClient.open(relay.tcpPort);
    alice.sendJson({ type: "login", name: "alice" });
    expect(await alice.json(5000)).toMatchObject({ type: "welcome" });
    alice.close();
  }, 30_000);
});
