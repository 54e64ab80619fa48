import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { LineClient } from "../support/client.ts";
import { FOUR_WAYS, type Ports, User, type Way } from "../support/four-ways.ts";
import { type RelayProcess, spawnSharedRelay } from "../support/process.ts";

// docs/protocol.md §12 end to end: presence in each mode, the welcome's list and the pages of
// `who`, over TCP and WebSocket, in JSON and in text mode, on Node and Deno processes. Each
// runtime runs one relay per presence mode, shared by the tests of the four ways; every test
// leaves its server as it found it (its users quit), since `auto` counts who is online.

/** How many users of the crowd stay online on the `off` server: one page of `who` and more. */
const CROWD = 1000;

/** The crowd's names: p0000, P0001, p0002, ...: upper and lower case mixed, to sort by. */
const crowdNames = Array.from(
  { length: CROWD },
  (_, i) => `${i % 2 === 0 ? "p" : "P"}${String(i).padStart(4, "0")}`,
);

/** Names in the order `who` lists them: case-insensitively (docs/protocol.md §5). */
function sorted(names: string[]): string[] {
  return [...names].sort((a, b) => {
    const [x, y] = [a.toLowerCase(), b.toLowerCase()];
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** Logs `names` in over TCP in JSON mode, a hundred at a time; they stay online. */
async function logInCrowd(port: number, names: string[]): Promise<LineClient[]> {
  const clients: LineClient[] = [];
  for (let i = 0; i < names.length; i += 100) {
    const batch = names.slice(i, i + 100).map(async (name) => {
      const c = await LineClient.open(port);
      c.sendJson({ type: "login", name });
      const welcome = await c.json(20_000);
      if (welcome.type !== "welcome") throw new Error(`${name}: ${JSON.stringify(welcome)}`);
      return c;
    });
    clients.push(...(await Promise.all(batch)));
  }
  return clients;
}

/** Asks a crowd member (JSON over TCP) to join a room, and waits for its `ok`. */
async function crowdJoins(c: LineClient, room: string): Promise<void> {
  c.sendJson({ type: "join", room, id: "join" });
  for (;;) {
    const reply = await c.json();
    if (reply.re === "join") {
      if (reply.type !== "ok") throw new Error(`join ${room}: ${JSON.stringify(reply)}`);
      return;
    }
  }
}

const presence = (name: string, status: "online" | "offline") =>
  ({ kind: "presence", name, status }) as const;

describe.each(["node", "deno"] as const)("§12 presence and lists on %s", (runtime) => {
  let auto: RelayProcess;
  let all: RelayProcess;
  let shared: RelayProcess;
  let off: RelayProcess;
  let crowd: LineClient[] = [];

  beforeAll(async () => {
    [auto, all, shared, off] = await Promise.all([
      // RELAY_PRESENCE unset: auto is the default.
      spawnSharedRelay(runtime, { RELAY_PRESENCE_ALL: "3" }),
      spawnSharedRelay(runtime, { RELAY_PRESENCE: "all", RELAY_PRESENCE_ALL: "3" }),
      spawnSharedRelay(runtime, { RELAY_PRESENCE: "shared", RELAY_PRESENCE_ALL: "3" }),
      spawnSharedRelay(runtime, { RELAY_PRESENCE: "off", RELAY_PRESENCE_ALL: "3" }),
    ]);
    crowd = await logInCrowd(off.tcpPort, crowdNames);
  }, 60_000);

  afterAll(async () => {
    for (const c of crowd) c.close();
    await Promise.all([auto, all, shared, off].map((r) => r?.kill("SIGKILL")));
  });

  describe.each(FOUR_WAYS)("over $transport in $encoding mode", (way: Way) => {
    // Names and rooms of this way's tests, apart from the other ways'.
    const tag = `${way.transport}_${way.encoding}`;
    const mine: User[] = [];
    const login = async (ports: Ports, name: string) => {
      const u = await User.login(ports, way, `${name}_${tag}`);
      mine.push(u);
      return u;
    };
    afterEach(() => {
      for (const u of mine.splice(0)) u.close();
    });

    test("auto (the default) tells everyone up to RELAY_PRESENCE_ALL online, then as shared", async () => {
      const obs = await login(auto, "obs");
      expect(obs.welcome).toEqual({ name: obs.name, users: [], online: 1, rooms: [] });
      const amy = await login(auto, "amy");
      expect(amy.welcome).toMatchObject({ users: [obs.name], online: 2 });
      expect(await obs.next()).toEqual(presence(amy.name, "online"));
      const bob = await login(auto, "bob");
      expect(bob.welcome.online).toBe(3);
      expect(await obs.next()).toEqual(presence(bob.name, "online"));
      // A fourth online is past the threshold: nobody shares anything with cat.
      const cat = await login(auto, "cat");
      expect(cat.welcome.online).toBe(4);
      await obs.nothingNew();
      // Four were online as cat went, cat included: nobody hears that either.
      await cat.quit();
      await obs.nothingNew();
      // Three online as bob goes: everyone hears.
      await bob.quit();
      expect(await obs.next()).toEqual(presence(bob.name, "offline"));
      const cat2 = await login(auto, "cat");
      expect(cat2.welcome.online).toBe(3);
      expect(await obs.next()).toEqual(presence(cat2.name, "online"));
      // Past the threshold again it works as shared: one who wrote with obs is told apart.
      const dan = await login(auto, "dan");
      await obs.nothingNew();
      await dan.tell(obs.name, "hello");
      expect(await obs.next()).toMatchObject({ kind: "message", from: dan.name, text: "hello" });
      await dan.quit();
      expect(await obs.next()).toEqual(presence(dan.name, "offline"));
      // cat2 shares nothing with dan: told of neither his coming nor his going.
      await cat2.nothingNew();
      for (const u of [obs, amy, cat2]) await u.quit();
    });

    test("all tells everyone of every login and logout, past RELAY_PRESENCE_ALL too", async () => {
      const obs = await login(all, "obs");
      const others: User[] = [];
      for (const name of ["amy", "bob", "cat", "dan", "eve"]) {
        const u = await login(all, name);
        others.push(u);
        expect(await obs.next()).toEqual(presence(u.name, "online"));
      }
      expect(others.at(-1)?.welcome.online).toBe(6);
      for (const u of others.reverse()) {
        await u.quit();
        expect(await obs.next()).toEqual(presence(u.name, "offline"));
      }
      await obs.nothingNew();
      await obs.quit();
    });

    test("shared tells room mates and those who exchanged a private message, nobody else", async () => {
      const room = `#r_${tag}`;
      const obs = await login(shared, "obs");
      const mate = await login(shared, "mate");
      const pal = await login(shared, "pal");
      const stranger = await login(shared, "stranger");
      await obs.nothingNew();
      expect(await obs.join(room)).toEqual([obs.name]);
      expect(await mate.join(room)).toEqual([obs.name, mate.name]);
      expect(await obs.next()).toEqual({ kind: "joined", room, name: mate.name });
      await obs.tell(pal.name, "hi");
      expect(await pal.next()).toMatchObject({ kind: "message", from: obs.name, text: "hi" });
      // The room mate and the pal go: obs hears; the stranger goes unheard.
      await mate.quit();
      expect(await obs.next()).toEqual(presence(mate.name, "offline"));
      await pal.quit();
      expect(await obs.next()).toEqual(presence(pal.name, "offline"));
      await stranger.quit();
      await obs.nothingNew();
      // They come back: the room mate (still a member) and the pal are heard; the stranger not.
      const mate2 = await login(shared, "mate");
      expect(mate2.welcome).toMatchObject({ users: [obs.name], online: 2, rooms: [room] });
      expect(await obs.next()).toEqual(presence(mate2.name, "online"));
      const pal2 = await login(shared, "pal");
      expect(await obs.next()).toEqual(presence(pal2.name, "online"));
      const stranger2 = await login(shared, "stranger");
      await obs.nothingNew();
      // The other way round: obs's room mate and the one who wrote to obs hear obs go.
      await pal2.tell(obs.name, "back");
      expect(await obs.next()).toMatchObject({ kind: "message", from: pal2.name, text: "back" });
      await obs.quit();
      expect(await mate2.next()).toEqual(presence(obs.name, "offline"));
      expect(await pal2.next()).toEqual(presence(obs.name, "offline"));
      await stranger2.nothingNew();
      for (const u of [mate2, pal2, stranger2]) await u.quit();
    });

    test("shared: a message held for one offline links the two once it is handed over", async () => {
      const reader = await login(shared, "reader");
      await reader.quit();
      const writer = await login(shared, "writer");
      await writer.tellOffline(reader.name, "call me");
      const back = await login(shared, "reader");
      expect(await back.next()).toMatchObject({
        kind: "message",
        from: writer.name,
        text: "call me",
      });
      // The reader got what the writer wrote: each now hears the other go.
      await writer.quit();
      expect(await back.next()).toEqual(presence(writer.name, "offline"));
      const writer2 = await login(shared, "writer");
      expect(await back.next()).toEqual(presence(writer2.name, "online"));
      await back.quit();
      await writer2.nothingNew();
      await writer2.quit();
    });

    test("off tells nobody, not even room mates or those who wrote", async () => {
      const room = `#r_${tag}`;
      const obs = await login(off, "obs");
      const pal = await login(off, "pal");
      await obs.nothingNew();
      await obs.join(room);
      await pal.join(room);
      expect(await obs.next()).toEqual({ kind: "joined", room, name: pal.name });
      await pal.tell(obs.name, "hi");
      expect(await obs.next()).toMatchObject({ kind: "message", from: pal.name, text: "hi" });
      await pal.quit();
      await obs.nothingNew();
      const pal2 = await login(off, "pal");
      await obs.nothingNew();
      await obs.quit();
      await pal2.nothingNew();
      await pal2.quit();
    });

    test("welcome names at most 100 online, room mates first, and says how many", async () => {
      const club = `#club_${tag}`;
      const first = await login(off, "newcomer");
      expect(first.welcome.online).toBe(CROWD + 1);
      expect(first.welcome.users).toHaveLength(100);
      expect(new Set(first.welcome.users).size).toBe(100);
      for (const name of first.welcome.users) expect(crowdNames).toContain(name);
      await first.join(club);
      await first.quit();
      // Two of the crowd late in name order join the newcomer's room while it is away.
      const at = 900 + 10 * FOUR_WAYS.indexOf(way);
      const mates = [crowd[at + 1], crowd[at]] as LineClient[];
      for (const c of mates) await crowdJoins(c, club);
      const back = await login(off, "newcomer");
      expect(back.welcome.rooms).toEqual([club]);
      expect(back.welcome.online).toBe(CROWD + 1);
      expect(back.welcome.users).toHaveLength(100);
      expect(sorted(back.welcome.users.slice(0, 2))).toEqual(
        sorted([crowdNames[at] as string, crowdNames[at + 1] as string]),
      );
      expect(back.welcome.users).not.toContain(back.name);
      expect(new Set(back.welcome.users).size).toBe(100);
      await back.quit();
    });

    test("who lists everyone online in pages of 1000, sorted case-insensitively", async () => {
      const me = await login(off, "asker");
      const everyone = sorted([...crowdNames, me.name]);
      // Text mode prints no count, and `next` as the command for the next page.
      const online = way.encoding === "json" ? { online: CROWD + 1 } : {};
      const page = await me.who();
      expect(page).toEqual({ users: everyone.slice(0, 1000), ...online, next: everyone[999] });
      // `next` passed back as `after`: the rest, and no `next` on the last page.
      expect(await me.who({ after: page.next as string })).toEqual({
        users: everyone.slice(1000),
        ...online,
      });
      await me.quit();
    });

    test("who #room lists the room's members online, sorted case-insensitively", async () => {
      const room = `#who_${tag}`;
      const members = [await login(off, "zoe"), await login(off, "Amy"), await login(off, "bob")];
      for (const u of members) await u.join(room);
      const away = await login(off, "Cat");
      await away.join(room);
      await away.quit();
      // One who is not a member asks (the members have joined events to read).
      const looker = await login(off, "looker");
      const online = way.encoding === "json" ? { online: 3 } : {};
      expect(await looker.who({ room })).toEqual({
        room,
        users: sorted(members.map((u) => u.name)),
        ...online,
      });
      // A page after a name lists those after it.
      const [first, ...rest] = sorted(members.map((u) => u.name));
      expect(await looker.who({ room, after: first as string })).toEqual({
        room,
        users: rest,
        ...online,
      });
      for (const u of [...members, looker]) await u.quit();
    });
  });
});
