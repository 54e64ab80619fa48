import type { Context } from "./context.ts";
import { forgetContacts, presence } from "./presence.ts";
import { exitRooms } from "./rooms.ts";
import type { Session } from "./state.ts";
import type { ByeReason } from "./types.ts";

/** How a session leaves: what the others are told, and whether its name is let go. */
export type Departure =
  /** Gone: others see it go offline; its name is released. */
  | "gone"
  /** The server stops: the other nodes hear it once (`down`); its name is released. */
  | "stopping"
  /** Its user logged in again elsewhere: nothing to tell, and the name stays taken. */
  | "moved";

/** Says goodbye to a session and closes it. */
export function kickOut(
  cx: Context,
  s: Session,
  reason: Exclude<ByeReason, "quit">,
  how: Departure,
): void {
  cx.send(s.conn, { type: "bye", reason });
  close(cx, s, how);
}

/** Closes a session's connection and forgets it. */
export function close(cx: Context, s: Session, how: Departure): void {
  cx.push({ type: "close", conn: s.conn });
  detach(cx, s, how);
}

/**
 * Forgets a session: its name is let go and others are told as `how` says. Its user stays
 * a member of their rooms (docs/protocol.md §11): the rooms see `presence`, not `left`.
 */
export function detach(cx: Context, s: Session, how: Departure): void {
  cx.sessions.delete(s.conn);
  // Others were told of a session once it was welcomed.
  const wasOnline = s.phase === "online" || (s.phase === "admitting" && s.waiting?.kind !== "load");
  s.phase = "closed";
  s.waiting = null;
  s.backlog = [];
  s.backlogBytes = 0;
  s.deferred = [];
  exitRooms(s);
  forgetContacts(cx, s);
  if (!s.key || cx.users.get(s.key) !== s) return;
  if (wasOnline) cx.directory.remove(s.key);
  cx.users.delete(s.key);
  if (how !== "moved") cx.release(s.key);
  if (how === "gone" && wasOnline) {
    presence(cx, s, "offline");
    cx.publish({ kind: "offline", node: cx.node, name: s.name, quiet: false });
  }
}
