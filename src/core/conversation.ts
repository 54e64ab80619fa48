/**
 * The key of a conversation's log: `*` for everyone, a room's key (`#general`), or, for a
 * private conversation, `@` and the two users' name keys in order, joined by `|` (a
 * character no name holds), so that both users read the same log.
 *
 * @example
 * privateConversation("bob", "alice"); // "@alice|bob"
 */
export function privateConversation(a: string, b: string): string {
  return a < b ? `@${a}|${b}` : `@${b}|${a}`;
}

/** The conversation of everyone online (`*`). */
export const EVERYONE = "*";
