import { describe, expect, test } from "vitest";
import { parseConfig } from "../../src/host/mod.ts";

describe("configuration from the environment", () => {
  test("nothing set: the defaults of a lone node", () => {
    const parsed = parseConfig({});
    expect(parsed).toMatchObject({
      ok: true,
      config: { tcpPort: 7070, httpPort: 8080, store: "./data/relay.kv", bus: "local" },
    });
    expect(parsed.ok && parsed.config.leaseMs).toBe(10_000);
  });

  test("a cluster node: Redis for the store and the bus, and its lease", () => {
    const parsed = parseConfig({
      RELAY_STORE: "redis://127.0.0.1:6379",
      RELAY_BUS: "redis://10.0.0.5:6379/0",
      RELAY_LEASE: "3",
    });
    expect(parsed).toMatchObject({
      ok: true,
      config: { store: "redis://127.0.0.1:6379", bus: "redis://10.0.0.5:6379/0", leaseMs: 3000 },
    });
  });

  test.each([
    [{ RELAY_BUS: "kafka://x" }, "RELAY_BUS"],
    [{ RELAY_LEASE: "0" }, "RELAY_LEASE"],
    [{ RELAY_TCP_PORT: "70000" }, "RELAY_TCP_PORT"],
    [{ RELAY_AUTH: "token" }, "RELAY_JWT_SECRET"],
  ])("%j is refused with a message naming %s", (env, name) => {
    const parsed = parseConfig(env);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.errors.join(" ")).toContain(name);
  });
});
