import { type ChatMessage, nameKey } from "../core/mod.ts";

/** One channel (relay room) an IRC connection is in. */
interface Channel {
  /** The room's name as the relay shows it. */
  name: string;
  /** Every member, online or not, by name key. */
  members: Map<string, string>;
  /** The members the client was shown as present (online), by name key. */
  present: Set<string>;
}

/**
 * The channels one IRC connection is in, and who of each room's members its client was
 * shown as present, so that presence becomes `JOIN` and `QUIT` only where it shares a room
 * (docs/irc.md). Names and rooms compare by their relay key (`nameKey`, docs/protocol.md §3).
 *
 * @example
 * const channels = new IrcChannels();
 * channels.enter("#dev", ["alice", "bob"], "alice");
 * channels.cameOnline("bob"); // ["#dev"]
 * channels.wentOffline("bob"); // true
 */
export class IrcChannels {
  readonly #channels = new Map<string, Channel>();
  readonly #joining = new Set<string>();
  /**
   * By room key, the channels whose playback is on its way, with the ids of the messages
   * shown live meanwhile (which the playback leaves out); nothing once it came.
   */
  readonly #awaiting = new Map<string, Set<string>>();

  /** Whether the connection is in the channel, or on its way in. */
  has(name: string): boolean {
    return this.#channels.has(nameKey(name)) || this.#joining.has(nameKey(name));
  }

  /** The names of the channels the connection is in. */
  names(): string[] {
    return [...this.#channels.values()].map((c) => c.name);
  }

  /** The connection asked to join the channel. */
  joining(name: string): void {
    this.#joining.add(nameKey(name));
  }

  /** Joining the channel failed. */
  failed(name: string): void {
    this.#joining.delete(nameKey(name));
  }

  /** The connection is in `room`, with these members; true when it was not before. */
  enter(room: string, members: string[], me: string): boolean {
    const key = nameKey(room);
    this.#joining.delete(key);
    const known = this.#channels.get(key);
    const channel: Channel = known ?? {
      name: room,
      members: new Map([[nameKey(me), me]]),
      present: new Set([nameKey(me)]),
    };
    for (const name of members) channel.members.set(nameKey(name), name);
    this.#channels.set(key, channel);
    return known === undefined;
  }

  /** The connection left the room. */
  leave(room: string): void {
    this.#channels.delete(nameKey(room));
    this.#awaiting.delete(nameKey(room));
  }

  /**
   * Who is in the room now (the client is shown them), a page at a time (`first`: the first
   * page, which starts the list anew); false when the connection is not in it.
   */
  present(room: string, users: string[], first = true): boolean {
    const channel = this.#channels.get(nameKey(room));
    if (!channel) return false;
    if (first) channel.present = new Set();
    for (const name of users) channel.present.add(nameKey(name));
    for (const name of users) channel.members.set(nameKey(name), name);
    return true;
  }

  /** A playback of the room was asked for: until it comes, messages shown live are noted. */
  awaitPlayback(room: string): void {
    this.#awaiting.set(nameKey(room), new Set());
  }

  /** A room message was shown live. */
  shownLive(room: string, id: string): void {
    // Every recipient of a fan-out comes here: most have no playback on its way.
    if (this.#awaiting.size === 0) return;
    this.#awaiting.get(nameKey(room))?.add(id);
  }

  /**
   * The messages of the room's playback not already shown live; null when the connection is
   * not in the room. Messages shown live are not kept after it.
   */
  playback(room: string, messages: ChatMessage[]): ChatMessage[] | null {
    const key = nameKey(room);
    const shown = this.#awaiting.get(key);
    this.#awaiting.delete(key);
    if (!this.#channels.has(key)) return null;
    return shown ? messages.filter((m) => !shown.has(m.id)) : messages;
  }

  /** The room's playback will not come. */
  noPlayback(room: string): void {
    this.#awaiting.delete(nameKey(room));
  }

  /** How many ids of messages shown live are kept (only while a playback is on its way). */
  get remembered(): number {
    let ids = 0;
    for (const shown of this.#awaiting.values()) ids += shown.size;
    return ids;
  }

  /** A user came online: the rooms they are a member of, where they were not shown yet. */
  cameOnline(name: string): string[] {
    const key = nameKey(name);
    const rooms: string[] = [];
    for (const channel of this.#channels.values()) {
      if (!channel.members.has(key) || channel.present.has(key)) continue;
      channel.present.add(key);
      rooms.push(channel.name);
    }
    return rooms;
  }

  /** A user went offline: whether they were shown in any room. */
  wentOffline(name: string): boolean {
    const key = nameKey(name);
    let shown = false;
    for (const channel of this.#channels.values()) if (channel.present.delete(key)) shown = true;
    return shown;
  }

  /** A user joined a room the connection is in: its name, or null. */
  joined(room: string, name: string): string | null {
    const channel = this.#channels.get(nameKey(room));
    if (!channel) return null;
    channel.members.set(nameKey(name), name);
    channel.present.add(nameKey(name));
    return channel.name;
  }

  /** A user left a room the connection is in: its name, or null. */
  left(room: string, name: string): string | null {
    const channel = this.#channels.get(nameKey(room));
    if (!channel) return null;
    channel.members.delete(nameKey(name));
    channel.present.delete(nameKey(name));
    return channel.name;
  }
}
