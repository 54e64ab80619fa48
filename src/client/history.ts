import { RelayError } from "./errors.ts";
import type { ChatMessage, CommandOf, HistoryReply } from "./types.ts";

/** How to walk back through a conversation. */
export interface HistoryOptions {
  /** Messages asked for per request, 1 to 200 (default 50). */
  pageSize?: number;
  /** Start below this message id (default: from the newest message). */
  before?: string;
}

/** Sends one `history` command and resolves with its reply (as `client.request` does). */
export type HistoryRequest = (command: CommandOf<"history">) => Promise<HistoryReply>;

/**
 * The pages of a conversation, newest page first (each page oldest first, as the server
 * sends it), asking for the next with `before` set to the oldest id seen until the server
 * says there is no `more`. Stopping the loop early sends nothing more.
 *
 * @example
 * for await (const page of historyPages(request, "#dev", { pageSize: 100 })) {
 *   console.log(page.messages.length, page.more);
 * }
 */
export async function* historyPages(
  request: HistoryRequest,
  conversation: string,
  options: HistoryOptions = {},
): AsyncGenerator<HistoryReply, void, undefined> {
  let before = options.before;
  for (;;) {
    const page = await request({
      type: "history",
      with: conversation,
      ...(options.pageSize !== undefined && { limit: options.pageSize }),
      ...(before !== undefined && { before }),
    });
    yield page;
    if (!page.more) return;
    const oldest = page.messages[0];
    // `more` with nothing in the page: the server could not read its store (§11.3).
    if (oldest === undefined) {
      throw new RelayError(
        "unavailable",
        `the server could not read the history with ${conversation}`,
      );
    }
    before = oldest.id;
  }
}

/**
 * The messages of a conversation from the newest back to the oldest, one page at a time
 * (see {@link historyPages}).
 *
 * @example
 * for await (const m of historyMessages(request, "bob", { pageSize: 50 })) {
 *   if (m.text.includes("invoice")) break;
 * }
 */
export async function* historyMessages(
  request: HistoryRequest,
  conversation: string,
  options: HistoryOptions = {},
): AsyncGenerator<ChatMessage, void, undefined> {
  for await (const page of historyPages(request, conversation, options)) {
    for (let i = page.messages.length - 1; i >= 0; i--) yield page.messages[i] as ChatMessage;
  }
}
