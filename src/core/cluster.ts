import type { BusEvent } from "./bus.ts";
import { holdBack, syncAsked } from "./catchup.ts";
import type { Context } from "./context.ts";
import { EVERYONE } from "./conversation.ts";
import { kickOut } from "./departure.ts";
import { reachable, remoteMessage } from "./messages.ts";
import { nameKey } from "./names.ts";
import { remotePresence } from "./presence.ts";
import { addMember, removeMember, roomOf } from "./rooms.ts";

/** What another node said. */
export function heard(cx: Context, e: BusEvent): void {
  if (e.kind === "hello" || e.kind === "state") reachable(cx, e.node);
  switch (e.kind) {
    case "hello":
      return cx.publish(nodeState(cx), e.node);
    case "state":
      forgetNode(cx, e.node, false);
      for (const name of e.users) {
        // Both nodes think the name theirs (the bus was cut for longer than a lease):
        // the session here stays; the first to leave lets the name go.
        if (!cx.users.has(nameKey(name))) remoteOnline(cx, e.node, name, true, []);
      }
      for (const { room, members } of e.rooms) {
        for (const name of members) remoteJoined(cx, e.node, room, name, true);
      }
      return;
    case "online":
      return remoteOnline(cx, e.node, e.name, e.quiet, e.rooms ?? []);
    case "offline":
      return forgetRemote(cx, nameKey(e.name), e.node, !e.quiet);
    case "joined":
      return remoteJoined(cx, e.node, e.room, e.name, false);
    case "left": {
      const room = cx.rooms.get(nameKey(e.room));
      const key = nameKey(e.name);
      if (!room?.all.has(key)) return;
      removeMember(cx, room, key);
      cx.toMembers(room, null, { type: "left", room: room.name, name: e.name });
      return;
    }
    case "message":
      // Kept for this node by its sender, behind messages this node missed.
      if (e.skip?.includes(cx.node)) return;
      // Heard already: the log was read after a cut, and the bus was slower.
      if (!cx.heard.add(e.message.id)) return;
      if (holdBack(cx, e.scope, e.message)) return;
      return remoteMessage(cx, e.scope, e.message);
    case "announce":
      return cx.toEveryone(null, { type: "announce", text: e.text, ts: e.ts });
    case "kick": {
      const s = cx.users.get(nameKey(e.name));
      if (s) kickOut(cx, s, "kicked", "gone");
      return;
    }
    case "down":
      return forgetNode(cx, e.node, true);
  }
}

/**
 * This node joined (or rejoined) its cluster: it says what it holds and asks the others.
 * What was said meanwhile to users here it could not hear: private messages were held for
 * them (it asks the store), and room and `*` messages are in the logs (it reads them from
 * a little before the last message it heard).
 */
export function sync(cx: Context, now: number): void {
  cx.publish({ kind: "hello", node: cx.node });
  cx.publish(nodeState(cx));
  const convs = new Set<string>();
  const users: string[] = [];
  for (const u of cx.users.values()) {
    if (u.phase !== "online") continue;
    users.push(u.key);
    convs.add(EVERYONE);
    for (const room of u.rooms.keys()) convs.add(room);
  }
  if (users.length > 0 && cx.options.log) {
    // One answer: the logs, then what is held for the users (read in that order, so that a
    // private message held before a room message the logs show is not missed).
    cx.push({ type: "catchUp", convs: [...convs], since: cx.heard.since(), held: users });
    syncAsked(cx, 1);
  } else {
    for (const key of users) cx.push({ type: "recheckHeld", key, sync: true });
    syncAsked(cx, users.length);
  }
  cx.heard.touch(now);
}

/** Everything this node holds, for a node that asks. */
export function nodeState(cx: Context): BusEvent {
  const users: string[] = [];
  for (const u of cx.users.values()) if (u.phase === "online") users.push(u.name);
  const rooms: { room: string; members: string[] }[] = [];
  for (const room of cx.rooms.values()) {
    const here: string[] = [];
    for (const m of room.members.values()) if (m.phase === "online") here.push(m.name);
    if (here.length > 0) rooms.push({ room: room.name, members: here });
  }
  return { kind: "state", node: cx.node, users, rooms };
}

function remoteOnline(
  cx: Context,
  node: string,
  name: string,
  quiet: boolean,
  rooms: string[],
): void {
  const key = nameKey(name);
  // The user logged in there again: the session here makes way.
  const here = cx.users.get(key);
  if (here) kickOut(cx, here, "replaced", "moved");
  const known = cx.remote.has(key) || here !== undefined;
  const user = { name, node };
  cx.remote.set(key, user);
  cx.directory.add(key, name);
  for (const roomName of rooms) {
    const room = roomOf(cx, roomName, nameKey(roomName));
    addMember(cx, room, key, name);
    room.remote.set(key, user);
  }
  if (!quiet && !known) remotePresence(cx, key, name, "online");
}

function remoteJoined(cx: Context, node: string, roomName: string, name: string, quiet: boolean) {
  const key = nameKey(name);
  const room = roomOf(cx, roomName, nameKey(roomName));
  const member = !addMember(cx, room, key, name);
  if (!cx.users.has(key)) room.remote.set(key, { name, node });
  if (!quiet && !member) cx.toMembers(room, null, { type: "joined", room: room.name, name });
}

/**
 * Forgets a user online on another node (on `node` only, when given): they stay members of
 * their rooms, but are no longer online there.
 */
export function forgetRemote(
  cx: Context,
  key: string,
  node: string | null,
  presence: boolean,
): void {
  const user = cx.remote.get(key);
  if (!user || (node !== null && user.node !== node)) return;
  cx.remote.delete(key);
  if (!cx.users.has(key)) cx.directory.remove(key);
  for (const roomKey of cx.memberOf.get(key) ?? []) {
    const room = cx.rooms.get(roomKey);
    if (room?.remote.get(key)?.node === user.node) room.remote.delete(key);
  }
  if (presence) remotePresence(cx, key, user.name, "offline");
}

/** Forgets every user of a node: it stopped, died, or is about to say what it holds. */
export function forgetNode(cx: Context, node: string, presence: boolean): void {
  // Its users are gone, as far as this node can tell. What it missed goes to it now, in
  // order, in case it is alive after all (then its own catch-up finds what it does not take).
  if (presence) reachable(cx, node);
  for (const [key, user] of [...cx.remote]) {
    if (user.node === node) forgetRemote(cx, key, node, presence);
  }
}
