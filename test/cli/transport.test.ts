import { afterEach, describe, expect, test } from "vitest";
import { chatTransport } from "../../src/cli/chat/transport.ts";
import { RelayClient } from "../../src/client/mod.ts";
import { startRelay } from "../support/server.ts";

const clients: RelayClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe.each(["tcp", "ws"] as const)("relay chat's %s transport under relay/client", (via) => {
  test("logs in, and a request gets its reply", async () => {
    const relay = await startRelay();
    const url =
      via === "tcp" ? `tcp://127.0.0.1:${relay.tcpPort}` : `ws://127.0.0.1:${relay.httpPort}/ws`;
    const ann = new RelayClient({ transport: chatTransport(url), name: "ann", reconnect: false });
    const bo = new RelayClient({ transport: chatTransport(url), name: "bo", reconnect: false });
    clients.push(ann, bo);
    const heard: string[] = [];
    bo.on("message", (m) => heard.push(`${m.from}: ${m.text}`));
    await ann.connect();
    await bo.connect();
    const ok = await ann.request({ type: "msg", to: "bo", text: "hi bo" });
    expect(ok.id).toEqual(expect.any(String));
    await expect.poll(() => heard).toEqual(["ann: hi bo"]);
  });
});

test("a relay that is not there rejects the connection", async () => {
  const client = new RelayClient({
    transport: chatTransport("tcp://127.0.0.1:1"),
    name: "ann",
    reconnect: false,
  });
  await expect(client.connect()).rejects.toMatchObject({ code: "connect_failed" });
});
