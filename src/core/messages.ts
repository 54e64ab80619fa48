import type { Context, Missed } from "./context.ts";
import { isoTime, noSuchUser, UNAVAILABLE } from "./context.ts";
import { EVERYONE, privateConversation } from "./conversation.ts";
import { checkName, checkRoom, checkText, isError, nameKey } from "./names.ts";
import { meet } from "./presence.ts";
import type { Session, Target, WaitingOf } from "./state.ts";
import type { ChatMessage, HoldResult, Re } from "./types.ts";

/** Resolves a destination, answering the command with an error when it is not one. */
export function resolveTarget(cx: Context, s: Session, raw: string, re: Re): Target | null {
  if (raw === "*") return { kind: "all", name: "*", key: "*" };
  if (raw.startsWith("#")) {
    const room = checkRoom(raw);
    if (isError(room)) return cx.refuse(s, re, room);
    const existing = cx.rooms.get(room.key);
    if (!existing) {
      return cx.refuse(s, re, { code: "no_such_room", message: `there is no room ${room.name}` });
    }
    if (!existing.all.has(s.key)) {
      return cx.refuse(s, re, { code: "not_in_room", message: `join ${room.name} first` });
    }
    return { kind: "room", name: existing.name, key: room.key };
  }
  const user = checkName(raw);
  if (isError(user)) return cx.refuse(s, re, user);
  return { kind: "user", ...user };
}

/** `to`: chooses where plain lines go; a name must have logged in once. */
export function choose(cx: Context, s: Session, raw: string, re: Re): void {
  const target = resolveTarget(cx, s, raw, re);
  if (!target) return;
  if (target.kind !== "user" || cx.users.has(target.key) || cx.remote.has(target.key)) {
    return choosePartner(cx, s, re, target);
  }
  s.waiting = { kind: "lookup", re, target };
  cx.push({ type: "lookupUser", conn: s.conn, key: target.key });
}

/** Makes `target` the session's partner, and says so. */
export function choosePartner(cx: Context, s: Session, re: Re, target: Target): void {
  s.partner = target;
  cx.send(s.conn, { type: "ok", re });
}

/**
 * `msg` and `say`: accepts a message, keeps it in its conversation's log and hands it to
 * whoever is online; the `ok` goes out once the log has it (the host sees to that).
 */
export function sendMessage(
  cx: Context,
  s: Session,
  to: string,
  text: string,
  re: Re,
  now: number,
): void {
  const target = resolveTarget(cx, s, to, re);
  if (!target) return;
  const bad = checkText(text);
  if (bad) return cx.error(s, re, bad.code, bad.message);
  const recipient = target.kind === "user" ? cx.users.get(target.key) : undefined;
  const remote = target.kind === "user" && !recipient ? cx.remote.get(target.key) : undefined;
  const message: ChatMessage = {
    type: "message",
    id: cx.ids.next(now),
    from: s.name,
    to: recipient ? recipient.name : remote ? remote.name : target.name,
    text,
    ts: isoTime(now),
  };
  const log = cx.options.log;
  if (target.kind === "all") {
    if (log) cx.push({ type: "append", entry: { conv: EVERYONE, message } });
    cx.toEveryone(s, message);
    publishToAll(cx, "all", message);
  } else if (target.kind === "room") {
    if (log) cx.push({ type: "append", entry: { conv: target.key, message } });
    const room = cx.rooms.get(target.key);
    if (room) cx.toMembers(room, s, message);
    // Members may come online elsewhere at any moment: every node hears every room message.
    publishToAll(cx, "room", message);
  } else {
    const conv = log ? privateConversation(s.key, target.key) : null;
    const users: [string, string] = [s.key, target.key];
    meet(cx, s, target.key);
    if (recipient) {
      if (conv) cx.push({ type: "append", entry: { conv, message, users } });
      meet(cx, recipient, s.key);
      receive(cx, recipient, message, s.self ?? undefined);
    } else if (remote) {
      if (conv) cx.push({ type: "append", entry: { conv, message, users } });
      if (cx.unreachable.has(remote.node)) {
        // That node missed an earlier message: this one is held too, so none overtakes it.
        s.waiting = { kind: "hold", re, key: target.key, message, conv: null };
        cx.push({ type: "hold", conn: s.conn, key: target.key, message });
        return;
      }
      // The sender's `ok` waits until the recipient's node took the message, or the store.
      s.waiting = { kind: "handover", re, key: target.key, message };
      const event = { kind: "message", node: cx.node, scope: "user", message } as const;
      cx.push({ type: "handOver", conn: s.conn, node: remote.node, key: target.key, event });
      return;
    } else {
      // Offline, or never seen: the store says which; the log takes it only once it is held.
      s.waiting = { kind: "hold", re, key: target.key, message, conv };
      cx.push({ type: "hold", conn: s.conn, key: target.key, message });
      return;
    }
  }
  cx.send(s.conn, { type: "ok", re, id: message.id });
}

/**
 * Publishes a message to every node but those that missed earlier messages of this one:
 * those get it behind them, once heard again (`reachable`), so that no message of a sender
 * overtakes an earlier one.
 */
function publishToAll(cx: Context, scope: "user" | "room" | "all", message: ChatMessage): void {
  if (cx.unreachable.size === 0) {
    return cx.publish({ kind: "message", node: cx.node, scope, message });
  }
  const skip = [...cx.unreachable.keys()];
  for (const node of skip) miss(cx, node, { scope, message });
  cx.publish({ kind: "message", node: cx.node, scope, message, skip });
}

/** Keeps a message for a node that missed earlier ones; a node silent too long gets them now. */
function miss(cx: Context, node: string, missed: Missed): void {
  const list = cx.unreachable.get(node);
  if (!list) return;
  list.push(missed);
  // All of it is in the store and the logs too: past this many, send it in order and go on.
  if (list.length >= MAX_MISSED) reachable(cx, node);
}

/** A node did not take a message: from now on, what this node sends it waits for its hello. */
function unreachable(cx: Context, node: string): void {
  if (cx.unreachable.has(node)) return;
  cx.unreachable.set(node, []);
  // It may be back already (its hello came before this node knew it missed something):
  // asked, it says what it holds, and that is hearing it again.
  cx.publish({ kind: "hello", node: cx.node }, node);
}

/** The most messages kept for a node that missed some (see `miss`). */
const MAX_MISSED = 20_000;

/** A message for a user not online here was held (or not): the sender hears which. */
export function held(
  cx: Context,
  s: Session,
  w: WaitingOf<"hold" | "handover">,
  result: HoldResult,
): void {
  const { message } = w;
  if (result === "no_such_user") {
    return cx.error(s, w.re, "no_such_user", noSuchUser(message.to));
  }
  if (result === "queue_full") {
    return cx.error(s, w.re, "queue_full", `${message.to} has too many messages waiting`);
  }
  if (result === "unavailable") return cx.error(s, w.re, "queue_full", UNAVAILABLE);
  if (w.kind === "hold" && w.conv) {
    cx.push({ type: "append", entry: { conv: w.conv, message, users: [s.key, w.key] } });
  }
  cx.send(s.conn, { type: "ok", re: w.re, id: message.id, queued: true, to: message.to });
  // The recipient may have logged in, here or elsewhere, while the message was stored.
  const queued: ChatMessage = { ...message, queued: true };
  const recipient = cx.users.get(w.key);
  if (recipient) return receiveHeld(cx, recipient, queued);
  // The node they were on did not take it: it goes there, in order, once heard again.
  const remote = cx.remote.get(w.key);
  if (remote && w.kind === "handover") unreachable(cx, remote.node);
  // And to every other node: this node's view may be behind (the user moved, or is logging
  // in elsewhere, or this node's bus was cut); the node that has them online delivers it
  // before anything this sender says after, and the others let it be.
  publishToAll(cx, "user", queued);
}

/**
 * A node that missed private messages is heard again (it said hello after its bus came
 * back): what was held for its users, and the room and `*` messages sent since, go to it,
 * before anything sent after.
 */
export function reachable(cx: Context, node: string): void {
  const missed = cx.unreachable.get(node);
  if (!missed) return;
  cx.unreachable.delete(node);
  for (const { scope, message } of missed) {
    cx.publish({ kind: "message", node: cx.node, scope, message }, node);
  }
}

/**
 * Hands over a message that is also held in the store, unless it was handed over already;
 * the store lets go of it once its bytes have left the outbox.
 */
export function receiveHeld(cx: Context, recipient: Session, queued: ChatMessage): void {
  if (recipient.fromQueue?.has(queued.id)) return;
  if (recipient.phase === "admitting") return receive(cx, recipient, queued);
  recipient.fromQueue ??= new Set();
  recipient.fromQueue.add(queued.id);
  answerWriter(recipient, queued);
  // A private message exchanged links the two (docs/protocol.md §12, `shared`).
  meet(cx, recipient, nameKey(queued.from));
  cx.push({
    type: "stream",
    conn: recipient.conn,
    messages: [queued],
    drop: { key: recipient.key, ids: [queued.id] },
    report: false,
  });
}

/**
 * Hands a private message to its recipient, who will answer its sender by default.
 * `from` is the sender, when known; held messages name theirs only by `message.from`.
 */
export function receive(cx: Context, recipient: Session, message: ChatMessage, from?: Target) {
  // Replayed already: it came by the bus after the log was read.
  if (recipient.fromQueue?.has(message.id)) return;
  if (recipient.phase === "admitting") cx.defer(recipient, message);
  else cx.send(recipient.conn, message);
  if (from) recipient.partner = from;
  else answerWriter(recipient, message);
}

/** The reply rule (docs/protocol.md §6): the writer of a private message becomes the partner. */
export function answerWriter(recipient: Session, message: ChatMessage): void {
  if (message.to.startsWith("#") || message.to === "*") return;
  if (nameKey(message.from) === recipient.key) return;
  const checked = checkName(message.from);
  if (!isError(checked)) recipient.partner = { kind: "user", ...checked };
}

/** A message another node accepted, for the users here. */
export function remoteMessage(
  cx: Context,
  scope: "user" | "room" | "all",
  message: ChatMessage,
): void {
  if (scope === "all") return cx.toEveryone(null, message);
  const key = nameKey(message.to);
  if (scope === "room") {
    const room = cx.rooms.get(key);
    if (room) cx.toMembers(room, null, message);
    return;
  }
  const recipient = cx.users.get(key);
  if (recipient) meet(cx, recipient, nameKey(message.from));
  if (recipient && message.queued) return receiveHeld(cx, recipient, message);
  if (recipient) return receive(cx, recipient, message);
  // The recipient left meanwhile: the message waits for them like any other.
  if (!message.queued) cx.push({ type: "keep", key, message });
}
