import type { ChatMessage } from "../../core/mod.ts";

/**
 * Orders messages by id, in code-unit order: the order the relay accepted them.
 *
 * @example
 * [message("b"), message("a")].sort(byId); // a, b
 */
export function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The newest `max` messages of several conversations' tails, oldest first; `gap` when there
 * were more than `max`, or when `trimmed`: some were trimmed away. Each tail holds the newest
 * `max + 1` (or fewer) of its conversation, in any order: enough to tell both.
 *
 * @example
 * newestOf([[m("a"), m("c")], [m("b")]], 2); // { messages: [b, c], gap: true }
 */
export function newestOf(
  tails: ChatMessage[][],
  max: number,
  trimmed = false,
): { messages: ChatMessage[]; gap: boolean } {
  const all = tails.flat().sort(byId);
  return { messages: all.slice(Math.max(0, all.length - max)), gap: all.length > max || trimmed };
}

/**
 * Whether messages after `since` were trimmed away from any of these conversations, by
 * their "trimmed up to" markers: the newest id each had trimmed away (null when none).
 *
 * @example
 * trimmedAfter(["k5", null], "k3"); // true: k4 or k5 was trimmed away
 */
export function trimmedAfter(markers: (string | null | undefined)[], since: string): boolean {
  return markers.some((marker) => typeof marker === "string" && marker > since);
}

/** The later of two ids (code-unit order); `b` when `a` is null or undefined. */
export function laterId(a: string | null | undefined, b: string): string {
  return typeof a === "string" && a > b ? a : b;
}
