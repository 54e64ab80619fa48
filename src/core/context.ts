import type { BusEvent, RemoteUser } from "./bus.ts";
import type { CatchUp } from "./catchup.ts";
import { Directory } from "./directory.ts";
import { HeardMessages } from "./heard.ts";
import { MessageIds } from "./ids.ts";
import type { Room, Session } from "./state.ts";
import type {
  ChatMessage,
  ConnId,
  Effect,
  ErrorCode,
  Re,
  RelayError,
  ServerMessage,
} from "./types.ts";

/** A message a node missed, to send it once that node is heard again. */
export interface Missed {
  scope: "user" | "room" | "all";
  message: ChatMessage;
}

/** Settings of the core; the host reads them from its configuration. */
export interface RelayOptions {
  /**
   * Who is told that a user came or went (docs/protocol.md §12): everyone (`all`), those
   * who share a room or a private conversation with them (`shared`), `all` while at most
   * `presenceAll` are online and `shared` above (`auto`), or nobody (`off`).
   */
  presence: "auto" | "all" | "shared" | "off";
  presenceAll: number;
  /** Commands a connection may have waiting behind a slow one before it counts as a flood. */
  maxBacklog: number;
  /** The bytes those waiting commands may hold, once logged in and before. */
  maxBacklogBytes: number;
  maxBacklogBytesBeforeLogin: number;
  /**
   * This node's name in its cluster; it is also appended to message ids, to keep them
   * unique across processes.
   */
  node: string;
  /** Whether other nodes share the users, rooms and messages (effects `publish`). */
  clustered: boolean;
  /** Whether accepted messages are kept in their conversations' logs (RELAY_HISTORY > 0). */
  log: boolean;
  /** The most bytes of messages one `history` reply carries (older ones: `more`). */
  maxHistoryBytes: number;
  /** Live messages a session being admitted may have waiting before it is a slow reader. */
  maxDeferred: number;
  /** The most messages one resume replays, held ones included (RELAY_RESUME_MAX). */
  resumeMax: number;
  /** The most rooms one user may be a member of, and the most rooms there may be. */
  maxRoomsPerUser: number;
  maxRooms: number;
}

const DEFAULTS: RelayOptions = {
  presence: "auto",
  presenceAll: 500,
  maxBacklog: 256,
  maxBacklogBytes: 256 * 1024,
  maxBacklogBytesBeforeLogin: 32 * 1024,
  node: "",
  clustered: false,
  log: true,
  maxHistoryBytes: 512 * 1024,
  maxDeferred: 10_000,
  resumeMax: 1000,
  maxRoomsPerUser: 100,
  maxRooms: 10_000,
};

/**
 * Everything the relay knows, and the effects it has asked for so far in this input. The
 * concept modules (login, messages, rooms, presence, log, cluster) read and change it.
 */
export class Context {
  readonly options: RelayOptions;
  readonly ids: MessageIds;
  readonly sessions = new Map<ConnId, Session>();
  /** Claimed names (logging in or online here), by key. */
  readonly users = new Map<string, Session>();
  /** Every room with a member, online or not, by key. */
  readonly rooms = new Map<string, Room>();
  /** The rooms' names in order, for `rooms` pages. */
  readonly roomIndex = new Directory();
  /** The rooms each user is a member of, by name key. */
  readonly memberOf = new Map<string, Set<string>>();
  /** Users online on other nodes, by key. */
  readonly remote = new Map<string, RemoteUser>();
  /** Everyone online, here and elsewhere, in name order. */
  readonly directory = new Directory();
  /**
   * Nodes that did not take a private message handed to them (their bus connection was
   * down), with what this node sent since that concerns them (private messages held for
   * their users, room and `*` messages): these go to them, in order, once they are heard
   * from again, and until then later private messages are held too.
   */
  readonly unreachable = new Map<string, Missed[]>();
  /** A catch-up after the bus was away, while its answers come in. */
  catchUp: CatchUp | null = null;
  /** Messages heard from other nodes lately (see `cluster.ts`). */
  readonly heard = new HeardMessages();
  /** The sessions here that exchanged a private message with a user (by key) since login. */
  readonly watchers = new Map<string, Set<Session>>();
  shuttingDown = false;
  out: Effect[] = [];

  constructor(options: Partial<RelayOptions>) {
    this.options = { ...DEFAULTS, ...options };
    this.ids = new MessageIds(this.options.node);
  }

  /** This node's name in its cluster. */
  get node(): string {
    return this.options.node;
  }

  /** Asks the host for an effect. */
  push(effect: Effect): void {
    this.out.push(effect);
  }

  send(conn: ConnId, msg: ServerMessage): void {
    this.out.push({ type: "send", conn, msg });
  }

  fanout(conns: ConnId[], msg: ServerMessage): void {
    if (conns.length === 1) this.out.push({ type: "send", conn: conns[0] as ConnId, msg });
    else if (conns.length > 1) this.out.push({ type: "fanout", conns, msg });
  }

  error(s: Session, re: Re, code: ErrorCode, message: string): void {
    this.send(s.conn, { type: "error", re, code, message });
  }

  /** Answers with an error; returns null, for lookups that found nothing to go on. */
  refuse(s: Session, re: Re, error: RelayError): null {
    this.error(s, re, error.code, error.message);
    return null;
  }

  /** Tells the other nodes (one of them when `node` is set); nothing for a lone node. */
  publish(event: BusEvent, node?: string): void {
    if (!this.options.clustered) return;
    this.out.push(
      node === undefined ? { type: "publish", event } : { type: "publish", event, node },
    );
  }

  /** Lets go of a name's cluster-wide lease. */
  release(key: string): void {
    if (this.options.clustered) this.out.push({ type: "release", key });
  }

  /** Sends a message to every user here but `except` (held back for those being admitted). */
  toEveryone(except: Session | null, msg: ServerMessage): void {
    this.toSessions(this.users.values(), except, msg);
  }

  /** Sends a message to a room's members here but `except` (held back as `toEveryone`). */
  toMembers(room: Room, except: Session | null, msg: ServerMessage): void {
    this.toSessions(room.members.values(), except, msg);
  }

  /** Sends to sessions online; a session being admitted gets it after what it is admitted with. */
  toSessions(sessions: Iterable<Session>, except: Session | null, msg: ServerMessage): void {
    const conns: ConnId[] = [];
    const id = msg.type === "message" ? msg.id : null;
    for (const u of sessions) {
      if (u === except) continue;
      // Replayed to this session already (it came by the bus after the log was read).
      if (id !== null && u.fromQueue?.has(id)) continue;
      if (u.phase === "online") conns.push(u.conn);
      else if (u.phase === "admitting") this.defer(u, msg);
    }
    this.fanout(conns, msg);
  }

  /** Keeps a message for a session being admitted; one too many makes it a slow reader. */
  defer(s: Session, msg: ServerMessage): void {
    if (s.deferred.length < this.options.maxDeferred) s.deferred.push(msg);
    else s.overflowed = true;
  }

  /** How many users are online, here and on the other nodes. */
  get online(): number {
    return this.directory.size;
  }
}

let lastNow = Number.NaN;
let lastIso = "";

/** The ISO 8601 form of a time; messages in one millisecond share one string. */
export function isoTime(now: number): string {
  if (now !== lastNow) {
    lastNow = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

/** What a user is told when the store cannot be reached: a failure of the server's. */
export const UNAVAILABLE = "the server cannot reach its store right now; try again later";

/** The message of `no_such_user`. */
export function noSuchUser(name: string): string {
  return `nobody called ${name} has logged in here`;
}
