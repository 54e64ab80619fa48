// Desktop notifications for private messages while the tab is hidden: off by default, turned
// on with a toggle, and the browser's permission is asked for only then.
import type { ChatMessage } from "../../../client/mod.ts";

/** What the notifier tells the page. */
export interface NotifierEvents {
  /** The toggle changed (kept with the page's state). */
  changed(on: boolean): void;
  /** A notification was clicked: open this conversation. */
  open(target: string): void;
  /** Something to tell the reader (e.g. that the browser blocks notifications). */
  say(text: string): void;
}

/** The longest text shown in a notification. */
const MAX_BODY = 200;

/**
 * Shows a desktop notification for each private message that arrives while the page is
 * hidden, when the reader turned them on with `toggle`. The text goes in as text: a
 * notification never renders markup.
 *
 * @example
 * const notifier = new Notifier(byId("notify"), { changed: save, open: select, say: note });
 * notifier.privateMessage(message, "bo");
 */
export class Notifier {
  readonly #toggle: HTMLInputElement;
  readonly #events: NotifierEvents;

  constructor(toggle: HTMLInputElement, events: NotifierEvents) {
    this.#toggle = toggle;
    this.#events = events;
    toggle.addEventListener("change", () => void this.#changed());
  }

  /** Whether notifications are on. */
  get on(): boolean {
    return this.#toggle.checked && supported() && Notification.permission === "granted";
  }

  /** Sets the toggle as kept (without asking anything). */
  restore(on: boolean): void {
    this.#toggle.checked = on && supported() && Notification.permission === "granted";
  }

  /** Notifies of a private message from `target`, if they are on and the page is hidden. */
  privateMessage(m: ChatMessage, target: string): void {
    if (!this.on || document.visibilityState !== "hidden") return;
    const body = m.text.length > MAX_BODY ? `${m.text.slice(0, MAX_BODY)}…` : m.text;
    const notification = new Notification(m.from, { body, tag: `relay:${target}` });
    notification.addEventListener("click", () => {
      window.focus();
      this.#events.open(target);
      notification.close();
    });
  }

  async #changed(): Promise<void> {
    if (!this.#toggle.checked) return this.#events.changed(false);
    let permission = Notification.permission;
    if (permission === "default") permission = await Notification.requestPermission();
    if (permission !== "granted") {
      this.#toggle.checked = false;
      this.#events.say(
        "Notifications are blocked for this page: allow them in the browser's site settings.",
      );
    }
    this.#events.changed(this.#toggle.checked);
  }
}

/** Whether this browser can show desktop notifications. */
export function notificationsSupported(): boolean {
  return supported();
}

function supported(): boolean {
  return typeof Notification === "function";
}
