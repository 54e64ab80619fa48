import { mkdir, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { LineClient, textUser } from "../support/client.ts";
import { spawnRelay } from "../support/process.ts";

/** A fresh KV file under ./data, where the Deno task may read and write. */
async function kvFile(): Promise<string> {
  await mkdir("data", { recursive: true });
  return join(await mkdtemp("data/test-"), "relay.kv");
}

/** Alice sends 3 messages to offline bob on the first server; bob reads them on the second. */
async function survivesRestart(first: "node" | "deno", second: "node" | "deno") {
  const store = await kvFile();
  const one = await spawnRelay(first, { RELAY_STORE: store });
  const bob = await textUser(one.tcpPort, "bob");
  bob.send("quit");
  await bob.end();
  const alice = await textUser(one.tcpPort, "alice");
  alice.send("/msg bob one", "/msg bob two", "/msg bob three");
  expect(await alice.lines(3)).toEqual(
    Array(3).fill("* bob is offline; the message is held for them"),
  );
  await one.kill("SIGKILL");

  const two = await spawnRelay(second, { RELAY_STORE: store });
  const back = await LineClient.open(two.tcpPort);
  back.send("bob");
  expect(await back.line()).toBe(
    "* welcome, bob! nobody else is online; 3 messages waited for you",
  );
  const held = await back.lines(3);
  expect(held.map((l) => l.replace(/^\[[^\]]+\] /, ""))).toEqual([
    "alice: one",
    "alice: two",
    "alice: three",
  ]);
  back.close();
}

describe("a durable store (Deno KV file)", () => {
  test("held messages survive SIGKILL and a restart on Node", () =>
    survivesRestart("node", "node"));
  test("held messages survive SIGKILL and a restart on Deno", () =>
    survivesRestart("deno", "deno"));
  test("a KV file written by the Node server is read by the Deno server", () =>
    survivesRestart("node", "deno"));

  test("a registered password survives a restart", async () => {
    const store = await kvFile();
    const one = await spawnRelay("node", { RELAY_STORE: store });
    const first = await LineClient.open(one.tcpPort);
    first.send("/login ida pa55word");
    expect(await first.line()).toMatch(/^\* welcome, ida!/);
    await one.kill("SIGTERM");
    const two = await spawnRelay("node", { RELAY_STORE: store });
    const again = await LineClient.open(two.tcpPort);
    again.send("/login ida", "/login ida wrong", "/login ida pa55word");
    expect(await again.line()).toMatch(/^! auth_failed: /);
    expect(await again.line()).toMatch(/^! auth_failed: /);
    expect(await again.line()).toMatch(/^\* welcome, ida!/);
    again.close();
  });
});
