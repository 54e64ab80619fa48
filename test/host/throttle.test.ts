import { describe, expect, test } from "vitest";
import { MemoryStore } from "../../src/host/mod.ts";
import { addressOf, FailureLog, LoginThrottle, WorkQueue } from "../../src/host/throttle.ts";

describe("client addresses", () => {
  test.each([
    ["192.0.2.7:51234", "192.0.2.7"],
    ["::ffff:192.0.2.7:51234", "192.0.2.7"],
    ["::1:4000", "0:0:0:0::/64"],
    ["2001:db8:1:2:a:b:c:d:443", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::9:443", "2001:db8:1:2::/64"],
    ["2001:0db8:0001:0002:ffff::1:443", "2001:db8:1:2::/64"],
    ["[2001:db8::1]:443", "2001:db8:0:0::/64"],
    ["", ""],
  ])("%s is counted as %s", (remote, address) => {
    expect(addressOf(remote)).toBe(address);
  });
});

describe("failures kept in memory", () => {
  test("a sliding window: each failure leaves it a window after it came", () => {
    let now = 0;
    const log = new FailureLog(60_000, 20, 100, () => now);
    log.add("a");
    now = 30_000;
    log.add("a");
    expect(log.left("a")).toEqual([30_000, 60_000]);
    now = 60_000;
    expect(log.left("a")).toEqual([30_000]);
    now = 90_000;
    expect(log.left("a")).toEqual([]);
  });

  test("each key keeps its newest failures only", () => {
    let now = 0;
    const log = new FailureLog(60_000, 3, 100, () => now);
    for (let i = 0; i < 10; i++) {
      now = i;
      log.add("a");
    }
    // The last came at 9: those of 7, 8 and 9 are kept.
    expect(log.left("a")).toEqual([59_998, 59_999, 60_000]);
  });

  test("memory is bounded: past the cap, the keys that failed longest ago go", () => {
    let now = 0;
    const log = new FailureLog(60_000, 20, 1000, () => now);
    for (let i = 0; i < 5000; i++) {
      now = i;
      log.add(`10.0.${i >> 8}.${i & 255}`);
    }
    expect(log.size).toBe(1000);
    expect(log.left("10.0.0.0")).toEqual([]);
    expect(log.left("10.0.19.135")).toHaveLength(1); // the newest (4999)
    // Once their failures left the window, keys are forgotten as others come.
    now = 200_000;
    log.add("new");
    expect(log.size).toBe(1);
  });
});

describe("the login throttle", () => {
  const limits = { perName: 5, perAddress: 20, windowMs: 60_000, addresses: 100 };

  test("guesses let through count until answered: ten at once, five are checked", async () => {
    const throttle = new LoginThrottle(new MemoryStore(), limits);
    const logins = Array.from({ length: 10 }, (_, i) => ({
      key: "vic",
      address: `10.0.0.${i}`,
      guess: true,
    }));
    for (const login of logins) throttle.begin(login);
    const assessed = await Promise.all(logins.map((login) => throttle.assess(login)));
    const refused = assessed.filter((a) => a.throttled !== null);
    expect(refused).toHaveLength(5);
    expect(refused[0]?.throttled).toMatchObject({ kind: "throttled", by: "name" });
    // The five fail: counted in the store, no longer pending; the window is full.
    for (const login of logins.slice(0, 5)) await throttle.failed(login);
    for (const login of logins) throttle.end(login);
    const again = { key: "vic", address: "10.0.1.1", guess: true };
    const { throttled } = await throttle.assess(again);
    expect(throttled?.by).toBe("name");
    expect(throttled?.retryMs).toBeGreaterThan(59_000);
    // A session or a token for it is refused too; another name is not.
    expect((await throttle.assess({ ...again, guess: false })).throttled?.by).toBe("name");
    expect((await throttle.assess({ ...again, key: "other" })).throttled).toBeNull();
  });

  test("a login whose name or address failed lately, or is guessing now, is suspect", async () => {
    const throttle = new LoginThrottle(new MemoryStore(), limits);
    /** Whether a login is suspect; it is answered (`end`) unless `keep`. */
    const suspect = async (key: string, address: string, keep = false) => {
      const login = { key, address, guess: true };
      throttle.begin(login);
      const { suspect } = await throttle.assess(login);
      if (!keep) throttle.end(login);
      return suspect;
    };
    expect(await suspect("a", "10.0.0.1")).toBe(false);
    const failing = { key: "a", address: "10.0.0.1", guess: true };
    throttle.begin(failing);
    await throttle.assess(failing);
    await throttle.failed(failing);
    throttle.end(failing);
    expect(await suspect("a", "10.0.0.2")).toBe(true);
    expect(await suspect("b", "10.0.0.1")).toBe(true);
    expect(await suspect("b", "10.0.0.2")).toBe(false);
    // A burst: the second guess from an address, or for a name, is suspect.
    expect(await suspect("c", "10.0.0.3", true)).toBe(false);
    expect(await suspect("d", "10.0.0.3")).toBe(true);
    expect(await suspect("c", "10.0.0.4")).toBe(true);
  });
});

describe("the queue of password hashes", () => {
  /** Work that ends when told to, recording when it started. */
  function gate(started: string[], name: string) {
    let open = () => {};
    const done = new Promise<void>((resolve) => {
      open = resolve;
    });
    return {
      work: async () => {
        started.push(name);
        await done;
        return name;
      },
      open: () => open(),
    };
  }

  test("at most `running` at once and `waiting` waiting; past that refused at once", async () => {
    const queue = new WorkQueue(2, 1);
    const started: string[] = [];
    const [a, b, c, d] = ["a", "b", "c", "d"].map((n) => gate(started, n)) as [
      ReturnType<typeof gate>,
      ReturnType<typeof gate>,
      ReturnType<typeof gate>,
      ReturnType<typeof gate>,
    ];
    const ra = queue.run(a.work);
    const rb = queue.run(b.work);
    const rc = queue.run(c.work);
    expect(queue.run(d.work)).toBeNull();
    await Promise.resolve();
    expect(started).toEqual(["a", "b"]);
    expect(queue.load).toEqual({ running: 2, waiting: 1 });
    a.open();
    expect(await ra).toBe("a");
    await new Promise((r) => setTimeout(r, 0));
    expect(started).toEqual(["a", "b", "c"]);
    b.open();
    c.open();
    expect(await Promise.all([rb, rc])).toEqual(["b", "c"]);
    expect(queue.load).toEqual({ running: 0, waiting: 0 });
  });

  test("suspect work leaves a place free, and waits behind plain work", async () => {
    const queue = new WorkQueue(2, 4);
    const started: string[] = [];
    const gates = ["s1", "s2", "s3", "p1", "p2"].map((n) => gate(started, n));
    const [s1, s2, s3, p1, p2] = gates as [
      ReturnType<typeof gate>,
      ReturnType<typeof gate>,
      ReturnType<typeof gate>,
      ReturnType<typeof gate>,
      ReturnType<typeof gate>,
    ];
    const runs = [
      queue.run(s1.work, true),
      queue.run(s2.work, true),
      queue.run(s3.work, true),
      queue.run(p1.work),
      queue.run(p2.work),
    ];
    await Promise.resolve();
    // One suspect runs; the plain one takes the place left free at once.
    expect(started).toEqual(["s1", "p1"]);
    s1.open();
    await runs[0];
    await new Promise((r) => setTimeout(r, 0));
    // The plain one waiting goes before the suspects that came earlier.
    expect(started).toEqual(["s1", "p1", "p2"]);
    p1.open();
    await runs[3];
    await new Promise((r) => setTimeout(r, 0));
    // A suspect never takes the last free place.
    expect(started).toEqual(["s1", "p1", "p2"]);
    p2.open();
    await runs[4];
    await new Promise((r) => setTimeout(r, 0));
    expect(started).toEqual(["s1", "p1", "p2", "s2"]);
    for (const g of gates) g.open();
    await Promise.all(runs);
    expect(started).toEqual(["s1", "p1", "p2", "s2", "s3"]);
  });
});
