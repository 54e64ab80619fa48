import type { Context } from "./context.ts";
import type { Session } from "./state.ts";

/** Tells those who should know that a user of this node came or went (docs/protocol.md §12). */
export function presence(cx: Context, s: Session, status: "online" | "offline"): void {
  announce(cx, s.key, s.name, status, s);
}

/** Tells the users here that a user of another node came or went. */
export function remotePresence(
  cx: Context,
  key: string,
  name: string,
  status: "online" | "offline",
): void {
  announce(cx, key, name, status, null);
}

/** Notes that two users exchanged a private message: each now hears the other come and go. */
export function meet(cx: Context, s: Session, other: string): void {
  if (other === s.key) return;
  s.contacts ??= new Set();
  if (s.contacts.has(other)) return;
  s.contacts.add(other);
  let watchers = cx.watchers.get(other);
  if (!watchers) {
    watchers = new Set();
    cx.watchers.set(other, watchers);
  }
  watchers.add(s);
}

/** A session ends: it no longer hears its contacts come and go. */
export function forgetContacts(cx: Context, s: Session): void {
  for (const key of s.contacts ?? []) {
    const watchers = cx.watchers.get(key);
    watchers?.delete(s);
    if (watchers?.size === 0) cx.watchers.delete(key);
  }
  s.contacts = null;
}

function announce(
  cx: Context,
  key: string,
  name: string,
  status: "online" | "offline",
  except: Session | null,
): void {
  const mode = cx.options.presence;
  if (mode === "off") return;
  const msg = { type: "presence", name, status } as const;
  // Counted with the user, coming or going: one not announced coming is not announced going.
  const online = cx.online + (cx.directory.has(key) ? 0 : 1);
  if (mode === "all" || (mode === "auto" && online <= cx.options.presenceAll)) {
    return cx.toEveryone(except, msg);
  }
  // Shared: the members here of the user's rooms, and those who wrote with them.
  const told = new Set<Session>();
  for (const roomKey of cx.memberOf.get(key) ?? []) {
    const room = cx.rooms.get(roomKey);
    if (room) for (const m of room.members.values()) told.add(m);
  }
  for (const w of cx.watchers.get(key) ?? []) told.add(w);
  cx.toSessions(told, except, msg);
}
