// Who is online, as the page knows it: the people of the welcome and of presence events
// (for the sidebar and the everyone view), how many there are, and who is online in the
// open room.
import type { PresenceEvent, Welcome } from "../../../client/mod.ts";
import { conversationKey } from "./conversations.ts";

/**
 * The page's view of who is online: names by key, the count the server gave (kept up to
 * date with presence events), and the members online of the open room.
 *
 * @example
 * const online = new Online();
 * online.welcome(welcome);
 * online.presence({ type: "presence", name: "bo", status: "online" });
 * online.has("bo"); // true
 */
export class Online {
  /** Who is online, by key: the welcome's users, the user, and presence events since. */
  readonly people = new Map<string, string>();
  /** How many are online, the user included. */
  count = 0;
  /** Who is online in the open room (by key), as `who` and events tell. */
  members: { room: string; names: Map<string, string> } | null = null;

  /** Starts again from a welcome: its users and count, and the user. */
  welcome(welcome: Welcome): void {
    this.people.clear();
    for (const name of welcome.users) this.people.set(conversationKey(name), name);
    this.people.set(conversationKey(welcome.name), welcome.name);
    this.count = welcome.online;
  }

  /** Whether the person with this key is online, as far as the page knows. */
  has(key: string): boolean {
    return this.people.has(key);
  }

  /** Someone came online or went offline. */
  presence(p: PresenceEvent): void {
    const key = conversationKey(p.name);
    if (p.status === "online") {
      if (!this.people.has(key)) this.count++;
      this.people.set(key, p.name);
    } else {
      if (this.people.delete(key)) this.count = Math.max(1, this.count - 1);
      this.members?.names.delete(key);
    }
  }

  /** The members online of the room with key `room`, as a `who #room` reply lists them. */
  roomMembers(room: string, users: readonly string[]): void {
    this.members = { room, names: new Map(users.map((n) => [conversationKey(n), n])) };
  }

  /** Someone joined (or left) the room with key `room`; counts only for the open room's list. */
  joinedOrLeft(room: string, name: string, joined: boolean): void {
    if (this.members?.room !== room) return;
    if (joined) this.members.names.set(conversationKey(name), name);
    else this.members.names.delete(conversationKey(name));
  }

  /** Forgets everything (logged out). */
  clear(): void {
    this.people.clear();
    this.members = null;
  }
}
