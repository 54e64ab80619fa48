import { describe, expect, test } from "vitest";
import { Context } from "../../src/core/context.ts";
import { nameKey, type ServerMessage } from "../../src/core/mod.ts";
import { addMember, roomOf, whoInRoom } from "../../src/core/rooms.ts";
import { newSession, type Session } from "../../src/core/state.ts";
import { to, World } from "./world.ts";

/** Names in the order `who` lists them: case-insensitively (docs/protocol.md §5). */
function sorted(names: string[]): string[] {
  return [...names].sort((a, b) => {
    const [x, y] = [a.toLowerCase(), b.toLowerCase()];
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

describe("who #room (docs/protocol.md §5, §12)", () => {
  test("lists the members online in name order, case-insensitively, and counts them", () => {
    const w = new World();
    w.input({ type: "memberships", rooms: [{ room: "#dev", members: ["zed"] }] });
    for (const [conn, name] of [
      [1, "dan"],
      [2, "Amy"],
      [3, "cat"],
      [4, "Bob"],
    ] as const) {
      w.login(conn, name);
      w.cmd(conn, { type: "join", room: "#dev" });
    }
    w.login(5, "eve");
    // zed is a member but offline; eve is online but no member.
    expect(to(5, w.cmd(5, { type: "who", room: "#DEV" }, "w"))).toEqual([
      { type: "who", re: "w", room: "#dev", users: ["Amy", "Bob", "cat", "dan"], online: 4 },
    ]);
    w.relay.handle({ type: "close", conn: 3, now: w.now });
    w.cmd(4, { type: "leave", room: "#dev" });
    expect(to(5, w.cmd(5, { type: "who", room: "#dev" }))).toMatchObject([
      { users: ["Amy", "dan"], online: 2 },
    ]);
    // Back online, cat is listed again; zed too once logged in.
    w.login(3, "cat");
    w.login(6, "zed");
    expect(to(5, w.cmd(5, { type: "who", room: "#dev" }))).toMatchObject([
      { users: ["Amy", "cat", "dan", "zed"], online: 4 },
    ]);
  });

  test("a room with 2500 online is listed 1000 a page, next passed back as after", () => {
    const w = new World({ presence: "off" });
    const names = Array.from(
      { length: 2500 },
      (_, i) => `${i % 3 ? "m" : "M"}${(i * 7919) % 2500}`,
    );
    w.input({ type: "memberships", rooms: [{ room: "#big", members: names }] });
    for (const [i, name] of names.entries()) w.login(i + 1, name);
    const [page] = to(1, w.cmd(1, { type: "who", room: "#big" }));
    const want = sorted(names);
    expect(page).toEqual({
      type: "who",
      re: null,
      room: "#big",
      users: want.slice(0, 1000),
      online: 2500,
      next: want[999],
    });
    // `next` passed back as `after`: every page once, and no `next` on the last.
    if (page?.type !== "who") throw new Error("no who");
    const seen = [...page.users];
    let after = page.next;
    while (after !== undefined) {
      const [more] = to(1, w.cmd(1, { type: "who", room: "#big", after }));
      if (more?.type !== "who") throw new Error("no who");
      expect(more.online).toBe(2500);
      seen.push(...more.users);
      after = more.next;
    }
    expect(seen).toEqual(want);
    // The rooms list counts the same members online.
    expect(to(1, w.cmd(1, { type: "rooms" }))).toMatchObject([
      { rooms: [{ room: "#big", members: 2500, online: 2500 }] },
    ]);
  });
});

describe("whoInRoom pages a room's members online, here and on other nodes", () => {
  /** A room whose members are online here (even i) or on node b (odd i), and who asks. */
  function world(names: string[]): { cx: Context; asker: Session; here: Session[] } {
    const cx = new Context({});
    const room = roomOf(cx, "#big", "#big");
    const here: Session[] = [];
    names.forEach((name, i) => {
      const key = nameKey(name);
      addMember(cx, room, key, name);
      if (i % 2 === 1) room.remote.set(key, { name, node: "b" });
      else {
        const s = { ...newSession(i), name, key, phase: "online" as const };
        room.members.set(key, s);
        here.push(s);
      }
    });
    return { cx, asker: newSession(-1), here };
  }

  function who(
    cx: Context,
    asker: Session,
    after?: string,
  ): Extract<ServerMessage, { type: "who" }> {
    cx.out = [];
    whoInRoom(cx, asker, "#big", null, after);
    const [effect] = cx.out;
    if (effect?.type !== "send" || effect.msg.type !== "who") throw new Error("no who");
    return effect.msg;
  }

  test("next passed back as after walks every page once, 1000 a page, in order", () => {
    const names = Array.from({ length: 2345 }, (_, i) => `${i % 2 ? "u" : "U"}${(i * 101) % 2345}`);
    const { cx, asker } = world(names);
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = who(cx, asker, after);
      expect(page.online).toBe(2345);
      expect(page.users.length).toBe(page.next === undefined ? 345 : 1000);
      seen.push(...page.users);
      after = page.next;
    } while (after !== undefined);
    expect(seen).toEqual(sorted(names));
  });

  test("a page after a name not in the room starts where that name would be", () => {
    const { cx, asker } = world(["amy", "Bob", "dan", "Eve"]);
    expect(who(cx, asker, "cat")).toMatchObject({ users: ["dan", "Eve"], online: 4 });
    // `after` is compared with the names as shown: BOB sorts before Bob.
    expect(who(cx, asker, "BOB").users).toEqual(["Bob", "dan", "Eve"]);
    expect(who(cx, asker, "zed")).toEqual({
      type: "who",
      re: null,
      room: "#big",
      users: [],
      online: 4,
    });
  });

  test("a user moving between nodes is listed once, and not at all once gone from both", () => {
    const { cx, asker, here } = world(["ann", "bob", "cat"]);
    const room = cx.rooms.get("#big");
    if (!room) throw new Error("no room");
    // bob (on node b) logs in here: for a moment on both sides.
    const bob = { ...newSession(7), name: "bob", key: nameKey("bob"), phase: "online" as const };
    room.members.set(bob.key, bob);
    expect(who(cx, asker)).toMatchObject({ users: ["ann", "bob", "cat"], online: 3 });
    room.remote.delete(bob.key);
    expect(who(cx, asker)).toMatchObject({ users: ["ann", "bob", "cat"], online: 3 });
    // ann (here) logged in on node b: on both sides, then gone from here.
    const ann = nameKey("ann");
    room.remote.set(ann, { name: "ann", node: "b" });
    room.members.delete(ann);
    expect(who(cx, asker)).toMatchObject({ users: ["ann", "bob", "cat"], online: 3 });
    room.remote.delete(ann);
    room.members.delete(bob.key);
    room.members.delete(here[1]?.key ?? "");
    expect(who(cx, asker)).toMatchObject({ users: [], online: 0 });
  });
});
