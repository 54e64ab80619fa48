import { floorOf } from "./catchup.ts";
import { forgetRemote } from "./cluster.ts";
import type { Context } from "./context.ts";
import { UNAVAILABLE } from "./context.ts";
import { close, kickOut } from "./departure.ts";
import { answerWriter } from "./messages.ts";
import { checkName, isError, nameKey } from "./names.ts";
import { meet, presence } from "./presence.ts";
import { enterRooms } from "./rooms.ts";
import type { Session, WaitingOf } from "./state.ts";
import type { AuthResult, ChatMessage, Command, Re, Replay, ServerMessage } from "./types.ts";

/** When a user logged in on a cluster node, how long until the store is asked again for what is held for them. */
const RECHECK_MS = 1000;

/** How many names `welcome.users` lists at most (docs/protocol.md §12). */
const WELCOME_USERS = 100;

/** `login`: checks the name, then asks the host to check the credentials. */
export function login(
  cx: Context,
  s: Session,
  command: Extract<Command, { type: "login" }>,
  re: Re,
): void {
  if (cx.shuttingDown) return cx.error(s, re, "shutting_down", "the server is shutting down");
  const checked = checkName(command.name);
  if (isError(checked)) return cx.error(s, re, checked.code, checked.message);
  const holder = cx.users.get(checked.key) ?? cx.remote.get(checked.key);
  const proof =
    command.password !== undefined || command.token !== undefined || command.session !== undefined;
  if (holder && !proof) return cx.error(s, re, "name_taken", nameTaken(checked.name));
  s.phase = "authenticating";
  s.waiting = { kind: "auth", re, name: checked.name, key: checked.key, since: command.since };
  cx.push({
    type: "authenticate",
    conn: s.conn,
    name: checked.name,
    key: checked.key,
    ...(command.password !== undefined && { password: command.password }),
    ...(command.token !== undefined && { token: command.token }),
    ...(command.session !== undefined && { session: command.session }),
    mayRegister: holder === undefined,
  });
}

/** The credentials were checked: the name is claimed, and what the login brings is loaded. */
export function authenticated(
  cx: Context,
  s: Session,
  w: WaitingOf<"auth">,
  result: AuthResult,
  shown: string | undefined,
  secret: string | undefined,
): void {
  if (result === "auth_failed" || result === "unavailable") {
    s.phase = "anonymous";
    const why = result === "unavailable" ? UNAVAILABLE : "wrong password, token or session";
    return cx.error(s, w.re, "auth_failed", why);
  }
  if (result === "busy" || typeof result === "object") {
    s.phase = "anonymous";
    return cx.error(s, w.re, "rate_limited", refusal(result, w.name));
  }
  const holder = cx.users.get(w.key);
  if (result === "taken" || (holder && result !== "verified")) {
    s.phase = "anonymous";
    return cx.error(s, w.re, "name_taken", nameTaken(w.name));
  }
  // The rightful owner came back: the old connection makes way, silently for others.
  if (holder) kickOut(cx, holder, "replaced", "moved");
  // The cluster let this node have the name: whoever had it elsewhere moves here.
  const moved = cx.remote.has(w.key);
  if (moved) forgetRemote(cx, w.key, null, false);
  s.name = shown !== undefined && nameKey(shown) === w.key ? shown : w.name;
  s.key = w.key;
  s.self = { kind: "user", name: s.name, key: s.key };
  s.secret = secret ?? null;
  s.phase = "admitting";
  cx.users.set(w.key, s);
  // Back in its rooms at once, so that what is said there meanwhile waits for it.
  enterRooms(cx, s);
  s.waiting = { kind: "load", re: w.re, takeover: holder !== undefined || moved, since: w.since };
  cx.push({
    type: "load",
    conn: s.conn,
    key: s.key,
    ...(w.since !== undefined && { since: w.since }),
    rooms: [...s.rooms.keys()],
  });
}

/**
 * What the login brings has come: `welcome`, then the held messages, or with `since` what
 * was missed, written out at the pace the client reads (`streamed` ends it).
 */
export function loaded(
  cx: Context,
  s: Session,
  w: WaitingOf<"load">,
  held: ChatMessage[],
  replay: Replay | null,
  now: number,
): void {
  let messages = held.map((m): ChatMessage => ({ ...m, queued: true }));
  let gap = replay?.gap ?? false;
  if (replay) {
    // Held messages are in the replay once, marked as both; the newest `resumeMax` go.
    const byId = new Map<string, ChatMessage>();
    for (const m of replay.messages) byId.set(m.id, { ...m, replay: true });
    // A held message the client saw (its id is not after `since`) is only let go: a node
    // that died before the store forgot it must not make it come twice.
    for (const m of messages)
      if (w.since === undefined || m.id > w.since) byId.set(m.id, { ...m, replay: true });
    messages = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const max = cx.options.resumeMax;
    if (messages.length > max) {
      messages = messages.slice(messages.length - max);
      gap = true;
    }
  }
  const rooms = [...s.rooms.values()].map((r) => r.name);
  cx.directory.add(s.key, s.name);
  s.floor = floorOf(w.since, now);
  cx.send(s.conn, {
    type: "welcome",
    re: w.re,
    name: s.name,
    users: welcomeUsers(cx, s),
    online: cx.online,
    rooms,
    queued: replay ? messages.filter((m) => m.queued).length : held.length,
    ...(s.secret !== null && { session: s.secret }),
    ...(replay && { replayed: messages.length, gap }),
  });
  if (!w.takeover) presence(cx, s, "online");
  cx.publish({ kind: "online", node: cx.node, name: s.name, quiet: w.takeover, rooms });
  // A node that did not know yet that the user is here may be holding a message for them.
  if (cx.options.clustered) cx.push({ type: "recheckHeld", key: s.key, afterMs: RECHECK_MS });
  // Held messages left out of a replay are in the log (and `gap` says so): all are let go.
  const drop = held.length > 0 ? { key: s.key, ids: held.map((m) => m.id) } : null;
  if (messages.length === 0 && drop === null) return admitted(cx, s);
  s.fromQueue = new Set(messages.map((m) => m.id));
  for (const m of messages) {
    if (m.to !== s.name && nameKey(m.to) !== s.key) continue;
    answerWriter(s, m);
    // Handed over now: the two exchanged a private message since this login (§12, shared).
    meet(cx, s, nameKey(m.from));
  }
  s.waiting = { kind: "stream" };
  cx.push({
    type: "stream",
    conn: s.conn,
    messages,
    drop,
    report: true,
  });
}

/**
 * At most 100 names of users online, without `s`: those who share a room with them first
 * (docs/protocol.md §12). Costs at most the size of the user's rooms, however many are online.
 */
function welcomeUsers(cx: Context, s: Session): string[] {
  const names = new Map<string, string>();
  for (const room of s.rooms.values()) {
    for (const [key, m] of room.members) {
      if (names.size >= WELCOME_USERS) break;
      if (m !== s && m.phase !== "closed") names.set(key, m.name);
    }
    for (const [key, m] of room.remote) {
      if (names.size >= WELCOME_USERS) break;
      names.set(key, m.name);
    }
  }
  for (const name of cx.directory.first(WELCOME_USERS + 1)) {
    if (names.size >= WELCOME_USERS) break;
    const key = nameKey(name);
    if (key !== s.key) names.set(key, name);
  }
  return [...names.values()];
}

/** What the login brought is written out: the session is online, and gets what came meanwhile. */
export function admitted(cx: Context, s: Session): void {
  s.phase = "online";
  if (s.overflowed) return kickOut(cx, s, "slow_consumer", "gone");
  const deferred = s.deferred;
  s.deferred = [];
  const fresh: ServerMessage[] = [];
  const drop: string[] = [];
  for (const m of deferred) {
    if (m.type === "message") {
      if (s.fromQueue?.has(m.id)) continue;
      if (m.queued) {
        s.fromQueue ??= new Set();
        s.fromQueue.add(m.id);
        drop.push(m.id);
      }
    }
    fresh.push(m);
  }
  if (drop.length > 0) {
    cx.push({
      type: "stream",
      conn: s.conn,
      messages: fresh,
      drop: { key: s.key, ids: drop },
      report: false,
    });
  } else {
    for (const m of fresh) cx.send(s.conn, m);
  }
}

/** `quit`: says goodbye, ends the session secret if asked to, and closes. */
export function quit(
  cx: Context,
  s: Session,
  command: Extract<Command, { type: "quit" }>,
  re: Re,
): void {
  cx.send(s.conn, { type: "bye", re, reason: "quit" });
  if (command.forget && s.secret !== null) cx.push({ type: "forgetSession", secret: s.secret });
  close(cx, s, "gone");
}

/** The message of `rate_limited` for a login refused before its credentials were checked. */
function refusal(
  result: "busy" | { by: "name" | "address"; retryMs: number },
  name: string,
): string {
  if (result === "busy") return "the server is busy checking passwords; try again in a moment";
  const whose = result.by === "name" ? `for ${name}` : "from your address";
  const seconds = Math.max(1, Math.ceil(result.retryMs / 1000));
  return `too many failed logins ${whose}; try again in ${seconds} s`;
}

/** The message of `name_taken`. */
export function nameTaken(name: string): string {
  return `${name} is already online; pick another name`;
}
