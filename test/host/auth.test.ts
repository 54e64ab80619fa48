import { sign } from "hono/jwt";
import { describe, expect, test } from "vitest";
import {
  authenticate,
  checkPassword,
  hashPassword,
  MemoryStore,
  Passwords,
  PBKDF2_ITERATIONS,
  sameBytes,
} from "../../src/host/mod.ts";

/** Few rounds, to keep tests fast. */
const fast = () => new Passwords({ iterations: 1000 });

describe("passwords", () => {
  test("a hash is salted: the same password hashes differently, and checks", async () => {
    const a = await hashPassword("pw", 1000);
    const b = await hashPassword("pw", 1000);
    expect(a.hash).not.toBe(b.hash);
    expect(await checkPassword("pw", a)).toBe(true);
    expect(await checkPassword("pW", a)).toBe(false);
  });

  test("new passwords use 600,000 PBKDF2 rounds (OWASP), unless told otherwise", async () => {
    expect(PBKDF2_ITERATIONS).toBe(600_000);
    expect(new Passwords().iterations).toBe(600_000);
    expect((await hashPassword("pw")).iterations).toBe(600_000);
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
    const passwords = fast();
    const open = { mode: "open" } as const;
    expect(await authenticate({ key: "x", mayRegister: true }, open, store, passwords)).toBe("ok");
    expect(
      await authenticate({ key: "x", password: "p", mayRegister: true }, open, store, passwords),
    ).toBe("ok");
    expect(await authenticate({ key: "x", mayRegister: true }, open, store, passwords)).toBe(
      "auth_failed",
    );
    expect(
      await authenticate({ key: "x", password: "q", mayRegister: true }, open, store, passwords),
    ).toBe("auth_failed");
    expect(
      await authenticate({ key: "x", password: "p", mayRegister: true }, open, store, passwords),
    ).toBe("verified");
  });

  test("a password for a name online elsewhere does not register it", async () => {
    const store = new MemoryStore();
    const passwords = fast();
    const open = { mode: "open" } as const;
    expect(
      await authenticate({ key: "y", password: "p", mayRegister: false }, open, store, passwords),
    ).toBe("ok");
    expect(await store.account("y")).toBeNull();
  });
});

describe("rounds and the queue of password checks", () => {
  const open = { mode: "open" } as const;

  test("a record of 210,000 rounds is rehashed with 600,000 at its next good login", async () => {
    const store = new MemoryStore();
    const old = await hashPassword("pw", 210_000);
    await store.register("old", old);
    const passwords = new Passwords(); // the default rounds
    const login = (password: string) =>
      authenticate({ key: "old", password, mayRegister: true }, open, store, passwords);
    expect(await login("wrong")).toBe("auth_failed");
    expect(await store.account("old")).toEqual(old);
    expect(await login("pw")).toBe("verified");
    const upgraded = await store.account("old");
    expect(upgraded?.iterations).toBe(600_000);
    expect(upgraded?.salt).not.toBe(old.salt);
    expect(await checkPassword("pw", upgraded as NonNullable<typeof upgraded>)).toBe(true);
  });

  test("a rehash loses to a password changed meanwhile", async () => {
    const store = new MemoryStore();
    const old = await hashPassword("pw", 500);
    await store.register("k", old);
    const changed = await hashPassword("new", 1000);
    expect(await store.rehash("k", old, changed)).toBe(true);
    expect(await store.rehash("k", old, await hashPassword("pw", 1000))).toBe(false);
    expect(await store.account("k")).toEqual(changed);
  });

  test("past the places running and waiting, a login is busy and nothing is hashed", async () => {
    const store = new MemoryStore();
    await store.register("k", await hashPassword("pw", 1000));
    const passwords = new Passwords({ iterations: 1000, running: 1, waiting: 1 });
    const login = () =>
      authenticate({ key: "k", password: "pw", mayRegister: true }, open, store, passwords);
    expect(await Promise.all([login(), login(), login()])).toEqual([
      "verified",
      "verified",
      "busy",
    ]);
    // A registration is refused the same way, before anything is registered.
    const register = (key: string) =>
      authenticate({ key, password: "pw", mayRegister: true }, open, store, passwords);
    expect(await Promise.all([register("a"), register("b"), register("c")])).toEqual([
      "ok",
      "ok",
      "busy",
    ]);
    expect(await store.account("c")).toBeNull();
  });

  test("a password registers only once the name was claimed", async () => {
    const store = new MemoryStore();
    const passwords = fast();
    const attempt = { key: "z", password: "p", mayRegister: true };
    const refused = async () => false;
    expect(await authenticate({ ...attempt, claim: refused }, open, store, passwords)).toBe(
      "taken",
    );
    expect(await store.account("z")).toBeNull();
    const claimed = async () => true;
    expect(await authenticate({ ...attempt, claim: claimed }, open, store, passwords)).toBe("ok");
    expect(await store.account("z")).not.toBeNull();
  });
});

describe("token mode", () => {
  const SECRET = "s3cret-for-tests-of-32-bytes-or-more";
  const auth = { mode: "token", secret: SECRET } as const;
  const now = Math.floor(Date.now() / 1000);
  const store = new MemoryStore();
  const passwords = fast();

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
      await authenticate(
        { key: "tia", token: await token(), mayRegister: true },
        auth,
        store,
        passwords,
      ),
    ).toBe(result);
  });

  test("no token", async () => {
    expect(await authenticate({ key: "tia", mayRegister: true }, auth, store, passwords)).toBe(
      "auth_failed",
    );
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
