import { describe, expect, test } from "vitest";
import type { BusEvent, Effect } from "../../src/core/mod.ts";
import { dropped, errors, to, World } from "./world.ts";

/**
 * Several relay cores wired together: what one publishes reaches the others (or the one
 * it names) in order, as Redis pub/sub or a BroadcastChannel would carry it.
 */
class Cluster {
  readonly nodes = new Map<string, World>();

  constructor(...ids: string[]) {
    for (const id of ids) this.add(id);
  }

  add(id: string): World {
    const w = new World({ clustered: true, node: id });
    this.nodes.set(id, w);
    return w;
  }

  node(id: string): World {
    const w = this.nodes.get(id);
    if (!w) throw new Error(`no node ${id}`);
    return w;
  }

  /** Runs `step` on one node and carries what it publishes until all is quiet. */
  on(id: string, step: (w: World) => Effect[]): Effect[] {
    const all: Effect[] = [];
    const queue: [string, Effect[]][] = [[id, step(this.node(id))]];
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [from, effects] = next;
      all.push(...effects);
      for (const e of effects) {
        if (e.type === "handOver") {
          // Taken by the recipient's node if it is there; a node gone is left to the test.
          const w = this.nodes.get(e.node);
          if (!w) continue;
          queue.push([e.node, w.input({ type: "bus", event: e.event, now: w.now })]);
          const sender = this.node(from);
          queue.push([
            from,
            sender.input({ type: "handedOver", conn: e.conn, result: "sent", now: sender.now }),
          ]);
        }
        if (e.type !== "publish") continue;
        for (const [other, w] of this.nodes) {
          if (other === from || (e.node !== undefined && e.node !== other)) continue;
          queue.push([other, w.input({ type: "bus", event: e.event, now: w.now })]);
        }
      }
    }
    return all;
  }

  login(id: string, conn: number, name: string): Effect[] {
    return this.on(id, (w) => w.login(conn, name));
  }
}

function published(effects: Effect[]): BusEvent[] {
  return effects.flatMap((e) => (e.type === "publish" ? [e.event] : []));
}

// Connection ids are unique across the cluster, so one list of effects tells who got what.
const A1 = 1;
const A2 = 2;
const B1 = 11;
const B2 = 12;
const C1 = 21;

describe("users on different nodes", () => {
  test("see one another come and go, in welcome, who and presence", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    const bob = c.login("b", B1, "bob");
    expect(to(B1, bob)[0]).toMatchObject({ type: "welcome", users: ["alice"] });
    expect(to(A1, bob)).toEqual([{ type: "presence", name: "bob", status: "online" }]);
    expect(
      to(
        A1,
        c.on("a", (w) => w.cmd(A1, { type: "who" }, "w")),
      ),
    ).toEqual([{ type: "who", re: "w", users: ["alice", "bob"], online: 2 }]);
    const gone = c.on("b", (w) => w.input({ type: "close", conn: B1, now: w.now }));
    expect(to(A1, gone)).toEqual([{ type: "presence", name: "bob", status: "offline" }]);
    expect(
      to(
        A1,
        c.on("a", (w) => w.cmd(A1, { type: "who" })),
      ),
    ).toMatchObject([{ users: ["alice"] }]);
  });

  test("talk privately, and a plain line answers whoever wrote last", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "Bob");
    const sent = c.on("a", (w) => w.cmd(A1, { type: "msg", to: "BOB", text: "hi" }, "m"));
    expect(to(B1, sent)).toMatchObject([{ type: "message", from: "alice", to: "Bob", text: "hi" }]);
    expect(to(A1, sent)).toMatchObject([{ type: "ok", re: "m" }]);
    expect(to(A1, sent)[0]).not.toHaveProperty("queued");
    const reply = c.on("b", (w) => w.cmd(B1, { type: "say", text: "hello" }));
    expect(to(A1, reply)).toMatchObject([{ type: "message", from: "Bob", text: "hello" }]);
  });

  test("`to` a user online elsewhere needs no lookup in the store", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    const chose = c.on("a", (w) => w.cmd(A1, { type: "to", name: "bob" }, "t"));
    expect(chose.some((e) => e.type === "lookupUser")).toBe(false);
    expect(to(A1, chose)).toEqual([{ type: "ok", re: "t" }]);
  });

  test("share rooms: joined, left, messages, who and rooms span the nodes", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("a", A2, "ann");
    c.login("b", B1, "bob");
    c.on("a", (w) => w.cmd(A1, { type: "join", room: "#Ops" }));
    const joined = c.on("b", (w) => w.cmd(B1, { type: "join", room: "#ops" }, "j"));
    // Members, online or not, in the order they joined.
    expect(to(B1, joined)).toEqual([
      { type: "ok", re: "j", room: "#Ops", users: ["alice", "bob"] },
    ]);
    expect(to(A1, joined)).toEqual([{ type: "joined", room: "#Ops", name: "bob" }]);
    expect(to(A2, joined)).toEqual([]);

    const said = c.on("b", (w) => w.cmd(B1, { type: "msg", to: "#ops", text: "all here?" }));
    expect(to(A1, said)).toMatchObject([{ type: "message", from: "bob", to: "#Ops" }]);
    expect(to(A2, said)).toEqual([]);
    expect(to(B1, said)).toMatchObject([{ type: "ok" }]);

    expect(
      to(
        A2,
        c.on("a", (w) => w.cmd(A2, { type: "rooms" })),
      ),
    ).toMatchObject([{ rooms: [{ room: "#Ops", members: 2 }] }]);
    expect(
      to(
        A2,
        c.on("a", (w) => w.cmd(A2, { type: "who", room: "#ops" })),
      ),
    ).toMatchObject([{ room: "#Ops", users: ["alice", "bob"] }]);
    const left = c.on("a", (w) => w.cmd(A1, { type: "leave", room: "#ops" }));
    expect(to(B1, left)).toEqual([{ type: "left", room: "#Ops", name: "alice" }]);
    // The room lives on node b only now; node a forgets it once b's last member leaves.
    c.on("b", (w) => w.cmd(B1, { type: "leave", room: "#ops" }));
    expect(
      errors(
        A2,
        c.on("a", (w) => w.cmd(A2, { type: "who", room: "#ops" })),
      ),
    ).toEqual(["no_such_room"]);
  });

  test("a message to everyone reaches every node once", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    c.login("b", B2, "bea");
    const all = c.on("a", (w) => w.cmd(A1, { type: "msg", to: "*", text: "hey" }));
    for (const conn of [B1, B2]) {
      expect(to(conn, all)).toMatchObject([{ type: "message", to: "*", text: "hey" }]);
    }
    expect(to(A1, all)).toMatchObject([{ type: "ok" }]);
  });

  test("an operator's announcement and kick reach users on other nodes", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    const said = c.on("a", (w) => w.input({ type: "announce", text: "restart soon", now: w.now }));
    expect(to(B1, said)).toMatchObject([{ type: "announce", text: "restart soon" }]);
    expect(c.node("a").relay.isOnline("BOB")).toBe(true);
    const kicked = c.on("a", (w) => w.input({ type: "kick", name: "bob", now: w.now }));
    expect(to(B1, kicked)).toEqual([{ type: "bye", reason: "kicked" }]);
    expect(to(A1, kicked)).toEqual([{ type: "presence", name: "bob", status: "offline" }]);
    expect(c.node("a").relay.isOnline("bob")).toBe(false);
  });
});

describe("one name, one node", () => {
  test("a name online elsewhere is refused at once without a password", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    const w = c.node("b");
    w.open(B1);
    expect(errors(B1, w.cmd(B1, { type: "login", name: "ALICE" }))).toEqual(["name_taken"]);
  });

  test("a claim the cluster refuses is name_taken, and the user may pick another name", () => {
    const w = new Cluster("a").node("a");
    w.open(A1);
    w.cmd(A1, { type: "login", name: "alice", password: "pw" });
    expect(errors(A1, w.authed(A1, "taken"))).toEqual(["name_taken"]);
    expect(w.relay.isLoggedIn(A1)).toBe(false);
    expect(to(A1, w.login(A1, "alicia"))[0]).toMatchObject({ type: "welcome" });
  });

  test("the owner logging in elsewhere replaces the old session, quietly for the others", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("a", A2, "ann");
    c.on("a", (w) => w.cmd(A1, { type: "join", room: "#ops" }));
    const moved = c.on("b", (w) => {
      w.open(B1);
      w.cmd(B1, { type: "login", name: "alice", password: "pw" });
      w.authed(B1, "verified");
      return w.loaded(B1);
    });
    expect(to(A1, moved)).toEqual([{ type: "bye", reason: "replaced" }]);
    expect(to(B1, moved)[0]).toMatchObject({ type: "welcome", name: "alice", users: ["ann"] });
    expect(to(A2, moved).filter((m) => m.type === "presence")).toEqual([]);
    // The lease now belongs to node b: node a must not let it go.
    expect(moved.filter((e) => e.type === "release")).toEqual([]);
    expect(
      to(
        A2,
        c.on("a", (w) => w.cmd(A2, { type: "who" })),
      ),
    ).toMatchObject([{ users: ["alice", "ann"] }]);
  });

  test("a name is released when its user leaves, not when the same node takes it over", () => {
    const w = new Cluster("a").node("a");
    w.login(A1, "alice");
    w.open(A2);
    w.cmd(A2, { type: "login", name: "alice", password: "pw" });
    const takeover = w.authed(A2, "verified");
    expect(takeover.filter((e) => e.type === "release")).toEqual([]);
    w.loaded(A2);
    const quit = w.cmd(A2, { type: "quit" });
    expect(quit.filter((e) => e.type === "release")).toEqual([{ type: "release", key: "alice" }]);
  });

  test("a name claimed for a connection that closed meanwhile is let go", () => {
    const w = new Cluster("a").node("a");
    w.open(A1);
    w.cmd(A1, { type: "login", name: "Alice" });
    w.input({ type: "close", conn: A1, now: w.now });
    expect(w.authed(A1, "ok")).toEqual([{ type: "release", key: "alice" }]);
  });
});

describe("nodes come and go", () => {
  test("a node that stops answering takes its users offline; they stay members of their rooms", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    c.on("a", (w) => w.cmd(A1, { type: "join", room: "#ops" }));
    c.on("b", (w) => w.cmd(B1, { type: "join", room: "#ops" }));
    const down = c.on("a", (w) => w.input({ type: "nodeDown", node: "b", now: w.now }));
    expect(to(A1, down)).toEqual([{ type: "presence", name: "bob", status: "offline" }]);
    expect(
      to(
        A1,
        c.on("a", (w) => w.cmd(A1, { type: "who", room: "#ops" })),
      ),
    ).toMatchObject([{ users: ["alice"] }]);
    expect(
      to(
        A1,
        c.on("a", (w) => w.cmd(A1, { type: "rooms" })),
      ),
    ).toMatchObject([{ rooms: [{ room: "#ops", members: 2, online: 1 }] }]);
    const w = c.node("a");
    w.open(A2);
    expect(to(A2, w.cmd(A2, { type: "login", name: "bob" }))).toEqual([]);
  });

  test("what a node missed goes to it when it is taken for down, in case it is alive", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    const a = c.node("a");
    a.cmd(A1, { type: "msg", to: "bob", text: "one" }, "1");
    a.input({ type: "handedOver", conn: A1, result: "held", now: a.now });
    a.cmd(A1, { type: "msg", to: "*", text: "two" }, "2");
    const down = a.input({ type: "nodeDown", node: "b", now: a.now });
    const sent = down.flatMap((e) =>
      e.type === "publish" && e.node === "b" && e.event.kind === "message"
        ? [e.event.message.text]
        : [],
    );
    expect(sent).toEqual(["one", "two"]);
    // Nothing is kept for it any more: later messages go to every node again.
    expect(
      published(a.cmd(A1, { type: "msg", to: "*", text: "three" }, "3"))[0],
    ).not.toHaveProperty("skip");
  });

  test("a node shutting down says so once; its users go offline elsewhere", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    c.login("b", B2, "bea");
    const stop = c.on("b", (w) => w.input({ type: "shutdown", now: w.now }));
    expect(published(stop)).toEqual([{ kind: "down", node: "b" }]);
    expect(to(A1, stop)).toEqual([
      { type: "presence", name: "bob", status: "offline" },
      { type: "presence", name: "bea", status: "offline" },
    ]);
    expect(stop.filter((e) => e.type === "release")).toHaveLength(2);
  });

  test("a new node asks the others what they hold, and learns it quietly", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    c.on("b", (w) => w.cmd(B1, { type: "join", room: "#ops" }));
    c.add("c");
    // The host of node c says hello when it starts; the bus carries it to a and b.
    for (const id of ["a", "b"]) {
      c.on(id, (w) => w.input({ type: "bus", event: { kind: "hello", node: "c" }, now: w.now }));
    }
    const joined = c.login("c", C1, "cleo");
    expect(to(C1, joined)[0]).toMatchObject({ type: "welcome", users: ["alice", "bob"] });
    expect(
      to(
        C1,
        c.on("c", (w) => w.cmd(C1, { type: "rooms" })),
      ),
    ).toMatchObject([{ rooms: [{ room: "#ops", members: 1 }] }]);
  });
});

describe("after the bus was cut", () => {
  test("a node that syncs learns what it missed, and the others learn what it holds", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    // While the bus is cut, alice leaves and ann arrives on node a; node b hears nothing.
    const a = c.node("a");
    a.input({ type: "close", conn: A1, now: a.now });
    a.login(A2, "ann");
    // Node b reconnects: it asks node a what it holds.
    c.on("b", (w) => w.input({ type: "sync", now: w.now }));
    expect(
      to(
        B1,
        c.on("b", (w) => w.cmd(B1, { type: "who" })),
      ),
    ).toMatchObject([{ users: ["ann", "bob"] }]);
  });

  test("a name both nodes gave out meanwhile stays with the session that has it", () => {
    const c = new Cluster("a", "b");
    c.node("a").login(A1, "alice");
    c.node("b").login(B1, "alice");
    const synced = c.on("b", (w) => w.input({ type: "sync", now: w.now }));
    expect(synced.filter((e) => e.type === "close")).toEqual([]);
    expect(c.node("a").relay.isLoggedIn(A1)).toBe(true);
    expect(c.node("b").relay.isLoggedIn(B1)).toBe(true);
  });
});

describe("messages between nodes are never lost", () => {
  test("a private message whose recipient left meanwhile is kept for them", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    // bob leaves node b, but node a has not heard of it when alice writes.
    const b = c.node("b");
    b.input({ type: "close", conn: B1, now: b.now });
    const sent = c.on("a", (w) => w.cmd(A1, { type: "msg", to: "bob", text: "still there?" }));
    expect(sent.filter((e) => e.type === "keep")).toMatchObject([
      { type: "keep", key: "bob", message: { from: "alice", to: "bob", text: "still there?" } },
    ]);
  });

  test("a message held while its recipient logged in on another node is handed over once", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    const a = c.node("a");
    a.cmd(A1, { type: "msg", to: "bob", text: "when you are back" }, "m");
    // bob comes online on node b while the store holds the message.
    c.login("b", B1, "bob");
    const held = c.on("a", (w) => w.input({ type: "held", conn: A1, result: "held", now: w.now }));
    expect(to(A1, held)).toMatchObject([{ type: "ok", re: "m", queued: true }]);
    expect(to(B1, held)).toMatchObject([
      { type: "message", text: "when you are back", queued: true },
    ]);
    expect(dropped(held)).toEqual(new Map([["bob", [(to(B1, held)[0] as { id: string }).id]]]));
  });

  test("`ok` waits until the recipient's node took the message; commands behind it wait too", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    const a = c.node("a");
    const asked = a.cmd(A1, { type: "msg", to: "bob", text: "hi" }, "m");
    expect(asked).toMatchObject([
      { type: "append", entry: { conv: "@alice|bob", users: ["alice", "bob"] } },
      {
        type: "handOver",
        conn: A1,
        node: "b",
        key: "bob",
        event: { kind: "message", scope: "user", message: { to: "bob", text: "hi" } },
      },
    ]);
    expect(to(A1, a.cmd(A1, { type: "ping" }, "p"))).toEqual([]);
    const taken = a.input({ type: "handedOver", conn: A1, result: "sent", now: a.now });
    expect(to(A1, taken)).toMatchObject([
      { type: "ok", re: "m" },
      { type: "pong", re: "p" },
    ]);
    expect(to(A1, taken)[0]).not.toHaveProperty("queued");
  });

  test("a message the recipient's node did not take is held, and the sender is told so", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    const a = c.node("a");
    a.cmd(A1, { type: "msg", to: "bob", text: "are you there?" }, "m");
    const held = a.input({ type: "handedOver", conn: A1, result: "held", now: a.now });
    expect(to(A1, held)).toMatchObject([{ type: "ok", re: "m", queued: true, to: "bob" }]);
    // Node b is asked what it holds: if it is back already, its answer is hearing it again.
    expect(held).toContainEqual({
      type: "publish",
      event: { kind: "hello", node: "a" },
      node: "b",
    });
    // Until node b is heard again, later messages to its users are held too, not handed.
    expect(a.cmd(A1, { type: "msg", to: "bob", text: "again" }, "n")).toMatchObject([
      { type: "append" },
      { type: "hold", key: "bob" },
    ]);
    const lost = a.input({ type: "held", conn: A1, result: "unavailable", now: a.now });
    expect(errors(A1, lost)).toEqual(["queue_full"]);
  });

  test("what node b missed goes to it, in order, when it says hello, before later messages", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    const a = c.node("a");
    a.cmd(A1, { type: "msg", to: "bob", text: "one" }, "1");
    a.input({ type: "handedOver", conn: A1, result: "held", now: a.now });
    a.cmd(A1, { type: "msg", to: "bob", text: "two" }, "2");
    a.input({ type: "held", conn: A1, result: "held", now: a.now });
    const back = a.input({ type: "bus", event: { kind: "hello", node: "b" }, now: a.now });
    const sent = back.flatMap((e) =>
      e.type === "publish" && e.node === "b" && e.event.kind === "message"
        ? [e.event.message.text]
        : [],
    );
    expect(sent).toEqual(["one", "two"]);
    // From now on, messages to bob are handed over live again.
    expect(a.cmd(A1, { type: "msg", to: "bob", text: "three" }, "3")).toMatchObject([
      { type: "append" },
      { type: "handOver", node: "b" },
    ]);
  });

  test("a message held for a user this node thinks offline reaches them where they are online", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    const a = c.node("a");
    const b = c.node("b");
    b.login(B1, "bob"); // node a does not hear of it (its bus was cut)
    expect(a.cmd(A1, { type: "msg", to: "bob", text: "where are you?" }, "m")).toMatchObject([
      { type: "hold", key: "bob" },
    ]);
    const held = a.input({ type: "held", conn: A1, result: "held", now: a.now });
    expect(to(A1, held)).toMatchObject([{ type: "ok", re: "m", queued: true }]);
    const copies = published(held);
    expect(copies).toMatchObject([
      { kind: "message", scope: "user", message: { text: "where are you?", queued: true } },
    ]);
    expect(
      to(B1, b.input({ type: "bus", event: copies[0] as BusEvent, now: b.now })),
    ).toMatchObject([{ type: "message", text: "where are you?", queued: true }]);
    // A node where bob is not online lets the copy be: it is held in the store already.
    const elsewhere = c.add("c");
    expect(elsewhere.input({ type: "bus", event: copies[0] as BusEvent, now: b.now })).toEqual([]);
  });

  test("a message node b did not take reaches its user where they went meanwhile", () => {
    const c = new Cluster("a", "b", "c");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    const a = c.node("a");
    a.cmd(A1, { type: "msg", to: "bob", text: "did you move?" }, "m");
    // Node b died; bob is back on c, and a has not heard yet.
    c.node("c").input({ type: "nodeDown", node: "b", now: a.now });
    c.node("c").login(C1, "bob");
    const held = a.input({ type: "handedOver", conn: A1, result: "held", now: a.now });
    const copies = published(held).filter((e) => e.kind === "message");
    expect(copies).toMatchObject([{ scope: "user", skip: ["b"], message: { queued: true } }]);
    const got = c.node("c").input({ type: "bus", event: copies[0] as BusEvent, now: a.now });
    expect(to(C1, got)).toMatchObject([{ type: "message", text: "did you move?", queued: true }]);
  });

  test("a room or * message does not overtake, at node b, a private one b missed", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    c.on("a", (w) => w.cmd(A1, { type: "join", room: "#dev" }));
    c.on("b", (w) => w.cmd(B1, { type: "join", room: "#dev" }));
    const a = c.node("a");
    const b = c.node("b");
    a.cmd(A1, { type: "msg", to: "bob", text: "private first" }, "1");
    a.input({ type: "handedOver", conn: A1, result: "held", now: a.now });
    // Then alice writes to the room and to everyone: b is not to take these copies yet.
    const room = published(a.cmd(A1, { type: "msg", to: "#dev", text: "room second" }, "2"));
    const all = published(a.cmd(A1, { type: "msg", to: "*", text: "all third" }, "3"));
    expect([...room, ...all]).toMatchObject([
      { kind: "message", scope: "room", skip: ["b"] },
      { kind: "message", scope: "all", skip: ["b"] },
    ]);
    for (const event of [...room, ...all]) {
      expect(to(B1, b.input({ type: "bus", event, now: b.now }))).toEqual([]);
    }
    // When b is heard again, it gets all three from a, in the order alice wrote them.
    const back = a.input({ type: "bus", event: { kind: "hello", node: "b" }, now: a.now });
    const got: unknown[] = [];
    for (const e of back) {
      if (e.type !== "publish" || e.node !== "b") continue;
      got.push(...to(B1, b.input({ type: "bus", event: e.event, now: b.now })));
    }
    expect(got).toMatchObject([
      { type: "message", text: "private first", queued: true },
      { type: "message", text: "room second" },
      { type: "message", text: "all third" },
    ]);
    // Then room messages go to every node again.
    const later = published(a.cmd(A1, { type: "msg", to: "#dev", text: "later" }, "4"));
    expect(later).toMatchObject([{ kind: "message", scope: "room" }]);
    expect(later[0]).not.toHaveProperty("skip");
  });

  test("after a sync, what the store held for users online here is handed to them once", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    const b = c.node("b");
    const synced = b.input({ type: "sync", now: b.now });
    expect(synced.filter((e) => e.type === "catchUp")).toMatchObject([
      { type: "catchUp", held: ["bob"] },
    ]);
    const held = {
      type: "message" as const,
      id: "0001a",
      from: "alice",
      to: "bob",
      text: "sent while the bus was cut",
      ts: "2026-01-02T03:04:05.000Z",
    };
    // The catch-up ends when the logs, and then the held messages, have been read.
    const found = b.input({
      type: "caughtUp",
      messages: [],
      held: [{ key: "bob", messages: [held] }],
      now: b.now,
    });
    expect(to(B1, found)).toEqual([{ ...held, queued: true }]);
    expect(dropped(found)).toEqual(new Map([["bob", ["0001a"]]]));
    // Found again before the store dropped it: not handed over twice.
    expect(
      to(B1, b.input({ type: "heldFound", key: "bob", messages: [held], now: b.now })),
    ).toEqual([]);
    // A plain line now answers alice, who wrote it.
    const reply = c.on("b", (w) => w.cmd(B1, { type: "say", text: "got it" }));
    expect(to(A1, reply)).toMatchObject([{ type: "message", from: "bob", text: "got it" }]);
  });

  test("messages between the same two users keep their order across nodes", () => {
    const c = new Cluster("a", "b");
    c.login("a", A1, "alice");
    c.login("b", B1, "bob");
    const got: string[] = [];
    for (let i = 0; i < 20; i++) {
      const effects = c.on("a", (w) => w.cmd(A1, { type: "msg", to: "bob", text: `m${i}` }));
      for (const m of to(B1, effects)) if (m.type === "message") got.push(m.text);
    }
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });
});
