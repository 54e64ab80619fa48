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

  describe("secrets strong enough to guard something", () => {
    const ADMIN = "kX9-vQ2_pL7.mN4~";
    const JWT = "0123456789abcdef0123456789abcdef";

    test.each([
      [ADMIN, "16 b64token characters"],
      ["Zm9vYmFyYmF6cXV4cXV1eA==", "base64 with padding"],
      ["a+b/c-d.e_f~g0123456", "every punctuation a bearer token may hold"],
    ])("RELAY_ADMIN_TOKEN=%s is taken (%s)", (token) => {
      expect(parseConfig({ RELAY_ADMIN_TOKEN: token })).toMatchObject({
        ok: true,
        config: { adminToken: token },
      });
    });

    test.each([
      ["short-token-15c", "at least 16 characters"],
      ["x".repeat(15), "at least 16 characters"],
      ["has a space in it, and long", "Bearer token"],
      ["colon:is-not-allowed-here", "Bearer token"],
      ["padding=in-the-middle-of-it", "Bearer token"],
      ["=leading-padding-is-not-ok", "Bearer token"],
      ["ünïcödé-töken-of-length", "Bearer token"],
      ['quoted"token"-of-some-length', "Bearer token"],
      [`${ADMIN}\n`, "Bearer token"],
    ])("RELAY_ADMIN_TOKEN=%j is refused: %s", (token, why) => {
      const parsed = parseConfig({ RELAY_ADMIN_TOKEN: token });
      expect(parsed.ok).toBe(false);
      const message = !parsed.ok && parsed.errors.join(" ");
      expect(message).toContain("RELAY_ADMIN_TOKEN");
      expect(message).toContain(why);
      // The message says why, and never repeats the secret.
      expect(message).not.toContain(token);
    });

    test("RELAY_JWT_SECRET needs 32 bytes of UTF-8, not 32 characters", () => {
      expect(parseConfig({ RELAY_AUTH: "token", RELAY_JWT_SECRET: JWT })).toMatchObject({
        ok: true,
        config: { auth: "token", jwtSecret: JWT },
      });
      // 11 characters of 3 bytes each: 33 bytes.
      expect(parseConfig({ RELAY_JWT_SECRET: "密".repeat(11) }).ok).toBe(true);
      for (const secret of [JWT.slice(1), "change-me", "密".repeat(10)]) {
        const parsed = parseConfig({ RELAY_AUTH: "token", RELAY_JWT_SECRET: secret });
        expect(parsed.ok).toBe(false);
        const message = !parsed.ok && parsed.errors.join(" ");
        expect(message).toContain("RELAY_JWT_SECRET: at least 32 bytes");
        expect(message).not.toContain(secret);
      }
    });
  });
  describe("RELAY_ALLOWED_ORIGINS: pages from other sites that may open /ws", () => {
    test("unset: none beyond the server's own", () => {
      expect(parseConfig({})).toMatchObject({ ok: true, config: { allowedOrigins: [] } });
    });

    test("a comma-separated list, each origin as a browser writes it", () => {
      expect(
        parseConfig({
          RELAY_ALLOWED_ORIGINS:
            " https://Chat.Example.com ,http://localhost:3000/,HTTPS://a.example:443",
        }),
      ).toMatchObject({
        ok: true,
        config: {
          allowedOrigins: [
            "https://chat.example.com",
            "http://localhost:3000",
            "https://a.example",
          ],
        },
      });
      expect(parseConfig({ RELAY_ALLOWED_ORIGINS: "*" })).toMatchObject({
        ok: true,
        config: { allowedOrigins: ["*"] },
      });
    });

    test.each([
      "chat.example.com",
      "https://chat.example.com/page",
      "https://chat.example.com?x=1",
      "ftp://chat.example.com",
      "https://user@chat.example.com",
      "null",
    ])("%j is refused with a message naming it", (origin) => {
      const parsed = parseConfig({ RELAY_ALLOWED_ORIGINS: `https://fine.example,${origin}` });
      expect(parsed.ok).toBe(false);
      const message = !parsed.ok && parsed.errors.join(" ");
      expect(message).toContain("RELAY_ALLOWED_ORIGINS");
      expect(message).toContain(`not an origin: ${origin} `);
    });
  });
});
