import { connect } from "node:net";
import { describe, expect, test } from "vitest";
import { Inbox, jsonUser, type LineClient } from "../support/client.ts";
import { startRelay } from "../support/server.ts";

/**
 * A JSON-mode TCP client from a loopback address of its choosing, so that one test can
 * play many client addresses (Linux routes all of 127.0.0.0/8 to the loopback device).
 */
class From extends Inbox {
  readonly #socket: ReturnType<typeof connect>;
  #partial = "";

  private constructor(socket: ReturnType<typeof connect>) {
    super();
    this.#socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (data: string) => {
      const parts = (this.#partial + data).split("\n");
      this.#partial = parts.pop() ?? "";
      this.push(...parts);
    });
    socket.on("close", () => super.close());
    socket.on("error", () => {});
  }

  static open(port: number, address: string): Promise<From> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1", localAddress: address }, () =>
        resolve(new From(socket)),
      );
      socket.once("error", reject);
    });
  }

  sendJson(command: object): void {
    this.#socket.write(`${JSON.stringify(command)}\n`);
  }

  override close(): void {
    this.#socket.destroy();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the guesses of a group of connections got. */
interface Tally {
  failed: number;
  refusals: string[];
  other: string[];
}

/**
 * Connections that each send a login with a wrong password, wait for the answer, and send
 * the next one 100 ms later (under the 20 commands per second a connection may send),
 * until `stop` says so.
 */
async function guess(
  port: number,
  guessers: { address: string; name: string }[],
  tally: Tally,
  stop: () => boolean,
): Promise<void> {
  await Promise.all(
    guessers.map(async ({ address, name }) => {
      const c = await From.open(port, address);
      while (!stop()) {
        c.sendJson({ type: "login", name, password: "wrong" });
        const reply = await c.json(30_000);
        if (reply.code === "auth_failed") tally.failed++;
        else if (reply.code === "rate_limited") tally.refusals.push(String(reply.message));
        else tally.other.push(JSON.stringify(reply));
        await sleep(100);
      }
      c.close();
    }),
  );
}

/** The text of the next message `c` receives (other lines skipped), and when it came. */
async function nextMessage(c: LineClient): Promise<string> {
  for (;;) {
    const line = await c.json(10_000);
    if (line.type === "message") return String(line.text);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

// Many client addresses need all of 127.0.0.0/8 on the loopback device, as Linux has it.
describe.skipIf(process.platform !== "linux")("logins hammered (docs/protocol.md §8)", () => {
  test("chat stays fast, guessers get rate_limited, a good login gets in quickly", async () => {
    // The real relay and its real PBKDF2 cost: 600,000 rounds a password.
    const relay = await startRelay();
    const port = relay.tcpPort as number;
    const accounts = ["vic", "v1", "v2", "v3", "v4", "v5", "good"];
    await Promise.all(
      accounts.map(async (name) => {
        const c = await From.open(port, "127.0.0.1");
        c.sendJson({ type: "login", name, password: `${name}-pw` });
        expect(await c.json(30_000)).toMatchObject({ type: "welcome" });
        c.close();
      }),
    );
    const ann = await jsonUser(port, "ann");
    const ben = await jsonUser(port, "ben");
    expect(await ann.json()).toMatchObject({ type: "presence", name: "ben" });

    // 25 connections from 5 addresses guess vic's password: its name's limit (5) binds.
    // 25 from one address guess v1..v5 (25 guesses allowed by name): the address's binds.
    const byName: Tally = { failed: 0, refusals: [], other: [] };
    const byAddress: Tally = { failed: 0, refusals: [], other: [] };
    let done = false;
    const hammering = Promise.all([
      guess(
        port,
        Array.from({ length: 25 }, (_, i) => ({ address: `127.0.1.${1 + (i % 5)}`, name: "vic" })),
        byName,
        () => done,
      ),
      guess(
        port,
        Array.from({ length: 25 }, (_, i) => ({ address: "127.0.2.1", name: `v${1 + (i % 5)}` })),
        byAddress,
        () => done,
      ),
    ]);
    // Until the first guess is answered, the hashes are under way.
    while (byName.failed + byAddress.failed === 0) await sleep(10);

    // Meanwhile: a good login, of another name, from another address.
    const goodStarted = performance.now();
    const good = await From.open(port, "127.0.3.1");
    good.sendJson({ type: "login", name: "good", password: "good-pw" });
    const goodWelcome = good.json(30_000).then((welcome) => ({
      welcome,
      ms: performance.now() - goodStarted,
      // How many of the 25 guesses that get checked were answered before it.
      guessesBefore: byName.failed + byAddress.failed,
    }));

    // And ann and ben chat: 50 round trips, one every 50 ms.
    const rtts: number[] = [];
    const echo = (async () => {
      for (let i = 0; i < 50; i++) {
        const text = await nextMessage(ben);
        ben.sendJson({ type: "msg", to: "ann", text: `re: ${text}` });
      }
    })();
    for (let i = 0; i < 50; i++) {
      const sent = performance.now();
      ann.sendJson({ type: "msg", to: "ben", text: `ping ${i}` });
      expect(await nextMessage(ann)).toBe(`re: ping ${i}`);
      rtts.push(performance.now() - sent);
      await sleep(50);
    }
    await echo;
    const { welcome, ms: goodMs, guessesBefore } = await goodWelcome;

    // The guessing goes on until both limits were met (well inside the 60 s window).
    const deadline = Date.now() + 45_000;
    while (
      Date.now() < deadline &&
      (byName.failed < 5 ||
        byAddress.failed < 20 ||
        !byAddress.refusals.some((m) => m.includes("from your address")))
    ) {
      await sleep(50);
    }
    done = true;
    await hammering;

    // Chat was not held up by the password checks.
    expect(median(rtts)).toBeLessThan(250);
    expect(Math.max(...rtts)).toBeLessThan(1000);
    // The good login got in without waiting for the guesses queued before it: about one
    // hash's time, while most guesses were still waiting (all 25 would come first in a plain
    // first-come queue, which takes some 4 s here).
    expect(welcome).toMatchObject({ type: "welcome", name: "good" });
    expect(guessesBefore).toBeLessThanOrEqual(15);
    expect(goodMs).toBeLessThan(5000);
    // Exactly the limits were checked; every other guess was refused, saying when to retry.
    expect(byName.other).toEqual([]);
    expect(byAddress.other).toEqual([]);
    expect(byName.failed).toBe(5);
    expect(byName.refusals.length).toBeGreaterThan(0);
    for (const m of byName.refusals)
      expect(m).toMatch(/^too many failed logins for vic; try again in \d+ s$/);
    expect(byAddress.failed).toBe(20);
    expect(byAddress.refusals).toContainEqual(
      expect.stringMatching(/^too many failed logins from your address; try again in \d+ s$/),
    );
    for (const m of byAddress.refusals)
      expect(m).toMatch(/^too many failed logins (for v\d|from your address); try again in \d+ s$/);
    ann.close();
    ben.close();
    good.close();
  }, 90_000);
});
