import type { Server } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { listenTcp } from "../../adapters/node/tcp.ts";
import type { ChatMessage, Effect, LogEntry } from "../../src/core/mod.ts";
import { LogWriter, unkept } from "../../src/host/log-writer.ts";
import { Host, MemoryStore, parseConfig } from "../../src/host/mod.ts";
import { jsonUser } from "../support/client.ts";

function entry(id: string): LogEntry {
  const message: ChatMessage = { type: "message", id, from: "a", to: "b", text: id, ts: "" };
  return { conv: "@a|b", message };
}

const ping = (n: number): Effect => ({ type: "send", conn: n, msg: { type: "pong", re: `${n}` } });

describe("the log writer", () => {
  test("one commit per turn; what follows waits for it, in order", async () => {
    const commits: string[][] = [];
    const released: string[] = [];
    const writer = new LogWriter(
      async (entries) => {
        commits.push(entries.map((e) => e.message.id));
      },
      (effects) =>
        released.push(
          ...effects.map((e) =>
            e.type === "send" && e.msg.type === "pong" ? `${e.msg.re}` : e.type,
          ),
        ),
      setImmediate,
    );
    writer.add(entry("1"));
    writer.hold(ping(1));
    writer.add(entry("2"));
    writer.hold(ping(2));
    expect(writer.holding).toBe(true);
    expect(released).toEqual([]);
    await writer.idle();
    expect(commits).toEqual([["1", "2"]]);
    expect(released).toEqual(["1", "2"]);
    expect(writer.holding).toBe(false);
  });

  test("a failed commit releases its effects with the ids it did not keep; later ones go on", async () => {
    const outcomes: [string[], string[]][] = [];
    let fail = true;
    const writer = new LogWriter(
      async () => {
        if (fail) {
          fail = false;
          throw new Error("store down");
        }
      },
      (effects, failed) =>
        outcomes.push([
          effects.map((e) => (e.type === "send" && e.msg.type === "pong" ? `${e.msg.re}` : "")),
          [...failed],
        ]),
      setImmediate,
      [],
    );
    writer.add(entry("1"));
    writer.hold(ping(1));
    await new Promise((r) => setImmediate(r));
    writer.add(entry("2"));
    writer.hold(ping(2));
    await writer.idle();
    expect(outcomes).toEqual([
      [["1"], ["1"]],
      [["2"], []],
    ]);
  });
});

/** A memory store whose log appends fail while `failing` is set. */
class FlakyStore extends MemoryStore {
  /** How many appends fail from now on. */
  failing = 0;
  override async append(entries: LogEntry[], keep: number): Promise<void> {
    if (this.failing > 0) {
      this.failing--;
      throw new Error("disk full");
    }
    return super.append(entries, keep);
  }
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function relayOn(store: MemoryStore): Promise<number> {
  const parsed = parseConfig({ RELAY_STORE: "memory", RELAY_RATE_LIMIT: "0" });
  if (!parsed.ok) throw new Error(parsed.errors.join());
  const host = new Host(parsed.config, {
    store,
    auth: { mode: "open" },
    log: () => {},
    logRetries: [10, 10],
  });
  await host.start();
  const server = await listenTcp(host, "127.0.0.1", 0);
  servers.push(server);
  return (server.address() as { port: number }).port;
}

describe("what becomes of an effect whose message was not kept", () => {
  const lost = new Set(["m1"]);
  const { message } = entry("m1");
  const other = entry("m2").message;

  test("its ok becomes an error; a hold or hand-over is answered unavailable", () => {
    const ok: Effect = { type: "send", conn: 1, msg: { type: "ok", re: "r", id: "m1" } };
    expect(unkept(ok, lost, 5)).toMatchObject({
      effect: { type: "send", conn: 1, msg: { type: "error", re: "r", code: "queue_full" } },
    });
    const hold: Effect = { type: "hold", conn: 2, key: "b", message };
    expect(unkept(hold, lost, 5)).toEqual({
      input: { type: "held", conn: 2, result: "unavailable", now: 5 },
    });
    const event = { kind: "message", node: "n1", scope: "user", message } as const;
    const handOver: Effect = { type: "handOver", conn: 3, node: "n2", key: "b", event };
    expect(unkept(handOver, lost, 5)).toEqual({
      input: { type: "handedOver", conn: 3, result: "unavailable", now: 5 },
    });
  });

  test("its delivery and publish are dropped; effects of other messages run as they are", () => {
    expect(unkept({ type: "send", conn: 1, msg: message }, lost, 5)).toEqual({ dropped: true });
    const event = { kind: "message", node: "n1", scope: "room", message } as const;
    expect(unkept({ type: "publish", event }, lost, 5)).toEqual({ dropped: true });
    expect(unkept({ type: "send", conn: 1, msg: other }, lost, 5)).toBeNull();
    expect(unkept(ping(1), lost, 5)).toBeNull();
  });
});

describe("ok means kept", () => {
  test("a message the store could not keep is refused and delivered to nobody", async () => {
    const store = new FlakyStore();
    const port = await relayOn(store);
    const alice = await jsonUser(port, "alice");
    const bob = await jsonUser(port, "bob");
    expect(await alice.json()).toMatchObject({ type: "presence", name: "bob" });
    store.failing = 3; // more than the tries

    alice.sendJson({ type: "msg", to: "bob", text: "lost?", id: "m1" });
    expect(await alice.json()).toMatchObject({ type: "error", re: "m1", code: "queue_full" });
    alice.sendJson({ type: "msg", to: "bob", text: "kept", id: "m2" });
    const ok = await alice.json();
    expect(ok).toMatchObject({ type: "ok", re: "m2" });
    // Bob sees only the message that was kept, and history agrees.
    expect(await bob.json()).toMatchObject({ type: "message", text: "kept", id: ok.id });
    bob.sendJson({ type: "history", with: "alice", id: "h" });
    const history = await bob.json();
    expect((history.messages as ChatMessage[]).map((m) => m.text)).toEqual(["kept"]);
    alice.close();
    bob.close();
  });

  test("a commit that fails once and then goes through is ok: tried again, not refused", async () => {
    const store = new FlakyStore();
    const port = await relayOn(store);
    const alice = await jsonUser(port, "alice");
    const bob = await jsonUser(port, "bob");
    await alice.json(); // bob is online
    store.failing = 1;
    alice.sendJson({ type: "msg", to: "bob", text: "late but kept", id: "m" });
    expect(await alice.json()).toMatchObject({ type: "ok", re: "m" });
    expect(await bob.json()).toMatchObject({ type: "message", text: "late but kept" });
    alice.close();
    bob.close();
  });
});

describe("the log writer under a slow store", () => {
  test("turns that come while a commit is under way share the next commit", async () => {
    const commits: string[][] = [];
    const released: string[] = [];
    let finish: () => void = () => {};
    const writer = new LogWriter(
      (entries) => {
        commits.push(entries.map((e) => e.message.id));
        return commits.length === 1 ? new Promise<void>((r) => (finish = r)) : Promise.resolve();
      },
      (effects) =>
        released.push(
          ...effects.map((e) => (e.type === "send" && e.msg.type === "pong" ? `${e.msg.re}` : "")),
        ),
      setImmediate,
    );
    writer.add(entry("1"));
    writer.hold(ping(1));
    await new Promise((r) => setImmediate(r));
    // The first commit hangs; three more turns come.
    for (const n of [2, 3, 4]) {
      writer.add(entry(`${n}`));
      writer.hold(ping(n));
      await new Promise((r) => setImmediate(r));
    }
    expect(commits).toEqual([["1"]]);
    finish();
    await writer.idle();
    expect(commits).toEqual([["1"], ["2", "3", "4"]]);
    expect(released).toEqual(["1", "2", "3", "4"]);
  });
});
