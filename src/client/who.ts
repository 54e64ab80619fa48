import type { CommandOf, WhoReply } from "./types.ts";

/** Which list of who is online to walk, and from where (docs/protocol.md §12). */
export interface WhoOptions {
  /** A room: its members online (default: everyone online). */
  room?: string;
  /** Start after this name, as a page's `next` gives it (default: from the first name). */
  after?: string;
}

/** Sends one `who` command and resolves with its reply (as `client.request` does). */
export type WhoRequest = (command: CommandOf<"who">) => Promise<WhoReply>;

/**
 * The pages of who is online (or of a room's members online), in name order as the server
 * sorts them (at most 1000 names a page, each with `online`, how many in all), asking for
 * the next with `after` set to the page's `next` until a page has none. Stopping the loop
 * early sends nothing more.
 *
 * @example
 * for await (const page of whoPages(request, { room: "#dev" })) {
 *   console.log(`${page.users.length} of ${page.online}`);
 * }
 */
export async function* whoPages(
  request: WhoRequest,
  options: WhoOptions = {},
): AsyncGenerator<WhoReply, void, undefined> {
  let after = options.after;
  for (;;) {
    const page = await request({
      type: "who",
      ...(options.room !== undefined && { room: options.room }),
      ...(after !== undefined && { after }),
    });
    yield page;
    // A `next` that moves nothing on (an empty page, or the same name again) would ask
    // for the same page forever.
    if (page.next === undefined || page.users.length === 0 || page.next === after) return;
    after = page.next;
  }
}

/**
 * The names of who is online (or of a room's members online), one page at a time (see
 * {@link whoPages}).
 *
 * @example
 * for await (const name of whoNames(request)) if (name.startsWith("bot")) console.log(name);
 */
export async function* whoNames(
  request: WhoRequest,
  options: WhoOptions = {},
): AsyncGenerator<string, void, undefined> {
  for await (const page of whoPages(request, options)) yield* page.users;
}
