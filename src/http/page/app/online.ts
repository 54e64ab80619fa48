// Who is online, as the page knows it from the welcome and presence events: the people
// the sidebar lists and marks online, and how many are online in all. The full list, page
// by page, is members.ts's.
import type { PresenceEvent, Welcome } from "../../../client/mod.ts";
import { conversationKey } from "./conversations.ts";

/**
 * The page's view of who is online: names by key (the welcome's at most 100, then those
 * presence events tell of) and the count the server gave, kept up to date with them.
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
    }
  }

  /** Forgets everyone (logged out). */
  clear(): void {
    this.people.clear();
  }
}
