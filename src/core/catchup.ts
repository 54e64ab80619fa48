import type { Context } from "./context.ts";
import { EVERYONE } from "./conversation.ts";
import { idAt, idNode } from "./ids.ts";
import { receiveHeld, remoteMessage } from "./messages.ts";
import { nameKey } from "./names.ts";
import type { Session } from "./state.ts";
import type { ChatMessage } from "./types.ts";

/** A message waiting for the catch-up to end: where it came from decides how it goes. */
type Caught =
  | { from: "bus"; scope: "user" | "room" | "all"; message: ChatMessage }
  | { from: "held"; key: string; message: ChatMessage }
  | { from: "log"; message: ChatMessage };

/**
 * A node catching up after its bus was away: it asked the store for what was held for its
 * users and for the logs of their rooms and `*`. Until every answer is in, what the bus
 * brings waits too; then all of it goes out once, in id order, so that a message missed
 * during the cut does not come after later ones.
 */
export class CatchUp {
  /** Answers still to come. */
  pending = 0;
  /** The bus was cut and is not back yet: a sync is to come. */
  awaitingSync = false;
  readonly caught: Caught[] = [];
}

/** The bus was cut: from now on, what the bus brings waits for the catch-up after it. */
export function busLost(cx: Context): void {
  cx.catchUp ??= new CatchUp();
  cx.catchUp.awaitingSync = true;
}

/** A sync asked for `asked` answers (held messages, logs); they are awaited before all goes. */
export function syncAsked(cx: Context, asked: number): void {
  if (!cx.catchUp && asked === 0) return;
  cx.catchUp ??= new CatchUp();
  cx.catchUp.awaitingSync = false;
  cx.catchUp.pending += asked;
  if (cx.catchUp.pending === 0) flush(cx);
}

/** Keeps a message the bus brought while catching up; false when not catching up. */
export function holdBack(
  cx: Context,
  scope: "user" | "room" | "all",
  message: ChatMessage,
): boolean {
  if (!cx.catchUp) return false;
  cx.catchUp.caught.push({ from: "bus", scope, message });
  // A catch-up that never ends (the bus back without a sync) must not hold without bound.
  if (cx.catchUp.caught.length > MAX_CAUGHT) flush(cx);
  return true;
}

/** What the store holds for a user here came (`sync`: asked by a sync, part of its catch-up). */
export function heldCaught(cx: Context, key: string, messages: ChatMessage[], sync: boolean): void {
  if (!cx.catchUp) {
    const s = cx.users.get(key);
    if (s?.phase === "online") for (const m of messages) receiveHeld(cx, s, { ...m, queued: true });
    return;
  }
  // During a catch-up, held messages go in id order with the rest, whoever asked for them.
  for (const m of messages) cx.catchUp.caught.push({ from: "held", key, message: m });
  if (sync) answered(cx);
}

/**
 * The logs of rooms and `*` since a little before the cut came, and then what was held for
 * the users here: what was not heard joins.
 */
export function logCaught(
  cx: Context,
  messages: ChatMessage[],
  held: { key: string; messages: ChatMessage[] }[],
): void {
  if (!cx.catchUp) {
    for (const h of held) heldCaught(cx, h.key, h.messages, false);
    return;
  }
  for (const h of held) {
    for (const m of h.messages) cx.catchUp.caught.push({ from: "held", key: h.key, message: m });
  }
  for (const m of messages) {
    // Accepted here (delivered here already), or heard from the bus after all.
    if (idNode(m.id) === cx.node || !cx.heard.add(m.id)) continue;
    cx.catchUp.caught.push({ from: "log", message: m });
  }
  answered(cx);
}

function answered(cx: Context): void {
  const catchUp = cx.catchUp;
  if (!catchUp || --catchUp.pending > 0 || catchUp.awaitingSync) return;
  flush(cx);
}

/** Delivers everything caught, in id order, and ends the catch-up. */
function flush(cx: Context): void {
  const catchUp = cx.catchUp;
  if (!catchUp) return;
  cx.catchUp = null;
  const caught = catchUp.caught.sort((a, b) =>
    a.message.id < b.message.id ? -1 : a.message.id > b.message.id ? 1 : 0,
  );
  for (const c of caught) {
    if (c.from === "bus") remoteMessage(cx, c.scope, c.message);
    else if (c.from === "held") {
      const s = cx.users.get(c.key);
      if (s?.phase === "online") receiveHeld(cx, s, { ...c.message, queued: true });
    } else deliverLogged(cx, c.message);
  }
}

/**
 * A room or `*` message read from the log: to the sessions that did not know of it, which
 * are those that logged in (or resumed from) before it.
 */
function deliverLogged(cx: Context, m: ChatMessage): void {
  let sessions: Iterable<Session> = [];
  if (m.to === EVERYONE) sessions = cx.users.values();
  else if (m.to.startsWith("#")) sessions = cx.rooms.get(nameKey(m.to))?.members.values() ?? [];
  const fresh: Session[] = [];
  for (const s of sessions) if (m.id > s.floor) fresh.push(s);
  cx.toSessions(fresh, null, m);
}

/** The most messages a catch-up holds back. */
const MAX_CAUGHT = 100_000;

/** The id below which a session knew, or did not need, every message: its resume point. */
export function floorOf(since: string | undefined, now: number): string {
  const login = idAt(now);
  return since !== undefined && since > login ? since : login;
}
