import { afterEach } from "vitest";
import { type NodeRelay, startNode } from "../../adapters/node/main.ts";
import { parseConfig } from "../../src/host/mod.ts";

const running: NodeRelay[] = [];

/** Starts an in-process Node relay on free ports with a memory store; stopped after each test. */
export async function startRelay(env: Record<string, string> = {}): Promise<NodeRelay> {
  const parsed = parseConfig({
    RELAY_TCP_PORT: "0",
    RELAY_HTTP_PORT: "0",
    RELAY_STORE: "memory",
    ...env,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const relay = await startNode(parsed.config, { quiet: true });
  running.push(relay);
  return relay;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});
