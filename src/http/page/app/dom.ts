// The page's only ways to make elements: text always goes in as text (textContent), never as
// HTML, so nothing a peer sends is ever interpreted as markup.

/**
 * Makes an element with a class (or none) and, optionally, its text.
 *
 * @example
 * el("span", "from", "<b>bo</b>"); // <span class="from">&lt;b&gt;bo&lt;/b&gt;</span>
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = "",
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * The element of the page with this id; throws if the page lacks it (a bug of the page).
 *
 * @example
 * const field = byId<HTMLInputElement>("text");
 */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

/**
 * A time for people: hours and minutes today, with the date on other days.
 *
 * @example
 * clock("2026-05-06T07:08:09.000Z");
 */
export function clock(ts: string): string {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return "";
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return d.toDateString() === new Date().toDateString()
    ? time
    : `${d.toLocaleDateString()} ${time}`;
}

/**
 * The day a timestamp falls on, for the separators of a timeline ("Today", or the date).
 *
 * @example
 * dayOf(new Date().toISOString()); // "Today"
 */
export function dayOf(ts: string): string {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return "";
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return "Today";
  const yesterday = new Date(today.getTime() - 86_400_000);
  if (d.toDateString() === yesterday.toDateString()) return "Yesterday";
  return d.toLocaleDateString([], {
    weekday: "long",
    year: "numeric",
    month: "long",
    day: "numeric",
  });
}
