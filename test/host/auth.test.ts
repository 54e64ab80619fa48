import { sign } from "hono/jwt";
import { describe, expect, test } from "vitest";
import {
  authenticate,
  checkPassword,
  hashPassword,
  MemoryStore,
  sameBytes,
} from "../../src/host/mod.ts";

describe("passwords", () => {
  test("a hash is salted: the same password hashes differently, and checks", async () => {
    const a = await hashPassword("pw", 1000);
    const b = await hashPassword("pw", 1000);
    expect(a.hash).not.toBe(b.hash);
    expect(await checkPassword("pw", a)).toBe(true);
    expect(await checkPassword("pW", a)).toBe(false);
  });

  test("new passwords use at least 100,000 PBKDF2 rounds", async () => {
    expect((await hashPassword("pw")).iterations).toBeGreaterThanOrEqual(100_000);
  });

  test("sameBytes compares whole arrays", () => {
    expect(sameBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(sameBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(sameBytes(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
  });
});

describe("accounts on demand", () => {
  test("open names are free; a password registers; then it is needed", async () => {
    const store = new MemoryStore();
    const open = { mode: "open" } as const;
    expect(await authenticate({ key: "x", mayRegister: true }, open, store)).toBe("ok");
    expect(await authenticate({ key: "x", password: "p", mayRegister: true }, open, store)).toBe(
      "ok",
    );
    expect(await authenticate({ key: "x", mayRegister: true }, open, store)).toBe("auth_failed");
    expect(await authenticate({ key: "x", password: "q", mayRegister: true }, open, store)).toBe(
      "auth_failed",
    );
    expect(await authenticate({ key: "x", password: "p", mayRegister: true }, open, store)).toBe(
      "verified",
    );
  });

  test("a password for a name online elsewhere does not register it", async () => {
    const store = new MemoryStore();
    const open = { mode: "open" } as const;
    expect(await authenticate({ key: "y", password: "p", mayRegister: false }, open, store)).toBe(
      "ok",
    );
    expect(await store.account("y")).toBeNull();
  });
});

describe("token mode", () => {
  const SECRET = "s3cret-for-tests-of-32-bytes-or-more";
  const auth = { mode: "token", secret: SECRET } as const;
  const now = Math.floor(Date.now() / 1000);
  const store = new MemoryStore();

  test.each([
    [
      "a valid token",
      (): Promise<string> => sign({ sub: "Tia", exp: now + 60 }, SECRET),
      "verified",
    ],
    [
      "a wrong signature",
      (): Promise<string> => sign({ sub: "tia", exp: now + 60 }, "other-secret"),
      "auth_failed",
    ],
    [
      "an expired token",
      (): Promise<string> => sign({ sub: "tia", exp: now - 60 }, SECRET),
      "auth_failed",
    ],
    [
      "another name",
      (): Promise<string> => sign({ sub: "tom", exp: now + 60 }, SECRET),
      "auth_failed",
    ],
    ["garbage", async (): Promise<string> => "not.a.jwt", "auth_failed"],
    ["a token without exp", (): Promise<string> => sign({ sub: "tia" }, SECRET), "auth_failed"],
    [
      "a token without exp, even with iat",
      (): Promise<string> => sign({ sub: "tia", iat: now }, SECRET),
      "auth_failed",
    ],
    [
      "an exp that is not a number",
      (): Promise<string> => sign(loose({ sub: "tia", exp: `${now + 60}` }), SECRET),
      "auth_failed",
    ],
    [
      "an exp of null",
      (): Promise<string> => sign(loose({ sub: "tia", exp: null }), SECRET),
      "auth_failed",
    ],
    [
      "a token not valid yet",
      (): Promise<string> => sign({ sub: "tia", exp: now + 120, nbf: now + 60 }, SECRET),
      "auth_failed",
    ],
    [
      "another algorithm",
      (): Promise<string> => sign({ sub: "tia", exp: now + 60 }, SECRET, "HS512"),
      "auth_failed",
    ],
    [
      "an unsigned token (alg none)",
      async (): Promise<string> => unsigned({ sub: "tia", exp: now + 60 }),
      "auth_failed",
    ],
  ] as const)("%s", async (_, token, result) => {
    expect(
      await authenticate({ key: "tia", token: await token(), mayRegister: true }, auth, store),
    ).toBe(result);
  });

  test("no token", async () => {
    expect(await authenticate({ key: "tia", mayRegister: true }, auth, store)).toBe("auth_failed");
  });
});

/** A JWT with `alg: none` and no signature, which no server may take. */
function unsigned(payload: object): string {
  const part = (value: object) =>
    btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${part({ alg: "none", typ: "JWT" })}.${part(payload)}.`;
}

/** A payload as a careless issuer might write it, past the JWT types' checks. */
function loose(payload: Record<string, unknown>): Parameters<typeof sign>[0] {
  return payload as Parameters<typeof sign>[0];
}
