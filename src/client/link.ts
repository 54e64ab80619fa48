import { RelayError } from "./errors.ts";
import type { Connection, Transport } from "./transport.ts";

/** One connection of the client, from `open` until it ends. */
export interface Link {
  conn: Connection | null;
  ended: boolean;
  loggedIn: boolean;
}

/** What a link tells the client, naming itself: a client keeps only its current one. */
export interface LinkEvents {
  frame(link: Link, text: string): void;
  closed(link: Link): void;
}

/**
 * Opens a connection with `transport`; its frames and its end go to `events`. Rejects
 * with a `connect_failed` {@link RelayError} when no connection could be made.
 *
 * @example
 * const link = await openLink(transport, {
 *   frame: (link, text) => console.log(text),
 *   closed: (link) => console.log("ended"),
 * });
 */
export async function openLink(transport: Transport, events: LinkEvents): Promise<Link> {
  const link: Link = { conn: null, ended: false, loggedIn: false };
  try {
    link.conn = await transport.open({
      frame: (text) => events.frame(link, text),
      closed: () => {
        link.ended = true;
        events.closed(link);
      },
    });
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new RelayError("connect_failed", `cannot connect: ${why}`, { cause });
  }
  return link;
}
