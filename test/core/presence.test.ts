import { describe, expect, test } from "vitest";
import { type ChatMessage, Directory, type Effect } from "../../src/core/mod.ts";
import { errors, to, World } from "./world.ts";

/** How many messages these effects send, to all connections together. */
function deliveries(effects: Effect[]): number {
  let n = 0;
  for (const e of effects) {
    if (e.type === "send") n++;
    if (e.type === "fanout") n += e.conns.length;
    if (e.type === "stream") n += e.messages.length;
  }
  return n;
}

/** A world with `n` users online (conns 1..n), named u1..un, each alone. */
function crowd(n: number, presence: "auto" | "shared" | "all" = "auto"): World {
  const w = new World({ presence });
  for (let i = 1; i <= n; i++) w.login(i, `u${i}`);
  return w;
}

describe("presence on a big server (docs/protocol.md §12)", () => {
  test("auto tells everyone while at most RELAY_PRESENCE_ALL are online", () => {
    const w = new World({ presence: "auto", presenceAll: 3 });
    w.login(1, "amy");
    w.login(2, "bob");
    expect(to(1, w.login(3, "cat"))).toEqual([{ type: "presence", name: "cat", status: "online" }]);
    // A fourth user online: past the threshold, only those who share something hear.
    expect(to(1, w.login(4, "dan"))).toEqual([]);
  });

  test("auto counts a user who leaves among those online, as when they came", () => {
    const w = new World({ presence: "auto", presenceAll: 3 });
    w.login(1, "amy");
    w.login(2, "bob");
    w.login(3, "cat");
    expect(to(1, w.login(4, "dan"))).toEqual([]);
    // Four were online as dan left, dan included: past the threshold, as he came.
    expect(to(1, w.relay.handle({ type: "close", conn: 4, now: w.now }))).toEqual([]);
    // Three were online as cat left: everyone hears.
    expect(to(1, w.relay.handle({ type: "close", conn: 3, now: w.now }))).toEqual([
      { type: "presence", name: "cat", status: "offline" },
    ]);
  });

  test("shared: those in a room with the user, and those who wrote with them, are told", () => {
    const w = crowd(3, "shared");
    w.cmd(1, { type: "join", room: "#x" });
    w.cmd(2, { type: "join", room: "#x" });
    w.cmd(3, { type: "msg", to: "u4", text: "see you" }); // u4 is offline: held
    w.input({ type: "held", conn: 3, result: "held", now: w.now });
    w.relay.handle({ type: "close", conn: 1, now: w.now });
    const back = w.login(1, "u1");
    expect(to(2, back)).toEqual([{ type: "presence", name: "u1", status: "online" }]);
    expect(to(3, back)).toEqual([]);
    // u3 wrote to u4: u3 hears u4 come, nobody else does.
    const u4 = w.login(4, "u4");
    expect(to(3, u4)).toContainEqual({ type: "presence", name: "u4", status: "online" });
    expect(to(2, u4)).toEqual([]);
  });

  test("shared: a message held for a user links the two once it is delivered at login", () => {
    const w = crowd(3, "shared");
    w.cmd(3, { type: "msg", to: "u4", text: "call me" }); // u4 is offline: held
    w.input({ type: "held", conn: 3, result: "held", now: w.now });
    const held = { type: "message", id: "h1", from: "u3", to: "u4", text: "call me", ts: "" };
    const u4 = w.login(4, "u4", [held as ChatMessage]);
    expect(to(4, u4)).toContainEqual({ ...held, queued: true });
    // u4 got what u3 wrote: u4 hears u3 go and come back; u1, a stranger, does not.
    const gone = w.relay.handle({ type: "close", conn: 3, now: w.now });
    expect(to(4, gone)).toEqual([{ type: "presence", name: "u3", status: "offline" }]);
    expect(to(1, gone)).toEqual([]);
    expect(to(4, w.login(3, "u3"))).toEqual([{ type: "presence", name: "u3", status: "online" }]);
  });

  test("a login and a logout cost the same with 100 or 10,000 users online", () => {
    const cost = (n: number) => {
      const w = crowd(n);
      w.login(n + 1, "newcomer");
      const login = w.login(n + 2, "another");
      const logout = w.relay.handle({ type: "close", conn: n + 2, now: w.now });
      return deliveries(login) + deliveries(logout);
    };
    const small = cost(600);
    expect(small).toBeLessThan(10);
    expect(cost(10_000)).toBe(small);
  });

  test("welcome lists at most 100 names, those sharing a room first, and says how many", () => {
    const w = crowd(300);
    w.cmd(250, { type: "join", room: "#club" });
    w.cmd(260, { type: "join", room: "#club" });
    w.input({ type: "memberships", rooms: [{ room: "#club", members: ["zoe"] }] });
    const [welcome] = to(999, w.login(999, "zoe"));
    if (welcome?.type !== "welcome") throw new Error("no welcome");
    expect(welcome.rooms).toEqual(["#club"]);
    expect(welcome.users).toHaveLength(100);
    expect(welcome.users.slice(0, 2)).toEqual(["u250", "u260"]);
    expect(welcome.online).toBe(301);
    expect(welcome.users).not.toContain("zoe");
  });

  test("who pages through everyone, 1000 a page, in name order, case-insensitively", () => {
    const w = crowd(2500);
    w.login(9001, "Aaron");
    const first = to(1, w.cmd(1, { type: "who" }))[0];
    if (first?.type !== "who") throw new Error("no who");
    expect(first.users).toHaveLength(1000);
    expect(first.online).toBe(2501);
    expect(first.users[0]).toBe("Aaron");
    const sorted = [...first.users].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
    expect(first.users).toEqual(sorted);
    const seen = new Set(first.users);
    let next = first.next;
    while (next !== undefined) {
      const page = to(1, w.cmd(1, { type: "who", after: next }))[0];
      if (page?.type !== "who") throw new Error("no who");
      for (const u of page.users) seen.add(u);
      next = page.next;
    }
    expect(seen.size).toBe(2501);
  });

  test("who in a shared room still lists the room's members online", () => {
    const w = crowd(3);
    w.cmd(1, { type: "join", room: "#x" });
    w.cmd(2, { type: "join", room: "#x" });
    expect(to(3, w.cmd(3, { type: "who", room: "#x" }))).toMatchObject([{ users: ["u1", "u2"] }]);
  });
});

describe("rooms are bounded and listed in pages", () => {
  test("a user may be in at most maxRoomsPerUser rooms; joining one more is not_allowed", () => {
    const w = new World({ maxRoomsPerUser: 3 });
    w.login(1, "amy");
    for (const r of ["#a", "#b", "#c"]) w.cmd(1, { type: "join", room: r });
    expect(errors(1, w.cmd(1, { type: "join", room: "#d" }))).toEqual(["not_allowed"]);
    // Joining a room one is in already is no new membership; leaving makes room.
    expect(to(1, w.cmd(1, { type: "join", room: "#a" }))).toMatchObject([{ type: "ok" }]);
    w.cmd(1, { type: "leave", room: "#a" });
    expect(to(1, w.cmd(1, { type: "join", room: "#d" }))).toMatchObject([{ type: "ok" }]);
  });

  test("there are at most maxRooms rooms; joining an existing one still works", () => {
    const w = new World({ maxRooms: 2 });
    w.login(1, "amy");
    w.login(2, "bob");
    w.cmd(1, { type: "join", room: "#a" });
    w.cmd(1, { type: "join", room: "#b" });
    expect(errors(2, w.cmd(2, { type: "join", room: "#c" }))).toEqual(["not_allowed"]);
    expect(to(2, w.cmd(2, { type: "join", room: "#a" }))).toMatchObject([{ type: "ok" }]);
  });

  test("rooms lists 1000 a page, in name order, with next", () => {
    const w = new World({ maxRoomsPerUser: 5000 });
    w.login(1, "amy");
    for (let i = 0; i < 2500; i++) w.cmd(1, { type: "join", room: `#r${i}` });
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const [page] = to(1, w.cmd(1, { type: "rooms", ...(after !== undefined && { after }) }));
      if (page?.type !== "rooms") throw new Error("no rooms reply");
      expect(page.rooms.length).toBeLessThanOrEqual(1000);
      seen.push(...page.rooms.map((r) => r.room));
      after = page.next;
    } while (after !== undefined);
    expect(seen).toHaveLength(2500);
    expect(seen).toEqual([...seen].sort());
  });
});

describe("the directory of who is online", () => {
  test("keeps name order through many comings and goings, page after page", () => {
    // A pool of names in mixed case; a seeded walk of adds and removes, big enough for the
    // directory's blocks to be cut and merged many times.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pool = Array.from({ length: 4000 }, (_, i) => {
      const name = `n${random(1_000_000)}_${i}`;
      return i % 3 === 0 ? name.toUpperCase() : name;
    });
    const d = new Directory();
    const online = new Set<string>();
    const order = (a: string, b: string) => {
      const [x, y] = [a.toLowerCase(), b.toLowerCase()];
      return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
    };
    for (let step = 1; step <= 30_000; step++) {
      const name = pool[random(pool.length)] as string;
      // Mostly adds at first, then as many removes: the directory grows, then shrinks.
      const adding = step < 15_000 ? random(4) !== 0 : random(4) === 0;
      if (adding) {
        d.add(name.toLowerCase(), name);
        online.add(name);
      } else {
        d.remove(name.toLowerCase());
        online.delete(name);
      }
      if (step % 1000 !== 0) continue;
      const want = [...online].sort(order);
      expect(d.size).toBe(want.length);
      expect(d.first(100)).toEqual(want.slice(0, 100));
      const seen: string[] = [];
      let after: string | undefined;
      do {
        const page = d.page(after, 97);
        seen.push(...page.users);
        after = page.next;
        if (after !== undefined) expect(page.users).toHaveLength(97);
      } while (after !== undefined);
      expect(seen).toEqual(want);
    }
  });

  test("stays in order as names come in any order and leave from one end or the other", () => {
    for (const count of [6000, 720]) {
      const want = Array.from({ length: count }, (_, i) => `m${String(i).padStart(4, "0")}`);
      const shuffled = want.map((_, i) => want[(i * 7919) % count] as string);
      for (const arrival of [shuffled, want]) {
        for (const leaving of [want, [...want].reverse()]) {
          const d = new Directory();
          for (const name of arrival) d.add(name, name);
          for (const [i, name] of leaving.entries()) {
            d.remove(name);
            if (i % 97 === 0) expect(d.first(count)).toEqual(want.filter((n) => d.has(n)));
          }
          expect(d.size).toBe(0);
          expect(d.page(undefined, 10)).toEqual({ users: [] });
        }
      }
    }
  });

  test("a page after a name that is not online starts where that name would be", () => {
    const d = new Directory();
    for (const name of ["amy", "Bob", "dan", "Eve"]) d.add(name.toLowerCase(), name);
    expect(d.page("cat", 2)).toEqual({ users: ["dan", "Eve"] });
    expect(d.page("Bob", 1)).toEqual({ users: ["dan"], next: "dan" });
    expect(d.page("zed", 5)).toEqual({ users: [] });
    d.remove("bob");
    d.remove("nobody");
    expect(d.page(undefined, 10)).toEqual({ users: ["amy", "dan", "Eve"] });
  });
});
