import { afterEach } from "vitest";
import { type NodeRelay, startNode } from "../../adapters/node/main.ts";
import { parseConfig } from "../../src/host/mod.ts";

const running: NodeRelay[] = [];

/**
 * Starts an in-process Node relay on free ports with a memory store; stopped after each test.
 * The IRC port is off unless `env` asks for it (`RELAY_IRC_PORT: "0"`).
 */
export async function startRelay(env: Record<string, string> = {}): Promise<NodeRelay> {
  const parsed = parseConfig({
    RELAY_TCP_PORT: "0",
    RELAY_HTTP_PORT: "0",
    RELAY_STORE: "memory",
    RELAY_IRC_PORT: "off",
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
