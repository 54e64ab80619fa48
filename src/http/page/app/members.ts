// Who is online beside the open conversation: everyone (`who`) beside `*`, a room's members
// online (`who #room`) beside a room. The server sends 1000 names a page, in its order, with
// how many there are in all (docs/protocol.md §12): the list holds the pages asked for so
// far, up to a bound, and follows the events that change it.
import type { PresenceEvent, RelayClient, WhoReply } from "../../../client/mod.ts";
import { conversationKey } from "./conversations.ts";

/** The most pages held (1000 names each): past them the panel says how many more there are. */
export const MAX_MEMBER_PAGES = 10;
/** A change only the server can tell (someone came online: are they in the room?) is asked this much later. */
const REFRESH_DELAY_MS = 300;

/**
 * Compares names in the order of `who` pages: by lower case, then by code unit, as the
 * server sorts them (docs/protocol.md §12).
 *
 * @example
 * ["bo", "Ann", "ann"].sort(compareNames); // ["Ann", "ann", "bo"]
 */
export function compareNames(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  if (x !== y) return x < y ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A list of who is online, as held now. */
export interface MemberView {
  /** `*`, or the room, as the conversation's target. */
  target: string;
  /** The names held, in the server's order. */
  names: readonly string[];
  /** How many are online in all, as the server last said (and events since); undefined before its first page. */
  online: number | undefined;
  /** Whether the server has names after the last one held. */
  more: boolean;
  /** Whether the next page may be asked for: there is one, and fewer than the most pages are held. */
  canLoadMore: boolean;
  /** Whether a page is being asked for. */
  loading: boolean;
  /** Counts the changes, so that the panel draws only when something changed. */
  version: number;
}

interface List {
  target: string;
  room: string | undefined;
  names: string[];
  keys: Set<string>;
  online: number | undefined;
  next: string | undefined;
  pages: number;
  loading: boolean;
  version: number;
}

/**
 * The list of who is online beside the open conversation, fetched with `client()`: the
 * first page when it opens, the next on `more()`, all held pages again when the server
 * alone can say what changed; `changed` is called on every change.
 *
 * @example
 * const members = new Members(() => session.client, () => view.render());
 * members.show("#dev");
 * members.more(); // as the reader scrolls to the end
 */
export class Members {
  readonly #client: () => RelayClient | null;
  readonly #changed: () => void;
  #list: List | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Asked again once the walk in flight ends. */
  #again = false;

  constructor(client: () => RelayClient | null, changed: () => void) {
    this.#client = client;
    this.#changed = changed;
  }

  /** The list held now; null when none is shown. */
  get view(): MemberView | null {
    const list = this.#list;
    if (list === null) return null;
    const more = list.next !== undefined;
    return {
      target: list.target,
      names: list.names,
      online: list.online,
      more,
      canLoadMore: more && !list.loading && list.pages < MAX_MEMBER_PAGES,
      loading: list.loading,
      version: list.version,
    };
  }

  /**
   * Shows who is online beside `target`: everyone for `*`, the members online for a room,
   * none for anything else (null, a person). Asks the server for the first page (again).
   */
  show(target: string | null): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#again = false;
    const room = target?.startsWith("#") ? target : undefined;
    if (target !== "*" && room === undefined) {
      this.#list = null;
      return;
    }
    this.#list = {
      target: target as string,
      room,
      names: [],
      keys: new Set(),
      online: undefined,
      next: undefined,
      pages: 1,
      loading: false,
      version: 0,
    };
    this.#refresh();
  }

  /** Asks for the next page, if there is one and fewer than the most pages are held. */
  more(): void {
    const list = this.#list;
    const client = this.#client();
    if (list === null || client === null || !this.view?.canLoadMore) return;
    const after = list.next;
    list.loading = true;
    this.#touch(list);
    client
      .whoPages({ ...(list.room !== undefined && { room: list.room }), after })
      .next()
      .then(
        (page) => {
          if (this.#list !== list || page.done) return;
          list.pages++;
          for (const name of page.value.users) {
            const key = conversationKey(name);
            if (list.keys.has(key)) continue;
            list.keys.add(key);
            list.names.push(name);
          }
          list.online = page.value.online;
          list.next = page.value.next;
        },
        () => {},
      )
      .finally(() => this.#settled(list));
  }

  /** All held pages again (after a reconnect, or when only the server can say what changed). */
  refresh(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#refresh();
  }

  /** Someone came online or went offline. */
  presence(p: PresenceEvent): void {
    const list = this.#list;
    if (list === null) return;
    if (list.room === undefined) {
      // Beside `*` the list is everyone online: the event says all there is to know.
      if (p.status === "online") this.#add(list, p.name);
      else this.#remove(list, p.name, true);
      return;
    }
    // Whether they are (or were) a member online, only the server knows, unless the list
    // holds them: asked again a little later, however many events come meanwhile.
    if (p.status === "offline" && this.#remove(list, p.name, false)) return;
    if (p.status === "offline" && this.#within(list, p.name)) return;
    this.#refreshSoon();
  }

  /** Someone joined or left `room` (its target as the event names it). */
  joinedOrLeft(room: string, name: string, joined: boolean): void {
    const list = this.#list;
    if (list?.room === undefined || conversationKey(list.room) !== conversationKey(room)) return;
    if (joined) this.#add(list, name);
    else this.#remove(list, name, true);
  }

  /** Whether `name` falls among the names held: before the next page, or all are held. */
  #within(list: List, name: string): boolean {
    return (
      list.online !== undefined && (list.next === undefined || compareNames(name, list.next) <= 0)
    );
  }

  /** Someone is now online in the list: counted, and held if they fall among the names held. */
  #add(list: List, name: string): void {
    const key = conversationKey(name);
    if (list.online === undefined || list.keys.has(key)) return;
    list.online++;
    if (this.#within(list, name)) {
      const at = list.names.findIndex((n) => compareNames(name, n) < 0);
      list.names.splice(at === -1 ? list.names.length : at, 0, name);
      list.keys.add(key);
    }
    this.#touch(list);
  }

  /**
   * Someone is no longer online in the list: dropped if held, and uncounted if held or
   * `counted` (known to have been online in it). Returns whether they were held.
   */
  #remove(list: List, name: string, counted: boolean): boolean {
    const key = conversationKey(name);
    const held = list.keys.delete(key);
    if (held)
      list.names.splice(
        list.names.findIndex((n) => conversationKey(n) === key),
        1,
      );
    if ((held || counted) && list.online !== undefined) list.online = Math.max(0, list.online - 1);
    if (held || counted) this.#touch(list);
    return held;
  }

  #refreshSoon(): void {
    this.#timer ??= setTimeout(() => this.refresh(), REFRESH_DELAY_MS);
  }

  /** Walks the pages held again, from the first, and takes them all at once. */
  #refresh(): void {
    const list = this.#list;
    const client = this.#client();
    if (list === null || client === null) return;
    if (list.loading) {
      this.#again = true;
      return;
    }
    list.loading = true;
    const wanted = list.pages;
    const pages: WhoReply[] = [];
    const walk = async () => {
      for await (const page of client.whoPages(
        list.room !== undefined ? { room: list.room } : {},
      )) {
        pages.push(page);
        if (pages.length >= wanted || this.#list !== list) break;
      }
    };
    walk()
      .then(
        () => {
          if (this.#list !== list || pages.length === 0) return;
          const names = pages.flatMap((p) => p.users);
          list.names = names;
          list.keys = new Set(names.map(conversationKey));
          list.pages = pages.length;
          list.online = pages.at(-1)?.online;
          list.next = pages.at(-1)?.next;
        },
        () => {},
      )
      .finally(() => this.#settled(list));
  }

  /** A request of `list` ended: drawn, and the walk asked for meanwhile is made. */
  #settled(list: List): void {
    list.loading = false;
    this.#touch(list);
    if (this.#list === list && this.#again) {
      this.#again = false;
      this.#refresh();
    }
  }

  #touch(list: List): void {
    list.version++;
    if (this.#list === list) this.#changed();
  }
}
