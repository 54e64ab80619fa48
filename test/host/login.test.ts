import { afterEach, describe, expect, test } from "vitest";
import { type Connection, Host, type Link, MemoryStore, parseConfig } from "../../src/host/mod.ts";
import { Inbox } from "../support/client.ts";

/** A connection as the host sees it, from `remote`; what the host writes is read as lines. */
class FakeLink extends Inbox implements Link {
  readonly transport = "tcp" as const;
  readonly framing = "line" as const;
  readonly remote: string;
  #partial = "";

  constructor(remote: string) {
    super();
    this.remote = remote;
  }

  write(data: string | Uint8Array): void {
    const parts = (this.#partial + (typeof data === "string" ? data : decoder.decode(data))).split(
      "\n",
    );
    this.#partial = parts.pop() ?? "";
    this.push(...parts);
  }

  unsent(): number {
    return 0;
  }
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * A memory store whose `remember`, `register` or `dropSession` wait, while `pause` says so,
 * until let go.
 */
class SlowStore extends MemoryStore {
  pause: "remember" | "register" | "dropSession" | null = null;
  #waiting: (() => void)[] = [];

  /** Lets go of every call held. */
  letGo(): void {
    this.pause = null;
    for (const go of this.#waiting.splice(0)) go();
  }

  override async remember(key: string, name: string): Promise<string> {
    if (this.pause === "remember") await new Promise<void>((go) => this.#waiting.push(go));
    return super.remember(key, name);
  }

  override async register(...args: Parameters<MemoryStore["register"]>): Promise<boolean> {
    if (this.pause === "register") await new Promise<void>((go) => this.#waiting.push(go));
    return super.register(...args);
  }

  override async dropSession(hash: string): Promise<void> {
    if (this.pause === "dropSession") await new Promise<void>((go) => this.#waiting.push(go));
    return super.dropSession(hash);
  }

  /** Resolves once a call waits. */
  async paused(): Promise<void> {
    while (this.#waiting.length === 0) await new Promise((r) => setTimeout(r, 1));
  }
}

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown()));
});

/** A lone relay on a store, with few PBKDF2 rounds and a clock the test sets. */
function relayOn(store: MemoryStore, clock: () => number = Date.now): Host {
  const parsed = parseConfig({ RELAY_STORE: "memory", RELAY_RATE_LIMIT: "0" });
  if (!parsed.ok) throw new Error(parsed.errors.join());
  const host = new Host(parsed.config, {
    store,
    auth: { mode: "open" },
    log: () => {},
    clock,
    passwords: { iterations: 1000 },
  });
  hosts.push(host);
  return host;
}

let port = 1000;
/** A client of the host from `address`, each on a port of its own. */
function client(host: Host, address = "192.0.2.1") {
  const link = new FakeLink(`${address}:${port++}`);
  const conn = host.connect(link) as Connection;
  return {
    link,
    send(command: object) {
      conn.receiveBytes(encoder.encode(`${JSON.stringify(command)}\n`));
    },
    async reply(): Promise<Record<string, unknown>> {
      return JSON.parse(await link.line());
    },
  };
}

/** Logs in and reads the answer. */
async function login(
  c: ReturnType<typeof client>,
  name: string,
  password?: string,
): Promise<Record<string, unknown>> {
  c.send({ type: "login", name, ...(password !== undefined && { password }) });
  return c.reply();
}

describe("a session secret", () => {
  test("forgotten by quit, it logs in no more, even while the store is still dropping it", async () => {
    const store = new SlowStore();
    const host = relayOn(store);
    const first = client(host);
    const welcome = await login(first, "cy");
    expect(welcome).toMatchObject({ type: "welcome", name: "cy" });
    const { session } = welcome as { session: string };
    store.pause = "dropSession";
    first.send({ type: "quit", forget: true });
    await store.paused();
    // The client is told goodbye and comes back at once, before the store is done.
    const again = client(host);
    again.send({ type: "login", name: "cy", session });
    await new Promise((r) => setTimeout(r, 20));
    store.letGo();
    expect(await again.reply()).toMatchObject({ type: "error", code: "auth_failed" });
  });
});

describe("a password registers only a free name", () => {
  test("a password offered while another logs in to the name is not registered", async () => {
    const store = new SlowStore();
    const host = relayOn(store);
    const first = client(host);
    store.pause = "remember";
    first.send({ type: "login", name: "bob" });
    await store.paused();
    // The first login has passed its checks and is claiming the name.
    const second = client(host);
    expect(await login(second, "bob", "mine")).toMatchObject({
      type: "error",
      code: "name_taken",
    });
    expect(await store.account("bob")).toBeNull();
    store.letGo();
    expect(await first.reply()).toMatchObject({ type: "welcome", name: "bob" });
    // So the password takes nothing over later.
    const third = client(host);
    expect(await login(third, "bob", "mine")).toMatchObject({ code: "name_taken" });
    expect(await store.account("bob")).toBeNull();
    first.send({ type: "ping", id: "p" });
    await first.link.until(/"pong"/);
  });

  test("while a password registers the name, a login without one is name_taken", async () => {
    const store = new SlowStore();
    const host = relayOn(store);
    const owner = client(host);
    store.pause = "register";
    owner.send({ type: "login", name: "bob", password: "mine" });
    await store.paused();
    const other = client(host);
    expect(await login(other, "bob")).toMatchObject({ code: "name_taken" });
    store.letGo();
    expect(await owner.reply()).toMatchObject({ type: "welcome", name: "bob" });
    expect(await store.account("bob")).not.toBeNull();
    // The password is the owner's: the other cannot take it, nor log in without it.
    expect(await login(other, "bob")).toMatchObject({ code: "name_taken" });
    expect(await login(other, "bob", "guess")).toMatchObject({ code: "auth_failed" });
  });

  test("a password for a name online here does not register it: name_taken", async () => {
    const store = new MemoryStore();
    const host = relayOn(store);
    const holder = client(host);
    expect(await login(holder, "ann")).toMatchObject({ type: "welcome" });
    expect(await login(client(host), "ann", "mine")).toMatchObject({ code: "name_taken" });
    expect(await store.account("ann")).toBeNull();
  });
});

describe("failed logins (docs/protocol.md §8)", () => {
  test("5 failures of a name in 60 s: its next login with credentials is rate_limited", async () => {
    const store = new MemoryStore();
    let now = Date.now();
    const host = relayOn(store, () => now);
    const owner = client(host, "192.0.2.1");
    expect(await login(owner, "vic", "right")).toMatchObject({ type: "welcome" });
    // Five guesses, each from an address of its own.
    for (let i = 0; i < 5; i++) {
      const guess = await login(client(host, `198.51.100.${i}`), "vic", "wrong");
      expect(guess).toMatchObject({ code: "auth_failed" });
    }
    const refused = await login(client(host, "198.51.100.9"), "vic", "right");
    expect(refused).toMatchObject({ code: "rate_limited" });
    expect(refused.message).toMatch(/^too many failed logins for vic; try again in (59|60) s$/);
    // A session is credentials too.
    const c = client(host, "198.51.100.9");
    c.send({ type: "login", name: "vic", session: "not-a-session" });
    expect(await c.reply()).toMatchObject({ code: "rate_limited" });
    // Another name is not slowed, even from an address that guessed.
    expect(await login(client(host, "198.51.100.0"), "other", "pw")).toMatchObject({
      type: "welcome",
    });
    // The owner online is not thrown out, and a login without credentials is not refused.
    expect(await login(client(host, "198.51.100.9"), "vic")).toMatchObject({
      code: "name_taken",
    });
    now += 1000; // the host's clock counts addresses; the store's counts names
    owner.send({ type: "ping", id: "p" });
    await owner.link.until(/"pong"/);
  });

  test("20 failures from an address in 60 s: its next login is rate_limited, until room", async () => {
    const store = new MemoryStore();
    let now = 1_000_000;
    const host = relayOn(store, () => now);
    for (let i = 0; i < 20; i++) {
      const owner = client(host, "192.0.2.1");
      expect(await login(owner, `user${i}`, "right")).toMatchObject({ type: "welcome" });
    }
    const guesser = client(host, "203.0.113.5");
    for (let i = 0; i < 20; i++) {
      expect(await login(guesser, `user${i}`, "wrong")).toMatchObject({ code: "auth_failed" });
      now += 1000;
    }
    // 20 s after the first failure: it leaves the window in 40 s.
    const refused = await login(guesser, "newname", "pw");
    expect(refused).toMatchObject({ code: "rate_limited" });
    expect(refused.message).toBe("too many failed logins from your address; try again in 40 s");
    expect(await store.account("newname")).toBeNull();
    // Other addresses, and logins without credentials, are let through.
    expect(await login(client(host, "203.0.113.6"), "newname", "pw")).toMatchObject({
      type: "welcome",
    });
    expect(await login(client(host, "203.0.113.5"), "free")).toMatchObject({ type: "welcome" });
    // An IPv4 address's ports are one address.
    expect(await login(client(host, "203.0.113.5"), "user0", "right")).toMatchObject({
      code: "rate_limited",
    });
    now += 40_000;
    expect(await login(guesser, "user0", "right")).toMatchObject({ type: "welcome" });
  });

  test("many guesses at once: no more than the limit are checked", async () => {
    const store = new MemoryStore();
    const host = relayOn(store);
    expect(await login(client(host), "vic", "right")).toMatchObject({ type: "welcome" });
    const guessers = Array.from({ length: 12 }, (_, i) => client(host, `198.51.100.${i}`));
    for (const g of guessers) g.send({ type: "login", name: "vic", password: "wrong" });
    const codes = await Promise.all(guessers.map(async (g) => (await g.reply()).code));
    expect(codes.filter((c) => c === "auth_failed")).toHaveLength(5);
    expect(codes.filter((c) => c === "rate_limited")).toHaveLength(7);
  });
});
