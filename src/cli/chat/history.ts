/** A `history` command (docs/protocol.md §4, §11). */
export interface HistoryCommand {
  type: "history";
  with: string;
  limit?: number;
}

/** The most messages one `history` command may ask for. */
export const MAX_HISTORY = 200;

const HISTORY_LINE = /^\/history(?:\s+(\S+))?(?:\s+(\S+))?\s*$/i;

/**
 * Reads `/history <with> [n]` as typed in the terminal client: `with` is a name, a room or
 * `*` (without it, the current partner), `n` how many of the newest messages (1 to 200).
 * Returns null when the line is not a `/history` line, an error sentence when it is one
 * that cannot be sent.
 *
 * @example
 * parseHistory("/history bo 20", null); // { type: "history", with: "bo", limit: 20 }
 * parseHistory("/history", "#dev"); // { type: "history", with: "#dev" }
 */
export function parseHistory(
  line: string,
  partner: string | null,
): HistoryCommand | { error: string } | null {
  if (!/^\/history(\s|$)/i.test(line)) return null;
  const match = HISTORY_LINE.exec(line.trim());
  const usage = { error: "usage: /history <name, #room or *> [n]" };
  if (!match) return usage;
  const target = match[1] ?? partner;
  if (!target) return usage;
  if (match[2] === undefined) return { type: "history", with: target };
  const limit = Number(match[2]);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY) {
    return { error: `the number of messages is 1 to ${MAX_HISTORY}` };
  }
  return { type: "history", with: target, limit };
}
