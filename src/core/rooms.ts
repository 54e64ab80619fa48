import type { RemoteUser } from "./bus.ts";
import type { Context } from "./context.ts";
import { Directory } from "./directory.ts";
import { checkRoom, isError, nameKey } from "./names.ts";
import { NO_ROOMS, type Room, type Session } from "./state.ts";
import type { Re } from "./types.ts";

/** The room of this key, made (named as given) if it has no member yet. */
export function roomOf(cx: Context, name: string, key: string): Room {
  let room = cx.rooms.get(key);
  if (!room) {
    const online = new Directory();
    const members = new OnlineMembers<Session>(online);
    const remote = new OnlineMembers<RemoteUser>(online);
    members.elsewhere = remote;
    remote.elsewhere = members;
    room = { name, key, all: new Map(), members, remote };
    cx.rooms.set(key, room);
    cx.roomIndex.add(key, name);
  }
  return room;
}

/** Makes a user a member of a room, online or not; false when they were one already. */
export function addMember(cx: Context, room: Room, key: string, name: string): boolean {
  if (room.all.has(key)) return false;
  room.all.set(key, name);
  let rooms = cx.memberOf.get(key);
  if (!rooms) {
    rooms = new Set();
    cx.memberOf.set(key, rooms);
  }
  rooms.add(room.key);
  return true;
}

/** Ends a user's membership of a room; a room without members is gone. */
export function removeMember(cx: Context, room: Room, key: string): void {
  room.all.delete(key);
  room.members.delete(key);
  room.remote.delete(key);
  const rooms = cx.memberOf.get(key);
  rooms?.delete(room.key);
  if (rooms?.size === 0) cx.memberOf.delete(key);
  if (room.all.size === 0) forgetRoom(cx, room);
}

/** A room without members is gone. */
function forgetRoom(cx: Context, room: Room): void {
  cx.rooms.delete(room.key);
  cx.roomIndex.remove(room.key);
}

/** Takes in the rooms and members the store keeps (at start). */
export function loadMemberships(cx: Context, rooms: { room: string; members: string[] }[]): void {
  for (const { room: name, members } of rooms) {
    const room = roomOf(cx, name, nameKey(name));
    for (const member of members) addMember(cx, room, nameKey(member), member);
    if (room.all.size === 0) forgetRoom(cx, room);
  }
}

/** Puts a session that logs in back in the rooms its user is a member of; their names. */
export function enterRooms(cx: Context, s: Session): string[] {
  const keys = cx.memberOf.get(s.key);
  if (!keys || keys.size === 0) return [];
  s.rooms = new Map();
  const names: string[] = [];
  for (const key of keys) {
    const room = cx.rooms.get(key);
    if (!room) continue;
    room.members.set(s.key, s);
    room.remote.delete(s.key);
    s.rooms.set(key, room);
    names.push(room.name);
  }
  return names;
}

/** A session goes offline: it stays a member of its rooms, but is no longer online in them. */
export function exitRooms(s: Session): void {
  for (const room of s.rooms.values()) {
    if (room.members.get(s.key) === s) room.members.delete(s.key);
  }
}

/** `join`: becomes a member of a room (making it), until `leave`. */
export function join(cx: Context, s: Session, raw: string, re: Re): void {
  const checked = checkRoom(raw);
  if (isError(checked)) return cx.error(s, re, checked.code, checked.message);
  const existing = cx.rooms.get(checked.key);
  if (!existing?.all.has(s.key)) {
    const { maxRoomsPerUser, maxRooms } = cx.options;
    if ((cx.memberOf.get(s.key)?.size ?? 0) >= maxRoomsPerUser) {
      const why = `you are in ${maxRoomsPerUser} rooms, the most there may be; leave one first`;
      return cx.error(s, re, "not_allowed", why);
    }
    if (!existing && cx.rooms.size >= maxRooms) {
      return cx.error(s, re, "not_allowed", `there are ${maxRooms} rooms, the most there may be`);
    }
  }
  const room = roomOf(cx, checked.name, checked.key);
  if (addMember(cx, room, s.key, s.name)) {
    cx.toMembers(room, s, { type: "joined", room: room.name, name: s.name });
    cx.push({
      type: "membership",
      room: { key: room.key, name: room.name },
      user: { key: s.key, name: s.name },
      member: true,
    });
    cx.publish({ kind: "joined", node: cx.node, room: room.name, name: s.name });
  }
  room.members.set(s.key, s);
  if (s.rooms === NO_ROOMS) s.rooms = new Map();
  s.rooms.set(room.key, room);
  cx.send(s.conn, { type: "ok", re, room: room.name, users: [...room.all.values()] });
}

/** `leave`: ends the membership of a room. */
export function leave(cx: Context, s: Session, raw: string, re: Re): void {
  const checked = checkRoom(raw);
  if (isError(checked)) return cx.error(s, re, checked.code, checked.message);
  const room = cx.rooms.get(checked.key);
  if (!room) return cx.error(s, re, "no_such_room", `there is no room ${checked.name}`);
  if (!room.all.has(s.key)) {
    return cx.error(s, re, "not_in_room", `you are not in ${room.name}`);
  }
  s.rooms.delete(room.key);
  removeMember(cx, room, s.key);
  cx.toMembers(room, null, { type: "left", room: room.name, name: s.name });
  cx.push({
    type: "membership",
    room: { key: room.key, name: room.name },
    user: { key: s.key, name: s.name },
    member: false,
  });
  cx.publish({ kind: "left", node: cx.node, room: room.name, name: s.name });
  cx.send(s.conn, { type: "ok", re, room: room.name });
}

/**
 * `who #room`: a page of the room's members online, here and on other nodes, in name order
 * (case-insensitive), after `after` when given, with how many are online and, when more
 * follow, `next` to ask for them (docs/protocol.md §5, §12).
 */
export function whoInRoom(
  cx: Context,
  s: Session,
  raw: string,
  re: Re,
  after: string | undefined,
): void {
  const checked = checkRoom(raw);
  if (isError(checked)) return cx.error(s, re, checked.code, checked.message);
  const room = cx.rooms.get(checked.key);
  if (!room) return cx.error(s, re, "no_such_room", `there is no room ${checked.name}`);
  const online = onlineIn(room);
  const page = online.page(after, WHO_PAGE);
  cx.send(s.conn, { type: "who", re, room: room.name, ...page, online: online.size });
}

/** The most names one page of `who #room` lists, as for `who` (docs/protocol.md §5). */
const WHO_PAGE = 1000;

/**
 * `rooms`: a page of the rooms, in name order, with how many members each has and how many
 * of them are online; `next` (the last room's name) asks for the page after it.
 */
export function listRooms(cx: Context, s: Session, after: string | undefined, re: Re): void {
  const page = cx.roomIndex.page(after, ROOMS_PAGE);
  const rooms: { room: string; members: number; online: number }[] = [];
  for (const name of page.users) {
    const room = cx.rooms.get(nameKey(name));
    if (room) rooms.push({ room: room.name, members: room.all.size, online: onlineIn(room).size });
  }
  cx.send(s.conn, {
    type: "rooms",
    re,
    rooms,
    ...(page.next !== undefined && { next: page.next }),
  });
}

/** The most rooms one `rooms` reply lists. */
const ROOMS_PAGE = 1000;

/** The members of a room online, here and on other nodes, in name order. */
function onlineIn(room: Room): Directory {
  if (!(room.members instanceof OnlineMembers))
    throw new Error(`${room.name} was not made by roomOf`);
  return room.members.online;
}

/**
 * A room's members online on one side, on this node (`members`) or on others (`remote`),
 * that keeps the room's one list of members online in name order as it changes: so a page
 * of `who #room` costs the same however many are in the room, and the code that adds and
 * removes them (this module, the cluster's) needs to know nothing of the list. A user is in
 * the list while on either side (on both for a moment, as they move here).
 */
class OnlineMembers<V extends { name: string }> extends Map<string, V> {
  /** The room's members online, both sides together. */
  readonly online: Directory;
  /** The other side. */
  elsewhere: ReadonlyMap<string, unknown> = new Map();

  constructor(online: Directory) {
    super();
    this.online = online;
  }

  override set(key: string, value: V): this {
    super.set(key, value);
    this.online.add(key, value.name);
    return this;
  }

  override delete(key: string): boolean {
    if (!super.delete(key)) return false;
    if (!this.elsewhere.has(key)) this.online.remove(key);
    return true;
  }

  override clear(): void {
    for (const key of [...this.keys()]) this.delete(key);
  }
}
